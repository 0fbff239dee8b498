// Idle timeouts: the TimeoutMixin for protocols, TimeoutProtocol/TimeoutFactory for any factory.

import { _globalReactor } from "../internet/_global.js";
import type { Failure } from "../internet/failure.js";
import type { IDelayedCall, IProtocol, IReactorTime, ITransport } from "../internet/interfaces.js";
import { ProtocolWrapper, type WrappedFactory, WrappingFactory } from "./_wrapping.js";

/** What `TimeoutMixin` adds to a protocol. */
export interface ITimeoutMixin {
  /** The idle timeout in seconds, or `null` for none. */
  timeOut: number | null;
  /** The clock timeouts run on (`null`: the global reactor). */
  clock: IReactorTime | null;
  /** Schedules a call on `clock`. */
  callLater(delay: number, fn: () => void): IDelayedCall;
  /** Restarts the countdown (call it whenever there is activity). */
  resetTimeout(): void;
  /** Sets the timeout (`null` cancels it) and returns the previous one. */
  setTimeout(period: number | null): number | null;
  /** Called when the timeout expires. Drops the connection by default. */
  timeoutConnection(): void;
}

type ProtocolClass = abstract new (...args: any[]) => { transport: ITransport | null };

/**
 * Gives a protocol class an idle timeout: `setTimeout(seconds)` starts it, `resetTimeout()`
 * restarts the countdown (call it on activity, e.g. in `dataReceived`), and when it expires
 * `timeoutConnection()` runs, which calls `transport.loseConnection()` unless overridden. Set
 * `clock` (a reactor or `Clock`) to choose the clock; it defaults to the global reactor.
 *
 * @example
 * ```ts
 * class Idle extends TimeoutMixin(LineReceiver) {
 *   override connectionMade() { this.setTimeout(60); }
 *   override dataReceived(data: Buffer) { this.resetTimeout(); super.dataReceived(data); }
 *   override connectionLost(reason: Failure) { this.setTimeout(null); super.connectionLost(reason); }
 * }
 * ```
 */
export function TimeoutMixin<T extends ProtocolClass>(Base: T) {
  abstract class TimeoutMixin extends Base implements ITimeoutMixin {
    timeOut: number | null = null;
    clock: IReactorTime | null = null;
    /** @internal The pending timeout call. */
    _timeoutCall: IDelayedCall | null = null;

    callLater(delay: number, fn: () => void): IDelayedCall {
      return (this.clock ?? _globalReactor<IReactorTime>()).callLater(delay, fn);
    }

    resetTimeout(): void {
      if (this._timeoutCall !== null && this.timeOut !== null && this._timeoutCall.active()) {
        this._timeoutCall.reset(this.timeOut);
      }
    }

    setTimeout(period: number | null): number | null {
      const previous = this.timeOut;
      this.timeOut = period;
      const call = this._timeoutCall;
      if (call?.active()) {
        if (period === null) {
          call.cancel();
          this._timeoutCall = null;
        } else {
          call.reset(period);
        }
      } else if (period !== null) {
        this._timeoutCall = this.callLater(period, () => {
          this._timeoutCall = null;
          this.timeoutConnection();
        });
      }
      return previous;
    }

    timeoutConnection(): void {
      this.transport?.loseConnection();
    }
  }
  return TimeoutMixin;
}

/**
 * Drops a connection that has been idle (nothing read or written) for `timeoutPeriod` seconds;
 * built by `TimeoutFactory`.
 */
export class TimeoutProtocol extends ProtocolWrapper {
  /** The pending timeout, if any. */
  timeoutCall: IDelayedCall | null = null;
  /** The idle timeout in seconds, or `null` for none. */
  timeoutPeriod: number | null = null;

  constructor(factory: TimeoutFactory, wrappedProtocol: IProtocol, timeoutPeriod: number | null) {
    super(factory, wrappedProtocol);
    this.setTimeout(timeoutPeriod);
  }

  /** Sets (or with `null`, cancels) the timeout, starting the countdown again. */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.cancelTimeout();
    this.timeoutPeriod = timeoutPeriod;
    if (timeoutPeriod !== null) {
      this.timeoutCall = (this.factory as TimeoutFactory).callLater(timeoutPeriod, () => {
        this.timeoutCall = null;
        this.timeoutFunc();
      });
    }
  }

  /** Cancels the timeout. */
  cancelTimeout(): void {
    const call = this.timeoutCall;
    this.timeoutCall = null;
    if (call?.active()) call.cancel();
  }

  /** Starts the countdown again. */
  resetTimeout(): void {
    if (this.timeoutCall?.active() && this.timeoutPeriod !== null) {
      this.timeoutCall.reset(this.timeoutPeriod);
    }
  }

  override write(data: Uint8Array | string): void {
    this.resetTimeout();
    super.write(data);
  }

  override writeSequence(data: readonly (Uint8Array | string)[]): void {
    this.resetTimeout();
    super.writeSequence(data);
  }

  override dataReceived(data: Buffer): void {
    this.resetTimeout();
    super.dataReceived(data);
  }

  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /** Called when the timeout expires: closes the connection. */
  timeoutFunc(): void {
    this.loseConnection();
  }
}

/**
 * Wraps a factory so that its connections are dropped after `timeoutPeriod` seconds (30
 * minutes by default) without traffic.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new TimeoutFactory(Factory.forProtocol(Echo), 60));
 * ```
 */
export class TimeoutFactory extends WrappingFactory {
  /** The clock timeouts run on (`null`: the global reactor). */
  clock: IReactorTime | null;

  constructor(
    wrappedFactory: WrappedFactory,
    readonly timeoutPeriod: number | null = 30 * 60,
    options: { clock?: IReactorTime } = {},
  ) {
    super(wrappedFactory);
    this.clock = options.clock ?? null;
  }

  override buildProtocol(
    addr: Parameters<WrappedFactory["buildProtocol"]>[0],
  ): ProtocolWrapper | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    if (wrapped === null) return null;
    return new TimeoutProtocol(this, wrapped, this.timeoutPeriod);
  }

  /** Schedules a call on `clock`. */
  callLater(delay: number, fn: () => void): IDelayedCall {
    return (this.clock ?? _globalReactor<IReactorTime>()).callLater(delay, fn);
  }
}
