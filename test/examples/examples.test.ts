// Runs every program in examples/ as a user would (npx tsx examples/<name>.ts).
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { describe, it } from "node:test";
import { freePort, PYTHON, requirePeer, run, start, TSX } from "../_helpers/proc.js";

const tsx = TSX[0];

describe("examples", () => {
  it("seed-server answers the seed client with its host and the time, and logs it all", async () => {
    const port = await freePort();
    const server = start(tsx, ["examples/seed-server.ts", String(port)]);
    try {
      await server.waitFor(/waiting for connection/);
      await server.waitFor(/Log opened/);
      const client = await run(tsx, ["examples/seed-client.ts", "127.0.0.1", String(port)], {
        input: "hello\nls -l\n\n",
        timeoutMs: 20_000,
      });
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, /^>\.\.\.\.sending hello\.\.\.\.\.\.\./m);
      assert.match(client.stdout, /\.\.\.\.sending ls -l\.\.\.\.\.\.\./);
      const replies = client.stdout.match(
        /这是来自 127\.0\.0\.1 ,的答复:\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}/g,
      );
      assert.equal(replies?.length, 2, client.stdout);
      await server.waitFor(/连接断开\. /);
      const out = server.output();
      assert.match(out, /\[-\] Client connected from 127\.0\.0\.1/);
      assert.match(out, /Cmd received from 127\.0\.0\.1 : hello/);
      assert.match(out, /Cmd received from 127\.0\.0\.1 : ls -l/);
    } finally {
      const exit = await server.stop("SIGTERM");
      assert.equal(exit.code, 0, `seed-server exit on SIGTERM: ${JSON.stringify(exit)}`);
    }
  });

  it("seed-client stops at the end of its input and when the server is not there", async () => {
    const port = await freePort();
    const client = await run(tsx, ["examples/seed-client.ts", "127.0.0.1", String(port)], {
      input: "",
      timeoutMs: 20_000,
    });
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /Connection failed: .*refused/i);
  });

  it("seed-server is answered to a plain Python socket client", async () => {
    requirePeer(PYTHON, "python3");
    const port = await freePort();
    const server = start(tsx, ["examples/seed-server.ts", String(port)]);
    try {
      await server.waitFor(/Log opened/);
      const py = await run(PYTHON, [
        "test/interop/fixtures/seed_socket_client.py",
        "127.0.0.1",
        String(port),
        "dir",
      ]);
      assert.equal(py.code, 0, py.stderr);
      assert.match(py.stdout, /^REPLY:这是来自 127\.0\.0\.1 ,的答复:/m);
      await server.waitFor(/Cmd received from 127\.0\.0\.1 : dir/);
    } finally {
      await server.stop();
    }
  });

  it("echo-client gets its message back from echo-server", async () => {
    const port = await freePort();
    const server = start(tsx, ["examples/echo-server.ts", String(port)]);
    try {
      await server.waitFor(/Echo server listening/);
      const client = await run(tsx, [
        "examples/echo-client.ts",
        "127.0.0.1",
        String(port),
        "ping 123",
      ]);
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, /Server said: ping 123\nConnection closed/);
    } finally {
      await server.stop();
    }
  });

  it("reconnecting-client reconnects after the server goes away, then gives up", async () => {
    const port = await freePort();
    const server = start(tsx, ["examples/echo-server.ts", String(port)]);
    await server.waitFor(/Echo server listening/);
    const client = start(tsx, ["examples/reconnecting-client.ts", "127.0.0.1", String(port), "2"]);
    try {
      await client.waitFor(/Received: hello/);
      await server.stop();
      await client.waitFor(/Lost connection/);
      await client.waitFor(/Giving up/, 30_000);
      const exit = await client.exited();
      assert.equal(exit.code, 0, client.output());
      assert.ok((client.output().match(/Connection failed/g) ?? []).length >= 2, client.output());
    } finally {
      await client.stop("SIGKILL");
    }
  });

  it("udp-echo sends datagrams back", async () => {
    const port = await freePort("udp");
    const server = start(tsx, ["examples/udp-echo.ts", String(port)]);
    const sock = createSocket("udp4");
    try {
      await server.waitFor(/UDP echo listening/);
      const reply = new Promise<string>((resolve) =>
        sock.once("message", (m) => resolve(m.toString())),
      );
      sock.send("datagram!", port, "127.0.0.1");
      assert.equal(await reply, "datagram!");
    } finally {
      sock.close();
      await server.stop();
    }
  });

  it("ticker ticks the asked number of times and stops", async () => {
    const r = await run(tsx, ["examples/ticker.ts", "0.05", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/^tick \d/gm) ?? []).length, 3);
    assert.match(r.stdout, /done\n$/);
  });

  it("deferred-chain runs the callback or the errback, then addBoth stops the reactor", async () => {
    const ok = await run(tsx, ["examples/deferred-chain.ts"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "<html>the page at http://example.invalid/</html>\nShutting down...\n");
    const bad = await run(tsx, ["examples/deferred-chain.ts", "fail"]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.equal(bad.stdout, "Error: Cannot fetch http://example.invalid/\nShutting down...\n");
  });
});
