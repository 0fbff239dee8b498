// Events as JSON text and back, for JSON-lines log files; serialising never throws.

import { inspect } from "node:util";
import { isFailureLike, isPlainObject, type LogEvent } from "./_event.js";
import { stringify } from "./_format.js";
import { LogLevel } from "./_levels.js";
import { flattenEvent } from "./_text.js";

const MAX_DEPTH = 16;

function shortText(value: unknown): string {
  try {
    if (typeof value === "object" && value !== null && !(value instanceof Error)) {
      const own = (value as { toString?: unknown }).toString;
      if (typeof own !== "function" || own === Object.prototype.toString) {
        return inspect(value, { depth: 0, breakLength: Number.POSITIVE_INFINITY });
      }
    }
    return stringify(value);
  } catch {
    return "<unrepresentable>";
  }
}

/** A JSON-safe copy of `value`: what JSON cannot hold faithfully becomes a string. */
function toJSONValue(value: unknown, ancestors: object[], key: string): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "undefined":
      return undefined;
    case "bigint":
    case "symbol":
    case "function":
      return shortText(value);
  }
  if (value === null) return null;
  const object = value as object;
  if (LogLevel.isLogLevel(object)) return object.name;
  if (isFailureLike(object)) {
    try {
      return String(object.getTraceback());
    } catch {
      return shortText(object);
    }
  }
  if (object instanceof Error) return shortText(object);
  if (ancestors.includes(object) || ancestors.length >= MAX_DEPTH) {
    return ancestors.includes(object) ? "[Circular]" : shortText(object);
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const replaced: unknown = toJSON.call(object, key);
    if (replaced !== object) {
      ancestors.push(object);
      try {
        return toJSONValue(replaced, ancestors, key);
      } finally {
        ancestors.pop();
      }
    }
  }
  if (Array.isArray(object)) {
    ancestors.push(object);
    try {
      return object.map((item, index) => toJSONValue(item, ancestors, String(index)) ?? null);
    } finally {
      ancestors.pop();
    }
  }
  if (!isPlainObject(object)) return shortText(object);
  ancestors.push(object);
  try {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) {
      const converted = toJSONValue(v, ancestors, k);
      if (converted !== undefined) out[k] = converted;
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

/**
 * Serialises an event as one line of JSON. The rendered text of every format field is kept in
 * `log_flattened`, so the event still formats after {@link eventFromJSON}; `log_level` becomes its
 * name, a failure its traceback text, and values JSON cannot hold (class instances, functions,
 * bigints, cycles) their string form. `log_logger` is left out. Never throws.
 *
 * @example
 * ```ts
 * eventAsJSON({ log_format: "hi {who}", who: "bob", log_level: LogLevel.info });
 * // '{"log_format":"hi {who}","who":"bob","log_level":"info","log_flattened":{"who":"bob"}}'
 * ```
 */
export function eventAsJSON(event: LogEvent): string {
  try {
    const copy: LogEvent = { ...event };
    delete copy.log_logger;
    flattenEvent(copy);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(copy)) {
      const converted = toJSONValue(value, [], key);
      if (converted !== undefined) out[key] = converted;
    }
    return JSON.stringify(out);
  } catch (error) {
    return JSON.stringify({
      log_format: "{log_text}",
      log_text: `Unable to serialise event: ${shortText(error)}`,
      log_level: LogLevel.isLogLevel(event.log_level) ? event.log_level.name : "error",
      log_namespace: typeof event.log_namespace === "string" ? event.log_namespace : "-",
      log_time: typeof event.log_time === "number" ? event.log_time : null,
    });
  }
}

/**
 * Parses one event written by {@link eventAsJSON}: `log_level` becomes a `LogLevel` again and a
 * `log_failure` traceback text a failure-like object whose `getTraceback()` returns it.
 *
 * @throws SyntaxError when `text` is not JSON, TypeError when it is not a JSON object
 */
export function eventFromJSON(text: string): LogEvent {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TypeError("Log event JSON must be an object");
  }
  const event = parsed as LogEvent;
  const level: unknown = event.log_level;
  if (typeof level === "string") {
    const found = LogLevel.levels.find((l) => l.name === level);
    if (found !== undefined) event.log_level = found;
  }
  const failure: unknown = event.log_failure;
  if (typeof failure === "string") {
    event.log_failure = { value: failure, getTraceback: () => failure };
  }
  return event;
}
