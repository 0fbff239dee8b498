// Parsing of message heads: start lines, header fields, and the framing rules of RFC 9112 §6.

import { Headers } from "../_headers.js";
import type { ReceiveBuffer } from "./_buffer.js";
import { RemoteProtocolError } from "./_errors.js";

/** The limits on what a peer may send, all configurable. */
export interface HTTPLimits {
  /** The longest request line or status line, in bytes (414 beyond, for requests). Default 8 KiB. */
  maxStartLineSize: number;
  /** The largest header block (or trailer block), in bytes (431 beyond). Default 16 KiB. */
  maxHeaderSize: number;
  /** The most header fields (or trailer fields) in a message (431 beyond). Default 100. */
  maxHeaderCount: number;
  /**
   * The largest body, in bytes (413 beyond); change it per message with `setMaxBodySize`.
   * Default 100 MiB for a server, no limit for a client.
   */
  maxBodySize: number;
  /** The longest chunk-size line of a chunked body, with extensions (400 beyond). Default 4 KiB. */
  maxChunkLineSize: number;
}

/** The default limits. */
export const DEFAULT_LIMITS: Readonly<HTTPLimits> = Object.freeze({
  maxStartLineSize: 8 * 1024,
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxBodySize: 100 * 1024 * 1024,
  maxChunkLineSize: 4 * 1024,
});

const LF = 0x0a;
const CR = 0x0d;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: HTAB, SP, VCHAR and obs-text; any other control character is refused. */
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Request targets: visible ASCII only (no spaces, controls or raw non-ASCII). */
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const DIGITS = /^\d+$/;
/** Methods known to be tokens, so that the common ones skip the `TOKEN` test. */
const COMMON_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\s\S]*))?$/;

/**
 * Finds a complete head (start line and fields, up to the empty line) in a receive buffer,
 * scanning each byte once across calls. Limits are checked as bytes arrive, so an endless
 * line or header block is refused without being buffered.
 */
export class HeadReader {
  /** Offsets `[start, end)` of the lines found so far (without their line ends). */
  private lines: number[] = [];
  private lineStart = 0;
  private scanned = 0;

  /**
   * @param trailer reads a trailer block (no start line) rather than a head
   * @param lineTooLongStatus the status for a start line over the limit (414 for requests)
   */
  constructor(
    private readonly limits: HTTPLimits,
    private readonly trailer: boolean,
    private readonly badStatus: number,
    private readonly lineTooLongStatus: number,
    private readonly tooLargeStatus: number,
  ) {}

  /** Forgets a partial head (for the next message). */
  reset(): void {
    this.lines = [];
    this.lineStart = 0;
    this.scanned = 0;
  }

  /** True once some bytes of a head have been seen. */
  get started(): boolean {
    return this.scanned > 0;
  }

  /**
   * Returns the head's lines (latin1, line ends removed) and consumes them from `buf`, or
   * `null` if the head is not complete yet.
   */
  read(buf: ReceiveBuffer): string[] | null {
    const { maxStartLineSize, maxHeaderCount } = this.limits;
    if (!this.trailer && this.scanned === 0) {
      // RFC 9112 §2.2: empty lines before a request line are ignored.
      while (buf.length > 0) {
        const b = buf.at(0);
        if (b === LF) buf.skip(1);
        else if (b === CR && buf.at(1) === LF) buf.skip(2);
        else if (b === CR && buf.length === 1) return null;
        else break;
      }
    }
    for (;;) {
      const lf = buf.indexOf(LF, this.scanned);
      if (lf < 0) {
        this.scanned = buf.length;
        this.checkPartial(buf.length);
        return null;
      }
      this.scanned = lf + 1;
      const end = lf > this.lineStart && buf.at(lf - 1) === CR ? lf - 1 : lf;
      if (end === this.lineStart) {
        const lines = this.extract(buf);
        buf.skip(lf + 1);
        this.reset();
        return lines;
      }
      this.lines.push(this.lineStart, end);
      const isStartLine = !this.trailer && this.lines.length === 2;
      if (isStartLine && end - this.lineStart > maxStartLineSize) {
        throw new RemoteProtocolError("Start line too long", this.lineTooLongStatus);
      }
      const fieldCount = this.lines.length / 2 - (this.trailer ? 0 : 1);
      if (fieldCount > maxHeaderCount) {
        throw new RemoteProtocolError(
          `Too many header fields: more than ${maxHeaderCount}`,
          this.tooLargeStatus,
        );
      }
      this.lineStart = lf + 1;
      this.checkPartial(this.lineStart);
    }
  }

  /** Refuses a head that is already too long at `length` bytes scanned. */
  private checkPartial(length: number): void {
    const inStartLine = !this.trailer && this.lines.length === 0;
    if (inStartLine) {
      if (length > this.limits.maxStartLineSize + 2) {
        throw new RemoteProtocolError("Start line too long", this.lineTooLongStatus);
      }
      return;
    }
    const startLineLength = this.trailer ? 0 : (this.lines[1] as number) + 2;
    if (length - startLineLength > this.limits.maxHeaderSize + 2) {
      throw new RemoteProtocolError(
        `Header block too large: more than ${this.limits.maxHeaderSize} bytes`,
        this.tooLargeStatus,
      );
    }
  }

  private extract(buf: ReceiveBuffer): string[] {
    const offsets = this.lines;
    const n = offsets.length;
    const out: string[] = [];
    if (n === 0) return out;
    // One decoding of the whole head; the lines are slices of it.
    const base = offsets[0] as number;
    const text = buf.peek(base, offsets[n - 1] as number).toString("latin1");
    for (let i = 0; i < n; i += 2) {
      const line = text.slice((offsets[i] as number) - base, (offsets[i + 1] as number) - base);
      if (line.includes("\r")) {
        throw new RemoteProtocolError("Bare CR in message head", this.badStatus);
      }
      out.push(line);
    }
    return out;
  }
}

/** A parsed request line. */
export interface RequestLine {
  method: string;
  target: string;
  version: "1.0" | "1.1";
}

/** Parses `METHOD SP target SP HTTP/x.y`, strictly (single spaces, token method). */
export function parseRequestLine(line: string): RequestLine {
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp2 < 0 || line.indexOf(" ", sp2 + 1) >= 0) {
    throw new RemoteProtocolError("Cannot parse request line: expected METHOD TARGET VERSION");
  }
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!COMMON_METHODS.has(method) && !TOKEN.test(method))
    throw new RemoteProtocolError("Cannot parse request line: bad method");
  if (!TARGET.test(target)) throw new RemoteProtocolError("Cannot parse request line: bad target");
  if (version === "HTTP/1.1") return { method, target, version: "1.1" };
  const m = VERSION.exec(version);
  if (m === null) throw new RemoteProtocolError("Cannot parse request line: bad HTTP version");
  if (m[1] !== "1") throw new RemoteProtocolError(`HTTP version not supported: ${version}`, 505);
  return { method, target, version: m[2] === "0" ? "1.0" : "1.1" };
}

/** A parsed status line. */
export interface StatusLine {
  status: number;
  reason: string;
  version: "1.0" | "1.1";
}

/** Parses `HTTP/x.y SP status [SP reason]`. */
export function parseStatusLine(line: string, badStatus: number): StatusLine {
  const m = STATUS_LINE.exec(line);
  if (m === null) throw new RemoteProtocolError("Cannot parse status line", badStatus);
  if (m[1] !== "1") throw new RemoteProtocolError("HTTP version not supported", badStatus);
  const reason = m[4] ?? "";
  if (BAD_VALUE_CHAR.test(reason)) {
    throw new RemoteProtocolError("Cannot parse status line: bad reason phrase", badStatus);
  }
  return { status: Number(m[3]), reason, version: m[2] === "0" ? "1.0" : "1.1" };
}

/**
 * Parses field lines into `Headers`: refuses obsolete line folding, whitespace before the
 * colon, names that are not tokens and values with control characters.
 */
export function parseFieldLines(
  lines: readonly string[],
  from: number,
  badStatus: number,
): Headers {
  const headers = new Headers();
  for (let i = from; i < lines.length; i++) {
    const line = lines[i] as string;
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) {
      throw new RemoteProtocolError("Obsolete line folding in header", badStatus);
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new RemoteProtocolError("Cannot parse header: missing colon", badStatus);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) {
      const ws = /[ \t]$/.test(name);
      throw new RemoteProtocolError(
        ws ? "Whitespace before colon in header" : "Cannot parse header: bad name",
        badStatus,
      );
    }
    let s = colon + 1;
    let e = line.length;
    while (s < e && (line.charCodeAt(s) === 0x20 || line.charCodeAt(s) === 0x09)) s++;
    while (e > s && (line.charCodeAt(e - 1) === 0x20 || line.charCodeAt(e - 1) === 0x09)) e--;
    const value = line.slice(s, e);
    if (BAD_VALUE_CHAR.test(value)) {
      throw new RemoteProtocolError("Control character in header value", badStatus);
    }
    headers._addTrusted(name.toLowerCase(), value);
  }
  return headers;
}

const NO_TOKENS: readonly string[] = Object.freeze([]);

/** The comma-separated elements of every value of a field, trimmed and lower-cased. */
export function fieldTokens(headers: Headers, lowerName: string): readonly string[] {
  const values = headers._get(lowerName);
  if (values === undefined) return NO_TOKENS;
  const out: string[] = [];
  for (const v of values) {
    for (const part of v.split(",")) {
      const t = part.trim().toLowerCase();
      if (t !== "") out.push(t);
    }
  }
  return out;
}

/** How a message body is delimited. */
export type Framing =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "close" }
  | { readonly kind: "none" };

// The framings without a length are constants: one less object per message.
const NONE: Framing = Object.freeze({ kind: "none" });
const CHUNKED: Framing = Object.freeze({ kind: "chunked" });
const CLOSE: Framing = Object.freeze({ kind: "close" });

/**
 * The value of `Content-Length`, or `null` if absent. Every value (of repeated fields and of
 * comma lists) must be the same string of digits.
 */
export function contentLength(headers: Headers, badStatus: number): number | null {
  const values = headers._get("content-length");
  if (values === undefined) return null;
  if (values.length === 1) {
    // The usual case: one plain number.
    const v = values[0] as string;
    if (DIGITS.test(v)) {
      const n = Number(v);
      if (Number.isSafeInteger(n)) return n;
    }
  }
  let found: string | null = null;
  for (const v of values) {
    for (const part of v.split(",")) {
      const t = part.trim();
      if (!DIGITS.test(t)) throw new RemoteProtocolError("Bad Content-Length", badStatus);
      if (found !== null && found !== t) {
        throw new RemoteProtocolError("Differing Content-Length values", badStatus);
      }
      found = t;
    }
  }
  const n = Number(found);
  if (found === null || !Number.isSafeInteger(n)) {
    throw new RemoteProtocolError("Bad Content-Length", badStatus);
  }
  return n;
}

/**
 * How a request's body is delimited (RFC 9112 §6.3), refusing what enables smuggling:
 * `Transfer-Encoding` with `Content-Length`, `Transfer-Encoding` in HTTP/1.0, codings other than
 * a single final `chunked`.
 */
export function requestFraming(headers: Headers, version: "1.0" | "1.1"): Framing {
  if (headers._get("transfer-encoding") !== undefined) {
    if (headers._get("content-length") !== undefined) {
      throw new RemoteProtocolError("Both Transfer-Encoding and Content-Length in request");
    }
    if (version === "1.0") {
      throw new RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 request");
    }
    const codings = fieldTokens(headers, "transfer-encoding");
    if (codings.length === 1 && codings[0] === "chunked") return CHUNKED;
    if (codings.length === 0 || codings[codings.length - 1] !== "chunked") {
      throw new RemoteProtocolError(
        "Request body length cannot be determined: chunked is not last",
      );
    }
    if (codings.indexOf("chunked") !== codings.length - 1) {
      throw new RemoteProtocolError("Transfer-Encoding chunked applied twice");
    }
    throw new RemoteProtocolError(`Transfer coding not implemented: ${codings.join(", ")}`, 501);
  }
  const length = contentLength(headers, 400);
  return length === null || length === 0 ? NONE : { kind: "length", length };
}

/** How a response's body is delimited (RFC 9112 §6.3), for the client side. */
export function responseFraming(
  requestMethod: string,
  status: number,
  headers: Headers,
  badStatus: number,
): Framing {
  if (
    requestMethod === "HEAD" ||
    (status >= 100 && status < 200) ||
    status === 204 ||
    status === 304
  ) {
    return NONE;
  }
  if (requestMethod === "CONNECT" && status >= 200 && status < 300) return NONE;
  if (headers._get("transfer-encoding") !== undefined) {
    const codings = fieldTokens(headers, "transfer-encoding");
    return codings[codings.length - 1] === "chunked" &&
      codings.indexOf("chunked") === codings.length - 1
      ? CHUNKED
      : CLOSE;
  }
  const length = contentLength(headers, badStatus);
  if (length === null) return CLOSE;
  return length === 0 ? NONE : { kind: "length", length };
}
