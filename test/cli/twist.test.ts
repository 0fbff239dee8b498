// Tests of the `twist` command as a user runs it: help, usage errors, plugins, signals, workers.
import assert from "node:assert/strict";
import { createConnection, createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { freePort, ROOT, run, start } from "../_helpers/proc.js";

const TWIST = `${ROOT}bin/twist.js`;

/** Connects, sends `data` (if any), and collects everything until the server closes. */
function exchange(port: number, data?: string, endAfterMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: "127.0.0.1" });
    let out = "";
    sock.setEncoding("utf8");
    sock.on("data", (s: string) => (out += s));
    sock.on("error", reject);
    sock.on("close", () => resolve(out));
    sock.on("connect", () => {
      if (data !== undefined) sock.write(data);
      if (endAfterMs > 0) setTimeout(() => sock.end(), endAfterMs);
    });
    setTimeout(() => sock.destroy(new Error(`No answer from port ${port}`)), 10_000).unref();
  });
}

/** Listens with `server` on a free loopback port; returns the port. */
async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A loopback HTTP server answering every request with 200 and `body`, and its port. */
async function httpServer(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.once("data", () =>
      s.end(
        `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      ),
    );
  });
  return { server, port: await listenLocal(server) };
}

/** Fetches `url` with curl through the SOCKS proxy on `proxyPort` (`flag`: --socks5…). */
function curlThrough(flag: string, proxyPort: number, url: string, extra: string[] = []) {
  return run("curl", ["-sS", "--max-time", "10", flag, `127.0.0.1:${proxyPort}`, ...extra, url]);
}

describe("twist", () => {
  it("--help lists the plugins with one line each and exits 0", async () => {
    const r = await run(TWIST, ["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ["wire", "portforward", "socks", "run", "passwd"]) {
      assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, "m"), `${name} in:\n${r.stdout}`);
    }
  });

  it("no plugin, an unknown plugin or an unknown option is a usage error with exit code 64", async () => {
    for (const args of [[], ["nosuchplugin"], ["--bogus", "wire"], ["wire", "--bogus"]]) {
      const r = await run(TWIST, args);
      assert.equal(r.code, 64, `twist ${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /Usage: twist/);
      assert.equal(r.stdout, "");
    }
  });

  it("<plugin> --help shows the plugin's options", async () => {
    const r = await run(TWIST, ["wire", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--listen ENDPOINT/);
    assert.match(r.stdout, /--service NAME/);
  });

  it("a bad --service value is a usage error", async () => {
    const r = await run(TWIST, ["wire", "--service", "nonsense"]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /Unknown --service: nonsense/);
  });

  it("wire echo echoes what socat sends, and SIGTERM stops it with exit code 0", async () => {
    const port = await freePort();
    const twist = start(TWIST, [
      "wire",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--service",
      "echo",
    ]);
    try {
      await twist.waitFor(/listening on/);
      const r = await run("socat", ["-t", "2", "-", `TCP:127.0.0.1:${port}`], {
        input: "hello socat\n",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello socat\n");
      assert.equal(await exchange(port, "and node\n", 300), "and node\n");
    } finally {
      const exit = await twist.stop("SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null }, twist.output());
    }
  });

  it("a haproxy: endpoint reads the PROXY header, then serves the connection", async () => {
    const port = await freePort();
    const twist = start(TWIST, [
      "wire",
      "--listen",
      `haproxy:tcp:${port}:interface=127.0.0.1`,
      "--service",
      "echo",
    ]);
    try {
      await twist.waitFor(/listening on/);
      const header = `PROXY TCP4 203.0.113.7 127.0.0.1 5555 ${port}\r\n`;
      assert.equal(await exchange(port, `${header}behind a balancer`, 300), "behind a balancer");
      assert.equal(await exchange(port, "no header here\r\n", 300), "");
    } finally {
      await twist.stop();
    }
  });

  it("--log-format json writes one JSON object per line", async () => {
    const port = await freePort();
    const twist = start(TWIST, [
      "--log-format",
      "json",
      "wire",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--service",
      "daytime",
    ]);
    try {
      await twist.waitFor(/listening on/);
      const answer = await exchange(port);
      assert.match(answer, /\d{4}/);
    } finally {
      await twist.stop();
    }
    const lines = twist.output().trim().split("\n");
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  it("listening on a busy port logs why and exits with code 1", async () => {
    const busy = createServer();
    const port = await listenLocal(busy);
    try {
      const r = await run(TWIST, ["wire", "--listen", `tcp:${port}:interface=127.0.0.1`], {
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /Couldn't listen|Cannot listen/);
    } finally {
      busy.close();
    }
  });

  it("portforward relays to the destination both ways", async () => {
    const backend = createServer((s) => s.pipe(s).on("error", () => {}));
    const backendPort = await listenLocal(backend);
    const port = await freePort();
    const twist = start(TWIST, [
      "portforward",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--dest",
      `tcp:host=127.0.0.1:port=${backendPort}`,
    ]);
    try {
      await twist.waitFor(/listening on/);
      const big = "x".repeat(1 << 20);
      assert.equal(await exchange(port, big, 500), big);
    } finally {
      await twist.stop();
      backend.close();
    }
  });

  it("socks serves curl over SOCKS5, SOCKS5 with host names, SOCKS4 and SOCKS4a", async () => {
    const { server: web, port: webPort } = await httpServer("hello");
    const port = await freePort();
    const twist = start(TWIST, ["socks", "--listen", `tcp:${port}:interface=127.0.0.1`]);
    try {
      await twist.waitFor(/listening on/);
      for (const flag of ["--socks5", "--socks5-hostname", "--socks4", "--socks4a"]) {
        const r = await curlThrough(flag, port, `http://127.0.0.1:${webPort}/`);
        assert.equal(r.code, 0, `${flag}: ${r.stderr}`);
        assert.equal(r.stdout, "hello", flag);
      }
    } finally {
      await twist.stop();
      web.close();
    }
  });

  it("socks with --auth lets curl in with the right password only", async () => {
    const { server: web, port: webPort } = await httpServer("ok");
    const port = await freePort();
    const twist = start(TWIST, [
      "socks",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--auth",
      "memory:alice:secret",
    ]);
    try {
      await twist.waitFor(/listening on/);
      const url = `http://127.0.0.1:${webPort}/`;
      const good = await curlThrough("--socks5", port, url, ["--proxy-user", "alice:secret"]);
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.stdout, "ok");
      const bad = await curlThrough("--socks5", port, url, ["--proxy-user", "alice:wrong"]);
      assert.notEqual(bad.code, 0);
    } finally {
      await twist.stop();
      web.close();
    }
  });

  it("run loads a module's makeService and serves it", async () => {
    const port = await freePort();
    const twist = start(TWIST, [
      "run",
      "test/cli/fixtures/pid-app.ts",
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    try {
      await twist.waitFor(/listening on/);
      assert.match(await exchange(port), /^pid \d+\n$/);
    } finally {
      assert.equal((await twist.stop()).code, 0);
    }
  });

  it("--plugin loads a third-party plugin, which then shows in --help and runs", async () => {
    const plugin = "test/cli/fixtures/hello-plugin.ts";
    const help = await run(TWIST, ["--plugin", plugin, "--help"]);
    assert.match(help.stdout, /^ {2}hello +Says hello and hangs up$/m);
    const port = await freePort();
    const twist = start(TWIST, [
      "--plugin",
      plugin,
      "hello",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    try {
      await twist.waitFor(/listening on/);
      assert.equal(await exchange(port), "hello\r\n");
    } finally {
      assert.equal((await twist.stop()).code, 0);
    }
  });

  it("--workers 2 serves one port from two processes", async () => {
    const port = await freePort();
    const twist = start(TWIST, [
      "--workers",
      "2",
      "run",
      "test/cli/fixtures/pid-app.ts",
      `tcp:${port}:interface=127.0.0.1`,
    ]);
    try {
      await twist.waitFor(/listening on[^\n]*\n[\s\S]*listening on/, 30_000);
      const pids = new Set<string>();
      for (let i = 0; i < 20 && pids.size < 2; i++) pids.add(await exchange(port));
      assert.equal(pids.size, 2, [...pids].join(""));
    } finally {
      const exit = await twist.stop("SIGTERM", 15_000);
      assert.equal(exit.code, 0, twist.output());
    }
  });

  it("--workers 2 with a bad --listen is a usage error with exit code 64, not a restart loop", async () => {
    const r = await run(TWIST, ["--workers", "2", "wire", "--listen", "bogus:1"], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 64, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /Invalid --listen bogus:1/);
  });

  it("--workers 2 on a busy port gives up with exit code 1", async () => {
    const busy = createServer();
    const port = await listenLocal(busy);
    try {
      const r = await run(
        TWIST,
        ["--workers", "2", "wire", "--listen", `tcp:${port}:interface=127.0.0.1`],
        { timeoutMs: 120_000 },
      );
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`.slice(-2000));
    } finally {
      busy.close();
    }
  });

  it("passwd writes an entry that --auth file: accepts", async () => {
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(`${tmpdir()}/twist-passwd-`);
    const r = await run(TWIST, ["passwd", "--password", "hunter2", `${dir}/users`, "bob"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(`${dir}/users`, "utf8"), /^bob:\$scrypt\$/m);
  });
});
