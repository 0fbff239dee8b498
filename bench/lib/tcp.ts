// TCP workloads: echo ping-pong, bulk echo and idle connections, driven by bench/load/tcpload.c.
import { type Context, nodeArgv, runServerWorkload, type ServerPeer } from "./driver.js";
import { HeldLoad, runLoad, type ServerProcess, sleep } from "./procs.js";
import type { Metrics, WorkloadResult } from "./results.js";
import { PYTHON } from "./tools.js";

/** The echo servers: Twisted.ts, bare node:net, real Twisted and the C epoll ceiling. */
export function echoPeers(ctx: Context, id: string): ServerPeer[] {
  return [
    {
      peer: "twisted-ts",
      label: "Twisted.ts (bench/servers/echo.ts)",
      argv: (port) => nodeArgv(ctx, `${id}-twisted-ts`, "bench/servers/echo.ts", [port]),
      missing: null,
    },
    {
      peer: "node",
      label: "node:net (bench/servers/node-echo.mjs)",
      argv: (port) => nodeArgv(ctx, `${id}-node`, "bench/servers/node-echo.mjs", [port]),
      missing: null,
    },
    {
      peer: "twisted",
      label: "Twisted (bench/servers/twisted-echo.py)",
      argv: (port) => [PYTHON, "bench/servers/twisted-echo.py", String(port)],
      missing: ctx.avail.twisted,
    },
    {
      peer: "c-epoll",
      label: "C epoll, the ceiling (bench/servers/epoll-echo.c)",
      argv: (port) => [ctx.tools.epollEcho ?? "epoll-echo", String(port)],
      missing: ctx.tools.missing,
    },
  ];
}

function tcpload(ctx: Context): string {
  return ctx.tools.tcpload ?? "tcpload";
}

function parseJson(stdout: string): Record<string, number> {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Record<string, number>;
  } catch {
    throw new Error(`Cannot parse the load generator's output: ${line.slice(0, 200)}`);
  }
}

async function pingPong(
  ctx: Context,
  server: ServerProcess,
  conns: number,
  seconds: number,
  warmUp: number,
): Promise<Record<string, number>> {
  const argv = [tcpload(ctx), "pingpong", server.port, conns, seconds, warmUp].map(String);
  const { stdout } = await runLoad(argv, {
    cwd: ctx.root,
    timeoutMs: (seconds + warmUp + 90) * 1000,
  });
  return parseJson(stdout);
}

/** Warms a server up with 50 ping-pong connections for the settings' warm-up time. */
function warmUpEcho(ctx: Context): ((server: ServerProcess) => Promise<void>) | undefined {
  const s = ctx.settings.warmUpSeconds;
  if (s <= 0) return undefined;
  return async (server) => {
    await pingPong(ctx, server, 50, s, 0);
  };
}

const MIB = 1024 * 1024;

/**
 * Lets a new server finish starting (a tsx server compiles and collects for a while after it
 * listens) and warms its data path with a short transfer, so that the server CPU per MB measured
 * next is the steady state's. The warm-up's own RSS peak is below the measured transfer's.
 */
function warmUpBulk(ctx: Context): ((server: ServerProcess) => Promise<void>) | undefined {
  if (ctx.settings.warmUpSeconds <= 0) return undefined;
  const bytes = Math.min(64 * MIB, Math.floor(ctx.settings.bulkBytes / 8));
  return async (server) => {
    await sleep(500);
    const argv = [tcpload(ctx), "bulk", String(server.port), String(bytes)];
    await runLoad(argv, { cwd: ctx.root, timeoutMs: 60_000 });
  };
}

/** Workload 1: echo ping-pong with `conns` connections, one 64-byte message in flight each. */
export function echoPingPong(ctx: Context, conns: number): Promise<WorkloadResult> {
  const { echoSeconds, echoWarmUpSeconds } = ctx.settings;
  const id = `echo-${conns}`;
  return runServerWorkload(ctx, {
    id,
    title: `TCP echo ping-pong, ${conns.toLocaleString("en")} connection${conns > 1 ? "s" : ""}`,
    description:
      `${conns === 1 ? "One connection" : `${conns} connections, each`} with one 64-byte ` +
      `message in flight; round trips/s over ` +
      `${echoSeconds} s after ${echoWarmUpSeconds} s not counted ` +
      `(\`tcpload pingpong PORT ${conns} ${echoSeconds} ${echoWarmUpSeconds}\`).`,
    primary: "rtt_per_s",
    cpuKey: "cpu_us_per_rt",
    higherIsBetter: true,
    columns: [
      { key: "rtt_per_s", label: "round trips/s" },
      { key: "p50_us", label: "p50 µs" },
      { key: "p99_us", label: "p99 µs" },
      { key: "cpu_us_per_rt", label: "server CPU µs/round trip", digits: 1 },
    ],
    peers: echoPeers(ctx, id),
    loadMissing: ctx.tools.missing,
    fresh: false,
    warmUp: warmUpEcho(ctx),
    async measure(server) {
      const cpu = server.cpuSeconds();
      const r = await pingPong(ctx, server, conns, echoSeconds, echoWarmUpSeconds);
      return {
        rtt_per_s: r.rtt_per_s!,
        p50_us: r.p50_us!,
        p99_us: r.p99_us!,
        cpu_us_per_rt: ((server.cpuSeconds() - cpu) * 1e6) / r.all_round_trips!,
      };
    },
  });
}

/** Workload 2: one connection streams `bulkBytes` through the echo server. */
export function bulkEcho(ctx: Context): Promise<WorkloadResult> {
  const bytes = ctx.settings.bulkBytes;
  return runServerWorkload(ctx, {
    id: "bulk",
    title: "TCP bulk echo",
    description:
      `One connection streams ${bytes / MIB} MiB through the echo server, every byte checked ` +
      `on return; MB/s = 10^6 bytes/s echoed; peak RSS = VmHWM of a server started for the ` +
      `repetition and warmed up with a transfer of up to 64 MiB ` +
      `(\`tcpload bulk PORT ${bytes}\`).`,
    primary: "mb_per_s",
    cpuKey: "cpu_ms_per_mb",
    higherIsBetter: true,
    columns: [
      { key: "mb_per_s", label: "MB/s" },
      { key: "peak_rss_mb", label: "server peak RSS MiB", digits: 1 },
      { key: "cpu_ms_per_mb", label: "server CPU ms/MB", digits: 2 },
    ],
    peers: echoPeers(ctx, "bulk"),
    loadMissing: ctx.tools.missing,
    fresh: true,
    warmUp: warmUpBulk(ctx),
    async measure(server) {
      const argv = [tcpload(ctx), "bulk", String(server.port), String(bytes)];
      const cpu = server.cpuSeconds();
      const { stdout } = await runLoad(argv, { cwd: ctx.root, timeoutMs: 300_000 });
      const r = parseJson(stdout);
      return {
        mb_per_s: r.mb_per_s!,
        peak_rss_mb: server.rss().hwmKb / 1024,
        cpu_ms_per_mb: ((server.cpuSeconds() - cpu) * 1e3) / (bytes / 1e6),
      };
    },
  });
}

/** Workload 3: `idleConnections` open connections; the server's RSS growth per connection. */
export function idleConnections(ctx: Context): Promise<WorkloadResult> {
  const n = ctx.settings.idleConnections;
  const settle = ctx.settings.idleSettleMs;
  return runServerWorkload(ctx, {
    id: "idle",
    title: `Idle connections (${n.toLocaleString("en")})`,
    description:
      `A server started for the repetition gets a 0.2 s warm-up (20 ping-pong connections), ` +
      `then ${n} connections (each proves it was accepted with a 1-byte echo) are held open; ` +
      `bytes/connection = (VmRSS ${settle} ms after the last one − VmRSS before) / ${n} ` +
      `(\`tcpload idle PORT ${n} 120\`).`,
    primary: "bytes_per_conn",
    higherIsBetter: false,
    columns: [
      { key: "bytes_per_conn", label: "bytes/connection" },
      { key: "rss_before_mb", label: "RSS before MiB", digits: 1 },
      { key: "rss_after_mb", label: "RSS after MiB", digits: 1 },
      { key: "connect_s", label: "connect s", digits: 2 },
    ],
    peers: echoPeers(ctx, "idle"),
    loadMissing: ctx.tools.missing,
    fresh: true,
    async measure(server) {
      await pingPong(ctx, server, 20, 0.2, 0);
      await sleep(500);
      const before = server.rss().rssKb;
      const argv = [tcpload(ctx), "idle", String(server.port), String(n), "120"];
      const { load, line } = await HeldLoad.start(argv, { cwd: ctx.root, timeoutMs: 150_000 });
      let after: number;
      try {
        await sleep(settle);
        if (!server.alive) throw new Error("Server died holding the connections");
        after = server.rss().rssKb;
      } finally {
        await load.release();
      }
      const r = JSON.parse(line) as Metrics;
      return {
        bytes_per_conn: ((after - before) * 1024) / n,
        rss_before_mb: before / 1024,
        rss_after_mb: after / 1024,
        connect_s: r.connect_seconds!,
      };
    },
  });
}
