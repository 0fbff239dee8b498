// TLS helpers: client and server options, certificate wrappers, self-signed certificates.

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import type { ServerTLSOptions, TLSContextOptions } from "./interfaces.js";

export {
  makeSelfSignedCertificate,
  type PEMKeyPair,
  type SelfSignedCertificateOptions,
} from "./_x509.js";

/** PEM text, as a string or the bytes of a file. */
export type PEMSource = string | Buffer;

/** A TLS protocol version, as `node:tls` names it. */
export type TLSVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/**
 * What a peer's certificate is checked against: `"platform"` (the roots Node trusts by default,
 * see `platformTrust()`), or PEM certificates / `Certificate`s (which then replace the default
 * roots).
 */
export type TrustRoot = "platform" | PEMSource | Certificate | readonly (PEMSource | Certificate)[];

/** One `-----BEGIN …-----` block of a PEM text. */
export interface PEMBlock {
  /** The label, e.g. `"CERTIFICATE"` or `"PRIVATE KEY"`. */
  label: string;
  /** The whole block, armour included, ending with a newline. */
  pem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Splits a PEM text into its blocks, in order (text between blocks is ignored).
 *
 * @example
 * ```ts
 * const certs = pemBlocks(readFileSync("chain.pem")).filter((b) => b.label === "CERTIFICATE");
 * ```
 */
export function pemBlocks(text: PEMSource): PEMBlock[] {
  const s = typeof text === "string" ? text : text.toString("latin1");
  return [...s.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1] ?? "", pem: `${m[0]}\n` }));
}

/** True for the labels of private key blocks (PKCS#8, PKCS#1, SEC1). */
export function isPrivateKeyLabel(label: string): boolean {
  return label.endsWith("PRIVATE KEY");
}

/**
 * An X.509 certificate: a light wrapper of `crypto.X509Certificate` with Twisted's names.
 *
 * @example
 * ```ts
 * const cert = Certificate.loadPEM(readFileSync("ca.pem"));
 * console.log(cert.getSubject(), cert.digest());
 * ```
 */
export class Certificate {
  constructor(
    /** The parsed certificate. */
    readonly x509: X509Certificate,
  ) {}

  /** Parses the first certificate of a PEM text; raises if there is none. */
  static loadPEM(pem: PEMSource): Certificate {
    const block = pemBlocks(pem).find((b) => b.label === "CERTIFICATE");
    if (block === undefined)
      throw new TypeError("Cannot load certificate: no CERTIFICATE block in PEM");
    return new Certificate(new X509Certificate(block.pem));
  }

  /** Parses every certificate of a PEM text (a chain or a bundle). */
  static loadAllPEM(pem: PEMSource): Certificate[] {
    return pemBlocks(pem)
      .filter((b) => b.label === "CERTIFICATE")
      .map((b) => new Certificate(new X509Certificate(b.pem)));
  }

  /** The certificate as PEM. */
  dumpPEM(): string {
    return this.x509.toString();
  }

  /** The subject, as OpenSSL prints it (`CN=localhost`). */
  getSubject(): string {
    return this.x509.subject;
  }

  /** The issuer, as OpenSSL prints it. */
  getIssuer(): string {
    return this.x509.issuer;
  }

  /** The SHA-256 fingerprint, as colon-separated hex. */
  digest(): string {
    return this.x509.fingerprint256;
  }

  toString(): string {
    return `<Certificate subject=${this.getSubject()} issuer=${this.getIssuer()}>`;
  }
}

/**
 * A certificate with its private key: what a server (or a client authenticating itself)
 * presents.
 *
 * @example
 * ```ts
 * const server = PrivateCertificate.loadPEM(readFileSync("server.pem")); // key + certificate
 * reactor.listenSSL(8443, factory, server.options().getContextOptions());
 * ```
 */
export class PrivateCertificate extends Certificate {
  constructor(
    x509: X509Certificate,
    /** The private key matching the certificate. */
    readonly privateKey: KeyObject,
  ) {
    super(x509);
    if (!x509.checkPrivateKey(privateKey)) {
      throw new TypeError(`Certificate ${x509.subject} does not match its private key`);
    }
  }

  /** Parses a PEM text holding both a private key and a certificate (in any order). */
  static override loadPEM(pem: PEMSource): PrivateCertificate {
    const blocks = pemBlocks(pem);
    const key = blocks.find((b) => isPrivateKeyLabel(b.label));
    if (key === undefined)
      throw new TypeError("Cannot load private certificate: no PRIVATE KEY block in PEM");
    return new PrivateCertificate(Certificate.loadPEM(pem).x509, createPrivateKey(key.pem));
  }

  /** Pairs a certificate with its key; raises if they do not match. */
  static fromCertificateAndKey(
    certificate: PEMSource | Certificate,
    key: PEMSource | KeyObject,
  ): PrivateCertificate {
    const cert =
      certificate instanceof Certificate ? certificate : Certificate.loadPEM(certificate);
    return new PrivateCertificate(cert.x509, toKeyObject(key));
  }

  /** The private key as PEM (PKCS#8). */
  keyPEM(): string {
    return this.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  }

  /**
   * Server options presenting this certificate; with `trustRoots`, clients must present a
   * certificate issued by one of them.
   */
  options(...trustRoots: (PEMSource | Certificate)[]): CertificateOptions {
    const init: CertificateOptionsInit = { privateKey: this.privateKey, certificate: this };
    if (trustRoots.length > 0) init.trustRoot = trustRoots;
    return new CertificateOptions(init);
  }
}

/** The trust root of `platformTrust()`: the CA certificates Node trusts by default. */
export function platformTrust(): TrustRoot {
  return "platform";
}

function toKeyObject(key: PEMSource | KeyObject): KeyObject {
  return typeof key === "string" || Buffer.isBuffer(key) ? createPrivateKey(key) : key;
}

function certPEM(cert: PEMSource | Certificate): string {
  if (cert instanceof Certificate) return cert.dumpPEM();
  const s = typeof cert === "string" ? cert : cert.toString("latin1");
  if (!s.includes("-----BEGIN")) {
    const shown = s.length > 40 ? `${s.slice(0, 40)}…` : s;
    throw new TypeError(`Certificate is not PEM text (a file name? read the file first): ${shown}`);
  }
  return s;
}

/** The `ca` option for `trustRoot`, or `undefined` for the platform's roots. */
function caOption(trustRoot: TrustRoot | undefined): string[] | undefined {
  if (trustRoot === undefined || trustRoot === "platform") return undefined;
  const list = Array.isArray(trustRoot)
    ? (trustRoot as readonly (PEMSource | Certificate)[])
    : [trustRoot as PEMSource | Certificate];
  return list.map(certPEM);
}

/** A client certificate: a key and certificate in PEM, or a `PrivateCertificate`. */
export type ClientCertificate = { key: PEMSource; cert: PEMSource } | PrivateCertificate;

/** Options of `optionsForClientTLS`. */
export interface ClientTLSOptions {
  /** What the server's certificate must chain to; defaults to the platform's roots. */
  trustRoot?: TrustRoot;
  /** A certificate to authenticate this client. */
  clientCertificate?: ClientCertificate;
  /** ALPN protocols to offer, in order of preference (e.g. `["h2", "http/1.1"]`). */
  acceptableProtocols?: readonly string[];
  /** The oldest TLS version accepted. */
  minimumVersion?: TLSVersion;
}

/**
 * TLS options for a client connecting to `hostname`: the name is sent with SNI (unless it is an
 * IP address) and the server's certificate must be valid for it and chain to `trustRoot`.
 * Give the result to `wrapClientTLS`, `SSL4ClientEndpoint`, `connectSSL` or `startTLS`.
 *
 * @example
 * ```ts
 * const options = optionsForClientTLS("example.com", { acceptableProtocols: ["http/1.1"] });
 * const endpoint = wrapClientTLS(options, new HostnameEndpoint(reactor, "example.com", 443));
 * ```
 */
export function optionsForClientTLS(
  hostname: string,
  options: ClientTLSOptions = {},
): TLSContextOptions {
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`optionsForClientTLS needs a host name string, got ${String(hostname)}`);
  }
  const bare =
    hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const result: TLSContextOptions = {
    isServer: false,
    rejectUnauthorized: true,
    minVersion: options.minimumVersion ?? "TLSv1.2",
    host: bare,
  };
  // RFC 6066 forbids IP addresses in SNI; Node then checks the name against `host`.
  if (isIP(bare) === 0) result.servername = bare;
  const ca = caOption(options.trustRoot);
  if (ca !== undefined) result.ca = ca;
  const client = options.clientCertificate;
  if (client instanceof PrivateCertificate) {
    result.key = client.keyPEM();
    result.cert = client.dumpPEM();
  } else if (client !== undefined) {
    result.key = client.key;
    result.cert = client.cert;
  }
  if (options.acceptableProtocols !== undefined)
    result.ALPNProtocols = [...options.acceptableProtocols];
  return result;
}

/** Options of `CertificateOptions`. */
export interface CertificateOptionsInit {
  /** The private key (PEM or `KeyObject`). */
  privateKey: PEMSource | KeyObject;
  /** The certificate presented (PEM or `Certificate`). */
  certificate: PEMSource | Certificate;
  /** Intermediate certificates sent after `certificate`, in order. */
  extraCertChain?: PEMSource | readonly (PEMSource | Certificate)[];
  /** ALPN protocols accepted, in order of preference. */
  acceptableProtocols?: readonly string[];
  /** The oldest TLS version accepted. */
  minimumVersion?: TLSVersion;
  /**
   * Ask peers for a certificate and refuse those without a valid one. Defaults to true when
   * `trustRoot` is given, false otherwise.
   */
  requireCertificate?: boolean;
  /** What peers' certificates must chain to (client authentication). */
  trustRoot?: TrustRoot;
}

/**
 * A server's TLS configuration, checked at construction (the key must match the certificate).
 * `getContextOptions()` gives the options that `listenSSL`/`SSL4ServerEndpoint` take.
 *
 * @example
 * ```ts
 * const { key, cert } = makeSelfSignedCertificate({ commonName: "localhost" });
 * const options = new CertificateOptions({ privateKey: key, certificate: cert });
 * reactor.listenSSL(8443, factory, options.getContextOptions());
 * ```
 */
export class CertificateOptions {
  /** The certificate presented. */
  readonly certificate: PrivateCertificate;
  /** The intermediate certificates sent after it. */
  readonly extraCertChain: readonly Certificate[];
  private readonly init: CertificateOptionsInit;

  constructor(init: CertificateOptionsInit) {
    this.init = init;
    this.certificate = PrivateCertificate.fromCertificateAndKey(init.certificate, init.privateKey);
    const chain = init.extraCertChain;
    if (chain === undefined) this.extraCertChain = [];
    else if (typeof chain === "string" || Buffer.isBuffer(chain))
      this.extraCertChain = Certificate.loadAllPEM(chain);
    else
      this.extraCertChain = chain.map((c) =>
        c instanceof Certificate ? c : Certificate.loadPEM(c),
      );
  }

  /** The options for `listenSSL` (and for `startTLS` on the server side). */
  getContextOptions(): ServerTLSOptions {
    const init = this.init;
    const result: ServerTLSOptions = {
      key: this.certificate.keyPEM(),
      cert: [this.certificate, ...this.extraCertChain].map((c) => c.dumpPEM()).join(""),
      minVersion: init.minimumVersion ?? "TLSv1.2",
    };
    const ca = caOption(init.trustRoot);
    if (ca !== undefined) result.ca = ca;
    const require = init.requireCertificate ?? init.trustRoot !== undefined;
    if (require) {
      result.requestCert = true;
      result.rejectUnauthorized = true;
    }
    if (init.acceptableProtocols !== undefined)
      result.ALPNProtocols = [...init.acceptableProtocols];
    return result;
  }
}
