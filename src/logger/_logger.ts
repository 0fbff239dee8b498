// Logger: emits structured events for a namespace, skipping the work when nobody observes them.

import {
  type FailureLike,
  type ILogObserver,
  makeEvent,
  observesLevel,
  toFailure,
  wallClock,
} from "./_event.js";
import { InvalidLogLevelError, LogLevel } from "./_levels.js";
import { globalLogPublisher } from "./_publisher.js";

/** Options of {@link Logger}. */
export interface LoggerOptions {
  /**
   * Where `log_time` comes from, in seconds since the epoch: a function, or an object with a
   * `seconds()` method (a reactor or a test `Clock`). The real clock by default.
   */
  clock?: (() => number) | { seconds(): number };
}

function namespaceOfSource(source: unknown): string | undefined {
  let name: unknown;
  if (typeof source === "function") name = source.name;
  else if (source !== null && typeof source === "object") {
    const ctor = (source as { constructor?: unknown }).constructor;
    if (typeof ctor === "function" && ctor !== Object) name = ctor.name;
  }
  return typeof name === "string" && name !== "" ? name : undefined;
}

/**
 * Emits log events for one namespace (a dotted name such as `"web.server"`) to an observer,
 * the global publisher by default. Each method takes a `{field}` format string (see
 * `formatEvent`) and the fields it refers to; the fields stay in the event as structured data.
 * A call costs almost nothing when the observer says it drops that level (e.g. behind a
 * `FilteringLogObserver` with a `LogLevelFilterPredicate`): the event is then not built.
 *
 * @example
 * ```ts
 * const log = new Logger("web.server");
 * log.info("{method} {path} -> {code}", { method: "GET", path: "/", code: 200 });
 * d.addErrback((f) => log.failure("Request for {path} failed", f, LogLevel.error, { path }));
 * ```
 */
export class Logger {
  /** Dotted name of what logs; level filters match on its prefixes. */
  readonly namespace: string;
  /** The object logging, passed as `log_source`; `null` if none. */
  readonly source: unknown;
  /** Where events go. */
  readonly observer: ILogObserver;
  private readonly _now: () => number;

  /**
   * @param namespace - dotted name; by default the class name of `source`, or `"log"`
   * @param source - the object logging (e.g. a protocol instance), passed as `log_source`
   * @param observer - where events go; `globalLogPublisher` by default
   */
  constructor(
    namespace?: string,
    source?: unknown,
    observer?: ILogObserver,
    options: LoggerOptions = {},
  ) {
    this.namespace = namespace ?? namespaceOfSource(source) ?? "log";
    this.source = source ?? null;
    this.observer = observer ?? globalLogPublisher;
    const clock = options.clock;
    this._now =
      clock === undefined ? wallClock : typeof clock === "function" ? clock : () => clock.seconds();
  }

  /** False when the observer would drop events of `level` from this logger: skip costly work. */
  observes(level: LogLevel): boolean {
    return observesLevel(this.observer, level, this.namespace);
  }

  /**
   * Emits an event of `level`. The `log_*` keys are set by the logger and win over same-named
   * `fields`. An invalid level is itself reported, as a `critical` event.
   */
  emit(level: LogLevel, format?: string | null, fields?: Record<string, unknown>): void {
    if (!LogLevel.isLogLevel(level)) {
      this.failure(
        "Got invalid log level {invalidLevel!r} in {logger}.emit().",
        toFailure(new InvalidLogLevelError(level)),
        LogLevel.critical,
        { invalidLevel: level, logger: this },
      );
      return;
    }
    if (!observesLevel(this.observer, level, this.namespace)) return;
    const event = makeEvent(level, format, this.namespace, this.source, this._now(), fields);
    event.log_logger = this;
    this.observer(event);
  }

  /**
   * Emits an event carrying `failure` as `log_failure`; text observers print its traceback after
   * the message. `critical` by default, as for an unhandled error.
   *
   * @example
   * ```ts
   * try { parse(data); } catch (e) { log.failure("Cannot parse {peer}", new Failure(e), LogLevel.error, { peer }); }
   * ```
   */
  failure(
    format: string,
    failure: FailureLike,
    level: LogLevel = LogLevel.critical,
    fields?: Record<string, unknown>,
  ): void {
    if (LogLevel.isLogLevel(level) && !observesLevel(this.observer, level, this.namespace)) return;
    this.emit(level, format, { ...fields, log_failure: toFailure(failure) });
  }

  /** Emits a `debug` event. */
  debug(format: string, fields?: Record<string, unknown>): void {
    this.emit(LogLevel.debug, format, fields);
  }

  /** Emits an `info` event. */
  info(format: string, fields?: Record<string, unknown>): void {
    this.emit(LogLevel.info, format, fields);
  }

  /** Emits a `warn` event. */
  warn(format: string, fields?: Record<string, unknown>): void {
    this.emit(LogLevel.warn, format, fields);
  }

  /** Emits an `error` event. */
  error(format: string, fields?: Record<string, unknown>): void {
    this.emit(LogLevel.error, format, fields);
  }

  /** Emits a `critical` event. */
  critical(format: string, fields?: Record<string, unknown>): void {
    this.emit(LogLevel.critical, format, fields);
  }

  /** `<Logger 'namespace'>`. */
  toString(): string {
    return `<Logger '${this.namespace}'>`;
  }
}
