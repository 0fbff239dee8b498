// Child process transports over node:child_process (Twisted's twisted.internet.process).

import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { ProcessDone, ProcessExitedAlready, ProcessTerminated } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IProcessProtocol,
  IProcessTransport,
  IProducer,
  IPullProducer,
  IPushProducer,
  SpawnProcessOptions,
} from "./interfaces.js";
import { _callSafely } from "./protocol.js";

const log = new Logger("twisted-ts.internet.process");

/** Flushes a corked stream (a shared function: no closure per `writeSequence`). */
function uncork(stream: Writable): void {
  stream.uncork();
}

/** The address of either end of a process transport: a process has no network address. */
export class ProcessAddress implements IAddress {
  /** Not an IP address: no `type`. */
  declare readonly type?: never;

  equals(other: unknown): boolean {
    return other instanceof ProcessAddress;
  }
  toString(): string {
    return "ProcessAddress()";
  }
}

/**
 * @internal Writes to a Node writable stream with Twisted's consumer rules: a streaming
 * producer is paused when `write` returns false and resumed on `'drain'`; a pull producer is
 * asked for more whenever the buffer has room; closing waits for pending data and for the
 * producer to be unregistered. Used by process pipes and standard I/O.
 */
export class _PipeWriter {
  producer: IProducer | null = null;
  streaming = false;
  producerPaused = false;
  /** True once `loseConnection` was called. */
  disconnecting = false;
  /** True once the stream is finished or closed (after `onLost` ran). */
  disconnected = false;
  private pullScheduled = false;

  constructor(
    readonly stream: Writable,
    private readonly onLost: (error: Error | null) => void,
  ) {
    stream.on("drain", this.onDrain);
    stream.on("error", this.onError);
    // "finish": all data handed to the OS and the stream ended (a Duplex may never "close").
    stream.on("finish", this.onClose);
    stream.on("close", this.onClose);
  }

  private writable(): boolean {
    return !this.disconnecting && !this.disconnected && !this.stream.destroyed;
  }

  /** Writes `data`; dropped silently once closing or closed, as Twisted does. */
  write(data: Uint8Array | string): void {
    if (!this.writable()) return;
    if (typeof data === "string" ? data.length === 0 : data.byteLength === 0) return;
    const ok = this.stream.write(data);
    if (!ok) this.bufferFull();
    else this.schedulePull();
  }

  /** Writes several chunks in one go (corked). */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    if (!this.writable()) return;
    this.stream.cork();
    let ok = true;
    for (const chunk of data) ok = this.stream.write(chunk) && ok;
    process.nextTick(uncork, this.stream);
    if (!ok) this.bufferFull();
    else this.schedulePull();
  }

  private bufferFull(): void {
    const p = this.producer;
    if (p !== null && this.streaming && !this.producerPaused) {
      this.producerPaused = true;
      _callSafely("pauseProducing", () => (p as IPushProducer).pauseProducing());
    }
  }

  private schedulePull(): void {
    if (this.producer === null || this.streaming || this.pullScheduled) return;
    this.pullScheduled = true;
    setImmediate(() => {
      this.pullScheduled = false;
      const p = this.producer;
      if (p === null || this.streaming || !this.writable() || this.stream.writableNeedDrain) return;
      _callSafely("resumeProducing", () => (p as IPullProducer).resumeProducing());
    });
  }

  private readonly onDrain = (): void => {
    const p = this.producer;
    if (p === null) return;
    if (this.streaming) {
      if (this.producerPaused) {
        this.producerPaused = false;
        _callSafely("resumeProducing", () => (p as IPushProducer).resumeProducing());
      }
    } else {
      this.schedulePull();
    }
  };

  /** Registers a producer; raises if one is already registered. */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register producer: a producer is already registered");
    }
    if (this.disconnected) {
      _callSafely("stopProducing", () => producer.stopProducing());
      return;
    }
    this.producer = producer;
    this.streaming = streaming;
    this.producerPaused = false;
    if (!streaming) this.schedulePull();
    else if (this.stream.writableNeedDrain) this.bufferFull();
  }

  /** Unregisters the producer; a pending `loseConnection` then proceeds. */
  unregisterProducer(): void {
    this.producer = null;
    this.producerPaused = false;
    if (this.disconnecting && !this.stream.writableEnded) this.stream.end();
  }

  /** Closes after pending data is written (and the producer, if any, is unregistered). */
  loseConnection(): void {
    if (this.disconnecting || this.disconnected) return;
    this.disconnecting = true;
    if (this.producer === null) this.stream.end();
  }

  /** Closes at once, discarding pending data. */
  abort(): void {
    if (!this.disconnected) this.stream.destroy();
  }

  private readonly onError = (err: Error): void => {
    // EPIPE and friends: the reader went away. "close" follows and reports the loss.
    log.debug("Pipe error: {error}", { error: err.message });
    if (this.lostError === null) this.lostError = err;
    this.stream.destroy();
  };

  private lostError: Error | null = null;

  private readonly onClose = (): void => {
    if (this.disconnected) return;
    this.disconnected = true;
    const p = this.producer;
    this.producer = null;
    if (p !== null) _callSafely("stopProducing", () => p.stopProducing());
    this.onLost(this.lostError);
  };
}

/**
 * A running child process, as its `ProcessProtocol` sees it (`this.transport`): write to its
 * stdin, close its pipes, send it signals. It is a consumer (flow control on stdin) and a push
 * producer (pausing stops reading the child's output).
 *
 * Events: `makeConnection` (→ `connectionMade`) while `spawnProcess` runs, `childDataReceived`
 * for each chunk from an output pipe, `childConnectionLost(fd)` as each pipe closes,
 * `processExited(reason)` when the process exits, and `processEnded(reason)` once it has exited
 * and all its pipes are closed. `reason` wraps `ProcessDone` (exit code 0) or
 * `ProcessTerminated` (`exitCode`, or `signal` such as `"SIGKILL"`).
 */
export class Process implements IProcessTransport {
  /** The process id, or `null` once it has exited. */
  pid: number | null;
  /** The exit status: `{ exitCode, signal }` once the process exited. */
  status: { exitCode: number | null; signal: string | null } | null = null;
  private readonly writers = new Map<number, _PipeWriter>();
  private readonly readers = new Map<number, Readable>();
  /** The fds opened for us to write to, open or not. */
  private readonly writeFDs = new Set<number>();
  private exited = false;
  private ended = false;

  constructor(
    readonly reactor: NodeReactor,
    readonly proto: IProcessProtocol,
    private readonly child: ChildProcess,
    childFDs: Record<number, "r" | "w" | number>,
  ) {
    this.pid = child.pid ?? null;
    for (const [key, kind] of Object.entries(childFDs)) {
      const fd = Number(key);
      const stream = child.stdio[fd];
      if (stream === null || stream === undefined || typeof kind === "number") continue;
      if (kind === "w") {
        this.writeFDs.add(fd);
        this.writers.set(fd, new _PipeWriter(stream as Writable, () => this.pipeLost(fd)));
        // Pipes past stderr are sockets, readable too: drain them so that they can close.
        if (fd > 2) (stream as Readable).resume();
      } else {
        this.watchReader(fd, stream as Readable);
      }
    }
    child.on("exit", this.onExit);
    child.on("error", (err) => {
      log.failure("Child process {pid} error", new Failure(err), undefined, { pid: this.pid });
    });
    reactor._track(this);
  }

  private watchReader(fd: number, stream: Readable): void {
    this.readers.set(fd, stream);
    stream.on("data", (data: Buffer) => {
      const f = _callSafely("childDataReceived", () => this.proto.childDataReceived(fd, data));
      // As in Twisted, a protocol that fails on a pipe's data loses that pipe.
      if (f !== null) stream.destroy();
    });
    stream.on("error", (err: Error) => {
      log.debug("Child fd {fd} error: {error}", { fd, error: err.message });
    });
    stream.on("close", () => this.pipeLost(fd));
  }

  private pipeLost(fd: number): void {
    if (!this.writers.delete(fd) && !this.readers.delete(fd)) return;
    _callSafely("childConnectionLost", () => this.proto.childConnectionLost(fd));
    this.maybeCallProcessEnded();
  }

  private readonly onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.exited = true;
    this.pid = null;
    this.status = { exitCode: code, signal };
    const reason = this.reason();
    _callSafely("processExited", () => this.proto.processExited(reason));
    this.maybeCallProcessEnded();
  };

  private reason(): Failure {
    const s = this.status;
    if (s !== null && s.signal === null && s.exitCode === 0) return new Failure(new ProcessDone());
    return new Failure(new ProcessTerminated(s?.exitCode ?? null, s?.signal ?? null));
  }

  private maybeCallProcessEnded(): void {
    if (this.ended || !this.exited || this.writers.size > 0 || this.readers.size > 0) return;
    this.ended = true;
    this.reactor._untrack(this);
    const reason = this.reason();
    _callSafely("processEnded", () => this.proto.processEnded(reason));
  }

  /** Writes to the child's stdin. */
  write(data: Uint8Array | string): void {
    this.writers.get(0)?.write(data);
  }

  /** Writes several chunks to the child's stdin. */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    this.writers.get(0)?.writeSequence(data);
  }

  /**
   * Writes to child fd `childFD` (one opened with `"w"` in `childFDs`; 0 is stdin). Raises
   * when there is no such pipe to write to; writes to a closed pipe are dropped.
   */
  writeToChild(childFD: number, data: Uint8Array | string): void {
    if (!this.writeFDs.has(childFD)) {
      throw new Error(`Cannot write to child fd ${childFD}: not a pipe opened with "w"`);
    }
    this.writers.get(childFD)?.write(data);
  }

  /**
   * Closes child fd `childFD`: a pipe we write to is closed after pending data is written (the
   * child then reads EOF); a pipe we read from is closed at once.
   */
  closeChildFD(childFD: number): void {
    const w = this.writers.get(childFD);
    if (w !== undefined) {
      w.loseConnection();
      return;
    }
    this.readers.get(childFD)?.destroy();
  }

  /** Closes the child's stdin (after pending writes): the child reads EOF. */
  closeStdin(): void {
    this.closeChildFD(0);
  }

  /** Stops reading the child's stdout and closes it (the child may get SIGPIPE). */
  closeStdout(): void {
    this.closeChildFD(1);
  }

  /** Stops reading the child's stderr and closes it. */
  closeStderr(): void {
    this.closeChildFD(2);
  }

  /** Closes stdin, stdout and stderr; the process is not signalled. */
  loseConnection(): void {
    this.closeStdin();
    this.closeStderr();
    this.closeStdout();
  }

  /**
   * Sends a signal: `"TERM"`, `"KILL"`, `"INT"`, `"HUP"`, … (with or without `SIG`), or a
   * number. Raises `ProcessExitedAlready` once the process has exited.
   */
  signalProcess(signal: string | number): void {
    if (this.exited || this.pid === null) throw new ProcessExitedAlready();
    let sig: NodeJS.Signals | number;
    if (typeof signal === "number") sig = signal;
    else {
      const name = signal.toUpperCase();
      sig = (name.startsWith("SIG") ? name : `SIG${name}`) as NodeJS.Signals;
    }
    if (!this.child.kill(sig)) {
      // kill() returns false for ESRCH: exited, not yet reaped.
      throw new ProcessExitedAlready();
    }
  }

  /** A `ProcessAddress`: processes have no network address. */
  getPeer(): ProcessAddress {
    return new ProcessAddress();
  }

  /** A `ProcessAddress`: processes have no network address. */
  getHost(): ProcessAddress {
    return new ProcessAddress();
  }

  /** Registers a producer writing to the child's stdin (see `IConsumer`). */
  registerProducer(producer: IProducer, streaming: boolean): void {
    const w = this.writers.get(0);
    if (w === undefined) {
      _callSafely("stopProducing", () => producer.stopProducing());
      return;
    }
    w.registerProducer(producer, streaming);
  }

  /** Unregisters the producer writing to stdin. */
  unregisterProducer(): void {
    this.writers.get(0)?.unregisterProducer();
  }

  /** Stops reading the child's output pipes (they fill, and the child blocks writing). */
  pauseProducing(): void {
    for (const r of this.readers.values()) r.pause();
  }

  /** Resumes reading the child's output pipes. */
  resumeProducing(): void {
    for (const r of this.readers.values()) r.resume();
  }

  /** Closes all pipes (as `loseConnection`). */
  stopProducing(): void {
    this.loseConnection();
  }

  /** @internal the reactor stops: let Node exit without waiting for the child (not killed) */
  _shutdown(): void {
    this.child.unref();
    for (const s of this.child.stdio) {
      (s as { unref?: () => void } | null)?.unref?.();
    }
  }

  toString(): string {
    return `<Process pid=${this.pid ?? "None"}>`;
  }
}

/** Why `spawn` failed, found after the fact (Node reports it only on the next tick). */
function spawnFailureReason(executable: string, env: Record<string, string>, cwd?: string): string {
  const code = (e: unknown): string => (e as { code?: string }).code ?? String(e);
  if (cwd !== undefined) {
    try {
      if (!statSync(cwd).isDirectory()) return `ENOTDIR: working directory ${cwd}`;
    } catch (e) {
      return `${code(e)}: working directory ${cwd}`;
    }
  }
  const candidates = executable.includes("/")
    ? [executable]
    : (env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(delimiter)
        .map((d) => join(d || ".", executable));
  let last = "ENOENT";
  for (const path of candidates) {
    try {
      accessSync(path, fsConstants.X_OK);
      if (statSync(path).isDirectory()) last = "EACCES";
      else return "unknown error";
    } catch (e) {
      if (code(e) !== "ENOENT") last = code(e);
    }
  }
  return last;
}

/**
 * Starts `executable` with `args` (`args[0]` is the program name the child sees).
 *
 * - `env` defaults to an empty environment, as in Twisted; pass `process.env` to inherit ours.
 *   Without `PATH` in `env`, a bare `executable` is looked up in the system's default path.
 * - `path` is the working directory; `uid`/`gid` switch user (needs privileges).
 * - `childFDs` maps child fds to `"w"` (we write), `"r"` (we read) or a parent fd passed
 *   through; the default is `{ 0: "w", 1: "r", 2: "r" }`.
 * - `usePTY` is not supported (Node has no pseudo-terminals without native modules): it throws.
 *
 * When the process cannot be started (missing executable, no permission, bad working
 * directory), this throws an `Error` with `code` `"ERR_SPAWN"` at once, as Twisted's
 * `posix_spawn` path raises `OSError`; no protocol method is called.
 * @internal called by `NodeReactor.spawnProcess`
 */
export function spawnProcess(
  reactor: NodeReactor,
  processProtocol: IProcessProtocol,
  executable: string,
  args: readonly string[],
  options: SpawnProcessOptions,
): Process {
  if (options.usePTY) {
    throw new Error(
      "Cannot spawn process with usePTY: pseudo-terminals are not supported on Node without native modules",
    );
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const childFDs = options.childFDs ?? { 0: "w", 1: "r", 2: "r" };
  const maxFD = Math.max(2, ...Object.keys(childFDs).map(Number));
  const stdio: StdioOptions = [];
  for (let fd = 0; fd <= maxFD; fd++) {
    const kind = childFDs[fd];
    stdio.push(kind === undefined ? "ignore" : typeof kind === "number" ? kind : "pipe");
  }
  const child = spawn(executable, args.slice(1), {
    argv0: args[0] ?? executable,
    env,
    stdio,
    ...(options.path !== undefined ? { cwd: options.path } : {}),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  if (child.pid === undefined) {
    // Node emits the reason on the next tick; swallow that and report synchronously instead.
    child.on("error", () => {});
    const reason = spawnFailureReason(executable, env, options.path);
    throw Object.assign(new Error(`Cannot spawn process ${executable}: ${reason}`), {
      code: "ERR_SPAWN",
    });
  }
  const p = new Process(reactor, processProtocol, child, childFDs);
  _callSafely("makeConnection", () => processProtocol.makeConnection(p));
  return p;
}
