// Deferred: Twisted's synchronous callback/errback chain, awaitable like a Promise.

import { Logger } from "../logger/index.js";
import { AlreadyCalledError, CancelledError, TimeoutError } from "./error.js";
import { Failure } from "./failure.js";
import type { IReactorTime } from "./interfaces.js";

type AnyFunction = (...args: any[]) => unknown;

const log = new Logger("twisted-ts.internet.defer");

/**
 * Marks, in a chain, the place where a Deferred hands its result to the Deferred that is waiting
 * for it (the one whose callback returned it). Never called.
 */
function CONTINUE(): void {}

let debugging = false;

/**
 * Turns the recording of creation and firing stack traces on or off for Deferreds created from
 * now on. The traces appear in `AlreadyCalledError` messages and in "Unhandled error in Deferred"
 * logs. Costs a stack capture per Deferred: for debugging only.
 */
export function setDebugging(on: boolean): void {
  debugging = on;
}

/** Whether Deferreds record creation and firing stack traces (see `setDebugging`). */
export function getDebugging(): boolean {
  return debugging;
}

/** Stack traces recorded for a Deferred while debugging is on. */
interface DebugInfo {
  creator: string | undefined;
  invoker: string | undefined;
}

function stackHere(): string {
  return (new Error().stack ?? "").split("\n").slice(3).join("\n");
}

/** What the finalization registry keeps for a Deferred left holding an unhandled Failure. */
type UnhandledRecord = Failure | { failure: Failure; debug: DebugInfo };

function reportUnhandled(record: UnhandledRecord): void {
  const failure = record instanceof Failure ? record : record.failure;
  if (failure._handled) return;
  if (record instanceof Failure) {
    log.failure("Unhandled error in Deferred:", failure);
  } else {
    log.failure(
      "Unhandled error in Deferred:\n(debug: created at:\n{createdAt}\nfirst fired at:\n{firedAt})",
      failure,
      undefined,
      { createdAt: record.debug.creator, firedAt: record.debug.invoker },
    );
  }
}

const unhandledRegistry = new FinalizationRegistry<UnhandledRecord>(reportUnhandled);

/**
 * `value instanceof Failure`, with a cheap test first: most results are not objects, and
 * `instanceof` on them can take V8's slow path (e.g. under tsx, whose `__name` wrapping puts
 * classes in dictionary mode).
 */
function isFailure(value: unknown): value is Failure {
  return typeof value === "object" && value !== null && value instanceof Failure;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

// Observers used by `then`: they see the result without changing it. Module-level so that
// `then` allocates no closure per chain entry.
function resolveObserver(result: unknown, resolve: (value: unknown) => void): unknown {
  resolve(result);
  return result;
}

function rejectObserver(failure: Failure, reject: (reason: unknown) => void): Failure {
  failure._handled = true;
  reject(failure.value);
  return failure;
}

function chainCallback(result: unknown, other: Deferred<unknown>): void {
  other.callback(result);
}

function chainErrback(failure: Failure, other: Deferred<unknown>): void {
  other.errback(failure);
}

/**
 * A result that is not there yet: Twisted's Deferred. Callbacks and errbacks are added in pairs
 * to a chain; when the Deferred fires (`callback(value)` or `errback(error)`), the result goes
 * down the chain synchronously, each callback's return value becoming the next one's input. A
 * callback that throws switches the chain to the errback path; an errback that returns switches
 * it back. A callback that returns a Deferred (or any Promise) pauses the chain until that one
 * fires, and its result carries on down this chain.
 *
 * A Deferred is `PromiseLike`: `await d` gives the result (or throws the failure's original
 * error) without changing the chain. A failure that no errback ever handles is logged as
 * "Unhandled error in Deferred:" when the Deferred is garbage-collected.
 *
 * @example
 * ```ts
 * const d = new Deferred<number>();
 * d.addCallback((n) => n * 2)
 *   .addCallback((n) => console.log("got", n))
 *   .addErrback((f: Failure) => console.error(f.getErrorMessage()));
 * d.callback(21); // prints "got 42" before returning
 * ```
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  /** True once `callback` or `errback` has been called (or the Deferred was cancelled). */
  called = false;
  /** How many times `pause()` was called without `unpause()` (plus one while waiting). */
  paused = 0;
  /**
   * The current result: what the next callback will receive. A `Failure` on the errback path,
   * the awaited Deferred while the chain waits for one. Meaningful only once `called`.
   */
  result: unknown = undefined;
  /** Flat chain: [callback, errback, callbackArgs, errbackArgs] per entry. */
  private _chain: unknown[] = [];
  /** Index in `_chain` of the next entry to run. */
  private _pos = 0;
  // `any`: a canceller-typed field would make Deferred invariant in T.
  private _canceller: ((d: Deferred<any>) => void) | undefined;
  private _runningCallbacks = false;
  /** Set when cancelled without a canceller: the producer's later call is silently ignored. */
  private _suppressAlreadyCalled = false;
  /** The Failure registered for an "unhandled error" report, if any. */
  private _unhandled: Failure | undefined = undefined;
  private _debug: DebugInfo | undefined = undefined;

  /**
   * @param canceller called by `cancel()` before the Deferred has fired; it should stop the
   *   work and may fire the Deferred itself. If it does not, the Deferred errbacks with
   *   `CancelledError`.
   */
  constructor(canceller?: (d: Deferred<T>) => void) {
    this._canceller = canceller;
    if (debugging) this._debug = { creator: stackHere(), invoker: undefined };
  }

  /**
   * Fires the Deferred with a successful result, running the callbacks at once. Raises
   * `AlreadyCalledError` if it has already fired (unless it was cancelled without a canceller,
   * in which case the late result is dropped). A Promise given as the result is waited for.
   * Returns the Deferred.
   */
  callback(result: T): this {
    if (typeof result === "object" && result !== null && result instanceof Deferred) {
      throw new TypeError("Cannot fire a Deferred with a Deferred: return it from a callback");
    }
    if (this._startFiring()) {
      this.result = result;
      if (isThenable(result)) this._waitFor(Deferred.fromPromise(result));
      this._runCallbacks();
    }
    return this;
  }

  /**
   * Fires the Deferred with a failure, running the errbacks at once. `fail` is wrapped in a
   * `Failure` unless it is one; without an argument, the failure wraps a generic Error. Raises
   * `AlreadyCalledError` if the Deferred has already fired. Returns the Deferred.
   */
  errback(fail?: unknown): this {
    if (this._startFiring()) {
      this.result = fail instanceof Failure ? fail : new Failure(fail);
      this._runCallbacks();
    }
    return this;
  }

  /** Checks that the Deferred may fire now; false when a late result must be dropped. */
  private _startFiring(): boolean {
    if (this.called) {
      if (this._suppressAlreadyCalled) {
        this._suppressAlreadyCalled = false;
        return false;
      }
      throw this._alreadyCalledError();
    }
    this.called = true;
    if (this._debug !== undefined) this._debug.invoker = stackHere();
    return true;
  }

  private _alreadyCalledError(): AlreadyCalledError {
    const info = this._debug;
    if (info === undefined) return new AlreadyCalledError();
    return new AlreadyCalledError(
      `Deferred was already called: created at:\n${info.creator}\nfirst fired at:\n${info.invoker}\nfired again at:\n${stackHere()}`,
    );
  }

  /**
   * Adds a callback and an errback at the same level of the chain: only one of them runs, so
   * the errback does not see failures raised by the callback. `null` passes the result through.
   * Extra arguments are passed after the result.
   */
  addCallbacks<U = T, V = never, A extends unknown[] = [], B extends unknown[] = []>(
    callback: ((result: T, ...args: A) => U | PromiseLike<U>) | null,
    errback?: ((failure: Failure, ...args: B) => V | PromiseLike<V>) | null,
    callbackArgs?: A,
    errbackArgs?: B,
  ): Deferred<U | V> {
    this._chain.push(
      callback,
      errback ?? null,
      callbackArgs !== undefined && callbackArgs.length > 0 ? callbackArgs : undefined,
      errbackArgs !== undefined && errbackArgs.length > 0 ? errbackArgs : undefined,
    );
    if (this.called) this._runCallbacks();
    return this as unknown as Deferred<U | V>;
  }

  /**
   * Adds a callback: `fn(result, ...args)` runs on success and its return value (or the result
   * of the Deferred/Promise it returns) becomes the new result. Failures pass by it.
   *
   * @example
   * ```ts
   * getPage(url).addCallback((body) => body.length).addCallback(console.log);
   * ```
   */
  addCallback<U, A extends unknown[] = []>(
    fn: (result: T, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<U> {
    this._chain.push(fn, null, args.length > 0 ? args : undefined, undefined);
    if (this.called) this._runCallbacks();
    return this as unknown as Deferred<U>;
  }

  /**
   * Adds an errback: `fn(failure, ...args)` runs on failure. Returning a value recovers (the
   * chain goes back to callbacks); throwing (e.g. `failure.trap(...)` not matching) keeps the
   * chain on the errback path. Successful results pass by it.
   */
  addErrback<U = never, A extends unknown[] = []>(
    fn: (failure: Failure, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<T | U> {
    this._chain.push(null, fn, undefined, args.length > 0 ? args : undefined);
    if (this.called) this._runCallbacks();
    return this as unknown as Deferred<T | U>;
  }

  /** Adds `fn` as both callback and errback: it receives the result or the `Failure`. */
  addBoth<U, A extends unknown[] = []>(
    fn: (result: T | Failure, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<U> {
    const extra = args.length > 0 ? args : undefined;
    this._chain.push(fn, fn, extra, extra);
    if (this.called) this._runCallbacks();
    return this as unknown as Deferred<U>;
  }

  /**
   * Makes `other` fire with this Deferred's result (success or failure) when it reaches this
   * point of the chain; the result here becomes `undefined`. Returns this Deferred.
   */
  chainDeferred(other: Deferred<T>): Deferred<void> {
    return this.addCallbacks(chainCallback, chainErrback, [other], [other]) as Deferred<void>;
  }

  /** Stops the chain from running until `unpause()`; results wait in the Deferred. */
  pause(): void {
    this.paused++;
  }

  /** Undoes one `pause()`; the chain carries on when no pause is left. */
  unpause(): void {
    if (this.paused === 0) return;
    this.paused--;
    if (this.paused === 0 && this.called) this._runCallbacks();
  }

  /**
   * Cancels the operation. Before the Deferred fires, this calls the canceller; if there is
   * none or it did not fire the Deferred, the Deferred errbacks with `CancelledError` (and a
   * result that the operation delivers later is dropped). After it fired, while the chain waits
   * for another Deferred returned by a callback, that Deferred is cancelled instead. Otherwise
   * it does nothing.
   */
  cancel(): void {
    if (!this.called) {
      const canceller = this._canceller;
      if (canceller !== undefined) canceller(this);
      else this._suppressAlreadyCalled = true;
      if (!this.called) this.errback(new Failure(new CancelledError()));
    } else if (this.result instanceof Deferred) {
      this.result.cancel();
    }
  }

  /**
   * Cancels this Deferred if it has not fired within `seconds` on `clock`. A timeout turns the
   * `CancelledError` into a `TimeoutError`; `onTimeoutCancel(result, seconds)` may translate the
   * result differently instead. If the Deferred fires first, the timer is cancelled.
   *
   * @example
   * ```ts
   * agent.request("GET", url).addTimeout(30, reactor).addErrback((f) => f.trap(TimeoutError));
   * ```
   */
  addTimeout(
    seconds: number,
    clock: IReactorTime,
    onTimeoutCancel?: (result: T | Failure, seconds: number) => unknown,
  ): Deferred<T> {
    let timedOut = false;
    const call = clock.callLater(seconds, () => {
      timedOut = true;
      this.cancel();
    });
    return this.addBoth((result) => {
      if (call.active()) call.cancel();
      if (!timedOut) return result;
      if (onTimeoutCancel !== undefined) return onTimeoutCancel(result, seconds);
      if (result instanceof Failure && result.check(CancelledError) !== null) {
        throw new Failure(new TimeoutError(`Deferred timed out after ${seconds} seconds`));
      }
      return result;
    }) as Deferred<T>;
  }

  /**
   * Promise-style access to the result: returns a native Promise that settles with the result
   * (or rejects with the failure's original error, marking the failure as handled). The
   * Deferred's own chain is not changed, so a Deferred may be awaited more than once.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const p = this.asPromise();
    if (onFulfilled == null && onRejected == null) return p as Promise<R1 | R2>;
    return p.then(onFulfilled, onRejected);
  }

  /** Like `then()` without handlers: a native Promise of the result. */
  asPromise(): Promise<T> {
    if (
      this.called &&
      this.paused === 0 &&
      !this._runningCallbacks &&
      this._pos === this._chain.length
    ) {
      // Idle with a result: no need to go through the chain.
      const result = this.result;
      if (!(result instanceof Failure)) return Promise.resolve(result as T);
      result._handled = true;
      return Promise.reject(result.value);
    }
    return new Promise<T>((resolve, reject) => {
      this._chain.push(resolveObserver, rejectObserver, [resolve], [reject]);
      if (this.called) this._runCallbacks();
    });
  }

  /** Same as `then(undefined, onRejected)`. */
  catch<R = never>(onRejected: (reason: any) => R | PromiseLike<R>): Promise<T | R> {
    return this.asPromise().catch(onRejected);
  }

  /**
   * Wraps a Promise (or any PromiseLike) in a Deferred. Cancelling the Deferred cannot stop the
   * Promise: it errbacks with `CancelledError` at once and the Promise's outcome is dropped.
   * A Deferred is returned as it is.
   *
   * @example
   * ```ts
   * const d = Deferred.fromPromise(fetch(url).then((r) => r.text()));
   * ```
   */
  static fromPromise<T>(promise: PromiseLike<T>): Deferred<T> {
    if (promise instanceof Deferred) return promise as Deferred<T>;
    const d = new Deferred<T>();
    promise.then(
      (value) => {
        if (!d.called) d.callback(value);
      },
      (reason: unknown) => {
        if (!d.called) d.errback(reason);
      },
    );
    return d;
  }

  /** Alias of `fromPromise`, for the Promise returned by an async function. */
  static fromCoroutine<T>(promise: PromiseLike<T>): Deferred<T> {
    return Deferred.fromPromise(promise);
  }

  /** A short description: `<Deferred current result: …>`. */
  toString(): string {
    if (!this.called) return "<Deferred>";
    if (this.result instanceof Deferred) return "<Deferred waiting on Deferred>";
    return `<Deferred current result: ${String(this.result)}>`;
  }

  /** Makes this Deferred's chain wait for `inner`, which hands its result over when it fires. */
  private _waitFor(inner: Deferred<unknown>): void {
    this.paused++;
    this.result = inner;
    inner._chain.push(CONTINUE, CONTINUE, this, this);
  }

  /**
   * Runs the chain until it is exhausted or paused. Deferreds returned by callbacks are
   * followed with an explicit stack instead of recursion, so long chains of Deferreds cannot
   * overflow the call stack.
   */
  private _runCallbacks(): void {
    if (this._runningCallbacks) return;
    let current: Deferred<any> = this;
    // Deferreds to come back to after a Deferred they were feeding has run its chain.
    let stack: Deferred<any>[] | undefined;
    for (;;) {
      const chain = current._chain;
      let next: Deferred<any> | undefined;
      while (current.paused === 0 && current._pos < chain.length) {
        const i = current._pos;
        current._pos = i + 4;
        let result = current.result;
        const failed = isFailure(result);
        const fn = chain[failed ? i + 1 : i] as AnyFunction | null;
        if (fn === null) continue;
        const args = chain[failed ? i + 3 : i + 2] as unknown[] | undefined;
        if (fn === CONTINUE) {
          // Hand the result to the Deferred that waits for this one, and run its chain next.
          const outer = args as unknown as Deferred<any>;
          current.result = undefined;
          outer.result = result;
          if (--outer.paused === 0 && !outer._runningCallbacks) {
            next = outer;
            break;
          }
          continue;
        }
        current._runningCallbacks = true;
        try {
          result = args === undefined ? fn(result) : fn(result, ...args);
        } catch (e) {
          result = e instanceof Failure ? e : new Failure(e);
        }
        current._runningCallbacks = false;
        if (isThenable(result)) {
          const inner = result instanceof Deferred ? result : Deferred.fromPromise(result);
          if (inner === current) {
            result = new Failure(new TypeError("A callback returned the Deferred it was added to"));
          } else if (
            inner.called &&
            inner.paused === 0 &&
            !inner._runningCallbacks &&
            inner._pos >= inner._chain.length
          ) {
            // Already fired and idle: take its result now.
            result = inner.result;
            inner.result = undefined;
            inner._forgetUnhandled();
          } else {
            current._waitFor(inner);
            if (inner.called && inner.paused === 0 && !inner._runningCallbacks) {
              // It has a result but callbacks still to run: run them now.
              next = inner;
              break;
            }
            continue;
          }
        }
        current.result = result;
      }
      if (next !== undefined) {
        (stack ??= []).push(current);
        current = next;
        continue;
      }
      if (current._pos >= chain.length && current._pos > 0) {
        // Cheapest ways to empty it (setting `length` is a slow runtime call): pop one or two
        // entries, or start a new array.
        if (chain.length <= 8) while (chain.length > 0) chain.pop();
        else current._chain = [];
        current._pos = 0;
      }
      current._trackUnhandled();
      if (stack === undefined || stack.length === 0) return;
      current = stack.pop()!;
    }
  }

  /** Registers (or unregisters) this Deferred for an "unhandled error" report at collection. */
  private _trackUnhandled(): void {
    const result = this.result;
    if (isFailure(result)) {
      if (this._unhandled === result) return;
      if (this._unhandled !== undefined) unhandledRegistry.unregister(this);
      this._unhandled = result;
      const record: UnhandledRecord =
        this._debug === undefined ? result : { failure: result, debug: this._debug };
      unhandledRegistry.register(this, record, this);
    } else if (this._unhandled !== undefined) {
      this._forgetUnhandled();
    }
  }

  private _forgetUnhandled(): void {
    if (this._unhandled !== undefined) {
      unhandledRegistry.unregister(this);
      this._unhandled = undefined;
    }
  }
}

/**
 * A Deferred that has already fired with `value`.
 *
 * @example
 * ```ts
 * function getUser(id: string): Deferred<User> {
 *   const cached = cache.get(id);
 *   return cached ? succeed(cached) : fetchUser(id);
 * }
 * ```
 */
export function succeed<T>(value: T): Deferred<T> {
  const d = new Deferred<T>();
  d.callback(value);
  return d;
}

/** A Deferred that has already failed with `error` (wrapped in a `Failure` unless it is one). */
export function fail<T = never>(error?: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(error);
  return d;
}

/**
 * Calls `fn(...args)` and gives its outcome as a Deferred: a Deferred result is returned as it is,
 * a Promise is adopted, a thrown error (or a returned `Failure`) becomes a failed Deferred, any
 * other value a fired one.
 *
 * @example
 * ```ts
 * maybeDeferred(handler.process, request).addBoth(sendResponse);
 * ```
 */
export function maybeDeferred<R, A extends unknown[]>(
  fn: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R> {
  let result: R | PromiseLike<R>;
  try {
    result = fn(...args);
  } catch (e) {
    return fail<R>(e);
  }
  if (result instanceof Deferred) return result as Deferred<R>;
  if (result instanceof Failure) return fail<R>(result);
  if (isThenable(result)) return Deferred.fromPromise(result);
  return succeed(result);
}

/**
 * Gives a Deferred for a Deferred (itself), a Promise, or an async function (which is called).
 * Raises `TypeError` for anything else.
 *
 * @example
 * ```ts
 * const d = ensureDeferred(async () => (await readBody(response)).toString());
 * ```
 */
export function ensureDeferred<T>(
  value: PromiseLike<T> | (() => T | PromiseLike<T>),
): Deferred<Awaited<T>> {
  if (typeof value === "function") return maybeDeferred(value) as Deferred<Awaited<T>>;
  if (isThenable(value)) return Deferred.fromPromise(value) as Deferred<Awaited<T>>;
  throw new TypeError(
    `Expected a Deferred, a Promise or an async function, got ${Object.prototype.toString.call(value)}`,
  );
}
