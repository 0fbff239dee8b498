// Fuzz tests of the framing receivers (src/protocols/basic): LineReceiver (with raw mode switched
// from inside lineReceived), LineOnlyReceiver, NetstringReceiver and Int8/16/32StringReceiver.
// Random and mutated streams, whole and in random splits: the same messages whatever the split,
// nothing thrown, nothing held beyond MAX_LENGTH (plus a delimiter or prefix) after each chunk,
// and over-long input ends the connection the receiver's way.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringReceiver,
} from "../../src/protocols/basic.js";
import { StringTransport } from "../../src/testing/index.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

const MAX = 300;

/** The bytes a receiver holds: queued chunks and partial line or string. */
function held(p: object): number {
  const x = p as {
    _queue?: Buffer[];
    _queueOffset?: number;
    _partialLength?: number;
    _partsLength?: number;
  };
  const queued = (x._queue ?? []).reduce((a, b) => a + b.length, 0) - (x._queueOffset ?? 0);
  return queued + (x._partialLength ?? 0) + (x._partsLength ?? 0);
}

/**
 * A line protocol with a raw mode: `RAW n` switches to raw mode for the next n bytes, then back
 * to line mode (handing back what followed), as an HTTP/1.0 or SMTP DATA receiver does.
 */
class Switching extends LineReceiver {
  override MAX_LENGTH = MAX;
  seen: string[] = [];
  private rawLeft = 0;
  private raw: Buffer[] = [];
  override lineReceived(line: Buffer): void {
    const s = line.toString("latin1");
    this.seen.push(`line ${s}`);
    const m = /^RAW (\d{1,4})$/.exec(s);
    if (m !== null && Number(m[1]) > 0) {
      this.rawLeft = Number(m[1]);
      this.setRawMode();
    }
  }
  override rawDataReceived(data: Buffer): void {
    const take = Math.min(this.rawLeft, data.length);
    this.raw.push(data.subarray(0, take));
    this.rawLeft -= take;
    if (this.rawLeft === 0) {
      this.seen.push(`raw ${Buffer.concat(this.raw).toString("latin1")}`);
      this.raw = [];
      this.setLineMode(data.subarray(take));
    }
  }
  override lineLengthExceeded(line: Buffer): void {
    this.seen.push(`too long ${line.length > MAX}`);
    super.lineLengthExceeded(line);
  }
}

class Lines extends LineOnlyReceiver {
  override MAX_LENGTH = MAX;
  seen: string[] = [];
  override lineReceived(line: Buffer): void {
    this.seen.push(line.toString("latin1"));
  }
  override lineLengthExceeded(line: Buffer): void {
    this.seen.push("too long");
    super.lineLengthExceeded(line);
  }
}

class Netstrings extends NetstringReceiver {
  override MAX_LENGTH = MAX;
  seen: string[] = [];
  override stringReceived(s: Buffer): void {
    this.seen.push(s.toString("latin1"));
  }
}

function intN<T extends new () => Int8StringReceiver | Int16StringReceiver | Int32StringReceiver>(
  Base: T,
) {
  return class extends (Base as new () => Int32StringReceiver) {
    override MAX_LENGTH = MAX;
    seen: string[] = [];
    override stringReceived(s: Buffer): void {
      this.seen.push(s.toString("latin1"));
    }
  };
}

type Receiver = {
  seen: string[];
  dataReceived(d: Buffer): void;
  makeConnection(t: StringTransport): void;
};

interface Engine {
  name: string;
  make(): Receiver;
  encode(r: Rand): Buffer;
  /** The most bytes held after a chunk, beyond MAX_LENGTH. */
  slack: number;
}

function text(r: Rand, max: number): Buffer {
  const n = r.int(max + 1);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++)
    b[i] = r.chance(0.9) ? 0x61 + r.int(26) : r.pick([0x00, 0x0d, 0x20, 0xff]);
  return b;
}

function prefixed(bytes: number, r: Rand): Buffer {
  const parts: Buffer[] = [];
  for (let k = r.range(1, 8); k > 0; k--) {
    const s = text(r, Math.min(MAX + 20, bytes === 1 ? 255 : MAX + 20));
    const head = Buffer.alloc(bytes);
    head.writeUIntBE(s.length, 0, bytes);
    parts.push(head, s);
  }
  return Buffer.concat(parts);
}

const ENGINES: Engine[] = [
  {
    name: "LineReceiver with raw mode",
    make: () => new Switching(),
    slack: 2,
    encode(r) {
      const parts: Buffer[] = [];
      for (let k = r.range(1, 10); k > 0; k--) {
        if (r.chance(0.3)) {
          const raw = text(r, 50);
          parts.push(Buffer.from(`RAW ${raw.length}\r\n`), raw);
        } else {
          const line = text(r, r.chance(0.1) ? MAX + 50 : 40).filter(
            (b) => b !== 0x0a && b !== 0x0d,
          );
          parts.push(Buffer.from(line), Buffer.from(r.chance(0.9) ? "\r\n" : "\n"));
        }
      }
      return Buffer.concat(parts);
    },
  },
  {
    name: "LineOnlyReceiver",
    make: () => new Lines(),
    slack: 2,
    encode(r) {
      const parts: Buffer[] = [];
      for (let k = r.range(1, 10); k > 0; k--) {
        parts.push(text(r, r.chance(0.1) ? MAX + 50 : 40), Buffer.from("\r\n"));
      }
      return Buffer.concat(parts);
    },
  },
  {
    name: "NetstringReceiver",
    make: () => new Netstrings(),
    slack: 8,
    encode(r) {
      const parts: Buffer[] = [];
      for (let k = r.range(1, 8); k > 0; k--) {
        const s = text(r, MAX + 20);
        parts.push(Buffer.from(`${s.length}:`), s, Buffer.from(","));
      }
      return Buffer.concat(parts);
    },
  },
  {
    name: "Int8StringReceiver",
    make: () => new (intN(Int8StringReceiver))(),
    slack: 1,
    encode: (r) => prefixed(1, r),
  },
  {
    name: "Int16StringReceiver",
    make: () => new (intN(Int16StringReceiver))(),
    slack: 2,
    encode: (r) => prefixed(2, r),
  },
  {
    name: "Int32StringReceiver",
    make: () => new (intN(Int32StringReceiver))(),
    slack: 4,
    encode: (r) => prefixed(4, r),
  },
];

/** Feeds `chunks`, checking the bound after each; returns what was seen and whether it closed. */
function run(engine: Engine, chunks: Buffer[]): { seen: string[]; closed: boolean } {
  const p = engine.make();
  const t = new StringTransport();
  p.makeConnection(t);
  for (const c of chunks) {
    if (t.disconnecting) break;
    p.dataReceived(c);
    if (!t.disconnecting) {
      const h = held(p);
      assert.ok(h <= MAX + engine.slack, `${engine.name} holds ${h} bytes`);
    }
  }
  return { seen: p.seen, closed: t.disconnecting };
}

describe("fuzz: framing receivers", () => {
  for (const [i, engine] of ENGINES.entries()) {
    it(`${engine.name}: the same messages in any split, bounded, over-long input closes`, () => {
      runCases(51 + i, 400, (r) => {
        let input: Buffer = engine.encode(r);
        if (r.chance(0.5)) input = mutateMany(r, input);
        const whole = run(engine, [input]);
        const pieces = run(engine, split(r, input));
        assert.deepEqual(
          pieces,
          whole,
          `split changed the outcome of ${JSON.stringify(input.toString("latin1").slice(0, 200))}`,
        );
      });
    });
  }

  it("an endless line, netstring length or huge prefix is refused without being buffered", () => {
    const streams: [Engine, Buffer][] = [
      [ENGINES[0] as Engine, Buffer.alloc(100_000, 0x61)],
      [ENGINES[1] as Engine, Buffer.alloc(100_000, 0x61)],
      [ENGINES[2] as Engine, Buffer.alloc(100_000, 0x39)],
      [ENGINES[5] as Engine, Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x61])],
    ];
    for (const [engine, data] of streams) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += 997) chunks.push(data.subarray(i, i + 997));
      assert.equal(run(engine, chunks).closed, true, engine.name);
    }
  });
});
