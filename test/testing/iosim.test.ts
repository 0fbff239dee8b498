import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IPv4Address } from "../../src/internet/address.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IPullProducer, IPushProducer } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  AccumulatingProtocol,
  Clock,
  connect,
  connectedServerAndClient,
  FakeTransport,
  makeFakeClient,
  makeFakeServer,
} from "../../src/testing/index.js";

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

/** A minimal line protocol: splits on \n and answers each line with its upper-case form. */
class LineServer extends Protocol {
  private buffer = "";
  lines: string[] = [];
  override connectionMade(): void {
    this.transport!.write("220 ready\n");
  }
  override dataReceived(data: Buffer): void {
    this.buffer += data.toString();
    let i = this.buffer.indexOf("\n");
    while (i >= 0) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 1);
      this.lines.push(line);
      if (line === "QUIT") this.transport!.loseConnection();
      else this.transport!.write(`${line.toUpperCase()}\n`);
      i = this.buffer.indexOf("\n");
    }
  }
}

class LineClient extends Protocol {
  private buffer = "";
  lines: string[] = [];
  lost: Failure | null = null;
  sendLine(line: string): void {
    this.transport!.write(`${line}\n`);
  }
  override dataReceived(data: Buffer): void {
    this.buffer += data.toString();
    const parts = this.buffer.split("\n");
    this.buffer = parts.pop()!;
    this.lines.push(...parts);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }
}

describe("connectedServerAndClient", () => {
  test("an echo server returns what the client sends", () => {
    const [client, server, pump] = connectedServerAndClient(Echo, AccumulatingProtocol);
    assert.ok(server instanceof Echo);
    client.transport!.write("hello");
    assert.equal(client.data.length, 0, "nothing moves before the pump");
    assert.equal(pump.flush(), true);
    assert.equal(client.data.toString(), "hello");
  });

  test("greetings from connectionMade are exchanged when greet is true (the default)", () => {
    const [client] = connectedServerAndClient(LineServer, LineClient);
    assert.deepEqual(client.lines, ["220 ready"]);
  });

  test("greet: false leaves the greeting pending until the first flush", () => {
    const [client, , pump] = connectedServerAndClient(LineServer, LineClient, { greet: false });
    assert.deepEqual(client.lines, []);
    pump.flush();
    assert.deepEqual(client.lines, ["220 ready"]);
  });

  test("a line protocol pair talks, and QUIT closes both sides with ConnectionDone", () => {
    const [client, server, pump] = connectedServerAndClient(LineServer, LineClient);
    const serverLost: Failure[] = [];
    const orig = server.connectionLost.bind(server);
    server.connectionLost = (reason) => {
      serverLost.push(reason);
      orig(reason);
    };
    client.sendLine("hello");
    client.sendLine("world");
    pump.flush();
    assert.deepEqual(client.lines, ["220 ready", "HELLO", "WORLD"]);
    client.sendLine("QUIT");
    pump.flush();
    assert.deepEqual(server.lines, ["hello", "world", "QUIT"]);
    assert.ok(client.lost?.check(ConnectionDone));
    assert.equal(serverLost.length, 1);
    assert.ok(serverLost[0]!.check(ConnectionDone));
    assert.equal(client.connected, false);
    assert.equal(server.connected, false);
  });

  test("pending data is delivered before the connection closes", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    client.transport!.write("last words");
    client.transport!.loseConnection();
    pump.flush();
    assert.equal(server.data.toString(), "last words");
    assert.equal(server.closed, true);
    assert.equal(client.closed, true);
  });

  test("abortConnection discards pending output; ConnectionAborted here, ConnectionLost there", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    client.transport!.write("never sent");
    (client.transport as FakeTransport).abortConnection();
    pump.flush();
    assert.equal(server.data.length, 0);
    assert.ok(client.closedReason!.check(ConnectionAborted));
    assert.ok(server.closedReason!.check(ConnectionLost));
    assert.equal(server.closedReason!.check(ConnectionAborted), null);
  });

  test("protocols may be given as functions or factories", () => {
    const [client, server] = connectedServerAndClient(
      Factory.forProtocol(Echo),
      () => new AccumulatingProtocol(),
    );
    assert.ok(server instanceof Echo);
    assert.ok(client instanceof AccumulatingProtocol);
    assert.equal((server as Echo).factory !== null, true);
  });

  test("transports report fake addresses of each other", () => {
    const [client, server] = connectedServerAndClient(Echo, Echo);
    const cHost = client.transport!.getHost() as IPv4Address;
    const sPeer = server.transport!.getPeer() as IPv4Address;
    const sHost = server.transport!.getHost() as IPv4Address;
    const cPeer = client.transport!.getPeer() as IPv4Address;
    assert.ok(cHost.equals(sPeer));
    assert.ok(sHost.equals(cPeer));
    assert.equal((server.transport as FakeTransport).isServer, true);
    assert.equal((client.transport as FakeTransport).isServer, false);
  });

  test("each pump runs the calls due now on the clock", () => {
    const clock = new Clock();
    const [client, , pump] = connectedServerAndClient(Echo, AccumulatingProtocol, { clock });
    clock.callLater(0, () => client.transport!.write("later"));
    pump.flush();
    assert.equal(client.data.toString(), "later");
  });

  test("flush raises when the protocols never stop talking", () => {
    class Chatty extends Protocol {
      override connectionMade(): void {
        this.transport!.write("x");
      }
      override dataReceived(): void {
        this.transport!.write("x");
      }
    }
    assert.throws(
      () => connectedServerAndClient(Chatty, Chatty),
      /still moving data after 1000 pumps/,
    );
  });
});

describe("IOPump and FakeTransport", () => {
  test("pump moves pending bytes both ways once and reports whether anything moved", () => {
    const server = new AccumulatingProtocol();
    const client = new AccumulatingProtocol();
    const pump = connect(server, makeFakeServer(server), client, makeFakeClient(client));
    assert.equal(pump.pump(), false);
    server.transport!.write("s");
    client.transport!.write("c");
    assert.equal(pump.pump(), true);
    assert.equal(server.data.toString(), "c");
    assert.equal(client.data.toString(), "s");
    assert.equal(pump.pump(), false);
  });

  test("a paused transport holds incoming bytes until resumed", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    (server.transport as FakeTransport).pauseProducing();
    client.transport!.write("wait");
    pump.flush();
    assert.equal(server.data.length, 0);
    (server.transport as FakeTransport).resumeProducing();
    pump.flush();
    assert.equal(server.data.toString(), "wait");
  });

  test("a pull producer is asked for data at each pump until it unregisters", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    const chunks = ["a", "b", "c"];
    const transport = server.transport as FakeTransport;
    const producer: IPullProducer = {
      resumeProducing() {
        const next = chunks.shift();
        if (next === undefined) transport.unregisterProducer();
        else transport.write(next);
      },
      stopProducing() {},
    };
    transport.registerProducer(producer, false);
    transport.loseConnection();
    pump.flush();
    assert.equal(client.data.toString(), "abc");
    assert.equal(client.closed, true);
  });

  test("a streaming producer is paused above bufferSize and resumed once the bytes moved", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
      {
        serverTransport: { bufferSize: 4 },
      },
    );
    const events: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => events.push("pause"),
      resumeProducing: () => events.push("resume"),
      stopProducing: () => events.push("stop"),
    };
    const transport = server.transport as FakeTransport;
    transport.registerProducer(producer, true);
    transport.write("12345");
    assert.deepEqual(events, ["pause"]);
    pump.flush();
    assert.deepEqual(events, ["pause", "resume"]);
    assert.equal(client.data.toString(), "12345");
    client.transport!.loseConnection();
    pump.flush();
    assert.deepEqual(events, ["pause", "resume", "stop"]);
  });

  test("registering a second producer raises", () => {
    const tr = new FakeTransport(new Protocol(), true);
    const p: IPushProducer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };
    tr.registerProducer(p, true);
    assert.throws(() => tr.registerProducer(p, true), /already registered/);
  });

  test("a half-close reaches readConnectionLost of a half-closeable peer", () => {
    class HalfCloseable extends AccumulatingProtocol {
      readLost = false;
      readConnectionLost(): void {
        this.readLost = true;
        this.transport!.write("bye");
        this.transport!.loseConnection();
      }
    }
    class Writer extends AccumulatingProtocol {
      writeLost = false;
      writeConnectionLost(): void {
        this.writeLost = true;
      }
    }
    const [client, server, pump] = connectedServerAndClient(HalfCloseable, Writer);
    client.transport!.write("request");
    (client.transport as FakeTransport).loseWriteConnection();
    pump.flush();
    assert.equal(server.data.toString(), "request");
    assert.equal(server.readLost, true);
    assert.equal(client.writeLost, true);
    assert.equal(client.data.toString(), "bye");
    assert.ok(client.closed && server.closed);
  });

  test("a half-close to a protocol that cannot half-close ends the connection", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    (client.transport as FakeTransport).loseWriteConnection();
    pump.flush();
    assert.ok(server.closedReason!.check(ConnectionDone));
    assert.ok(client.closedReason!.check(ConnectionDone));
  });

  test("startTLS on both sides completes a simulated handshake", () => {
    class TLSAware extends AccumulatingProtocol {
      handshakes = 0;
      handshakeCompleted(): void {
        this.handshakes++;
      }
    }
    const [client, server, pump] = connectedServerAndClient(TLSAware, TLSAware);
    (server.transport as FakeTransport).startTLS({ isServer: true });
    pump.flush();
    assert.equal(server.handshakes, 0);
    (client.transport as FakeTransport).startTLS({});
    pump.flush();
    assert.equal(server.handshakes, 1);
    assert.equal(client.handshakes, 1);
    assert.equal((client.transport as FakeTransport).TLS, true);
  });

  test("writes after the connection closed are dropped", () => {
    const [client, server, pump] = connectedServerAndClient(
      AccumulatingProtocol,
      AccumulatingProtocol,
    );
    client.transport!.loseConnection();
    pump.flush();
    client.transport!.write("late");
    assert.equal((client.transport as FakeTransport).hasPendingOutput(), false);
    assert.equal(pump.flush(), false);
    assert.equal(server.data.length, 0);
  });
});
