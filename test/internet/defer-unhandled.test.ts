// Tests of the "Unhandled error in Deferred" report made when a failed Deferred is collected.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Deferred, fail, setDebugging } from "../../src/internet/defer.js";
import { globalLogPublisher, type LogEvent } from "../../src/logger/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const events: LogEvent[] = [];
const observer = (event: LogEvent): void => {
  if (String(event.log_format).startsWith("Unhandled error in Deferred:")) events.push(event);
};

/** Collects garbage until finalizers have had their chance to run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Makes a Deferred in a frame of its own, so that nothing keeps it alive afterwards. */
function abandon(make: () => Deferred<unknown>): void {
  make();
}

describe("unhandled errors in Deferreds", () => {
  before(() => globalLogPublisher.addObserver(observer));
  after(() => globalLogPublisher.removeObserver(observer));

  it("a collected Deferred holding an unhandled failure logs it with its traceback", async () => {
    events.length = 0;
    abandon(() => fail(new RangeError("nobody handled me")));
    await collect();
    assert.equal(events.length, 1);
    const failure = events[0]!.log_failure!;
    assert.ok(failure.value instanceof RangeError);
    assert.match(failure.getTraceback(), /nobody handled me/);
  });

  it("a failure that an errback handled is not logged", async () => {
    events.length = 0;
    abandon(() => fail(new Error("handled")).addErrback(() => "fine"));
    abandon(() => {
      const d = new Deferred<number>();
      d.addCallback(() => {
        throw new Error("handled later");
      });
      d.callback(1);
      return d.addErrback(() => undefined);
    });
    await collect();
    assert.equal(events.length, 0);
  });

  it("a failure observed with await or then is not logged", async () => {
    events.length = 0;
    const d = fail(new Error("awaited"));
    await assert.rejects(d.asPromise());
    abandon(() => d);
    await collect();
    assert.equal(events.length, 0);
  });

  it("a failure handed to a waiting Deferred is logged once, by the one left holding it", async () => {
    events.length = 0;
    abandon(() => {
      const inner = new Deferred<number>();
      const outer = new Deferred<number>().addCallback(() => inner);
      outer.callback(0);
      inner.errback(new Error("passed on"));
      return outer;
    });
    await collect();
    assert.equal(events.length, 1);
    assert.match(events[0]!.log_failure!.getTraceback(), /passed on/);
  });

  it("with debugging on, the report says where the Deferred was created and fired", async () => {
    events.length = 0;
    setDebugging(true);
    try {
      abandon(() => fail(new Error("debugged")));
    } finally {
      setDebugging(false);
    }
    await collect();
    assert.equal(events.length, 1);
    assert.match(String(events[0]!.createdAt), /defer-unhandled\.test\.ts/);
    assert.match(String(events[0]!.firedAt), /defer-unhandled\.test\.ts/);
  });

  it("a successful Deferred logs nothing when collected", async () => {
    events.length = 0;
    abandon(() => new Deferred<number>().callback(1));
    await collect();
    assert.equal(events.length, 0);
  });
});
