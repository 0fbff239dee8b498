// HTTPChannel: the thin protocol adapter between a transport and the HTTP/1.1 engine, serving Requests.

import { Failure } from "../internet/failure.js";
import type {
  IDelayedCall,
  IProducer,
  IProtocol,
  IPushProducer,
  ITCPTransport,
} from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import type { IContentStore } from "./_content.js";
import { Headers } from "./_headers.js";
import { HTTP11Connection } from "./_http/_connection.js";
import { LocalProtocolError, RemoteProtocolError } from "./_http/_errors.js";
import { type HTTPEvent, NEED_DATA, PAUSED } from "./_http/_events.js";
import type { HTTPLimits } from "./_http/_parse.js";
import { reasonPhrase } from "./_http/_status.js";
import type { IRequestChannel, IRequestSite, Request } from "./_request.js";
import { datetimeToString } from "./_request_util.js";
import { errorPageHTML } from "./_resource.js";

const log = new Logger("twisted-ts.web.http");

type Latin1Writer = { latin1Write?: (s: string, offset: number) => number };
const fastLatin1 = (Buffer.prototype as unknown as Latin1Writer).latin1Write;

/** Writes `s` (one byte per character) at the start of `buf`; `buf.write(s, 0, "latin1")`, faster. */
function latin1Write(buf: Buffer, s: string): number {
  return fastLatin1 === undefined ? buf.write(s, 0, "latin1") : fastLatin1.call(buf, s, 0);
}

/** What a channel needs from its site. `Site` implements it. */
export interface IChannelSite extends IRequestSite {
  /** Seconds of silence (waiting for a request or for body bytes) before closing; `null` never. */
  readonly timeout: number | null;
  /** Seconds to receive a whole request head before 408; `null` never. */
  readonly headerTimeout: number | null;
  readonly limits: Partial<HTTPLimits>;
  readonly contentStore: IContentStore;
  /** Makes the request object of each request. */
  requestFactory(channel: HTTPChannel): Request;
  /** The largest body accepted for `request` (before it is traversed). */
  maxBodySizeFor(request: Request): number;
}

/**
 * The server side of an HTTP/1.1 connection: feeds bytes to an `HTTP11Connection`, makes a
 * `Request` for each request, writes responses in order (pipelined requests wait), enforces the
 * timeouts on the site's clock, answers protocol errors with their status and closes.
 *
 * It is the transport's streaming producer and passes pause/resume on to the producer a
 * request registered, so a slow client slows the response down instead of filling memory.
 * `Site.buildProtocol` makes channels; you rarely touch one directly.
 */
export class HTTPChannel extends Protocol implements IPushProducer, IRequestChannel {
  /** The site (set by `Site.buildProtocol`). */
  site!: IChannelSite;
  /** The request being served, if any. */
  request: Request | null = null;
  private conn: HTTP11Connection | null = null;
  private idleTimer: IDelayedCall | null = null;
  /** The idle timer counts (no response is being made). */
  private idleOn = false;
  /** When the connection times out if nothing arrives (reactor seconds). */
  private idleDeadline = 0;
  /** Set when `armIdle` ran (see `dataReceived`). */
  private idleArmed = false;
  /** Set when a request head is taken from the engine (see `dataReceived`). */
  private headReceived = false;
  private headerTimer: IDelayedCall | null = null;
  private blockedTimer: IDelayedCall | null = null;
  private pullCall: IDelayedCall | null = null;
  private producer: IProducer | null = null;
  private producerStreaming = false;
  private writePaused = false;
  private readPaused = false;
  private registered = false;
  private closing = false;
  private processing = false;
  private upgraded: IProtocol | null = null;

  override connectionMade(): void {
    this.conn = new HTTP11Connection("server", this.site.limits);
    const t = this.transport as Partial<ITCPTransport>;
    // Responses are written whole or in deliberate pieces: Nagle would only delay them.
    t.setTcpNoDelay?.(true);
    if (typeof t.registerProducer === "function") {
      t.registerProducer(this, true);
      this.registered = true;
    }
    this.armIdle();
  }

  override dataReceived(data: Buffer): void {
    if (this.upgraded !== null) {
      this.upgraded.dataReceived(data);
      return;
    }
    if (this.closing || this.conn === null) return;
    this.conn.receiveData(data);
    // Any bytes before a request head (blank lines included) start the header clock, so a
    // client trickling empty lines cannot hold the connection forever. It is started after
    // processing (at the same reactor time), only when these bytes did not complete a head:
    // a timer made and cancelled for every request would cost more than the request.
    const waitingForHead = this.conn.theirState === "IDLE";
    this.headReceived = false;
    this.idleArmed = false;
    this.process();
    // Activity moves the idle deadline, unless a response finished meanwhile and re-armed it.
    if (this.idleOn && !this.idleArmed)
      this.idleDeadline = this.site.reactor.seconds() + (this.site.timeout as number);
    if (waitingForHead && !this.headReceived && !this.closing && this.upgraded === null)
      this.startHeaderTimer();
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.cancelTimers();
    this.closing = true;
    if (this.upgraded !== null) {
      this.upgraded.connectionLost(reason);
      return;
    }
    const request = this.request;
    this.request = null;
    this.producer = null;
    request?._connectionLost(reason);
  }

  // Events ---------------------------------------------------------------------------------------

  /** Takes events from the engine until it needs data or waits for a response. */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closing && this.conn !== null && this.upgraded === null) {
        let ev: HTTPEvent | typeof NEED_DATA | typeof PAUSED;
        try {
          ev = this.conn.nextEvent();
        } catch (e) {
          if (!(e instanceof RemoteProtocolError)) throw e;
          this.protocolError(e);
          return;
        }
        if (ev === NEED_DATA) {
          this.needData();
          return;
        }
        if (ev === PAUSED) {
          // Pipelined requests wait in the engine; stop reading if too many pile up.
          if (this.conn.bufferedLength > this.pipelineLimit() && !this.readPaused) {
            this.readPaused = true;
            (this.transport as Partial<ITCPTransport>).pauseProducing?.();
          }
          return;
        }
        this.handle(ev);
      }
    } finally {
      this.processing = false;
    }
  }

  private pipelineLimit(): number {
    return 4 * (this.conn?.limits.maxHeaderSize ?? 16384);
  }

  private needData(): void {
    const conn = this.conn as HTTP11Connection;
    if (conn.theyAreWaitingFor100Continue && conn.ourState === "SEND_RESPONSE") {
      this.transport?.writeSequence(conn.sendInformationalResponse({ status: 100 }));
    }
    if (conn.theirState === "IDLE" && conn.bufferedLength > 0) this.startHeaderTimer();
  }

  private startHeaderTimer(): void {
    const t = this.site.headerTimeout;
    if (t !== null && this.headerTimer === null) {
      this.headerTimer = this.site.reactor.callLater(t, () => this.timedOut("header"));
    }
  }

  private handle(ev: HTTPEvent): void {
    switch (ev.type) {
      case "RequestReceived": {
        this.headReceived = true;
        this.headerTimer?.cancel();
        this.headerTimer = null;
        const expects = ev.headers._get("expect");
        const expect = expects === undefined ? null : (expects[expects.length - 1] as string);
        if (expect !== null && expect.toLowerCase() !== "100-continue") {
          const error = new RemoteProtocolError(`Unsupported expectation: ${expect}`, 417);
          (this.conn as HTTP11Connection).receiveFailed(error);
          this.protocolError(error);
          return;
        }
        const request = this.site.requestFactory(this);
        request._gotHead(ev.method, ev.target, ev.version, ev.headers);
        this.request = request;
        const conn = this.conn as HTTP11Connection;
        conn.setMaxBodySize(this.site.maxBodySizeFor(request));
        const lengths = ev.headers._get("content-length");
        const cl = lengths === undefined ? Number.NaN : Number(lengths[lengths.length - 1]);
        request.content = this.site.contentStore.create(Number.isFinite(cl) ? cl : null);
        return;
      }
      case "DataReceived":
        if (this.request !== null && !this.request.finished) this.request.content.write(ev.data);
        return;
      case "MessageEnded": {
        const request = this.request;
        // The response is being made now: silence is no longer the client's fault.
        this.cancelIdle();
        if (request === null || request.finished) {
          this.responseDone();
          return;
        }
        request._bodyReceived();
        return;
      }
      case "ConnectionClosed":
        this.closeConnection();
        return;
      default:
        return;
    }
  }

  /** Answers a protocol error with its status (if no response has started) and closes. */
  private protocolError(e: RemoteProtocolError): void {
    log.info("Bad request from {peer}: {error}", {
      peer: String(this.transport?.getPeer()),
      error: e.message,
    });
    const conn = this.conn as HTTP11Connection;
    const request = this.request;
    this.request = null;
    if (request !== null && !request.finished) request._connectionLost(new Failure(e));
    if (conn.ourState === "IDLE" || conn.ourState === "SEND_RESPONSE")
      this.sendErrorPage(e.status, e.message);
    this.closeConnection();
  }

  private sendErrorPage(status: number, detail: string): void {
    const conn = this.conn as HTTP11Connection;
    const body = Buffer.from(errorPageHTML(status, reasonPhrase(status), detail), "utf8");
    const headers = new Headers({
      Date: datetimeToString(this.site.reactor.seconds()),
      "Content-Type": "text/html; charset=utf-8",
      "Content-Length": String(body.length),
      Connection: "close",
    });
    try {
      this.transport?.writeSequence([
        ...conn.sendResponse({ status, headers }),
        ...conn.sendData(body),
        ...conn.sendEndOfMessage(),
      ]);
    } catch (err) {
      if (!(err instanceof LocalProtocolError)) throw err;
    }
  }

  // Timeouts -------------------------------------------------------------------------------------

  // The idle timer is lazy: activity only moves `idleDeadline`, and a response in progress only
  // clears `idleOn`; the one timer, when it fires early, re-arms for the rest of the time.
  // Resetting or re-creating a timer for every request would cost more than the request.

  private armIdle(): void {
    const t = this.site.timeout;
    if (t === null || this.closing) return;
    this.idleOn = true;
    this.idleArmed = true;
    this.idleDeadline = this.site.reactor.seconds() + t;
    const timer = this.idleTimer;
    if (timer === null || !timer.active())
      this.idleTimer = this.site.reactor.callLater(t, this.idleFired);
    else if (timer.getTime() > this.idleDeadline) timer.reset(t);
  }

  private readonly idleFired = (): void => {
    this.idleTimer = null;
    if (!this.idleOn || this.closing) return;
    const left = this.idleDeadline - this.site.reactor.seconds();
    if (left > 1e-6) {
      this.idleTimer = this.site.reactor.callLater(left, this.idleFired);
      return;
    }
    this.idleOn = false;
    this.timedOut("idle");
  };

  private cancelIdle(): void {
    this.idleOn = false;
  }

  private cancelTimers(): void {
    this.idleOn = false;
    if (this.idleTimer?.active()) this.idleTimer.cancel();
    this.idleTimer = null;
    for (const t of [this.headerTimer, this.blockedTimer, this.pullCall])
      if (t?.active()) t.cancel();
    this.headerTimer = null;
    this.blockedTimer = null;
    this.pullCall = null;
  }

  private timedOut(which: "idle" | "header"): void {
    if (which === "idle") this.idleTimer = null;
    else this.headerTimer = null;
    const conn = this.conn as HTTP11Connection;
    const midRequest =
      (conn.theirState === "IDLE" && conn.bufferedLength > 0) || conn.theirState === "SEND_BODY";
    if (which === "header" || midRequest) {
      log.info("Timing out {peer}: request not received in time", {
        peer: String(this.transport?.getPeer()),
      });
      const error = new RemoteProtocolError("Request not received in time", 408);
      conn.receiveFailed(error);
      this.protocolError(error);
      return;
    }
    this.closeConnection();
  }

  // IRequestChannel --------------------------------------------------------------------------------

  /** @internal */
  writeHead(request: Request, status: number, reason: string, headers: Headers): void {
    const conn = this.conn;
    if (request !== this.request || conn === null) return;
    let head: string;
    try {
      head = conn._responseHead({ status, reason, headers });
    } catch (e) {
      this.sendFailed(e);
    }
    // Held back until the first body bytes or the end, so that both leave in one segment.
    this.pendingHead = head;
  }

  /** @internal */
  writeBody(request: Request, data: Uint8Array): void {
    const conn = this.conn;
    if (request !== this.request || conn === null) return;
    let chunks: Uint8Array[];
    try {
      chunks = conn.sendData(data);
    } catch (e) {
      this.sendFailed(e);
    }
    this.send(chunks);
    if (this.producer !== null && !this.producerStreaming) this.schedulePull();
  }

  /** @internal */
  endResponse(request: Request): void {
    const conn = this.conn;
    if (request !== this.request || conn === null) return;
    let chunks: Uint8Array[];
    try {
      chunks = conn.sendEndOfMessage();
    } catch (e) {
      this.sendFailed(e);
    }
    this.send(chunks);
    this.request = null;
    this.producer = null;
    this.responseDone();
  }

  /** The engine refused to send: log, close, and rethrow to the writer. */
  private sendFailed(e: unknown): never {
    if (!(e instanceof LocalProtocolError)) throw e;
    log.failure("Cannot send the response", new Failure(e));
    this.pendingHead = null;
    this.closeConnection(true);
    throw e;
  }

  /** Writes `chunks`, after the response head if it is still held back. */
  private send(chunks: Uint8Array[]): void {
    const t = this.transport;
    const head = this.pendingHead;
    this.pendingHead = null;
    if (t === null) return;
    const pieces = chunks.length + (head === null ? 0 : 1);
    if (pieces === 0) return;
    if (pieces === 1 && head === null) {
      t.write(chunks[0] as Uint8Array);
      return;
    }
    let total = head === null ? 0 : head.length;
    for (const c of chunks) total += c.length;
    if (total > 16 * 1024) {
      if (head !== null) t.write(Buffer.from(head, "latin1"));
      t.writeSequence(chunks);
      return;
    }
    // A small response is cheaper as one buffer than as a gathered write; the head (latin1,
    // a byte per character) is written straight into it.
    const out = Buffer.allocUnsafe(total);
    let at = head === null ? 0 : latin1Write(out, head);
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    t.write(out);
  }

  /** The response head (latin1) held back to be written with the first body bytes. */
  private pendingHead: string | null = null;

  /** The response is complete: go on with the next request, or close. */
  private responseDone(): void {
    const conn = this.conn as HTTP11Connection;
    if (this.closing) return;
    if (conn.ourState !== "DONE" || conn.theirState !== "DONE") {
      if (
        conn.theirState === "SEND_BODY" ||
        conn.ourState === "MUST_CLOSE" ||
        conn.theirState === "MUST_CLOSE"
      ) {
        this.closeConnection();
      }
      return;
    }
    conn.startNextCycle();
    if (this.readPaused) {
      this.readPaused = false;
      (this.transport as Partial<ITCPTransport>).resumeProducing?.();
    }
    this.armIdle();
    this.process();
  }

  /** @internal */
  registerProducer(request: Request, producer: IProducer, streaming: boolean): void {
    this.producer = producer;
    this.producerStreaming = streaming;
    if (streaming) {
      if (this.writePaused) (producer as IPushProducer).pauseProducing();
    } else {
      this.schedulePull();
    }
  }

  /** @internal */
  unregisterProducer(request: Request): void {
    this.producer = null;
    if (this.pullCall?.active()) this.pullCall.cancel();
    this.pullCall = null;
  }

  private schedulePull(): void {
    if (this.writePaused || this.pullCall !== null) return;
    this.pullCall = this.site.reactor.callLater(0, () => {
      this.pullCall = null;
      const p = this.producer;
      if (p !== null && !this.producerStreaming && !this.writePaused)
        (p as IPushProducer).resumeProducing();
    });
  }

  /** @internal */
  switchProtocols(request: Request, protocol: IProtocol, headers: Headers): void {
    const conn = this.conn as HTTP11Connection;
    if (!headers.hasHeader("connection")) headers.setRawHeaders("Connection", ["Upgrade"]);
    const head = conn.sendInformationalResponse({ status: 101, headers });
    this.transport?.writeSequence(head);
    this.request = null;
    this.cancelTimers();
    if (this.registered) {
      (this.transport as ITCPTransport).unregisterProducer();
      this.registered = false;
    }
    const { data } = conn.trailingData;
    this.upgraded = protocol;
    protocol.makeConnection(this.transport!);
    if (data.length > 0) protocol.dataReceived(data);
  }

  // IPushProducer (the transport's flow control) ---------------------------------------------------

  /** The transport's buffer is full: pause the response's producer. */
  pauseProducing(): void {
    if (this.writePaused) return;
    this.writePaused = true;
    if (this.producer !== null && this.producerStreaming)
      (this.producer as IPushProducer).pauseProducing();
    const t = this.site.timeout;
    if (t !== null && this.blockedTimer === null) {
      // A client that stops reading must not hold the connection (and the response) forever.
      this.blockedTimer = this.site.reactor.callLater(t, () => {
        this.blockedTimer = null;
        log.info("Aborting {peer}: the client stopped reading", {
          peer: String(this.transport?.getPeer()),
        });
        (this.transport as Partial<ITCPTransport>).abortConnection?.();
      });
    }
  }

  /** The transport drained: resume the response's producer. */
  resumeProducing(): void {
    if (!this.writePaused) return;
    this.writePaused = false;
    if (this.blockedTimer?.active()) this.blockedTimer.cancel();
    this.blockedTimer = null;
    const p = this.producer;
    if (p === null) return;
    if (this.producerStreaming) (p as IPushProducer).resumeProducing();
    else this.schedulePull();
  }

  /** The transport is going away. */
  stopProducing(): void {
    const p = this.producer;
    this.producer = null;
    p?.stopProducing();
  }

  /** Closes after pending writes (`abort` discards them). @internal */
  closeConnection(abort = false): void {
    if (this.closing) return;
    this.closing = true;
    this.cancelTimers();
    const t = this.transport as Partial<ITCPTransport> | null;
    if (t === null) return;
    if (this.registered) {
      this.registered = false;
      t.unregisterProducer?.();
    }
    if (abort && typeof t.abortConnection === "function") t.abortConnection();
    else t.loseConnection?.();
  }
}
