// SOCKS wire formats (SOCKS4/4a, RFC 1928, RFC 1929): pure parsers of requests, builders of replies.

import { TwistedError } from "../internet/error.js";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./_haproxy_ip.js";

/** SOCKS commands (both versions). */
export const SOCKSCommand = Object.freeze({ CONNECT: 1, BIND: 2, UDP_ASSOCIATE: 3 } as const);

/** SOCKS4 reply codes. */
export const SOCKS4Reply = Object.freeze({
  GRANTED: 90,
  REJECTED: 91,
  IDENTD_UNREACHABLE: 92,
  IDENTD_MISMATCH: 93,
} as const);

/** SOCKS5 reply codes (RFC 1928 §6). */
export const SOCKS5Reply = Object.freeze({
  SUCCEEDED: 0,
  GENERAL_FAILURE: 1,
  NOT_ALLOWED: 2,
  NETWORK_UNREACHABLE: 3,
  HOST_UNREACHABLE: 4,
  CONNECTION_REFUSED: 5,
  TTL_EXPIRED: 6,
  COMMAND_NOT_SUPPORTED: 7,
  ADDRESS_TYPE_NOT_SUPPORTED: 8,
} as const);

/** SOCKS5 authentication methods (RFC 1928 §3). */
export const SOCKS5Method = Object.freeze({
  NO_AUTH: 0,
  GSSAPI: 1,
  USERNAME_PASSWORD: 2,
  NO_ACCEPTABLE: 0xff,
} as const);

/** SOCKS5 address types. */
export const SOCKS5AddressType = Object.freeze({ IPV4: 1, DOMAIN: 3, IPV6: 4 } as const);

/** The longest SOCKS4 user id or SOCKS4a host name accepted, in bytes. */
export const SOCKS4_MAX_FIELD = 255;

/**
 * The client sent something that is not valid SOCKS. `reply` is the SOCKS5 reply code to answer
 * with before closing, or `null` to close without a reply.
 */
export class SOCKSProtocolError extends TwistedError {
  override readonly code: string = "ERR_SOCKS_PROTOCOL";
  readonly reply: number | null;
  constructor(message: string, reply: number | null = null) {
    super(message);
    this.reply = reply;
  }
}

/** A parse step's outcome: not enough bytes yet, or a value and how many bytes it took. */
export type Parsed<T> = { readonly value: T; readonly consumed: number } | null;

/** A request to connect somewhere, from either version. */
export interface SOCKSRequest {
  readonly version: 4 | 5;
  readonly command: number;
  /** An IPv4/IPv6 literal, or a host name (SOCKS4a, SOCKS5 domain). */
  readonly host: string;
  readonly port: number;
  /** SOCKS4 user id (empty for SOCKS5). */
  readonly userId: string;
}

/** Host names must be printable ASCII without spaces (IDNs arrive as punycode). */
function checkHostName(bytes: Buffer, reply: number | null): string {
  if (bytes.length === 0) throw new SOCKSProtocolError("Empty host name", reply);
  for (const c of bytes) {
    if (c < 0x21 || c > 0x7e) {
      throw new SOCKSProtocolError("Invalid character in host name", reply);
    }
  }
  return bytes.toString("latin1");
}

function nulTerminated(buf: Buffer, from: number, what: string): number | null {
  const end = buf.indexOf(0, from);
  const limit = from + SOCKS4_MAX_FIELD;
  if (end < 0 || end > limit) {
    if (buf.length > limit) {
      throw new SOCKSProtocolError(`SOCKS4 ${what} longer than ${SOCKS4_MAX_FIELD} bytes`);
    }
    return null;
  }
  return end;
}

/**
 * Parses a SOCKS4 or SOCKS4a request: VN=4, CD, DSTPORT, DSTIP, USERID, NUL (and, when DSTIP is
 * 0.0.0.x with x ≠ 0, a host name and NUL). Raises `SOCKSProtocolError` for fields too long.
 */
export function parseSOCKS4Request(buf: Buffer): Parsed<SOCKSRequest> {
  if (buf.length < 8) return null;
  if (buf[0] !== 4) throw new SOCKSProtocolError(`Not a SOCKS4 request: version ${buf[0]}`);
  const command = buf[1]!;
  const port = buf.readUInt16BE(2);
  const ip = buf.subarray(4, 8);
  const userEnd = nulTerminated(buf, 8, "user id");
  if (userEnd === null) return null;
  const userId = buf.toString("latin1", 8, userEnd);
  const socks4a = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
  if (!socks4a) {
    return {
      value: { version: 4, command, host: formatIPv4(ip), port, userId },
      consumed: userEnd + 1,
    };
  }
  const hostEnd = nulTerminated(buf, userEnd + 1, "host name");
  if (hostEnd === null) return null;
  const host = checkHostName(buf.subarray(userEnd + 1, hostEnd), null);
  return { value: { version: 4, command, host, port, userId }, consumed: hostEnd + 1 };
}

/** Parses a SOCKS5 greeting (VER=5, NMETHODS, METHODS) into the methods offered. */
export function parseSOCKS5Greeting(buf: Buffer): Parsed<number[]> {
  if (buf.length < 2) return null;
  if (buf[0] !== 5) throw new SOCKSProtocolError(`Not a SOCKS5 greeting: version ${buf[0]}`);
  const n = buf[1]!;
  if (buf.length < 2 + n) return null;
  return { value: [...buf.subarray(2, 2 + n)], consumed: 2 + n };
}

/** A username/password request (RFC 1929), as raw bytes. */
export interface SOCKS5Credentials {
  readonly username: Buffer;
  readonly password: Buffer;
}

/** Parses an RFC 1929 username/password request: VER=1, ULEN, UNAME, PLEN, PASSWD. */
export function parseSOCKS5Credentials(buf: Buffer): Parsed<SOCKS5Credentials> {
  if (buf.length < 2) return null;
  if (buf[0] !== 1) {
    throw new SOCKSProtocolError(`Unknown username/password auth version: ${buf[0]}`);
  }
  const ulen = buf[1]!;
  if (buf.length < 3 + ulen) return null;
  const plen = buf[2 + ulen]!;
  const end = 3 + ulen + plen;
  if (buf.length < end) return null;
  return {
    value: {
      username: Buffer.from(buf.subarray(2, 2 + ulen)),
      password: Buffer.from(buf.subarray(3 + ulen, end)),
    },
    consumed: end,
  };
}

/**
 * Parses a SOCKS5 request: VER=5, CMD, RSV, ATYP, DST.ADDR, DST.PORT. Raises
 * `SOCKSProtocolError` with reply 8 for an unknown address type, 1 for other bad input.
 */
export function parseSOCKS5Request(buf: Buffer): Parsed<SOCKSRequest> {
  if (buf.length < 4) return null;
  const fail = SOCKS5Reply.GENERAL_FAILURE;
  if (buf[0] !== 5) throw new SOCKSProtocolError(`Not a SOCKS5 request: version ${buf[0]}`, fail);
  const command = buf[1]!;
  const atyp = buf[3]!;
  let host: string;
  let at: number;
  if (atyp === SOCKS5AddressType.IPV4) {
    if (buf.length < 10) return null;
    host = formatIPv4(buf.subarray(4, 8));
    at = 8;
  } else if (atyp === SOCKS5AddressType.IPV6) {
    if (buf.length < 22) return null;
    host = formatIPv6(buf.subarray(4, 20));
    at = 20;
  } else if (atyp === SOCKS5AddressType.DOMAIN) {
    if (buf.length < 5) return null;
    at = 5 + buf[4]!;
    if (buf.length < at + 2) return null;
    host = checkHostName(buf.subarray(5, at), fail);
  } else {
    throw new SOCKSProtocolError(
      `Unknown SOCKS5 address type: ${atyp}`,
      SOCKS5Reply.ADDRESS_TYPE_NOT_SUPPORTED,
    );
  }
  const port = buf.readUInt16BE(at);
  return { value: { version: 5, command, host, port, userId: "" }, consumed: at + 2 };
}

/** A SOCKS4 reply: VN=0, CD, DSTPORT, DSTIP (the bound address when it is IPv4). */
export function socks4Reply(code: number, host = "0.0.0.0", port = 0): Buffer {
  const out = Buffer.alloc(8);
  out[1] = code;
  const ip = parseIPv4(host);
  if (ip !== null) {
    out.writeUInt16BE(port, 2);
    ip.copy(out, 4);
  }
  return out;
}

/** A SOCKS5 reply: VER=5, REP, RSV, and the bound address (IPv4 or IPv6; else 0.0.0.0:0). */
export function socks5Reply(rep: number, host = "0.0.0.0", port = 0): Buffer {
  const v4 = parseIPv4(host);
  const v6 = v4 === null ? parseIPv6(host) : null;
  const addr = v4 ?? v6 ?? Buffer.alloc(4);
  const out = Buffer.alloc(6 + addr.length);
  out[0] = 5;
  out[1] = rep;
  out[3] = v6 !== null ? SOCKS5AddressType.IPV6 : SOCKS5AddressType.IPV4;
  addr.copy(out, 4);
  if (v4 !== null || v6 !== null) out.writeUInt16BE(port, 4 + addr.length);
  return out;
}

/** The SOCKS5 method selection reply. */
export function socks5MethodReply(method: number): Buffer {
  return Buffer.from([5, method]);
}

/** The RFC 1929 status reply (0: success). */
export function socks5AuthReply(status: number): Buffer {
  return Buffer.from([1, status]);
}
