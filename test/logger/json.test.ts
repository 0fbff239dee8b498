// Tests for eventAsJSON and eventFromJSON.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  eventAsJSON,
  eventAsText,
  eventFromJSON,
  formatEvent,
  type LogEvent,
  Logger,
  LogLevel,
} from "../../src/logger/index.js";

describe("eventAsJSON", () => {
  it("keeps plain data, writes levels by name and failures as traceback text", () => {
    const event: LogEvent = {
      log_format: "x",
      log_level: LogLevel.warn,
      log_failure: { value: 1, getTraceback: () => "Error: tb" },
      nested: { list: [1, "two", null, true], deep: { n: 1.5 } },
    };
    const parsed = JSON.parse(eventAsJSON(event));
    assert.equal(parsed.log_level, "warn");
    assert.equal(parsed.log_failure, "Error: tb");
    assert.deepEqual(parsed.nested, event.nested);
  });

  it("stringifies what JSON cannot hold: class instances, errors, bigints, non-finite numbers", () => {
    class Protocol {
      toString() {
        return "<Protocol #3>";
      }
    }
    class Bare {
      x = 1;
    }
    const parsed = JSON.parse(
      eventAsJSON({
        p: new Protocol(),
        b: new Bare(),
        e: new Error("no"),
        big: 2n ** 70n,
        inf: Number.POSITIVE_INFINITY,
        date: new Date(0),
      }),
    );
    assert.equal(parsed.p, "<Protocol #3>");
    assert.equal(parsed.b, "Bare { x: 1 }");
    assert.equal(parsed.e, "Error: no");
    assert.equal(parsed.big, "1180591620717411303424");
    assert.equal(parsed.inf, "Infinity");
    assert.equal(parsed.date, "1970-01-01T00:00:00.000Z");
  });

  it("leaves out log_logger and does not modify the event", () => {
    const events: LogEvent[] = [];
    new Logger("x", undefined, (e) => events.push(e)).info("hi {who}", { who: "a" });
    const event = events[0] ?? {};
    const parsed = JSON.parse(eventAsJSON(event));
    assert.equal("log_logger" in parsed, false);
    assert.equal("log_flattened" in event, false);
  });
});

describe("eventFromJSON", () => {
  it("round-trips an event so that it still formats, with its level and traceback", () => {
    const original: LogEvent = {
      log_format: "{user!r} sent {size:,} bytes via {conn.peer()}",
      log_level: LogLevel.error,
      log_namespace: "ftp",
      log_time: 1,
      user: "bob",
      size: 1234567,
      conn: { peer: () => "10.0.0.1" },
      log_failure: { value: 1, getTraceback: () => "Error: tb" },
    };
    const restored = eventFromJSON(eventAsJSON(original));
    assert.equal(restored.log_level, LogLevel.error);
    assert.equal(formatEvent(restored), "'bob' sent 1,234,567 bytes via 10.0.0.1");
    assert.equal(
      eventAsText(restored, { includeTimestamp: false }),
      "[ftp#error] 'bob' sent 1,234,567 bytes via 10.0.0.1\nError: tb",
    );
  });

  it("refuses JSON that is not an object", () => {
    assert.throws(() => eventFromJSON("[1]"), /^TypeError: Log event JSON must be an object$/);
    assert.throws(() => eventFromJSON("{"), SyntaxError);
  });
});
