// Processes of the benchmarks: servers pinned to CPU 0, load generators pinned to CPU 1, RSS.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { availableParallelism } from "node:os";

/** The CPU servers run on, and the CPU load generators run on (when the machine has two). */
export const SERVER_CPU = 0;
/** The CPU load generators run on. */
export const LOAD_CPU = 1;

/** The file-descriptor limit asked for (the hard limit is used when it is lower). */
const NOFILE = 65536;

/** True when there are at least two CPUs to pin servers and load generators apart. */
export function canPin(): boolean {
  return availableParallelism() >= 2;
}

function pinned(cpu: number, argv: readonly string[]): string[] {
  return canPin() ? ["taskset", "-c", String(cpu), ...argv] : [...argv];
}

/** Keeps the last `max` characters written to it (a bounded tail of a child's output). */
class Tail {
  private text = "";
  constructor(private readonly max = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * The telling line of a program's output, for an error message: the first line that reads like
 * an error (a usage text or a stack may follow it), else the last non-empty line.
 */
export function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const error = lines.find((l) => /error|unknown|cannot|not implemented|EADDRINUSE/i.test(l));
  return error ?? lines[lines.length - 1] ?? "";
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

let nextPort = 20000 + Math.floor(Math.random() * 4000);

/**
 * A free port below the ephemeral range (32768 and up on Linux), so that the thousands of client
 * connections of a run never collide with a server's port. Each call gives a new port.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = nextPort++;
    if (nextPort >= 32000) nextPort = 20000;
    if (await portFree(port)) return port;
  }
  throw new Error("Cannot find a free port between 20000 and 32000");
}

/** A server's resident memory from `/proc/<pid>/status`, in kB. */
export interface Rss {
  /** Current resident set size (VmRSS). */
  rssKb: number;
  /** Peak resident set size (VmHWM). */
  hwmKb: number;
}

/** Reads VmRSS and VmHWM of process `pid`. */
export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (m === null) throw new Error(`Cannot read ${name} of process ${pid}`);
    return Number(m[1]);
  };
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

/**
 * CPU time used so far by process `pid`, all threads, in seconds: the sum of each thread's
 * `/proc/<pid>/task/<tid>/schedstat` (nanoseconds). Unlike throughput, CPU time per operation
 * barely moves when other programs compete for the CPUs.
 */
export function readCpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended in between
    }
  }
  return ns / 1e9;
}

/** The parent process id of `pid` (from `/proc/<pid>/stat`), or null if it is gone. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // after "pid (comm) state ": the comm may hold spaces and parentheses, so split after the last ")"
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** `pid` and every live descendant of it (servers that fork a process per session). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const child = Number(name);
    if (!Number.isInteger(child) || child <= 0) continue;
    const parent = parentOf(child);
    if (parent === null) continue;
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [child]);
    else list.push(child);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 10_000) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Follows a server and the processes it forks (vsftpd runs each session in processes of its
 * own, which its listener does not account for once they end) while something runs: every
 * `everyMs` it reads the CPU time (schedstat) and VmHWM of the server and of each descendant
 * that was not there at the start (helpers such as tsx's esbuild service are left out), keeping
 * the last CPU reading and the largest VmHWM of each; the tree is rescanned every 100 ms. A
 * session's CPU after the last reading before it ends (at most `everyMs`) is missed.
 */
export class TreeFollower {
  private readonly cpu = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  private readonly helpers: Set<number>;
  private readonly timer: ReturnType<typeof setInterval>;
  private lastScan = 0;
  private followed: number[];

  constructor(
    private readonly pid: number,
    everyMs = 20,
  ) {
    this.helpers = new Set(processTree(pid).filter((p) => p !== pid));
    this.followed = [pid];
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const now = Date.now();
    if (now - this.lastScan >= 100) {
      this.lastScan = now;
      this.followed = processTree(this.pid).filter((p) => !this.helpers.has(p));
    }
    for (const p of this.followed) {
      try {
        this.cpu.set(p, readCpuSeconds(p));
        const hwm = readRss(p).hwmKb;
        if (hwm > (this.peaks.get(p) ?? 0)) this.peaks.set(p, hwm);
      } catch {
        // ended in between: its last readings stay
      }
    }
  }

  /** CPU seconds of the server and its sessions so far (a fresh reading). */
  cpuSeconds(): number {
    this.lastScan = 0;
    this.sample();
    let seconds = 0;
    for (const v of this.cpu.values()) seconds += v;
    return seconds;
  }

  /** The sum of the peak VmHWM of the server and of each session process, in kB. */
  peakKb(): number {
    this.sample();
    let kb = 0;
    for (const v of this.peaks.values()) kb += v;
    return kb;
  }

  /** Stops reading. */
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Waits until every descendant of `pid` not in `before` (a `processTree` taken earlier) has
 * ended: the sessions it forked are over and reaped.
 */
export async function waitForSessionsEnded(
  pid: number,
  before: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const known = new Set(before);
  const deadline = Date.now() + timeoutMs;
  while (processTree(pid).some((p) => !known.has(p))) {
    if (Date.now() > deadline) throw new Error(`Process ${pid} still has session processes`);
    await sleep(20);
  }
}

/** A server process under test, listening on 127.0.0.1:`port`. */
export class ServerProcess {
  private readonly out = new Tail();
  private exited: { code: number | null; signal: string | null } | null = null;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** The port it listens on. */
    readonly port: number,
  ) {
    child.stdout?.on("data", (d: Buffer) => this.out.push(d));
    child.stderr?.on("data", (d: Buffer) => this.out.push(d));
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
  }

  /**
   * Starts `argv` (whose last argument is usually the port) on the server CPU with a raised
   * file-descriptor limit, and waits until `port` accepts connections. Rejects with the
   * server's last output line if it exits first or is not listening within `timeoutMs`.
   */
  static async start(
    argv: readonly string[],
    port: number,
    options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
  ): Promise<ServerProcess> {
    // `exec` keeps the pid: the pid spawned is the server's own (its /proc/<pid>/status).
    const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
    const child = spawn("bash", ["-c", script, "bash", ...pinned(SERVER_CPU, argv)], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new ServerProcess(child, port);
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      if (server.exited !== null) {
        const why = lastLine(server.output()) || `exit status ${server.exited.code}`;
        throw new Error(`Server exited before listening: ${why}`);
      }
      if (await portAccepts(port)) return server;
      await sleep(50);
    }
    await server.stop();
    throw new Error(`Server did not listen on port ${port} within the time allowed`);
  }

  /** The process id (the server itself, not a wrapper). */
  get pid(): number {
    return this.child.pid!;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.exited === null;
  }

  /** The tail of what it wrote to stdout and stderr. */
  output(): string {
    return this.out.toString();
  }

  /** Its CPU time so far (all threads), in seconds. */
  cpuSeconds(): number {
    return readCpuSeconds(this.pid);
  }

  /** Its resident memory now and at peak. */
  rss(): Rss {
    return readRss(this.pid);
  }

  /** Asks it to stop (SIGTERM), then kills it (SIGKILL) after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

/** What a finished load generator printed. */
export interface LoadOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs a load generator on the load CPU (or `cpu`) and resolves with its output; rejects when
 * it fails (with its last stderr line) or runs longer than `timeoutMs` (it is killed).
 */
export function runLoad(
  argv: readonly string[],
  options: { cwd: string; timeoutMs: number; cpu?: number },
): Promise<LoadOutput> {
  const [cmd, ...args] = pinned(options.cpu ?? LOAD_CPU, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out = new Tail(1 << 20);
    const err = new Tail();
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${argv[0]}: ${e.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const stdout = out.toString();
      const stderr = err.toString();
      if (timedOut) reject(new Error(`${argv[0]} ran longer than ${options.timeoutMs} ms`));
      else if (code !== 0) {
        const why = lastLine(stderr) || `exit status ${code ?? signal}`;
        reject(new Error(`${argv[0]} failed: ${why}`));
      } else resolve({ stdout, stderr });
    });
  });
}

/**
 * A load generator that holds its connections until released (tcpload idle, ircload): it prints
 * a first line when ready, waits for its stdin to close, and may print more before it exits.
 */
export class HeldLoad {
  private readonly exit: Promise<void>;
  private code: number | null = null;
  private readonly err = new Tail();
  private readonly out = new Tail(1 << 20);

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on("data", (d: Buffer) => this.err.push(d));
    child.stdout?.on("data", (d: Buffer) => this.out.push(d));
    this.exit = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.code = code;
        resolve();
      }),
    );
  }

  /**
   * Starts `argv` on the load CPU and resolves with its first stdout line once printed (it is
   * ready); rejects if it exits first or prints nothing within `timeoutMs`.
   */
  static start(
    argv: readonly string[],
    options: { cwd: string; timeoutMs: number },
  ): Promise<{ load: HeldLoad; line: string }> {
    const [cmd, ...args] = pinned(LOAD_CPU, argv);
    const child = spawn(cmd!, args, { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const load = new HeldLoad(child);
    return new Promise((resolve, reject) => {
      let buffered = "";
      const timer = setTimeout(() => {
        load.release().catch(() => {});
        reject(new Error(`${argv[0]} was not ready within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      child.stdout!.on("data", (d: Buffer) => {
        buffered += d.toString();
        const nl = buffered.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          resolve({ load, line: buffered.slice(0, nl) });
        }
      });
      load.exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`${argv[0]} failed: ${lastLine(load.err.toString()) || load.code}`));
      });
    });
  }

  /** Lets it close its connections and exit (closes its stdin), killing it after 10 s. */
  async release(): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exit;
    clearTimeout(timer);
  }

  /** Writes a line to its stdin (ircload: go on to the next phase). */
  writeLine(text: string): void {
    this.child.stdin?.write(`${text}\n`);
  }

  /**
   * Resolves with the `index`-th line (0: the ready line) it prints on stdout, waiting up to
   * `timeoutMs`; rejects if it exits first (with its last stderr line) or the time runs out.
   */
  async line(index: number, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.out.toString().split("\n");
      if (lines.length > index + 1) return lines[index]!;
      if (this.code !== null || this.child.exitCode !== null) {
        const why = lastLine(this.err.toString()) || `exit status ${this.child.exitCode}`;
        throw new Error(`The load generator failed: ${why}`);
      }
      if (Date.now() > deadline) {
        await this.release();
        throw new Error(`The load generator printed no line ${index} within ${timeoutMs} ms`);
      }
      await sleep(20);
    }
  }
}
