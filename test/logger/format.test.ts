// Tests for formatEvent, eventAsText, formatEventAsClassicLogText and formatTime.

process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  eventAsText,
  formatEvent,
  formatEventAsClassicLogText,
  formatTime,
  type LogEvent,
  LogLevel,
} from "../../src/logger/index.js";

// 2026-11-27T10:00:00Z
const T = 1795773600;

function fmt(format: string, fields: Record<string, unknown> = {}): string {
  return formatEvent({ log_format: format, ...fields });
}

describe("formatEvent", () => {
  it("substitutes {field} with the event's field", () => {
    assert.equal(fmt("Hello, {name}!", { name: "world" }), "Hello, world!");
  });

  it("renders {{ and }} as literal braces", () => {
    assert.equal(fmt("{{not a field}} {x}", { x: 1 }), "{not a field} 1");
  });

  it("follows attribute paths and indexes: {a.b}, {a[0]}, {m[key]}", () => {
    const fields = { peer: { host: "::1", ports: [22, 80] }, m: new Map([["k", "v"]]) };
    assert.equal(fmt("{peer.host} {peer.ports[1]} {m[k]}", fields), "::1 80 v");
  });

  it("calls a field ending in () with its owner as this", () => {
    const counter = {
      n: 41,
      next() {
        return this.n + 1;
      },
    };
    assert.equal(fmt("{f()} {counter.next()}", { f: () => "called", counter }), "called 42");
  });

  it("applies !r (inspect) and !s conversions", () => {
    assert.equal(fmt("{s!r} {n!s}", { s: "x", n: 3 }), "'x' 3");
  });

  it("applies Python format specs: width, alignment, fill, precision, types", () => {
    assert.equal(fmt("[{s:>5}][{s:<5}][{s:*^7}]", { s: "ab" }), "[   ab][ab   ][**ab***]");
    assert.equal(
      fmt("{x:.2f} {x:8.3f} {x:e} {x:.3g}", { x: 1.23456 }),
      "1.23    1.235 1.234560e+00 1.23",
    );
    assert.equal(
      fmt("{n:05d} {n:+d} {n:x} {n:#x} {n:#b} {n:o}", { n: 42 }),
      "00042 +42 2a 0x2a 0b101010 52",
    );
    assert.equal(
      fmt("{n:,} {n:_d} {r:.1%}", { n: 1234567, r: 0.256 }),
      "1,234,567 1_234_567 25.6%",
    );
    assert.equal(fmt("{s:.3}", { s: "abcdef" }), "abc");
    assert.equal(fmt("{n:=+6}", { n: -5 }), "-    5");
    assert.equal(fmt("{big:,d}", { big: 12345678901234567890n }), "12,345,678,901,234,567,890");
  });

  it("renders nested fields inside a format spec", () => {
    assert.equal(fmt("[{s:>{w}}]", { s: "x", w: 3 }), "[  x]");
  });

  it("stringifies values the way str() would: objects inspected, errors by name and message", () => {
    assert.equal(fmt("{o}", { o: { a: 1 } }), "{ a: 1 }");
    assert.equal(fmt("{e}", { e: new TypeError("bad") }), "TypeError: bad");
    assert.equal(
      fmt("{l} {u} {z}", { l: [1, 2], u: undefined, z: null }),
      "[ 1, 2 ] undefined null",
    );
    assert.equal(fmt("{level}", { level: LogLevel.warn }), "warn");
  });

  it("renders an event without log_format as empty text", () => {
    assert.equal(formatEvent({ x: 1 }), "");
    assert.equal(formatEvent({ log_format: null }), "");
  });

  it("never throws: a missing field gives an 'Unable to format event' text naming it", () => {
    const text = fmt("Hi {nobody}", { log_level: LogLevel.info });
    assert.match(
      text,
      /^Unable to format event \{.*<LogLevel=info>.*\}: No such field in event: nobody$/,
    );
  });

  it("never throws on bad syntax, bad specs, bad conversions or throwing getters", () => {
    const bad = {
      get boom(): never {
        throw new Error("getter failed");
      },
    };
    for (const [format, fields] of [
      ["{unclosed", {}],
      ["single } brace", {}],
      ["{x:d}", { x: 1.5 }],
      ["{x:q}", { x: 1 }],
      ["{x!z}", { x: 1 }],
      ["{}", {}],
      ["{0}", {}],
      ["{b.boom}", { b: bad }],
      ["{x.y.z}", { x: null }],
      ["{x()}", { x: 3 }],
    ] as const) {
      assert.match(fmt(format, fields), /^Unable to format event /, format);
    }
  });

  it("never throws when the format is not a string or the event cannot be inspected", () => {
    assert.match(formatEvent({ log_format: 42 as unknown as string }), /^Unable to format event /);
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("no keys");
        },
      },
    );
    assert.match(formatEvent({ log_format: "{h.x}", h: hostile }), /^Unable to format event/);
  });

  it("uses log_flattened renderings in place of missing fields", () => {
    const event: LogEvent = {
      log_format: "{user!r} did {n:>3}",
      log_flattened: { "user!r": "'bob'", "n:>3": "  7" },
    };
    assert.equal(formatEvent(event), "'bob' did   7");
  });
});

describe("formatTime", () => {
  it("formats RFC 3339 in local time by default", () => {
    assert.equal(formatTime(T), "2026-11-27T10:00:00+0000");
  });

  it("supports strftime directives including microseconds", () => {
    assert.equal(
      formatTime(T + 0.25, "%a %d %b %Y %I:%M:%S.%f %p %j %%"),
      "Fri 27 Nov 2026 10:00:00.250000 AM 331 %",
    );
  });

  it("returns the default text when there is no time or no format", () => {
    assert.equal(formatTime(undefined), "-");
    assert.equal(formatTime(T, null), "-");
    assert.equal(formatTime(Number.NaN, undefined, "?"), "?");
  });

  it("shows the local UTC offset", () => {
    const saved = process.env.TZ;
    process.env.TZ = "Asia/Kolkata";
    try {
      assert.equal(formatTime(T), "2026-11-27T15:30:00+0530");
    } finally {
      process.env.TZ = saved;
    }
  });
});

describe("eventAsText", () => {
  const failure = { value: new Error("x"), getTraceback: () => "Traceback line 1\nline 2" };
  const event: LogEvent = {
    log_format: "Hello {who}",
    who: "bob",
    log_level: LogLevel.info,
    log_namespace: "app.web",
    log_time: T,
  };

  it("prefixes the time and [namespace#level] by default", () => {
    assert.equal(eventAsText(event), "2026-11-27T10:00:00+0000 [app.web#info] Hello bob");
  });

  it("leaves out the parts switched off", () => {
    assert.equal(eventAsText(event, { includeTimestamp: false }), "[app.web#info] Hello bob");
    assert.equal(
      eventAsText(event, { includeSystem: false, includeTimestamp: false }),
      "Hello bob",
    );
  });

  it("uses log_system in place of namespace#level, and '-' for missing parts", () => {
    assert.equal(
      eventAsText({ ...event, log_system: "HTTPChannel,0" }, { includeTimestamp: false }),
      "[HTTPChannel,0] Hello bob",
    );
    assert.equal(eventAsText({ log_format: "x" }), "- [-#-] x");
  });

  it("appends the failure's traceback unless includeTraceback is false", () => {
    const withFailure = { ...event, log_failure: failure };
    assert.equal(
      eventAsText(withFailure, { includeTimestamp: false, includeSystem: false }),
      "Hello bob\nTraceback line 1\nline 2",
    );
    assert.equal(
      eventAsText(withFailure, { includeTraceback: false, includeTimestamp: false }),
      "[app.web#info] Hello bob",
    );
  });

  it("says so when the traceback cannot be obtained", () => {
    const broken = {
      value: 1,
      getTraceback(): string {
        throw new Error("no");
      },
    };
    assert.equal(
      eventAsText(
        { log_format: "x", log_failure: broken },
        { includeTimestamp: false, includeSystem: false },
      ),
      "x\n(UNABLE TO OBTAIN TRACEBACK FROM EVENT)",
    );
  });

  it("returns empty text for an event with no text and no failure", () => {
    assert.equal(eventAsText({ log_level: LogLevel.info, log_time: T }), "");
  });

  it("accepts a custom time formatter", () => {
    assert.equal(
      eventAsText(event, { formatTime: (t) => `t=${t}`, includeSystem: false }),
      `t=${T} Hello bob`,
    );
  });
});

describe("formatEventAsClassicLogText", () => {
  it("gives one line ending in a newline, continuation lines indented with a tab", () => {
    const event: LogEvent = {
      log_format: "two\nlines",
      log_level: LogLevel.warn,
      log_namespace: "ns",
      log_time: T,
    };
    assert.equal(
      formatEventAsClassicLogText(event),
      "2026-11-27T10:00:00+0000 [ns#warn] two\n\tlines\n",
    );
  });

  it("returns null for an event without text", () => {
    assert.equal(formatEventAsClassicLogText({ log_time: T }), null);
  });
});
