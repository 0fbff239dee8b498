// Tests of the TLS helpers: self-signed certificates, client and server options, certificate wrappers.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createServer as createTLSServer, type TLSSocket, connect as tlsConnect } from "node:tls";
import {
  Certificate,
  CertificateOptions,
  makeSelfSignedCertificate,
  optionsForClientTLS,
  PrivateCertificate,
  pemBlocks,
  platformTrust,
} from "../../src/internet/ssl.js";

const ec = makeSelfSignedCertificate({ commonName: "localhost" });
const rsa = makeSelfSignedCertificate({
  commonName: "rsa.test",
  altNames: ["rsa.test"],
  keyType: "rsa",
});

/** Runs `openssl x509 -noout -text` on a PEM certificate. */
function opensslText(cert: string): string {
  const dir = mkdtempSync(join(tmpdir(), "twisted-ssl-"));
  try {
    const path = join(dir, "cert.pem");
    writeFileSync(path, cert);
    return execFileSync("openssl", ["x509", "-noout", "-text", "-in", path], { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Connects to a TLS server that uses `pair`, with `options`; resolves with the outcome. */
async function handshake(
  pair: { key: string; cert: string },
  options: { servername?: string; ca?: string; host?: string },
): Promise<{ ok: true; data: string } | { ok: false; code: string }> {
  const server = createTLSServer({ key: pair.key, cert: pair.cert }, (socket) =>
    socket.end("hello"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket: TLSSocket = tlsConnect({ port, host: "127.0.0.1", ...options });
      let data = "";
      socket.on("data", (chunk: Buffer) => {
        data += chunk.toString();
      });
      socket.on("end", () => resolve({ ok: true, data }));
      socket.on("error", (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, code: String(e.code) }),
      );
    });
  } finally {
    server.close();
  }
}

describe("makeSelfSignedCertificate", () => {
  test("makes an ECDSA P-256 certificate that node:crypto parses, self-issued and self-verified", () => {
    const x509 = new X509Certificate(ec.cert);
    assert.equal(x509.subject, "CN=localhost");
    assert.equal(x509.issuer, "CN=localhost");
    assert.equal(x509.checkIssued(x509), true);
    assert.equal(x509.verify(x509.publicKey), true);
    assert.equal(x509.publicKey.asymmetricKeyType, "ec");
    assert.equal(x509.checkPrivateKey(createPrivateKey(ec.key)), true);
    assert.equal(x509.ca, false);
  });

  test("lists the default alt names: localhost, 127.0.0.1 and ::1", () => {
    const x509 = new X509Certificate(ec.cert);
    assert.equal(x509.checkHost("localhost"), "localhost");
    assert.equal(x509.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(x509.checkIP("::1"), "::1");
    assert.equal(x509.checkHost("example.com"), undefined);
    assert.equal(x509.checkIP("127.0.0.2"), undefined);
  });

  test("encodes IPv6 alt names with :: and an IPv4 tail", () => {
    const { cert } = makeSelfSignedCertificate({
      altNames: ["2001:db8::7", "::ffff:10.0.0.1", "fe80::1:2"],
    });
    const x509 = new X509Certificate(cert);
    assert.equal(x509.checkIP("2001:db8:0:0:0:0:0:7"), "2001:db8:0:0:0:0:0:7");
    assert.equal(x509.checkIP("fe80::1:2"), "fe80::1:2");
    assert.match(String(x509.subjectAltName), /IP Address:0:0:0:0:0:FFFF:A00:1/);
    assert.equal(x509.subject, "CN=2001:db8::7");
  });

  test("makes an RSA 2048 certificate signed with sha256WithRSAEncryption", () => {
    const x509 = new X509Certificate(rsa.cert);
    assert.equal(x509.publicKey.asymmetricKeyType, "rsa");
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(x509.verify(x509.publicKey), true);
    assert.equal(x509.checkHost("rsa.test"), "rsa.test");
    assert.match(opensslText(rsa.cert), /Signature Algorithm: sha256WithRSAEncryption/);
  });

  test("is valid from about now for the given number of days", () => {
    const { cert } = makeSelfSignedCertificate({ days: 10 });
    const x509 = new X509Certificate(cert);
    const from = Date.parse(x509.validFrom);
    const to = Date.parse(x509.validTo);
    assert.ok(from <= Date.now() && from > Date.now() - 2 * 3600_000);
    assert.ok(Math.abs(to - Date.now() - 10 * 86_400_000) < 3600_000);
  });

  test("reads as a v3 certificate with the expected extensions in openssl x509 -text", () => {
    const text = opensslText(ec.cert);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature/);
    assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication/);
    assert.match(text, /DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1/);
  });

  test("serves a TLS handshake that verifies with the certificate as trust root", async () => {
    const result = await handshake(ec, { ca: ec.cert, servername: "localhost" });
    assert.deepEqual(result, { ok: true, data: "hello" });
    const byIP = await handshake(rsa, { ca: rsa.cert, servername: "rsa.test" });
    assert.deepEqual(byIP, { ok: true, data: "hello" });
  });

  test("fails the handshake for a name that is not in the certificate", async () => {
    const result = await handshake(ec, { ca: ec.cert, servername: "wrong.example" });
    assert.deepEqual(result, { ok: false, code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  test("certifies a given key instead of making one", () => {
    const { key, cert } = makeSelfSignedCertificate({ key: ec.key });
    assert.equal(new X509Certificate(cert).checkPrivateKey(createPrivateKey(ec.key)), true);
    assert.equal(
      createPrivateKey(key).export({ format: "jwk" }).d,
      createPrivateKey(ec.key).export({ format: "jwk" }).d,
    );
  });

  test("rejects a lifetime that is not positive", () => {
    assert.throws(
      () => makeSelfSignedCertificate({ days: 0 }),
      /Invalid certificate lifetime: 0 days/,
    );
  });
});

describe("Certificate and PrivateCertificate", () => {
  test("Certificate.loadPEM reads the subject, issuer and a SHA-256 digest", () => {
    const cert = Certificate.loadPEM(ec.cert);
    assert.equal(cert.getSubject(), "CN=localhost");
    assert.equal(cert.getIssuer(), "CN=localhost");
    assert.match(cert.digest(), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(cert.dumpPEM().trim(), ec.cert.trim());
  });

  test("Certificate.loadPEM raises without a certificate block", () => {
    assert.throws(() => Certificate.loadPEM(ec.key), /no CERTIFICATE block/);
  });

  test("PrivateCertificate.loadPEM reads a key and a certificate from one text", () => {
    const both = PrivateCertificate.loadPEM(`${ec.key}${ec.cert}`);
    assert.equal(both.getSubject(), "CN=localhost");
    assert.match(both.keyPEM(), /BEGIN PRIVATE KEY/);
  });

  test("PrivateCertificate refuses a key that does not match the certificate", () => {
    assert.throws(
      () => PrivateCertificate.fromCertificateAndKey(ec.cert, rsa.key),
      /does not match its private key/,
    );
  });

  test("pemBlocks splits a PEM text into labelled blocks", () => {
    const blocks = pemBlocks(`junk\n${ec.key}between\n${ec.cert}`);
    assert.deepEqual(
      blocks.map((b) => b.label),
      ["PRIVATE KEY", "CERTIFICATE"],
    );
  });
});

describe("optionsForClientTLS", () => {
  test("sends the name with SNI and verifies the peer against the platform roots by default", () => {
    const options = optionsForClientTLS("example.com");
    assert.equal(options.servername, "example.com");
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.isServer, false);
    assert.equal(options.minVersion, "TLSv1.2");
    assert.equal(options.ca, undefined);
    assert.equal(optionsForClientTLS("example.com", { trustRoot: platformTrust() }).ca, undefined);
  });

  test("sends no SNI for an IP address but still checks it", () => {
    const options = optionsForClientTLS("127.0.0.1");
    assert.equal(options.servername, undefined);
    assert.equal(options.host, "127.0.0.1");
    assert.equal(optionsForClientTLS("[::1]").host, "::1");
  });

  test("takes trust roots, a client certificate and ALPN protocols", () => {
    const options = optionsForClientTLS("localhost", {
      trustRoot: [ec.cert, Certificate.loadPEM(rsa.cert)],
      clientCertificate: PrivateCertificate.loadPEM(rsa.key + rsa.cert),
      acceptableProtocols: ["h2", "http/1.1"],
    });
    assert.equal((options.ca as string[]).length, 2);
    assert.match(String(options.key), /BEGIN PRIVATE KEY/);
    assert.match(String(options.cert), /BEGIN CERTIFICATE/);
    assert.deepEqual(options.ALPNProtocols, ["h2", "http/1.1"]);
  });

  test("refuses a trust root that is not PEM text (a file name, say)", () => {
    assert.throws(
      () => optionsForClientTLS("localhost", { trustRoot: "ca.pem" }),
      /not PEM text.*ca\.pem/,
    );
  });

  test("refuses an empty host name", () => {
    assert.throws(() => optionsForClientTLS(""), TypeError);
  });
});

describe("CertificateOptions", () => {
  test("gives listenSSL options with the key, the certificate chain and TLS 1.2 at least", () => {
    const options = new CertificateOptions({
      privateKey: ec.key,
      certificate: ec.cert,
      extraCertChain: rsa.cert,
      acceptableProtocols: ["http/1.1"],
    }).getContextOptions();
    assert.match(String(options.key), /BEGIN PRIVATE KEY/);
    assert.equal(pemBlocks(String(options.cert)).length, 2);
    assert.equal(options.minVersion, "TLSv1.2");
    assert.deepEqual(options.ALPNProtocols, ["http/1.1"]);
    assert.equal(options.requestCert, undefined);
  });

  test("requires client certificates when given a trust root", () => {
    const options = new CertificateOptions({
      privateKey: ec.key,
      certificate: ec.cert,
      trustRoot: rsa.cert,
    });
    const context = options.getContextOptions();
    assert.equal(context.requestCert, true);
    assert.equal(context.rejectUnauthorized, true);
    assert.deepEqual(context.ca, [rsa.cert]);
  });

  test("refuses a key that does not match the certificate", () => {
    assert.throws(
      () => new CertificateOptions({ privateKey: rsa.key, certificate: ec.cert }),
      /does not match its private key/,
    );
  });

  test("PrivateCertificate.options() presents the certificate", () => {
    const options = PrivateCertificate.loadPEM(ec.key + ec.cert)
      .options()
      .getContextOptions();
    assert.equal(Certificate.loadPEM(options.cert).digest(), Certificate.loadPEM(ec.cert).digest());
  });
});
