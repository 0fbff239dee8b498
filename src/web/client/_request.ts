// Request: what HTTP11ClientProtocol sends — method, URI, headers, body producer — and its head.

import { Headers } from "../_headers.js";
import type { RequestHead } from "../_http/index.js";
import type { IBodyProducer } from "./_producer.js";
import { UNKNOWN_LENGTH } from "./_producer.js";
import type { IClientRequest } from "./_response.js";
import type { URI } from "./_uri.js";

/** Methods whose requests carry a body by convention: sent with `Content-Length: 0` when empty. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** Options of `Request`. */
export interface RequestOptions {
  /** Keep the connection open for more requests (otherwise `Connection: close` is sent). */
  persistent?: boolean;
  /** The request target to send; default the URI's origin form (`/path?query`). */
  target?: string;
}

/**
 * One request for `HTTP11ClientProtocol.request` (twisted.web._newclient.Request). The head
 * it sends adds what the message needs: `Host` (unless given), `Connection: close` unless
 * persistent, and the body's framing — `Content-Length` for a producer of known length,
 * `Transfer-Encoding: chunked` for `UNKNOWN_LENGTH`.
 *
 * @example
 * ```ts
 * const req = new Request("GET", URI.fromString("http://example.com/"), new Headers(), null);
 * const response = await protocol.request(req);
 * ```
 */
export class Request implements IClientRequest {
  /** Whether the connection stays open after this request's response. */
  readonly persistent: boolean;
  /** The request target sent on the request line. */
  readonly target: string;

  constructor(
    /** The method, e.g. `"GET"`. */
    readonly method: string,
    /** The URI requested. */
    readonly uri: URI,
    /** The headers given (the head sent adds the ones described above). */
    readonly headers: Headers,
    /** The body, or `null`. */
    readonly bodyProducer: IBodyProducer | null,
    options: RequestOptions = {},
  ) {
    this.persistent = options.persistent ?? false;
    this.target = options.target ?? uri.originForm;
  }

  /** The absolute URI requested (without userinfo). */
  get absoluteURI(): string {
    return this.uri.absoluteForm;
  }

  /** The head to send. @internal */
  _head(): RequestHead {
    const headers = new Headers(this.headers);
    if (!headers.hasHeader("host")) headers.setRawHeaders("Host", [this.uri.hostHeader]);
    if (!this.persistent) headers.setRawHeaders("Connection", ["close"]);
    const producer = this.bodyProducer;
    if (producer !== null) {
      headers.removeHeader("content-length");
      headers.removeHeader("transfer-encoding");
      if (producer.length === UNKNOWN_LENGTH) {
        headers.setRawHeaders("Transfer-Encoding", ["chunked"]);
      } else {
        headers.setRawHeaders("Content-Length", [String(producer.length)]);
      }
    } else if (BODY_METHODS.has(this.method) && !headers.hasHeader("content-length")) {
      headers.setRawHeaders("Content-Length", ["0"]);
    }
    return { method: this.method, target: this.target, headers };
  }

  toString(): string {
    return `<Request ${this.method} ${this.absoluteURI}>`;
  }
}
