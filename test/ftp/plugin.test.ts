// Tests of the `twist ftp` plugin: option checks, and the service it makes serving a client.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StreamServerEndpointService } from "../../src/application/_internet.js";
import type { PluginOptions } from "../../src/application/_plugin.js";
import { UsageError } from "../../src/application/_plugin.js";
import type { MultiService } from "../../src/application/_service.js";
import { ftpPlugin, makeFTPFactory, parsePortRange } from "../../src/cli/plugins/ftp.js";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { CommandFailed } from "../../src/protocols/ftp/index.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { freePort } from "../_helpers/proc.js";
import { within } from "../_helpers/tcp.js";
import { connectClient, download, tempDir, upload } from "./_loopback.js";

const reactor = new NodeReactor();
let dir: { path: string; remove(): Promise<void> };
let certs: TestCertificates;

before(async () => {
  dir = await tempDir("ftp-plugin-");
  certs = await makeTestCertificates();
});
after(() => dir.remove());

function opts(o: Record<string, unknown>): PluginOptions {
  return { _: [], ...o } as PluginOptions;
}

describe("twist ftp: options", () => {
  it("needs a --root directory and someone who may log in", () => {
    assert.throws(() => makeFTPFactory(opts({ auth: ["memory:a:b"] }), reactor), /Missing --root/);
    assert.throws(
      () => makeFTPFactory(opts({ root: join(dir.path, "nope"), auth: ["memory:a:b"] }), reactor),
      UsageError,
    );
    assert.throws(() => makeFTPFactory(opts({ root: dir.path }), reactor), /Nobody can log in/);
    assert.ok(makeFTPFactory(opts({ root: dir.path, anonymous: true }), reactor).allowAnonymous);
  });

  it("checks --passive-ports, --max-connections and the TLS options", () => {
    assert.deepEqual(parsePortRange("30000-30100"), [30000, 30100]);
    for (const bad of ["30100-30000", "0-10", "1-70000", "x"])
      assert.throws(() => parsePortRange(bad), UsageError);
    const base = { root: dir.path, auth: ["memory:alice:secret"] };
    assert.throws(
      () => makeFTPFactory(opts({ ...base, "max-connections": "0" }), reactor),
      /Invalid --max-connections/,
    );
    assert.throws(
      () => makeFTPFactory(opts({ ...base, "tls-key": certs.serverKeyPath }), reactor),
      /go together/,
    );
    assert.throws(
      () => makeFTPFactory(opts({ ...base, "require-tls": true }), reactor),
      /--require-tls needs/,
    );
    const f = makeFTPFactory(
      opts({
        ...base,
        "tls-key": certs.serverKeyPath,
        "tls-cert": certs.serverCertPath,
        "require-tls": true,
        "passive-ports": "40000-40010",
        "max-connections": "5",
        "max-connections-per-ip": "2",
        "idle-timeout": "30",
      }),
      reactor,
    );
    assert.equal(f.requireTLS, true);
    assert.deepEqual(f.passivePorts, [40000, 40010]);
    assert.equal(f.maxConnections, 5);
    assert.equal(f.maxConnectionsPerPeer, 2);
    assert.equal(f.timeOut, 30);
  });

  it("takes the certificate of an ssl: listen description for implicit FTPS data connections", () => {
    const f = makeFTPFactory(
      opts({
        root: dir.path,
        auth: ["memory:alice:secret"],
        listen: [`ssl:990:privateKey=${certs.serverKeyPath}:certKey=${certs.serverCertPath}`],
      }),
      reactor,
    );
    assert.equal(f.tlsOptions?.cert, certs.serverCert);
  });
});

describe("twist ftp: the service", () => {
  it("serves files from --root to the users of --auth, with per-user folders on request", async () => {
    const root = join(dir.path, "served");
    await mkdir(root);
    const port = await freePort();
    const service = (await ftpPlugin.makeService(
      opts({
        listen: [`tcp:${port}:interface=127.0.0.1`],
        root,
        auth: ["memory:alice:secret:bob:hunter2"],
        "user-dirs": true,
        "passive-ports": `${port + 1}-${port + 20}`,
      }),
      { reactor, print: () => {} },
    )) as MultiService;
    service.startService();
    try {
      for (const child of service)
        await within("listening", (child as StreamServerEndpointService).whenListening());
      const c = await connectClient(reactor, port);
      await c.login("alice", "secret");
      assert.equal(await upload(c, "hello.txt", Buffer.from("hi alice")), 226);
      assert.equal(await readFile(join(root, "alice", "hello.txt"), "utf8"), "hi alice");
      await c.quit();
      await writeFile(join(root, "top.txt"), "not for users");
      const b = await connectClient(reactor, port);
      await b.login("bob", "hunter2");
      await assert.rejects(download(b, "../top.txt"), CommandFailed);
      await assert.rejects(download(b, "/alice/hello.txt"), CommandFailed);
      await b.quit();
    } finally {
      await service.stopService();
    }
  });
});
