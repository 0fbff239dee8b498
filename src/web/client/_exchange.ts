// One request/response exchange of HTTP11ClientProtocol, and the guard around its body producer.

import type { Deferred } from "../../internet/defer.js";
import type { IAddress, IDelayedCall, IProducer, ITransport } from "../../internet/interfaces.js";
import type { IBodyProducer } from "./_producer.js";
import type { Request } from "./_request.js";
import type { _BodySource, Response } from "./_response.js";

/** What an exchange asks of its connection's protocol. @internal */
export interface _ExchangeOwner {
  readonly transport: ITransport | null;
  _current: _Exchange | null;
  _setUserPaused(paused: boolean): void;
  _giveUpBody(exchange: _Exchange): void;
  _consumerAttached(): void;
}

/** Forwards a body producer's flow control, and its stop only once however often it is stopped. @internal */
export class _ProducerGuard implements IProducer {
  stopped = false;
  /** Registered with the transport (from `startProducing` until the body is sent or stopped). */
  registered = false;
  constructor(readonly producer: IBodyProducer) {}
  pauseProducing(): void {
    if (!this.stopped) this.producer.pauseProducing();
  }
  resumeProducing(): void {
    if (!this.stopped) this.producer.resumeProducing();
  }
  stopProducing(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.producer.stopProducing();
  }
}

/** One request/response exchange on a connection. @internal */
export class _Exchange implements _BodySource {
  finished!: Deferred<Response>;
  response: Response | null = null;
  requestDone = false;
  /** Some bytes of a response arrived. */
  receivedAny = false;
  /** The outcome was reported (response failure, body end or cancel): report nothing more. */
  over = false;
  closeDelimited = false;
  guard: _ProducerGuard | null = null;
  /** The head carried `Expect: 100-continue`; the body waits for `100 Continue` or the timer. */
  awaitingContinue = false;
  /** Sends the body anyway when the server stays silent (the expect-continue timeout). */
  continueTimer: IDelayedCall | null = null;

  constructor(
    readonly protocol: _ExchangeOwner,
    readonly request: Request,
  ) {}

  private get live(): boolean {
    return this.protocol._current === this;
  }
  pauseBody(): void {
    if (this.live) this.protocol._setUserPaused(true);
  }
  resumeBody(): void {
    if (this.live) this.protocol._setUserPaused(false);
  }
  stopBody(): void {
    if (this.live) this.protocol._giveUpBody(this);
  }
  bodyConsumerAttached(): void {
    if (this.live) this.protocol._consumerAttached();
  }
  getPeer(): IAddress {
    return (this.protocol.transport as ITransport).getPeer();
  }
  getHost(): IAddress {
    return (this.protocol.transport as ITransport).getHost();
  }
}
