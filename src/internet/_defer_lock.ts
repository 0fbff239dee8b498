// Coordination with Deferreds: DeferredLock, DeferredSemaphore, DeferredQueue.

import { Deferred, maybeDeferred } from "./_deferred.js";
import { TwistedError } from "./error.js";
import type { Failure } from "./failure.js";

/** `DeferredQueue.put` was called on a full queue. */
export class QueueOverflow extends TwistedError {
  override readonly code: string = "ERR_QUEUE_OVERFLOW";
  constructor(message = "Queue is full", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `DeferredQueue.get` was called while the backlog of waiting getters is full. */
export class QueueUnderflow extends TwistedError {
  override readonly code: string = "ERR_QUEUE_UNDERFLOW";
  constructor(
    message = "Too many getters are waiting on the queue",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the lock and the semaphore share: a queue of waiters and `run`. */
abstract class ConcurrencyPrimitive {
  /** The Deferreds of `acquire()` calls still waiting, in order. */
  readonly waiting: Deferred<this>[] = [];

  /** Acquires; the Deferred fires with the primitive once acquired. */
  abstract acquire(): Deferred<this>;
  /** Releases what one `acquire()` obtained. */
  abstract release(): void;

  /** A waiting Deferred whose cancellation removes it from the queue. */
  protected _wait(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => {
      const i = this.waiting.indexOf(cancelled);
      if (i !== -1) this.waiting.splice(i, 1);
    });
    this.waiting.push(d);
    return d;
  }

  /**
   * Acquires, calls `fn(...args)`, and releases once its result (a value, Deferred or Promise)
   * is there, success or failure. The Deferred fires with that result. Cancelling it while
   * waiting to acquire removes it from the queue and `fn` is never called.
   *
   * @example
   * ```ts
   * lock.run(async () => appendToFile(line));
   * ```
   */
  run<R, A extends unknown[]>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Deferred<R> {
    return this.acquire().addCallback(() =>
      maybeDeferred(fn, ...args).addBoth((result: R | Failure) => {
        this.release();
        return result as R;
      }),
    );
  }
}

/**
 * A lock for code that runs across several callbacks: at most one holder at a time, waiters
 * served in order. The Deferred from `acquire()` fires with the lock once it is held;
 * cancelling a waiting `acquire()` removes it from the queue.
 *
 * @example
 * ```ts
 * const lock = new DeferredLock();
 * await lock.acquire();
 * try { await writeRecord(); } finally { lock.release(); }
 * ```
 */
export class DeferredLock extends ConcurrencyPrimitive {
  /** True while someone holds the lock. */
  locked = false;

  /** Takes the lock: at once if it is free, else once released by the holders before. */
  acquire(): Deferred<this> {
    if (this.locked) return this._wait();
    this.locked = true;
    const d = new Deferred<this>();
    d.callback(this);
    return d;
  }

  /** Releases the lock, handing it to the first waiter if any. Raises if it is not held. */
  release(): void {
    if (!this.locked) throw new Error("Tried to release an unlocked lock");
    this.locked = false;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.locked = true;
      next.callback(this);
    }
  }
}

/**
 * A semaphore: at most `tokens` holders at a time, waiters served in order.
 *
 * @example
 * ```ts
 * const sem = new DeferredSemaphore(4);
 * await gatherResults(urls.map((u) => sem.run(getPage, u))); // 4 requests at a time
 * ```
 */
export class DeferredSemaphore extends ConcurrencyPrimitive {
  /** How many more holders may acquire now. */
  tokens: number;
  /** The number of tokens the semaphore was created with. */
  readonly limit: number;

  constructor(tokens: number) {
    super();
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(`DeferredSemaphore requires tokens >= 1, got ${tokens}`);
    }
    this.tokens = tokens;
    this.limit = tokens;
  }

  /** True when no token is left. */
  get locked(): boolean {
    return this.tokens === 0;
  }

  /** Takes a token: at once if one is left, else once one is released. */
  acquire(): Deferred<this> {
    if (this.tokens === 0) return this._wait();
    this.tokens--;
    const d = new Deferred<this>();
    d.callback(this);
    return d;
  }

  /** Gives a token back, handing it to the first waiter if any. Raises if none is taken. */
  release(): void {
    if (this.tokens >= this.limit) {
      throw new Error("Tried to release a semaphore more times than it was acquired");
    }
    this.tokens++;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.tokens--;
      next.callback(this);
    }
  }
}

/**
 * A queue whose `get()` returns a Deferred that fires when an item is there. `size` bounds the
 * items held (then `put` raises `QueueOverflow`), `backlog` the getters waiting (then `get`
 * raises `QueueUnderflow`); both are unbounded when omitted. Cancelling a waiting `get()`
 * removes it from the queue; no item is lost.
 *
 * @example
 * ```ts
 * const q = new DeferredQueue<string>();
 * q.get().addCallback((line) => console.log(line));
 * q.put("hello"); // prints "hello"
 * ```
 */
export class DeferredQueue<T> {
  /** Items put and not yet taken. */
  readonly pending: T[] = [];
  /** Deferreds of `get()` calls waiting for an item, in order. */
  readonly waiting: Deferred<T>[] = [];
  /** The most items held at once, or `undefined` for no limit. */
  readonly size: number | undefined;
  /** The most waiting getters, or `undefined` for no limit. */
  readonly backlog: number | undefined;

  constructor(size?: number, backlog?: number) {
    this.size = size;
    this.backlog = backlog;
  }

  /** Gives `item` to the first waiting getter, or keeps it; raises `QueueOverflow` when full. */
  put(item: T): void {
    const getter = this.waiting.shift();
    if (getter !== undefined) {
      getter.callback(item);
    } else if (this.size === undefined || this.pending.length < this.size) {
      this.pending.push(item);
    } else {
      throw new QueueOverflow();
    }
  }

  /** The next item, as a Deferred; raises `QueueUnderflow` when the backlog is full. */
  get(): Deferred<T> {
    if (this.pending.length > 0) {
      const d = new Deferred<T>();
      d.callback(this.pending.shift() as T);
      return d;
    }
    if (this.backlog !== undefined && this.waiting.length >= this.backlog) {
      throw new QueueUnderflow();
    }
    const d = new Deferred<T>((cancelled) => {
      const i = this.waiting.indexOf(cancelled);
      if (i !== -1) this.waiting.splice(i, 1);
    });
    this.waiting.push(d);
    return d;
  }
}
