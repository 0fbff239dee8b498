// Response: a received response head, with its body delivered to a protocol; readBody.

import { Deferred } from "../../internet/defer.js";
import { CancelledError } from "../../internet/error.js";
import { Failure } from "../../internet/failure.js";
import type { IAddress, IProtocol, IPushProducer, ITransport } from "../../internet/interfaces.js";
import type { Headers } from "../_headers.js";
import { PartialDownloadError, PotentialDataLoss, ResponseDone } from "./_errors.js";
import type { BodyLength } from "./_producer.js";

/** An HTTP version as Twisted gives it: `["HTTP", 1, 1]`. */
export type HTTPVersionTuple = readonly ["HTTP", number, number];

/** What a response knows of the request it answers (twisted.web.iweb.IClientRequest). */
export interface IClientRequest {
  /** The request method. */
  readonly method: string;
  /** The absolute URI requested. */
  readonly absoluteURI: string;
  /** The request headers as sent. */
  readonly headers: Headers;
}

/**
 * A response (twisted.web.iweb.IResponse): its head is there; its body comes through
 * `deliverBody(protocol)`, which gives the protocol a transport (to pause, resume or stop the
 * body), the body's bytes with `dataReceived`, and then `connectionLost(reason)` once with
 * `ResponseDone` (complete), `PotentialDataLoss` (ended with the connection, no length) or
 * `ResponseFailed` (cut short; its `reasons` say why).
 */
export interface IResponse {
  /** The HTTP version of the response, e.g. `["HTTP", 1, 1]`. */
  readonly version: HTTPVersionTuple;
  /** The status code. */
  readonly code: number;
  /** The reason phrase. */
  readonly phrase: string;
  /** The response headers. */
  readonly headers: Headers;
  /** The body's length in bytes, or `UNKNOWN_LENGTH` (chunked, close-delimited, decoded). */
  readonly length: BodyLength;
  /** The request this response answers. */
  readonly request: IClientRequest | null;
  /** The response that redirected to this one (set by `RedirectAgent`), or `null`. */
  readonly previousResponse: IResponse | null;
  /** Sets `previousResponse`. */
  setPreviousResponse(response: IResponse): void;
  /** Delivers the body to `protocol` (once). */
  deliverBody(protocol: IProtocol): void;
}

/**
 * The connection side of a response body: what the body's transport asks of the client
 * protocol.
 * @internal
 */
export interface _BodySource {
  pauseBody(): void;
  resumeBody(): void;
  /** Gives the body up: the connection is aborted. */
  stopBody(): void;
  /** A protocol is now there to take the body. */
  bodyConsumerAttached(): void;
  getPeer(): IAddress;
  getHost(): IAddress;
}

/**
 * The transport a body protocol gets from `deliverBody` (Twisted's `TransportProxyProducer`):
 * it can pause, resume and stop the body; it cannot be written to.
 */
export class ResponseBodyTransport implements ITransport, IPushProducer {
  private source: _BodySource | null;

  constructor(source: _BodySource) {
    this.source = source;
  }

  /** Stops reading the body (the server is slowed down by TCP). */
  pauseProducing(): void {
    this.source?.pauseBody();
  }

  /** Reads the body again after `pauseProducing`. */
  resumeProducing(): void {
    this.source?.resumeBody();
  }

  /**
   * Gives the body up: the connection is aborted and the protocol's `connectionLost` gets a
   * `ResponseFailed` (unless the body had already ended).
   */
  stopProducing(): void {
    this.source?.stopBody();
  }

  /** The same as `stopProducing()`. */
  loseConnection(): void {
    this.stopProducing();
  }

  /** The same as `stopProducing()`. */
  abortConnection(): void {
    this.stopProducing();
  }

  /** Raises: a response body is read-only. */
  write(_data: Uint8Array | string): void {
    throw new Error("Cannot write to a response body");
  }

  /** Raises: a response body is read-only. */
  writeSequence(_data: readonly (Uint8Array | string)[]): void {
    throw new Error("Cannot write to a response body");
  }

  getPeer(): IAddress {
    return (this.source as _BodySource).getPeer();
  }

  getHost(): IAddress {
    return (this.source as _BodySource).getHost();
  }

  /** Forgets the connection once the body has ended: later calls do nothing. @internal */
  _disconnect(): void {
    this.source = null;
  }
}

/** The parts of a `Response`. */
export interface ResponseInit {
  version: HTTPVersionTuple;
  code: number;
  phrase: string;
  headers: Headers;
  length: BodyLength;
  request: IClientRequest | null;
}

/**
 * A response received by `HTTP11ClientProtocol` (what `Agent.request` fires with). Body bytes
 * that arrive before `deliverBody` is called wait here (the connection is paused meanwhile,
 * so that little waits); a body that has already ended is delivered at once.
 *
 * @example
 * ```ts
 * const response = await agent.request("GET", "http://example.com/");
 * console.log(response.code, response.phrase, response.headers.getRawHeaders("content-type"));
 * const body = await readBody(response);
 * ```
 */
export class Response implements IResponse {
  readonly version: HTTPVersionTuple;
  readonly code: number;
  readonly phrase: string;
  readonly headers: Headers;
  readonly length: BodyLength;
  readonly request: IClientRequest | null;
  previousResponse: IResponse | null = null;
  private readonly source: _BodySource;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private protocol: IProtocol | null = null;
  private transport: ResponseBodyTransport | null = null;
  private endReason: Failure | null = null;
  private delivered = false;
  private finished = false;

  constructor(init: ResponseInit, source: _BodySource) {
    this.version = init.version;
    this.code = init.code;
    this.phrase = init.phrase;
    this.headers = init.headers;
    this.length = init.length;
    this.request = init.request;
    this.source = source;
  }

  setPreviousResponse(response: IResponse): void {
    this.previousResponse = response;
  }

  /**
   * Delivers the body to `protocol`: `makeConnection` with a `ResponseBodyTransport`, the bytes
   * received so far and then as they come, and `connectionLost` once. Raises if called twice.
   */
  deliverBody(protocol: IProtocol): void {
    if (this.delivered) throw new Error("Cannot deliver a response body twice");
    this.delivered = true;
    this.protocol = protocol;
    const transport = new ResponseBodyTransport(this.source);
    this.transport = transport;
    protocol.makeConnection(transport);
    const waiting = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    for (const chunk of waiting) {
      if (this.finished) return;
      protocol.dataReceived(chunk);
    }
    if (this.endReason !== null) this.finish(this.endReason);
    else this.source.bodyConsumerAttached();
  }

  /** True until `deliverBody` was called. @internal */
  get _waitingForConsumer(): boolean {
    return !this.delivered;
  }

  /** How many body bytes wait for `deliverBody`. @internal */
  get _bufferedBytes(): number {
    return this.bufferedBytes;
  }

  /** Body bytes arrived. @internal */
  _bodyDataReceived(data: Buffer): void {
    if (this.endReason !== null) return;
    if (this.protocol === null) {
      this.buffered.push(data);
      this.bufferedBytes += data.length;
    } else {
      this.protocol.dataReceived(data);
    }
  }

  /** The body ended: `reason` wraps `ResponseDone`, `PotentialDataLoss` or `ResponseFailed`. @internal */
  _bodyDataFinished(reason: Failure): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    if (this.protocol !== null) this.finish(reason);
  }

  private finish(reason: Failure): void {
    if (this.finished) return;
    this.finished = true;
    this.transport?._disconnect();
    const protocol = this.protocol as IProtocol;
    protocol.connectionLost(reason);
  }

  toString(): string {
    return `<Response ${this.code} ${this.phrase}>`;
  }
}

/** Collects a body; fires `done` with it (see `readBody`). */
class BodyCollector implements IProtocol {
  transport: ITransport | null = null;
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly done: Deferred<Buffer>,
    private readonly response: IResponse,
  ) {}

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {}

  dataReceived(data: Buffer): void {
    // Body bytes are views that stay valid (the engine never reuses handed-out bytes): no copy.
    if (!this.done.called) this.chunks.push(data);
  }

  connectionLost(reason: Failure): void {
    if (this.done.called) return;
    const body = Buffer.concat(this.chunks);
    if (reason.check(ResponseDone) !== null) this.done.callback(body);
    else if (reason.check(PotentialDataLoss) !== null) {
      this.done.errback(new PartialDownloadError(this.response.code, this.response.phrase, body));
    } else this.done.errback(reason);
  }
}

/**
 * Reads a whole response body into one Buffer. Fails with the body's `ResponseFailed` if it
 * was cut short, and — as Twisted does — with `PartialDownloadError` (holding the bytes read,
 * in `response`) for a body that ended with the connection without a length.
 *
 * Cancel: cancelling the Deferred aborts the connection (nothing of it is left open or
 * reused) and fails it with `CancelledError`.
 *
 * @example
 * ```ts
 * const response = await agent.request("GET", url);
 * const text = (await readBody(response)).toString("utf8");
 * ```
 */
export function readBody(response: IResponse): Deferred<Buffer> {
  let collector: BodyCollector | null = null;
  const d = new Deferred<Buffer>((self) => {
    self.errback(new CancelledError("Reading the response body was cancelled"));
    const transport = collector?.transport as Partial<IPushProducer> | null | undefined;
    transport?.stopProducing?.();
  });
  collector = new BodyCollector(d, response);
  response.deliverBody(collector);
  return d;
}

/**
 * Reads and drops a body (so that its connection can be reused); fires when it has ended,
 * whatever the outcome. @internal
 */
export function _discardBody(response: IResponse): Deferred<void> {
  const d = new Deferred<void>();
  response.deliverBody({
    makeConnection() {},
    connectionMade() {},
    dataReceived() {},
    connectionLost() {
      d.callback(undefined);
    },
  });
  return d;
}

/** A Failure of `ResponseDone`, for a body that ended normally. @internal */
export function _responseDone(): Failure {
  return new Failure(new ResponseDone());
}
