// Test certificates made at test time with the openssl CLI: a CA, and a server and a client
// certificate it signed (the server's for localhost, 127.0.0.1 and ::1).

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM texts and the files holding them (in a temporary directory removed at exit). */
export interface TestCertificates {
  /** The directory holding the files. */
  dir: string;
  caKey: string;
  caCert: string;
  caCertPath: string;
  /** Server key and certificate (SAN: DNS:localhost, IP:127.0.0.1, IP:::1), signed by the CA. */
  serverKey: string;
  serverCert: string;
  serverKeyPath: string;
  serverCertPath: string;
  /** Client key and certificate (CN=test client), signed by the CA. */
  clientKey: string;
  clientCert: string;
  clientKeyPath: string;
  clientCertPath: string;
}

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { cwd }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

async function issue(dir: string, name: string, subject: string, ext: string): Promise<void> {
  const key = `${name}.key`;
  await openssl(
    ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
    dir,
  );
  await openssl(["req", "-new", "-key", key, "-subj", subject, "-out", `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
}

async function make(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "twisted-ts-certs-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  await openssl(
    ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"],
    dir,
  );
  await openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-subj",
      "/CN=Twisted.ts Test CA",
      "-days",
      "2",
      "-sha256",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.crt",
    ],
    dir,
  );
  await issue(
    dir,
    "server",
    "/CN=localhost",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n",
  );
  await issue(
    dir,
    "client",
    "/CN=test client",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  const read = (f: string): string => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    caKey: read("ca.key"),
    caCert: read("ca.crt"),
    caCertPath: join(dir, "ca.crt"),
    serverKey: read("server.key"),
    serverCert: read("server.crt"),
    serverKeyPath: join(dir, "server.key"),
    serverCertPath: join(dir, "server.crt"),
    clientKey: read("client.key"),
    clientCert: read("client.crt"),
    clientKeyPath: join(dir, "client.key"),
    clientCertPath: join(dir, "client.crt"),
  };
}

let made: Promise<TestCertificates> | null = null;

/** Makes (once per process) a CA and the server and client certificates it signed. */
export function makeTestCertificates(): Promise<TestCertificates> {
  made ??= make();
  return made;
}
