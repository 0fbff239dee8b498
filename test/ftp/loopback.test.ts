// Loopback tests of FTP: our client and our server over real sockets on 127.0.0.1 (TCP and TLS,
// passive and active data connections), and bad input that must leave the server serving.

import assert from "node:assert/strict";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { CancelledError } from "../../src/internet/error.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { ClientCreator } from "../../src/internet/protocol.js";
import {
  CommandFailed,
  FTPClient,
  type FTPFactory,
  FTPFileListProtocol,
} from "../../src/protocols/ftp/index.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { stopAll, within } from "../_helpers/tcp.js";
import {
  CollectingConsumer,
  connectClient,
  download,
  listenFTP,
  payload,
  tempDir,
  upload,
} from "./_loopback.js";

const reactor = new NodeReactor();
const ports: IListeningPort[] = [];
const clients: FTPClient[] = [];
let certs: TestCertificates;
let base: { path: string; remove(): Promise<void> };
let root: string;
let plain: { factory: FTPFactory; number: number };
let tlsPort: { factory: FTPFactory; number: number };
let implicitPort: { factory: FTPFactory; number: number };
const DATA = payload(3 * 1024 * 1024 + 17);

before(async () => {
  certs = await makeTestCertificates();
  base = await tempDir("ftp-loopback-");
  root = join(base.path, "root");
  await mkdir(root);
  await writeFile(join(base.path, "secret.txt"), "outside the root");
  await symlink(join(base.path, "secret.txt"), join(root, "escape"));
  const tls = { key: certs.serverKey, cert: certs.serverCert };
  for (const [name, options] of [
    ["plain", { dataTimeout: 1 }],
    ["tls", { tls }],
    ["implicit", { tls, ssl: tls }],
  ] as const) {
    const p = listenFTP(reactor, root, options);
    ports.push(p.port);
    if (name === "plain") plain = p;
    else if (name === "tls") tlsPort = p;
    else implicitPort = p;
  }
});

after(async () => {
  for (const c of clients.splice(0))
    (c.transport as { abortConnection?: () => void } | null)?.abortConnection?.();
  await stopAll(ports);
  await base.remove();
});

async function client(
  port: number,
  options: Parameters<typeof connectClient>[2] = {},
  implicit = false,
): Promise<FTPClient> {
  const c = await connectClient(
    reactor,
    port,
    { tlsOptions: { ca: certs.caCert, servername: "localhost" }, ...options },
    implicit ? { ca: certs.caCert } : undefined,
  );
  clients.push(c);
  return c;
}

describe("FTP loopback: our client and our server", () => {
  for (const passive of [true, false]) {
    for (const tls of [false, true]) {
      const mode = `${passive ? "passive" : "active"}, ${tls ? "explicit FTPS" : "clear text"}`;
      it(`uploads, lists, downloads, resumes, renames and deletes a few MiB (${mode})`, async () => {
        const c = await client(tls ? tlsPort.number : plain.number, {
          passive,
          tls: tls ? "explicit" : false,
        });
        await c.login("alice", "secret");
        const dir = `dir ${passive ? "p" : "a"}${tls ? "s" : ""} été`;
        assert.equal(await c.makeDirectory(dir), `/${dir}`);
        await c.cwd(dir);
        assert.equal(await upload(c, "data file.bin", DATA), 226);
        assert.deepEqual(await readFile(join(root, dir, "data file.bin")), DATA);
        assert.equal(await c.size("data file.bin"), DATA.length);
        assert.ok((await download(c, "data file.bin")).equals(DATA));
        assert.ok((await download(c, "data file.bin", 1000)).equals(DATA.subarray(1000)));
        // Resume an upload: the first half, then the rest from its offset.
        const half = 1024 * 1024;
        await upload(c, "resumed.bin", DATA.subarray(0, half));
        await upload(c, "resumed.bin", DATA.subarray(half), half);
        assert.deepEqual(await readFile(join(root, dir, "resumed.bin")), DATA);
        await upload(c, "log.txt", Buffer.from("a\n"));
        await upload(c, "log.txt", Buffer.from("b\n"), 0, true);
        assert.equal(await readFile(join(root, dir, "log.txt"), "utf8"), "a\nb\n");
        const listing = new FTPFileListProtocol();
        await within("LIST", c.list("", listing));
        assert.deepEqual(listing.files.map((f) => f.filename).sort(), [
          "data file.bin",
          "log.txt",
          "resumed.bin",
        ]);
        assert.deepEqual((await c.mlsd()).map((e) => [e.name, e.facts.size]).sort(), [
          ["data file.bin", String(DATA.length)],
          ["log.txt", "4"],
          ["resumed.bin", String(DATA.length)],
        ]);
        await c.rename("resumed.bin", "renamed.bin");
        await c.removeFile("renamed.bin");
        await c.removeFile("data file.bin");
        await c.removeFile("log.txt");
        await c.cdup();
        await c.removeDirectory(dir);
        assert.equal((await c.quit()).code, 221);
      });
    }
  }

  it("speaks implicit FTPS (TLS from the first byte) with protected data connections", async () => {
    const c = await client(implicitPort.number, { tls: "implicit" }, true);
    await c.login("alice", "secret");
    assert.equal(await upload(c, "implicit.bin", DATA.subarray(0, 100000)), 226);
    assert.ok((await download(c, "implicit.bin")).equals(DATA.subarray(0, 100000)));
    assert.equal(c.protectData, true);
    await c.removeFile("implicit.bin");
    await c.quit();
  });

  it("refuses a client that does not trust the server's certificate", async () => {
    const c = await client(tlsPort.number, { tlsOptions: { servername: "localhost" } });
    await assert.rejects(c.authTLS().asPromise());
  });

  it("lets anonymous users read but not write", async () => {
    await writeFile(join(root, "pub.txt"), "public");
    const c = await client(plain.number);
    await c.login("anonymous", "guest@");
    assert.equal((await download(c, "pub.txt")).toString(), "public");
    await assert.rejects(upload(c, "nope.txt", Buffer.from("x")), CommandFailed);
    await assert.rejects(c.removeFile("pub.txt").asPromise(), CommandFailed);
    await c.quit();
  });
});

describe("FTP loopback: IPv6", () => {
  it("serves over ::1 with EPSV and EPRT |2| (PASV is refused: it cannot name an IPv6 address)", async () => {
    const v6 = listenFTP(reactor, root, { iface: "::1" });
    ports.push(v6.port);
    for (const passive of [true, false]) {
      const c = await within(
        "the IPv6 connection",
        new ClientCreator(reactor, FTPClient, { reactor, passive }).connectTCP("::1", v6.number),
      );
      clients.push(c);
      await c.login("alice", "secret");
      assert.equal(await upload(c, `v6-${passive}.bin`, DATA.subarray(0, 200000)), 226);
      assert.ok((await download(c, `v6-${passive}.bin`)).equals(DATA.subarray(0, 200000)));
      const e = await c
        .queueStringCommand("PASV")
        .asPromise()
        .then(
          () => null,
          (x: unknown) => x,
        );
      assert.equal((e as CommandFailed).reply.code, 425);
      await c.removeFile(`v6-${passive}.bin`);
      await c.quit();
    }
  });
});

describe("FTP loopback: bad input", () => {
  it("refuses path traversal (.., absolute, encoded, links out) and reads nothing outside the root", async () => {
    const c = await client(plain.number);
    await c.login("alice", "secret");
    for (const path of [
      "../../etc/passwd",
      "/../secret.txt",
      "../secret.txt",
      "%2e%2e/secret.txt",
      "/etc/passwd",
      "escape",
    ]) {
      const err = await download(c, path).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof CommandFailed, path);
      assert.equal(err.reply.code, 550, path);
    }
    await assert.rejects(upload(c, "../evil.txt", Buffer.from("x")), CommandFailed);
    await assert.rejects(stat(join(base.path, "evil.txt")));
    assert.equal(await readFile(join(base.path, "secret.txt"), "utf8"), "outside the root");
    await c.noop();
  });

  it("answers commands before login with 530", async () => {
    const c = await client(plain.number);
    for (const cmd of ["RETR x", "LIST", "PASV", "CWD /"]) {
      const e = await c
        .queueStringCommand(cmd)
        .asPromise()
        .then(
          () => null,
          (x: unknown) => x,
        );
      assert.equal((e as CommandFailed).reply.code, 530, cmd);
    }
  });

  it("refuses PORT to a third-party address (no FTP bounce)", async () => {
    const c = await client(plain.number);
    await c.login("alice", "secret");
    const e = await c
      .queueStringCommand("PORT 192,0,2,1,31,144")
      .asPromise()
      .then(
        () => null,
        (x: unknown) => x,
      );
    assert.equal((e as CommandFailed).reply.code, 504);
    const e6 = await c
      .queueStringCommand("EPRT |1|192.0.2.1|8080|")
      .asPromise()
      .then(
        () => null,
        (x: unknown) => x,
      );
    assert.equal((e6 as CommandFailed).reply.code, 504);
    await c.noop();
  });

  it("answers an over-long line with 500 and keeps serving", async () => {
    const c = await client(plain.number);
    const e = await c
      .queueStringCommand(`NOOP ${"x".repeat(20000)}`)
      .asPromise()
      .then(
        () => null,
        (x: unknown) => x,
      );
    assert.equal((e as CommandFailed).reply.code, 500);
    assert.equal((await c.noop()).code, 200);
  });

  it("closes a passive port that the client never connects to", async () => {
    const c = await client(plain.number);
    await c.login("alice", "secret");
    const [line] = await c.queueStringCommand("EPSV");
    const port = Number(/\|\|\|(\d+)\|/.exec(line!)![1]);
    // The reactor's 1 s timer was set before this one, so Node fires it first however loaded
    // the machine is; a probe from 127.0.0.1 (the client's address) must then be refused.
    await new Promise((r) => setTimeout(r, 1300)); // dataTimeout is 1 s on this server
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        resolve(false);
      });
      s.on("error", () => resolve(true));
    });
    assert.equal(refused, true, "nothing listens on the passive port any more");
    assert.equal((await c.noop()).code, 200);
  });

  it("aborts a download mid-transfer (ABOR); the server keeps serving and leaks no connection", async () => {
    await writeFile(join(root, "big.bin"), DATA);
    const c = await client(plain.number);
    await c.login("alice", "secret");
    const sink = new CollectingConsumer();
    const d = c.retrieveFile("big.bin", sink);
    sink.onData = () => {
      sink.onData = null;
      sink.pause(); // hold the server's data in flight
      d.cancel();
    };
    await assert.rejects(d.asPromise(), CancelledError);
    assert.ok(sink.size < DATA.length);
    assert.equal(
      (await c.noop()).code,
      200,
      "both replies (426, 226) were read: the next command works",
    );
    assert.ok((await download(c, "big.bin")).equals(DATA));
    await c.quit();
  });

  it("aborts an upload mid-transfer: the partial file stays, the server keeps serving", async () => {
    const c = await client(plain.number);
    await c.login("alice", "secret");
    const [consumer, done] = c.storeFile("partial.bin");
    const up = await consumer;
    up.write(DATA.subarray(0, 65536));
    await new Promise((r) => setTimeout(r, 50));
    done.cancel();
    await assert.rejects(done.asPromise(), CancelledError);
    assert.equal((await c.noop()).code, 200);
    assert.ok((await stat(join(root, "partial.bin"))).size <= 65536);
    await c.removeFile("partial.bin");
    await c.quit();
  });

  it("leaves nothing behind once the clients are gone: no connection, timer or data port", async () => {
    for (const c of clients.splice(0))
      (c.transport as { abortConnection?: () => void } | null)?.abortConnection?.();
    const listening = new Set<unknown>(ports);
    const leftovers = (): string[] => [
      ...[...reactor._resources].filter((r) => !listening.has(r)).map(String),
      ...reactor.getDelayedCalls().map(String),
    ];
    for (let i = 0; i < 400 && leftovers().length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(leftovers(), []);
    assert.equal(
      plain.factory.connectionCount +
        tlsPort.factory.connectionCount +
        implicitPort.factory.connectionCount,
      0,
    );
  });
});
