// Fuzz tests of the small wire protocols (src/protocols/wire): random bytes in random splits,
// mixed with the transport's pause/resume/stop and the clock. Echo returns exactly what came,
// Discard writes nothing, Chargen writes only its pattern and stops writing when paused or
// stopped, and Daytime/Time/QOTD answer once and close whatever they are sent.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionDone } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { Chargen, Daytime, Discard, Echo, QOTD, Time } from "../../src/protocols/wire.js";
import { Clock, StringTransport } from "../../src/testing/index.js";
import { guardProcess, runCases, split } from "./_gen.js";

guardProcess();

describe("fuzz: wire protocols", () => {
  it("Echo returns exactly the bytes received, Discard nothing, in any split", () => {
    runCases(81, 300, (r) => {
      const data = r.bytes(r.range(0, 5000));
      const echo = new Echo();
      const et = new StringTransport();
      echo.makeConnection(et);
      const discard = new Discard();
      const dt = new StringTransport();
      discard.makeConnection(dt);
      for (const c of split(r, data)) {
        echo.dataReceived(c);
        discard.dataReceived(c);
      }
      assert.ok(et.value().equals(data));
      assert.equal(dt.value().length, 0);
    });
  });

  it("Chargen writes only its pattern, and nothing while paused or after stopping", () => {
    runCases(82, 40, (r) => {
      const clock = new Clock();
      const p = new Chargen();
      p.clock = clock;
      p.burstSize = r.pick([100, 7030, 64 * 1024]);
      const t = new StringTransport();
      // Like a real transport: a full buffer pauses the producer (Chargen never stops by itself).
      let buffered = 0;
      const write = t.write.bind(t);
      t.write = (data) => {
        write(data);
        buffered += data.length;
        if (buffered > 256 * 1024) p.pauseProducing();
      };
      p.makeConnection(t);
      let stopped = false;
      for (let step = 0; step < 30; step++) {
        const action = r.int(5);
        if (action === 0) p.pauseProducing();
        else if (action === 1 || buffered > 256 * 1024) {
          // The transport drained.
          buffered = 0;
          t.clear();
          p.resumeProducing();
        } else if (action === 2 && r.chance(0.2)) {
          p.stopProducing();
          stopped = true;
        } else if (action === 3) p.dataReceived(r.bytes(r.range(1, 100)));
        const paused = (p as unknown as { paused: boolean }).paused;
        const before = t.value().length;
        if (paused || stopped) {
          clock.advance(1);
          assert.equal(t.value().length, before, "wrote while paused or stopped");
        } else {
          // Bursts run until the transport's buffer pauses Chargen.
          clock.advance(0.01);
          assert.ok(buffered <= 256 * 1024 + 2 * p.burstSize + 8000);
        }
      }
      assert.match(t.value().toString("latin1"), /^[\x20-\x7e\r\n]*$/);
      p.connectionLost(new Failure(new ConnectionDone()));
      const after = t.value().length;
      clock.advance(10);
      assert.equal(t.value().length, after, "wrote after the connection was lost");
      assert.equal(clock.getDelayedCalls().length, 0, "a timer left behind");
    });
  });

  it("Daytime, Time and QOTD answer once and close, whatever they are sent", () => {
    runCases(83, 100, (r) => {
      for (const P of [Daytime, Time, QOTD]) {
        const p = new P();
        if ("clock" in p) p.clock = new Clock();
        const t = new StringTransport();
        p.makeConnection(t);
        const first = Buffer.from(t.value());
        for (const c of split(r, r.bytes(r.range(1, 500)))) p.dataReceived(c);
        assert.ok(t.value().equals(first), `${P.name} wrote again`);
        assert.equal(t.disconnecting, true);
        assert.ok(first.length > 0);
      }
    });
  });
});
