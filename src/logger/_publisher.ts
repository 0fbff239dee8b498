// Publishing events to observers, the bounded early-event buffer, and the global log beginner.

import { format as formatConsoleArgs } from "node:util";
import { CallableInstance } from "./_callable.js";
import {
  type ILogObserver,
  type LogEvent,
  type LogFile,
  makeEvent,
  observesLevel,
  toFailure,
  wallClock,
} from "./_event.js";
import { LogLevel } from "./_levels.js";
import { FileLogObserver, FilteringLogObserver, LogLevelFilterPredicate } from "./_observers.js";
import { formatEventAsClassicLogText } from "./_text.js";

/**
 * An observer that forwards every event to its own observers, in the order they were added. An
 * observer that throws does not stop the others: the error is reported to the others as a
 * `critical` event "Temporarily disabling observer … due to exception", and the observer stays
 * registered.
 *
 * @example
 * ```ts
 * const publisher = new LogPublisher();
 * publisher.addObserver((event) => console.log(formatEvent(event)));
 * new Logger("app", undefined, publisher).info("ready");
 * ```
 */
export class LogPublisher extends CallableInstance<void> {
  readonly #observers: ILogObserver[] = [];

  constructor(...observers: ILogObserver[]) {
    super();
    for (const observer of observers) this.addObserver(observer);
  }

  /** The registered observers, in order (a copy). */
  get observers(): readonly ILogObserver[] {
    return [...this.#observers];
  }

  /**
   * Registers an observer; adding one that is already registered does nothing.
   *
   * @throws TypeError when `observer` is not a function
   */
  addObserver(observer: ILogObserver): void {
    if (typeof observer !== "function") {
      throw new TypeError(`Log observer must be a function: ${String(observer)}`);
    }
    if (!this.#observers.includes(observer)) this.#observers.push(observer);
  }

  /** Unregisters an observer; removing one that is not registered does nothing. */
  removeObserver(observer: ILogObserver): void {
    const index = this.#observers.indexOf(observer);
    if (index !== -1) this.#observers.splice(index, 1);
  }

  /** False when no observer wants events of `level` from `namespace` (e.g. none at all). */
  observesLevel(level: LogLevel, namespace: string): boolean {
    return this.#observers.some((observer) => observesLevel(observer, level, namespace));
  }

  protected override invoke(event: LogEvent): void {
    let broken: [ILogObserver, unknown][] | undefined;
    // A copy: observers may add or remove observers while handling the event.
    for (const observer of [...this.#observers]) {
      try {
        observer(event);
      } catch (error) {
        (broken ??= []).push([observer, error]);
      }
    }
    if (broken === undefined) return;
    for (const [observer, error] of broken) {
      const report = makeEvent(
        LogLevel.critical,
        "Temporarily disabling observer {observer} due to exception",
        "twisted.logger",
        this,
        wallClock(),
        { observer, log_failure: toFailure(error) },
      );
      for (const other of [...this.#observers]) {
        if (other === observer) continue;
        try {
          other(report);
        } catch {
          // Reporting the second failure would risk a loop; the first report is enough.
        }
      }
    }
  }
}

/**
 * An observer that keeps the last `size` events (oldest dropped first) to replay them later.
 *
 * @example
 * ```ts
 * const history = new LimitedHistoryLogObserver(100);
 * publisher.addObserver(history);
 * history.replayTo(textFileLogObserver(process.stderr));
 * ```
 */
export class LimitedHistoryLogObserver extends CallableInstance<void> {
  readonly #size: number;
  readonly #ring: LogEvent[] = [];
  #next = 0;

  /** @throws RangeError when `size` is not a positive integer */
  constructor(size = 65536) {
    super();
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`History size must be a positive integer: ${size}`);
    }
    this.#size = size;
  }

  protected override invoke(event: LogEvent): void {
    this.#ring[this.#next % this.#size] = event;
    this.#next++;
  }

  /** The number of events kept. (Not `length`: instances are functions, which own that name.) */
  get count(): number {
    return Math.min(this.#next, this.#size);
  }

  /** Sends the kept events to `observer`, oldest first. */
  replayTo(observer: ILogObserver): void {
    const start = Math.max(0, this.#next - this.#size);
    const end = this.#next;
    for (let i = start; i < end; i++) {
      const event = this.#ring[i % this.#size];
      if (event !== undefined) observer(event);
    }
  }

  /** Forgets the kept events. */
  clear(): void {
    this.#ring.length = 0;
    this.#next = 0;
  }
}

/** Options of {@link LogBeginner}. */
export interface LogBeginnerOptions {
  /** Where `critical` events go before logging begins; `process.stderr` by default. */
  errorStream?: LogFile;
  /** How many early events to keep for replay; 65536 by default. */
  bufferSize?: number;
  /** The console that `redirectStandardIO` takes over; `globalThis.console` by default. */
  console?: Console;
  /** Time source for redirected console output, in seconds since the epoch. */
  clock?: () => number;
}

/** Options of {@link LogBeginner.beginLoggingTo}. */
export interface BeginLoggingOptions {
  /** Drop the events logged before beginning instead of replaying them. Default `false`. */
  discardBuffer?: boolean;
  /**
   * Also log what is written through `console.log/info/debug` (namespace `stdout`, level
   * `info`) and `console.warn/error` (namespace `stderr`, level `error`), one event per line.
   * Default `false`.
   */
  redirectStandardIO?: boolean;
}

const CONSOLE_METHODS = [
  ["log", "stdout", LogLevel.info],
  ["info", "stdout", LogLevel.info],
  ["debug", "stdout", LogLevel.info],
  ["warn", "stderr", LogLevel.error],
  ["error", "stderr", LogLevel.error],
] as const;

function callerLocation(): string {
  const frames = new Error().stack?.split("\n") ?? [];
  // [0] "Error", [1] callerLocation, [2] beginLoggingTo, [3] its caller.
  return frames[3]?.trim().replace(/^at /, "") ?? "<unknown>";
}

/**
 * Starts logging once, at program start. Until `beginLoggingTo` is called, events published to
 * its publisher are kept in a bounded buffer (the newest `bufferSize` events) and `critical`
 * ones are also written to `errorStream`, so that nothing important is lost; `beginLoggingTo`
 * then adds the real observers and replays the buffer to them.
 *
 * @example
 * ```ts
 * globalLogBeginner.beginLoggingTo([textFileLogObserver(process.stdout)]);
 * ```
 */
export class LogBeginner {
  private readonly _publisher: LogPublisher;
  private readonly _buffer: LimitedHistoryLogObserver;
  private _temporaryObserver: LogPublisher | null;
  private _previousBegin: string | null = null;
  private readonly _console: Console;
  private readonly _clock: () => number;
  private _consoleRedirected = false;

  constructor(publisher: LogPublisher, options: LogBeginnerOptions = {}) {
    this._publisher = publisher;
    this._buffer = new LimitedHistoryLogObserver(options.bufferSize);
    this._console = options.console ?? globalThis.console;
    this._clock = options.clock ?? wallClock;
    const errorStream: LogFile = options.errorStream ?? {
      write: (text: string) => process.stderr.write(text),
    };
    this._temporaryObserver = new LogPublisher(
      this._buffer,
      new FilteringLogObserver(
        new FileLogObserver(errorStream, (event) => formatEventAsClassicLogText(event)),
        [new LogLevelFilterPredicate(LogLevel.critical)],
      ),
    );
    publisher.addObserver(this._temporaryObserver);
  }

  /** True once `beginLoggingTo` has been called. */
  get hasBegun(): boolean {
    return this._temporaryObserver === null;
  }

  /**
   * Adds `observers` to the publisher and, the first time, stops buffering and replays the
   * buffered events to them (unless `discardBuffer`). Calling it again still adds the
   * observers, but logs a warning naming both call sites.
   */
  beginLoggingTo(observers: Iterable<ILogObserver>, options: BeginLoggingOptions = {}): void {
    const here = callerLocation();
    const added = [...observers];
    for (const observer of added) this._publisher.addObserver(observer);
    if (this._temporaryObserver !== null) {
      this._publisher.removeObserver(this._temporaryObserver);
      this._temporaryObserver = null;
      if (options.discardBuffer !== true) this._buffer.replayTo(new LogPublisher(...added));
      this._buffer.clear();
    } else {
      this._publisher(
        makeEvent(
          LogLevel.warn,
          "Warning: primary log target selected twice at {here} - previously selected at " +
            "{previous}. Remove one of the calls to beginLoggingTo.",
          "twisted.logger",
          this,
          this._clock(),
          { here, previous: this._previousBegin },
        ),
      );
    }
    this._previousBegin = here;
    if (options.redirectStandardIO === true) this._redirectConsole();
  }

  private _redirectConsole(): void {
    if (this._consoleRedirected) return;
    this._consoleRedirected = true;
    const target = this._console as unknown as Record<string, (...args: unknown[]) => void>;
    let busy = false;
    for (const [method, namespace, level] of CONSOLE_METHODS) {
      const original = target[method];
      if (typeof original !== "function") continue;
      target[method] = (...args: unknown[]) => {
        // An observer that itself prints to the console must not loop back into the log.
        if (busy) return original.apply(this._console, args);
        busy = true;
        try {
          for (const line of formatConsoleArgs(...args).split("\n")) {
            this._publisher(
              makeEvent(level, "{log_io}", namespace, null, this._clock(), { log_io: line }),
            );
          }
        } finally {
          busy = false;
        }
      };
    }
  }
}

/** The publisher that every `Logger` without its own observer, and legacy `log`, publish to. */
export const globalLogPublisher: LogPublisher = new LogPublisher();

/**
 * The beginner of the global publisher: call `globalLogBeginner.beginLoggingTo([...])` once at
 * program start (the `twist` command does).
 */
export const globalLogBeginner: LogBeginner = new LogBeginner(globalLogPublisher);
