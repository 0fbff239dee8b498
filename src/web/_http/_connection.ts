// HTTP11Connection: the sans-I/O HTTP/1.1 engine for either role — bytes in, events out; commands in, bytes out.

import type { Headers } from "../_headers.js";
import {
  type BodyEnd,
  type BodyReader,
  type BodyWriter,
  ChunkedReader,
  CloseReader,
  LengthReader,
} from "./_body.js";
import { ReceiveBuffer } from "./_buffer.js";
import { LocalProtocolError, RemoteProtocolError } from "./_errors.js";
import {
  type ConnectionClosed,
  type HTTPEvent,
  type HTTPVersion,
  NEED_DATA,
  PAUSED,
  type RequestHead,
  type ResponseHead,
} from "./_events.js";
import { requestWriter, responseWriter } from "./_outgoing.js";
import {
  DEFAULT_LIMITS,
  type Framing,
  fieldTokens,
  HeadReader,
  type HTTPLimits,
  parseFieldLines,
  parseRequestLine,
  parseStatusLine,
  requestFraming,
  responseFraming,
} from "./_parse.js";
import { ConnectionState, type Role, type State, type Step } from "./_states.js";
import { reasonPhrase } from "./_status.js";

const CLOSED_EVENT: ConnectionClosed = Object.freeze({ type: "ConnectionClosed" });
/** The reader of an empty body: it holds no state, so every message without a body shares it. */
const NO_BODY: BodyReader = new LengthReader(0, 400);
const CRLF_CHARS = /[\r\n]/;

/**
 * One HTTP/1.1 connection as a pure state machine (RFC 9110/9112), for the server or the
 * client role. Feed received bytes with `receiveData()` (an empty buffer means EOF) and take
 * events with `nextEvent()` until `NEED_DATA` or `PAUSED`; turn what you want to send into
 * bytes with `sendRequest`/`sendResponse`/`sendData`/`sendEndOfMessage` and write them. After
 * each request/response pair, when both sides are `DONE`, `startNextCycle()` allows the next
 * one (persistent connections; pipelined requests wait in the buffer meanwhile).
 *
 * Errors: a peer that breaks the protocol makes `nextEvent()` throw `RemoteProtocolError`
 * (with the status a server should answer); misuse makes a `send*` throw `LocalProtocolError`.
 *
 * @example
 * ```ts
 * const conn = new HTTP11Connection("server");
 * conn.receiveData(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * const ev = conn.nextEvent(); // { type: "RequestReceived", method: "GET", target: "/", … }
 * conn.nextEvent();            // { type: "MessageEnded", trailers: null }
 * transport.writeSequence([
 *   ...conn.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "2" }) }),
 *   ...conn.sendData(Buffer.from("hi")),
 *   ...conn.sendEndOfMessage(),
 * ]);
 * conn.startNextCycle();
 * ```
 */
export class HTTP11Connection {
  /** Our side. */
  readonly ourRole: Role;
  /** The peer's side. */
  readonly theirRole: Role;
  /** The limits applied to what the peer sends. */
  readonly limits: HTTPLimits;
  /** The HTTP version of the peer's last message head, or `null` before one. */
  theirHttpVersion: HTTPVersion | null = null;
  /**
   * The method of the current request (received by a server, sent by a client), or `null`.
   */
  requestMethod: string | null = null;
  /**
   * Server role: the client sent `Expect: 100-continue` and waits for a `100 Continue` (or a
   * final response) before sending its body.
   */
  theyAreWaitingFor100Continue = false;
  /** Client role: we sent `Expect: 100-continue` and no response has come yet. */
  clientIsWaitingFor100Continue = false;

  private readonly cs = new ConnectionState();
  private readonly buf = new ReceiveBuffer();
  private readonly head: HeadReader;
  private readonly badStatus: number;
  private eof = false;
  private reader: BodyReader | null = null;
  private readerFraming: Framing | null = null;
  private writer: BodyWriter | null = null;
  private bodyReceived = 0;
  private maxBodySize: number;
  private remoteError: RemoteProtocolError | null = null;

  constructor(role: Role, limits: Partial<HTTPLimits> = {}) {
    this.ourRole = role;
    this.theirRole = role === "server" ? "client" : "server";
    // A client reads bodies of any size unless told otherwise (downloads are streamed).
    const bodyDefault = role === "server" ? DEFAULT_LIMITS.maxBodySize : Number.POSITIVE_INFINITY;
    this.limits = { ...DEFAULT_LIMITS, maxBodySize: bodyDefault, ...limits };
    this.maxBodySize = this.limits.maxBodySize;
    const server = role === "server";
    this.badStatus = server ? 400 : 502;
    this.head = new HeadReader(
      this.limits,
      false,
      this.badStatus,
      server ? 414 : 502,
      server ? 431 : 502,
    );
  }

  /** Our state. */
  get ourState(): State {
    return this.cs.states[this.ourRole];
  }

  /** The peer's state. */
  get theirState(): State {
    return this.cs.states[this.theirRole];
  }

  /** Both states, by role. */
  get states(): Readonly<Record<Role, State>> {
    return { ...this.cs.states };
  }

  /** False once this connection must close after the current message. */
  get keepAlive(): boolean {
    return this.cs.keepAlive;
  }

  /** How many received bytes wait to be parsed (e.g. pipelined requests while `PAUSED`). */
  get bufferedLength(): number {
    return this.buf.length;
  }

  /**
   * What was received past the messages (after a protocol switch: the new protocol's first
   * bytes), and whether the peer has closed.
   */
  get trailingData(): { data: Buffer; closed: boolean } {
    return { data: Buffer.from(this.buf.peek(0, this.buf.length)), closed: this.eof };
  }

  /** Sets the largest body accepted for the current message (413 beyond, for a server). */
  setMaxBodySize(bytes: number): void {
    this.maxBodySize = bytes;
  }

  /** Adds received bytes; an empty buffer tells that the peer closed (EOF). */
  receiveData(data: Buffer): void {
    if (data.length === 0) {
      this.eof = true;
      return;
    }
    if (this.eof) throw new LocalProtocolError("Cannot receive data after EOF");
    this.buf.append(data);
  }

  /** The next event, `NEED_DATA`, or `PAUSED`. Throws `RemoteProtocolError` on bad input. */
  nextEvent(): HTTPEvent | typeof NEED_DATA | typeof PAUSED {
    if (this.remoteError !== null) throw this.remoteError;
    try {
      return this.extractEvent();
    } catch (e) {
      if (e instanceof RemoteProtocolError) {
        this.remoteError = e;
        this.cs.error(this.theirRole);
      }
      throw e;
    }
  }

  private extractEvent(): HTTPEvent | typeof NEED_DATA | typeof PAUSED {
    const state = this.theirState;
    switch (state) {
      case "IDLE":
        if (this.ourRole === "server") return this.readRequestHead();
        if (this.buf.length > 0) {
          throw new RemoteProtocolError("Data received before a request was sent", 502);
        }
        return this.eof ? this.closed() : NEED_DATA;
      case "SEND_RESPONSE":
        return this.readResponseHead();
      case "SEND_BODY":
        return this.readBody();
      case "DONE":
      case "MUST_CLOSE":
        if (this.buf.length > 0) return PAUSED;
        return this.eof ? this.closed() : NEED_DATA;
      case "CLOSED":
        return CLOSED_EVENT;
      case "MIGHT_SWITCH_PROTOCOL":
      case "SWITCHED_PROTOCOL":
        return PAUSED;
      case "ERROR":
        throw new RemoteProtocolError(
          "Cannot receive: the peer broke the protocol",
          this.badStatus,
        );
    }
  }

  private closed(): ConnectionClosed {
    this.cs.process(this.theirRole, "ConnectionClosed");
    return CLOSED_EVENT;
  }

  private readHeadLines(): string[] | null {
    const lines = this.head.read(this.buf);
    if (lines === null && this.eof) {
      if (this.buf.length === 0 && !this.head.started) return null;
      throw new RemoteProtocolError(
        "Connection closed in the middle of a message head",
        this.badStatus,
      );
    }
    return lines;
  }

  private readRequestHead(): HTTPEvent | typeof NEED_DATA {
    const lines = this.readHeadLines();
    if (lines === null) return this.eof ? this.closed() : NEED_DATA;
    const { method, target, version } = parseRequestLine(lines[0] as string);
    const headers = parseFieldLines(lines, 1, 400);
    const hosts = headers._get("host");
    if (version === "1.1" && hosts === undefined)
      throw new RemoteProtocolError("Missing Host header");
    if (hosts !== undefined && hosts.length > 1) {
      throw new RemoteProtocolError("More than one Host header");
    }
    const framing = requestFraming(headers, version);
    this.theirHttpVersion = version;
    this.requestMethod = method;
    const connection = fieldTokens(headers, "connection");
    if (method === "CONNECT") this.cs.pendingSwitch = "connect";
    else if (headers._get("upgrade") !== undefined && connection.includes("upgrade")) {
      this.cs.pendingSwitch = "upgrade";
    }
    this.theyAreWaitingFor100Continue =
      version === "1.1" && fieldTokens(headers, "expect").includes("100-continue");
    this.startReading(framing);
    this.cs.process("client", "Request");
    if (connection.includes("close") || (version === "1.0" && !connection.includes("keep-alive"))) {
      this.cs.disableKeepAlive();
    }
    return { type: "RequestReceived", method, target, version, headers };
  }

  private readResponseHead(): HTTPEvent | typeof NEED_DATA {
    const lines = this.readHeadLines();
    if (lines === null) {
      if (this.eof) {
        throw new RemoteProtocolError("Connection closed before a response", this.badStatus);
      }
      return NEED_DATA;
    }
    const { status, reason, version } = parseStatusLine(lines[0] as string, this.badStatus);
    const headers = parseFieldLines(lines, 1, this.badStatus);
    this.theirHttpVersion = version;
    this.clientIsWaitingFor100Continue = false;
    if (status < 200) {
      if (status === 101) {
        if (this.cs.pendingSwitch !== "upgrade" || this.ourState !== "MIGHT_SWITCH_PROTOCOL") {
          throw new RemoteProtocolError(
            "101 Switching Protocols without an upgrade",
            this.badStatus,
          );
        }
        this.cs.process("server", "SwitchAccepted");
      } else {
        this.cs.process("server", "InformationalResponse");
      }
      return { type: "InformationalResponseReceived", status, reason, version, headers };
    }
    const method = this.requestMethod ?? "GET";
    const connection = fieldTokens(headers, "connection");
    if (
      this.cs.pendingSwitch === "connect" &&
      status < 300 &&
      this.ourState === "MIGHT_SWITCH_PROTOCOL"
    ) {
      this.cs.process("server", "SwitchAccepted");
      return { type: "ResponseReceived", status, reason, version, headers };
    }
    const framing = responseFraming(method, status, headers, this.badStatus);
    this.startReading(framing);
    this.cs.process("server", "Response");
    if (
      framing.kind === "close" ||
      connection.includes("close") ||
      (version === "1.0" && !connection.includes("keep-alive")) ||
      (headers._get("transfer-encoding") !== undefined &&
        headers._get("content-length") !== undefined)
    ) {
      this.cs.disableKeepAlive();
    }
    return { type: "ResponseReceived", status, reason, version, headers };
  }

  private startReading(framing: Framing): void {
    this.readerFraming = framing;
    this.bodyReceived = 0;
    switch (framing.kind) {
      case "none":
        this.reader = NO_BODY;
        break;
      case "length":
        this.reader = new LengthReader(framing.length, this.badStatus);
        break;
      case "chunked":
        this.reader = new ChunkedReader(this.limits, this.badStatus);
        break;
      case "close":
        this.reader = new CloseReader();
        break;
    }
  }

  private readBody(): HTTPEvent | typeof NEED_DATA {
    const reader = this.reader as BodyReader;
    const framing = this.readerFraming;
    const tooLarge = this.ourRole === "server" ? 413 : 502;
    if (framing?.kind === "length" && framing.length > this.maxBodySize) {
      throw new RemoteProtocolError(
        `Body too large: ${framing.length} bytes, the limit is ${this.maxBodySize}`,
        tooLarge,
      );
    }
    let piece = reader.read(this.buf);
    if (piece === null) {
      if (!this.eof) return NEED_DATA;
      piece = reader.readEOF();
    }
    if (piece instanceof Buffer) {
      this.bodyReceived += piece.length;
      if (this.bodyReceived > this.maxBodySize) {
        throw new RemoteProtocolError(`Body too large: the limit is ${this.maxBodySize}`, tooLarge);
      }
      this.theyAreWaitingFor100Continue = false;
      return { type: "DataReceived", data: piece };
    }
    this.reader = null;
    this.readerFraming = null;
    this.theyAreWaitingFor100Continue = false;
    this.cs.process(this.theirRole, "EndOfMessage");
    return { type: "MessageEnded", trailers: (piece as BodyEnd).trailers };
  }

  // Sending --------------------------------------------------------------------------------------

  private step<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LocalProtocolError) this.cs.error(this.ourRole);
      throw e;
    }
  }

  private need(role: Role, what: string): void {
    if (this.ourRole !== role)
      throw new LocalProtocolError(`Cannot ${what} as the ${this.ourRole}`);
  }

  /** The bytes of a request head (client role). */
  sendRequest(head: RequestHead): Uint8Array[] {
    return this.step(() => {
      this.need("client", "send a request");
      const { method, target, headers } = head;
      const version = head.version ?? "1.1";
      this.writer = requestWriter(head, version);
      const connection = fieldTokens(headers, "connection");
      this.cs.process("client", "Request");
      this.requestMethod = method;
      if (method === "CONNECT") this.cs.pendingSwitch = "connect";
      else if (headers.hasHeader("upgrade") && connection.includes("upgrade")) {
        this.cs.pendingSwitch = "upgrade";
      }
      this.clientIsWaitingFor100Continue = fieldTokens(headers, "expect").includes("100-continue");
      if (
        connection.includes("close") ||
        (version === "1.0" && !connection.includes("keep-alive"))
      ) {
        this.cs.disableKeepAlive();
      }
      return [
        Buffer.from(`${method} ${target} HTTP/${version}\r\n${headers._serialize()}\r\n`, "latin1"),
      ];
    });
  }

  /**
   * The bytes of a 1xx response (server role): `100 Continue`, or `101 Switching Protocols`
   * accepting the client's `Upgrade` (both sides are then `SWITCHED_PROTOCOL`).
   */
  sendInformationalResponse(head: {
    status: number;
    reason?: string;
    headers?: Headers;
  }): Uint8Array[] {
    return this.step(() => {
      this.need("server", "send a response");
      const { status } = head;
      if (!(status >= 100 && status < 200)) {
        throw new LocalProtocolError(`Not an informational status: ${status}`);
      }
      let step: Step = "InformationalResponse";
      if (status === 101) {
        if (this.cs.pendingSwitch !== "upgrade" || this.theirState !== "MIGHT_SWITCH_PROTOCOL") {
          throw new LocalProtocolError("Cannot switch protocols: the client did not ask to");
        }
        step = "SwitchAccepted";
      }
      this.cs.process("server", step);
      this.theyAreWaitingFor100Continue = false;
      const fields = head.headers?._serialize() ?? "";
      return [
        Buffer.from(
          `HTTP/1.1 ${status} ${head.reason ?? reasonPhrase(status)}\r\n${fields}\r\n`,
          "latin1",
        ),
      ];
    });
  }

  /**
   * The bytes of a final response head (server role). The engine frames the body: it keeps a
   * `Content-Length` you set, otherwise chunks for HTTP/1.1 clients and delimits by closing for
   * HTTP/1.0 ones; it adds `Connection: close` (or `keep-alive` for HTTP/1.0) as needed. HEAD,
   * 204 and 304 responses get no body: data sent for them is dropped.
   */
  sendResponse(head: ResponseHead): Uint8Array[] {
    return [Buffer.from(this._responseHead(head), "latin1")];
  }

  /**
   * `sendResponse`, with the head as a latin1 string (one character per byte), for a caller
   * that writes it together with the body.
   * @internal
   */
  _responseHead(head: ResponseHead): string {
    try {
      return this.responseHead(head);
    } catch (e) {
      if (e instanceof LocalProtocolError) this.cs.error(this.ourRole);
      throw e;
    }
  }

  private responseHead(head: ResponseHead): string {
    this.need("server", "send a response");
    const { status, headers } = head;
    if (!(status >= 200 && status < 600)) {
      throw new LocalProtocolError(`Not a final status: ${status}`);
    }
    if (this.ourState === "IDLE" && this.theirState !== "ERROR") {
      throw new LocalProtocolError("Cannot send a response before a request");
    }
    const method = this.requestMethod ?? "GET";
    const peer = this.theirHttpVersion ?? "1.1";
    const switching = method === "CONNECT" && status < 300 && this.cs.pendingSwitch === "connect";
    if (switching && this.theirState !== "MIGHT_SWITCH_PROTOCOL") {
      throw new LocalProtocolError("Cannot accept CONNECT before the request has ended");
    }
    const writer = responseWriter(method, status, peer, headers, switching);
    this.writer = writer;
    let extra = writer.addsChunkedHeader === true ? "Transfer-Encoding: chunked\r\n" : "";
    if (writer.closeDelimited === true) this.cs.disableKeepAlive();
    const connection = fieldTokens(headers, "connection");
    if (connection.includes("close") || this.theirState === "ERROR") this.cs.disableKeepAlive();
    this.cs.process("server", switching ? "SwitchAccepted" : "Response");
    this.theyAreWaitingFor100Continue = false;
    if (!switching) {
      if (!this.cs.keepAlive) {
        if (!connection.includes("close")) extra += "Connection: close\r\n";
      } else if (peer === "1.0" && !connection.includes("keep-alive")) {
        extra += "Connection: keep-alive\r\n";
      }
    }
    let reason = head.reason;
    if (reason === undefined) reason = reasonPhrase(status);
    else if (CRLF_CHARS.test(reason)) throw new LocalProtocolError("Invalid reason phrase");
    return `HTTP/1.1 ${status} ${reason}\r\n${headers._serialize()}${extra}\r\n`;
  }

  /** The bytes that carry `data` in the current body. */
  sendData(data: Uint8Array): Uint8Array[] {
    const writer = this.writer;
    if (this.ourState !== "SEND_BODY" || writer === null) {
      this.cs.error(this.ourRole);
      throw new LocalProtocolError(`Cannot send data in state ${this.ourState}`);
    }
    try {
      return writer.write(data);
    } catch (e) {
      if (e instanceof LocalProtocolError) this.cs.error(this.ourRole);
      throw e;
    }
  }

  /** The bytes that end the current body (with `trailers`, for a chunked body). */
  sendEndOfMessage(trailers: Headers | null = null): Uint8Array[] {
    const writer = this.writer;
    if (this.ourState !== "SEND_BODY" || writer === null) {
      this.cs.error(this.ourRole);
      throw new LocalProtocolError(`Cannot end a message in state ${this.ourState}`);
    }
    try {
      const out = writer.end(trailers);
      this.writer = null;
      this.cs.process(this.ourRole, "EndOfMessage");
      return out;
    } catch (e) {
      if (e instanceof LocalProtocolError) this.cs.error(this.ourRole);
      throw e;
    }
  }

  /** Records that we closed our side of the connection. */
  sendConnectionClosed(): void {
    this.step(() => this.cs.process(this.ourRole, "ConnectionClosed"));
  }

  /** Records that our side failed (e.g. we could not finish a response): state `ERROR`. */
  sendFailed(): void {
    this.cs.error(this.ourRole);
  }

  /**
   * Records that the peer failed in a way the engine cannot see (e.g. it was too slow): its
   * state becomes `ERROR`, and `nextEvent()` throws `error` from now on. A server may still
   * answer with an error response.
   */
  receiveFailed(error: RemoteProtocolError): void {
    this.remoteError = error;
    this.cs.error(this.theirRole);
  }

  /** Starts the next request/response cycle; both sides must be `DONE`. */
  startNextCycle(): void {
    try {
      this.cs.startNextCycle();
    } catch (e) {
      this.cs.error(this.ourRole);
      throw e;
    }
    this.reader = null;
    this.readerFraming = null;
    this.writer = null;
    this.requestMethod = null;
    this.bodyReceived = 0;
    this.maxBodySize = this.limits.maxBodySize;
    this.theyAreWaitingFor100Continue = false;
    this.clientIsWaitingFor100Continue = false;
  }
}
