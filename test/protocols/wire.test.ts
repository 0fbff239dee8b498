// Tests of the simple services of twisted-ts/protocols (wire): echo, discard, chargen, daytime, qotd, time.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import type { IPushProducer } from "../../src/internet/interfaces.js";
import { Factory } from "../../src/internet/protocol.js";
import {
  Chargen,
  chargenFactory,
  type Daytime,
  Discard,
  daytimeFactory,
  Echo,
  echoFactory,
  QOTD,
  type Time,
  timeFactory,
} from "../../src/protocols/wire.js";
import { Clock, StringTransport } from "../../src/testing/index.js";

const ADDR = new IPv4Address("TCP", "127.0.0.1", 1);

function connect(p: { makeConnection(t: StringTransport): void }, t = new StringTransport()) {
  p.makeConnection(t);
  return t;
}

describe("Echo and Discard", () => {
  it("Echo writes back what it receives", () => {
    const p = new Echo();
    const t = connect(p);
    p.dataReceived(Buffer.from("hello"));
    p.dataReceived(Buffer.from(" world"));
    assert.equal(t.value().toString(), "hello world");
  });

  it("Discard writes nothing", () => {
    const p = new Discard();
    const t = connect(p);
    p.dataReceived(Buffer.from("hello"));
    assert.equal(t.value().length, 0);
  });

  it("factories build their protocol (Factory.forProtocol)", () => {
    assert.ok(echoFactory().buildProtocol(ADDR) instanceof Echo);
    assert.ok(Factory.forProtocol(Discard).buildProtocol(ADDR) instanceof Discard);
  });
});

/** A transport that pauses its streaming producer once `limit` bytes were written. */
class FillingTransport extends StringTransport {
  constructor(private readonly limit: number) {
    super();
  }
  override write(data: Uint8Array | string): void {
    super.write(data);
    if (this.value().length >= this.limit) (this.producer as IPushProducer).pauseProducing();
  }
}

describe("Chargen", () => {
  it("sends RFC 864 lines: 72 printable characters, each line shifted by one", () => {
    const p = new Chargen();
    p.clock = new Clock();
    const t = connect(p);
    const lines = t.value().toString("latin1").split("\r\n");
    assert.equal(
      lines[0],
      Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + i)).join(""),
    );
    assert.equal(lines[1], lines[0]?.slice(1).concat(String.fromCharCode(32 + 72)));
    assert.equal(lines[95], lines[0]);
    assert.ok(lines.slice(0, -1).every((l) => l.length === 72));
  });

  it("is a streaming producer that stops when paused and goes on when resumed", () => {
    const clock = new Clock();
    const p = new Chargen();
    p.clock = clock;
    const t = connect(p, new FillingTransport(10_000));
    assert.equal(t.producer, p);
    assert.equal(t.streaming, true);
    const written = t.value().length;
    assert.ok(written >= 10_000 && written < 20_000);
    clock.advance(1);
    assert.equal(t.value().length, written);
    t.clear();
    p.resumeProducing();
    clock.advance(0);
    assert.ok(t.value().length > 0);
  });

  it("writes in bursts, yielding to the clock between them, until stopped", () => {
    const clock = new Clock();
    const p = new Chargen();
    p.clock = clock;
    p.burstSize = 1000;
    let writes = 0;
    class Counting extends StringTransport {
      override write(data: Uint8Array | string): void {
        super.write(data);
        writes++;
        if (writes === 3) p.stopProducing();
      }
    }
    connect(p, new Counting());
    assert.equal(writes, 1);
    clock.advance(0);
    assert.equal(writes, 3);
    clock.advance(1);
    assert.equal(writes, 3);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("chargenFactory gives its protocols the clock", () => {
    const clock = new Clock();
    const p = chargenFactory(clock).buildProtocol(ADDR) as Chargen;
    assert.equal(p.clock, clock);
  });
});

describe("Daytime, Time and QOTD", () => {
  it("Daytime writes the UTC date in asctime format, then closes", () => {
    const clock = new Clock();
    clock.advance(86400 * 365 + 3723);
    const p = daytimeFactory(clock).buildProtocol(ADDR) as Daytime;
    const t = connect(p);
    assert.equal(t.value().toString(), "Fri Jan  1 01:02:03 1971\r\n");
    assert.equal(t.disconnecting, true);
  });

  it("Time writes 32-bit big-endian seconds since 1900, then closes", () => {
    const clock = new Clock();
    clock.advance(1);
    const p = timeFactory(clock).buildProtocol(ADDR) as Time;
    const t = connect(p);
    assert.equal(t.value().length, 4);
    assert.equal(t.value().readUInt32BE(0), 2208988801);
    assert.equal(t.disconnecting, true);
  });

  it("QOTD writes a quote, then closes", () => {
    const p = new QOTD();
    const t = connect(p);
    assert.equal(t.value().toString(), "An apple a day keeps the doctor away.\r\n");
    assert.equal(t.disconnecting, true);
  });
});
