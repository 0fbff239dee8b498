// Observers that write events (text lines, JSON lines) and filter them (by level and namespace).

import { CallableInstance } from "./_callable.js";
import {
  type ILevelAwareLogObserver,
  type ILogObserver,
  type LogEvent,
  type LogFile,
  observesLevel,
} from "./_event.js";
import { eventAsJSON } from "./_json.js";
import { InvalidLogLevelError, LogLevel } from "./_levels.js";
import { formatEventAsClassicLogText, formatTime, timeFormatRFC3339 } from "./_text.js";

/**
 * An observer that formats each event with `formatEvent` and writes the text to `outFile`.
 * Events that format to `null`, `undefined` or `""` are skipped.
 *
 * @example
 * ```ts
 * const observer = new FileLogObserver(process.stdout, (event) => `${formatEvent(event)}\n`);
 * globalLogPublisher.addObserver(observer);
 * ```
 */
export class FileLogObserver extends CallableInstance<void> {
  readonly #outFile: LogFile;
  readonly #formatEvent: (event: LogEvent) => string | null | undefined;

  constructor(outFile: LogFile, formatEvent: (event: LogEvent) => string | null | undefined) {
    super();
    this.#outFile = outFile;
    this.#formatEvent = formatEvent;
  }

  protected override invoke(event: LogEvent): void {
    const text = this.#formatEvent(event);
    if (text !== null && text !== undefined && text !== "") this.#outFile.write(text);
  }
}

/**
 * An observer writing one classic text line per event to `outFile`:
 * `2026-11-27T10:00:00+0000 [namespace#info] message`. Continuation lines and tracebacks are
 * indented with a tab. `timeFormat` is a `strftime` format (local time), or `null` for `-`.
 *
 * @example
 * ```ts
 * globalLogBeginner.beginLoggingTo([textFileLogObserver(process.stdout)]);
 * ```
 */
export function textFileLogObserver(
  outFile: LogFile,
  timeFormat: string | null = timeFormatRFC3339,
): FileLogObserver {
  return new FileLogObserver(outFile, (event) =>
    formatEventAsClassicLogText(event, (when) => formatTime(when, timeFormat)),
  );
}

/** Options of {@link jsonFileLogObserver}. */
export interface JSONFileLogObserverOptions {
  /** Written before each record; `""` (JSON lines) by default, `"\x1e"` for RFC 7464. */
  recordSeparator?: string;
}

/**
 * An observer writing each event as one JSON object per line (see `eventAsJSON`). It never
 * throws on an event's content: values JSON cannot hold are written as strings.
 *
 * @example
 * ```ts
 * globalLogBeginner.beginLoggingTo([jsonFileLogObserver(createWriteStream("app.log.jsonl"))]);
 * ```
 */
export function jsonFileLogObserver(
  outFile: LogFile,
  options: JSONFileLogObserverOptions = {},
): FileLogObserver {
  const separator = options.recordSeparator ?? "";
  return new FileLogObserver(outFile, (event) => `${separator}${eventAsJSON(event)}\n`);
}

/** What a filter predicate says about an event: forward it, drop it, or let the next decide. */
export const PredicateResult = Object.freeze({
  /** Forward the event without asking the remaining predicates. */
  yes: "yes",
  /** Drop the event (it goes to the negative observer). */
  no: "no",
  /** No opinion: ask the next predicate; an event no predicate refuses is forwarded. */
  maybe: "maybe",
} as const);

/** One of `PredicateResult.yes`, `.no`, `.maybe`. */
export type PredicateResult = (typeof PredicateResult)[keyof typeof PredicateResult];

/** A filter predicate: decides about one event. */
export type ILogFilterPredicate = (event: LogEvent) => PredicateResult;

/** A predicate that can say in advance that it refuses every event of a level from a namespace. */
export interface ILevelAwareFilterPredicate extends ILogFilterPredicate {
  /** False only when every event of `level` from `namespace` gets `PredicateResult.no`. */
  observesLevel(level: LogLevel, namespace: string): boolean;
}

const discard: ILevelAwareLogObserver = Object.assign((_event: LogEvent) => {}, {
  observesLevel: () => false,
});

/**
 * An observer that forwards to `observer` only the events its predicates accept, and the others
 * to `negativeObserver` (dropped by default). Predicates are asked in order: the first `yes`
 * forwards, the first `no` refuses, and an event on which all say `maybe` is forwarded.
 *
 * @example
 * ```ts
 * const levels = new LogLevelFilterPredicate(LogLevel.warn);
 * levels.setLogLevelForNamespace("web", LogLevel.debug);
 * globalLogBeginner.beginLoggingTo([
 *   new FilteringLogObserver(textFileLogObserver(process.stdout), [levels]),
 * ]);
 * ```
 */
export class FilteringLogObserver extends CallableInstance<void> {
  readonly #observer: ILogObserver;
  readonly #predicates: readonly ILogFilterPredicate[];
  readonly #negativeObserver: ILogObserver;

  constructor(
    observer: ILogObserver,
    predicates: Iterable<ILogFilterPredicate>,
    negativeObserver: ILogObserver = discard,
  ) {
    super();
    this.#observer = observer;
    this.#predicates = [...predicates];
    this.#negativeObserver = negativeObserver;
  }

  protected override invoke(event: LogEvent): void {
    if (this.#shouldLogEvent(event)) this.#observer(event);
    else this.#negativeObserver(event);
  }

  #shouldLogEvent(event: LogEvent): boolean {
    for (const predicate of this.#predicates) {
      const result: unknown = predicate(event);
      if (result === PredicateResult.yes) return true;
      if (result === PredicateResult.no) return false;
      if (result !== PredicateResult.maybe) {
        throw new TypeError(`Invalid predicate result: ${String(result)}`);
      }
    }
    return true;
  }

  /**
   * False only when events of `level` from `namespace` would certainly be dropped: a
   * level-aware predicate refuses them (and nothing wants refused events), or the observer that
   * would get them does not want them.
   */
  observesLevel(level: LogLevel, namespace: string): boolean {
    for (const predicate of this.#predicates) {
      const ask = (predicate as Partial<ILevelAwareFilterPredicate>).observesLevel;
      // A predicate that cannot answer may say yes or no: both outcomes are possible.
      if (typeof ask !== "function") return true;
      if (!ask.call(predicate, level, namespace)) {
        return observesLevel(this.#negativeObserver, level, namespace);
      }
    }
    return observesLevel(this.#observer, level, namespace);
  }
}

const MAX_CACHED_NAMESPACES = 4096;

/**
 * A filter predicate refusing events below the level set for their namespace. A namespace
 * inherits the level of its nearest dotted prefix (`web.server.http` falls back to
 * `web.server`, then `web`, then the default level). Events without a level or namespace are
 * refused.
 *
 * @example
 * ```ts
 * const levels = new LogLevelFilterPredicate(LogLevel.info);
 * levels.setLogLevelForNamespace("conch", LogLevel.debug);
 * levels.logLevelForNamespace("conch.ssh.transport"); // LogLevel.debug
 * ```
 */
export class LogLevelFilterPredicate extends CallableInstance<PredicateResult> {
  /** The level for namespaces with no level of their own, restored by `clearLogLevels()`. */
  readonly defaultLogLevel: LogLevel;
  #rootLevel: LogLevel;
  readonly #levels = new Map<string, LogLevel>();
  readonly #cache = new Map<string, LogLevel>();

  /** @throws InvalidLogLevelError when `defaultLogLevel` is not a `LogLevel` */
  constructor(defaultLogLevel: LogLevel = LogLevel.info) {
    super();
    if (!LogLevel.isLogLevel(defaultLogLevel)) throw new InvalidLogLevelError(defaultLogLevel);
    this.defaultLogLevel = defaultLogLevel;
    this.#rootLevel = defaultLogLevel;
  }

  /** The level in force for `namespace` (its own, its nearest prefix's, or the default). */
  logLevelForNamespace(namespace: string): LogLevel {
    if (!namespace) return this.#rootLevel;
    const cached = this.#cache.get(namespace);
    if (cached !== undefined) return cached;
    let level = this.#rootLevel;
    for (let prefix = namespace; ; ) {
      const own = this.#levels.get(prefix);
      if (own !== undefined) {
        level = own;
        break;
      }
      const dot = prefix.lastIndexOf(".");
      if (dot === -1) break;
      prefix = prefix.slice(0, dot);
    }
    if (this.#cache.size >= MAX_CACHED_NAMESPACES) this.#cache.clear();
    this.#cache.set(namespace, level);
    return level;
  }

  /**
   * Sets the level of `namespace` and of the namespaces below it that have no level of their
   * own. The empty namespace sets the default for all namespaces.
   *
   * @throws InvalidLogLevelError when `level` is not a `LogLevel`
   */
  setLogLevelForNamespace(namespace: string, level: LogLevel): void {
    if (!LogLevel.isLogLevel(level)) throw new InvalidLogLevelError(level);
    if (namespace) this.#levels.set(namespace, level);
    else this.#rootLevel = level;
    this.#cache.clear();
  }

  /** Forgets every namespace's level and restores the default level. */
  clearLogLevels(): void {
    this.#levels.clear();
    this.#cache.clear();
    this.#rootLevel = this.defaultLogLevel;
  }

  /** False when events of `level` from `namespace` are below the namespace's level. */
  observesLevel(level: LogLevel, namespace: string): boolean {
    return namespace !== "" && level.isAtLeast(this.logLevelForNamespace(namespace));
  }

  protected override invoke(event: LogEvent): PredicateResult {
    const level = event.log_level;
    const namespace = event.log_namespace;
    if (!LogLevel.isLogLevel(level) || typeof namespace !== "string" || namespace === "") {
      return PredicateResult.no;
    }
    return level.isAtLeast(this.logLevelForNamespace(namespace))
      ? PredicateResult.maybe
      : PredicateResult.no;
  }
}
