// Loopback tests of Unix socket ports and connectors (listenUNIX, connectUNIX).

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { UNIXPort } from "../../src/internet/_unix.js";
import { UNIXAddress } from "../../src/internet/address.js";
import { CannotListenError, ConnectError, ConnectionDone } from "../../src/internet/error.js";
import {
  Echo,
  HalfCloseRecorder,
  loopbackSuite,
  Recorder,
  RecordingClientFactory,
  RecordingFactory,
  tx,
  within,
} from "../_helpers/tcp.js";

const { reactor, ports, protocols } = loopbackSuite();
const dir = mkdtempSync(join(tmpdir(), "twisted-ts-unix-"));
let n = 0;

after(() => rmSync(dir, { recursive: true, force: true }));

function socketPath(): string {
  return join(dir, `s${n++}.sock`);
}

describe("Unix sockets", () => {
  test("a client and server exchange bytes; the socket file has the mode asked for", async () => {
    const path = socketPath();
    const serverFactory = new RecordingFactory(Echo);
    const port = reactor.listenUNIX(path, serverFactory, 50, 0o600) as UNIXPort;
    ports.push(port);
    assert.ok(port.connected, "listening as soon as listenUNIX returns");
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(port.getHost(), new UNIXAddress(path));

    const clientFactory = new RecordingClientFactory(Recorder);
    const connector = reactor.connectUNIX(path, clientFactory);
    const client = await within("connection", clientFactory.connected.promise);
    const server = await serverFactory.nth(0);
    protocols.push(client, server);
    assert.deepEqual(tx(client).getPeer(), new UNIXAddress(path));
    assert.deepEqual(tx(server).getHost(), new UNIXAddress(path));
    assert.deepEqual(connector.getDestination(), new UNIXAddress(path));

    tx(client).write("over a Unix socket");
    await client.waitForBytes(18);
    assert.equal(client.received.toString(), "over a Unix socket");
    tx(client).loseConnection();
    assert.ok((await within("server lost", server.lost.promise)).check(ConnectionDone));
    assert.ok(
      (await within("clientConnectionLost", clientFactory.lost.promise)).check(ConnectionDone),
    );
  });

  test("a half-close reaches the peer over a Unix socket", async () => {
    const path = socketPath();
    const serverFactory = new RecordingFactory(HalfCloseRecorder);
    ports.push(reactor.listenUNIX(path, serverFactory, 50, 0o666));
    const clientFactory = new RecordingClientFactory(HalfCloseRecorder);
    reactor.connectUNIX(path, clientFactory, 5);
    const client = await within("connection", clientFactory.connected.promise);
    const server = await serverFactory.nth(0);
    protocols.push(client, server);
    tx(client).write("ping");
    tx(client).loseWriteConnection();
    await within("readConnectionLost", server.readLost.promise);
    tx(server).write("pong");
    tx(server).loseConnection();
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
    assert.equal(client.received.toString(), "pong");
  });

  test("stopListening removes the socket file", async () => {
    const path = socketPath();
    const port = reactor.listenUNIX(path, new RecordingFactory(Echo), 50, 0o666);
    assert.ok(existsSync(path));
    await within("stopListening", port.stopListening());
    assert.equal(existsSync(path), false);
  });

  test("listening on a path in use raises CannotListenError at once, naming EADDRINUSE", () => {
    const path = socketPath();
    ports.push(reactor.listenUNIX(path, new RecordingFactory(Echo), 50, 0o666));
    assert.throws(
      () => reactor.listenUNIX(path, new RecordingFactory(Echo), 50, 0o666),
      (e: unknown) => e instanceof CannotListenError && /EADDRINUSE/.test(e.message),
    );
  });

  test("connecting to a missing path fails with a ConnectError", async () => {
    const clientFactory = new RecordingClientFactory(Recorder);
    reactor.connectUNIX(join(dir, "missing.sock"), clientFactory);
    const reason = await within("clientConnectionFailed", clientFactory.failed.promise);
    assert.ok(reason.check(ConnectError));
    assert.match(reason.getErrorMessage(), /ENOENT/);
    assert.deepEqual(clientFactory.events, [
      "startFactory",
      "startedConnecting",
      "clientConnectionFailed",
      "stopFactory",
    ]);
  });
});
