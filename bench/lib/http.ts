// HTTP workloads: hello world under wrk, and a static file through each server's file serving.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Context, nodeArgv, runServerWorkload, type ServerPeer } from "./driver.js";
import { runLoad, type ServerProcess } from "./procs.js";
import type { WorkloadResult } from "./results.js";
import { PYTHON } from "./tools.js";

const WEB_MISSING = "missing (web battery not built yet)";

/** The hello servers: Twisted.ts `Site`, bare node:http and twisted.web. */
export function helloPeers(ctx: Context, id: string): ServerPeer[] {
  return [
    {
      peer: "twisted-ts",
      label: "Twisted.ts Site (bench/servers/http-hello.ts)",
      argv: (port) => nodeArgv(ctx, `${id}-twisted-ts`, "bench/servers/http-hello.ts", [port]),
      missing: ctx.avail.web === null ? null : `${WEB_MISSING}: ${ctx.avail.web}`,
      startFailureMeansMissing: WEB_MISSING,
    },
    {
      peer: "node",
      label: "node:http (bench/servers/node-http.mjs)",
      argv: (port) => nodeArgv(ctx, `${id}-node`, "bench/servers/node-http.mjs", [port]),
      missing: null,
    },
    {
      peer: "twisted",
      label: "twisted.web (bench/servers/twisted-http.py)",
      argv: (port) => [PYTHON, "bench/servers/twisted-http.py", String(port)],
      missing: ctx.avail.twisted,
    },
  ];
}

interface WrkReport {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  non2xx: number;
}

/** Runs wrk (one thread, keep-alive) against `port` and reads bench/load/wrk-report.lua's line. */
async function wrk(ctx: Context, port: number, conns: number, seconds: number): Promise<WrkReport> {
  const argv = [
    "wrk",
    "-t1",
    `-c${conns}`,
    `-d${Math.max(1, Math.round(seconds))}s`,
    "--timeout",
    "5s",
    "-s",
    join(ctx.root, "bench/load/wrk-report.lua"),
    `http://127.0.0.1:${port}/`,
  ];
  const { stdout } = await runLoad(argv, { cwd: ctx.root, timeoutMs: (seconds + 30) * 1000 });
  const line = stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (line === undefined) throw new Error(`wrk printed no report: ${stdout.slice(-200)}`);
  const r = JSON.parse(line) as WrkReport;
  if (r.requests === 0) throw new Error("wrk completed no request");
  if (r.non2xx > 0) throw new Error(`${r.non2xx} of ${r.requests} responses were not 2xx`);
  return r;
}

/** Workload 4: `wrk -t1 -c<conns>` keep-alive against each hello server. */
export function httpHello(ctx: Context, conns: number): Promise<WorkloadResult> {
  const seconds = conns > 1 ? ctx.settings.httpC50Seconds : ctx.settings.httpC1Seconds;
  const warm = ctx.settings.warmUpSeconds;
  return runServerWorkload(ctx, {
    id: `http-c${conns}`,
    title: `HTTP hello, ${conns} connection${conns > 1 ? "s" : ""}`,
    description:
      `\`wrk -t1 -c${conns} -d${seconds}s -s bench/load/wrk-report.lua\` (keep-alive) against a ` +
      `server answering \`hello world\` (11 bytes, text/plain); each server first gets ` +
      `${warm} s of wrk at 50 connections.`,
    primary: "req_per_s",
    cpuKey: "cpu_us_per_req",
    higherIsBetter: true,
    columns: [
      { key: "req_per_s", label: "requests/s" },
      { key: "p50_us", label: "p50 µs" },
      { key: "p99_us", label: "p99 µs" },
      { key: "errors", label: "socket errors" },
      { key: "cpu_us_per_req", label: "server CPU µs/request", digits: 1 },
    ],
    peers: helloPeers(ctx, `http-c${conns}`),
    loadMissing: ctx.avail.wrk,
    fresh: false,
    warmUp:
      warm > 0
        ? async (server) => {
            await wrk(ctx, server.port, 50, warm);
          }
        : undefined,
    async measure(server) {
      const cpu = server.cpuSeconds();
      const r = await wrk(ctx, server.port, conns, seconds);
      return {
        req_per_s: r.requests / (r.duration_us / 1e6),
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        errors: r.errors,
        cpu_us_per_req: ((server.cpuSeconds() - cpu) * 1e6) / r.requests,
      };
    },
  });
}

/** A sparse file of `bytes` bytes (reads cost no disk), made once per size. */
function staticFile(ctx: Context, bytes: number): { dir: string; name: string } {
  const dir = join(ctx.scratchDir, "static");
  const name = `file-${bytes}.bin`;
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path) || statSync(path).size !== bytes) {
    const fd = openSync(path, "w");
    ftruncateSync(fd, bytes);
    closeSync(fd);
  }
  return { dir, name };
}

/** Workload 5: one GET of a large file from each static file server, and raw loopback. */
export function httpStatic(ctx: Context): Promise<WorkloadResult> {
  const bytes = ctx.settings.staticBytes;
  const { dir, name } = staticFile(ctx, bytes);
  const listen = (port: number): string => `tcp:${port}:interface=127.0.0.1`;
  const peers: ServerPeer[] = [
    {
      peer: "twisted-ts",
      label: "Twisted.ts `twist web --path`",
      argv: (port) =>
        nodeArgv(ctx, "static-twisted-ts", "bin/twist.js", [
          "web",
          "--listen",
          listen(port),
          "--path",
          dir,
        ]),
      missing: ctx.avail.twistWeb === null ? null : `${WEB_MISSING}: ${ctx.avail.twistWeb}`,
      startFailureMeansMissing: WEB_MISSING,
    },
    {
      peer: "node",
      label: "node:http + fs.createReadStream (bench/servers/node-static.mjs)",
      argv: (port) => nodeArgv(ctx, "static-node", "bench/servers/node-static.mjs", [port, dir]),
      missing: null,
    },
    {
      peer: "twisted",
      label: "Twisted `python3 -m twisted web --path`",
      argv: (port) => [PYTHON, "-m", "twisted", "web", "--listen", listen(port), "--path", dir],
      missing: ctx.avail.twisted,
    },
    {
      peer: "raw",
      label: "raw loopback: C sender (epoll-echo --source)",
      argv: (port) => [
        ctx.tools.epollEcho ?? "epoll-echo",
        String(port),
        "--source",
        String(bytes),
      ],
      missing: ctx.tools.missing,
    },
  ];
  const request = `GET /${name} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  return runServerWorkload(ctx, {
    id: "static",
    title: "HTTP static file",
    description:
      `One GET of a ${bytes / 2 ** 20} MiB file (\`tcpload get\`), against the raw loopback ` +
      `throughput of a C sender writing the same bytes with no HTTP; MB/s = 10^6 bytes/s of body.`,
    primary: "mb_per_s",
    higherIsBetter: true,
    columns: [
      { key: "mb_per_s", label: "MB/s" },
      { key: "peak_rss_mb", label: "server peak RSS MiB", digits: 1 },
    ],
    peers,
    loadMissing: ctx.tools.missing,
    fresh: false,
    async measure(server: ServerProcess, peer: ServerPeer) {
      const req = peer.peer === "raw" ? "-" : request;
      const argv = [ctx.tools.tcpload ?? "tcpload", "get", String(server.port), req, String(bytes)];
      const { stdout } = await runLoad(argv, { cwd: ctx.root, timeoutMs: 300_000 });
      const r = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { mb_per_s: number };
      return { mb_per_s: r.mb_per_s, peak_rss_mb: server.rss().hwmKb / 1024 };
    },
  });
}
