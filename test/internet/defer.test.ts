// Tests of Deferred: chains, chaining, pausing, cancellation, timeouts, Promise bridging.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Deferred,
  ensureDeferred,
  fail,
  getDebugging,
  maybeDeferred,
  setDebugging,
  succeed,
} from "../../src/internet/defer.js";
import {
  AlreadyCalledError,
  CancelledError,
  ConnectionRefusedError,
  TimeoutError,
} from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { Clock } from "../../src/internet/task.js";

/** The current result of a fired Deferred, taken without changing its chain. */
function resultOf<T>(d: Deferred<T>): T | Failure {
  let result: T | Failure | undefined;
  let seen = false;
  d.addBoth((r) => {
    result = r;
    seen = true;
    return r;
  });
  assert.ok(seen, "the Deferred has no result");
  return result as T | Failure;
}

function failureOf(d: Deferred<unknown>): Failure {
  const r = resultOf(d);
  assert.ok(r instanceof Failure, `expected a failure, got ${String(r)}`);
  d.addErrback(() => undefined);
  return r;
}

describe("Deferred callbacks", () => {
  it("runs callbacks synchronously and in order, each result feeding the next", () => {
    const seen: unknown[] = [];
    const d = new Deferred<number>();
    d.addCallback((n) => {
      seen.push(n);
      return n + 1;
    }).addCallback((n) => {
      seen.push(n);
      return String(n);
    });
    assert.deepEqual(seen, []);
    assert.equal(d.called, false);
    d.callback(1);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(d.called, true);
    assert.equal(d.result, "2");
  });

  it("a callback added to a fired Deferred runs at once", () => {
    const d = succeed(5);
    let got: number | undefined;
    d.addCallback((n) => {
      got = n;
    });
    assert.equal(got, 5);
  });

  it("passes extra arguments after the result", () => {
    const seen: unknown[] = [];
    const d = new Deferred<string>();
    d.addCallback((r, a: number, b: string) => seen.push(r, a, b), 1, "x");
    d.addCallbacks(
      () => {
        throw new Error("boom");
      },
      null,
      [],
    );
    d.addErrback((f, tag: string) => seen.push(f.getErrorMessage(), tag), "eb");
    d.addBoth((r, tag: string) => seen.push(r, tag), "both");
    d.callback("r");
    assert.deepEqual(seen, ["r", 1, "x", "boom", "eb", 5, "both"]);
  });

  it("a callback that throws switches the chain to errbacks with a Failure", () => {
    const err = new Error("bad");
    const steps: string[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw err;
    })
      .addCallback(() => steps.push("skipped"))
      .addErrback((f) => {
        assert.ok(f instanceof Failure);
        assert.equal(f.value, err);
        steps.push("errback");
        return "recovered";
      })
      .addCallback((r) => steps.push(`callback ${r}`));
    d.callback(1);
    assert.deepEqual(steps, ["errback", "callback recovered"]);
  });

  it("a thrown Failure is used as it is", () => {
    const failure = new Failure(new Error("x"));
    const d = succeed(1).addCallback(() => {
      throw failure;
    });
    assert.equal(failureOf(d), failure);
  });

  it("a callback returning a Failure switches to the errback path", () => {
    const failure = new Failure(new RangeError("r"));
    const d = succeed(1).addCallback(() => failure);
    assert.equal(failureOf(d), failure);
  });

  it("errback wraps an error in a Failure, keeps a Failure, and makes one without argument", () => {
    const err = new ConnectionRefusedError();
    assert.equal(failureOf(fail(err)).value, err);
    const f = new Failure(new Error("kept"));
    assert.equal(failureOf(fail(f)), f);
    const d = new Deferred();
    d.errback();
    const generic = failureOf(d);
    assert.ok(generic.value instanceof Error);
  });

  it("addCallbacks runs only one of the pair: the errback does not see the callback's error", () => {
    const steps: string[] = [];
    const d = new Deferred<number>();
    d.addCallbacks(
      () => {
        throw new Error("from callback");
      },
      () => steps.push("same-level errback"),
    ).addErrback((f) => {
      steps.push(`next errback: ${f.getErrorMessage()}`);
    });
    d.callback(0);
    assert.deepEqual(steps, ["next errback: from callback"]);
  });

  it("a second callback or errback raises AlreadyCalledError", () => {
    const d = new Deferred<number>();
    d.callback(1);
    assert.throws(() => d.callback(2), AlreadyCalledError);
    assert.throws(() => d.errback(new Error()), AlreadyCalledError);
    const e = new Deferred<number>();
    e.errback(new Error("x"));
    e.addErrback(() => undefined);
    assert.throws(() => e.callback(1), AlreadyCalledError);
  });

  it("firing with a Deferred raises TypeError", () => {
    const d = new Deferred<unknown>();
    assert.throws(() => d.callback(new Deferred()), TypeError);
    assert.equal(d.called, false);
  });

  it("callbacks added from inside a running callback run after it, in order", () => {
    const steps: number[] = [];
    const d = new Deferred<number>();
    d.addCallback((n) => {
      d.addCallback((m) => {
        steps.push(m);
        return m * 10;
      });
      steps.push(n);
      return n + 1;
    });
    d.addCallback((n) => {
      steps.push(n);
      return n;
    });
    d.callback(1);
    assert.deepEqual(steps, [1, 2, 2]);
    assert.equal(d.result, 20);
  });

  it("callback and errback return the Deferred", () => {
    const d = new Deferred<number>();
    assert.equal(d.callback(1), d);
    const e = new Deferred<number>();
    assert.equal(e.errback(new Error()), e);
    e.addErrback(() => undefined);
  });

  it("a Deferred of a subtype is assignable to a Deferred of a supertype", () => {
    const d: Deferred<unknown> = new Deferred<number>();
    const lengths: Deferred<number> = new Deferred<string>().addCallback((s) => s.length);
    const adopted: Deferred<boolean> = succeed(1).addCallback(() => succeed(true));
    const fromPromise: Deferred<string> = succeed(1).addCallback(async () => "s");
    assert.equal([d, lengths, adopted, fromPromise].length, 4);
  });
});

describe("Deferred chaining", () => {
  it("a callback returning a Deferred pauses the chain until it fires", () => {
    const inner = new Deferred<string>();
    const steps: string[] = [];
    const outer = succeed(1)
      .addCallback(() => inner)
      .addCallback((s) => {
        steps.push(s);
        return s.length;
      });
    assert.deepEqual(steps, []);
    assert.equal(outer.paused, 1);
    assert.equal(outer.result, inner);
    inner.callback("hello");
    assert.deepEqual(steps, ["hello"]);
    assert.equal(outer.result, 5);
    assert.equal(outer.paused, 0);
    assert.equal(inner.result, undefined);
  });

  it("the failure of a returned Deferred continues down the outer chain", () => {
    const inner = new Deferred<string>();
    const outer = succeed(1).addCallback(() => inner);
    const err = new Error("inner failed");
    inner.errback(err);
    assert.equal(failureOf(outer).value, err);
  });

  it("an already-fired returned Deferred is adopted at once and left with undefined", () => {
    const inner = succeed("ready");
    const outer = succeed(1).addCallback(() => inner);
    assert.equal(outer.result, "ready");
    assert.equal(inner.result, undefined);
  });

  it("a callback returning a native Promise pauses the chain until it settles", async () => {
    const outer = succeed(1).addCallback(async (n) => n + 1);
    assert.equal(outer.paused, 1);
    assert.equal(await outer, 2);
    assert.equal(outer.result, 2);
  });

  it("a rejected Promise returned by a callback becomes a Failure of the original error", async () => {
    const err = new ConnectionRefusedError();
    const outer = succeed(1).addCallback(() => Promise.reject(err));
    await assert.rejects(outer.asPromise(), (e) => e === err);
    assert.equal(failureOf(outer).value, err);
  });

  it("firing with a Promise waits for it", async () => {
    const d = new Deferred<number>();
    d.callback(Promise.resolve(3) as unknown as number);
    assert.equal(await d, 3);
  });

  it("a callback returning its own Deferred fails with TypeError", () => {
    const d = new Deferred<unknown>();
    d.addCallback(() => d);
    d.callback(1);
    assert.ok(failureOf(d).value instanceof TypeError);
  });

  it("10,000 already-fired returned Deferreds do not overflow the stack", () => {
    const d = new Deferred<number>();
    for (let i = 0; i < 10_000; i++) d.addCallback((n) => succeed(n + 1));
    d.callback(0);
    assert.equal(d.result, 10_000);
  });

  it("10,000 Deferreds each waiting on the previous one unwind without overflowing the stack", () => {
    const ds: Deferred<number>[] = [];
    for (let i = 0; i < 10_000; i++) ds.push(new Deferred<number>());
    const root = new Deferred<number>();
    let last = root;
    for (const d of ds) {
      const prev = last;
      d.addCallback(() => prev);
      last = d;
    }
    for (const d of ds) d.callback(0);
    assert.equal(last.paused, 1);
    root.callback(7);
    assert.equal(last.result, 7);
    assert.equal(last.paused, 0);
    assert.ok(ds.slice(0, -1).every((d) => d.result === undefined && d.paused === 0));
  });

  it("chainDeferred fires the other Deferred with the result and leaves undefined", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.chainDeferred(b);
    a.callback(3);
    assert.equal(b.result, 3);
    assert.equal(a.result, undefined);
    const c = new Deferred<number>();
    const e = new Deferred<number>();
    c.chainDeferred(e);
    c.errback(new Error("x"));
    assert.equal(failureOf(e).getErrorMessage(), "x");
    assert.equal(c.result, undefined);
  });
});

describe("Deferred pause and cancel", () => {
  it("pause holds the result until unpause", () => {
    const d = new Deferred<number>();
    let got: number | undefined;
    d.pause();
    d.addCallback((n) => {
      got = n;
    });
    d.callback(1);
    assert.equal(got, undefined);
    d.pause();
    d.unpause();
    assert.equal(got, undefined);
    d.unpause();
    assert.equal(got, 1);
    d.unpause(); // extra unpause does nothing
    assert.equal(d.paused, 0);
  });

  it("cancel calls the canceller, then errbacks with CancelledError if it did not fire", () => {
    let cancelled: Deferred<number> | undefined;
    const d = new Deferred<number>((self) => {
      cancelled = self;
    });
    d.cancel();
    assert.equal(cancelled, d);
    assert.ok(failureOf(d).check(CancelledError));
  });

  it("a canceller that fires the Deferred replaces the CancelledError", () => {
    const d = new Deferred<string>((self) => self.callback("stopped cleanly"));
    d.cancel();
    assert.equal(d.result, "stopped cleanly");
  });

  it("without a canceller, the late result of the cancelled operation is dropped once", () => {
    const d = new Deferred<number>();
    d.cancel();
    assert.ok(failureOf(d).check(CancelledError));
    d.callback(1); // ignored
    assert.throws(() => d.callback(2), AlreadyCalledError);
  });

  it("with a canceller that did not fire it, a late result raises AlreadyCalledError", () => {
    const d = new Deferred<number>(() => {});
    d.cancel();
    failureOf(d);
    assert.throws(() => d.callback(1), AlreadyCalledError);
  });

  it("cancelling a fired Deferred does nothing", () => {
    const d = succeed(1);
    d.cancel();
    assert.equal(d.result, 1);
  });

  it("cancelling a Deferred that waits on a returned Deferred cancels that one", () => {
    let innerCancelled = false;
    const inner = new Deferred<number>(() => {
      innerCancelled = true;
    });
    const outer = succeed(0).addCallback(() => inner);
    outer.cancel();
    assert.ok(innerCancelled);
    assert.ok(failureOf(outer).check(CancelledError));
  });
});

describe("Deferred.addTimeout", () => {
  it("errbacks with TimeoutError when the time runs out, calling the canceller", () => {
    const clock = new Clock();
    let cancelled = false;
    const d = new Deferred<number>(() => {
      cancelled = true;
    }).addTimeout(10, clock);
    clock.advance(9);
    assert.equal(d.called, false);
    clock.advance(1);
    assert.ok(cancelled);
    assert.ok(failureOf(d).check(TimeoutError));
  });

  it("cancels the timer when the Deferred fires first", () => {
    const clock = new Clock();
    const d = new Deferred<number>().addTimeout(10, clock);
    assert.equal(clock.getDelayedCalls().length, 1);
    d.callback(5);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(d.result, 5);
  });

  it("keeps a result that the canceller delivered on timeout", () => {
    const clock = new Clock();
    const d = new Deferred<string>((self) => self.callback("partial")).addTimeout(1, clock);
    clock.advance(1);
    assert.equal(d.result, "partial");
  });

  it("onTimeoutCancel translates the result of a timeout", () => {
    const clock = new Clock();
    const d = new Deferred<string>().addTimeout(2, clock, (result, seconds) => {
      assert.ok(result instanceof Failure);
      return `timed out after ${seconds}`;
    });
    clock.advance(2);
    assert.equal(d.result, "timed out after 2");
  });
});

describe("Deferred as a Promise", () => {
  it("await gives the result, twice, without changing the chain", async () => {
    const d = new Deferred<number>();
    setImmediate(() => d.callback(4));
    assert.equal(await d, 4);
    assert.equal(await d, 4);
    assert.equal(d.result, 4);
    assert.equal(await d.addCallback((n) => n + 1), 5);
  });

  it("await throws the failure's original error and marks the failure handled", async () => {
    const err = new ConnectionRefusedError();
    const d = fail<number>(err);
    try {
      await d;
      assert.fail("should have thrown");
    } catch (e) {
      assert.ok(e instanceof ConnectionRefusedError);
      assert.equal(e, err);
    }
    const failure = d.result as Failure;
    assert.ok(failure instanceof Failure);
    assert.equal(failure._handled, true);
  });

  it("then calls its handlers asynchronously and chains like a Promise", async () => {
    const d = succeed(2);
    let sync = true;
    const p = d.then((n) => {
      assert.equal(sync, false);
      return n * 3;
    });
    sync = false;
    assert.ok(p instanceof Promise);
    assert.equal(await p, 6);
    assert.equal(await fail(new Error("e")).then(undefined, (e: Error) => e.message), "e");
    assert.equal(await fail(new Error("c")).catch((e: Error) => e.message), "c");
  });

  it("Deferred.fromPromise fires with the Promise's value or failure", async () => {
    const d = Deferred.fromPromise(Promise.resolve("v"));
    assert.equal(d.called, false);
    assert.equal(await d, "v");
    const err = new Error("rejected");
    const e = Deferred.fromCoroutine(Promise.reject(err));
    await assert.rejects(e.asPromise(), (x) => x === err);
    const same = new Deferred();
    assert.equal(Deferred.fromPromise(same), same);
  });

  it("cancelling a Deferred from a Promise errbacks at once and drops the Promise's result", async () => {
    let resolve!: (v: number) => void;
    const d = Deferred.fromPromise(new Promise<number>((r) => (resolve = r)));
    d.cancel();
    assert.ok(failureOf(d).check(CancelledError));
    resolve(1);
    await new Promise((r) => setImmediate(r));
  });

  it("ensureDeferred accepts an async function, a Promise or a Deferred", async () => {
    assert.equal(await ensureDeferred(async () => 1), 1);
    assert.equal(await ensureDeferred(Promise.resolve(2)), 2);
    const d = succeed(3);
    assert.equal(ensureDeferred(d), d);
    const thrown = ensureDeferred(() => {
      throw new Error("sync");
    });
    assert.equal(failureOf(thrown).getErrorMessage(), "sync");
    assert.throws(() => ensureDeferred(42 as unknown as Promise<number>), TypeError);
  });
});

describe("succeed, fail and maybeDeferred", () => {
  it("succeed and fail give fired Deferreds", () => {
    assert.equal(succeed("x").result, "x");
    assert.equal(failureOf(fail(new Error("f"))).getErrorMessage(), "f");
  });

  it("maybeDeferred turns values, throws, Deferreds and Promises into Deferreds", async () => {
    assert.equal(maybeDeferred((a: number, b: number) => a + b, 1, 2).result, 3);
    const thrown = maybeDeferred(() => {
      throw new RangeError("r");
    });
    assert.ok(failureOf(thrown).check(RangeError));
    const d = new Deferred<number>();
    assert.equal(
      maybeDeferred(() => d),
      d,
    );
    assert.equal(await maybeDeferred(async () => "p"), "p");
    const failure = new Failure(new Error("returned"));
    assert.equal(failureOf(maybeDeferred(() => failure)), failure);
  });
});

describe("Deferred debugging", () => {
  it("records where the Deferred was created and first fired for AlreadyCalledError", () => {
    assert.equal(getDebugging(), false);
    setDebugging(true);
    try {
      const d = new Deferred<number>();
      d.callback(1);
      assert.throws(
        () => d.callback(2),
        (e: Error) =>
          e instanceof AlreadyCalledError &&
          e.message.includes("created at") &&
          e.message.includes("first fired at"),
      );
    } finally {
      setDebugging(false);
    }
  });
});
