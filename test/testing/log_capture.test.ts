import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Failure } from "../../src/internet/failure.js";
import { _callSafely } from "../../src/internet/protocol.js";
import { Logger, LogPublisher } from "../../src/logger/index.js";
import { captureLogs, LogCapture } from "../../src/testing/index.js";

describe("LogCapture", () => {
  test("captures events published to the global publisher until stopped", () => {
    const log = new Logger("test.capture");
    const capture = new LogCapture();
    log.info("Hello {name}", { name: "world" });
    capture.stop();
    log.info("not captured");
    assert.equal(capture.events.length, 1);
    assert.deepEqual(capture.messages(), ["Hello world"]);
    capture.stop();
  });

  test("an exception in a protocol callback is logged and can be flushed by type", () => {
    const capture = new LogCapture({ exclusive: true });
    try {
      _callSafely("dataReceived", () => {
        throw new RangeError("bad byte");
      });
    } finally {
      capture.stop();
    }
    assert.equal(capture.failures().length, 1);
    assert.deepEqual(capture.flushFailures(TypeError), []);
    const flushed = capture.flushFailures(RangeError);
    assert.equal(flushed.length, 1);
    assert.ok(flushed[0] instanceof Failure);
    assert.equal(flushed[0]!.getErrorMessage(), "bad byte");
    assert.equal(capture.events.length, 0);
  });

  test("captures from a given publisher", () => {
    const publisher = new LogPublisher();
    const capture = new LogCapture({ publisher });
    new Logger("own", undefined, publisher).warn("careful");
    capture.stop();
    assert.deepEqual(capture.messages(), ["careful"]);
    assert.equal(publisher.observers.length, 0);
  });
});

test("exclusive capture hides events from other observers and gives them back at stop", () => {
  const publisher = new LogPublisher();
  const seen: string[] = [];
  const other = () => {
    seen.push("event");
  };
  publisher.addObserver(other);
  const capture = new LogCapture({ publisher, exclusive: true });
  new Logger("x", undefined, publisher).critical("hidden");
  capture.stop();
  assert.deepEqual(seen, []);
  assert.equal(capture.events.length, 1);
  assert.deepEqual(publisher.observers, [other]);
});

describe("captureLogs", () => {
  test("returns the events logged while a function runs", () => {
    const log = new Logger("test.captureLogs");
    const events = captureLogs(() => log.error("oops {n}", { n: 1 }));
    assert.equal(events.length, 1);
    assert.equal(events[0]!.log_namespace, "test.captureLogs");
  });

  test("waits for an async function and stops capturing afterwards", async () => {
    const log = new Logger("test.async");
    const events = await captureLogs(async () => {
      await Promise.resolve();
      log.info("inside");
    });
    log.info("outside");
    assert.equal(events.length, 1);
  });

  test("stops capturing when the function throws, and rethrows", () => {
    const publisher = new LogPublisher();
    assert.throws(
      () =>
        captureLogs(
          () => {
            throw new Error("fn failed");
          },
          { publisher },
        ),
      /fn failed/,
    );
    assert.equal(publisher.observers.length, 0);
  });
});
