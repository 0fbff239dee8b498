// LogCapture: collects the log events emitted while a test runs, to assert on them.

import { Failure } from "../internet/failure.js";
import type { ILogObserver, LogEvent, LogPublisher } from "../logger/index.js";
import { formatEvent, globalLogPublisher } from "../logger/index.js";

type ErrorClass = abstract new (...args: any[]) => unknown;

/** Options of `LogCapture` and `captureLogs`. */
export interface LogCaptureOptions {
  /** The publisher to capture from (default: `globalLogPublisher`). */
  publisher?: LogPublisher;
  /**
   * Keep the captured events from the publisher's other observers while capturing (they are
   * removed, then added back by `stop()`): e.g. the global publisher's printing of `critical`
   * events to stderr before logging has begun. Default false.
   */
  exclusive?: boolean;
}

/**
 * Collects the events published to a log publisher (default: `globalLogPublisher`) from
 * construction until `stop()`. Use it to check that something was logged, e.g. that an
 * exception raised by `dataReceived` was reported instead of lost.
 *
 * @example
 * ```ts
 * const logs = new LogCapture({ exclusive: true });
 * try {
 *   transport.dataReceived(Buffer.from("boom"));
 * } finally {
 *   logs.stop();
 * }
 * assert.equal(logs.flushFailures(TypeError).length, 1);
 * ```
 */
export class LogCapture {
  /** The events captured, in order. */
  readonly events: LogEvent[] = [];
  /** The publisher captured from. */
  readonly publisher: LogPublisher;
  private readonly observer: ILogObserver = (event) => {
    this.events.push(event);
  };
  private readonly silenced: readonly ILogObserver[];
  private active = true;

  constructor(options: LogCaptureOptions = {}) {
    const publisher = options.publisher ?? globalLogPublisher;
    this.publisher = publisher;
    this.silenced = options.exclusive === true ? publisher.observers : [];
    for (const other of this.silenced) publisher.removeObserver(other);
    publisher.addObserver(this.observer);
  }

  /** Stops capturing (and gives back silenced observers); safe to call more than once. */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.publisher.removeObserver(this.observer);
    for (const other of this.silenced) this.publisher.addObserver(other);
  }

  /** The text of each captured event (its format string rendered). */
  messages(): string[] {
    return this.events.map((event) => formatEvent(event));
  }

  /** The failures of the captured events that carry one (`log_failure`). */
  failures(): Failure[] {
    const out: Failure[] = [];
    for (const event of this.events) {
      const f = event.log_failure;
      if (f !== undefined && f !== null) out.push(f instanceof Failure ? f : new Failure(f.value));
    }
    return out;
  }

  /**
   * Removes from `events` the events whose failure matches one of `types` (any failure when no
   * type is given) and returns those failures: Twisted trial's `flushLoggedErrors`.
   */
  flushFailures(...types: ErrorClass[]): Failure[] {
    const flushed: Failure[] = [];
    for (let i = 0; i < this.events.length; ) {
      const f = this.events[i]!.log_failure;
      if (f !== undefined && f !== null) {
        const failure = f instanceof Failure ? f : new Failure(f.value);
        if (types.length === 0 || failure.check(...types) !== null) {
          flushed.push(failure);
          this.events.splice(i, 1);
          continue;
        }
      }
      i++;
    }
    return flushed;
  }
}

/**
 * Runs `fn` while capturing log events and returns them. When `fn` returns a native Promise (an
 * async function), capture lasts until it settles and a Promise of the events is returned
 * (a returned Deferred is not waited for). The capture stops as well if `fn` throws or
 * rejects, and the error propagates.
 *
 * @example
 * ```ts
 * const events = captureLogs(() => protocol.dataReceived(Buffer.from("garbage")), {
 *   exclusive: true,
 * });
 * assert.ok(events.some((e) => e.log_failure !== undefined));
 * ```
 */
export function captureLogs(
  fn: () => Promise<unknown>,
  options?: LogCaptureOptions,
): Promise<LogEvent[]>;
export function captureLogs(fn: () => unknown, options?: LogCaptureOptions): LogEvent[];
export function captureLogs(
  fn: () => unknown,
  options: LogCaptureOptions = {},
): LogEvent[] | Promise<LogEvent[]> {
  const capture = new LogCapture(options);
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    capture.stop();
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      () => {
        capture.stop();
        return capture.events;
      },
      (e: unknown) => {
        capture.stop();
        throw e;
      },
    );
  }
  capture.stop();
  return capture.events;
}
