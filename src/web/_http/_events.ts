// Events the HTTP/1.1 engine reports, and the message heads it is given to send.

import type { Headers } from "../_headers.js";

/** `nextEvent()`: more bytes are needed before the next event. */
export const NEED_DATA = "NEED_DATA";
/** `nextEvent()`: nothing more is read until `startNextCycle()` (or a protocol switch). */
export const PAUSED = "PAUSED";

/** An HTTP version this engine speaks. */
export type HTTPVersion = "1.0" | "1.1";

/** The head of a request was received (server role). */
export interface RequestReceived {
  type: "RequestReceived";
  method: string;
  /** The request target as sent: `/path?query`, `http://host/…`, `host:port` or `*`. */
  target: string;
  version: HTTPVersion;
  headers: Headers;
}

/** A 1xx response was received (client role). */
export interface InformationalResponseReceived {
  type: "InformationalResponseReceived";
  status: number;
  reason: string;
  version: HTTPVersion;
  headers: Headers;
}

/** The head of a final response was received (client role). */
export interface ResponseReceived {
  type: "ResponseReceived";
  status: number;
  reason: string;
  version: HTTPVersion;
  headers: Headers;
}

/** Part of a body was received (a view of the received bytes, not copied). */
export interface DataReceived {
  type: "DataReceived";
  data: Buffer;
}

/** The message (request or response) ended; `trailers` of a chunked body, or `null`. */
export interface MessageEnded {
  type: "MessageEnded";
  trailers: Headers | null;
}

/** The peer closed its side of the connection. */
export interface ConnectionClosed {
  type: "ConnectionClosed";
}

/** What `nextEvent()` reports. */
export type HTTPEvent =
  | RequestReceived
  | InformationalResponseReceived
  | ResponseReceived
  | DataReceived
  | MessageEnded
  | ConnectionClosed;

/** A request to send (client role). */
export interface RequestHead {
  method: string;
  target: string;
  headers: Headers;
  /** Default `"1.1"`. */
  version?: HTTPVersion;
}

/** A response to send (server role). */
export interface ResponseHead {
  status: number;
  /** Default: the standard phrase of `status`. */
  reason?: string;
  headers: Headers;
}
