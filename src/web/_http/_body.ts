// Body framing: readers (Content-Length, chunked with trailers, close-delimited) and writers.

import type { Headers } from "../_headers.js";
import type { ReceiveBuffer } from "./_buffer.js";
import { LocalProtocolError, RemoteProtocolError } from "./_errors.js";
import { HeadReader, type HTTPLimits, parseFieldLines } from "./_parse.js";

const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from("\r\n");
const CHUNK_LINE = /^([0-9A-Fa-f]+)(?:[ \t]*;([\s\S]*))?$/;
const BAD_EXT_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;

/** The end of a body, with the trailer fields of a chunked body (or `null`). */
export interface BodyEnd {
  readonly trailers: Headers | null;
}

/** What a body reader hands out: bytes, the end, or `null` when it needs more data. */
export type BodyPiece = Buffer | BodyEnd | null;

/** Reads one body from the receive buffer. */
export interface BodyReader {
  /** The next piece of the body. */
  read(buf: ReceiveBuffer): BodyPiece;
  /** The peer closed the connection: the end of a close-delimited body, or an error. */
  readEOF(): BodyEnd;
}

const NO_TRAILERS: BodyEnd = Object.freeze({ trailers: null });

/** A body of `Content-Length` bytes (or none: length 0). */
export class LengthReader implements BodyReader {
  constructor(
    private remaining: number,
    private readonly badStatus: number,
  ) {}

  read(buf: ReceiveBuffer): BodyPiece {
    if (this.remaining === 0) return NO_TRAILERS;
    if (buf.length === 0) return null;
    const data = buf.take(Math.min(this.remaining, buf.length));
    this.remaining -= data.length;
    return data;
  }

  readEOF(): BodyEnd {
    if (this.remaining === 0) return NO_TRAILERS;
    throw new RemoteProtocolError(
      `Connection closed with ${this.remaining} bytes of the body missing`,
      this.badStatus,
    );
  }
}

/** A body delimited by the end of the connection (responses only). */
export class CloseReader implements BodyReader {
  read(buf: ReceiveBuffer): BodyPiece {
    return buf.length === 0 ? null : buf.takeAll();
  }

  readEOF(): BodyEnd {
    return NO_TRAILERS;
  }
}

/**
 * A chunked body: chunk-size lines (hex, optional extensions, CRLF), data, CRLF, a last chunk
 * of size 0 and trailer fields. Anything else — a bare LF, whitespace around the size, a sign
 * or `0x` prefix, a size over 2^52, a missing CRLF after the data — is refused.
 */
export class ChunkedReader implements BodyReader {
  private state: "size" | "data" | "crlf" | "trailer" | "done" = "size";
  private remaining = 0;
  private readonly trailerReader: HeadReader;

  constructor(
    private readonly limits: HTTPLimits,
    private readonly badStatus: number,
  ) {
    this.trailerReader = new HeadReader(limits, true, badStatus, badStatus, badStatus);
  }

  read(buf: ReceiveBuffer): BodyPiece {
    for (;;) {
      switch (this.state) {
        case "size": {
          const max = this.limits.maxChunkLineSize;
          const lf = buf.indexOf(LF);
          if (lf < 0) {
            if (buf.length > max) throw this.bad("Chunk size line too long");
            return null;
          }
          if (lf > max) throw this.bad("Chunk size line too long");
          if (lf === 0 || buf.at(lf - 1) !== CR) throw this.bad("Bare LF in chunk size line");
          const line = buf.peek(0, lf - 1).toString("latin1");
          buf.skip(lf + 1);
          const m = CHUNK_LINE.exec(line);
          if (m === null) throw this.bad("Malformed chunk size");
          if (m[2] !== undefined && BAD_EXT_CHAR.test(m[2])) {
            throw this.bad("Control character in chunk extension");
          }
          const digits = (m[1] as string).replace(/^0+(?=.)/, "");
          if (digits.length > 13) throw this.bad("Chunk size too large");
          const size = Number.parseInt(digits, 16);
          if (size === 0) this.state = "trailer";
          else {
            this.remaining = size;
            this.state = "data";
          }
          break;
        }
        case "data": {
          if (buf.length === 0) return null;
          const data = buf.take(Math.min(this.remaining, buf.length));
          this.remaining -= data.length;
          if (this.remaining === 0) this.state = "crlf";
          return data;
        }
        case "crlf": {
          if (buf.length === 0) return null;
          if (buf.at(0) !== CR) throw this.bad("Missing CRLF after chunk data");
          if (buf.length < 2) return null;
          if (buf.at(1) !== LF) throw this.bad("Missing CRLF after chunk data");
          buf.skip(2);
          this.state = "size";
          break;
        }
        case "trailer": {
          const lines = this.trailerReader.read(buf);
          if (lines === null) return null;
          this.state = "done";
          return {
            trailers: lines.length === 0 ? null : parseFieldLines(lines, 0, this.badStatus),
          };
        }
        case "done":
          return NO_TRAILERS;
      }
    }
  }

  readEOF(): BodyEnd {
    throw this.bad("Connection closed in the middle of a chunked body");
  }

  private bad(message: string): RemoteProtocolError {
    return new RemoteProtocolError(message, this.badStatus);
  }
}

/** Turns body writes into bytes for one framing. */
export interface BodyWriter {
  /** The body ends with the connection (no length, no chunks). */
  readonly closeDelimited?: boolean;
  /** The writer chunks a body whose head does not say so yet: add `Transfer-Encoding: chunked`. */
  readonly addsChunkedHeader?: boolean;
  /** The chunks to send for `data`. */
  write(data: Uint8Array): Uint8Array[];
  /** The chunks that end the body. */
  end(trailers: Headers | null): Uint8Array[];
}

/** Writes exactly `Content-Length` bytes. */
export class LengthWriter implements BodyWriter {
  constructor(private remaining: number) {}

  write(data: Uint8Array): Uint8Array[] {
    if (data.length > this.remaining) {
      throw new LocalProtocolError(
        `Cannot write ${data.length} bytes: only ${this.remaining} left of Content-Length`,
      );
    }
    this.remaining -= data.length;
    return data.length === 0 ? [] : [data];
  }

  end(trailers: Headers | null): Uint8Array[] {
    if (this.remaining !== 0) {
      throw new LocalProtocolError(`Body ended ${this.remaining} bytes short of Content-Length`);
    }
    if (trailers !== null) throw new LocalProtocolError("Cannot send trailers without chunking");
    return [];
  }
}

/** Writes chunks; the end is the last chunk with optional trailers. */
export class ChunkedWriter implements BodyWriter {
  /** @param addsChunkedHeader the head has no `Transfer-Encoding` yet (the engine adds it) */
  constructor(readonly addsChunkedHeader = false) {}

  write(data: Uint8Array): Uint8Array[] {
    const n = data.length;
    if (n === 0) return [];
    const size = `${n.toString(16)}\r\n`;
    if (n < 512) {
      // Small chunks go out as one buffer: fewer pieces for the socket.
      const out = Buffer.allocUnsafe(size.length + n + 2);
      out.write(size, 0, "latin1");
      out.set(data, size.length);
      out[size.length + n] = CR;
      out[size.length + n + 1] = LF;
      return [out];
    }
    return [Buffer.from(size, "latin1"), data, CRLF];
  }

  end(trailers: Headers | null): Uint8Array[] {
    const fields = trailers === null ? "" : trailers._serialize();
    return [Buffer.from(`0\r\n${fields}\r\n`, "latin1")];
  }
}

/** Writes bytes as they are; the end is the end of the connection. */
export class CloseWriter implements BodyWriter {
  readonly closeDelimited = true;

  write(data: Uint8Array): Uint8Array[] {
    return data.length === 0 ? [] : [data];
  }

  end(trailers: Headers | null): Uint8Array[] {
    if (trailers !== null) throw new LocalProtocolError("Cannot send trailers without chunking");
    return [];
  }
}

/** For messages that have no body (HEAD responses, 204, 304): writes are dropped. */
export class NoBodyWriter implements BodyWriter {
  write(_data: Uint8Array): Uint8Array[] {
    return [];
  }

  end(_trailers: Headers | null): Uint8Array[] {
    return [];
  }
}
