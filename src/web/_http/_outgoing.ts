// How the messages we send are framed: checks on the heads we write and the body writer each needs.

import type { Headers } from "../_headers.js";
import {
  type BodyWriter,
  ChunkedWriter,
  CloseWriter,
  LengthWriter,
  NoBodyWriter,
} from "./_body.js";
import { LocalProtocolError } from "./_errors.js";
import type { HTTPVersion, RequestHead } from "./_events.js";
import { contentLength, fieldTokens } from "./_parse.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;

/** The writer of bodiless responses: it drops data and holds no state, so it is shared. */
const NO_BODY_WRITER: BodyWriter = new NoBodyWriter();

/** The `Content-Length` we set on a message we send, or `null`; refuses a malformed one. */
export function localLength(headers: Headers): number | null {
  try {
    return contentLength(headers, 0);
  } catch {
    throw new LocalProtocolError("Invalid Content-Length");
  }
}

/**
 * Checks a request head we are about to send (a token method, a visible-ASCII target, `Host`
 * in HTTP/1.1, only `chunked` as a transfer coding and never with `Content-Length`) and returns
 * the writer of its body.
 */
export function requestWriter(head: RequestHead, version: HTTPVersion): BodyWriter {
  const { method, target, headers } = head;
  if (!TOKEN.test(method)) throw new LocalProtocolError(`Invalid method: ${method}`);
  if (!TARGET.test(target)) throw new LocalProtocolError(`Invalid request target: ${target}`);
  if (version === "1.1" && !headers.hasHeader("host")) {
    throw new LocalProtocolError("Cannot send an HTTP/1.1 request without a Host header");
  }
  const te = fieldTokens(headers, "transfer-encoding");
  if (te.length === 0) return new LengthWriter(localLength(headers) ?? 0);
  if (te.length !== 1 || te[0] !== "chunked" || version === "1.0") {
    throw new LocalProtocolError("Only Transfer-Encoding: chunked is supported (HTTP/1.1)");
  }
  if (headers.hasHeader("content-length")) {
    throw new LocalProtocolError("Cannot send both Transfer-Encoding and Content-Length");
  }
  return new ChunkedWriter();
}

/**
 * The writer of a final response's body: none for HEAD, 204, 304 and an accepted CONNECT; the
 * `Content-Length` set; `chunked` when set, or when there is no length and the client speaks
 * HTTP/1.1 (`writer.addsChunkedHeader` is then true: the head needs the field); otherwise the end
 * of the connection.
 */
export function responseWriter(
  method: string,
  status: number,
  peer: HTTPVersion,
  headers: Headers,
  noBody: boolean,
): BodyWriter {
  if (noBody || method === "HEAD" || status === 204 || status === 304) return NO_BODY_WRITER;
  const length = localLength(headers);
  const te = fieldTokens(headers, "transfer-encoding");
  if (te.length > 0) {
    if (te.length !== 1 || te[0] !== "chunked" || peer === "1.0" || length !== null) {
      throw new LocalProtocolError("Only Transfer-Encoding: chunked, to an HTTP/1.1 client");
    }
    return new ChunkedWriter(false);
  }
  if (length !== null) return new LengthWriter(length);
  return peer === "1.1" ? new ChunkedWriter(true) : new CloseWriter();
}
