// Self-signed X.509 v3 certificates from node:crypto keys, with a minimal DER encoder.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

// DER -------------------------------------------------------------------------------------------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octetString = (content: Buffer): Buffer => tlv(0x04, content);
const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, "utf8"));
const derNull = Buffer.from([0x05, 0x00]);
/** `[n] EXPLICIT` wrapping of a constructed value. */
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 | n, content);

function derBoolean(value: boolean): Buffer {
  return Buffer.from([0x01, 0x01, value ? 0xff : 0x00]);
}

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0 byte when the top bit is set). */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  const needsPad = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return tlv(0x02, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out = [40 * a + b];
  for (const part of rest) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) {
      chunk.unshift(0x80 | (v & 0x7f));
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). */
function derTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2024-01-02T03:04:05.678Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2), "ascii"));
  return tlv(0x18, Buffer.from(digits, "ascii"));
}

// Names and extensions --------------------------------------------------------------------------

const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), derBoolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** The 16 bytes of an IPv6 address (with `::` and an embedded IPv4 tail allowed). */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, lastColon + 1); // "::ffff:" or "1:2:3:4:5:6:"
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const [head = "", rest] = text.split("::");
  const parse = (s: string): number[] => (s === "" ? [] : s.split(":").map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - tail.length - left.length - right.length;
  const groups = [
    ...left,
    ...new Array<number>(rest === undefined ? 0 : fill).fill(0),
    ...right,
    ...tail,
  ];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, i * 2);
  return out;
}

function generalName(altName: string): Buffer {
  if (isIPv4(altName)) return tlv(0x87, Buffer.from(altName.split(".").map(Number)));
  const bare = altName.startsWith("[") && altName.endsWith("]") ? altName.slice(1, -1) : altName;
  if (isIPv6(bare)) return tlv(0x87, ipv6Bytes(bare.split("%")[0] ?? bare));
  return tlv(0x82, Buffer.from(altName, "ascii"));
}

/** KeyUsage bits, numbered from the most significant bit of the first byte (RFC 5280 §4.2.1.3). */
function keyUsage(bits: number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> bit;
  // A named BIT STRING drops its trailing zero bits.
  let unused = 0;
  while (unused < 7 && (value & (1 << unused)) === 0) unused++;
  return bitString(Buffer.from([value]), unused);
}

const KU_DIGITAL_SIGNATURE = 0;
const KU_KEY_ENCIPHERMENT = 2;
const KU_KEY_CERT_SIGN = 5;

// The certificate maker -------------------------------------------------------------------------

/** Options of `makeSelfSignedCertificate`. */
export interface SelfSignedCertificateOptions {
  /** The subject (and issuer) common name. Defaults to the first of `altNames`. */
  commonName?: string;
  /** DNS names and IP addresses the certificate is valid for. */
  altNames?: readonly string[];
  /** How many days the certificate stays valid. */
  days?: number;
  /** The kind of key to make: ECDSA P-256 or RSA 2048. Ignored when `key` is given. */
  keyType?: "ec" | "rsa";
  /** An existing private key (PEM or `KeyObject`, EC P-256 or RSA) to certify instead. */
  key?: string | Buffer | KeyObject;
  /** Start of validity; defaults to one hour ago, for clock skew between peers. */
  notBefore?: Date;
}

/** A PEM private key (PKCS#8) and its PEM certificate. */
export interface PEMKeyPair {
  key: string;
  cert: string;
}

/**
 * Makes a self-signed X.509 v3 certificate for a server (or client): subject and issuer are
 * `CN=commonName`; it carries subjectAltName entries for `altNames` (DNS names and IP
 * addresses), basicConstraints (not a CA), keyUsage and extendedKeyUsage (serverAuth,
 * clientAuth). Such a certificate is its own trust root: give it to clients as `ca`/`trustRoot`.
 *
 * @example
 * ```ts
 * const { key, cert } = makeSelfSignedCertificate({ commonName: "localhost" });
 * reactor.listenSSL(8443, factory, { key, cert });
 * ```
 */
export function makeSelfSignedCertificate(options: SelfSignedCertificateOptions = {}): PEMKeyPair {
  const altNames = options.altNames ?? ["localhost", "127.0.0.1", "::1"];
  const commonName = options.commonName ?? altNames[0] ?? "localhost";
  const days = options.days ?? 365;
  if (!(days > 0)) throw new RangeError(`Invalid certificate lifetime: ${days} days`);
  const privateKey = privateKeyFrom(options);
  const keyType = privateKey.asymmetricKeyType;
  if (keyType !== "ec" && keyType !== "rsa") {
    throw new TypeError(`Unsupported key type for a certificate: ${String(keyType)}`);
  }
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const signatureAlgorithm =
    keyType === "ec"
      ? sequence(oid(OID.ecdsaWithSHA256))
      : sequence(oid(OID.sha256WithRSAEncryption), derNull);

  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, and 16 bytes long
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + 3600_000 + days * 86_400_000);
  const keyId = subjectKeyId(spki);
  const usage = [KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN];
  if (keyType === "rsa") usage.push(KU_KEY_ENCIPHERMENT);

  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, keyUsage(usage)),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId))),
  ];
  if (altNames.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, sequence(...altNames.map(generalName))));
  }
  const subject = name(commonName);
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    unsignedInteger(serial),
    signatureAlgorithm,
    subject,
    sequence(derTime(notBefore), derTime(notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cert: pem("CERTIFICATE", der),
  };
}

function privateKeyFrom(options: SelfSignedCertificateOptions): KeyObject {
  if (options.key !== undefined) {
    return typeof options.key === "string" || Buffer.isBuffer(options.key)
      ? createPrivateKey(options.key)
      : options.key;
  }
  if (options.keyType === "rsa") {
    return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  }
  if (options.keyType !== undefined && options.keyType !== "ec") {
    throw new TypeError(`Unsupported key type: ${String(options.keyType)}`);
  }
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
function subjectKeyId(spki: Buffer): Buffer {
  // spki = SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip to the BIT STRING's content.
  let i = 1 + lengthOfLength(spki, 1);
  const algLen = 1 + lengthOfLength(spki, i + 1) + contentLength(spki, i + 1);
  i += algLen;
  const bitsStart = i + 1 + lengthOfLength(spki, i + 1) + 1;
  return createHash("sha1").update(spki.subarray(bitsStart)).digest();
}

function lengthOfLength(der: Buffer, at: number): number {
  const first = der[at] ?? 0;
  return first < 0x80 ? 1 : 1 + (first & 0x7f);
}

function contentLength(der: Buffer, at: number): number {
  const first = der[at] ?? 0;
  if (first < 0x80) return first;
  let n = 0;
  for (let k = 1; k <= (first & 0x7f); k++) n = n * 256 + (der[at + k] ?? 0);
  return n;
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64.endsWith("\n") ? b64 : `${b64}\n`}-----END ${label}-----\n`;
}
