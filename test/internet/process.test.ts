// Tests of spawnProcess with real child processes: pipes, exit status, signals, env, cwd, flow control.

import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Process } from "../../src/internet/_process.js";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { ProcessDone, ProcessExitedAlready, ProcessTerminated } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IPushProducer } from "../../src/internet/interfaces.js";
import { ProcessProtocol } from "../../src/internet/protocol.js";

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** Records every event of a child process. */
class Recorder extends ProcessProtocol {
  readonly events: string[] = [];
  readonly data = new Map<number, Buffer[]>();
  exitedReason: Failure | null = null;
  endedReason: Failure | null = null;
  readonly ended: Promise<Failure>;
  private resolveEnded!: (f: Failure) => void;
  private dataWaiters: (() => void)[] = [];

  constructor() {
    super();
    this.ended = new Promise((r) => {
      this.resolveEnded = r;
    });
  }

  override connectionMade(): void {
    this.events.push("connectionMade");
  }
  override childDataReceived(fd: number, data: Buffer): void {
    const list = this.data.get(fd) ?? [];
    list.push(data);
    this.data.set(fd, list);
    for (const w of this.dataWaiters.splice(0)) w();
    super.childDataReceived(fd, data);
  }
  override childConnectionLost(fd: number): void {
    this.events.push(`childConnectionLost ${fd}`);
    super.childConnectionLost(fd);
  }
  override processExited(reason: Failure): void {
    this.events.push("processExited");
    this.exitedReason = reason;
  }
  override processEnded(reason: Failure): void {
    this.events.push("processEnded");
    this.endedReason = reason;
    this.resolveEnded(reason);
  }
  /** Everything read from child fd `fd`, as text. */
  text(fd: number): string {
    return Buffer.concat(this.data.get(fd) ?? []).toString();
  }
  /** Resolves once `fd` has produced output containing `needle`. */
  async waitForText(fd: number, needle: string): Promise<void> {
    while (!this.text(fd).includes(needle)) {
      await within(`"${needle}" on fd ${fd}`, new Promise<void>((r) => this.dataWaiters.push(r)));
    }
  }
}

function spawn(
  proto: Recorder,
  executable: string,
  args: string[],
  options: Parameters<NodeReactor["spawnProcess"]>[3] = {},
): Process {
  return new NodeReactor().spawnProcess(proto, executable, args, options) as Process;
}

describe("spawnProcess", () => {
  test("data written to cat comes back on stdout; closeStdin makes it end with ProcessDone", async () => {
    const proto = new Recorder();
    const p = spawn(proto, "cat", ["cat"]);
    assert.deepEqual(proto.events, ["connectionMade"]);
    assert.equal(proto.transport, p);
    assert.equal(typeof p.pid, "number");
    p.write("hello ");
    p.writeSequence(["wor", Buffer.from("ld")]);
    await proto.waitForText(1, "hello world");
    p.closeStdin();
    const reason = await within("processEnded", proto.ended);
    assert.ok(reason.check(ProcessDone));
    assert.ok(proto.exitedReason?.check(ProcessDone));
    assert.equal(proto.text(1), "hello world");
    assert.equal(p.pid, null);
    // processEnded comes last, after every pipe closed and the process exited.
    assert.equal(proto.events.at(-1), "processEnded");
    for (const e of [
      "childConnectionLost 0",
      "childConnectionLost 1",
      "childConnectionLost 2",
      "processExited",
    ]) {
      assert.ok(proto.events.includes(e), `missing ${e} in ${proto.events.join(", ")}`);
    }
    assert.ok(
      proto.events.indexOf("childConnectionLost 0") < proto.events.indexOf("processExited"),
    );
  });

  test("exit code 3 is reported as ProcessTerminated with exitCode 3", async () => {
    const proto = new Recorder();
    spawn(proto, "sh", ["sh", "-c", "exit 3"]);
    const reason = await within("processEnded", proto.ended);
    const err = reason.value as ProcessTerminated;
    assert.ok(err instanceof ProcessTerminated);
    assert.equal(err.exitCode, 3);
    assert.equal(err.signal, null);
    assert.ok(proto.exitedReason?.check(ProcessTerminated));
  });

  test("signalProcess('KILL') ends the process with ProcessTerminated carrying the signal", async () => {
    const proto = new Recorder();
    const p = spawn(proto, "sleep", ["sleep", "30"]);
    p.signalProcess("KILL");
    const reason = await within("processEnded", proto.ended);
    const err = reason.value as ProcessTerminated;
    assert.ok(err instanceof ProcessTerminated);
    assert.equal(err.signal, "SIGKILL");
    assert.equal(err.exitCode, null);
    assert.throws(() => p.signalProcess("TERM"), ProcessExitedAlready);
  });

  test("signalProcess accepts SIG-prefixed names and numbers", async () => {
    const proto = new Recorder();
    const p = spawn(proto, "sleep", ["sleep", "30"]);
    p.signalProcess(15);
    const reason = await within("processEnded", proto.ended);
    assert.equal((reason.value as ProcessTerminated).signal, "SIGTERM");
    const proto2 = new Recorder();
    const p2 = spawn(proto2, "sleep", ["sleep", "30"]);
    p2.signalProcess("SIGINT");
    assert.equal(
      ((await within("processEnded", proto2.ended)).value as ProcessTerminated).signal,
      "SIGINT",
    );
  });

  test("stdout goes to outReceived and stderr to errReceived", async () => {
    const proto = new Recorder();
    const out: string[] = [];
    const err: string[] = [];
    proto.outReceived = (d) => out.push(d.toString());
    proto.errReceived = (d) => err.push(d.toString());
    spawn(proto, "sh", ["sh", "-c", "echo to-out; echo to-err >&2"]);
    await within("processEnded", proto.ended);
    assert.equal(out.join(""), "to-out\n");
    assert.equal(err.join(""), "to-err\n");
  });

  test("the child's environment is empty by default", async () => {
    const proto = new Recorder();
    spawn(proto, "env", ["env"]);
    await within("processEnded", proto.ended);
    assert.equal(proto.text(1), "");
  });

  test("env sets exactly the given variables; env: process.env inherits ours", async () => {
    const proto = new Recorder();
    spawn(proto, "env", ["env"], { env: { GREETING: "hi there", SKIPPED: undefined } });
    await within("processEnded", proto.ended);
    assert.equal(proto.text(1), "GREETING=hi there\n");

    const inherit = new Recorder();
    spawn(inherit, "env", ["env"], { env: process.env });
    await within("processEnded", inherit.ended);
    assert.match(inherit.text(1), /^PATH=/m);
  });

  test("path sets the working directory", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "twisted-ts-cwd-")));
    try {
      const proto = new Recorder();
      spawn(proto, "pwd", ["pwd"], { path: dir });
      await within("processEnded", proto.ended);
      assert.equal(proto.text(1), `${dir}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("args[0] is the program name the child sees", async () => {
    const proto = new Recorder();
    spawn(proto, "sh", ["my-shell-name", "-c", 'echo "$0"']);
    await within("processEnded", proto.ended);
    assert.equal(proto.text(1), "my-shell-name\n");
  });

  test("a streaming producer on stdin is paused when the pipe is full and resumed on drain", async () => {
    const proto = new Recorder();
    const p = spawn(proto, "cat", ["cat"]);
    const chunk = Buffer.alloc(64 * 1024, "a");
    const total = 8 * 1024 * 1024;
    let received = 0;
    const allBack = new Promise<void>((resolve) => {
      proto.outReceived = (d) => {
        received += d.length;
        if (received >= total) resolve();
      };
    });
    let written = 0;
    let pauses = 0;
    let resumes = 0;
    let paused = false;
    const producer: IPushProducer = {
      pauseProducing() {
        pauses++;
        paused = true;
      },
      resumeProducing() {
        resumes++;
        paused = false;
        pump();
      },
      stopProducing() {},
    };
    const pump = (): void => {
      while (!paused && written < total) {
        written += chunk.length;
        p.write(chunk);
      }
      if (written >= total) {
        p.unregisterProducer();
        p.closeStdin();
      }
    };
    p.registerProducer(producer, true);
    pump();
    assert.ok(pauses >= 1, "the producer was paused while the first burst was written");
    await within("all data echoed", allBack, 20000);
    await within("processEnded", proto.ended, 20000);
    assert.ok(resumes >= 1, "the producer was resumed after a drain");
    assert.equal(received, total);
  });

  test("pauseProducing stops delivering the child's output until resumeProducing", async () => {
    const proto = new Recorder();
    const p = spawn(proto, "cat", ["cat"]);
    p.pauseProducing();
    p.write("while paused");
    // Give the child time to answer; nothing may be delivered while paused.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proto.text(1), "");
    p.resumeProducing();
    await proto.waitForText(1, "while paused");
    p.loseConnection();
    assert.ok((await within("processEnded", proto.ended)).check(ProcessDone));
  });

  test("childFDs opens extra pipes: data the child writes to fd 3 arrives as childDataReceived(3)", async () => {
    const proto = new Recorder();
    spawn(proto, "sh", ["sh", "-c", "echo three >&3; cat <&4 >&3"], {
      childFDs: { 0: "w", 1: "r", 2: "r", 3: "r", 4: "w" },
    }).writeToChild(4, "four\n");
    const p = proto.transport as Process;
    p.closeChildFD(4);
    await within("processEnded", proto.ended);
    assert.equal(proto.text(3), "three\nfour\n");
    assert.ok(proto.events.includes("childConnectionLost 3"));
    assert.ok(proto.events.includes("childConnectionLost 4"));
    assert.throws(() => p.writeToChild(7, "x"), /Cannot write to child fd 7/);
  });

  test("an executable that does not exist makes spawnProcess throw at once", () => {
    const proto = new Recorder();
    assert.throws(
      () => spawn(proto, "/nonexistent/program", ["program"]),
      (e: Error & { code?: string }) => e.code === "ERR_SPAWN" && /ENOENT/.test(e.message),
    );
    assert.throws(() => spawn(proto, "no-such-command-here", ["x"]), /ENOENT/);
    assert.deepEqual(proto.events, []);
  });

  test("usePTY raises a clear not-supported error", () => {
    assert.throws(
      () => spawn(new Recorder(), "cat", ["cat"], { usePTY: true }),
      /usePTY.*not supported/,
    );
  });

  test("an exception in outReceived is logged and the process still ends", async () => {
    const proto = new Recorder();
    proto.outReceived = () => {
      throw new Error("Buggy protocol");
    };
    spawn(proto, "sh", ["sh", "-c", "echo x"]);
    assert.ok((await within("processEnded", proto.ended)).check(ProcessDone));
    assert.ok(proto.events.includes("childConnectionLost 1"));
  });

  test("reactor.stop() lets our process exit without waiting for (or killing) its children", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/process-shutdown.ts", import.meta.url));
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const proto = new Recorder();
    spawn(proto, process.execPath, [process.execPath, "--import", "tsx", fixture], {
      env: process.env,
      path: root,
    });
    const reason = await within("the parent to exit", proto.ended, 15000);
    assert.ok(reason.check(ProcessDone), proto.text(2));
    const pid = Number(proto.text(1).trim());
    assert.ok(pid > 0);
    // The grandchild still runs: kill it ourselves.
    assert.equal(process.kill(pid, 0), true);
    process.kill(pid, "SIGKILL");
  });

  test("getHost and getPeer return a process address", () => {
    const proto = new Recorder();
    const p = spawn(proto, "true", ["true"]);
    assert.equal(String(p.getHost()), "ProcessAddress()");
    assert.equal(String(p.getPeer()), "ProcessAddress()");
    return within("processEnded", proto.ended).then(() => undefined);
  });
});
