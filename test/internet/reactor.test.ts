// Tests of NodeReactor's core: run/stop, system event triggers, delayed calls, resolve.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { Deferred } from "../../src/internet/defer.js";
import {
  AlreadyCalled,
  AlreadyCancelled,
  DNSLookupError,
  ReactorNotRunning,
} from "../../src/internet/error.js";

const opts = { installSignalHandlers: false };

describe("NodeReactor", () => {
  it("run() settles after stop(), with startup and shutdown triggers in phase order", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    r.addSystemEventTrigger("after", "startup", () => seen.push("startup after"));
    r.addSystemEventTrigger("before", "startup", () => seen.push("startup before"));
    r.addSystemEventTrigger("during", "shutdown", () => seen.push("shutdown during"));
    r.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown before"));
    r.addSystemEventTrigger("after", "shutdown", () => seen.push("shutdown after"));
    r.callWhenRunning(() => {
      seen.push("running");
      assert.equal(r.running, true);
      r.stop();
    });
    await r.run(opts);
    assert.equal(r.running, false);
    assert.deepEqual(seen, [
      "startup before",
      "startup after",
      "running",
      "shutdown before",
      "shutdown during",
      "shutdown after",
    ]);
  });

  it("a shutdown trigger returning a Deferred is waited for before the next phase", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    r.addSystemEventTrigger("before", "shutdown", () => {
      const d = new Deferred<void>();
      setTimeout(() => {
        seen.push("slow trigger done");
        d.callback();
      }, 20);
      return d;
    });
    r.addSystemEventTrigger("after", "shutdown", () => seen.push("after"));
    r.callWhenRunning(() => r.stop());
    await r.run(opts);
    assert.deepEqual(seen, ["slow trigger done", "after"]);
  });

  it("a trigger that throws is logged and the others still run", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    r.addSystemEventTrigger("before", "shutdown", () => {
      throw new Error("trigger bug");
    });
    r.addSystemEventTrigger("before", "shutdown", () => seen.push("second"));
    r.callWhenRunning(() => r.stop());
    await r.run(opts);
    assert.deepEqual(seen, ["second"]);
  });

  it("removeSystemEventTrigger removes a trigger, and raises for an unknown id", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    const id = r.addSystemEventTrigger("before", "shutdown", () => seen.push("removed"));
    r.removeSystemEventTrigger(id);
    assert.throws(() => r.removeSystemEventTrigger(id));
    r.callWhenRunning(() => r.stop());
    await r.run(opts);
    assert.deepEqual(seen, []);
  });

  it("stop() on a reactor that is not running raises ReactorNotRunning", () => {
    const r = new NodeReactor();
    assert.throws(() => r.stop(), ReactorNotRunning);
  });

  it("stop() twice raises ReactorNotRunning the second time", async () => {
    const r = new NodeReactor();
    r.callWhenRunning(() => {
      r.stop();
      assert.throws(() => r.stop(), ReactorNotRunning);
    });
    await r.run(opts);
  });

  it("callLater runs calls in time order with their arguments, in seconds", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    const t0 = r.seconds();
    r.callLater(0.03, (a: string) => seen.push(a), "second");
    r.callLater(0.01, (a: string, b: string) => seen.push(a + b), "fi", "rst");
    r.callLater(0.05, () => {
      assert.ok(r.seconds() - t0 >= 0.045);
      r.stop();
    });
    await r.run(opts);
    assert.deepEqual(seen, ["first", "second"]);
  });

  it("a cancelled call never runs, and cancelling twice raises AlreadyCancelled", async () => {
    const r = new NodeReactor();
    let ran = false;
    const call = r.callLater(0.01, () => {
      ran = true;
    });
    assert.equal(r.getDelayedCalls().length, 1);
    call.cancel();
    assert.equal(call.active(), false);
    assert.throws(() => call.cancel(), AlreadyCancelled);
    assert.equal(r.getDelayedCalls().length, 0);
    r.callLater(0.03, () => r.stop());
    await r.run(opts);
    assert.equal(ran, false);
  });

  it("reset and delay move a call; a called call raises AlreadyCalled", async () => {
    const r = new NodeReactor();
    const seen: string[] = [];
    const a = r.callLater(0.01, () => seen.push("a"));
    const b = r.callLater(0.02, () => seen.push("b"));
    a.delay(0.03);
    b.reset(0.001);
    assert.ok(a.getTime() > b.getTime());
    r.callLater(0.08, () => r.stop());
    await r.run(opts);
    assert.deepEqual(seen, ["b", "a"]);
    assert.throws(() => a.cancel(), AlreadyCalled);
  });

  it("an exception in a delayed call is logged and the reactor keeps running", async () => {
    const r = new NodeReactor();
    let after = false;
    r.callLater(0, () => {
      throw new Error("delayed call bug");
    });
    r.callLater(0.01, () => {
      after = true;
      r.stop();
    });
    await r.run(opts);
    assert.equal(after, true);
  });

  it("stop() cancels pending delayed calls so the process can exit", async () => {
    const r = new NodeReactor();
    const call = r.callLater(3600, () => {});
    r.callWhenRunning(() => r.stop());
    await r.run(opts);
    assert.equal(call.active(), false);
    assert.equal(r.getDelayedCalls().length, 0);
  });

  it("stop() closes tracked resources", async () => {
    const r = new NodeReactor();
    let closed = 0;
    r._track({ _shutdown: () => closed++ });
    r.callWhenRunning(() => r.stop());
    await r.run(opts);
    assert.equal(closed, 1);
  });

  it("the reactor can run again after it stopped", async () => {
    const r = new NodeReactor();
    for (let i = 0; i < 2; i++) {
      r.callWhenRunning(() => r.stop());
      await r.run(opts);
    }
    assert.equal(r.running, false);
  });

  it("resolve() gives an address for localhost and DNSLookupError for an unknown name", async () => {
    const r = new NodeReactor();
    const addr = await r.resolve("localhost");
    assert.match(addr, /^(127\.0\.0\.1|::1)$/);
    await assert.rejects(r.resolve("no-such-host.invalid").asPromise(), DNSLookupError);
  });
});
