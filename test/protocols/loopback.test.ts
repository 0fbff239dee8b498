// Tests of loopbackAsync: two protocols connected in memory.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IPullProducer, IPushProducer, ITCPTransport } from "../../src/internet/interfaces.js";
import { Protocol } from "../../src/internet/protocol.js";
import { LineReceiver } from "../../src/protocols/basic.js";
import {
  collapsingPumpPolicy,
  LoopbackAddress,
  loopbackAsync,
} from "../../src/protocols/loopback.js";
import { Echo } from "../../src/protocols/wire.js";
import { Clock } from "../../src/testing/index.js";

class Recorder extends Protocol {
  /** The transport, as a TCP transport. */
  get t(): ITCPTransport {
    return this.transport as ITCPTransport;
  }
  chunks: Buffer[] = [];
  lost: Failure | null = null;
  override dataReceived(data: Buffer): void {
    this.chunks.push(Buffer.from(data));
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** Sends lines, closes once they all came back. */
class LineClient extends LineReceiver {
  got: string[] = [];
  lost: Failure | null = null;
  constructor(private readonly toSend: string[]) {
    super();
  }
  override connectionMade(): void {
    for (const l of this.toSend) this.sendLine(l);
  }
  override lineReceived(line: Buffer): void {
    this.got.push(line.toString());
    if (this.got.length === this.toSend.length) this.tx.loseConnection();
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }
}

describe("loopbackAsync", () => {
  it("relays both ways end to end and fires once both sides saw connectionLost", async () => {
    const server = new Echo();
    const client = new LineClient(["one", "two", "three"]);
    await loopbackAsync(server, client);
    assert.deepEqual(client.got, ["one", "two", "three"]);
    assert.ok(client.lost?.check(ConnectionDone));
    assert.equal(server.connected, false);
  });

  it("delivers writes asynchronously, not from inside write()", async () => {
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client);
    client.t.write("hello");
    assert.equal(server.chunks.length, 0);
    client.t.loseConnection();
    await d;
    assert.equal(server.text(), "hello");
  });

  it("delivers what was written before loseConnection, and nothing written after", async () => {
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client);
    server.t.write("a");
    server.t.writeSequence(["b", Buffer.from("c")]);
    server.t.loseConnection();
    server.t.write("late");
    await d;
    assert.equal(client.text(), "abc");
    assert.ok(server.lost?.check(ConnectionDone));
    assert.ok(client.lost?.check(ConnectionDone));
  });

  it("abortConnection drops pending writes and ends with ConnectionAborted/ConnectionLost", async () => {
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client);
    server.t.write("dropped");
    (server.t as ITCPTransport).abortConnection();
    await d;
    assert.equal(client.text(), "");
    assert.ok(server.lost?.check(ConnectionAborted));
    assert.ok(client.lost?.check(ConnectionLost));
  });

  it("gives both ends a LoopbackAddress", () => {
    const server = new Recorder();
    const client = new Recorder();
    loopbackAsync(server, client, { clock: new Clock() });
    assert.ok(server.t.getPeer() instanceof LoopbackAddress);
    assert.ok(client.t.getHost() instanceof LoopbackAddress);
  });

  it("runs on an injected clock, one delivery per turn", () => {
    const clock = new Clock();
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client, { clock });
    client.t.write("x");
    assert.equal(server.text(), "");
    clock.advance(0);
    assert.equal(server.text(), "x");
    client.t.loseConnection();
    clock.advance(0);
    assert.equal(d.called, true);
  });

  it("collapsingPumpPolicy delivers what was queued as one chunk", async () => {
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client, { pumpPolicy: collapsingPumpPolicy });
    client.t.write("a");
    client.t.write("b");
    client.t.loseConnection();
    await d;
    assert.deepEqual(
      server.chunks.map((c) => c.toString()),
      ["ab"],
    );
  });

  it("polls a pull producer until it unregisters", async () => {
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client);
    let n = 0;
    const producer: IPullProducer = {
      resumeProducing() {
        n++;
        client.t.write(`${n};`);
        if (n === 5) {
          (client.t as ITCPTransport).unregisterProducer();
          client.t.loseConnection();
        }
      },
      stopProducing() {},
    };
    (client.t as ITCPTransport).registerProducer(producer, false);
    await d;
    assert.equal(server.text(), "1;2;3;4;5;");
  });

  it("holds data while the receiver paused its transport, and pauses the writer's producer", async () => {
    const clock = new Clock();
    const server = new Recorder();
    const client = new Recorder();
    const d = loopbackAsync(server, client, { clock });
    const states: string[] = [];
    const producer: IPushProducer = {
      pauseProducing: () => states.push("paused"),
      resumeProducing: () => states.push("resumed"),
      stopProducing: () => states.push("stopped"),
    };
    (server.t as ITCPTransport).pauseProducing();
    (client.t as ITCPTransport).registerProducer(producer, true);
    client.t.write(Buffer.alloc(40_000));
    client.t.write(Buffer.alloc(40_000));
    clock.advance(0);
    assert.equal(server.chunks.length, 0);
    assert.deepEqual(states, ["paused"]);
    (server.t as ITCPTransport).resumeProducing();
    clock.advance(0);
    assert.equal(Buffer.concat(server.chunks).length, 80_000);
    assert.deepEqual(states, ["paused", "resumed"]);
    (client.t as ITCPTransport).unregisterProducer();
    client.t.loseConnection();
    clock.advance(0);
    assert.equal(d.called, true);
  });
});
