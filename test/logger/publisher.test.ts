// Tests for LogPublisher, LimitedHistoryLogObserver and LogBeginner.

process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ILogObserver,
  LimitedHistoryLogObserver,
  LogBeginner,
  type LogEvent,
  Logger,
  LogLevel,
  LogPublisher,
} from "../../src/logger/index.js";

function recorder(): { events: LogEvent[]; observer: ILogObserver } {
  const events: LogEvent[] = [];
  return { events, observer: (event) => events.push(event) };
}

function sink(): { text: () => string; write: (s: string) => void } {
  let buffer = "";
  return { text: () => buffer, write: (s: string) => void (buffer += s) };
}

const clock = () => 1795773600;

describe("LogPublisher", () => {
  it("is itself an observer: calling it forwards the event to every observer in order", () => {
    const order: string[] = [];
    const publisher = new LogPublisher(
      () => order.push("a"),
      () => order.push("b"),
    );
    const observer: ILogObserver = publisher;
    observer({ log_format: "x" });
    assert.deepEqual(order, ["a", "b"]);
    assert.ok(publisher instanceof LogPublisher);
    assert.equal(typeof publisher, "function");
  });

  it("adds an observer once and removes it; removing an unknown one does nothing", () => {
    const { events, observer } = recorder();
    const publisher = new LogPublisher();
    publisher.addObserver(observer);
    publisher.addObserver(observer);
    assert.equal(publisher.observers.length, 1);
    publisher({ n: 1 });
    publisher.removeObserver(observer);
    publisher.removeObserver(observer);
    publisher({ n: 2 });
    assert.deepEqual(
      events.map((e) => e.n),
      [1],
    );
  });

  it("refuses an observer that is not a function", () => {
    assert.throws(
      () => new LogPublisher().addObserver("nope" as never),
      /^TypeError: Log observer must be a function: nope$/,
    );
  });

  it("an observer that throws does not stop the others, which get a critical report", () => {
    const { events, observer } = recorder();
    const broken: ILogObserver = () => {
      throw new Error("observer bug");
    };
    const publisher = new LogPublisher(broken, observer);
    publisher({ log_format: "first" });
    assert.equal(events.length, 2);
    assert.equal(events[0]?.log_format, "first");
    const report = events[1];
    assert.equal(report?.log_level, LogLevel.critical);
    assert.equal(report?.observer, broken);
    assert.match(String(report?.log_format), /^Temporarily disabling observer \{observer\}/);
    assert.match(String(report?.log_failure?.getTraceback()), /Error: observer bug/);
    // Still registered, as in Twisted: the next event reaches it again.
    assert.equal(publisher.observers.length, 2);
  });

  it("a report that itself throws in another observer does not loop", () => {
    let calls = 0;
    const alwaysBroken: ILogObserver = () => {
      calls++;
      throw new Error("again");
    };
    const publisher = new LogPublisher(alwaysBroken, () => {
      throw new Error("also broken");
    });
    publisher({ log_format: "x" });
    assert.equal(calls, 2);
  });

  it("observers added or removed while publishing take effect from the next event", () => {
    const { events, observer } = recorder();
    const publisher = new LogPublisher();
    const adder: ILogObserver = () => publisher.addObserver(observer);
    publisher.addObserver(adder);
    publisher({ n: 1 });
    publisher({ n: 2 });
    assert.deepEqual(
      events.map((e) => e.n),
      [2],
    );
  });

  it("observesLevel is false with no observers and true with a plain observer", () => {
    const publisher = new LogPublisher();
    assert.equal(publisher.observesLevel(LogLevel.critical, "x"), false);
    publisher.addObserver(() => {});
    assert.equal(publisher.observesLevel(LogLevel.debug, "x"), true);
  });
});

describe("LimitedHistoryLogObserver", () => {
  it("replays the last events kept, oldest first, dropping the oldest beyond its size", () => {
    const history = new LimitedHistoryLogObserver(3);
    for (let n = 1; n <= 5; n++) history({ n });
    assert.equal(history.count, 3);
    const { events, observer } = recorder();
    history.replayTo(observer);
    assert.deepEqual(
      events.map((e) => e.n),
      [3, 4, 5],
    );
    history.clear();
    assert.equal(history.count, 0);
  });

  it("refuses a size that is not a positive integer", () => {
    assert.throws(() => new LimitedHistoryLogObserver(0), RangeError);
    assert.throws(() => new LimitedHistoryLogObserver(1.5), RangeError);
  });
});

describe("LogBeginner", () => {
  it("buffers events until logging begins, then replays them to the new observers", () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, { errorStream: sink() });
    const log = new Logger("early", undefined, publisher, { clock });
    log.info("one");
    log.debug("two");
    const { events, observer } = recorder();
    assert.equal(beginner.hasBegun, false);
    beginner.beginLoggingTo([observer]);
    assert.equal(beginner.hasBegun, true);
    log.info("three");
    assert.deepEqual(
      events.map((e) => e.log_format),
      ["one", "two", "three"],
    );
  });

  it("keeps only the newest bufferSize events", () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, { errorStream: sink(), bufferSize: 2 });
    for (let n = 1; n <= 4; n++) publisher({ n });
    const { events, observer } = recorder();
    beginner.beginLoggingTo([observer]);
    assert.deepEqual(
      events.map((e) => e.n),
      [3, 4],
    );
  });

  it("discardBuffer drops the buffered events", () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, { errorStream: sink() });
    publisher({ n: 1 });
    const { events, observer } = recorder();
    beginner.beginLoggingTo([observer], { discardBuffer: true });
    assert.equal(events.length, 0);
  });

  it("writes critical events to the error stream before logging begins, and only those", () => {
    const publisher = new LogPublisher();
    const errors = sink();
    const beginner = new LogBeginner(publisher, { errorStream: errors });
    const log = new Logger("early", undefined, publisher, { clock });
    log.error("not yet");
    log.critical("on fire");
    assert.equal(errors.text(), "2026-11-27T10:00:00+0000 [early#critical] on fire\n");
    beginner.beginLoggingTo([() => {}]);
    log.critical("after");
    assert.equal(errors.text(), "2026-11-27T10:00:00+0000 [early#critical] on fire\n");
  });

  it("a second beginLoggingTo adds its observers and warns about both call sites", () => {
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, { errorStream: sink(), clock });
    const first = recorder();
    const second = recorder();
    beginner.beginLoggingTo([first.observer]);
    beginner.beginLoggingTo([second.observer]);
    const warning = first.events.at(-1);
    assert.equal(warning?.log_level, LogLevel.warn);
    assert.match(String(warning?.log_format), /^Warning: primary log target selected twice/);
    assert.match(String(warning?.here), /publisher\.test\.ts/);
    assert.match(String(warning?.previous), /publisher\.test\.ts/);
    publisher({ log_format: "both" });
    assert.equal(first.events.at(-1)?.log_format, "both");
    assert.equal(second.events.at(-1)?.log_format, "both");
  });

  it("redirectStandardIO logs console output line by line, without looping", () => {
    const calls: unknown[][] = [];
    const fakeConsole = {
      log: (...args: unknown[]) => calls.push(["log", ...args]),
      info: (...args: unknown[]) => calls.push(["info", ...args]),
      debug: (...args: unknown[]) => calls.push(["debug", ...args]),
      warn: (...args: unknown[]) => calls.push(["warn", ...args]),
      error: (...args: unknown[]) => calls.push(["error", ...args]),
    } as unknown as Console;
    const publisher = new LogPublisher();
    const beginner = new LogBeginner(publisher, {
      errorStream: sink(),
      console: fakeConsole,
      clock,
    });
    const { events, observer } = recorder();
    // An observer that prints must reach the real console, not the log.
    const echo: ILogObserver = (event) => fakeConsole.log("echo", event.log_io);
    beginner.beginLoggingTo([observer, echo], { redirectStandardIO: true });
    fakeConsole.log("hello %s", "world");
    fakeConsole.error("bad\nthings");
    assert.deepEqual(
      events.map((e) => [e.log_namespace, e.log_level, e.log_io, e.log_format]),
      [
        ["stdout", LogLevel.info, "hello world", "{log_io}"],
        ["stderr", LogLevel.error, "bad", "{log_io}"],
        ["stderr", LogLevel.error, "things", "{log_io}"],
      ],
    );
    assert.deepEqual(calls, [
      ["log", "echo", "hello world"],
      ["log", "echo", "bad"],
      ["log", "echo", "things"],
    ]);
  });
});
