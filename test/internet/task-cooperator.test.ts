// Tests of Cooperator and CooperativeTask: time slices, fairness, waiting, pausing, stopping.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../src/internet/defer.js";
import type { Failure } from "../../src/internet/failure.js";
import {
  Clock,
  Cooperator,
  coiterate,
  NotPaused,
  SchedulerStopped,
  TaskDone,
  TaskStopped,
} from "../../src/internet/task.js";

/** A Cooperator whose slices run one per `clock.advance(1)`, doing `unitsPerSlice` steps each. */
function cooperatorOn(clock: Clock, unitsPerSlice = 1, started = true): Cooperator {
  return new Cooperator({
    scheduler: (f) => clock.callLater(1, f),
    terminationPredicateFactory: () => {
      let units = 0;
      return () => ++units >= unitsPerSlice;
    },
    started,
  });
}

function* counting(log: unknown[], name: string, n: number): Generator<undefined> {
  for (let i = 0; i < n; i++) {
    log.push(`${name}${i}`);
    yield;
  }
}

function errorOf(d: Deferred<unknown>): Failure | undefined {
  let failure: Failure | undefined;
  d.addErrback((f) => {
    failure = f;
  });
  return failure;
}

describe("Cooperator", () => {
  it("runs an iterator one slice per scheduled turn and fires with it when exhausted", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 2);
    const log: string[] = [];
    const it = counting(log, "a", 3);
    const d = coop.coiterate(it);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ["a0", "a1"]);
    assert.equal(d.called, false);
    clock.advance(1);
    assert.deepEqual(log, ["a0", "a1", "a2"]);
    clock.advance(1);
    assert.equal(d.result, it);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("takes turns between tasks", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 4);
    const log: string[] = [];
    coop.cooperate(counting(log, "a", 3));
    coop.cooperate(counting(log, "b", 3));
    clock.advance(1);
    assert.deepEqual(log, ["a0", "b0", "a1", "b1"]);
    clock.advance(1);
    assert.deepEqual(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
  });

  it("accepts iterables as well as iterators", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 10);
    const items = [1, 2, 3];
    const d = coop.coiterate(items);
    clock.advance(1);
    assert.equal(d.result, items);
  });

  it("a yielded Deferred pauses the task until it fires", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 10);
    const gate = new Deferred<void>();
    const log: string[] = [];
    const d = coop.coiterate(
      (function* () {
        log.push("before");
        yield gate;
        log.push("after");
      })(),
    );
    clock.advance(1);
    clock.advance(1);
    assert.deepEqual(log, ["before"]);
    gate.callback();
    clock.advance(1);
    assert.deepEqual(log, ["before", "after"]);
    assert.equal(d.called, true);
  });

  it("a yielded Deferred that fails fails the task", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock);
    const gate = new Deferred<void>();
    const d = coop.coiterate(
      (function* () {
        yield gate;
      })(),
    );
    clock.advance(1);
    gate.errback(new Error("gate failed"));
    assert.equal(errorOf(d)?.getErrorMessage(), "gate failed");
  });

  it("an iterator that throws fails the task", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock);
    const d = coop.coiterate(
      (function* () {
        yield;
        throw new RangeError("iteration broke");
      })(),
    );
    clock.pump([1, 1]);
    assert.ok(errorOf(d)?.check(RangeError));
  });

  it("a paused task does not run until resumed", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock);
    const log: string[] = [];
    const task = coop.cooperate(counting(log, "a", 3));
    task.pause();
    clock.pump([1, 1]);
    assert.deepEqual(log, []);
    task.resume();
    clock.advance(1);
    assert.deepEqual(log, ["a0"]);
    assert.throws(() => task.resume(), NotPaused);
  });

  it("stop ends the task with TaskStopped", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock);
    const log: string[] = [];
    const task = coop.cooperate(counting(log, "a", 3));
    const d = task.whenDone();
    clock.advance(1);
    task.stop();
    clock.pump([1, 1]);
    assert.deepEqual(log, ["a0"]);
    assert.ok(errorOf(d)?.check(TaskStopped));
    assert.throws(() => task.stop(), TaskStopped);
    assert.throws(() => task.pause(), TaskStopped);
    assert.ok(errorOf(task.whenDone())?.check(TaskStopped));
  });

  it("whenDone after completion fires at once", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 10);
    const it = counting([], "a", 1);
    const task = coop.cooperate(it);
    clock.advance(1);
    assert.equal(task.whenDone().result, it);
    assert.throws(() => task.pause(), TaskDone);
  });

  it("stopping the cooperator ends its tasks and later ones with SchedulerStopped", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock);
    const d = coop.coiterate(counting([], "a", 5));
    assert.equal(coop.running, true);
    coop.stop();
    assert.equal(coop.running, false);
    assert.ok(errorOf(d)?.check(SchedulerStopped));
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.ok(errorOf(coop.coiterate(counting([], "b", 1)))?.check(SchedulerStopped));
    assert.throws(() => coop.stop(), SchedulerStopped);
  });

  it("a cooperator made with started: false runs nothing until start()", () => {
    const clock = new Clock();
    const coop = cooperatorOn(clock, 10, false);
    const log: string[] = [];
    coop.cooperate(counting(log, "a", 2));
    clock.advance(1);
    assert.deepEqual(log, []);
    coop.start();
    clock.advance(1);
    assert.deepEqual(log, ["a0", "a1"]);
  });

  it("the global coiterate runs on the event loop", async () => {
    const log: string[] = [];
    await coiterate(counting(log, "g", 3));
    assert.deepEqual(log, ["g0", "g1", "g2"]);
  });
});
