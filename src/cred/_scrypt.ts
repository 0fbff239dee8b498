// Password hashes for password files: `$scrypt$N=…,r=…,p=…$<salt>$<hash>`, made and checked with scrypt.

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { InvalidPasswordHash } from "./_errors.js";

/** The scheme tag that starts every hash this module writes; a new format gets a new tag. */
export const SCRYPT_SCHEME = "scrypt";

/** Parameters of an scrypt hash. */
export interface ScryptParameters {
  /** CPU/memory cost: a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/** A parsed `$scrypt$…` entry. */
export interface ParsedPasswordHash extends ScryptParameters {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  /** CPU/memory cost, a power of two from 2 to 2^20. Default 2^15 (32 MiB with r = 8). */
  N?: number;
  /** Block size, 1 to 32. Default 8. */
  r?: number;
  /** Parallelism, 1 to 16. Default 1. */
  p?: number;
  /** Salt length in bytes, 8 to 64. Default 16. */
  saltLength?: number;
  /** Hash length in bytes, 16 to 64. Default 32. */
  keyLength?: number;
}

/** The parameters `hashPassword` uses by default. */
export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = Object.freeze({
  N: 2 ** 15,
  r: 8,
  p: 1,
});

const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function checkParameters(N: number, r: number, p: number): void {
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) {
    throw new InvalidPasswordHash(
      `Invalid scrypt N: ${N} (expected a power of two from 2 to 2^20)`,
    );
  }
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) {
    throw new InvalidPasswordHash(`Invalid scrypt r: ${r} (expected 1 to ${MAX_R})`);
  }
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) {
    throw new InvalidPasswordHash(`Invalid scrypt p: ${p} (expected 1 to ${MAX_P})`);
  }
}

function checkLength(what: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidPasswordHash(`Invalid ${what}: ${n} bytes (expected ${min} to ${max})`);
  }
}

function decodeBase64(what: string, text: string): Buffer {
  if (!BASE64.test(text)) throw new InvalidPasswordHash(`Invalid ${what}: not base64`);
  return Buffer.from(text, "base64");
}

function encodeBase64(bytes: Buffer): string {
  return bytes.toString("base64").replace(/=+$/, "");
}

/**
 * Parses a `$scrypt$N=…,r=…,p=…$<salt>$<hash>` entry (base64, padding optional). Raises
 * `InvalidPasswordHash` naming what is wrong.
 */
export function parsePasswordHash(entry: string): ParsedPasswordHash {
  const fields = entry.split("$");
  if (fields.length !== 5 || fields[0] !== "") {
    throw new InvalidPasswordHash(
      "Invalid password hash: expected $scrypt$N=<n>,r=<r>,p=<p>$<salt>$<hash>",
    );
  }
  const [, scheme, params, saltText, hashText] = fields as [string, string, string, string, string];
  if (scheme !== SCRYPT_SCHEME) {
    throw new InvalidPasswordHash(`Unknown password hash scheme: ${scheme || "(empty)"}`);
  }
  const values = new Map<string, number>();
  for (const part of params.split(",")) {
    const m = /^([Nrp])=([0-9]{1,9})$/.exec(part);
    if (m === null) throw new InvalidPasswordHash(`Invalid scrypt parameter: ${part || "(empty)"}`);
    if (values.has(m[1]!)) throw new InvalidPasswordHash(`Repeated scrypt parameter: ${m[1]}`);
    values.set(m[1]!, Number(m[2]));
  }
  for (const name of ["N", "r", "p"]) {
    if (!values.has(name)) throw new InvalidPasswordHash(`Missing scrypt parameter: ${name}`);
  }
  const N = values.get("N")!;
  const r = values.get("r")!;
  const p = values.get("p")!;
  checkParameters(N, r, p);
  const salt = decodeBase64("salt", saltText);
  const hash = decodeBase64("hash", hashText);
  checkLength("salt length", salt.length, 8, 64);
  checkLength("hash length", hash.length, 16, 64);
  return { N, r, p, salt, hash };
}

/** Runs scrypt on the thread pool (never on the event loop). */
function derive(
  password: string | Uint8Array,
  salt: Buffer,
  keyLength: number,
  { N, r, p }: ScryptParameters,
): Promise<Buffer> {
  // Node refuses when 128·N·r exceeds maxmem (default 32 MiB): allow what the parameters need.
  const maxmem = 128 * N * r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r, p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/**
 * Hashes `password` with scrypt and a random salt, giving the entry to store:
 * `$scrypt$N=32768,r=8,p=1$<salt base64>$<hash base64>`. The work runs off the event loop.
 *
 * @example
 * ```ts
 * const entry = await hashPassword("hunter2");
 * console.log(await verifyPassword("hunter2", entry)); // true
 * ```
 */
export async function hashPassword(
  password: string | Uint8Array,
  options: HashPasswordOptions = {},
): Promise<string> {
  const N = options.N ?? DEFAULT_SCRYPT_PARAMETERS.N;
  const r = options.r ?? DEFAULT_SCRYPT_PARAMETERS.r;
  const p = options.p ?? DEFAULT_SCRYPT_PARAMETERS.p;
  const saltLength = options.saltLength ?? 16;
  const keyLength = options.keyLength ?? 32;
  checkParameters(N, r, p);
  checkLength("salt length", saltLength, 8, 64);
  checkLength("hash length", keyLength, 16, 64);
  const salt = randomBytes(saltLength);
  const hash = await derive(password, salt, keyLength, { N, r, p });
  return `$${SCRYPT_SCHEME}$N=${N},r=${r},p=${p}$${encodeBase64(salt)}$${encodeBase64(hash)}`;
}

/**
 * Checks `password` against an entry made by `hashPassword`, comparing in constant time. Gives
 * `false` for a wrong password; rejects with `InvalidPasswordHash` for a malformed entry.
 */
export async function verifyPassword(
  password: string | Uint8Array,
  entry: string | ParsedPasswordHash,
): Promise<boolean> {
  const parsed = typeof entry === "string" ? parsePasswordHash(entry) : entry;
  const key = await derive(password, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(key, parsed.hash);
}

/**
 * Spends the time a real check with `params` would take, then gives `false`: used for unknown
 * users so that they cannot be told apart from known users by the time a login takes.
 * @internal
 */
export async function _verifyNobody(
  password: string | Uint8Array,
  params: ScryptParameters,
  keyLength = 32,
): Promise<false> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, keyLength, params);
  timingSafeEqual(key, randomBytes(keyLength));
  return false;
}
