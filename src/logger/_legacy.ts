// The legacy twisted.python.log API: log.msg, log.err, log.startLogging, legacy observers.

import {
  type FailureLike,
  type ILogObserver,
  isFailureLike,
  isPlainObject,
  type LogEvent,
  type LogFile,
  observesLevel,
  toFailure,
  wallClock,
} from "./_event.js";
import { repr, stringify } from "./_format.js";
import { LogLevel } from "./_levels.js";
import { FileLogObserver } from "./_observers.js";
import { globalLogBeginner, globalLogPublisher } from "./_publisher.js";
import { formatEvent, formatEventAsClassicLogText, formatTime, legacyTimeFormat } from "./_text.js";

/**
 * An event as legacy observers see it: the new-style keys plus `message` (the parts given to
 * `msg`), `time`, `system`, `isError`, and for errors `failure` and `why`.
 */
export interface LegacyEvent extends LogEvent {
  message: unknown[];
  time: number | undefined;
  system: unknown;
  isError: number | boolean;
  failure?: FailureLike;
  why?: string | null;
}

/** A legacy observer: receives `LegacyEvent`s. */
export type LegacyLogObserver = (eventDict: LegacyEvent) => void;

const contextStack: Record<string, unknown>[] = [{ system: "-" }];

/**
 * Python `%`-formatting with a mapping, as legacy `format` fields use: `%(name)s`, `%(name)r`,
 * `%(name)d`, `%(name).2f`, `%%`.
 */
function percentFormat(format: string, fields: Readonly<Record<string, unknown>>): string {
  return format.replace(
    /%(?:\(([^)]*)\))?[-#0 +]*\d*(?:\.(\d+))?([sdirfxXeEgGc%])/g,
    (_all, key: string | undefined, precision: string | undefined, type: string) => {
      if (type === "%") return "%";
      if (key === undefined) throw new TypeError("Format requires a mapping");
      if (!Object.hasOwn(fields, key)) throw new Error(`No such field: ${key}`);
      const value = fields[key];
      switch (type) {
        case "r":
          return repr(value);
        case "d":
        case "i":
          return String(Math.trunc(Number(value)));
        case "f":
          return Number(value).toFixed(precision === undefined ? 6 : Number(precision));
        case "x":
          return Math.trunc(Number(value)).toString(16);
        case "X":
          return Math.trunc(Number(value)).toString(16).toUpperCase();
        default:
          return stringify(value);
      }
    },
  );
}

/**
 * The text of a legacy event: its message parts joined by spaces; for an error without message,
 * `why` (or "Unhandled Error") and the traceback; else its `format` (Python `%` style) or its
 * new-style `log_format`. `null` when there is nothing to say.
 */
export function textFromEventDict(eventDict: Readonly<Record<string, unknown>>): string | null {
  const message = eventDict.message;
  const parts = Array.isArray(message) ? message : message === undefined ? [] : [message];
  if (parts.length > 0) return parts.map((part) => stringify(part)).join(" ");
  const failure = eventDict.failure;
  if (eventDict.isError && isFailureLike(failure)) {
    const why = eventDict.why;
    let traceback: string;
    try {
      traceback = failure.getTraceback();
    } catch {
      traceback = "(unable to obtain traceback)";
    }
    return `${why ? stringify(why) : "Unhandled Error"}\n${traceback}`;
  }
  if (typeof eventDict.format === "string") {
    try {
      return percentFormat(eventDict.format, eventDict);
    } catch (error) {
      return (
        "Invalid format string or unformattable object in log message: " +
        `${repr(eventDict.format)}, ${error instanceof Error ? error.message : stringify(error)}`
      );
    }
  }
  if (typeof eventDict.log_format === "string") return formatEvent(eventDict as LogEvent);
  return null;
}

/** Turns a legacy event into a new-style one (in place) and publishes it. */
function publish(eventDict: Record<string, unknown>, level: LogLevel): void {
  const event = eventDict as LogEvent;
  event.log_time ??= eventDict.time as number;
  if (event.log_format === undefined) {
    const text = textFromEventDict(eventDict);
    if (text !== null) {
      event.log_text = text;
      event.log_format = "{log_text}";
    }
  }
  event.log_level ??= level;
  event.log_namespace ??= "log_legacy";
  if (event.log_system === undefined && eventDict.system !== undefined) {
    event.log_system = stringify(eventDict.system);
  }
  globalLogPublisher(event);
}

function levelOf(fields: Readonly<Record<string, unknown>>): LogLevel {
  return LogLevel.isLogLevel(fields.log_level)
    ? fields.log_level
    : fields.isError
      ? LogLevel.critical
      : LogLevel.info;
}

/**
 * Logs a message: the parts are stringified and joined by spaces. A last argument that is a
 * plain object is taken as extra fields (Python's keyword arguments), e.g. `system`, `isError`,
 * or `format` for Python `%(name)s` formatting.
 *
 * @example
 * ```ts
 * log.msg(`Client connected from ${peer.host}`);
 * log.msg("Cmd received from", host, { system: "TSServerProtocol,0" });
 * ```
 */
export function msg(...message: unknown[]): void {
  const last = message[message.length - 1];
  const fields = isPlainObject(last) ? (message.pop() as Record<string, unknown>) : {};
  const level = levelOf(fields);
  const namespace = typeof fields.log_namespace === "string" ? fields.log_namespace : "log_legacy";
  if (!observesLevel(globalLogPublisher, level, namespace)) return;
  const context = contextStack[contextStack.length - 1];
  const eventDict: Record<string, unknown> = { ...context, ...fields, message, time: wallClock() };
  eventDict.isError ??= 0;
  publish(eventDict, level);
}

/**
 * Logs an error at `critical` level: `why` (or "Unhandled Error") then the traceback. Takes a
 * `Failure`, an `Error`, or any thrown value.
 *
 * @example
 * ```ts
 * d.addErrback((f) => log.err(f, "Lookup failed"));
 * ```
 */
export function err(
  failure?: unknown,
  why?: string | null,
  fields?: Record<string, unknown>,
): void {
  if (!observesLevel(globalLogPublisher, LogLevel.critical, "log_legacy")) return;
  const wrapped: FailureLike = toFailure(
    failure === undefined ? new Error("log.err() called without an error") : failure,
  );
  const context = contextStack[contextStack.length - 1];
  publish(
    {
      ...context,
      ...fields,
      message: [],
      failure: wrapped,
      why: why ?? null,
      isError: 1,
      time: wallClock(),
      log_failure: wrapped,
      log_text: why ?? "Unhandled Error",
      log_format: "{log_text}",
    },
    LogLevel.critical,
  );
}

/** Alias of {@link err}, as in Twisted (`log.deferr`). */
export const deferr = err;

/**
 * Calls `fn` with `context` merged into the fields of every legacy `msg`/`err` made during the
 * (synchronous) call, e.g. `{ system: "HTTPChannel,3,127.0.0.1" }`. Returns what `fn` returns.
 */
export function callWithContext<T>(context: Record<string, unknown>, fn: () => T): T {
  contextStack.push({ ...contextStack[contextStack.length - 1], ...context });
  try {
    return fn();
  } finally {
    contextStack.pop();
  }
}

const wrappers = new Map<LegacyLogObserver, ILogObserver>();

function legacyWrapper(observer: LegacyLogObserver): ILogObserver {
  return (event: LogEvent) => {
    const legacy = { ...event } as Record<string, unknown>;
    if (!("message" in legacy)) legacy.message = [];
    if (!("time" in legacy)) legacy.time = event.log_time;
    if (!("system" in legacy)) legacy.system = event.log_system ?? "-";
    const messageEmpty = Array.isArray(legacy.message) && legacy.message.length === 0;
    if (!("format" in legacy) && typeof event.log_format === "string" && messageEmpty) {
      legacy.format = "%(log_legacy)s";
      legacy.log_legacy = formatEvent(event);
    }
    if (event.log_failure !== undefined && event.log_failure !== null) {
      legacy.failure ??= event.log_failure;
      legacy.isError ??= 1;
      legacy.why ??= formatEvent(event);
    } else if (!("isError" in legacy)) {
      const level = event.log_level;
      legacy.isError = level === LogLevel.error || level === LogLevel.critical ? 1 : 0;
    }
    observer(legacy as LegacyEvent);
  };
}

/** Adds a legacy observer to the global publisher; it receives `LegacyEvent`s. */
export function addObserver(observer: LegacyLogObserver): void {
  if (wrappers.has(observer)) return;
  const wrapper = legacyWrapper(observer);
  wrappers.set(observer, wrapper);
  globalLogPublisher.addObserver(wrapper);
}

/** Removes an observer added with {@link addObserver}. */
export function removeObserver(observer: LegacyLogObserver): void {
  const wrapper = wrappers.get(observer);
  if (wrapper === undefined) return;
  wrappers.delete(observer);
  globalLogPublisher.removeObserver(wrapper);
}

/**
 * Begins logging to `file` (`process.stdout` works) in Twisted's classic format,
 * `2026-11-27 10:00:00+0000 [-] message`, replaying what was logged earlier, then logs
 * "Log opened.". With `setStdout`, `console.log`/`console.error` output is logged too (Twisted
 * redirects `sys.stdout` by default; here it is off by default). Returns the observer added.
 *
 * @example
 * ```ts
 * log.startLogging(process.stdout);
 * log.msg("waiting for connection......");
 * ```
 */
export function startLogging(file: LogFile, setStdout = false): ILogObserver {
  const observer = new FileLogObserver(file, (event) =>
    formatEventAsClassicLogText(event, (when) => formatTime(when, legacyTimeFormat)),
  );
  globalLogBeginner.beginLoggingTo([observer], { redirectStandardIO: setStdout });
  msg("Log opened.");
  return observer;
}
