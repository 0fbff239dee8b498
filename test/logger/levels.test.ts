// Tests for LogLevel and InvalidLogLevelError.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidLogLevelError, LogLevel } from "../../src/logger/index.js";

describe("LogLevel", () => {
  it("orders the five levels from debug to critical", () => {
    assert.deepEqual(
      LogLevel.levels.map((level) => level.name),
      ["debug", "info", "warn", "error", "critical"],
    );
    assert.ok(LogLevel.critical.isAtLeast(LogLevel.error));
    assert.ok(LogLevel.warn.isAtLeast(LogLevel.warn));
    assert.ok(!LogLevel.debug.isAtLeast(LogLevel.info));
    assert.ok(LogLevel.info.value < LogLevel.warn.value);
  });

  it("levelWithName returns the level of each name, case-insensitively", () => {
    for (const level of LogLevel.levels) {
      assert.equal(LogLevel.levelWithName(level.name), level);
      assert.equal(LogLevel.levelWithName(level.name.toUpperCase()), level);
    }
  });

  it('levelWithName accepts "warning" for warn', () => {
    assert.equal(LogLevel.levelWithName("warning"), LogLevel.warn);
  });

  it("levelWithName throws InvalidLogLevelError naming an unknown name", () => {
    assert.throws(
      () => LogLevel.levelWithName("verbose"),
      (error: unknown) =>
        error instanceof InvalidLogLevelError &&
        error.code === "ERR_INVALID_LOG_LEVEL" &&
        error.message === 'Invalid log level: "verbose"',
    );
  });

  it("isLogLevel accepts only the five instances", () => {
    assert.ok(LogLevel.isLogLevel(LogLevel.info));
    assert.ok(!LogLevel.isLogLevel("info"));
    assert.ok(!LogLevel.isLogLevel({ name: "info", value: 1 }));
  });

  it("a level prints and serialises as its name", () => {
    assert.equal(String(LogLevel.error), "error");
    assert.equal(JSON.stringify({ level: LogLevel.error }), '{"level":"error"}');
  });
});
