// Tests of DeferredLock, DeferredSemaphore and DeferredQueue.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Deferred,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  QueueOverflow,
  QueueUnderflow,
} from "../../src/internet/defer.js";
import { CancelledError } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";

describe("DeferredLock", () => {
  it("gives the lock to one holder at a time, waiters in order", () => {
    const lock = new DeferredLock();
    const order: string[] = [];
    lock.acquire().addCallback((l) => {
      assert.equal(l, lock);
      order.push("first");
    });
    assert.equal(lock.locked, true);
    lock.acquire().addCallback(() => order.push("second"));
    lock.acquire().addCallback(() => order.push("third"));
    assert.deepEqual(order, ["first"]);
    lock.release();
    assert.deepEqual(order, ["first", "second"]);
    lock.release();
    lock.release();
    assert.deepEqual(order, ["first", "second", "third"]);
    assert.equal(lock.locked, false);
  });

  it("releasing an unlocked lock raises", () => {
    assert.throws(() => new DeferredLock().release(), /unlocked lock/);
  });

  it("cancelling a waiting acquire removes it from the queue", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const waiting = lock.acquire();
    waiting.cancel();
    let failure: Failure | undefined;
    waiting.addErrback((f) => {
      failure = f;
    });
    assert.ok(failure?.check(CancelledError));
    assert.equal(lock.waiting.length, 0);
    lock.release();
    assert.equal(lock.locked, false);
  });

  it("run calls the function under the lock and releases it after its result, even failed", async () => {
    const lock = new DeferredLock();
    const gate = new Deferred<string>();
    const first = lock.run(() => gate);
    const second = lock.run((x: number) => x * 2, 21);
    assert.equal(second.called, false);
    gate.callback("done");
    assert.equal(first.result, "done");
    assert.equal(second.result, 42);
    assert.equal(lock.locked, false);
    const failed = lock.run(async () => {
      throw new Error("inside");
    });
    await assert.rejects(failed.asPromise(), /inside/);
    assert.equal(lock.locked, false);
  });
});

describe("DeferredSemaphore", () => {
  it("lets at most `tokens` holders in at a time", () => {
    const sem = new DeferredSemaphore(2);
    assert.equal(sem.limit, 2);
    const got: number[] = [];
    for (let i = 0; i < 4; i++) sem.acquire().addCallback(() => got.push(i));
    assert.deepEqual(got, [0, 1]);
    assert.equal(sem.tokens, 0);
    assert.equal(sem.locked, true);
    sem.release();
    assert.deepEqual(got, [0, 1, 2]);
    sem.release();
    sem.release();
    sem.release();
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.equal(sem.tokens, 2);
    assert.throws(() => sem.release(), /more times/);
  });

  it("needs at least one token", () => {
    assert.throws(() => new DeferredSemaphore(0), RangeError);
  });

  it("run limits concurrency", () => {
    const sem = new DeferredSemaphore(1);
    const gates = [new Deferred<number>(), new Deferred<number>()];
    let running = 0;
    let most = 0;
    const results = gates.map((gate) =>
      sem.run(() => {
        running++;
        most = Math.max(most, running);
        return gate.addCallback((n) => {
          running--;
          return n;
        });
      }),
    );
    gates[0]!.callback(1);
    gates[1]!.callback(2);
    assert.equal(most, 1);
    assert.deepEqual(
      results.map((d) => d.result),
      [1, 2],
    );
  });
});

describe("DeferredQueue", () => {
  it("get fires at once when an item is pending, else when one is put", () => {
    const q = new DeferredQueue<string>();
    q.put("a");
    assert.equal(q.get().result, "a");
    const waiting = q.get();
    assert.equal(waiting.called, false);
    q.put("b");
    assert.equal(waiting.result, "b");
  });

  it("put raises QueueOverflow when size items are pending", () => {
    const q = new DeferredQueue<number>(1);
    q.put(1);
    assert.throws(() => q.put(2), QueueOverflow);
    assert.equal(new QueueOverflow().code, "ERR_QUEUE_OVERFLOW");
  });

  it("get raises QueueUnderflow when backlog getters are waiting", () => {
    const q = new DeferredQueue<number>(undefined, 1);
    q.get();
    assert.throws(() => q.get(), QueueUnderflow);
    assert.equal(new QueueUnderflow().code, "ERR_QUEUE_UNDERFLOW");
  });

  it("a cancelled get leaves the queue and loses no item", () => {
    const q = new DeferredQueue<number>();
    const d = q.get();
    d.cancel();
    d.addErrback(() => undefined);
    q.put(7);
    assert.deepEqual(q.pending, [7]);
    assert.equal(q.get().result, 7);
  });
});
