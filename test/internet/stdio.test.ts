// Tests of StandardIO: a Protocol over injected streams, and over a real child's stdin/stdout.

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { ConnectionDone, ProcessDone } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IPushProducer } from "../../src/internet/interfaces.js";
import { ProcessProtocol, Protocol } from "../../src/internet/protocol.js";
import { PipeAddress, StandardIO } from "../../src/internet/stdio.js";
import { capturingLogs } from "../_helpers/tcp.js";

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** Records what a protocol sees; `lost` resolves with connectionLost's reason. */
class Recorder extends Protocol {
  readonly chunks: string[] = [];
  made = 0;
  reason: Failure | null = null;
  readonly lost: Promise<Failure>;
  private resolveLost!: (f: Failure) => void;
  private waiters: (() => void)[] = [];
  constructor() {
    super();
    this.lost = new Promise((r) => {
      this.resolveLost = r;
    });
  }
  override connectionMade(): void {
    this.made++;
  }
  override dataReceived(data: Buffer): void {
    this.chunks.push(data.toString());
    for (const w of this.waiters.splice(0)) w();
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.reason = reason;
    this.resolveLost(reason);
  }
  text(): string {
    return this.chunks.join("");
  }
  async waitForText(needle: string): Promise<void> {
    while (!this.text().includes(needle)) {
      await within(`"${needle}"`, new Promise<void>((r) => this.waiters.push(r)));
    }
  }
}

/** A protocol that wants to know about end of input (IHalfCloseableProtocol). */
class HalfCloseable extends Recorder {
  readLost = 0;
  writeLost = 0;
  readConnectionLost(): void {
    this.readLost++;
  }
  writeConnectionLost(): void {
    this.writeLost++;
  }
}

/** Collects everything written to a PassThrough used as stdout. */
function collect(stream: PassThrough): { text: () => string; ended: Promise<void> } {
  const parts: Buffer[] = [];
  const ended = new Promise<void>((r) => stream.on("end", r));
  stream.on("data", (d: Buffer) => parts.push(d));
  return { text: () => Buffer.concat(parts).toString(), ended };
}

function pipes(): { stdin: PassThrough; stdout: PassThrough; reactor: NodeReactor } {
  return { stdin: new PassThrough(), stdout: new PassThrough(), reactor: new NodeReactor() };
}

describe("StandardIO over injected streams", () => {
  test("input goes to dataReceived and transport.write goes to the output", async () => {
    const io = pipes();
    const out = collect(io.stdout);
    const proto = new Recorder();
    const t = new StandardIO(proto, io);
    assert.equal(proto.made, 1);
    assert.equal(proto.transport, t);
    io.stdin.write("line one\n");
    io.stdin.write("line two\n");
    await proto.waitForText("line one\nline two\n");
    t.write("out 1\n");
    t.writeSequence(["out ", Buffer.from("2\n")]);
    t.loseConnection();
    await within("output end", out.ended);
    assert.equal(out.text(), "out 1\nout 2\n");
  });

  test("end of input calls connectionLost(ConnectionDone) and leaves the output open", async () => {
    const io = pipes();
    const proto = new Recorder();
    new StandardIO(proto, io);
    io.stdin.end("last words");
    const reason = await within("connectionLost", proto.lost);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(proto.text(), "last words");
    assert.equal(io.stdout.writableEnded, false);
  });

  test("end of input calls readConnectionLost on a half-closeable protocol, which can still write", async () => {
    const io = pipes();
    const out = collect(io.stdout);
    const proto = new HalfCloseable();
    const t = new StandardIO(proto, io);
    io.stdin.end();
    await within(
      "readConnectionLost",
      new Promise<void>((r) => {
        const check = (): void => (proto.readLost > 0 ? r() : void setImmediate(check));
        check();
      }),
    );
    assert.equal(proto.reason, null);
    t.write("still here\n");
    t.loseConnection();
    const reason = await within("connectionLost", proto.lost);
    assert.ok(reason.check(ConnectionDone));
    await within("output end", out.ended);
    assert.equal(out.text(), "still here\n");
  });

  test("loseConnection ends the output after pending data, then calls connectionLost(ConnectionDone)", async () => {
    const io = pipes();
    const out = collect(io.stdout);
    const proto = new Recorder();
    const t = new StandardIO(proto, io);
    t.write("pending\n");
    t.loseConnection();
    assert.equal(t.disconnecting, true);
    t.write("dropped\n");
    const reason = await within("connectionLost", proto.lost);
    assert.ok(reason.check(ConnectionDone));
    await within("output end", out.ended);
    assert.equal(out.text(), "pending\n");
    assert.equal(t.disconnected, true);
  });

  test("loseWriteConnection ends the output and a half-closeable protocol gets writeConnectionLost", async () => {
    const io = pipes();
    const out = collect(io.stdout);
    const proto = new HalfCloseable();
    const t = new StandardIO(proto, io);
    t.loseWriteConnection();
    await within("output end", out.ended);
    await within(
      "writeConnectionLost",
      new Promise<void>((r) => {
        const check = (): void => (proto.writeLost > 0 ? r() : void setImmediate(check));
        check();
      }),
    );
    io.stdin.write("still reading");
    await proto.waitForText("still reading");
    io.stdin.end();
    assert.ok((await within("connectionLost", proto.lost)).check(ConnectionDone));
  });

  test("pauseProducing stops delivering input until resumeProducing", async () => {
    const io = pipes();
    const proto = new Recorder();
    const t = new StandardIO(proto, io);
    t.pauseProducing();
    io.stdin.write("held back");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(proto.text(), "");
    t.resumeProducing();
    await proto.waitForText("held back");
    t.loseConnection();
  });

  test("a protocol that pauses in connectionMade gets no data until it resumes", async () => {
    const io = pipes();
    class Paused extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        (this.transport as StandardIO).pauseProducing();
      }
    }
    const proto = new Paused();
    const t = new StandardIO(proto, io);
    io.stdin.write("early");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(proto.text(), "");
    t.resumeProducing();
    await proto.waitForText("early");
    t.loseConnection();
  });

  test("a streaming producer is paused when the output is full and resumed when it drains", async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough({ highWaterMark: 16 });
    const proto = new Recorder();
    const t = new StandardIO(proto, { stdin, stdout, reactor: new NodeReactor() });
    let paused = 0;
    let resumed = 0;
    const resumedOnce = new Promise<void>((r) => {
      const producer: IPushProducer = {
        pauseProducing: () => void paused++,
        resumeProducing: () => {
          resumed++;
          r();
        },
        stopProducing: () => {},
      };
      t.registerProducer(producer, true);
    });
    t.write(Buffer.alloc(1024, "z"));
    assert.equal(paused, 1);
    assert.equal(resumed, 0);
    stdout.resume(); // the reader catches up
    await within("resumeProducing", resumedOnce);
    assert.equal(resumed, 1);
    assert.throws(() => t.registerProducer({ stopProducing() {} }, false), /already registered/);
    t.unregisterProducer();
    t.loseConnection();
    assert.ok((await within("connectionLost", proto.lost)).check(ConnectionDone));
  });

  test("getPeer and getHost return a PipeAddress", () => {
    const io = pipes();
    const t = new StandardIO(new Recorder(), io);
    assert.ok(t.getPeer() instanceof PipeAddress);
    assert.ok(t.getHost() instanceof PipeAddress);
    t.loseConnection();
  });

  test("an async dataReceived that rejects is logged, not left as an unhandled rejection", async () => {
    const io = pipes();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      await capturingLogs(async (events) => {
        let rejected!: () => void;
        const done = new Promise<void>((r) => {
          rejected = r;
        });
        class AsyncBuggy extends Recorder {
          override async dataReceived(data: Buffer): Promise<void> {
            await Promise.resolve();
            rejected();
            throw new Error("Async buggy protocol");
          }
        }
        const t = new StandardIO(new AsyncBuggy(), io);
        io.stdin.write("boom");
        await within("dataReceived", done);
        const logged = (): boolean =>
          events.some((e) => /Async buggy protocol/.test(String(e.log_failure?.value)));
        for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setImmediate(r));
        assert.ok(logged(), "the rejection was logged");
        t.loseConnection();
      });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    } finally {
      process.removeListener("unhandledRejection", onUnhandled);
    }
  });

  test("an exception in dataReceived is logged and loses the connection", async () => {
    const io = pipes();
    class Buggy extends Recorder {
      override dataReceived(data: Buffer): void {
        throw new Error("Buggy protocol");
      }
    }
    const proto = new Buggy();
    new StandardIO(proto, io);
    io.stdin.write("boom");
    const reason = await within("connectionLost", proto.lost);
    assert.match(reason.getErrorMessage(), /Buggy protocol/);
  });

  test("reactor.stop() stops reading input", async () => {
    const io = pipes();
    io.reactor.installSignalHandlers = false;
    const proto = new Recorder();
    const done = io.reactor.run();
    new StandardIO(proto, io);
    io.stdin.write("before");
    await proto.waitForText("before");
    io.reactor.stop();
    await within("reactor stop", done);
    io.stdin.write("after");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(proto.text(), "before");
  });
});

describe("StandardIO over a real child process's stdio", () => {
  test("a child using StandardIO answers its input and closes at end of input", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/stdio-upper.ts", import.meta.url));
    const root = fileURLToPath(new URL("../..", import.meta.url));
    let out = "";
    let err = "";
    let resolveEnded!: (f: Failure) => void;
    const ended = new Promise<Failure>((r) => {
      resolveEnded = r;
    });
    let sentInput = false;
    class Driver extends ProcessProtocol {
      override outReceived(data: Buffer): void {
        out += data.toString();
        if (!sentInput && out.includes("ready\n")) {
          sentInput = true;
          this.transport?.write("hello child\n");
        }
        if (out.includes("HELLO CHILD\n")) this.transport?.closeStdin();
      }
      override errReceived(data: Buffer): void {
        err += data.toString();
      }
      override processEnded(reason: Failure): void {
        resolveEnded(reason);
      }
    }
    new NodeReactor().spawnProcess(
      new Driver(),
      process.execPath,
      [process.execPath, "--import", "tsx", fixture],
      { env: process.env, path: root },
    );
    const reason = await within("child end", ended, 20000);
    assert.equal(out, "ready\nHELLO CHILD\neof\n");
    assert.match(err, /connectionLost ConnectionDone/);
    assert.ok(reason.check(ProcessDone), `child failed: ${err}`);
  });
});
