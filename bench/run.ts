// `npm run bench`: Twisted.ts, bare Node and real Twisted on the same workloads, side by side.
//
// Usage: npm run bench -- [--quick] [--peers twisted-ts,node,…] [--reps N] [--out DIR]
//                         [--profile] [--compiled] [--write-benchmarks] [workload or group…]
// Workloads: echo-1 echo-50 echo-1000 bulk idle http-c50 http-c1 static irc-fanout ftp
// deferred lines; groups: echo tcp http batteries micro. Results go to bench/results/ (JSON and Markdown); the report is
// printed; `--write-benchmarks` (full runs only) puts it into BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, Settings } from "./lib/driver.js";
import { ftpTransfers } from "./lib/ftp.js";
import { httpHello, httpStatic } from "./lib/http.js";
import { deferredChain, lineReceiver } from "./lib/inproc.js";
import { ircFanout } from "./lib/irc.js";
import { profileReport } from "./lib/profile.js";
import { type RunResult, renderMarkdown, summarize, warnings } from "./lib/report.js";
import type { WorkloadResult } from "./lib/results.js";
import { bulkEcho, echoPingPong, idleConnections } from "./lib/tcp.js";
import { buildTools, checkAvailability, machineInfo } from "./lib/tools.js";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

/** How long each workload runs: `full` (about 12 minutes), `quick` (about 3), `smoke` (tests). */
export const PROFILES: Record<"full" | "quick" | "smoke", Settings> = {
  full: {
    reps: 3,
    warmUpSeconds: 1,
    echoSeconds: 2.5,
    echoWarmUpSeconds: 0.5,
    bulkBytes: GIB,
    idleConnections: 10_000,
    idleSettleMs: 1500,
    httpC50Seconds: 10,
    httpC1Seconds: 5,
    staticBytes: GIB,
    deferredChains: 300_000,
    linesCount: 1_000_000,
    microRounds: 5,
    ircClients: 1000,
    ircMessages: 5000,
    ircSeconds: 5,
    ftpBytes: GIB,
  },
  quick: {
    reps: 1,
    warmUpSeconds: 0.3,
    echoSeconds: 1,
    echoWarmUpSeconds: 0.2,
    bulkBytes: 128 * MIB,
    idleConnections: 2000,
    idleSettleMs: 500,
    httpC50Seconds: 2,
    httpC1Seconds: 1,
    staticBytes: 128 * MIB,
    deferredChains: 100_000,
    linesCount: 300_000,
    microRounds: 3,
    ircClients: 1000,
    ircMessages: 1000,
    ircSeconds: 2,
    ftpBytes: 64 * MIB,
  },
  smoke: {
    reps: 1,
    warmUpSeconds: 0,
    echoSeconds: 0.5,
    echoWarmUpSeconds: 0.1,
    bulkBytes: 32 * MIB,
    idleConnections: 500,
    idleSettleMs: 200,
    httpC50Seconds: 1,
    httpC1Seconds: 1,
    staticBytes: 32 * MIB,
    deferredChains: 20_000,
    linesCount: 100_000,
    microRounds: 1,
    ircClients: 100,
    ircMessages: 500,
    ircSeconds: 0.5,
    ftpBytes: 8 * MIB,
  },
};

interface WorkloadEntry {
  id: string;
  groups: string[];
  run(ctx: Context): Promise<WorkloadResult>;
}

/** Every workload, in report order. */
export const WORKLOADS: readonly WorkloadEntry[] = [
  { id: "echo-1", groups: ["echo", "tcp"], run: (ctx) => echoPingPong(ctx, 1) },
  { id: "echo-50", groups: ["echo", "tcp"], run: (ctx) => echoPingPong(ctx, 50) },
  { id: "echo-1000", groups: ["echo", "tcp"], run: (ctx) => echoPingPong(ctx, 1000) },
  { id: "bulk", groups: ["tcp"], run: bulkEcho },
  { id: "idle", groups: ["tcp"], run: idleConnections },
  { id: "http-c50", groups: ["http"], run: (ctx) => httpHello(ctx, 50) },
  { id: "http-c1", groups: ["http"], run: (ctx) => httpHello(ctx, 1) },
  { id: "static", groups: ["http"], run: httpStatic },
  { id: "irc-fanout", groups: ["batteries"], run: ircFanout },
  { id: "ftp", groups: ["batteries"], run: ftpTransfers },
  { id: "deferred", groups: ["micro"], run: deferredChain },
  { id: "lines", groups: ["micro"], run: lineReceiver },
];

interface Options {
  profile: keyof typeof PROFILES;
  workloads: string[];
  peers: Set<string> | null;
  reps: number | null;
  out: string;
  cpuProfile: boolean;
  compiled: boolean;
  writeBenchmarks: boolean;
}

const USAGE = `Usage: npm run bench -- [options] [workload or group…]
  --quick              a one-minute smoke run (1 repetition, short loads)
  --smoke              the shortest run (used by test/bench/smoke.test.ts)
  --peers a,b          only these peers (twisted-ts, node, twisted, c-epoll, raw, promise)
  --reps N             repetitions of each measurement (default: 3 full, 1 quick)
  --out DIR            where results go (default bench/results)
  --profile            node servers write CPU profiles (--cpu-prof); hot functions reported
  --compiled           run Twisted.ts from JavaScript compiled by tsc (as published), not tsx
  --write-benchmarks   put the report into BENCHMARKS.md (full runs of every workload only)
Workloads: ${WORKLOADS.map((w) => w.id).join(" ")}; groups: echo tcp http batteries micro`;

function parseArgs(argv: readonly string[], root: string): Options {
  const o: Options = {
    profile: "full",
    workloads: [],
    peers: null,
    reps: null,
    out: join(root, "bench/results"),
    cpuProfile: false,
    compiled: false,
    writeBenchmarks: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`Option ${a} needs a value`);
      return v;
    };
    if (a === "--quick") o.profile = "quick";
    else if (a === "--smoke") o.profile = "smoke";
    else if (a === "--peers") o.peers = new Set(value().split(","));
    else if (a === "--reps") o.reps = Number(value());
    else if (a === "--out") o.out = resolve(value());
    else if (a === "--profile") o.cpuProfile = true;
    else if (a === "--compiled") o.compiled = true;
    else if (a === "--write-benchmarks") o.writeBenchmarks = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith("-")) throw new Error(`Unknown option: ${a}\n${USAGE}`);
    else o.workloads.push(a);
  }
  for (const w of o.workloads) {
    if (!WORKLOADS.some((x) => x.id === w || x.groups.includes(w))) {
      throw new Error(`Unknown workload: ${w}\n${USAGE}`);
    }
  }
  if (o.reps !== null && !(Number.isInteger(o.reps) && o.reps > 0)) {
    throw new Error("Option --reps needs a positive integer");
  }
  if (o.writeBenchmarks && (o.profile !== "full" || o.workloads.length > 0 || o.peers !== null)) {
    throw new Error("Option --write-benchmarks needs a full run of every workload and peer");
  }
  return o;
}

/**
 * Compiles the repository with tsc into `outDir` (type errors in files being written elsewhere
 * do not stop the emit) and returns it; throws if the benchmark programs did not come out.
 */
function compile(root: string, outDir: string, log: (m: string) => void): string {
  log(`Compiling with tsc into ${outDir} (--compiled)`);
  const tsc = join(root, "node_modules/.bin/tsc");
  const args = ["-p", "tsconfig.json", "--noEmit", "false", "--outDir", outDir];
  const r = spawnSync(tsc, [...args, "--declaration", "false", "--sourceMap", "false"], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000,
  });
  for (const f of [
    "bench/servers/echo.js",
    "bench/servers/irc.js",
    "bench/micro/micro.js",
    "src/internet/index.js",
  ]) {
    if (!existsSync(join(outDir, f))) {
      throw new Error(`tsc did not produce ${f}: ${(r.stdout ?? "").split("\n")[0]}`);
    }
  }
  return outDir;
}

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";

/** Replaces the generated part of BENCHMARKS.md (between its markers), keeping the notes. */
function writeBenchmarks(root: string, markdown: string): void {
  const path = join(root, "BENCHMARKS.md");
  const block = `${BEGIN}\n${markdown}\n${END}`;
  if (!existsSync(path)) {
    writeFileSync(path, `# Benchmarks\n\n${block}\n`);
    return;
  }
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${BEGIN} … ${END} markers`);
  writeFileSync(path, text.slice(0, a) + block + text.slice(b + END.length));
}

async function main(argv: readonly string[]): Promise<void> {
  const t0 = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  const root = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
  const o = parseArgs(argv, root);
  const settings: Settings = {
    ...PROFILES[o.profile],
    ...(o.reps !== null ? { reps: o.reps } : {}),
  };
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  mkdirSync(o.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const profileDir = o.cpuProfile ? join(o.out, `profiles-${stamp}`) : null;
  log(`Building the C tools (gcc -O2) into ${join(o.out, "bin")}`);
  const build = o.compiled ? compile(root, join(o.out, "build"), log) : null;
  const ctx: Context = {
    root,
    settings,
    tools: buildTools(root, join(o.out, "bin")),
    avail: checkAvailability(root),
    peers: o.peers,
    profileDir,
    build,
    scratchDir: join(o.out, "scratch"),
    log,
  };
  if (ctx.tools.missing !== null) log(`MISSING: C tools: ${ctx.tools.missing}`);
  for (const [what, why] of Object.entries(ctx.avail)) {
    if (why !== null) log(`MISSING: ${what}: ${why}`);
  }
  const selected = WORKLOADS.filter(
    (w) => o.workloads.length === 0 || o.workloads.some((x) => x === w.id || w.groups.includes(x)),
  );
  const workloads: WorkloadResult[] = [];
  for (const w of selected) {
    log(`${w.id}:`);
    workloads.push(await w.run(ctx));
  }
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const run: RunResult = summarize({
    machine: machineInfo(root),
    command,
    profile: o.profile,
    runtime: build === null ? "tsx" : "compiled",
    settings: { ...settings },
    seconds: (Date.now() - t0) / 1000,
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    workloads,
  });
  let markdown = renderMarkdown(run);
  if (profileDir !== null && existsSync(profileDir)) {
    markdown += `\n${profileReport(profileDir, root)}`;
  }
  const json = `${JSON.stringify(run, null, 2)}\n`;
  writeFileSync(join(o.out, `${stamp}.json`), json);
  writeFileSync(join(o.out, `${stamp}.md`), `${markdown}\n`);
  writeFileSync(join(o.out, "latest.json"), json);
  writeFileSync(join(o.out, "latest.md"), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  if (o.writeBenchmarks) writeBenchmarks(root, markdown);
  const loud = warnings(run);
  if (loud.length > 0) log(`\n${"!".repeat(72)}\n${loud.join("\n")}\n${"!".repeat(72)}`);
  log(
    `Results: ${join(o.out, `${stamp}.json`)} and .md${o.writeBenchmarks ? "; BENCHMARKS.md updated" : ""}`,
  );
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
