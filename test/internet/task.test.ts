// Tests of the task module: Clock, DelayedCall, deferLater and react.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred, succeed } from "../../src/internet/defer.js";
import {
  AlreadyCalled,
  AlreadyCancelled,
  CancelledError,
  ReactorNotRunning,
} from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import { Clock, DelayedCall, deferLater, react } from "../../src/internet/task.js";
import { globalLogPublisher, type LogEvent } from "../../src/logger/index.js";

describe("Clock", () => {
  it("starts at 0 and moves only when advanced", () => {
    const clock = new Clock();
    assert.equal(clock.seconds(), 0);
    clock.advance(1.5);
    assert.equal(clock.seconds(), 1.5);
    assert.equal(clock.rightNow, 1.5);
    clock.pump([1, 2, 0.5]);
    assert.equal(clock.seconds(), 5);
  });

  it("runs due calls in time order, with their arguments", () => {
    const clock = new Clock();
    const log: string[] = [];
    clock.callLater(3, (s: string) => log.push(s), "three");
    clock.callLater(1, (s: string, n: number) => log.push(`${s}${n}`), "one", 1);
    clock.callLater(2, () => log.push("two"));
    clock.advance(2);
    assert.deepEqual(log, ["one1", "two"]);
    clock.advance(0.5);
    assert.deepEqual(log, ["one1", "two"]);
    clock.advance(0.5);
    assert.deepEqual(log, ["one1", "two", "three"]);
  });

  it("runs calls due at the same time in the order they were scheduled", () => {
    const clock = new Clock();
    const log: number[] = [];
    for (let i = 0; i < 5; i++) clock.callLater(1, () => log.push(i));
    clock.advance(1);
    assert.deepEqual(log, [0, 1, 2, 3, 4]);
  });

  it("runs, in the same advance, calls scheduled during it that are already due", () => {
    const clock = new Clock();
    const log: string[] = [];
    clock.callLater(1, () => {
      log.push("first");
      clock.callLater(0, () => log.push("zero delay"));
      clock.callLater(5, () => log.push("later"));
    });
    clock.advance(2);
    assert.deepEqual(log, ["first", "zero delay"]);
    assert.equal(clock.getDelayedCalls().length, 1);
  });

  it("lets an error thrown by a call propagate from advance", () => {
    const clock = new Clock();
    clock.callLater(1, () => {
      throw new Error("in call");
    });
    assert.throws(() => clock.advance(1), /in call/);
  });

  it("getDelayedCalls lists the pending calls", () => {
    const clock = new Clock();
    const a = clock.callLater(2, () => {});
    const b = clock.callLater(1, () => {});
    assert.deepEqual(clock.getDelayedCalls(), [b, a]);
    clock.advance(1);
    assert.deepEqual(clock.getDelayedCalls(), [a]);
  });
});

describe("DelayedCall", () => {
  it("a cancelled call does not run and cannot be cancelled, reset or delayed again", () => {
    const clock = new Clock();
    let ran = false;
    const call = clock.callLater(1, () => {
      ran = true;
    });
    assert.equal(call.active(), true);
    call.cancel();
    assert.equal(call.active(), false);
    assert.equal(call.cancelled, true);
    clock.advance(2);
    assert.equal(ran, false);
    assert.throws(() => call.cancel(), AlreadyCancelled);
    assert.throws(() => call.reset(1), AlreadyCancelled);
    assert.throws(() => call.delay(1), AlreadyCancelled);
  });

  it("a call that ran cannot be cancelled, reset or delayed", () => {
    const clock = new Clock();
    const call = clock.callLater(1, () => {});
    clock.advance(1);
    assert.equal(call.called, true);
    assert.equal(call.active(), false);
    assert.throws(() => call.cancel(), AlreadyCalled);
    assert.throws(() => call.reset(1), AlreadyCalled);
    assert.throws(() => call.delay(1), AlreadyCalled);
  });

  it("reset and delay move the call and keep the schedule in order", () => {
    const clock = new Clock();
    const log: string[] = [];
    const a = clock.callLater(1, () => log.push("a"));
    clock.callLater(2, () => log.push("b"));
    clock.advance(0.5);
    a.reset(2); // due at 2.5
    assert.equal(a.getTime(), 2.5);
    clock.advance(1.5);
    assert.deepEqual(log, ["b"]);
    a.delay(1); // due at 3.5
    clock.advance(1);
    assert.deepEqual(log, ["b"]);
    clock.advance(0.5);
    assert.deepEqual(log, ["b", "a"]);
  });

  it("can be driven by another owner through its canceller and resetter", () => {
    let now = 10;
    const events: string[] = [];
    const call = new DelayedCall(
      15,
      () => {},
      [],
      () => events.push("cancelled"),
      (c) => events.push(`reset to ${c.getTime()}`),
      () => now,
    );
    now = 12;
    call.reset(5);
    call.delay(1);
    call.cancel();
    assert.deepEqual(events, ["reset to 17", "reset to 18", "cancelled"]);
    assert.match(String(call), /^<DelayedCall anonymous at 18\.000 cancelled>$/);
  });
});

describe("deferLater", () => {
  it("fires after the delay with the function's result", () => {
    const clock = new Clock();
    const d = deferLater(clock, 3, (a: number, b: number) => a + b, 1, 2);
    clock.advance(2.9);
    assert.equal(d.called, false);
    clock.advance(0.1);
    assert.equal(d.result, 3);
  });

  it("without a function fires with undefined", () => {
    const clock = new Clock();
    const d = deferLater(clock, 1);
    clock.advance(1);
    assert.equal(d.called, true);
    assert.equal(d.result, undefined);
  });

  it("fails with the function's error and waits for a Deferred it returns", () => {
    const clock = new Clock();
    const failed = deferLater(clock, 1, () => {
      throw new Error("late error");
    });
    const inner = new Deferred<string>();
    const waiting = deferLater(clock, 1, () => inner);
    clock.advance(1);
    let message = "";
    failed.addErrback((f) => {
      message = f.getErrorMessage();
    });
    assert.equal(message, "late error");
    assert.equal(waiting.called, true);
    assert.equal(waiting.paused, 1);
    inner.callback("inner");
    assert.equal(waiting.result, "inner");
  });

  it("cancelling removes the delayed call and errbacks with CancelledError", () => {
    const clock = new Clock();
    let ran = false;
    const d = deferLater(clock, 1, () => {
      ran = true;
    });
    d.cancel();
    assert.equal(clock.getDelayedCalls().length, 0);
    let failure: Failure | undefined;
    d.addErrback((f) => {
      failure = f;
    });
    assert.ok(failure?.check(CancelledError));
    clock.advance(2);
    assert.equal(ran, false);
  });
});

/** A reactor with just what `react` needs. */
class FakeReactor {
  running = false;
  stops = 0;
  private pending: (() => void)[] = [];
  private done: (() => void) | undefined;

  run(): Promise<void> {
    this.running = true;
    const finished = new Promise<void>((resolve) => {
      this.done = resolve;
    });
    const pending = this.pending;
    this.pending = [];
    for (const f of pending) f();
    return finished;
  }

  stop(): void {
    if (!this.running) throw new ReactorNotRunning();
    this.running = false;
    this.stops++;
    queueMicrotask(() => this.done?.());
  }

  callWhenRunning(f: () => void): unknown {
    if (this.running) f();
    else this.pending.push(f);
    return null;
  }
}

describe("react", () => {
  it("calls main with the reactor and arguments once running, stops it, and exits with 0", async () => {
    const reactor = new FakeReactor();
    const codes: number[] = [];
    let seen: unknown[] = [];
    await react(
      (r, a: string, b: string) => {
        assert.equal(r.running, true);
        seen = [r, a, b];
        return succeed("ok");
      },
      ["x", "y"],
      reactor,
      (code) => codes.push(code),
    );
    assert.deepEqual(seen, [reactor, "x", "y"]);
    assert.equal(reactor.stops, 1);
    assert.deepEqual(codes, [0]);
  });

  it("waits for an async main before stopping", async () => {
    const reactor = new FakeReactor();
    const codes: number[] = [];
    const gate = new Deferred<void>();
    const done = react(
      () => gate,
      [],
      reactor,
      (code) => codes.push(code),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reactor.running, true);
    gate.callback();
    await done;
    assert.deepEqual(codes, [0]);
  });

  it("logs the failure of main and exits with 1", async () => {
    const reactor = new FakeReactor();
    const codes: number[] = [];
    const events: LogEvent[] = [];
    const observer = (e: LogEvent) => events.push(e);
    globalLogPublisher.addObserver(observer);
    try {
      await react(
        async () => {
          throw new Error("main broke");
        },
        [],
        reactor,
        (code) => codes.push(code),
      );
    } finally {
      globalLogPublisher.removeObserver(observer);
    }
    assert.deepEqual(codes, [1]);
    assert.equal(reactor.stops, 1);
    assert.ok(events.some((e) => e.log_failure?.value instanceof Error));
  });

  it("exits with 0 when the reactor is stopped before main's result is there", async () => {
    const reactor = new FakeReactor();
    const codes: number[] = [];
    const done = react(
      () => new Deferred<void>(),
      [],
      reactor,
      (code) => codes.push(code),
    );
    reactor.stop();
    await done;
    assert.deepEqual(codes, [0]);
  });
});
