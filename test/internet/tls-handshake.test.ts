// TLS ports and sockets still in their handshake: stopping the port (or the reactor) closes them,
// instead of leaving them to Node's handshake timeout (120 s); finished handshakes stay up.

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { TLSPort } from "../../src/internet/_tls.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { Echo, portOf, RecordingFactory, within } from "../_helpers/tcp.js";

let certs: TestCertificates;
const sockets: Socket[] = [];

before(async () => {
  certs = await makeTestCertificates();
});

after(() => {
  for (const s of sockets) s.destroy();
});

function listen(reactor: NodeReactor): { port: TLSPort; factory: RecordingFactory<Echo> } {
  const factory = new RecordingFactory(Echo);
  const port = reactor.listenSSL(
    0,
    factory,
    { key: certs.serverKey, cert: certs.serverCert },
    50,
    "127.0.0.1",
  ) as TLSPort;
  return { port, factory };
}

/** Resolves once the port's server has accepted `n` TCP connections. */
async function accepted(port: TLSPort, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const count = await new Promise<number>((resolve, reject) =>
      port.server!.getConnections((err, c) => (err ? reject(err) : resolve(c))),
    );
    if (count >= n) return;
    if (Date.now() > deadline) throw new Error(`The server accepted ${count} of ${n} connections`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP client that connects and never sends a byte (no ClientHello), and when it saw the close. */
async function silentClient(port: TLSPort): Promise<{ closed: Promise<number> }> {
  const socket = createConnection({ port: portOf(port.getHost()), host: "127.0.0.1" });
  sockets.push(socket);
  socket.on("error", () => {});
  socket.resume();
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())));
  await within("the client's connect", new Promise((r) => socket.once("connect", r)));
  await accepted(port, 1);
  return { closed };
}

test("stopListening closes a TLS socket whose client never sent its ClientHello", async () => {
  const reactor = new NodeReactor();
  const { port, factory } = listen(reactor);
  const { closed } = await silentClient(port);
  const stoppedAt = Date.now();
  await port.stopListening();
  const closedAt = await within("the close of the handshaking socket", closed, 3000);
  assert.ok(closedAt - stoppedAt < 3000, `closed ${closedAt - stoppedAt} ms after the stop`);
  assert.equal(factory.built.length, 0, "no protocol for a connection that never shook hands");
});

test("reactor.stop() closes a TLS socket still in its handshake, within the shutdown grace", async () => {
  const reactor = new NodeReactor();
  const running = reactor.run({ installSignalHandlers: false });
  const { port, factory } = listen(reactor);
  const { closed } = await silentClient(port);
  const stoppedAt = Date.now();
  reactor.stop();
  await within("the reactor's stop", running);
  // The shutdown grace (5 s) bounds connections with unsent data; this socket has none.
  const closedAt = await within("the close of the handshaking socket", closed, 5000);
  assert.ok(closedAt - stoppedAt < 5000, `closed ${closedAt - stoppedAt} ms after the stop`);
  assert.equal(factory.built.length, 0);
  assert.equal(port.connected, false);
});

test("stopListening leaves a TLS connection whose handshake is done up, and still closes a silent one", async () => {
  const reactor = new NodeReactor();
  const { port, factory } = listen(reactor);
  const client = tlsConnect({
    port: portOf(port.getHost()),
    host: "127.0.0.1",
    rejectUnauthorized: false,
  });
  sockets.push(client);
  client.on("error", () => {});
  await within("the client's handshake", new Promise((r) => client.once("secureConnect", r)));
  const server = await factory.nth(0);
  const { closed } = await silentClient(port);
  await accepted(port, 2);
  await port.stopListening();
  await within("the close of the handshaking socket", closed, 3000);
  const echoed = new Promise<Buffer>((resolve) => client.once("data", resolve));
  client.write("still up");
  assert.equal((await within("the echo", echoed)).toString(), "still up");
  assert.equal(server.lostCount, 0);
  server.transport!.loseConnection();
  await within("the close of the TLS connection", server.lost.promise);
});
