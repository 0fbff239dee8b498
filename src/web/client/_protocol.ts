// HTTP11ClientProtocol: one client connection — sends requests through the HTTP/1.1 engine, delivers responses.

import { Deferred, fail, maybeDeferred } from "../../internet/defer.js";
import {
  CancelledError,
  ConnectionAborted,
  ConnectionDone,
  TimeoutError,
} from "../../internet/error.js";
import { Failure } from "../../internet/failure.js";
import type {
  IConsumer,
  IDelayedCall,
  IProtocol,
  IReactorTime,
  ITCPTransport,
  ITransport,
} from "../../internet/interfaces.js";
import {
  HTTP11Connection,
  type HTTPEvent,
  LocalProtocolError,
  NEED_DATA,
  PAUSED,
  type ResponseReceived,
  responseFraming,
} from "../_http/index.js";
import type { ClientState, HTTP11ClientProtocolOptions } from "./_clientstate.js";
import {
  PotentialDataLoss,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  WrongBodyLength,
} from "./_errors.js";
import { _Exchange, _ProducerGuard } from "./_exchange.js";
import { type BodyLength, UNKNOWN_LENGTH } from "./_producer.js";
import type { Request } from "./_request.js";
import { Response } from "./_response.js";

export type { ClientState, HTTP11ClientProtocolOptions } from "./_clientstate.js";

/** Body bytes kept for a response whose `deliverBody` has not been called before pausing. */
const WAITING_BODY_HIGH_WATER = 64 * 1024;
const EOF = Buffer.alloc(0);

/**
 * The client side of one HTTP/1.1 connection (twisted.web._newclient.HTTP11ClientProtocol):
 * `request(request)` writes a request (head, then the body producer's output, with flow
 * control) and fires with the `Response` once its head has arrived; the body follows through
 * `response.deliverBody`. One request at a time; when a response has ended and the connection
 * may be reused, `quiescentCallback` runs. All HTTP is the engine's (`HTTP11Connection`); this
 * class only moves bytes and events between it, the transport and the response.
 *
 * @example
 * ```ts
 * const proto = new HTTP11ClientProtocol();
 * proto.makeConnection(transport);
 * const response = await proto.request(
 *   new Request("GET", URI.fromString("http://example.com/"), new Headers(), null),
 * );
 * ```
 */
export class HTTP11ClientProtocol implements IProtocol {
  /** The transport, once connected. */
  transport: ITransport | null = null;
  /** Where the connection is. */
  state: ClientState = "QUIESCENT";
  /** Fires (with nothing) when the connection is lost. */
  readonly _disconnectedDeferred = new Deferred<void>();
  /** The exchange in progress. @internal */
  _current: _Exchange | null = null;
  private readonly conn: HTTP11Connection;
  private readonly quiescentCallback: ((p: HTTP11ClientProtocol) => void) | null;
  private readonly readTimeout: number | null;
  private readonly expectContinueTimeout: number;
  private readonly clock: IReactorTime | null;
  private timer: IDelayedCall | null = null;
  private userPaused = false;
  private waitPaused = false;
  private transportPaused = false;
  private draining = false;
  private lostReason: Failure | null = null;

  constructor(options: HTTP11ClientProtocolOptions = {}) {
    this.conn = new HTTP11Connection("client", {
      maxBodySize: Number.POSITIVE_INFINITY,
      ...options.limits,
    });
    this.quiescentCallback = options.quiescentCallback ?? null;
    this.readTimeout = options.readTimeout ?? null;
    this.expectContinueTimeout = options.expectContinueTimeout ?? 1;
    this.clock = options.clock ?? null;
    if (this.readTimeout !== null && this.clock === null) {
      throw new TypeError("HTTP11ClientProtocol needs a clock for readTimeout");
    }
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    (this.transport as Partial<ITCPTransport>).setTcpNoDelay?.(true);
  }

  /**
   * Sends `request` and fires with its `Response` once the response head has arrived. Fails
   * with `RequestNotSent` if the connection is busy or closed, `RequestGenerationFailed` if
   * the body producer failed (or broke its length), `RequestTransmissionFailed` if the
   * connection was lost while sending, `ResponseNeverReceived` if it was lost (or timed out)
   * before any response byte, `ResponseFailed` otherwise.
   *
   * A request with `Expect: 100-continue` and a non-empty body sends its head, then waits for
   * `100 Continue` (other 1xx are skipped) to start the body producer, or sends the body
   * anyway after `expectContinueTimeout`. If a final response (a 417, a 401…) comes first,
   * the body is not sent: its producer is stopped without having started, and the connection
   * is closed after that response, since the server may still expect the body announced.
   *
   * Cancel: cancelling before the response head has arrived stops the body producer, aborts
   * the connection (it is not reused) and fails with `CancelledError`. After that, stop the
   * body through the transport `deliverBody` gives.
   */
  request(request: Request): Deferred<Response> {
    if (this.state !== "QUIESCENT" || this.transport === null) {
      return fail(new RequestNotSent());
    }
    const cycle = new _Exchange(this, request);
    cycle.finished = new Deferred<Response>((d) => this.cancelRequest(cycle, d));
    this._current = cycle;
    this.state = "TRANSMITTING";
    let head: Uint8Array[];
    try {
      head = this.conn.sendRequest(request._head());
    } catch (e) {
      this.generationFailed(cycle, Failure.from(e));
      return cycle.finished;
    }
    this.transport.writeSequence(head);
    const producer = request.bodyProducer;
    if (producer === null) {
      this.requestSent(cycle);
      return cycle.finished;
    }
    cycle.guard = new _ProducerGuard(producer);
    if (
      producer.length !== 0 &&
      // The engine saw `Expect: 100-continue` in the head just sent.
      this.conn.clientIsWaitingFor100Continue &&
      this.waitForContinue(cycle)
    ) {
      return cycle.finished;
    }
    this.startBody(cycle);
    return cycle.finished;
  }

  /** Starts the body producer of `cycle`, registered with the transport for flow control. */
  private startBody(cycle: _Exchange): void {
    const guard = cycle.guard as _ProducerGuard;
    const producer = guard.producer;
    guard.registered = true;
    (this.transport as Partial<ITCPTransport>).registerProducer?.(guard, true);
    const consumer: IConsumer = {
      write: (data) => this.writeBody(cycle, data),
      registerProducer: () => {},
      unregisterProducer: () => {},
    };
    maybeDeferred(() => producer.startProducing(consumer)).addCallbacks(
      () => {
        if (this._current === cycle && !cycle.requestDone && !guard.stopped) {
          this.requestSent(cycle);
        }
      },
      (f: Failure) => {
        if (this._current === cycle && !cycle.requestDone && !guard.stopped) {
          this.generationFailed(cycle, f);
        }
      },
    );
  }

  /** Holds the body of `cycle` back until `100 Continue` or the timeout; false if it cannot wait. */
  private waitForContinue(cycle: _Exchange): boolean {
    const clock = this.clock;
    const seconds = this.expectContinueTimeout;
    if (clock === null || !(seconds > 0)) return false;
    cycle.awaitingContinue = true;
    cycle.continueTimer = clock.callLater(seconds, () => {
      cycle.continueTimer = null;
      this.continueBody(cycle);
    });
    return true;
  }

  /** `100 Continue` arrived, or the wait timed out: send the body now. */
  private continueBody(cycle: _Exchange): void {
    if (!cycle.awaitingContinue) return;
    this.stopWaitingForContinue(cycle);
    if (this._current !== cycle || cycle.over || cycle.guard?.stopped !== false) return;
    this.startBody(cycle);
  }

  private stopWaitingForContinue(cycle: _Exchange): void {
    cycle.awaitingContinue = false;
    if (cycle.continueTimer?.active()) cycle.continueTimer.cancel();
    cycle.continueTimer = null;
  }

  private writeBody(cycle: _Exchange, data: Uint8Array | string): void {
    if (this._current !== cycle || cycle.requestDone || cycle.guard?.stopped) return;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let chunks: Uint8Array[];
    try {
      chunks = this.conn.sendData(bytes);
    } catch (e) {
      this.generationFailed(cycle, this.lengthError(e));
      return;
    }
    this.transport?.writeSequence(chunks);
  }

  private lengthError(e: unknown): Failure {
    if (e instanceof LocalProtocolError) {
      return new Failure(new WrongBodyLength(e.message, { cause: e }));
    }
    return Failure.from(e);
  }

  /** The body (if any) is written: end the message. */
  private requestSent(cycle: _Exchange): void {
    let end: Uint8Array[];
    try {
      end = this.conn.sendEndOfMessage();
    } catch (e) {
      this.generationFailed(cycle, this.lengthError(e));
      return;
    }
    this.unregisterBodyProducer(cycle);
    this.transport?.writeSequence(end);
    cycle.requestDone = true;
    if (this.state === "TRANSMITTING") this.state = "WAITING";
    if (cycle.response === null && !this.userPaused && !this.waitPaused) this.startTimer();
  }

  private unregisterBodyProducer(cycle: _Exchange): void {
    if (cycle.guard === null || !cycle.guard.registered) return;
    cycle.guard.registered = false;
    const transport = this.transport as Partial<ITCPTransport>;
    if (!(transport.disconnected ?? false)) {
      try {
        transport.unregisterProducer?.();
      } catch {
        // Already unregistered by a transport that closed.
      }
    }
  }

  private stopBodyProducer(cycle: _Exchange): void {
    if (cycle.guard === null || cycle.requestDone) return;
    if (!cycle.guard.stopped) {
      this.unregisterBodyProducer(cycle);
      cycle.guard.stopProducing();
    }
  }

  private generationFailed(cycle: _Exchange, reason: Failure): void {
    this.stopBodyProducer(cycle);
    this.report(cycle, new RequestGenerationFailed([reason]));
    this.dropConnection();
  }

  // Receiving -----------------------------------------------------------------------------------

  dataReceived(data: Buffer): void {
    if (this.state === "CLOSING" || this.state === "CONNECTION_LOST") return;
    const cycle = this._current;
    if (cycle === null) {
      // Bytes on an idle connection (a late error page, garbage): it cannot be trusted.
      this.dropConnection();
      return;
    }
    cycle.receivedAny = true;
    this.conn.receiveData(data);
    this.startTimer();
    this.drain();
  }

  /** Takes events from the engine until it needs data, or the reader paused. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const cycle = this._current;
        if (cycle === null || cycle.over || this.userPaused || this.waitPaused) return;
        let ev: HTTPEvent | typeof NEED_DATA | typeof PAUSED;
        try {
          ev = this.conn.nextEvent();
        } catch (e) {
          this.protocolFailed(cycle, Failure.from(e));
          return;
        }
        if (ev === NEED_DATA || ev === PAUSED) return;
        switch (ev.type) {
          case "ResponseReceived":
            this.responseReceived(cycle, ev);
            break;
          case "DataReceived": {
            const response = cycle.response as Response;
            response._bodyDataReceived(ev.data);
            if (
              response._waitingForConsumer &&
              response._bufferedBytes >= WAITING_BODY_HIGH_WATER
            ) {
              this.waitPaused = true;
              this.updateReading();
            }
            break;
          }
          case "MessageEnded":
            this.responseEnded(cycle);
            break;
          case "InformationalResponseReceived":
            if (ev.status === 100) this.continueBody(cycle);
            else if (ev.status === 101) {
              this.protocolFailed(
                cycle,
                new Failure(new Error("Cannot switch protocols: not supported by this client")),
              );
              return;
            }
            break;
          default:
            return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private responseReceived(cycle: _Exchange, ev: ResponseReceived): void {
    if (cycle.awaitingContinue) {
      // Answered before the body: it is never sent, and the connection closes after this.
      this.stopWaitingForContinue(cycle);
      this.stopBodyProducer(cycle);
    }
    const framing = responseFraming(cycle.request.method, ev.status, ev.headers, 502);
    let length: BodyLength = UNKNOWN_LENGTH;
    if (framing.kind === "none") length = 0;
    else if (framing.kind === "length") length = framing.length;
    cycle.closeDelimited = framing.kind === "close";
    const response = new Response(
      {
        version: ["HTTP", 1, ev.version === "1.0" ? 0 : 1],
        code: ev.status,
        phrase: ev.reason,
        headers: ev.headers,
        length,
        request: cycle.request,
      },
      cycle,
    );
    cycle.response = response;
    if (!cycle.finished.called) cycle.finished.callback(response);
  }

  private responseEnded(cycle: _Exchange): void {
    const response = cycle.response as Response;
    cycle.over = true;
    this.stopTimer();
    this.finish_Exchange(cycle);
    const reason = cycle.closeDelimited ? new PotentialDataLoss() : new ResponseDone();
    response._bodyDataFinished(new Failure(reason));
  }

  /** The exchange is over: make the connection ready for another one, or close it. */
  private finish_Exchange(cycle: _Exchange): void {
    this._current = null;
    this.userPaused = false;
    this.waitPaused = false;
    const conn = this.conn;
    const reusable =
      this.state !== "CLOSING" &&
      this.state !== "CONNECTION_LOST" &&
      cycle.requestDone &&
      cycle.request.persistent &&
      conn.ourState === "DONE" &&
      conn.theirState === "DONE" &&
      conn.bufferedLength === 0;
    if (reusable) {
      conn.startNextCycle();
      this.state = "QUIESCENT";
      this.updateReading();
      this.quiescentCallback?.(this);
      return;
    }
    this.stopBodyProducer(cycle);
    if (this.state === "CONNECTION_LOST") return;
    this.state = "CLOSING";
    this.transport?.loseConnection();
  }

  /** The server broke the protocol (or the connection ended mid-message). */
  private protocolFailed(cycle: _Exchange, error: Failure): void {
    const reasons = this.lostReason === null ? [error] : [this.lostReason, error];
    this.stopBodyProducer(cycle);
    this.report(cycle, new ResponseFailed(reasons, cycle.response));
    this.dropConnection();
  }

  /** Reports a failure of `cycle`: to the request's Deferred, or to the body once started. */
  private report(cycle: _Exchange, error: ResponseFailed | RequestGenerationFailed | Error): void {
    if (cycle.over) return;
    cycle.over = true;
    this.stopWaitingForContinue(cycle);
    this.stopTimer();
    if (this._current === cycle) this._current = null;
    const response = cycle.response;
    if (response === null) {
      if (!cycle.finished.called) cycle.finished.errback(error);
      return;
    }
    const failure =
      error instanceof ResponseFailed ? error : new ResponseFailed([new Failure(error)], response);
    response._bodyDataFinished(new Failure(failure));
  }

  private dropConnection(): void {
    if (this.state === "CONNECTION_LOST") return;
    this.state = "CLOSING";
    const transport = this.transport as Partial<ITCPTransport> | null;
    if (transport?.abortConnection !== undefined) transport.abortConnection();
    else transport?.loseConnection?.();
  }

  connectionLost(reason: Failure): void {
    if (this.state === "CONNECTION_LOST") return;
    this.state = "CONNECTION_LOST";
    this.lostReason = reason;
    this.stopTimer();
    const cycle = this._current;
    if (cycle !== null && !cycle.over) {
      if (!cycle.requestDone) {
        this.stopBodyProducer(cycle);
        if (cycle.response === null) {
          this.report(cycle, new RequestTransmissionFailed([reason]));
        }
      }
      if (!cycle.over && cycle.response === null && !cycle.receivedAny) {
        this.report(cycle, new ResponseNeverReceived([reason]));
      } else if (!cycle.over && reason.check(ConnectionDone) === null) {
        this.report(cycle, new ResponseFailed([reason], cycle.response));
      } else if (!cycle.over) {
        // A clean close: it ends a close-delimited body, or cuts a message short.
        this.conn.receiveData(EOF);
        this.drain();
      }
    }
    if (!this._disconnectedDeferred.called) this._disconnectedDeferred.callback(undefined);
  }

  // Flow control of the response body ------------------------------------------------------------

  /** @internal */
  _setUserPaused(paused: boolean): void {
    this.userPaused = paused;
    this.updateReading();
    if (!paused) this.drain();
  }

  /** @internal */
  _consumerAttached(): void {
    if (!this.waitPaused) return;
    this.waitPaused = false;
    this.updateReading();
    this.drain();
  }

  /** The body's reader gave up: abort, and tell it so. @internal */
  _giveUpBody(cycle: _Exchange): void {
    this.stopBodyProducer(cycle);
    this.report(cycle, new ResponseFailed([new Failure(new ConnectionAborted())], cycle.response));
    this.dropConnection();
  }

  private updateReading(): void {
    const want = this.userPaused || this.waitPaused;
    if (want === this.transportPaused) return;
    this.transportPaused = want;
    const transport = this.transport as Partial<ITCPTransport> | null;
    if (transport === null || this.state === "CONNECTION_LOST" || transport.disconnecting) return;
    if (want) {
      transport.pauseProducing?.();
      this.stopTimer();
    } else {
      transport.resumeProducing?.();
      if (this._current !== null) this.startTimer();
    }
  }

  // Cancel and timeout ------------------------------------------------------------------------------

  private cancelRequest(cycle: _Exchange, d: Deferred<Response>): void {
    if (cycle.over) return;
    cycle.over = true;
    this.stopTimer();
    this.stopWaitingForContinue(cycle);
    if (this._current === cycle) this._current = null;
    d.errback(new CancelledError("The request was cancelled"));
    this.stopBodyProducer(cycle);
    this.dropConnection();
  }

  private startTimer(): void {
    const seconds = this.readTimeout;
    const clock = this.clock;
    if (seconds === null || clock === null) return;
    if (this.timer?.active()) {
      this.timer.reset(seconds);
      return;
    }
    this.timer = clock.callLater(seconds, () => this.timedOut(seconds));
  }

  private stopTimer(): void {
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
  }

  private timedOut(seconds: number): void {
    this.timer = null;
    const cycle = this._current;
    if (cycle === null || cycle.over) return;
    const error = new Failure(new TimeoutError(`No data from the server for ${seconds} seconds`));
    this.stopBodyProducer(cycle);
    if (cycle.response === null && !cycle.receivedAny) {
      this.report(cycle, new ResponseNeverReceived([error]));
    } else {
      this.report(cycle, new ResponseFailed([error], cycle.response));
    }
    this.dropConnection();
  }

  /**
   * Closes the connection: at once if idle, else aborting the exchange in progress (which
   * fails with `ConnectionAborted` among its reasons). Fires once the connection is lost.
   * Cancelling it only stops the waiting: the connection is aborted anyway.
   */
  abort(): Deferred<void> {
    const cycle = this._current;
    if (cycle !== null && !cycle.over) {
      this.stopBodyProducer(cycle);
      const aborted = new Failure(new ConnectionAborted());
      this.report(
        cycle,
        cycle.response === null && !cycle.receivedAny
          ? new ResponseNeverReceived([aborted])
          : new ResponseFailed([aborted], cycle.response),
      );
    }
    this.dropConnection();
    return this.whenDisconnected();
  }

  /**
   * A Deferred that fires (with nothing) once the connection is lost. Cancelling it only stops
   * the waiting.
   */
  whenDisconnected(): Deferred<void> {
    const d = new Deferred<void>();
    this._disconnectedDeferred.addCallback(() => {
      d.callback(undefined);
    });
    return d;
  }

  toString(): string {
    return `<HTTP11ClientProtocol ${this.state}>`;
  }
}
