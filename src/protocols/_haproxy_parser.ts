// A sans-I/O parser of PROXY protocol headers, versions 1 (text) and 2 (binary), per HAProxy's spec.

import { IPv4Address, IPv6Address, UNIXAddress } from "../internet/address.js";
import { TwistedError } from "../internet/error.js";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./_haproxy_ip.js";

/** The 12 bytes that start every version 2 header. */
export const V2_SIGNATURE: Buffer = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

/** The longest version 1 header, CRLF included (spec §2.1). */
export const V1_MAX_LENGTH = 107;

/** The longest version 2 header: 16 fixed bytes and a 16-bit length. */
export const V2_MAX_LENGTH = 16 + 0xffff;

const V1_PREFIX = Buffer.from("PROXY ", "latin1");

/** The header is not a valid PROXY protocol header (Twisted's `InvalidProxyHeader`). */
export class InvalidProxyHeader extends TwistedError {
  override readonly code: string = "ERR_INVALID_PROXY_HEADER";
  constructor(message = "Invalid PROXY protocol header", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The header names an unknown address family or transport protocol. */
export class InvalidNetworkProtocol extends InvalidProxyHeader {
  override readonly code: string = "ERR_INVALID_NETWORK_PROTOCOL";
}

/** The header's address block is too short or its addresses cannot be parsed. */
export class MissingAddressData extends InvalidProxyHeader {
  override readonly code: string = "ERR_MISSING_ADDRESS_DATA";
}

/** An address from a PROXY header. */
export type ProxyAddress = IPv4Address | IPv6Address | UNIXAddress;

/** What a PROXY header says about the connection. */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /**
   * `"PROXY"`: the connection was relayed for the client at `source`. `"LOCAL"` (version 2
   * only): the proxy itself connected (e.g. a health check); use the real addresses.
   */
  readonly command: "PROXY" | "LOCAL";
  /** Address family: version 1 `TCP4`/`TCP6`/`UNKNOWN` are `INET`/`INET6`/`UNSPEC`. */
  readonly family: "INET" | "INET6" | "UNIX" | "UNSPEC";
  /** Transport protocol of the original connection. */
  readonly protocol: "STREAM" | "DGRAM" | "UNSPEC";
  /** The original client, or `null` when the real peer address is to be used. */
  readonly source: ProxyAddress | null;
  /** The address the client connected to, or `null` when the real host address is to be used. */
  readonly destination: ProxyAddress | null;
}

/** The outcome of {@link parseProxyHeader}. */
export type ProxyHeaderParseResult =
  | {
      readonly needMore: true;
      /** No progress is possible before the buffer holds at least this many bytes. */
      readonly needed: number;
    }
  | {
      readonly needMore: false;
      readonly header: ProxyHeader;
      /** How many bytes of the buffer the header took; the rest belongs to the connection. */
      readonly consumed: number;
    };

function needMore(needed: number): ProxyHeaderParseResult {
  return { needMore: true, needed };
}

/** True when `buf` starts like `prefix` for as many bytes as it has. */
function startsLike(buf: Uint8Array, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return Buffer.compare(Buffer.from(buf.buffer, buf.byteOffset, n), prefix.subarray(0, n)) === 0;
}

function parsePort(text: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text) || Number(text) > 65535) {
    throw new MissingAddressData(`Invalid port in PROXY header: ${text.slice(0, 8)}`);
  }
  return Number(text);
}

function parseV1(buf: Buffer): ProxyHeaderParseResult {
  const end = Math.min(buf.length, V1_MAX_LENGTH);
  let lf = -1;
  for (let i = 0; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x0a) {
      lf = i;
      break;
    }
    // Printable ASCII only; a CR only right before the LF.
    if (
      (c < 0x20 && c !== 0x0d) ||
      c > 0x7e ||
      (c === 0x0d && i + 1 < end && buf[i + 1] !== 0x0a)
    ) {
      throw new InvalidProxyHeader("Invalid character in PROXY v1 header");
    }
  }
  if (lf < 0) {
    if (buf.length >= V1_MAX_LENGTH) {
      throw new InvalidProxyHeader(`PROXY v1 header longer than ${V1_MAX_LENGTH} bytes`);
    }
    return needMore(buf.length + 1);
  }
  if (lf === 0 || buf[lf - 1] !== 0x0d) {
    throw new InvalidProxyHeader("PROXY v1 header does not end with CRLF");
  }
  const parts = buf.toString("latin1", 0, lf - 1).split(" ");
  const consumed = lf + 1;
  const proto = parts[1];
  if (proto === "UNKNOWN") {
    // The spec says to ignore whatever follows UNKNOWN and use the real addresses.
    return {
      needMore: false,
      header: {
        version: 1,
        command: "PROXY",
        family: "UNSPEC",
        protocol: "UNSPEC",
        source: null,
        destination: null,
      },
      consumed,
    };
  }
  if (proto !== "TCP4" && proto !== "TCP6") {
    throw new InvalidNetworkProtocol(
      `Unknown protocol in PROXY v1 header: ${(proto ?? "").slice(0, 8) || "(empty)"}`,
    );
  }
  if (parts.length !== 6) {
    throw new MissingAddressData(
      `PROXY v1 header needs 4 fields after ${proto}, got ${parts.length - 2}`,
    );
  }
  const [, , srcText, dstText, sportText, dportText] = parts as string[];
  const v4 = proto === "TCP4";
  const src = v4 ? parseIPv4(srcText!) : parseIPv6(srcText!);
  const dst = v4 ? parseIPv4(dstText!) : parseIPv6(dstText!);
  if (src === null || dst === null) {
    throw new MissingAddressData(`Invalid ${v4 ? "IPv4" : "IPv6"} address in PROXY v1 header`);
  }
  const sport = parsePort(sportText!);
  const dport = parsePort(dportText!);
  const make = (bytes: Buffer, port: number) =>
    v4
      ? new IPv4Address("TCP", formatIPv4(bytes), port)
      : new IPv6Address("TCP", formatIPv6(bytes), port);
  return {
    needMore: false,
    header: {
      version: 1,
      command: "PROXY",
      family: v4 ? "INET" : "INET6",
      protocol: "STREAM",
      source: make(src, sport),
      destination: make(dst, dport),
    },
    consumed,
  };
}

const FAMILIES = ["UNSPEC", "INET", "INET6", "UNIX"] as const;
const PROTOCOLS = ["UNSPEC", "STREAM", "DGRAM"] as const;
/** Bytes of the address block each family needs (spec §2.2). */
const ADDRESS_LENGTH = { UNSPEC: 0, INET: 12, INET6: 36, UNIX: 216 } as const;

function unixPath(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.toString("utf8", 0, nul < 0 ? bytes.length : nul);
}

function parseV2(buf: Buffer): ProxyHeaderParseResult {
  if (buf.length < 16) return needMore(16);
  const version = buf[12]! >> 4;
  const cmd = buf[12]! & 0x0f;
  if (version !== 2) throw new InvalidProxyHeader(`Unsupported PROXY header version: ${version}`);
  if (cmd > 1) throw new InvalidProxyHeader(`Unknown PROXY v2 command: ${cmd}`);
  const family = FAMILIES[buf[13]! >> 4];
  const protocol = PROTOCOLS[buf[13]! & 0x0f];
  if (family === undefined || protocol === undefined) {
    throw new InvalidNetworkProtocol(
      `Unknown address family or protocol in PROXY v2 header: 0x${buf[13]!.toString(16).padStart(2, "0")}`,
    );
  }
  const length = buf.readUInt16BE(14);
  const total = 16 + length;
  if (buf.length < total) return needMore(total);
  const command = cmd === 0 ? "LOCAL" : "PROXY";
  const header = { version: 2, command, family, protocol } as const;
  if (command === "LOCAL" || family === "UNSPEC") {
    // LOCAL connections (and unspecified families) keep the real addresses; TLVs are skipped.
    return {
      needMore: false,
      header: { ...header, source: null, destination: null },
      consumed: total,
    };
  }
  if (length < ADDRESS_LENGTH[family]) {
    throw new MissingAddressData(
      `PROXY v2 ${family} address block needs ${ADDRESS_LENGTH[family]} bytes, got ${length}`,
    );
  }
  const type = protocol === "DGRAM" ? "UDP" : "TCP";
  const a = buf.subarray(16, 16 + ADDRESS_LENGTH[family]);
  let source: ProxyAddress;
  let destination: ProxyAddress;
  if (family === "INET") {
    source = new IPv4Address(type, formatIPv4(a.subarray(0, 4)), a.readUInt16BE(8));
    destination = new IPv4Address(type, formatIPv4(a.subarray(4, 8)), a.readUInt16BE(10));
  } else if (family === "INET6") {
    source = new IPv6Address(type, formatIPv6(a.subarray(0, 16)), a.readUInt16BE(32));
    destination = new IPv6Address(type, formatIPv6(a.subarray(16, 32)), a.readUInt16BE(34));
  } else {
    source = new UNIXAddress(unixPath(a.subarray(0, 108)));
    destination = new UNIXAddress(unixPath(a.subarray(108, 216)));
  }
  return { needMore: false, header: { ...header, source, destination }, consumed: total };
}

/**
 * Parses a PROXY protocol header (version 1 or 2) at the start of `buffer`: gives the header
 * and how many bytes it took, or `needMore` (with the least total length worth trying again
 * at), or raises `InvalidProxyHeader` as soon as the bytes cannot start a valid header. Pure:
 * feed it the bytes received so far, in any split.
 *
 * @example
 * ```ts
 * const r = parseProxyHeader(Buffer.from("PROXY TCP4 1.2.3.4 10.0.0.1 5555 80\r\nGET /"));
 * if (!r.needMore) console.log(r.header.source, r.consumed); // IPv4Address 1.2.3.4:5555, 37
 * ```
 */
export function parseProxyHeader(buffer: Uint8Array): ProxyHeaderParseResult {
  const buf = Buffer.isBuffer(buffer)
    ? buffer
    : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.length);
  if (buf.length === 0) return needMore(1);
  if (buf[0] === V1_PREFIX[0]) {
    if (!startsLike(buf, V1_PREFIX)) throw new InvalidProxyHeader("Not a PROXY protocol header");
    // Byte by byte while the prefix is incomplete, so that a wrong byte is refused at once.
    return buf.length < V1_PREFIX.length ? needMore(buf.length + 1) : parseV1(buf);
  }
  if (buf[0] === V2_SIGNATURE[0]) {
    if (!startsLike(buf, V2_SIGNATURE)) throw new InvalidProxyHeader("Not a PROXY protocol header");
    if (buf.length < V2_SIGNATURE.length) return needMore(buf.length + 1);
    return parseV2(buf);
  }
  throw new InvalidProxyHeader("Not a PROXY protocol header");
}
