// Runs a workload against its servers: A B C A B C repetitions, missing peers kept as rows.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort, lastLine, ServerProcess } from "./procs.js";
import {
  emptyRow,
  finish,
  type Metrics,
  missingRow,
  type Row,
  type WorkloadResult,
} from "./results.js";
import type { Availability, Tools } from "./tools.js";

/** How long and how hard each workload runs (see `PROFILES` in bench/run.ts). */
export interface Settings {
  /** Repetitions of each measurement (servers interleaved in each). */
  reps: number;
  /** Seconds a server is warmed up (ping-pong or wrk) before its first measurement. */
  warmUpSeconds: number;
  echoSeconds: number;
  /** Warm-up seconds inside each ping-pong measurement, not counted. */
  echoWarmUpSeconds: number;
  bulkBytes: number;
  idleConnections: number;
  /** Milliseconds between the last idle connection and the RSS reading. */
  idleSettleMs: number;
  /** Whole seconds of `wrk` at 50 connections, and at 1. */
  httpC50Seconds: number;
  httpC1Seconds: number;
  staticBytes: number;
  deferredChains: number;
  linesCount: number;
  /** Rounds per variant inside a microbenchmark process. */
  microRounds: number;
  /** IRC fan-out: receiving clients joined to one channel. */
  ircClients: number;
  /** IRC fan-out: the most PRIVMSGs sent, and the most seconds spent sending them. */
  ircMessages: number;
  ircSeconds: number;
  /** FTP: bytes of the file downloaded (RETR) and of the file uploaded (STOR). */
  ftpBytes: number;
}

/** What every workload gets. */
export interface Context {
  /** The repository root (cwd of every process). */
  root: string;
  settings: Settings;
  tools: Tools;
  avail: Availability;
  /** Only these peers run (`--peers`); all when null. */
  peers: ReadonlySet<string> | null;
  /** Where node servers write CPU profiles (`--profile`), or null. */
  profileDir: string | null;
  /**
   * With `--compiled`: the tsc build of the repository, whose JavaScript Twisted.ts programs run
   * from (as the published package does); null: they run from TypeScript through tsx.
   */
  build: string | null;
  /** Scratch directory (static files). */
  scratchDir: string;
  /** Progress messages (stderr). */
  log(message: string): void;
}

/** A server under test in a workload. */
export interface ServerPeer {
  peer: string;
  label: string;
  /** The command line for `port`. */
  argv(port: number): string[];
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** When set, a server that fails to start is reported missing with this reason first. */
  startFailureMeansMissing?: string;
}

/**
 * A node command line running `script` — TypeScript through tsx, or its compiled JavaScript with
 * `--compiled` — with profiling if asked.
 */
export function nodeArgv(
  ctx: Context,
  name: string,
  script: string,
  args: readonly (string | number)[],
): string[] {
  const argv = [process.execPath];
  if (ctx.profileDir !== null) {
    const dir = join(ctx.profileDir, name);
    mkdirSync(dir, { recursive: true });
    argv.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  let path = script;
  if (script.endsWith(".ts")) {
    if (ctx.build !== null) path = join(ctx.build, script.replace(/\.ts$/, ".js"));
    else argv.push("--import", "tsx");
  }
  return [...argv, path, ...args.map(String)];
}

/** Keeps the peers asked for with `--peers`. */
export function selectPeers<P extends { peer: string }>(ctx: Context, peers: readonly P[]): P[] {
  return peers.filter((p) => ctx.peers === null || ctx.peers.has(p.peer));
}

/** The definition of a workload run against servers: what its result describes, and how to run it. */
export interface ServerWorkload
  extends Pick<
    WorkloadResult,
    | "id"
    | "title"
    | "description"
    | "primary"
    | "cpuKey"
    | "higherIsBetter"
    | "secondary"
    | "columns"
  > {
  peers: ServerPeer[];
  /** Why the load generator cannot run here (every row is then missing), or null. */
  loadMissing: string | null;
  /** True: new servers for each repetition (memory readings); false: one server for all. */
  fresh: boolean;
  /** Run once on each server after it starts. */
  warmUp?: ((server: ServerProcess) => Promise<void>) | undefined;
  /** One measurement of one server. */
  measure(server: ServerProcess, peer: ServerPeer): Promise<Metrics>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs `w`: for each repetition, each present server in turn (A B C A B C). A server that
 * cannot run here is a `missing` row; one that fails to start or dies is a `failed` row with the
 * reason — never dropped.
 */
export async function runServerWorkload(ctx: Context, w: ServerWorkload): Promise<WorkloadResult> {
  const t0 = Date.now();
  const rows = new Map<string, Row>();
  const active: ServerPeer[] = [];
  for (const p of selectPeers(ctx, w.peers)) {
    const why = p.missing ?? w.loadMissing;
    rows.set(p.peer, why === null ? emptyRow(p.peer, p.label) : missingRow(p.peer, p.label, why));
    if (why === null) active.push(p);
    else ctx.log(`  ${w.id}: ${p.label}: MISSING: ${why}`);
  }
  const servers = new Map<string, ServerProcess | null>();
  const startFailures = new Map<string, string>();
  const grace = ctx.profileDir !== null ? 15_000 : 3000;

  const start = async (p: ServerPeer): Promise<void> => {
    let server: ServerProcess | null = null;
    try {
      const port = await freePort();
      server = await ServerProcess.start(p.argv(port), port, { cwd: ctx.root });
      if (w.warmUp !== undefined) await w.warmUp(server);
      servers.set(p.peer, server);
      startFailures.delete(p.peer);
    } catch (e) {
      await server?.stop(grace);
      const why = `server failed to start: ${message(e)}`;
      startFailures.set(p.peer, why);
      ctx.log(`  ${w.id}: ${p.label}: ${why}`);
      servers.set(p.peer, null);
    }
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all([...servers.values()].map((s) => s?.stop(grace)));
    servers.clear();
  };

  try {
    for (let rep = 0; rep < ctx.settings.reps; rep++) {
      if (w.fresh || rep === 0) {
        await stopAll();
        for (const p of active) await start(p);
      }
      for (const p of active) {
        const row = rows.get(p.peer)!;
        let server = servers.get(p.peer) ?? null;
        if (server !== null && !server.alive) {
          row.errors.push(`server died: ${lastLine(server.output()) || "no output"}`);
          await start(p); // a shared server that died gets one new start for the next reps
          server = servers.get(p.peer) ?? null;
        }
        if (server === null) {
          row.reps.push(null);
          row.errors.push(startFailures.get(p.peer) ?? "server not running");
          continue;
        }
        try {
          const m = await w.measure(server, p);
          row.reps.push(m);
          ctx.log(`  ${w.id} rep ${rep + 1}: ${p.label}: ${w.primary} ${m[w.primary]?.toFixed(1)}`);
        } catch (e) {
          const died = server.alive ? "" : ` (server died: ${lastLine(server.output())})`;
          row.reps.push(null);
          row.errors.push(`${message(e)}${died}`);
          ctx.log(`  ${w.id} rep ${rep + 1}: ${p.label}: FAILED: ${message(e)}${died}`);
        }
      }
    }
  } finally {
    await stopAll();
  }

  for (const p of active) {
    const row = rows.get(p.peer)!;
    const failure = startFailures.get(p.peer);
    if (
      p.startFailureMeansMissing !== undefined &&
      failure !== undefined &&
      row.reps.every((m) => m === null)
    ) {
      row.status = "missing";
      row.reason = `${p.startFailureMeansMissing}: ${failure}`;
    }
  }
  return finish({
    id: w.id,
    title: w.title,
    description: w.description,
    primary: w.primary,
    ...(w.cpuKey !== undefined ? { cpuKey: w.cpuKey } : {}),
    ...(w.secondary !== undefined ? { secondary: w.secondary } : {}),
    higherIsBetter: w.higherIsBetter,
    columns: w.columns,
    rows: [...rows.values()],
    seconds: (Date.now() - t0) / 1000,
  });
}
