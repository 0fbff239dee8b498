// Runs the web examples as a user would (npx tsx examples/web-*.ts) and talks to them with curl.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { freePort, requirePeer, run, start, TSX } from "../_helpers/proc.js";

const CURL = "/usr/bin/curl";

async function curl(url: string, extra: string[] = []) {
  requirePeer(CURL, "curl");
  return run(CURL, [
    "-sS",
    "--max-time",
    "10",
    "--retry",
    "30",
    "--retry-connrefused",
    "--retry-delay",
    "1",
    ...extra,
    url,
  ]);
}

describe("web examples", () => {
  it("web-hello says hello world", async () => {
    const port = await freePort();
    const server = start(TSX[0], ["examples/web-hello.ts", String(port)]);
    try {
      await server.waitFor(/Serving hello world on/);
      const r = await curl(`http://127.0.0.1:${port}/`);
      assert.equal(r.stdout, "hello world\n", r.stderr);
    } finally {
      await server.stop();
    }
  });

  it("web-async streams ticks and answers from a Deferred", async () => {
    const port = await freePort();
    const server = start(TSX[0], ["examples/web-async.ts", String(port)]);
    try {
      await server.waitFor(/Try \/clock and \/slow/);
      const clock = await curl(`http://127.0.0.1:${port}/clock`);
      assert.match(clock.stdout, /^tick 1 at .*\ntick 2 at .*\ntick 3 at .*\n$/);
      const slow = await curl(`http://127.0.0.1:${port}/slow?x=1`);
      assert.equal(slow.stdout, "slept half a second for /slow?x=1\n");
    } finally {
      await server.stop();
    }
  });

  it("web-static serves a directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twisted-ts-web-static-"));
    writeFileSync(join(dir, "index.html"), "<h1>static</h1>");
    const port = await freePort();
    const server = start(TSX[0], ["examples/web-static.ts", dir, String(port)]);
    try {
      const r = await curl(`http://127.0.0.1:${port}/`);
      assert.equal(r.stdout, "<h1>static</h1>", r.stderr + server.output());
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
