// Tests of LoopingCall: scheduling on the interval grid, skipping, waiting, stopping, counting.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../src/internet/defer.js";
import type { Failure } from "../../src/internet/failure.js";
import { Clock, LoopingCall } from "../../src/internet/task.js";

function looping(fn: () => unknown = () => {}): { lc: LoopingCall; clock: Clock } {
  const clock = new Clock();
  const lc = new LoopingCall(fn);
  lc.clock = clock;
  return { lc, clock };
}

describe("LoopingCall", () => {
  it("calls at once and then every interval", () => {
    const times: number[] = [];
    const clock = new Clock();
    const lc = new LoopingCall((tag: string) => times.push(clock.seconds()), "tick");
    lc.clock = clock;
    lc.start(2);
    assert.equal(lc.running, true);
    assert.equal(lc.interval, 2);
    clock.pump([1, 1, 1, 1, 1, 1]);
    assert.deepEqual(times, [0, 2, 4, 6]);
  });

  it("with now = false waits one interval before the first call", () => {
    const times: number[] = [];
    const { lc, clock } = looping(() => times.push(0));
    lc.start(1, false);
    assert.deepEqual(times, []);
    clock.advance(1);
    assert.equal(times.length, 1);
  });

  it("stop fires the start Deferred with the LoopingCall and cancels the next call", () => {
    const { lc, clock } = looping();
    const d = lc.start(1);
    let fired: unknown;
    d.addCallback((x) => {
      fired = x;
    });
    lc.stop();
    assert.equal(fired, lc);
    assert.equal(lc.running, false);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.throws(() => lc.stop(), /not running/);
  });

  it("a function that throws stops the loop and errbacks the start Deferred", () => {
    let calls = 0;
    const { lc, clock } = looping(() => {
      calls++;
      if (calls === 2) throw new Error("second call failed");
    });
    let failure: Failure | undefined;
    lc.start(1).addErrback((f) => {
      failure = f;
    });
    clock.advance(1);
    assert.equal(failure?.getErrorMessage(), "second call failed");
    assert.equal(lc.running, false);
    clock.advance(5);
    assert.equal(calls, 2);
  });

  it("skips intervals missed entirely instead of calling in a burst", () => {
    const times: number[] = [];
    const { lc, clock } = looping(() => times.push(clock.seconds()));
    lc.start(1);
    clock.advance(10.5);
    assert.deepEqual(times, [0, 10.5]);
    clock.advance(0.5);
    assert.deepEqual(times, [0, 10.5, 11]);
  });

  it("keeps the grid when a call runs late", () => {
    const times: number[] = [];
    const { lc, clock } = looping(() => times.push(clock.seconds()));
    lc.start(2);
    clock.advance(2.5); // runs at 2.5, next at 4
    clock.advance(1.5);
    assert.deepEqual(times, [0, 2.5, 4]);
  });

  it("waits for a Deferred returned by the function, then continues on the grid", () => {
    const times: number[] = [];
    let pending: Deferred<void> | undefined;
    const { lc, clock } = looping(() => {
      times.push(clock.seconds());
      pending = new Deferred<void>();
      return pending;
    });
    lc.start(1);
    clock.advance(1);
    clock.advance(1);
    assert.deepEqual(times, [0]); // still waiting for the first call's Deferred
    clock.advance(0.5);
    pending!.callback();
    assert.deepEqual(times, [0]);
    clock.advance(0.5); // grid point 3
    assert.deepEqual(times, [0, 3]);
  });

  it("stopped while waiting for the function's Deferred, fires once that Deferred fires", () => {
    let pending: Deferred<void> | undefined;
    const { lc } = looping(() => {
      pending = new Deferred<void>();
      return pending;
    });
    const d = lc.start(1);
    lc.stop();
    assert.equal(d.called, false);
    pending!.callback();
    assert.equal(d.result, lc);
  });

  it("stopped from inside the function, fires after the call", () => {
    const { lc, clock } = looping(() => lc.stop());
    const d = lc.start(1);
    assert.equal(d.result, lc);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("a failing Deferred from the function errbacks the start Deferred", async () => {
    const { lc } = looping(async () => {
      throw new Error("async failure");
    });
    await assert.rejects(lc.start(1).asPromise(), /async failure/);
    assert.equal(lc.running, false);
  });

  it("reset restarts the grid from now", () => {
    const times: number[] = [];
    const { lc, clock } = looping(() => times.push(clock.seconds()));
    lc.start(2);
    clock.advance(1.5);
    lc.reset();
    clock.advance(1.5);
    assert.deepEqual(times, [0]);
    clock.advance(0.5);
    assert.deepEqual(times, [0, 3.5]);
  });

  it("with interval 0 calls again at the same time, once per advance", () => {
    let calls = 0;
    const { lc, clock } = looping(() => {
      calls++;
      if (calls === 5) lc.stop();
    });
    lc.start(0);
    while (lc.running) clock.advance(0);
    assert.equal(calls, 5);
  });

  it("start raises when already running or given a negative interval", () => {
    const { lc } = looping();
    assert.throws(() => lc.start(-1), RangeError);
    lc.start(1);
    assert.throws(() => lc.start(1), /already running/);
  });

  it("uses LoopingCall.defaultClock when no clock is set", () => {
    const clock = new Clock();
    const saved = LoopingCall.defaultClock;
    LoopingCall.defaultClock = clock;
    try {
      let calls = 0;
      const lc = new LoopingCall(() => calls++);
      assert.equal(lc.clock, clock);
      lc.start(1);
      clock.advance(1);
      assert.equal(calls, 2);
      lc.stop();
    } finally {
      LoopingCall.defaultClock = saved;
    }
  });

  it("withCount passes the number of intervals elapsed since the last call", () => {
    const clock = new Clock();
    const counts: number[] = [];
    const lc = LoopingCall.withCount((n) => counts.push(n));
    lc.clock = clock;
    lc.start(1);
    clock.advance(1);
    clock.advance(3.5);
    clock.advance(0.5);
    assert.deepEqual(counts, [1, 1, 3, 1]);
  });

  it("withCount with now = false counts from the start", () => {
    const clock = new Clock();
    const counts: number[] = [];
    const lc = LoopingCall.withCount((n) => counts.push(n));
    lc.clock = clock;
    lc.start(2, false);
    clock.advance(2);
    clock.advance(6);
    assert.deepEqual(counts, [1, 3]);
  });
});
