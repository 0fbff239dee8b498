import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Deferred, fail, succeed } from "../../src/internet/defer.js";
import { ConnectionDone, ConnectionRefusedError, TimeoutError } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { assertNoResult, failureResultOf, successResultOf } from "../../src/testing/index.js";

describe("successResultOf", () => {
  test("returns the result of a fired Deferred and leaves it in the Deferred", () => {
    const d = succeed(42);
    assert.equal(successResultOf(d), 42);
    let after: unknown;
    d.addCallback((v) => {
      after = v;
    });
    assert.equal(after, 42);
  });

  test("sees the result at the current end of the callback chain", () => {
    const d = new Deferred<number>();
    d.addCallback((n) => n * 2);
    d.callback(21);
    assert.equal(successResultOf(d), 42);
  });

  test("raises an AssertionError when there is no result yet", () => {
    assert.throws(() => successResultOf(new Deferred()), {
      name: "AssertionError",
      message: /^Success result expected on .*, found no result instead$/,
    });
  });

  test("raises an AssertionError with the traceback when the Deferred failed, and handles it", () => {
    const d = fail(new ConnectionRefusedError("nobody home"));
    assert.throws(
      () => successResultOf(d),
      (e: unknown) => {
        assert.ok(e instanceof AssertionError);
        assert.match(
          e.message,
          /found failure result instead:\n.*ConnectionRefusedError: nobody home/s,
        );
        return true;
      },
    );
    assert.equal(d.result, null);
  });

  test("raises a TypeError for a Promise, whose result cannot be read synchronously", () => {
    assert.throws(
      () => successResultOf(Promise.resolve(1) as unknown as Deferred<number>),
      /needs a Deferred: a Promise's result cannot be read synchronously/,
    );
  });
});

describe("failureResultOf", () => {
  test("returns the Failure and marks it handled", () => {
    const d = fail(new TimeoutError());
    const f = failureResultOf(d);
    assert.ok(f instanceof Failure);
    assert.ok(f.check(TimeoutError));
    assert.equal(d.result, null);
  });

  test("accepts the failure when it matches one of the expected types", () => {
    const d = fail(new TimeoutError());
    const f = failureResultOf(d, ConnectionRefusedError, TimeoutError);
    assert.equal(f.type, TimeoutError);
  });

  test("raises when the failure is of another type, naming both", () => {
    const d = fail(new ConnectionDone());
    assert.throws(() => failureResultOf(d, ConnectionRefusedError, TimeoutError), {
      name: "AssertionError",
      message:
        /^Failure of type \(ConnectionRefusedError or TimeoutError\) expected on .*, found type ConnectionDone instead:/,
    });
    assert.equal(d.result, null, "the unexpected failure is handled too");
  });

  test("raises when the Deferred succeeded, leaving the result in place", () => {
    const d = succeed("ok");
    assert.throws(() => failureResultOf(d), {
      message: /^Failure result expected on .*, found success result \('ok'\) instead$/,
    });
    assert.equal(d.result, "ok");
  });

  test("raises when there is no result yet", () => {
    assert.throws(() => failureResultOf(new Deferred()), /found no result instead/);
  });
});

describe("assertNoResult", () => {
  test("passes for a Deferred without a result, which still fires normally later", () => {
    const d = new Deferred<string>();
    assertNoResult(d);
    d.callback("later");
    assert.equal(successResultOf(d), "later");
  });

  test("raises when the Deferred has a success result", () => {
    assert.throws(() => assertNoResult(succeed(5)), {
      name: "AssertionError",
      message: /^No result expected on .*, found 5 instead$/,
    });
  });

  test("raises when the Deferred has failed, and handles the failure", () => {
    const d = fail(new Error("boom"));
    assert.throws(() => assertNoResult(d), /found Error: boom/);
    assert.equal(d.result, null);
  });

  test("passes while the chain waits for an inner Deferred", () => {
    const inner = new Deferred<number>();
    const d = succeed(1).addCallback(() => inner);
    assertNoResult(d);
    inner.callback(2);
    assert.equal(successResultOf(d), 2);
  });
});
