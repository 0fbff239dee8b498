// Tests for Logger: events built, level methods, failures, and the observed-level short cut.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FilteringLogObserver,
  globalLogPublisher,
  type ILogObserver,
  type LogEvent,
  Logger,
  LogLevel,
  LogLevelFilterPredicate,
  LogPublisher,
} from "../../src/logger/index.js";

function recorder(): { events: LogEvent[]; observer: ILogObserver } {
  const events: LogEvent[] = [];
  return { events, observer: (event) => events.push(event) };
}

const clock = () => 1000.5;

describe("Logger", () => {
  it("emits an event with the log_* keys and the caller's fields", () => {
    const { events, observer } = recorder();
    const source = { id: 1 };
    const log = new Logger("app.db", source, observer, { clock });
    log.info("Query took {ms}ms", { ms: 12 });
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.log_format, "Query took {ms}ms");
    assert.equal(event?.log_level, LogLevel.info);
    assert.equal(event?.log_namespace, "app.db");
    assert.equal(event?.log_source, source);
    assert.equal(event?.log_time, 1000.5);
    assert.equal(event?.log_logger, log);
    assert.equal(event?.ms, 12);
  });

  it("each level method emits at its level", () => {
    const { events, observer } = recorder();
    const log = new Logger("x", undefined, observer, { clock });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.critical("c");
    assert.deepEqual(
      events.map((e) => [e.log_format, e.log_level]),
      [
        ["d", LogLevel.debug],
        ["i", LogLevel.info],
        ["w", LogLevel.warn],
        ["e", LogLevel.error],
        ["c", LogLevel.critical],
      ],
    );
  });

  it("log_* keys set by the logger win over same-named fields, and fields are copied", () => {
    const { events, observer } = recorder();
    const fields = { log_namespace: "spoofed", log_level: LogLevel.debug, other: 1 };
    new Logger("real", undefined, observer, { clock }).warn("w", fields);
    assert.equal(events[0]?.log_namespace, "real");
    assert.equal(events[0]?.log_level, LogLevel.warn);
    assert.equal("log_format" in fields, false);
  });

  it("failure() attaches the failure as log_failure, critical by default", () => {
    const { events, observer } = recorder();
    const log = new Logger("x", undefined, observer, { clock });
    const failure = { value: new Error("boom"), getTraceback: () => "tb" };
    log.failure("It broke: {what}", failure, undefined, { what: "parser" });
    log.failure("Less bad", failure, LogLevel.warn);
    assert.equal(events[0]?.log_failure, failure);
    assert.equal(events[0]?.log_level, LogLevel.critical);
    assert.equal(events[0]?.what, "parser");
    assert.equal(events[1]?.log_level, LogLevel.warn);
  });

  it("failure() given a bare Error wraps it in a failure-like object with its stack", () => {
    const { events, observer } = recorder();
    const error = new RangeError("out");
    new Logger("x", undefined, observer, { clock }).failure("f", error as never);
    const failure = events[0]?.log_failure;
    assert.equal(failure?.value, error);
    assert.match(failure?.getTraceback() ?? "", /^RangeError: out\n\s+at /);
  });

  it("emit() with an invalid level reports it as a critical failure instead", () => {
    const { events, observer } = recorder();
    const log = new Logger("x", undefined, observer, { clock });
    log.emit("loud" as unknown as LogLevel, "hello");
    assert.equal(events.length, 1);
    assert.equal(events[0]?.log_level, LogLevel.critical);
    assert.equal(events[0]?.invalidLevel, "loud");
    assert.match(String(events[0]?.log_failure?.getTraceback()), /Invalid log level: "loud"/);
  });

  it("derives the namespace from the source's class, else uses 'log'", () => {
    class EchoProtocol {}
    assert.equal(new Logger(undefined, new EchoProtocol()).namespace, "EchoProtocol");
    assert.equal(new Logger(undefined, EchoProtocol).namespace, "EchoProtocol");
    assert.equal(new Logger(undefined, { plain: true }).namespace, "log");
    assert.equal(new Logger().namespace, "log");
    assert.equal(new Logger().source, null);
  });

  it("publishes to globalLogPublisher by default", () => {
    const { events, observer } = recorder();
    globalLogPublisher.addObserver(observer);
    try {
      new Logger("default.target").info("to the world");
    } finally {
      globalLogPublisher.removeObserver(observer);
    }
    assert.equal(events[0]?.log_namespace, "default.target");
  });

  it("takes log_time from a clock with seconds(), such as a reactor", () => {
    const { events, observer } = recorder();
    new Logger("x", undefined, observer, { clock: { seconds: () => 7 } }).info("t");
    assert.equal(events[0]?.log_time, 7);
  });

  it("does not build an event nor read the clock when the observer drops that level", () => {
    const { events, observer } = recorder();
    const predicate = new LogLevelFilterPredicate(LogLevel.warn);
    const publisher = new LogPublisher(new FilteringLogObserver(observer, [predicate]));
    let clockReads = 0;
    const log = new Logger("quiet", undefined, publisher, {
      clock: () => {
        clockReads++;
        return 1;
      },
    });
    log.debug("skipped");
    log.info("skipped");
    log.failure("skipped", { value: 1, getTraceback: () => "" }, LogLevel.info);
    assert.equal(clockReads, 0);
    assert.equal(log.observes(LogLevel.info), false);
    log.warn("kept");
    assert.equal(clockReads, 1);
    assert.deepEqual(
      events.map((e) => e.log_format),
      ["kept"],
    );
    predicate.setLogLevelForNamespace("quiet", LogLevel.debug);
    assert.equal(log.observes(LogLevel.debug), true);
  });

  it("does nothing when the publisher has no observers", () => {
    let clockReads = 0;
    const log = new Logger("x", undefined, new LogPublisher(), { clock: () => clockReads++ });
    log.critical("nobody listens");
    assert.equal(clockReads, 0);
  });

  it("prints as <Logger 'namespace'>", () => {
    assert.equal(String(new Logger("a.b")), "<Logger 'a.b'>");
  });
});
