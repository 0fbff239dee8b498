// Events as text: formatEvent, eventAsText, the classic "time [system] text" line, and timestamps.

import type { LogEvent } from "./_event.js";
import { formatWithFields, parseFormat, renderField, repr, stringify } from "./_format.js";
import { LogLevel } from "./_levels.js";

/** RFC 3339 timestamps as `strftime` format: `2026-11-27T10:00:00+0000`. */
export const timeFormatRFC3339 = "%Y-%m-%dT%H:%M:%S%z";

/** The timestamps of legacy `log.startLogging`: `2026-11-27 10:00:00+0000`. */
export const legacyTimeFormat = "%Y-%m-%d %H:%M:%S%z";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Formats a time (seconds since the epoch) in local time with a `strftime` format. Known
 * directives: `%Y %y %m %d %H %I %M %S %f %p %z %Z %j %a %A %b %B %%`; others stay as written.
 */
export function strftime(when: number, format: string): string {
  const micros = Math.round(when * 1e6);
  const seconds = Math.floor(micros / 1e6);
  const date = new Date(seconds * 1000);
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return format.replace(/%([a-zA-Z%])/g, (all, directive: string) => {
    switch (directive) {
      case "Y":
        return String(date.getFullYear()).padStart(4, "0");
      case "y":
        return two(date.getFullYear() % 100);
      case "m":
        return two(date.getMonth() + 1);
      case "d":
        return two(date.getDate());
      case "H":
        return two(date.getHours());
      case "I":
        return two(date.getHours() % 12 || 12);
      case "M":
        return two(date.getMinutes());
      case "S":
        return two(date.getSeconds());
      case "f":
        return String(micros - seconds * 1e6).padStart(6, "0");
      case "p":
        return date.getHours() < 12 ? "AM" : "PM";
      case "z":
        return zone;
      case "Z":
        return offset === 0 ? "UTC" : zone;
      case "j": {
        const start = new Date(date.getFullYear(), 0, 1);
        const day = Math.round((date.getTime() - start.getTime()) / 86_400_000) + 1;
        return String(day).padStart(3, "0");
      }
      case "a":
        return (DAYS[date.getDay()] ?? "").slice(0, 3);
      case "A":
        return DAYS[date.getDay()] ?? "";
      case "b":
        return (MONTHS[date.getMonth()] ?? "").slice(0, 3);
      case "B":
        return MONTHS[date.getMonth()] ?? "";
      case "%":
        return "%";
      default:
        return all;
    }
  });
}

/**
 * Formats a log time for text output, in local time. Returns `defaultText` when there is no time
 * or no format.
 *
 * @example
 * ```ts
 * formatTime(1795773600); // "2026-11-27T10:00:00+0000" when local time is UTC
 * ```
 */
export function formatTime(
  when: number | null | undefined,
  timeFormat: string | null = timeFormatRFC3339,
  defaultText = "-",
): string {
  if (timeFormat === null || typeof when !== "number" || !Number.isFinite(when)) return defaultText;
  return strftime(when, timeFormat);
}

/**
 * The text of an event that could not be formatted: never throws.
 */
export function formatUnformattableEvent(event: LogEvent, error: unknown): string {
  const why = error instanceof Error ? error.message : safe(() => stringify(error));
  try {
    const { log_logger: _logger, ...rest } = event;
    return `Unable to format event ${repr(rest)}: ${why}`;
  } catch {
    const recovered = Object.keys(event)
      .map((key) => `${key} = ${safe(() => repr(event[key]))}`)
      .join(", ");
    return `Unable to format event: ${why}\nRecoverable data: ${recovered}`;
  }
}

function safe(render: () => string): string {
  try {
    return render();
  } catch {
    return "<unrepresentable>";
  }
}

function eventText(event: LogEvent): string {
  try {
    const format = event.log_format;
    if (format === null || format === undefined) return "";
    if (typeof format !== "string") {
      throw new TypeError(`Log format must be a string, not ${typeof format}`);
    }
    return formatWithFields(format, event, event.log_flattened);
  } catch (error) {
    return formatUnformattableEvent(event, error);
  }
}

function tracebackText(event: LogEvent): string {
  try {
    const traceback = event.log_failure?.getTraceback();
    return typeof traceback === "string" ? traceback : stringify(traceback);
  } catch {
    return "(UNABLE TO OBTAIN TRACEBACK FROM EVENT)";
  }
}

/** The `[...]` part of a text line: `log_system`, or `namespace#level`. */
export function formatSystem(event: LogEvent): string {
  const system = event.log_system;
  if (system !== undefined && system !== null) return safe(() => stringify(system));
  const level = event.log_level;
  const levelName = LogLevel.isLogLevel(level) ? level.name : "-";
  const namespace = event.log_namespace;
  return `${typeof namespace === "string" && namespace !== "" ? namespace : "-"}#${levelName}`;
}

/**
 * Renders an event's `log_format` with the event's own fields: `{name}`, `{obj.attr}`,
 * `{list[0]}`, `{f()}` (calls `f`), `{x!r}` (inspect), `{n:.2f}` (Python format spec), `{{` and
 * `}}` for literal braces. Never throws: a bad format or a missing field gives an
 * "Unable to format event" text. An event without `log_format` renders as `""`.
 *
 * @example
 * ```ts
 * formatEvent({ log_format: "{user} logged in from {peer.host}", user: "bob", peer: { host: "::1" } });
 * // "bob logged in from ::1"
 * ```
 */
export function formatEvent(event: LogEvent): string {
  return eventText(event);
}

/** Options of {@link eventAsText}. */
export interface EventAsTextOptions {
  /** Append the traceback of `log_failure` on the following lines. Default `true`. */
  includeTraceback?: boolean;
  /** Prefix the time (see `formatTime`). Default `true`. */
  includeTimestamp?: boolean;
  /** Prefix `[system]` (`log_system`, or `namespace#level`). Default `true`. */
  includeSystem?: boolean;
  /** Formats `log_time`; default {@link formatTime} with RFC 3339. */
  formatTime?: (when: number | undefined) => string;
}

/**
 * An event as one piece of human-readable text: `time [system] message`, then the failure's
 * traceback if any. Returns `""` for an event with neither text nor failure. Never throws.
 *
 * @example
 * ```ts
 * eventAsText(event, { includeTimestamp: false }); // "[web#info] GET / 200"
 * ```
 */
export function eventAsText(event: LogEvent, options: EventAsTextOptions = {}): string {
  const {
    includeTraceback = true,
    includeTimestamp = true,
    includeSystem = true,
    formatTime: timeFormatter = (when: number | undefined) => formatTime(when),
  } = options;
  let text = eventText(event);
  if (includeTraceback && event.log_failure !== undefined && event.log_failure !== null) {
    text = `${text}\n${tracebackText(event)}`;
  }
  if (text === "") return text;
  const time = includeTimestamp ? `${safe(() => timeFormatter(event.log_time))} ` : "";
  const system = includeSystem ? `[${formatSystem(event)}] ` : "";
  return `${time}${system}${text}`;
}

/**
 * An event as a classic Twisted log line, `time [system] text\n`, with continuation lines of
 * the text (and traceback) indented by a tab. Returns `null` for an event without text.
 *
 * @example
 * ```ts
 * formatEventAsClassicLogText(event); // "2026-11-27T10:00:00+0000 [web#info] GET / 200\n"
 * ```
 */
export function formatEventAsClassicLogText(
  event: LogEvent,
  timeFormatter: (when: number | undefined) => string = (when) => formatTime(when),
): string | null {
  let text = eventText(event);
  if (event.log_failure !== undefined && event.log_failure !== null) {
    text = `${text}\n${tracebackText(event)}`;
  }
  if (text === "") return null;
  text = text.replaceAll("\n", "\n\t");
  return `${safe(() => timeFormatter(event.log_time))} [${formatSystem(event)}] ${text}\n`;
}

/**
 * Records the rendered text of every field of the event's format in `log_flattened` (keyed by
 * the field's source text), so that the event still formats once serialised. Mutates `event`;
 * fields that cannot be rendered are left out.
 */
export function flattenEvent(event: LogEvent): void {
  const format = event.log_format;
  if (typeof format !== "string") return;
  let tokens: ReturnType<typeof parseFormat>;
  try {
    tokens = parseFormat(format);
  } catch {
    return;
  }
  const flattened: Record<string, string> = { ...event.log_flattened };
  for (const token of tokens) {
    if (typeof token === "string" || Object.hasOwn(flattened, token.source)) continue;
    try {
      flattened[token.source] = renderField(token, event, event.log_flattened);
    } catch {
      // Left out: formatting the deserialised event will report the missing field.
    }
  }
  event.log_flattened = flattened;
}
