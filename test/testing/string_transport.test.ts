import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import { Deferred } from "../../src/internet/defer.js";
import { ConnectionAborted, ConnectionDone } from "../../src/internet/error.js";
import type { IPushProducer } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  AccumulatingProtocol,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

class Producer implements IPushProducer {
  events: string[] = [];
  pauseProducing(): void {
    this.events.push("pause");
  }
  resumeProducing(): void {
    this.events.push("resume");
  }
  stopProducing(): void {
    this.events.push("stop");
  }
}

describe("StringTransport", () => {
  test("value() returns what the protocol wrote, in order", () => {
    const tr = new StringTransport();
    const proto = new Echo();
    proto.makeConnection(tr);
    proto.dataReceived(Buffer.from("hello "));
    proto.dataReceived(Buffer.from("world"));
    assert.equal(tr.value().toString(), "hello world");
  });

  test("strings are written as UTF-8", () => {
    const tr = new StringTransport();
    tr.write("é");
    assert.deepEqual([...tr.value()], [0xc3, 0xa9]);
  });

  test("writeSequence writes every chunk in order", () => {
    const tr = new StringTransport();
    tr.writeSequence([Buffer.from("a"), "b", new Uint8Array([0x63])]);
    assert.equal(tr.value().toString(), "abc");
  });

  test("writing something other than bytes or a string raises a TypeError", () => {
    const tr = new StringTransport();
    assert.throws(() => tr.write(42 as unknown as string), {
      name: "TypeError",
      message: "Data must be a Uint8Array or a string, not number",
    });
    assert.throws(() => tr.writeSequence([null as unknown as string]), TypeError);
    assert.throws(() => tr.writeSequence("ab" as unknown as string[]), TypeError);
    assert.equal(tr.value().length, 0);
  });

  test("written bytes are copied, so the caller may reuse its buffer", () => {
    const tr = new StringTransport();
    const buf = Buffer.from("abc");
    tr.write(buf);
    buf.fill(0x7a);
    assert.equal(tr.value().toString(), "abc");
  });

  test("clear() forgets what was written", () => {
    const tr = new StringTransport();
    tr.write("abc");
    tr.clear();
    assert.equal(tr.value().length, 0);
    tr.write("d");
    assert.equal(tr.value().toString(), "d");
  });

  test("default addresses are the fake 10.0.0.1:1234 (host) and 192.168.1.1:4321 (peer)", () => {
    const tr = new StringTransport();
    assert.ok(tr.getHost() instanceof IPv4Address);
    assert.ok((tr.getHost() as IPv4Address).equals(new IPv4Address("TCP", "10.0.0.1", 1234)));
    assert.ok((tr.getPeer() as IPv4Address).equals(new IPv4Address("TCP", "192.168.1.1", 4321)));
  });

  test("given addresses are returned by getHost and getPeer", () => {
    const host = new IPv4Address("TCP", "127.0.0.1", 80);
    const peer = new IPv4Address("TCP", "127.0.0.2", 5000);
    const tr = new StringTransport(host, peer);
    assert.equal(tr.getHost(), host);
    assert.equal(tr.getPeer(), peer);
  });

  test("loseConnection sets disconnecting but does not call connectionLost", () => {
    const tr = new StringTransport();
    const proto = new AccumulatingProtocol();
    proto.makeConnection(tr);
    tr.loseConnection();
    assert.equal(tr.disconnecting, true);
    assert.equal(proto.closed, false);
  });

  test("abortConnection records aborted and disconnecting", () => {
    const tr = new StringTransport();
    tr.abortConnection();
    assert.equal(tr.aborted, true);
    assert.equal(tr.disconnecting, true);
  });

  test("loseWriteConnection records the half-close", () => {
    const tr = new StringTransport();
    tr.loseWriteConnection();
    assert.equal(tr.writeDisconnecting, true);
    assert.equal(tr.disconnecting, false);
  });

  test("registerProducer records the producer and whether it streams", () => {
    const tr = new StringTransport();
    const producer = new Producer();
    tr.registerProducer(producer, true);
    assert.equal(tr.producer, producer);
    assert.equal(tr.streaming, true);
    tr.unregisterProducer();
    assert.equal(tr.producer, null);
    assert.equal(tr.streaming, null);
  });

  test("registering a second producer raises", () => {
    const tr = new StringTransport();
    tr.registerProducer(new Producer(), false);
    assert.throws(() => tr.registerProducer(new Producer(), true), /already registered/);
  });

  test("unregistering without a producer raises", () => {
    assert.throws(() => new StringTransport().unregisterProducer(), /none is registered/);
  });

  test("pauseProducing/resumeProducing/stopProducing record producerState", () => {
    const tr = new StringTransport();
    assert.equal(tr.producerState, "producing");
    tr.pauseProducing();
    assert.equal(tr.producerState, "paused");
    tr.resumeProducing();
    assert.equal(tr.producerState, "producing");
    tr.stopProducing();
    assert.equal(tr.producerState, "stopped");
  });

  test("resuming a stopped transport raises", () => {
    const tr = new StringTransport();
    tr.stopProducing();
    assert.throws(() => tr.resumeProducing(), /stopped producer/);
    assert.throws(() => tr.pauseProducing(), /stopped producer/);
  });

  test("pausing or resuming after loseConnection raises", () => {
    const tr = new StringTransport();
    tr.loseConnection();
    assert.throws(() => tr.pauseProducing(), /after loseConnection/);
  });

  test("startTLS records TLS and its options; a second startTLS raises", () => {
    const tr = new StringTransport();
    assert.equal(tr.TLS, false);
    tr.startTLS({ isServer: true, servername: "example.com" });
    assert.equal(tr.TLS, true);
    assert.deepEqual(tr.tlsOptions, { isServer: true, servername: "example.com" });
    assert.throws(() => tr.startTLS({}), /already speaks TLS/);
  });

  test("TCP options are recorded", () => {
    const tr = new StringTransport();
    tr.setTcpNoDelay(true);
    tr.setTcpKeepAlive(true);
    assert.equal(tr.getTcpNoDelay(), true);
    assert.equal(tr.getTcpKeepAlive(), true);
  });
});

describe("StringTransportWithDisconnection", () => {
  test("loseConnection calls the protocol's connectionLost with ConnectionDone, once", () => {
    const tr = new StringTransportWithDisconnection();
    const proto = new AccumulatingProtocol();
    tr.protocol = proto;
    proto.makeConnection(tr);
    tr.loseConnection();
    tr.loseConnection();
    assert.equal(proto.closed, true);
    assert.ok(proto.closedReason?.check(ConnectionDone));
    assert.equal(tr.connected, false);
    assert.equal(tr.disconnected, true);
  });

  test("abortConnection calls connectionLost with ConnectionAborted", () => {
    const tr = new StringTransportWithDisconnection();
    const proto = new AccumulatingProtocol();
    tr.protocol = proto;
    proto.makeConnection(tr);
    tr.abortConnection();
    assert.ok(proto.closedReason?.check(ConnectionAborted));
  });

  test("losing the connection stops a registered producer", () => {
    const tr = new StringTransportWithDisconnection();
    tr.protocol = new AccumulatingProtocol();
    const producer = new Producer();
    tr.registerProducer(producer, true);
    tr.loseConnection();
    assert.deepEqual(producer.events, ["stop"]);
    assert.equal(tr.producer, null);
  });

  test("loseConnection without a protocol raises a clear error", () => {
    const tr = new StringTransportWithDisconnection();
    assert.throws(() => tr.loseConnection(), /protocol is not set/);
  });
});

describe("AccumulatingProtocol", () => {
  test("records made, data and the close reason, and fires closedDeferred", () => {
    const proto = new AccumulatingProtocol();
    const closed = new Deferred<null>();
    proto.closedDeferred = closed;
    const tr = new StringTransportWithDisconnection();
    tr.protocol = proto;
    proto.makeConnection(tr);
    assert.equal(proto.made, true);
    proto.dataReceived(Buffer.from("ab"));
    proto.dataReceived(Buffer.from("c"));
    assert.equal(proto.data.toString(), "abc");
    tr.loseConnection();
    assert.equal(closed.called, true);
    assert.equal(proto.closedDeferred, null);
  });

  test("fires the factory's protocolConnectionMade Deferred with the first protocol only", () => {
    const factory = Factory.forProtocol(AccumulatingProtocol) as Factory<AccumulatingProtocol> & {
      protocolConnectionMade: Deferred<AccumulatingProtocol> | null;
    };
    const made = new Deferred<AccumulatingProtocol>();
    factory.protocolConnectionMade = made;
    const first = factory.buildProtocol(new IPv4Address("TCP", "127.0.0.1", 1))!;
    first.makeConnection(new StringTransport());
    const second = factory.buildProtocol(new IPv4Address("TCP", "127.0.0.1", 2))!;
    second.makeConnection(new StringTransport());
    assert.equal(made.result, first);
    assert.equal(factory.protocolConnectionMade, null);
  });
});
