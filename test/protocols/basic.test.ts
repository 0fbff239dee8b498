// Tests of the framing protocols of twisted-ts/protocols (basic): lines, netstrings, IntN, FileSender.

import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import type { IProducer, IPushProducer } from "../../src/internet/interfaces.js";
import {
  FileSender,
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  type IntNStringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringParseError,
  NetstringReceiver,
  StatefulStringProtocol,
  StringTooLongError,
} from "../../src/protocols/basic.js";
import { StringTransport } from "../../src/testing/index.js";
import { splits } from "./_splits.js";

/** Records lines and raw data; `onLine`/`onRaw` hooks run inside the callbacks. */
class Lines extends LineReceiver {
  lines: string[] = [];
  raw: string[] = [];
  exceeded: string[] = [];
  onLine: ((p: Lines, line: string) => void) | null = null;
  onRaw: ((p: Lines, data: Buffer) => void) | null = null;

  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString("latin1"));
    this.onLine?.(this, line.toString("latin1"));
  }

  override rawDataReceived(data: Buffer): void {
    this.raw.push(data.toString("latin1"));
    this.onRaw?.(this, data);
  }

  override lineLengthExceeded(line: Buffer): void {
    this.exceeded.push(line.toString("latin1"));
    super.lineLengthExceeded(line);
  }
}

function connect<P extends { makeConnection(t: StringTransport): void }>(p: P): StringTransport {
  const t = new StringTransport();
  p.makeConnection(t);
  return t;
}

function feed(p: { dataReceived(d: Buffer): void }, chunks: Buffer[]): void {
  for (const c of chunks) p.dataReceived(c);
}

/** `LEN n` switches to raw mode for n bytes, then back to line mode with the rest. */
class LengthPrefixedLines extends Lines {
  private rawLeft = 0;
  override onLine = (p: Lines, line: string): void => {
    const m = /^LEN (\d+)$/.exec(line);
    if (m) {
      this.rawLeft = Number(m[1]);
      this.setRawMode();
    }
  };
  override onRaw = (p: Lines, data: Buffer): void => {
    const take = Math.min(this.rawLeft, data.length);
    this.rawLeft -= take;
    this.raw.pop();
    this.raw.push(data.subarray(0, take).toString("latin1"));
    if (this.rawLeft === 0) this.setLineMode(data.subarray(take));
  };
}

describe("LineReceiver", () => {
  for (const [how, chunks] of splits("one\r\ntwo\r\n\r\nthree\r\nfour")) {
    it(`delivers each CRLF-terminated line and holds the incomplete one (${how})`, () => {
      const p = new Lines();
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["one", "two", "", "three"]);
      assert.equal(p.clearLineBuffer().toString(), "four");
    });
  }

  for (const [how, chunks] of splits("aEN\nEbEEcEENDdEND\nEND")) {
    it(`finds a multi-byte delimiter straddling chunks (${how})`, () => {
      const p = new Lines();
      p.delimiter = Buffer.from("END");
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["aEN\nEbEEcE", "d", "\n"]);
    });
  }

  for (const [how, chunks] of splits(`${"x".repeat(10)}\r\n${"y".repeat(11)}\r\nz\r\n`)) {
    it(`accepts a line of exactly MAX_LENGTH and drops the connection on a longer one (${how})`, () => {
      const p = new Lines();
      p.MAX_LENGTH = 10;
      const t = connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["x".repeat(10)]);
      assert.equal(p.exceeded.length, 1);
      assert.ok(p.exceeded[0]?.startsWith("y".repeat(11)));
      assert.equal(t.disconnecting, true);
    });
  }

  it("reports a line without delimiter as soon as the buffer proves it longer than MAX_LENGTH", () => {
    const p = new Lines();
    p.MAX_LENGTH = 10;
    const t = connect(p);
    let fed = 0;
    for (const c of Buffer.from("a".repeat(100))) {
      if (p.exceeded.length > 0) break;
      p.dataReceived(Buffer.from([c]));
      fed++;
    }
    assert.equal(fed, 11);
    assert.equal(p.exceeded[0], "a".repeat(11));
    assert.equal(t.disconnecting, true);
  });

  it("waits for the rest of the delimiter after exactly MAX_LENGTH bytes", () => {
    const p = new Lines();
    p.MAX_LENGTH = 4;
    connect(p);
    for (const c of Buffer.from("abcd\r\nefgh\r\n")) p.dataReceived(Buffer.from([c]));
    assert.deepEqual(p.lines, ["abcd", "efgh"]);
    assert.deepEqual(p.exceeded, []);
  });

  it("bounds memory: a huge chunk without delimiter is reported, not kept", () => {
    const p = new Lines();
    connect(p);
    p.dataReceived(Buffer.alloc(1 << 20, 0x61));
    assert.equal(p.exceeded.length, 1);
    assert.equal(p.clearLineBuffer().length, 0);
  });

  for (const [how, chunks] of splits("hello\r\nLEN 5\r\n12\r\n4more\r\nLEN 3\r\nabcdone\r\n")) {
    it(`switches to raw mode and back inside the callbacks without losing bytes (${how})`, () => {
      const p = new LengthPrefixedLines();
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["hello", "LEN 5", "more", "LEN 3", "done"]);
      assert.equal(p.raw.join(""), "12\r\n4abc");
    });
  }

  for (const [how, chunks] of splits("a\r\nRAW\r\nrest\r\nof it")) {
    it(`gives the bytes after setRawMode() in lineReceived to rawDataReceived (${how})`, () => {
      const p = new Lines();
      p.onLine = (q, line) => {
        if (line === "RAW") q.setRawMode();
      };
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["a", "RAW"]);
      assert.equal(p.raw.join(""), "rest\r\nof it");
    });
  }

  for (const [how, chunks] of splits("a\r\nquit\r\nb\r\nc\r\n")) {
    it(`delivers no line after loseConnection() in lineReceived (${how})`, () => {
      const p = new Lines();
      p.onLine = (q, line) => {
        if (line === "quit") q.transport?.loseConnection();
      };
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["a", "quit"]);
    });
  }

  for (const [how, chunks] of splits("a\r\nNL\r\nb\nc\r\nd\n")) {
    it(`applies a delimiter changed in lineReceived to the next line (${how})`, () => {
      const p = new Lines();
      p.onLine = (q, line) => {
        if (line === "NL") q.delimiter = Buffer.from("\n");
      };
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["a", "NL", "b", "c\r", "d"]);
    });
  }

  it("rescans a held partial line when the delimiter changes between chunks", () => {
    const p = new Lines();
    connect(p);
    p.dataReceived(Buffer.from("x\ny"));
    p.delimiter = Buffer.from("\n");
    p.dataReceived(Buffer.from("z\n"));
    assert.deepEqual(p.lines, ["x", "yz"]);
  });

  it("stops delivering lines while paused and delivers them on resume", () => {
    const p = new Lines();
    p.onLine = (q, line) => {
      if (line === "pause") q.pauseProducing();
    };
    const t = connect(p);
    p.dataReceived(Buffer.from("one\r\npause\r\ntwo\r\n"));
    p.dataReceived(Buffer.from("three\r\n"));
    assert.deepEqual(p.lines, ["one", "pause"]);
    assert.equal(t.producerState, "paused");
    p.resumeProducing();
    assert.equal(t.producerState, "producing");
    assert.deepEqual(p.lines, ["one", "pause", "two", "three"]);
  });

  it("delivers data received from inside lineReceived after the data being parsed", () => {
    const p = new Lines();
    p.onLine = (q, line) => {
      if (line === "a") q.dataReceived(Buffer.from("inner\r\n"));
    };
    connect(p);
    p.dataReceived(Buffer.from("a\r\nb\r\n"));
    assert.deepEqual(p.lines, ["a", "b", "inner"]);
  });

  it("clearLineBuffer() inside lineReceived returns and drops the undelivered bytes", () => {
    const p = new Lines();
    let cleared = "";
    p.onLine = (q) => {
      cleared = q.clearLineBuffer().toString();
    };
    connect(p);
    p.dataReceived(Buffer.from("a\r\nb\r\nc"));
    assert.deepEqual(p.lines, ["a"]);
    assert.equal(cleared, "b\r\nc");
  });

  it("sendLine() writes the line followed by the delimiter", () => {
    const p = new Lines();
    const t = connect(p);
    p.sendLine("hi");
    p.sendLine(Buffer.from("there"));
    assert.equal(t.value().toString(), "hi\r\nthere\r\n");
  });

  it("a line received in a single chunk is a view of it, not a copy", () => {
    const seen: Buffer[] = [];
    class Keep extends LineReceiver {
      override lineReceived(line: Buffer): void {
        seen.push(line);
      }
    }
    const p = new Keep();
    connect(p);
    const chunk = Buffer.from("abc\r\n");
    p.dataReceived(chunk);
    assert.equal(seen[0]?.buffer, chunk.buffer);
  });
});

class OnlyLines extends LineOnlyReceiver {
  lines: string[] = [];
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString("latin1"));
    if (line.toString() === "quit") this.transport?.loseConnection();
  }
}

describe("LineOnlyReceiver", () => {
  for (const [how, chunks] of splits("one\r\ntwo\r\n\r\nthr\ree\r\nquit\r\nlost\r\n")) {
    it(`delivers lines and stops after loseConnection (${how})`, () => {
      const p = new OnlyLines();
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["one", "two", "", "thr\ree", "quit"]);
    });
  }

  for (const [how, chunks] of splits(`ok\r\n${"z".repeat(9)}`)) {
    it(`drops the connection when a line outgrows MAX_LENGTH (${how})`, () => {
      const p = new OnlyLines();
      p.MAX_LENGTH = 8;
      const t = connect(p);
      feed(p, chunks);
      assert.deepEqual(p.lines, ["ok"]);
      assert.equal(t.disconnecting, true);
    });
  }
});

class Strings extends NetstringReceiver {
  strings: string[] = [];
  errors: NetstringParseError[] = [];
  override stringReceived(s: Buffer): void {
    this.strings.push(s.toString("latin1"));
  }
  override handleParseError(e: NetstringParseError): void {
    this.errors.push(e);
    super.handleParseError(e);
  }
}

describe("NetstringReceiver", () => {
  for (const [how, chunks] of splits("5:hello,0:,12:hello world!,3:a,b,")) {
    it(`delivers each netstring (${how})`, () => {
      const p = new Strings();
      const t = connect(p);
      feed(p, chunks);
      assert.deepEqual(p.strings, ["hello", "", "hello world!", "a,b"]);
      assert.equal(t.disconnecting, false);
    });
  }

  const malformed: [string, string][] = [
    ["a non-digit length", "5:hello,x:"],
    ["a leading zero", "05:hello,"],
    ["an empty length", ":hello,"],
    ["a missing comma", "5:hello;"],
    ["a length over MAX_LENGTH", "100000:"],
    ["a length with too many digits", "1234567"],
  ];
  for (const [what, input] of malformed) {
    for (const [how, chunks] of splits(input)) {
      it(`drops the connection on ${what} (${how})`, () => {
        const p = new Strings();
        const t = connect(p);
        feed(p, chunks);
        feed(p, [Buffer.from("1:x,")]);
        assert.equal(p.errors.length, 1);
        assert.ok(p.errors[0] instanceof NetstringParseError);
        assert.equal(p.brokenPeer, true);
        assert.equal(t.disconnecting, true);
        assert.ok(!p.strings.includes("x"));
      });
    }
  }

  it("refuses a too long netstring before its data arrives", () => {
    const p = new Strings();
    p.MAX_LENGTH = 10;
    const t = connect(p);
    p.dataReceived(Buffer.from("11:"));
    assert.equal(t.disconnecting, true);
    assert.match(p.errors[0]?.message ?? "", /exceeds MAX_LENGTH/);
  });

  it("sendString() writes <length>:<data>,", () => {
    const p = new Strings();
    const t = connect(p);
    p.sendString("hello");
    p.sendString(Buffer.alloc(0));
    assert.equal(t.value().toString(), "5:hello,0:,");
  });
});

class Recorder8 extends Int8StringReceiver {
  strings: string[] = [];
  limits: number[] = [];
  override stringReceived(s: Buffer): void {
    this.strings.push(s.toString("latin1"));
  }
  override lengthLimitExceeded(n: number): void {
    this.limits.push(n);
    super.lengthLimitExceeded(n);
  }
}
class Recorder16 extends Int16StringReceiver {
  strings: string[] = [];
  override stringReceived(s: Buffer): void {
    this.strings.push(s.toString("latin1"));
  }
}
class Recorder32 extends Int32StringReceiver {
  strings: string[] = [];
  override stringReceived(s: Buffer): void {
    this.strings.push(s.toString("latin1"));
  }
}

function prefixed(n: number, ...strings: string[]): Buffer {
  return Buffer.concat(
    strings.flatMap((s) => {
      const h = Buffer.alloc(n);
      h.writeUIntBE(s.length, 0, n);
      return [h, Buffer.from(s, "latin1")];
    }),
  );
}

describe("IntNStringReceiver", () => {
  const kinds: [string, number, () => IntNStringReceiver & { strings: string[] }][] = [
    ["Int8StringReceiver", 1, () => new Recorder8()],
    ["Int16StringReceiver", 2, () => new Recorder16()],
    ["Int32StringReceiver", 4, () => new Recorder32()],
  ];
  for (const [name, n, make] of kinds) {
    for (const [how, chunks] of splits(prefixed(n, "hello", "", "x".repeat(200), "end"))) {
      it(`${name} delivers each big-endian length-prefixed string (${how})`, () => {
        const p = make();
        connect(p);
        feed(p, chunks);
        assert.deepEqual(p.strings, ["hello", "", "x".repeat(200), "end"]);
      });
    }

    it(`${name} drops the connection on a length over MAX_LENGTH, before the data`, () => {
      const p = make();
      p.MAX_LENGTH = 100;
      const t = connect(p);
      p.dataReceived(prefixed(n, "ok", "y".repeat(101)).subarray(0, 2 + n + n));
      assert.deepEqual(p.strings, ["ok"]);
      assert.equal(t.disconnecting, true);
    });

    it(`${name}.sendString() writes a ${n}-byte big-endian prefix`, () => {
      const p = make();
      const t = connect(p);
      p.sendString("abc");
      assert.deepEqual(t.value(), prefixed(n, "abc"));
    });
  }

  for (const [how, chunks] of splits(Buffer.from([3, 0x61, 0x62, 0x63, 200, 1, 2]))) {
    it(`reports the announced length to lengthLimitExceeded (${how})`, () => {
      const p = new Recorder8();
      p.MAX_LENGTH = 100;
      connect(p);
      feed(p, chunks);
      assert.deepEqual(p.strings, ["abc"]);
      assert.deepEqual(p.limits, [200]);
    });
  }

  it("Int8StringReceiver.sendString() refuses 256 bytes with StringTooLongError", () => {
    const p = new Recorder8();
    connect(p);
    assert.throws(() => p.sendString(Buffer.alloc(256)), StringTooLongError);
  });

  it("stops delivering while paused and delivers on resume", () => {
    const p = new Recorder16();
    const t = connect(p);
    p.pauseProducing();
    p.dataReceived(prefixed(2, "a", "b"));
    assert.deepEqual(p.strings, []);
    assert.equal(t.producerState, "paused");
    p.resumeProducing();
    assert.deepEqual(p.strings, ["a", "b"]);
  });
});

describe("StatefulStringProtocol", () => {
  it("routes strings to proto_<state> and drops the connection on done", () => {
    const seen: string[] = [];
    class Login extends StatefulStringProtocol(Int16StringReceiver) {
      proto_init(s: Buffer): string {
        seen.push(`user ${s}`);
        return "password";
      }
      proto_password(s: Buffer): string {
        seen.push(`password ${s}`);
        return "done";
      }
    }
    const p = new Login();
    const t = connect(p);
    p.dataReceived(prefixed(2, "alice", "secret"));
    assert.deepEqual(seen, ["user alice", "password secret"]);
    assert.equal(t.disconnecting, true);
  });
});

/** A consumer that pauses its streaming producer after each write, like a full socket. */
class SlowConsumer extends StringTransport {
  writes = 0;
  override write(data: Uint8Array | string): void {
    super.write(data);
    this.writes++;
    (this.producer as IPushProducer | null)?.pauseProducing();
  }
}

async function tick(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Waits (on real I/O) until `cond()` holds; fails after twenty seconds (a loaded machine is slow). */
async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe("FileSender", () => {
  async function withFile(content: Buffer, fn: (path: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "twisted-ts-filesender-"));
    try {
      const path = join(dir, "f");
      await writeFile(path, content);
      await fn(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const content = Buffer.alloc(200_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;

  it("sends a whole file, fires with its last byte and unregisters", async () => {
    await withFile(content, async (path) => {
      const fh = await open(path);
      try {
        const t = new StringTransport();
        const d = new FileSender().beginFileTransfer(fh, t);
        assert.equal(t.streaming, true);
        const last = await d;
        assert.deepEqual(t.value(), content);
        assert.deepEqual(last, content.subarray(-1));
        assert.equal(t.producer, null);
      } finally {
        await fh.close();
      }
    });
  });

  it("applies transform to each chunk", async () => {
    const t = new StringTransport();
    const upper = (b: Buffer): Buffer => Buffer.from(b.toString().toUpperCase());
    await new FileSender().beginFileTransfer(Readable.from([Buffer.from("ab"), "cd"]), t, upper);
    assert.equal(t.value().toString(), "ABCD");
  });

  it("reads no further while the consumer has paused it", async () => {
    await withFile(content, async (path) => {
      const fh = await open(path);
      try {
        const t = new SlowConsumer();
        const sender = new FileSender();
        sender.CHUNK_SIZE = 1000;
        const d = sender.beginFileTransfer(fh, t);
        let done = false;
        d.addCallback(() => {
          done = true;
        });
        await waitUntil("the first chunk", () => t.writes === 1);
        await tick(20);
        assert.equal(t.writes, 1);
        while (!done) {
          const before = t.writes;
          (t.producer as IProducer & IPushProducer).resumeProducing();
          await waitUntil("the next chunk", () => done || t.writes > before);
          await tick();
          assert.ok(t.writes <= before + 1);
        }
        assert.deepEqual(t.value(), content);
      } finally {
        await fh.close();
      }
    });
  });

  it("fails the transfer when the consumer calls stopProducing", async () => {
    const t = new SlowConsumer();
    const d = new FileSender().beginFileTransfer(Readable.from(["a", "b", "c"]), t);
    await waitUntil("the first chunk", () => t.writes === 1);
    (t.producer as IProducer).stopProducing();
    await assert.rejects(d.asPromise(), /stop producing/);
  });

  it("a cancelled transfer stops reading and unregisters the producer", async () => {
    const t = new SlowConsumer();
    const d = new FileSender().beginFileTransfer(Readable.from(["a", "b", "c"]), t);
    await waitUntil("the first chunk", () => t.writes === 1);
    await tick();
    d.cancel();
    assert.equal(t.producer, null);
    await assert.rejects(d.asPromise());
    assert.equal(t.value().toString(), "a");
  });
});
