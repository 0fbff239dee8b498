// Tests of DeferredList, gatherResults and race.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Deferred,
  DeferredList,
  FailureGroup,
  fail,
  gatherResults,
  race,
  succeed,
} from "../../src/internet/defer.js";
import { CancelledError, FirstError } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";

function failureOf(d: Deferred<unknown>): Failure {
  let failure: Failure | undefined;
  d.addErrback((f) => {
    failure = f;
  });
  assert.ok(failure instanceof Failure, "expected the Deferred to have failed");
  return failure;
}

describe("DeferredList", () => {
  it("fires with [success, result] for each Deferred, in the order given", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const list = new DeferredList([a, b]);
    assert.ok(list instanceof Deferred);
    assert.ok(list instanceof DeferredList);
    b.callback(2);
    assert.equal(list.called, false);
    const err = new Error("a failed");
    a.errback(err);
    assert.equal(list.called, true);
    const results = list.result as [boolean, unknown][];
    assert.equal(results.length, 2);
    assert.equal(results[0]![0], false);
    assert.equal((results[0]![1] as Failure).value, err);
    assert.deepEqual(results[1], [true, 2]);
    // Without consumeErrors the failure stays in the failed Deferred.
    assert.ok(failureOf(a).value === err);
  });

  it("an empty list fires at once with an empty list", () => {
    assert.deepEqual(new DeferredList([]).result, []);
  });

  it("consumeErrors leaves undefined in the failed Deferreds", () => {
    const a = fail(new Error("x"));
    const list = new DeferredList([a], { consumeErrors: true });
    assert.equal(list.called, true);
    assert.equal(a.result, undefined);
  });

  it("fireOnOneCallback fires with [result, index] of the first success", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const list = new DeferredList([a, b], { fireOnOneCallback: true });
    a.errback(new Error("no"));
    assert.equal(list.called, false);
    b.callback("yes");
    assert.deepEqual(list.result, ["yes", 1]);
    failureOf(a);
  });

  it("fireOnOneErrback errbacks with a FirstError naming the failure and its index", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const list = new DeferredList([a, b], { fireOnOneErrback: true, consumeErrors: true });
    a.callback(1);
    const err = new Error("b failed");
    b.errback(err);
    const f = failureOf(list);
    assert.ok(f.value instanceof FirstError);
    assert.equal(f.value.index, 1);
    assert.equal((f.value.subFailure as Failure).value, err);
  });

  it("accepts Promises as well as Deferreds", async () => {
    const list = new DeferredList([Promise.resolve(1), succeed(2)]);
    assert.deepEqual(await list, [
      [true, 1],
      [true, 2],
    ]);
  });

  it("cancelling the list cancels the Deferreds that have not fired", () => {
    let cancelled = 0;
    const a = new Deferred<number>(() => {
      cancelled++;
    });
    const b = succeed(2);
    const list = new DeferredList([a, b], { consumeErrors: true });
    list.cancel();
    assert.equal(cancelled, 1);
    const results = list.result as [boolean, unknown][];
    assert.equal(results[0]![0], false);
    assert.ok((results[0]![1] as Failure).check(CancelledError));
    assert.deepEqual(results[1], [true, 2]);
  });
});

describe("gatherResults", () => {
  it("fires with the results in order", async () => {
    const a = new Deferred<number>();
    const d = gatherResults([a, succeed("s"), Promise.resolve(true)]);
    a.callback(1);
    const [n, s, t] = await d;
    assert.equal(n, 1);
    assert.equal(s, "s");
    assert.equal(t, true);
  });

  it("errbacks with FirstError as soon as one fails", () => {
    const a = new Deferred<number>();
    const err = new Error("bad");
    const d = gatherResults([a, fail<number>(err)], true);
    const f = failureOf(d);
    assert.ok(f.value instanceof FirstError);
    assert.equal(f.value.index, 1);
    assert.equal((f.value.subFailure as Failure).value, err);
  });

  it("fires with an empty list for no Deferreds", () => {
    assert.deepEqual(gatherResults([]).result, []);
  });
});

describe("race", () => {
  it("fires with [index, result] of the first success and cancels the others", () => {
    const cancelled: string[] = [];
    const a = new Deferred<string>(() => cancelled.push("a"));
    const b = new Deferred<string>(() => cancelled.push("b"));
    const c = new Deferred<string>(() => cancelled.push("c"));
    const d = race([a, b, c]);
    a.errback(new Error("a failed"));
    assert.equal(d.called, false);
    b.callback("b won");
    assert.deepEqual(d.result, [1, "b won"]);
    assert.deepEqual(cancelled, ["c"]);
    // The cancelled loser's failure was consumed by race.
    assert.equal(c.result, undefined);
  });

  it("errbacks with a FailureGroup when all fail", () => {
    const errors = [new Error("1"), new Error("2")];
    const d = race([fail<number>(errors[0]), fail<number>(errors[1])]);
    const f = failureOf(d);
    assert.ok(f.value instanceof FailureGroup);
    assert.deepEqual(
      f.value.failures.map((x) => x.value),
      errors,
    );
  });

  it("cancelling the race cancels all the Deferreds", () => {
    let cancelled = 0;
    const a = new Deferred<number>(() => {
      cancelled++;
    });
    const b = new Deferred<number>(() => {
      cancelled++;
    });
    const d = race([a, b]);
    d.cancel();
    assert.equal(cancelled, 2);
    const f = failureOf(d);
    assert.ok(f.value instanceof FailureGroup);
    assert.ok(f.value.failures.every((x) => x.check(CancelledError)));
  });
});
