// What an idle TCP connection keeps: the reactor's list of open connections, the listeners on the
// socket, the side state made only on first use, and the peer addresses of connections that come
// from one host.

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { afterEach, test } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { TCPPort, TCPTransport } from "../../src/internet/_tcp.js";
import { IPv4Address } from "../../src/internet/address.js";
import type { IListeningPort, IPushProducer } from "../../src/internet/interfaces.js";
import { Echo, portOf, RecordingFactory, stopAll, within } from "../_helpers/tcp.js";

const ports: IListeningPort[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await stopAll(ports);
});

function listen(reactor: NodeReactor) {
  const factory = new RecordingFactory(Echo);
  const port = reactor.listenTCP(0, factory, 50, "127.0.0.1") as TCPPort;
  ports.push(port);
  return { factory, port };
}

/** A raw client that has had one byte echoed (so the server has made the connection). */
async function client(port: TCPPort): Promise<Socket> {
  const socket = createConnection({ port: portOf(port.getHost()), host: "127.0.0.1" });
  clients.push(socket);
  socket.on("error", () => {});
  const echoed = new Promise((r) => socket.once("data", r));
  socket.write("x");
  await within("the echo", echoed);
  return socket;
}

function transports(reactor: NodeReactor): TCPTransport[] {
  return [...reactor._resources].filter((r): r is TCPTransport => "socket" in r);
}

test("the reactor lists open connections in order and forgets each one that closes", async () => {
  const reactor = new NodeReactor();
  const { factory, port } = listen(reactor);
  const sockets: Socket[] = [];
  for (let i = 0; i < 4; i++) sockets.push(await client(port));
  const servers = factory.built.map((p) => p.transport as TCPTransport);
  assert.deepEqual(transports(reactor), servers);
  assert.ok(reactor._resources.has(port), "the port is still listed with the connections");
  // Close the second (middle), then the first (head), then the last (tail).
  for (const [i, left] of [
    [1, [0, 2, 3]],
    [0, [2, 3]],
    [3, [2]],
  ] as const) {
    sockets[i]!.end();
    await within(`connectionLost of #${i}`, factory.built[i]!.lost.promise);
    assert.deepEqual(
      transports(reactor),
      left.map((j) => servers[j]),
    );
  }
  // A connection opened after the list emptied in the middle is listed after the survivor.
  const fifth = await client(port);
  assert.deepEqual(transports(reactor), [servers[2], factory.built[4]!.transport]);
  fifth.destroy();
  sockets[2]!.destroy();
  await within("the last connectionLost", factory.built[4]!.lost.promise);
  await within("connectionLost of #2", factory.built[2]!.lost.promise);
  assert.deepEqual(transports(reactor), []);
});

test("an idle connection has one listener per socket event it needs, and no side state", async () => {
  const reactor = new NodeReactor();
  const { factory, port } = listen(reactor);
  await client(port);
  const transport = factory.built[0]!.transport as TCPTransport;
  const socket = transport.socket;
  for (const event of ["data", "end", "error", "close"]) {
    assert.equal(socket.listenerCount(event), 1, `one '${event}' listener`);
  }
  assert.equal(socket.listenerCount("drain"), 0);
  assert.equal(socket.listenerCount("finish"), 0);
  assert.equal(transport._x, null, "no side object for a connection that only echoes");
  assert.ok(transport.connected && !transport.disconnecting && !transport.disconnected);
  assert.equal(transport.producer, null);
  assert.equal(transport.streamingProducer, false);
});

test("a producer registered on an idle connection gets the drain listener; unregistering keeps the rest working", async () => {
  const reactor = new NodeReactor();
  const { factory, port } = listen(reactor);
  const socket = await client(port);
  const transport = factory.built[0]!.transport as TCPTransport;
  const calls: string[] = [];
  const producer: IPushProducer = {
    pauseProducing: () => calls.push("pause"),
    resumeProducing: () => calls.push("resume"),
    stopProducing: () => calls.push("stop"),
  };
  transport.registerProducer(producer, true);
  assert.equal(transport.socket.listenerCount("drain"), 1);
  assert.equal(transport.producer, producer);
  assert.ok(transport.streamingProducer && !transport.producerPaused);
  transport.unregisterProducer();
  assert.equal(transport.producer, null);
  const echoed = new Promise<Buffer>((r) => socket.once("data", r));
  socket.write("after");
  assert.equal((await within("the echo", echoed)).toString(), "after");
  transport.loseConnection();
  await within("connectionLost", factory.built[0]!.lost.promise);
  assert.equal(transport.socket.listenerCount("finish"), 1, "'finish' added for the close");
  assert.deepEqual(calls, []);
});

test("connections from one host get IPv4 peer addresses with their own ports", async () => {
  const reactor = new NodeReactor();
  const { factory, port } = listen(reactor);
  const a = await client(port);
  const b = await client(port);
  const [pa, pb] = factory.built.map((p) => p.transport!.getPeer() as IPv4Address);
  assert.ok(pa instanceof IPv4Address && pb instanceof IPv4Address);
  assert.deepEqual(factory.addresses, [pa, pb], "buildProtocol got the same addresses");
  assert.equal(pa.host, "127.0.0.1");
  assert.equal(pb.host, "127.0.0.1");
  assert.equal(pa.port, a.localPort);
  assert.equal(pb.port, b.localPort);
  assert.notEqual(pa.port, pb.port);
});
