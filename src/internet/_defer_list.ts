// Waiting on several Deferreds at once: DeferredList, gatherResults, race.

import { Deferred } from "./_deferred.js";
import { FirstError, TwistedError } from "./error.js";
import { Failure } from "./failure.js";

/** One entry of a `DeferredList` result: `[true, result]` or `[false, failure]`. */
export type DeferredListEntry<T> = [success: true, result: T] | [success: false, failure: Failure];

/** Options of `DeferredList`. */
export interface DeferredListOptions {
  /** Fire with `[result, index]` as soon as one Deferred succeeds. */
  fireOnOneCallback?: boolean;
  /** Errback with a `FirstError` as soon as one Deferred fails. */
  fireOnOneErrback?: boolean;
  /** Leave `undefined` in failed Deferreds instead of their failure, so none is logged. */
  consumeErrors?: boolean;
}

/** What `DeferredList` accepts: Deferreds, or Promises (wrapped with `Deferred.fromPromise`). */
export type DeferredOrPromise<T> = Deferred<T> | PromiseLike<T>;

function toDeferred<T>(value: DeferredOrPromise<T>): Deferred<T> {
  return value instanceof Deferred ? value : Deferred.fromPromise(value);
}

function cancelDeferredList(list: Deferred<any>): void {
  (list as DeferredListImpl<unknown, unknown>)._cancelAll();
}

function entryCallback(result: unknown, list: DeferredListImpl<unknown, unknown>, index: number) {
  list._entryFired(index, true, result);
  return result;
}

function entryErrback(failure: Failure, list: DeferredListImpl<unknown, unknown>, index: number) {
  list._entryFired(index, false, failure);
  return list.consumeErrors ? undefined : failure;
}

class DeferredListImpl<T, R> extends Deferred<R> {
  /** The entries so far, in the order of the Deferreds given (holes for those not fired). */
  readonly resultList: (DeferredListEntry<T> | undefined)[];
  /** How many of the Deferreds have fired. */
  finishedCount = 0;
  readonly fireOnOneCallback: boolean;
  readonly fireOnOneErrback: boolean;
  readonly consumeErrors: boolean;
  private readonly _deferreds: Deferred<T>[];

  constructor(deferreds: Iterable<DeferredOrPromise<T>>, options: DeferredListOptions = {}) {
    super(cancelDeferredList);
    this._deferreds = Array.from(deferreds, toDeferred);
    this.resultList = new Array(this._deferreds.length).fill(undefined);
    this.fireOnOneCallback = options.fireOnOneCallback ?? false;
    this.fireOnOneErrback = options.fireOnOneErrback ?? false;
    this.consumeErrors = options.consumeErrors ?? false;
    if (this._deferreds.length === 0 && !this.fireOnOneCallback) {
      this.callback(this.resultList as R);
      return;
    }
    for (let i = 0; i < this._deferreds.length; i++) {
      this._deferreds[i]!.addCallbacks(entryCallback, entryErrback, [this, i], [this, i]);
    }
  }

  /** @internal */
  _entryFired(index: number, success: boolean, result: unknown): void {
    this.resultList[index] = [success, result] as DeferredListEntry<T>;
    this.finishedCount++;
    if (this.called) return;
    if (success && this.fireOnOneCallback) {
      this.callback([result, index] as R);
    } else if (!success && this.fireOnOneErrback) {
      this.errback(new Failure(new FirstError(result, index)));
    } else if (this.finishedCount === this.resultList.length) {
      this.callback(this.resultList as R);
    }
  }

  /** @internal */
  _cancelAll(): void {
    for (const d of this._deferreds) d.cancel();
  }
}

/** A `DeferredList`: a Deferred that fires with the outcomes of several Deferreds. */
export type DeferredList<T, R = DeferredListEntry<T>[]> = DeferredListImpl<T, R>;

/** The constructor of `DeferredList`, typed by its options. */
export interface DeferredListConstructor {
  new <T>(
    deferreds: Iterable<DeferredOrPromise<T>>,
    options: DeferredListOptions & { fireOnOneCallback: true },
  ): DeferredList<T, [result: T, index: number]>;
  new <T>(
    deferreds: Iterable<DeferredOrPromise<T>>,
    options?: DeferredListOptions,
  ): DeferredList<T>;
  readonly prototype: DeferredList<unknown, unknown>;
}

/**
 * A Deferred that waits for several Deferreds and fires with `[success, resultOrFailure]` for
 * each, in the order given (at once for an empty list). With `fireOnOneCallback` it fires with
 * `[result, index]` as soon as one succeeds; with `fireOnOneErrback` it errbacks with a
 * `FirstError` as soon as one fails. Each Deferred's own result is left as it was, except
 * failures with `consumeErrors`. Cancelling the list cancels every Deferred in it that has not
 * fired.
 *
 * @example
 * ```ts
 * const results = await new DeferredList([getPage(a), getPage(b)], { consumeErrors: true });
 * for (const [ok, value] of results) console.log(ok ? value : value.getErrorMessage());
 * ```
 */
export const DeferredList = DeferredListImpl as unknown as DeferredListConstructor;

function valuesOf(entries: DeferredListEntry<unknown>[]): unknown[] {
  return entries.map((entry) => entry[1]);
}

/**
 * Waits for all the Deferreds and fires with the list of their results, in order. Errbacks with
 * a `FirstError` (its `subFailure` the failure, its `index` which one) as soon as one fails;
 * with `consumeErrors`, the failures are not left in the failed Deferreds. Cancelling the
 * result cancels all the Deferreds.
 *
 * @example
 * ```ts
 * const [a, b] = await gatherResults([getPage(urlA), getPage(urlB)]);
 * ```
 */
export function gatherResults<const D extends readonly DeferredOrPromise<unknown>[] | []>(
  deferreds: D,
  consumeErrors = false,
): Deferred<{ -readonly [K in keyof D]: Awaited<D[K]> }> {
  const list = new DeferredList<unknown>(deferreds as readonly DeferredOrPromise<unknown>[], {
    fireOnOneErrback: true,
    consumeErrors,
  });
  return list.addCallback(valuesOf) as unknown as Deferred<{
    -readonly [K in keyof D]: Awaited<D[K]>;
  }>;
}

/** Every Deferred given to `race` failed: `failures` says why, in the order given. */
export class FailureGroup extends TwistedError {
  override readonly code: string = "ERR_FAILURE_GROUP";
  /** The failures, one per Deferred. */
  readonly failures: Failure[];
  constructor(failures: Failure[]) {
    super(`All ${failures.length} Deferreds failed`);
    this.failures = failures;
  }
}

/**
 * Fires with `[index, result]` of the first of the Deferreds to succeed, and cancels the others
 * (their cancellation failures are consumed). If all fail, errbacks with a `FailureGroup`.
 * Cancelling the result cancels all the Deferreds.
 *
 * @example
 * ```ts
 * const [which, body] = await race([getPage(mirrorA), getPage(mirrorB)]);
 * ```
 */
export function race<T>(deferreds: Iterable<DeferredOrPromise<T>>): Deferred<[number, T]> {
  const ds = Array.from(deferreds, toDeferred);
  const failures: Failure[] = new Array(ds.length);
  let failed = 0;
  let winner = -1;
  const result = new Deferred<[number, T]>(() => {
    for (const d of ds) d.cancel();
  });
  if (ds.length === 0) {
    result.errback(new FailureGroup([]));
    return result;
  }
  ds.forEach((d, index) => {
    d.addCallbacks(
      (value: T) => {
        if (winner !== -1) return;
        winner = index;
        ds.forEach((other, i) => {
          if (i !== index) other.cancel();
        });
        if (!result.called) result.callback([index, value]);
      },
      (failure: Failure) => {
        failures[index] = failure;
        failed++;
        if (winner === -1 && failed === ds.length && !result.called) {
          result.errback(new FailureGroup(failures));
        }
      },
    );
  });
  return result;
}
