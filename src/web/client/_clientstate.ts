// The states and options of HTTP11ClientProtocol.

import type { IReactorTime } from "../../internet/interfaces.js";
import type { HTTPLimits } from "../_http/index.js";
import type { HTTP11ClientProtocol } from "./_protocol.js";

/** Where a client connection is (Twisted's names). */
export type ClientState =
  /** Idle: ready for a request. */
  | "QUIESCENT"
  /** Sending a request body. */
  | "TRANSMITTING"
  /** The request is sent; its response is awaited or being read. */
  | "WAITING"
  /** Closing or aborting: no more requests. */
  | "CLOSING"
  /** The connection is gone. */
  | "CONNECTION_LOST";

/** Options of `HTTP11ClientProtocol`. */
export interface HTTP11ClientProtocolOptions {
  /**
   * Called when the connection is idle again after a response, ready for another request
   * (the connection pool puts it back in its cache).
   */
  quiescentCallback?: (protocol: HTTP11ClientProtocol) => void;
  /** Limits on what the server sends (status line, header block, header count, body size). */
  limits?: Partial<HTTPLimits>;
  /**
   * Seconds of silence from the server tolerated while a response is awaited or read (not
   * while the body's reader has paused it); then the connection is aborted and the request
   * or body fails with `TimeoutError` among its reasons. Default: no limit.
   */
  readTimeout?: number | null;
  /**
   * Seconds to wait, after sending the head of a request with `Expect: 100-continue` and a
   * body, for the server's `100 Continue` (or final response) before sending the body anyway
   * (RFC 9110 §10.1.1). Default 1, as curl. `0`, or no `clock`, sends the body at once.
   */
  expectContinueTimeout?: number;
  /** The clock of `readTimeout` and `expectContinueTimeout`. */
  clock?: IReactorTime | null;
}
