import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NodeReactor } from "../../src/internet/index.js";
import {
  assertCleanReactor,
  Clock,
  cleanReactor,
  DirtyReactorError,
  MemoryReactorClock,
} from "../../src/testing/index.js";

/** A stand-in with the shape of a NodeReactor's leftovers: delayed calls and open resources. */
function fakeNodeReactor() {
  const clock = new Clock();
  const closed: string[] = [];
  const port = {
    _shutdown: () => closed.push("port"),
    toString: () => "<TCPPort 8080>",
  };
  const connection = { _shutdown: () => closed.push("connection") };
  const resources = new Set([port, connection]);
  return {
    closed,
    clock,
    getDelayedCalls: () => clock.getDelayedCalls(),
    _resources: resources,
  };
}

describe("assertCleanReactor", () => {
  test("passes for a clock without pending calls", () => {
    const clock = new Clock();
    clock.callLater(1, () => {});
    clock.advance(1);
    assertCleanReactor(clock);
  });

  test("lists leftover delayed calls of a Clock", () => {
    const clock = new Clock();
    clock.callLater(30, function idleTimeout() {});
    assert.throws(
      () => assertCleanReactor(clock),
      (e: unknown) => {
        assert.ok(e instanceof DirtyReactorError);
        assert.equal(e.name, "DirtyReactorError");
        assert.equal(e.delayedCalls.length, 1);
        assert.match(e.message, /1 delayed call\(s\) and 0 open resource\(s\) left over/);
        assert.match(e.message, /idleTimeout/);
        return true;
      },
    );
    assert.equal(clock.getDelayedCalls().length, 1, "without clean, nothing is cancelled");
  });

  test("with clean: true, cancels the leftovers before raising", () => {
    const reactor = new MemoryReactorClock();
    const call = reactor.callLater(5, () => {});
    assert.throws(() => assertCleanReactor(reactor, { clean: true }), DirtyReactorError);
    assert.equal(call.active(), false);
    assertCleanReactor(reactor);
  });

  test("lists a NodeReactor's open resources and shuts them down with clean: true", () => {
    const reactor = fakeNodeReactor();
    assert.throws(
      () => assertCleanReactor(reactor, { clean: true }),
      (e: unknown) => {
        assert.ok(e instanceof DirtyReactorError);
        assert.deepEqual(e.resources, ["<TCPPort 8080>", "<Object>"]);
        return true;
      },
    );
    assert.deepEqual(reactor.closed, ["port", "connection"]);
  });
});

test("accepts a NodeReactor: a fresh one is clean", () => {
  const reactor = new NodeReactor();
  assertCleanReactor(reactor);
  assert.deepEqual(cleanReactor(reactor), []);
});

describe("cleanReactor", () => {
  test("closes leftovers and returns their descriptions without raising", () => {
    const reactor = fakeNodeReactor();
    reactor.clock.callLater(1, function retry() {});
    const found = cleanReactor(reactor);
    assert.equal(found.length, 3);
    assert.match(found[0]!, /retry/);
    assert.equal(reactor.clock.getDelayedCalls().length, 0);
    assert.deepEqual(reactor.closed, ["port", "connection"]);
  });

  test("returns an empty list for a clean clock", () => {
    assert.deepEqual(cleanReactor(new Clock()), []);
  });
});
