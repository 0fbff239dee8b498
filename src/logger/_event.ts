// Log events and observers: the shapes every part of the logger package passes around.

import { stringify } from "./_format.js";
import type { LogLevel } from "./_levels.js";

/**
 * What a logger needs of a failure: its value and a printable traceback. `Failure` from
 * `twisted-ts/internet` fits; so does any object of this shape.
 */
export interface FailureLike {
  readonly value: unknown;
  getTraceback(): string;
}

/**
 * A log event: a plain object of `log_*` keys plus the caller's own fields. Only the keys below
 * have a meaning to the logging system; every other key is data for the format string and for
 * structured observers (JSON).
 */
export interface LogEvent {
  /** A `{field}` format string rendered by `formatEvent`, or `null` for an event without text. */
  log_format?: string | null | undefined;
  /** The event's severity. */
  log_level?: LogLevel | undefined;
  /** Dotted name of the emitter (e.g. `"web.server"`); level filters match on its prefixes. */
  log_namespace?: string | undefined;
  /** The object that emitted the event, if any. */
  log_source?: unknown;
  /** When the event was emitted, in seconds since the epoch (fractional). */
  log_time?: number | undefined;
  /** The failure being reported, for events emitted by `Logger.failure` or `log.err`. */
  log_failure?: FailureLike | undefined;
  /** Replaces `namespace#level` in the `[...]` part of text output (legacy `system`). */
  log_system?: string | undefined;
  /** Already-rendered text of a legacy event (its format is then `"{log_text}"`). */
  log_text?: string | undefined;
  /** Rendered replacement fields, keyed by their source text, so that JSON round-trips format. */
  log_flattened?: Record<string, string> | undefined;
  /** The caller's own fields. */
  [field: string]: unknown;
}

/**
 * An observer receives every event published to it. Observers must not throw; a publisher
 * reports an observer that throws to its other observers.
 */
export type ILogObserver = (event: LogEvent) => void;

/**
 * An observer that can tell, before an event is built, that it would drop every event of a level
 * from a namespace. `Logger` asks its observer this first, so that a `debug` call that nobody
 * wants costs almost nothing.
 */
export interface ILevelAwareLogObserver extends ILogObserver {
  /** False only when events of `level` from `namespace` would certainly be dropped. */
  observesLevel(level: LogLevel, namespace: string): boolean;
}

/** Where text observers write: a Node `Writable`, `process.stdout`, or any `{ write }` object. */
export interface LogFile {
  write(text: string): unknown;
}

/** True unless `observer` says it would drop events of `level` from `namespace`. */
export function observesLevel(observer: ILogObserver, level: LogLevel, namespace: string): boolean {
  const ask = (observer as Partial<ILevelAwareLogObserver>).observesLevel;
  if (typeof ask !== "function") return true;
  try {
    return ask.call(observer, level, namespace) !== false;
  } catch {
    return true;
  }
}

/** True when `value` has the shape of a failure (`value` and `getTraceback()`). */
export function isFailureLike(value: unknown): value is FailureLike {
  return (
    value !== null &&
    typeof value === "object" &&
    "value" in value &&
    typeof (value as { getTraceback?: unknown }).getTraceback === "function"
  );
}

/** True for an object made by `{}` or `Object.create(null)`: a mapping of fields, not an instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Seconds since the epoch, from the real clock. */
export function wallClock(): number {
  return Date.now() / 1000;
}

/**
 * Builds an event; the `log_*` keys given win over same-named user fields, as in Twisted.
 *
 * @internal
 */
export function makeEvent(
  level: LogLevel,
  format: string | null | undefined,
  namespace: string,
  source: unknown,
  time: number,
  fields: Readonly<Record<string, unknown>> | undefined,
): LogEvent {
  const event: LogEvent = fields === undefined ? {} : { ...fields };
  event.log_level = level;
  event.log_namespace = namespace;
  event.log_source = source;
  event.log_format = format;
  event.log_time = time;
  return event;
}

/** A failure-like wrapper for a thrown value, for callers that have no `Failure` at hand. */
class CaughtFailure implements FailureLike {
  readonly value: unknown;

  constructor(value: unknown) {
    this.value = value;
  }

  getErrorMessage(): string {
    const v = this.value;
    return v instanceof Error ? v.message : stringify(v);
  }

  getTraceback(): string {
    const v = this.value;
    const lines: string[] = [];
    let cause: unknown = v;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      const text =
        cause instanceof Error
          ? (cause.stack ?? `${cause.name}: ${cause.message}`)
          : `${typeName(cause)}: ${stringify(cause)}`;
      lines.push(depth === 0 ? text : `Caused by: ${text}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return lines.join("\n");
  }

  toString(): string {
    return `[Failure instance: ${typeName(this.value)}: ${this.getErrorMessage()}]`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" ? name : "Object";
  }
  return typeof value;
}

/** `value` if it is failure-like already, else a failure-like wrapper of it. */
export function toFailure(value: unknown): FailureLike {
  return isFailureLike(value) ? value : new CaughtFailure(value);
}
