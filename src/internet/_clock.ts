// Clock and DelayedCall: deterministic, manually advanced time for tests (task.Clock).

import { AlreadyCalled, AlreadyCancelled } from "./error.js";
import type { IDelayedCall, IReactorTime } from "./interfaces.js";

/**
 * A call scheduled to run at a given time, as `callLater` returns it. It knows nothing of how
 * time passes: its owner (a `Clock`, the reactor) keeps the schedule, is told of cancels and
 * reschedules through the `canceller` and `resetter` callbacks, and runs the call by setting
 * `called = true` and calling `func(...args)`.
 *
 * @example
 * ```ts
 * const call = new DelayedCall(now() + 5, fn, [], (c) => schedule.delete(c), (c) => resort(), now);
 * ```
 */
export class DelayedCall implements IDelayedCall {
  /** When the call is due, in seconds on its owner's clock. */
  time: number;
  /** The function to call. */
  readonly func: (...args: any[]) => unknown;
  /** The arguments to call it with. */
  readonly args: readonly unknown[];
  /** Set by the owner just before it runs the call. */
  called = false;
  /** Set once `cancel()` has succeeded. */
  cancelled = false;
  private readonly canceller: (call: DelayedCall) => void;
  private readonly resetter: (call: DelayedCall) => void;
  private readonly now: () => number;

  /**
   * @param time when the call is due (absolute, in seconds on the owner's clock)
   * @param func the function to call
   * @param args its arguments
   * @param canceller called by `cancel()`: the owner drops the call from its schedule
   * @param resetter called by `reset()`/`delay()` after `time` has changed: the owner
   *   reschedules the call
   * @param seconds the owner's current time, used by `reset()`
   */
  constructor(
    time: number,
    func: (...args: any[]) => unknown,
    args: readonly unknown[],
    canceller: (call: DelayedCall) => void,
    resetter: (call: DelayedCall) => void,
    seconds: () => number,
  ) {
    this.time = time;
    this.func = func;
    this.args = args;
    this.canceller = canceller;
    this.resetter = resetter;
    this.now = seconds;
  }

  /** When the call is due, in seconds. */
  getTime(): number {
    return this.time;
  }

  /** Cancels the call; raises `AlreadyCalled` or `AlreadyCancelled` if it is too late. */
  cancel(): void {
    this.checkActive();
    this.cancelled = true;
    this.canceller(this);
  }

  /** Runs the call `secondsFromNow` seconds from now instead. */
  reset(secondsFromNow: number): void {
    this.checkActive();
    this.time = this.now() + secondsFromNow;
    this.resetter(this);
  }

  /** Runs the call `secondsLater` seconds later than planned. */
  delay(secondsLater: number): void {
    this.checkActive();
    this.time += secondsLater;
    this.resetter(this);
  }

  /** True until the call has run or been cancelled. */
  active(): boolean {
    return !(this.called || this.cancelled);
  }

  private checkActive(): void {
    if (this.cancelled) throw new AlreadyCancelled();
    if (this.called) throw new AlreadyCalled();
  }

  /** `<DelayedCall fn at 12.000 (called|cancelled)>`. */
  toString(): string {
    const state = this.called ? " called" : this.cancelled ? " cancelled" : "";
    return `<DelayedCall ${this.func.name || "anonymous"} at ${this.time.toFixed(3)}${state}>`;
  }
}

/**
 * A clock whose time moves only when told to: `advance(seconds)` runs the calls that are then
 * due. Give it to code under test in place of the reactor.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * let fired = false;
 * clock.callLater(5, () => { fired = true; });
 * clock.advance(4.9); // not yet
 * clock.advance(0.1); // fired === true
 * ```
 */
export class Clock implements IReactorTime {
  /** The current time, in seconds (starts at 0). */
  rightNow = 0;
  /** The pending calls, in the order they will run. */
  private calls: DelayedCall[] = [];

  private readonly removeCall = (call: DelayedCall): void => {
    const i = this.calls.indexOf(call);
    if (i !== -1) this.calls.splice(i, 1);
  };

  private readonly sortCalls = (): void => {
    // Array.prototype.sort is stable: calls due at the same time keep their order.
    this.calls.sort((a, b) => a.time - b.time);
  };

  private readonly now = (): number => this.rightNow;

  /** The current time, in seconds. */
  seconds(): number {
    return this.rightNow;
  }

  /** Schedules `fn(...args)` to run `delay` seconds from now (after calls due before or then). */
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    const call = new DelayedCall(
      this.rightNow + delay,
      fn as (...args: any[]) => unknown,
      args,
      this.removeCall,
      this.sortCalls,
      this.now,
    );
    const calls = this.calls;
    let i = calls.length;
    while (i > 0 && calls[i - 1]!.time > call.time) i--;
    calls.splice(i, 0, call);
    return call;
  }

  /** The calls not yet run or cancelled, in the order they will run. */
  getDelayedCalls(): DelayedCall[] {
    return this.calls.slice();
  }

  /**
   * Moves time forward by `amount` seconds and runs every call due by then, in time order
   * (calls due at the same time in the order they were scheduled), including calls scheduled
   * while advancing that are already due. An error thrown by a call propagates.
   */
  advance(amount: number): void {
    this.rightNow += amount;
    const calls = this.calls;
    while (calls.length > 0 && calls[0]!.time <= this.rightNow) {
      const call = calls.shift()!;
      call.called = true;
      call.func(...call.args);
    }
  }

  /** Advances by each of `timings` in turn. */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }
}
