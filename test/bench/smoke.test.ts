// Smoke test of the benchmark suite (npm run bench): every workload runs for about a second
// against the Twisted.ts servers only and must produce sane numbers, so the suite never rots
// (the IRC fan-out with 100 clients, the FTP transfers with 8 MiB each way).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunResult } from "../../bench/lib/report.js";
import { checkTwistWeb } from "../../bench/lib/tools.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const WEB_BUILT = existsSync(join(ROOT, "src/web/index.ts"));
/** Whether each web workload's Twisted.ts server can exist yet (else it must be reported missing). */
const WEB_READY: Record<string, boolean> = {
  "http-c50": WEB_BUILT,
  "http-c1": WEB_BUILT,
  static: WEB_BUILT && checkTwistWeb(ROOT) === null,
};
const ALL = [
  "echo-1",
  "echo-50",
  "echo-1000",
  "bulk",
  "idle",
  "http-c50",
  "http-c1",
  "static",
  "irc-fanout",
  "ftp",
];

/** Runs `bench/run.ts --smoke` with `args`, and reads the JSON results it wrote. */
function bench(out: string, args: readonly string[]): Promise<RunResult> {
  const argv = ["--import", "tsx", "bench/run.ts", "--smoke", "--out", out, ...args];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: ROOT, timeout: 180_000 }, (err, _stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`bench/run.ts failed: ${err.message}\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as RunResult);
    });
  });
}

describe("benchmark suite smoke run (Twisted.ts servers only)", () => {
  let dir: string;
  let run: RunResult;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "twisted-ts-bench-"));
    run = await bench(join(dir, "ts"), ["--peers", "twisted-ts"]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs every workload and reports Twisted.ts in each", () => {
    assert.deepEqual(
      run.workloads.map((w) => w.id),
      [...ALL, "deferred", "lines"],
    );
    for (const w of run.workloads) {
      assert.ok(
        w.rows.some((r) => r.peer === "twisted-ts"),
        `${w.id} has a Twisted.ts row`,
      );
    }
  });

  for (const id of [...ALL, "deferred", "lines"]) {
    const missingWeb = WEB_READY[id] === false;
    const title = missingWeb
      ? `${id}: the Twisted.ts web server is reported missing, loudly, while the web battery is not built`
      : `${id}: Twisted.ts gives a sane measurement`;
    it(title, () => {
      const w = run.workloads.find((x) => x.id === id);
      assert.ok(w !== undefined, `workload ${id} ran`);
      const row = w.rows.find((r) => r.peer === "twisted-ts")!;
      if (missingWeb) {
        assert.equal(row.status, "missing");
        assert.match(row.reason ?? "", /web battery not built yet/);
        assert.ok(run.missing.some((m) => m.startsWith(`${id}:`)));
        return;
      }
      assert.equal(row.status, "ok", `${row.label}: ${row.reason ?? ""} ${row.errors.join("; ")}`);
      const value = row.median[w.primary];
      if (id === "idle") {
        // RSS growth over a few hundred connections can be hidden by a collection: only sane
        assert.ok(value !== undefined && Number.isFinite(value), `${w.primary} = ${value}`);
        assert.ok(row.median.rss_after_mb! > 0 && row.median.connect_s! > 0);
        return;
      }
      assert.ok(value !== undefined && value > 0, `${w.primary} = ${value}`);
      if (id === "bulk" || id === "static") assert.ok(row.median.peak_rss_mb! > 0);
      if (id === "irc-fanout") {
        // every PRIVMSG sent reached every receiver (ircload also checks their order)
        const clients = run.settings.ircClients as number;
        assert.ok(row.median.messages! > 0, `messages = ${row.median.messages}`);
        assert.equal(row.median.deliveries, row.median.messages! * clients);
        assert.ok(row.median.cpu_us_per_delivery! > 0 && row.median.setup_s! > 0);
        assert.ok(Number.isFinite(row.median.bytes_per_client));
      }
      if (id === "ftp") {
        const bytes = run.settings.ftpBytes as number;
        assert.equal(row.median.retr_bytes, bytes, "bytes downloaded");
        assert.equal(row.median.stor_bytes, bytes, "bytes stored by the upload");
        assert.ok(row.median.stor_mb_per_s! > 0 && row.median.peak_rss_mb! > 0);
        assert.ok(row.median.retr_cpu_ms_per_mb! > 0 && row.median.stor_cpu_ms_per_mb! > 0);
      }
      if (id.startsWith("echo-") || id.startsWith("http-")) {
        assert.ok(row.median.p50_us! > 0 && row.median.p99_us! >= row.median.p50_us!);
      }
    });
  }

  it("the wrk harness measures an HTTP server (node:http stands in while the web battery is not built)", async (t) => {
    if (WEB_BUILT) {
      t.diagnostic("the web battery exists: its own rows above check the wrk harness");
      return;
    }
    const r = await bench(join(dir, "node"), ["--peers", "node", "http-c1"]);
    const row = r.workloads[0]!.rows.find((x) => x.peer === "node")!;
    assert.equal(row.status, "ok", row.reason);
    assert.ok(row.median.req_per_s! > 0);
  });
});
