// Cooperator: runs many iterators a little at a time, sharing the event loop (task.Cooperator).

import { Deferred } from "./_deferred.js";
import { TwistedError } from "./error.js";
import { Failure } from "./failure.js";

/** Base of the errors of cooperative scheduling. */
export class SchedulerError extends TwistedError {
  override readonly code: string = "ERR_SCHEDULER";
}

/** The Cooperator was stopped: its tasks end with this. */
export class SchedulerStopped extends SchedulerError {
  override readonly code: string = "ERR_SCHEDULER_STOPPED";
  constructor(message = "The cooperator was stopped") {
    super(message);
  }
}

/** A task has finished; raised by `pause()`/`stop()` on it. Subclasses say how. */
export class TaskFinished extends SchedulerError {
  override readonly code: string = "ERR_TASK_FINISHED";
  constructor(message = "The task has finished") {
    super(message);
  }
}

/** The task's iterator was exhausted. */
export class TaskDone extends TaskFinished {
  override readonly code: string = "ERR_TASK_DONE";
  constructor(message = "The task is done") {
    super(message);
  }
}

/** The task was stopped with `stop()`: `whenDone()` Deferreds errback with this. */
export class TaskStopped extends TaskFinished {
  override readonly code: string = "ERR_TASK_STOPPED";
  constructor(message = "The task was stopped") {
    super(message);
  }
}

/** The task's iterator threw, or a Deferred it yielded failed. */
export class TaskFailed extends TaskFinished {
  override readonly code: string = "ERR_TASK_FAILED";
  constructor(message = "The task failed") {
    super(message);
  }
}

/** `resume()` was called on a task that is not paused. */
export class NotPaused extends SchedulerError {
  override readonly code: string = "ERR_NOT_PAUSED";
  constructor(message = "The task is not paused") {
    super(message);
  }
}

/** What a Cooperator iterates: an iterator, or an iterable (a generator is both). */
export type Cooperative = Iterator<unknown> | Iterable<unknown>;

/** Schedules `fn` to run soon; returns a handle that can cancel it. */
export type CooperatorScheduler = (fn: () => void) => { cancel(): void };

/** Options of `Cooperator`. */
export interface CooperatorOptions {
  /**
   * Called at the start of each time slice; the predicate it returns says when the slice is
   * over (checked after each unit of work). Default: after 10 ms of wall time.
   */
  terminationPredicateFactory?: () => () => boolean;
  /**
   * Schedules the next time slice. Default: `setImmediate`. In tests, `(f) => clock.callLater(1, f)`
   * makes each `clock.advance(1)` run one slice.
   */
  scheduler?: CooperatorScheduler;
  /** Whether to start running at once (default true); else call `start()`. */
  started?: boolean;
}

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + 10;
  return () => performance.now() >= end;
}

function defaultScheduler(fn: () => void): { cancel(): void } {
  const handle = setImmediate(fn);
  return { cancel: () => clearImmediate(handle) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * An iterator being run by a `Cooperator`: one `next()` per turn. A yielded Deferred or Promise
 * pauses the task until it fires (its failure fails the task). Created by `cooperate()`.
 */
export class CooperativeTask<I extends Cooperative = Cooperative> {
  private readonly _source: I;
  private readonly _iterator: Iterator<unknown>;
  private readonly _cooperator: Cooperator;
  private _whenDone: Deferred<I>[] = [];
  private _pauseCount = 0;
  private _completionState: TaskFinished | null = null;
  private _completionResult: unknown = undefined;

  /** @internal use `Cooperator.cooperate()` */
  constructor(source: I, cooperator: Cooperator) {
    this._source = source;
    this._iterator =
      typeof (source as Iterator<unknown>).next === "function"
        ? (source as Iterator<unknown>)
        : (source as Iterable<unknown>)[Symbol.iterator]();
    this._cooperator = cooperator;
    cooperator._addTask(this);
  }

  /**
   * A Deferred that fires with the iterator once it is exhausted, or errbacks with the error
   * it threw, `TaskStopped` or `SchedulerStopped`. Cancelling it does not stop the task.
   */
  whenDone(): Deferred<I> {
    const d = new Deferred<I>();
    if (this._completionState === null) this._whenDone.push(d);
    else if (this._completionResult instanceof Failure) d.errback(this._completionResult);
    else d.callback(this._completionResult as I);
    return d;
  }

  /** Stops running the task until `resume()` (pauses nest). Raises if it has finished. */
  pause(): void {
    this._checkFinished();
    this._pauseCount++;
    if (this._pauseCount === 1) this._cooperator._removeTask(this);
  }

  /** Undoes one `pause()`. Raises `NotPaused` if the task is not paused. */
  resume(): void {
    if (this._pauseCount === 0) throw new NotPaused();
    this._pauseCount--;
    if (this._pauseCount === 0 && this._completionState === null) {
      this._cooperator._addTask(this);
    }
  }

  /** Stops the task for good: `whenDone()` Deferreds errback with `TaskStopped`. */
  stop(): void {
    this._checkFinished();
    this._completeWith(new TaskStopped(), new Failure(new TaskStopped()));
  }

  private _checkFinished(): void {
    if (this._completionState !== null) throw this._completionState;
  }

  /** @internal Ends the task and fires the `whenDone()` Deferreds; later ends are ignored. */
  _completeWith(state: TaskFinished, result: unknown): void {
    if (this._completionState !== null) return;
    this._completionState = state;
    this._completionResult = result;
    // Leave the cooperator before firing: a callback may stop the cooperator or other tasks.
    this._cooperator._removeTask(this);
    const waiting = this._whenDone;
    this._whenDone = [];
    for (const d of waiting) {
      if (result instanceof Failure) d.errback(result);
      else d.callback(result as I);
    }
  }

  /** @internal Runs one step of the iterator. */
  _oneWorkUnit(): void {
    let step: IteratorResult<unknown>;
    try {
      step = this._iterator.next();
    } catch (e) {
      this._completeWith(new TaskFailed(), Failure.from(e));
      return;
    }
    if (step.done) {
      this._completeWith(new TaskDone(), this._source);
      return;
    }
    const value = step.value;
    if (isThenable(value)) {
      this.pause();
      const d = value instanceof Deferred ? value : Deferred.fromPromise(value);
      d.addCallbacks(
        () => {
          if (this._pauseCount > 0) this.resume();
        },
        (failure: Failure) => {
          this._completeWith(new TaskFailed(), failure);
        },
      );
    }
  }
}

/**
 * Runs iterators cooperatively: in each time slice it calls `next()` on each task in turn until
 * the slice is over, then yields the event loop. Long computations written as generators thus
 * share the process with I/O.
 *
 * @example
 * ```ts
 * const coop = new Cooperator();
 * function* work() { for (const row of rows) { process(row); yield; } }
 * await coop.coiterate(work());
 * ```
 */
export class Cooperator {
  private _tasks: CooperativeTask<any>[] = [];
  /** Index of the task to run next, so that slices go round the tasks fairly. */
  private _cursor = 0;
  private _scheduled: { cancel(): void } | null = null;
  private _started: boolean;
  private _stopped = false;
  private readonly _terminationPredicateFactory: () => () => boolean;
  private readonly _scheduler: CooperatorScheduler;

  constructor(options: CooperatorOptions = {}) {
    this._terminationPredicateFactory =
      options.terminationPredicateFactory ?? defaultTerminationPredicateFactory;
    this._scheduler = options.scheduler ?? defaultScheduler;
    this._started = options.started ?? true;
  }

  /** True when started and not stopped. */
  get running(): boolean {
    return this._started && !this._stopped;
  }

  /** Starts running tasks (for a Cooperator made with `started: false`). */
  start(): void {
    this._stopped = false;
    this._started = true;
    this._reschedule();
  }

  /**
   * Stops: every running task ends with `SchedulerStopped`, as do paused tasks when resumed and
   * tasks added later. Raises `SchedulerStopped` if already stopped.
   */
  stop(): void {
    if (this._stopped) throw new SchedulerStopped();
    this._stopped = true;
    const tasks = this._tasks;
    this._tasks = [];
    this._cursor = 0;
    for (const task of tasks) {
      task._completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
    }
    if (this._scheduled !== null) {
      this._scheduled.cancel();
      this._scheduled = null;
    }
  }

  /** Starts running `iterator` as a task; see `CooperativeTask`. */
  cooperate<I extends Cooperative>(iterator: I): CooperativeTask<I> {
    return new CooperativeTask(iterator, this);
  }

  /**
   * Runs `iterator` as a task and returns a Deferred that fires with it once exhausted (or
   * errbacks with its failure). Cancelling the Deferred does not stop the task.
   */
  coiterate<I extends Cooperative>(iterator: I): Deferred<I> {
    return this.cooperate(iterator).whenDone();
  }

  /** @internal */
  _addTask(task: CooperativeTask<any>): void {
    this._tasks.push(task);
    if (this._stopped) {
      task._completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
    } else {
      this._reschedule();
    }
  }

  /** @internal */
  _removeTask(task: CooperativeTask<any>): void {
    const i = this._tasks.indexOf(task);
    if (i === -1) return;
    this._tasks.splice(i, 1);
    if (i < this._cursor) this._cursor--;
    if (this._tasks.length === 0 && this._scheduled !== null) {
      this._scheduled.cancel();
      this._scheduled = null;
    }
  }

  private _reschedule(): void {
    if (!this._started || this._stopped) return;
    if (this._scheduled === null && this._tasks.length > 0) {
      this._scheduled = this._scheduler(this._tick);
    }
  }

  private readonly _tick = (): void => {
    this._scheduled = null;
    const sliceOver = this._terminationPredicateFactory();
    const tasks = this._tasks;
    while (this._tasks === tasks && tasks.length > 0) {
      if (this._cursor >= tasks.length) this._cursor = 0;
      const task = tasks[this._cursor++]!;
      task._oneWorkUnit();
      if (sliceOver()) break;
    }
    this._reschedule();
  };
}

const theCooperator = new Cooperator();

/** Runs `iterator` as a task of the global Cooperator; see `Cooperator.cooperate`. */
export function cooperate<I extends Cooperative>(iterator: I): CooperativeTask<I> {
  return theCooperator.cooperate(iterator);
}

/** Runs `iterator` on the global Cooperator; the Deferred fires with it once exhausted. */
export function coiterate<I extends Cooperative>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
