// SOCKS server over real sockets (NodeReactor on 127.0.0.1), and curl as an independent client.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { InMemoryUsernamePasswordDatabase, Portal, SimpleRealm } from "../../src/cred/index.js";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IPv4Address } from "../../src/internet/address.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { ISOCKSUser, SOCKSFactory, type SOCKSServerOptions } from "../../src/protocols/socks.js";
import { requirePeer, run } from "../_helpers/proc.js";

const CURL = "/usr/bin/curl";
const BODY = "hello through SOCKS\n";

/** A tiny HTTP server (plain node:net) on 127.0.0.1 and, when possible, ::1, on one port. */
async function httpServer(): Promise<{ port: number; peers: string[]; close(): Promise<void> }> {
  const peers: string[] = [];
  const handler = (socket: Socket) => {
    peers.push(socket.remoteAddress ?? "?");
    let head = "";
    socket.on("data", (d) => {
      head += d.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.end(
          `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`,
        );
      }
    });
    socket.on("error", () => {});
  };
  const listen = (server: Server, host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  const v4 = createServer(handler);
  const port = await listen(v4, "127.0.0.1", 0);
  const servers = [v4];
  const v6 = createServer(handler);
  try {
    await listen(v6, "::1", port);
    servers.push(v6);
  } catch {
    // No IPv6 loopback here: "localhost" then resolves to 127.0.0.1 only.
  }
  const close = async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
  return { port, peers, close };
}

/** An echo server (plain node:net) that ends its side once the client has ended its own. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.pipe(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let reactor: NodeReactor;
let running: Promise<void>;
const ports: IListeningPort[] = [];

before(() => {
  reactor = new NodeReactor();
  running = reactor.run({ installSignalHandlers: false });
});

after(async () => {
  for (const p of ports) await p.stopListening();
  reactor.stop();
  await running;
});

async function socksProxy(options: Partial<SOCKSServerOptions> = {}): Promise<number> {
  const port = reactor.listenTCP(0, new SOCKSFactory({ reactor, ...options }), 50, "127.0.0.1");
  ports.push(port);
  const listening = (port as { whenListening?: () => PromiseLike<unknown> }).whenListening;
  if (listening !== undefined) await listening.call(port);
  return (port.getHost() as IPv4Address).port;
}

function aliceOnly(): Portal {
  return new Portal(new SimpleRealm((id) => ({ id }), { interfaces: [ISOCKSUser] }), [
    new InMemoryUsernamePasswordDatabase({ alice: "s3cret" }),
  ]);
}

/** Reads from `socket` until `n` bytes have arrived. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        socket.removeListener("data", onData);
        socket.removeListener("error", reject);
        socket.pause();
        if (got.length > n) socket.unshift(got.subarray(n));
        resolve(got.subarray(0, n));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.resume();
  });
}

describe("SOCKS server on a real reactor", () => {
  it("relays 8 MiB both ways intact, with half-close passed on", async () => {
    const echo = await echoServer();
    const socksPort = await socksProxy();
    const socket = new Socket({ allowHalfOpen: true });
    await new Promise<void>((r) => socket.connect(socksPort, "127.0.0.1", r));
    socket.write(Buffer.from([5, 1, 0]));
    assert.deepEqual([...(await readBytes(socket, 2))], [5, 0]);
    socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 0xff]));
    const reply = await readBytes(socket, 10);
    assert.deepEqual([...reply.subarray(0, 4)], [5, 0, 0, 1]);
    assert.deepEqual([...reply.subarray(4, 8)], [127, 0, 0, 1]);
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      socket.on("data", (d) => received.push(d));
      socket.on("end", resolve);
      socket.on("error", reject);
    });
    socket.resume();
    socket.end(payload);
    await ended;
    socket.destroy();
    const back = Buffer.concat(received);
    assert.equal(back.length, payload.length);
    const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    assert.equal(digest(back), digest(payload));
    await echo.close();
  });

  it("answers a refused connection with reply 5", async () => {
    const closed = await echoServer();
    await closed.close(); // a port where nobody listens any more
    const socksPort = await socksProxy();
    const socket = new Socket();
    await new Promise<void>((r) => socket.connect(socksPort, "127.0.0.1", r));
    socket.write(
      Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, closed.port >> 8, closed.port & 0xff]),
    );
    const reply = await readBytes(socket, 12);
    assert.deepEqual([...reply.subarray(0, 4)], [5, 0, 5, 5]);
    socket.destroy();
  });
});

describe("curl through the SOCKS server", () => {
  let http: Awaited<ReturnType<typeof httpServer>>;
  before(async () => {
    requirePeer(CURL, "curl");
    http = await httpServer();
  });
  after(async () => {
    await http?.close();
  });

  const curl = (args: string[]) =>
    run(CURL, ["-sS", "--max-time", "15", ...args], { timeoutMs: 20_000 });

  for (const [flag, host] of [
    ["--socks5", "127.0.0.1"],
    ["--socks5-hostname", "localhost"],
    ["--socks4", "127.0.0.1"],
    ["--socks4a", "localhost"],
  ] as const) {
    it(`curl ${flag} fetches a page from ${host}`, async () => {
      const socksPort = await socksProxy();
      const before = http.peers.length;
      const r = await curl([flag, `127.0.0.1:${socksPort}`, `http://${host}:${http.port}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, BODY);
      assert.equal(http.peers.length, before + 1);
    });
  }

  it("curl --proxy-user with the right password gets through a portal", async () => {
    const socksPort = await socksProxy({ portal: aliceOnly() });
    const r = await curl([
      "--socks5-hostname",
      `127.0.0.1:${socksPort}`,
      "--proxy-user",
      "alice:s3cret",
      `http://localhost:${http.port}/`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, BODY);
  });

  it("curl with a wrong password, or none, is refused before anything is connected", async () => {
    const socksPort = await socksProxy({ portal: aliceOnly() });
    const before = http.peers.length;
    const wrong = await curl([
      "--socks5",
      `127.0.0.1:${socksPort}`,
      "--proxy-user",
      "alice:nope",
      `http://127.0.0.1:${http.port}/`,
    ]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /auth|password|SOCKS5/i);
    const none = await curl([
      "--socks5",
      `127.0.0.1:${socksPort}`,
      `http://127.0.0.1:${http.port}/`,
    ]);
    assert.notEqual(none.code, 0);
    const socks4 = await curl([
      "--socks4",
      `127.0.0.1:${socksPort}`,
      `http://127.0.0.1:${http.port}/`,
    ]);
    assert.notEqual(socks4.code, 0);
    assert.equal(http.peers.length, before);
  });

  it("curl is told when the destination refuses the connection", async () => {
    const closed = await echoServer();
    await closed.close();
    const socksPort = await socksProxy();
    const r = await curl([
      "--socks5",
      `127.0.0.1:${socksPort}`,
      `http://127.0.0.1:${closed.port}/`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused|\(5\)/i);
  });
});
