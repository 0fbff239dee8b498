// Tests for the legacy log API (log.msg, log.err, log.startLogging, legacy observers).

process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  globalLogBeginner,
  globalLogPublisher,
  type ILogObserver,
  type LogEvent,
  Logger,
  LogLevel,
  log,
} from "../../src/logger/index.js";

const T = 1795773600;

function recorder(): { events: LogEvent[]; observer: ILogObserver } {
  const events: LogEvent[] = [];
  return { events, observer: (event) => events.push(event) };
}

/** Runs `fn` with an observer on the global publisher; returns what it saw. */
function capture(fn: () => void): LogEvent[] {
  const { events, observer } = recorder();
  globalLogPublisher.addObserver(observer);
  try {
    fn();
  } finally {
    globalLogPublisher.removeObserver(observer);
  }
  return events;
}

const out = {
  text: "",
  write(s: string) {
    this.text += s;
  },
};

// Runs first: the tests below then log to `out` rather than to the buffer and stderr.
describe("log.startLogging", () => {
  it("begins logging to the stream in the classic format, replaying earlier messages", () => {
    log.msg("before start", { log_time: T });
    assert.equal(globalLogBeginner.hasBegun, false);
    const observer = log.startLogging(out);
    assert.equal(globalLogBeginner.hasBegun, true);
    assert.equal(typeof observer, "function");
    log.msg("Client connected from", "127.0.0.1", { log_time: T });
    new Logger("new.style", undefined, undefined, { clock: () => T }).warn("w {n}", { n: 1 });
    const lines = out.text.split("\n");
    assert.equal(lines[0], "2026-11-27 10:00:00+0000 [-] before start");
    assert.match(lines[1] ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000 \[-\] Log opened\.$/);
    assert.equal(lines[2], "2026-11-27 10:00:00+0000 [-] Client connected from 127.0.0.1");
    assert.equal(lines[3], "2026-11-27 10:00:00+0000 [new.style#warn] w 1");
  });
});

describe("log.msg", () => {
  it("joins the message parts with spaces, stringifying each", () => {
    const [event] = capture(() => log.msg("got", 3, "items:", [1, 2], null));
    assert.equal(event?.log_text, "got 3 items: [ 1, 2 ] null");
    assert.equal(event?.log_format, "{log_text}");
    assert.equal(event?.log_level, LogLevel.info);
    assert.equal(event?.log_namespace, "log_legacy");
    assert.equal(event?.log_system, "-");
    assert.deepEqual(event?.message, ["got", 3, "items:", [1, 2], null]);
    assert.equal(event?.isError, 0);
    assert.equal(typeof event?.log_time, "number");
  });

  it("takes a last plain-object argument as fields", () => {
    const [event] = capture(() => log.msg("hi", { system: "Echo,0,127.0.0.1", user: "bob" }));
    assert.equal(event?.log_text, "hi");
    assert.equal(event?.log_system, "Echo,0,127.0.0.1");
    assert.equal(event?.user, "bob");
  });

  it("isError makes the event critical", () => {
    const [event] = capture(() => log.msg("bad", { isError: 1 }));
    assert.equal(event?.log_level, LogLevel.critical);
  });

  it("formats a Python %-style format field with the event's fields", () => {
    const [event] = capture(() =>
      log.msg({ format: "%(n)d%% of %(who)s %(who)r", n: 99.7, who: "x" }),
    );
    assert.equal(event?.log_text, "99% of x 'x'");
  });

  it("reports a bad %-style format instead of throwing", () => {
    const [event] = capture(() => log.msg({ format: "%(missing)s" }));
    assert.match(
      String(event?.log_text),
      /^Invalid format string or unformattable object in log message: '%\(missing\)s', No such field: missing$/,
    );
  });
});

describe("log.err", () => {
  it("logs an Error as a critical failure: why, then the traceback", () => {
    const error = new Error("kaboom");
    const [event] = capture(() => log.err(error, "Lookup failed"));
    assert.equal(event?.log_level, LogLevel.critical);
    assert.equal(event?.log_failure?.value, error);
    assert.equal(event?.why, "Lookup failed");
    assert.equal(event?.isError, 1);
    assert.equal(event?.log_text, "Lookup failed");
    const start = out.text.length;
    log.err(new Error("again"), "Shown");
    assert.match(out.text.slice(start), /^\S+ \S+ \[-\] Shown\n\tError: again\n\t {4}at /);
  });

  it("passes a Failure-like object through unchanged and defaults why to 'Unhandled Error'", () => {
    const failure = { value: 1, getTraceback: () => "tb" };
    const [event] = capture(() => log.err(failure));
    assert.equal(event?.log_failure, failure);
    assert.equal(event?.log_text, "Unhandled Error");
  });

  it("wraps a thrown non-Error value, and reports a call without any value", () => {
    const [withString, withNothing] = capture(() => {
      log.err("just a string");
      log.err();
    });
    assert.equal(withString?.log_failure?.getTraceback(), "string: just a string");
    assert.match(
      String(withNothing?.log_failure?.getTraceback()),
      /log\.err\(\) called without an error/,
    );
  });
});

describe("log.callWithContext", () => {
  it("adds the context to messages logged during the call, and returns the call's result", () => {
    const events = capture(() => {
      const result = log.callWithContext({ system: "HTTPChannel,3" }, () => {
        log.msg("inside");
        return log.callWithContext({ extra: 1 }, () => {
          log.msg("nested");
          return 42;
        });
      });
      assert.equal(result, 42);
      log.msg("outside");
    });
    assert.deepEqual(
      events.map((e) => [e.log_text, e.log_system, e.extra]),
      [
        ["inside", "HTTPChannel,3", undefined],
        ["nested", "HTTPChannel,3", 1],
        ["outside", "-", undefined],
      ],
    );
  });

  it("restores the context when the call throws", () => {
    assert.throws(() =>
      log.callWithContext({ system: "temp" }, () => {
        throw new Error("x");
      }),
    );
    const [event] = capture(() => log.msg("after"));
    assert.equal(event?.log_system, "-");
  });
});

describe("log.addObserver (legacy observers)", () => {
  it("gives legacy observers message, time, system and isError, for new-style events too", () => {
    const seen: log.LegacyEvent[] = [];
    const observer: log.LegacyLogObserver = (eventDict) => seen.push(eventDict);
    log.addObserver(observer);
    try {
      log.msg("old style", { log_time: T });
      const logger = new Logger("new", undefined, undefined, { clock: () => T });
      logger.error("new {x}", { x: 1 });
      logger.failure("broke", { value: 1, getTraceback: () => "tb" });
    } finally {
      log.removeObserver(observer);
    }
    log.msg("not seen");
    assert.equal(seen.length, 3);
    const [old, fresh, failed] = seen;
    assert.deepEqual(old?.message, ["old style"]);
    assert.equal(old?.system, "-");
    assert.equal(old?.isError, 0);
    assert.equal(log.textFromEventDict(old ?? {}), "old style");
    assert.deepEqual(fresh?.message, []);
    assert.equal(fresh?.time, T);
    assert.equal(fresh?.isError, 1);
    assert.equal(log.textFromEventDict(fresh ?? {}), "new 1");
    assert.equal(failed?.why, "broke");
    assert.equal(failed?.isError, 1);
    assert.equal(log.textFromEventDict(failed ?? {}), "broke\ntb");
  });
});

describe("log.textFromEventDict", () => {
  it("returns null when there is nothing to say", () => {
    assert.equal(log.textFromEventDict({ message: [] }), null);
  });

  it("says 'Unhandled Error' and the traceback for an error without why", () => {
    const failure = { value: 1, getTraceback: () => "tb" };
    assert.equal(log.textFromEventDict({ isError: 1, failure }), "Unhandled Error\ntb");
  });
});
