// LoopingCall: calls a function every `interval` seconds, on a fixed grid (task.LoopingCall).

import { Deferred, maybeDeferred } from "./_deferred.js";
import { _globalReactor } from "./_global.js";
import type { Failure } from "./failure.js";
import type { IDelayedCall, IReactorTime } from "./interfaces.js";

/**
 * Calls `fn(...args)` every `interval` seconds. Calls stay on the grid `start time + n ×
 * interval`: a call that runs late does not shift the next ones, and intervals missed entirely
 * (a slow call, a blocked process) are skipped rather than run in a burst. When `fn` returns a
 * Deferred or Promise, the next call waits for it. The Deferred from `start()` fires with the
 * LoopingCall when it is stopped, or errbacks (and the loop stops) when `fn` throws or fails.
 *
 * The clock is `clock` when set; otherwise `LoopingCall.defaultClock`, which the reactor module
 * sets to the global reactor (this module cannot import the reactor without an import cycle);
 * otherwise the globally installed reactor.
 *
 * @example
 * ```ts
 * const heartbeat = new LoopingCall(() => transport.write("PING\r\n"));
 * heartbeat.clock = reactor;
 * heartbeat.start(30).addErrback((f) => log.failure("heartbeat failed", f));
 * // later: heartbeat.stop();
 * ```
 */
export class LoopingCall<A extends unknown[] = any[]> {
  /** The clock used when a LoopingCall's `clock` is not set; the reactor module sets it. */
  static defaultClock: IReactorTime | undefined = undefined;

  /** The function called. */
  readonly f: (...args: A) => unknown;
  /** Its arguments. */
  readonly a: A;
  /** The pending call of `f`, or `null` while `f`'s result is awaited or when stopped. */
  call: IDelayedCall | null = null;
  /** True between `start()` and `stop()` (or a failure of `f`). */
  running = false;
  /** The interval in seconds, as given to `start()`. */
  interval: number | undefined = undefined;
  /** When the loop (or the last `reset()`) started, in seconds on the clock. */
  starttime: number | undefined = undefined;
  private _clock: IReactorTime | undefined = undefined;
  private _deferred: Deferred<this> | null = null;
  private _runAtStart = false;
  /** When a `withCount` function was last called. */
  private _realLastTime: number | undefined = undefined;

  constructor(fn: (...args: A) => unknown, ...args: A) {
    this.f = fn;
    this.a = args;
  }

  /**
   * A LoopingCall calling `countCallable(count)`, where `count` is the number of intervals
   * elapsed since the last call (more than 1 when intervals were skipped; 1 when the interval
   * is 0).
   *
   * @example
   * ```ts
   * const lc = LoopingCall.withCount((n) => { frames += n; });
   * ```
   */
  static withCount(countCallable: (count: number) => unknown): LoopingCall<[]> {
    const lc: LoopingCall<[]> = new LoopingCall(() => lc._countIntervals(countCallable));
    return lc;
  }

  /** The clock the calls are scheduled on (see the class description for the default). */
  get clock(): IReactorTime {
    return this._clock ?? LoopingCall.defaultClock ?? _globalReactor<IReactorTime>();
  }

  set clock(clock: IReactorTime) {
    this._clock = clock;
  }

  /** The Deferred returned by `start()`, while it has not fired. */
  get deferred(): Deferred<this> | null {
    return this._deferred;
  }

  /**
   * Starts calling `f` every `interval` seconds, the first time at once if `now` (else after one
   * interval). Raises if already running or if `interval` is negative. The Deferred fires with
   * this LoopingCall once stopped, or errbacks with the failure of `f`.
   */
  start(interval: number, now = true): Deferred<this> {
    if (this.running) throw new Error("Tried to start an already running LoopingCall");
    if (!(interval >= 0)) throw new RangeError(`Interval must be >= 0, got ${interval}`);
    this.running = true;
    const d = new Deferred<this>();
    this._deferred = d;
    this.starttime = this.clock.seconds();
    this.interval = interval;
    this._runAtStart = now;
    this._realLastTime = undefined;
    if (now) this._tick();
    else this._scheduleFrom(this.starttime);
    return d;
  }

  /**
   * Stops the loop; raises if it is not running. The Deferred from `start()` fires now, or, if
   * `f`'s Deferred is being waited for, once that fires.
   */
  stop(): void {
    if (!this.running) throw new Error("Tried to stop a LoopingCall that was not running");
    this.running = false;
    if (this.call !== null) {
      this.call.cancel();
      this.call = null;
      this._fire();
    }
  }

  /** Restarts the interval grid from now: the next call is one interval from now. */
  reset(): void {
    if (!this.running) throw new Error("Tried to reset a LoopingCall that was not running");
    if (this.call !== null) {
      this.call.cancel();
      this.call = null;
      this.starttime = this.clock.seconds();
      this._scheduleFrom(this.starttime);
    }
  }

  /** `<LoopingCall every 5s: fn>`. */
  toString(): string {
    return `<LoopingCall every ${this.interval ?? "?"}s: ${this.f.name || "anonymous"}>`;
  }

  private readonly _tick = (): void => {
    this.call = null;
    maybeDeferred(this.f, ...this.a)
      .addCallback(() => {
        if (this.running) this._scheduleFrom(this.clock.seconds());
        else this._fire();
      })
      .addErrback((failure: Failure) => {
        this.running = false;
        const d = this._deferred;
        this._deferred = null;
        d?.errback(failure);
      });
  };

  private _fire(): void {
    const d = this._deferred;
    this._deferred = null;
    d?.callback(this);
  }

  /** Schedules the next call at the first grid point after `when`. */
  private _scheduleFrom(when: number): void {
    const interval = this.interval!;
    let delay = 0;
    if (interval > 0) {
      const runningFor = when - this.starttime!;
      delay = interval - (runningFor % interval);
      // Too small to move a large `when` at all (float rounding): wait a full interval.
      if (when === when + delay) delay = interval;
    }
    this.call = this.clock.callLater(delay, this._tick);
  }

  private _intervalOf(t: number): number {
    return Math.trunc((t - this.starttime!) / this.interval!);
  }

  private _countIntervals(countCallable: (count: number) => unknown): unknown {
    const now = this.clock.seconds();
    if (this.interval === 0) {
      this._realLastTime = now;
      return countCallable(1);
    }
    let last = this._realLastTime;
    if (last === undefined) {
      last = this.starttime!;
      if (this._runAtStart) last -= this.interval!;
    }
    const count = this._intervalOf(now) - this._intervalOf(last);
    if (count > 0) {
      this._realLastTime = now;
      return countCallable(count);
    }
    return undefined;
  }
}
