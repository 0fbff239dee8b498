// Loopback tests of TCP transports, ports and connectors (listenTCP, connectTCP) on real sockets.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TCPConnector, TCPPort, TCPTransport } from "../../src/internet/_tcp.js";
import { IPv4Address, IPv6Address } from "../../src/internet/address.js";
import { ConnectionAborted, ConnectionDone } from "../../src/internet/error.js";
import type { IPullProducer, IPushProducer } from "../../src/internet/interfaces.js";
import {
  Echo,
  HalfCloseRecorder,
  loopbackSuite,
  portOf,
  Recorder,
  RecordingClientFactory,
  RecordingFactory,
  signal,
  tx,
  within,
} from "../_helpers/tcp.js";

const { reactor, ports, protocols } = loopbackSuite();

/** A server of `S` on `host` and a client of `C` connected to it. */
async function pair<S extends Recorder, C extends Recorder>(
  S: new () => S,
  C: new () => C,
  host = "127.0.0.1",
) {
  const serverFactory = new RecordingFactory(S);
  const port = reactor.listenTCP(0, serverFactory, 50, host) as TCPPort;
  ports.push(port);
  const clientFactory = new RecordingClientFactory(C);
  const connector = reactor.connectTCP(host, portOf(port.getHost()), clientFactory) as TCPConnector;
  const client = await within("client connection", clientFactory.connected.promise);
  const server = await serverFactory.nth(0);
  protocols.push(server, client);
  return { port, server, client, serverFactory, clientFactory, connector };
}

describe("TCP echo over loopback", () => {
  for (const [family, host, AddressClass] of [
    ["IPv4", "127.0.0.1", IPv4Address],
    ["IPv6", "::1", IPv6Address],
  ] as const) {
    test(`an ${family} client and server exchange bytes and report ${family} addresses`, async () => {
      const { port, server, client, serverFactory, clientFactory, connector } = await pair(
        Echo,
        Recorder,
        host,
      );
      assert.ok(port.getHost() instanceof AddressClass);
      assert.equal(serverFactory.started, 1);
      tx(client).write("hello, ");
      tx(client).write(Buffer.from("world"));
      await client.waitForBytes(12);
      assert.equal(client.received.toString(), "hello, world");

      const peer = tx(client).getPeer() as InstanceType<typeof AddressClass>;
      assert.ok(peer instanceof AddressClass);
      assert.equal(peer.host, host);
      assert.equal(peer.port, portOf(port.getHost()));
      assert.deepEqual(tx(server).getPeer(), tx(client).getHost());
      assert.ok(serverFactory.addresses[0] instanceof AddressClass);
      assert.equal(connector.state, "connected");
      assert.equal(connector.transport, tx(client));
      assert.deepEqual(connector.getDestination(), new AddressClass("TCP", host, peer.port));

      tx(client).loseConnection();
      assert.ok(tx(client).disconnecting);
      const [serverReason, clientReason] = await within(
        "connectionLost",
        Promise.all([server.lost.promise, client.lost.promise]),
      );
      assert.ok(serverReason.check(ConnectionDone));
      assert.ok(clientReason.check(ConnectionDone));
      assert.ok((await clientFactory.lost.promise).check(ConnectionDone));
      assert.deepEqual(clientFactory.events, [
        "startFactory",
        "startedConnecting",
        "buildProtocol",
        "clientConnectionLost",
        "stopFactory",
      ]);
      assert.equal(connector.state, "disconnected");
      assert.equal(connector.transport, null);
      assert.ok(tx(client).disconnected && !tx(client).connected);
      assert.equal(server.lostCount, 1);
      assert.equal(client.lostCount, 1);
    });
  }

  test("data written one byte at a time arrives in one-byte chunks that reassemble", async () => {
    const { server, client } = await pair(Recorder, Recorder);
    tx(client).setTcpNoDelay(true);
    const message = Buffer.from("The quick brown fox jumps over the lazy dog ✓");
    for (let i = 0; i < message.length; i++) {
      tx(client).write(message.subarray(i, i + 1));
      await server.waitForBytes(i + 1);
    }
    assert.ok(server.chunks.every((c) => c.length === 1));
    assert.deepEqual(server.received, message);
  });

  test("writeSequence sends every chunk, strings as UTF-8", async () => {
    const { server, client } = await pair(Recorder, Recorder);
    tx(client).writeSequence(["ünï", Buffer.from("-"), new Uint8Array([0x41, 0x42]), ""]);
    const expected = Buffer.from("ünï-AB");
    await server.waitForBytes(expected.length);
    assert.deepEqual(server.received, expected);
  });

  test("TCP_NODELAY and SO_KEEPALIVE can be set and read back", async () => {
    const { client } = await pair(Recorder, Recorder);
    assert.equal(tx(client).getTcpNoDelay(), false);
    tx(client).setTcpNoDelay(true);
    tx(client).setTcpKeepAlive(true);
    assert.equal(tx(client).getTcpNoDelay(), true);
    assert.equal(tx(client).getTcpKeepAlive(), true);
  });

  test("a host name interface binds asynchronously and whenListening fires with the port", async () => {
    const factory = new RecordingFactory(Echo);
    const port = reactor.listenTCP(0, factory, 50, "localhost") as TCPPort;
    ports.push(port);
    assert.equal(await within("whenListening", port.whenListening()), port);
    assert.ok(portOf(port.getHost()) > 0);
    assert.equal(factory.started, 1);
  });

  test("an empty interface listens on every IPv4 interface, as in Twisted", async () => {
    const port = reactor.listenTCP(0, new RecordingFactory(Echo), 50, "") as TCPPort;
    ports.push(port);
    assert.deepEqual(port.getHost(), new IPv4Address("TCP", "0.0.0.0", portOf(port.getHost())));
    const clientFactory = new RecordingClientFactory(Recorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), clientFactory);
    protocols.push(await within("connection", clientFactory.connected.promise));
  });

  test("an IPv4 client of a port on :: is reported with an IPv4 address", async () => {
    const factory = new RecordingFactory(Echo);
    const port = reactor.listenTCP(0, factory, 50, "::") as TCPPort;
    ports.push(port);
    assert.ok(port.getHost() instanceof IPv6Address);
    const clientFactory = new RecordingClientFactory(Recorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), clientFactory);
    protocols.push(await within("connection", clientFactory.connected.promise));
    const server = await factory.nth(0);
    protocols.push(server);
    assert.deepEqual(tx(server).getPeer(), tx(protocols[protocols.length - 2]!).getHost());
    assert.ok(tx(server).getPeer() instanceof IPv4Address);
  });

  test("an IP interface is listening as soon as listenTCP returns", () => {
    const port = reactor.listenTCP(0, new RecordingFactory(Echo), 50, "127.0.0.1") as TCPPort;
    ports.push(port);
    assert.ok(port.connected);
    assert.ok(portOf(port.getHost()) > 0);
  });
});

describe("closing connections", () => {
  test("the client half-closes: the server reads EOF and can still answer", async () => {
    const { server, client } = await pair(HalfCloseRecorder, HalfCloseRecorder);
    tx(client).write("question");
    tx(client).loseWriteConnection();
    await within("readConnectionLost", server.readLost.promise);
    await within("writeConnectionLost", client.writeLost.promise);
    assert.equal(server.received.toString(), "question");
    tx(server).write("answer");
    tx(server).loseConnection();
    const reason = await within("client connectionLost", client.lost.promise);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(client.received.toString(), "answer");
    assert.ok((await server.lost.promise).check(ConnectionDone));
  });

  test("the server half-closes: the client reads EOF and can still answer", async () => {
    const { server, client } = await pair(HalfCloseRecorder, HalfCloseRecorder);
    tx(server).write("greeting");
    tx(server).loseWriteConnection();
    await within("readConnectionLost", client.readLost.promise);
    assert.equal(client.received.toString(), "greeting");
    tx(client).write("reply");
    await server.waitForBytes(5);
    tx(client).loseConnection();
    assert.ok((await within("server lost", server.lost.promise)).check(ConnectionDone));
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
  });

  test("EOF from the peer closes a protocol that is not half-closeable, cleanly", async () => {
    const { server, client } = await pair(Recorder, HalfCloseRecorder);
    tx(client).write("last words");
    tx(client).loseWriteConnection();
    const reason = await within("server connectionLost", server.lost.promise);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(server.received.toString(), "last words");
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
  });

  test("loseConnection sends a 16 MiB write completely before closing; later writes are ignored", async () => {
    const big = Buffer.alloc(16 * 1024 * 1024, 0x5a);
    class Sender extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport!.write(big);
        this.transport!.loseConnection();
        this.transport!.write("ignored");
      }
    }
    const { server, client } = await pair(Sender, Recorder);
    const reason = await within("client connectionLost", client.lost.promise, 20000);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(client.size, big.length);
    assert.ok(client.chunks.every((c) => c.every((b) => b === 0x5a)));
    assert.ok((await server.lost.promise).check(ConnectionDone));
  });

  test("abortConnection closes at once with ConnectionAborted", async () => {
    const { server, client } = await pair(Recorder, Recorder);
    tx(client).write(Buffer.alloc(1024 * 1024));
    tx(client).abortConnection();
    tx(client).abortConnection();
    const reason = await within("client connectionLost", client.lost.promise);
    assert.ok(reason.check(ConnectionAborted));
    await within("server connectionLost", server.lost.promise);
    assert.equal(client.lostCount, 1);
  });

  test("loseConnection from inside dataReceived stops delivery and closes once", async () => {
    class Quitter extends Recorder {
      override dataReceived(data: Buffer): void {
        super.dataReceived(data);
        this.transport!.write("bye");
        this.transport!.loseConnection();
        this.transport!.loseConnection();
      }
    }
    const { server, client } = await pair(Quitter, Recorder);
    tx(client).write("one");
    const reason = await within("server connectionLost", server.lost.promise);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(server.chunks.length, 1);
    await within("client connectionLost", client.lost.promise);
    assert.equal(client.received.toString(), "bye");
    assert.equal(server.lostCount, 1);
  });

  test("a factory that returns null from buildProtocol has the connection closed", async () => {
    const factory = new RecordingFactory(Recorder);
    factory.buildProtocol = () => null;
    const port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    ports.push(port);
    const clientFactory = new RecordingClientFactory(Recorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), clientFactory);
    const reason = await within("clientConnectionLost", clientFactory.lost.promise);
    assert.ok(reason.check(ConnectionDone));
  });

  test("stopListening closes the port and stops the factory but keeps connections up", async () => {
    const { port, server, client, serverFactory } = await pair(Echo, Recorder);
    await within("stopListening", port.stopListening());
    assert.equal(serverFactory.stopped, 1);
    assert.equal(port.connected, false);
    tx(client).write("still here");
    await client.waitForBytes(10);
    assert.equal(client.received.toString(), "still here");
    const refused = new RecordingClientFactory(Recorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), refused);
    await within("refused", refused.failed.promise);
    assert.equal(server.lostCount, 0);
  });
});

describe("flow control", () => {
  test("a peer that stops reading pauses a streaming producer and keeps the buffer bounded", async () => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const total = 32 * 1024 * 1024;
    let sent = 0;
    let maxBuffered = 0;
    const paused = signal();
    let pauses = 0;
    let resumes = 0;
    class Streamer extends Recorder implements IPushProducer {
      private running = true;
      override connectionMade(): void {
        super.connectionMade();
        (this.transport as TCPTransport).registerProducer(this, true);
        setImmediate(() => this.pump());
      }
      private pump(): void {
        const t = this.transport as TCPTransport;
        while (this.running && sent < total) {
          t.write(chunk);
          sent += chunk.length;
          maxBuffered = Math.max(maxBuffered, t.socket.writableLength);
        }
        if (sent >= total) {
          t.unregisterProducer();
          t.loseConnection();
        }
      }
      pauseProducing(): void {
        this.running = false;
        pauses++;
        paused.resolve();
      }
      resumeProducing(): void {
        this.running = true;
        resumes++;
        setImmediate(() => this.pump());
      }
      stopProducing(): void {
        this.running = false;
      }
    }
    class SlowReader extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        (this.transport as TCPTransport).pauseProducing();
      }
    }
    const { server, client } = await pair(Streamer, SlowReader);
    await within("pauseProducing", paused.promise);
    assert.ok(sent < total, "the producer was paused before it sent everything");
    const bound = tx(server).socket.writableHighWaterMark + chunk.length;
    assert.ok(maxBuffered <= bound, `buffered ${maxBuffered} > ${bound}`);
    tx(client).resumeProducing();
    await within("client connectionLost", client.lost.promise, 30000);
    assert.equal(client.size, total);
    assert.ok(resumes >= 1 && pauses >= 1);
    assert.ok(maxBuffered <= bound, `buffered ${maxBuffered} > ${bound}`);
    assert.ok((await server.lost.promise).check(ConnectionDone));
  });

  test("a pull producer is asked repeatedly until done, and loseConnection waits for it", async () => {
    const chunks = 300;
    const chunk = Buffer.alloc(32 * 1024, 7);
    let asked = 0;
    class Puller extends Recorder implements IPullProducer {
      override connectionMade(): void {
        super.connectionMade();
        (this.transport as TCPTransport).registerProducer(this, false);
        this.transport!.loseConnection(); // waits for unregisterProducer
      }
      resumeProducing(): void {
        asked++;
        this.transport!.write(chunk);
        if (asked === chunks) (this.transport as TCPTransport).unregisterProducer();
      }
      stopProducing(): void {}
    }
    const { client } = await pair(Puller, Recorder);
    const reason = await within("client connectionLost", client.lost.promise, 20000);
    assert.ok(reason.check(ConnectionDone));
    assert.equal(asked, chunks);
    assert.equal(client.size, chunks * chunk.length);
  });

  test("registering a second producer raises; a producer on a closed connection is stopped", async () => {
    const { client } = await pair(Recorder, Recorder);
    let stopped = 0;
    const producer = {
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {
        stopped++;
      },
    };
    tx(client).registerProducer(producer, true);
    assert.throws(() => tx(client).registerProducer(producer, true), /never unregistered/);
    tx(client).abortConnection();
    await within("connectionLost", client.lost.promise);
    assert.equal(stopped, 1, "connectionLost stops the registered producer");
    tx(client).registerProducer(producer, true);
    assert.equal(stopped, 2);
  });
});
