// Tests of protocols and factories: Protocol, Factory, ClientFactory, ReconnectingClientFactory,
// ClientCreator, DatagramProtocol, ProcessProtocol.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import {
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type { IAddress, IConnector } from "../../src/internet/interfaces.js";
import {
  ClientCreator,
  ClientFactory,
  DatagramProtocol,
  Factory,
  ProcessProtocol,
  Protocol,
  ReconnectingClientFactory,
} from "../../src/internet/protocol.js";
import {
  failureResultOf,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from "../../src/testing/index.js";

class Collect extends Protocol {
  chunks: string[] = [];
  lost: Failure | null = null;
  made = 0;
  override connectionMade(): void {
    this.made++;
  }
  override dataReceived(data: Buffer): void {
    this.chunks.push(data.toString());
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }
}

const addr = new IPv4Address("TCP", "127.0.0.1", 1234);

describe("Protocol", () => {
  it("makeConnection sets the transport and connected, then calls connectionMade", () => {
    const p = new Collect();
    const t = new StringTransport();
    p.makeConnection(t);
    assert.equal(p.transport, t);
    assert.equal(p.connected, true);
    assert.equal(p.made, 1);
  });

  it("gets data in whatever split the transport delivers, one byte at a time included", () => {
    const p = new Collect();
    p.makeConnection(new StringTransport());
    for (const byte of Buffer.from("hello")) p.dataReceived(Buffer.from([byte]));
    assert.equal(p.chunks.join(""), "hello");
    assert.equal(p.chunks.length, 5);
  });

  it("connectionLost clears connected and keeps the reason", () => {
    const p = new Collect();
    p.makeConnection(new StringTransport());
    p.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(p.connected, false);
    assert.ok(p.lost?.check(ConnectionDone));
  });
});

describe("Factory", () => {
  it("forProtocol builds instances whose factory is set", () => {
    const f = Factory.forProtocol(Collect);
    const p = f.buildProtocol(addr) as Collect;
    assert.ok(p instanceof Collect);
    assert.equal(p.factory, f);
  });

  it("doStart/doStop call startFactory on the first port and stopFactory after the last", () => {
    const calls: string[] = [];
    class Counted extends Factory {
      override startFactory() {
        calls.push("start");
      }
      override stopFactory() {
        calls.push("stop");
      }
    }
    const f = new Counted();
    f.doStart();
    f.doStart();
    f.doStop();
    assert.deepEqual(calls, ["start"]);
    f.doStop();
    f.doStop(); // one stop too many does nothing
    assert.deepEqual(calls, ["start", "stop"]);
    assert.equal(f.numPorts, 0);
  });

  it("a factory without a protocol class raises a clear error", () => {
    assert.throws(() => new Factory().buildProtocol(addr), /no protocol class/);
  });
});

class Recorder extends ClientFactory {
  events: string[] = [];
  override protocol = Collect;
  override startedConnecting(c: IConnector): void {
    this.events.push("started");
  }
  override clientConnectionFailed(c: IConnector, reason: Failure): void {
    this.events.push(`failed ${reason.type.name}`);
  }
  override clientConnectionLost(c: IConnector, reason: Failure): void {
    this.events.push(`lost ${reason.type.name}`);
  }
}

describe("ClientFactory", () => {
  it("hears startedConnecting, then clientConnectionLost after a connection ends", () => {
    const reactor = new MemoryReactorClock();
    const f = new Recorder();
    reactor.connectTCP("example.test", 80, f);
    const p = reactor.completeConnection<Collect>(0)!;
    assert.equal(p.made, 1);
    reactor.connectionLost(0, new ConnectionLost());
    assert.deepEqual(f.events, ["started", "lost ConnectionLost"]);
    assert.ok(p.lost?.check(ConnectionLost));
  });

  it("hears clientConnectionFailed when the connection cannot be made", () => {
    const reactor = new MemoryReactorClock();
    const f = new Recorder();
    reactor.connectTCP("example.test", 80, f);
    reactor.failConnection(0, new ConnectionRefusedError());
    assert.deepEqual(f.events, ["started", "failed ConnectionRefusedError"]);
  });
});

describe("ReconnectingClientFactory", () => {
  class Reconnecting extends ReconnectingClientFactory {
    override protocol = Collect;
    override buildProtocol(a: IAddress) {
      this.resetDelay();
      return super.buildProtocol(a);
    }
  }

  function factoryOn(reactor: MemoryReactorClock, jitter = 0): Reconnecting {
    const f = new Reconnecting();
    f.clock = reactor;
    f.jitter = jitter;
    f.initialDelay = 1;
    f.delay = 1;
    f.factor = 2;
    f.maxDelay = 10;
    return f;
  }

  it("retries with exponentially growing delays up to maxDelay", () => {
    const reactor = new MemoryReactorClock();
    const f = factoryOn(reactor);
    reactor.connectTCP("example.test", 80, f);
    const connector = reactor.connector(0);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      reactor.failConnection(0);
      const [call] = reactor.getDelayedCalls();
      delays.push(call!.getTime() - reactor.seconds());
      reactor.advance(call!.getTime() - reactor.seconds());
    }
    assert.deepEqual(delays, [2, 4, 8, 10, 10]);
    assert.equal(connector.state, "connecting");
  });

  it("stops after maxRetries attempts", () => {
    const reactor = new MemoryReactorClock();
    const f = factoryOn(reactor);
    f.maxRetries = 2;
    reactor.connectTCP("example.test", 80, f);
    for (let i = 0; i < 3; i++) {
      reactor.failConnection(0);
      reactor.advance(100);
    }
    assert.equal(reactor.getDelayedCalls().length, 0);
    assert.equal(f.retries, 3);
  });

  it("jitter spreads delays around the exponential value, driven by the random source", () => {
    const reactor = new MemoryReactorClock();
    const f = factoryOn(reactor, 0.5);
    const samples = [0.5, 0];
    f.random = () => samples.shift() ?? 0.5;
    reactor.connectTCP("example.test", 80, f);
    reactor.failConnection(0);
    const [call] = reactor.getDelayedCalls();
    const d = call!.getTime() - reactor.seconds();
    // A normal sample z = sqrt(-2 ln 0.5) * cos(0), spread by jitter * delay around 2.
    const z = Math.sqrt(-2 * Math.log(0.5));
    assert.ok(Math.abs(d - (2 + z * 2 * 0.5)) < 1e-9, String(d));
  });

  it("resetDelay after a success starts the back-off over; stopTrying cancels the retry", () => {
    const reactor = new MemoryReactorClock();
    const f = factoryOn(reactor);
    reactor.connectTCP("example.test", 80, f);
    reactor.failConnection(0);
    reactor.advance(100);
    reactor.failConnection(0);
    reactor.advance(100);
    assert.equal(f.delay, 4);
    reactor.completeConnection(0);
    assert.equal(f.delay, 1);
    reactor.connectionLost(0);
    const [call] = reactor.getDelayedCalls();
    assert.equal(call!.getTime() - reactor.seconds(), 2);
    f.stopTrying();
    assert.equal(reactor.getDelayedCalls().length, 0);
    assert.equal(f.continueTrying, false);
  });
});

describe("ClientCreator", () => {
  it("connectTCP fires with the connected protocol instance built from the arguments", () => {
    class Greeter extends Protocol {
      constructor(readonly greeting: string) {
        super();
      }
    }
    const reactor = new MemoryReactorClock();
    const d = new ClientCreator(reactor, Greeter, "hi").connectTCP("example.test", 7);
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["example.test", 7]);
    reactor.completeConnection(0);
    reactor.advance(0);
    const p = successResultOf(d);
    assert.equal(p.greeting, "hi");
    assert.ok(p.transport);
  });

  it("fails with the connection error, and cancelling stops the attempt", () => {
    const reactor = new MemoryReactorClock();
    const creator = new ClientCreator(reactor, Collect);
    const d = creator.connectTCP("example.test", 7);
    reactor.failConnection(0, new ConnectionRefusedError());
    failureResultOf(d, ConnectionRefusedError);
    const d2 = creator.connectUNIX("/tmp/nowhere.sock");
    d2.cancel();
    const f = failureResultOf(d2);
    assert.ok(f.check(ConnectingCancelledError) || f.type.name === "CancelledError", f.type.name);
  });
});

describe("DatagramProtocol", () => {
  it("startProtocol runs on the first port and stopProtocol after the last", () => {
    const calls: string[] = [];
    class P extends DatagramProtocol {
      override startProtocol() {
        calls.push("start");
      }
      override stopProtocol() {
        calls.push("stop");
      }
    }
    const p = new P();
    const fakePort = {} as never;
    p.makeConnection(fakePort);
    assert.equal(p.transport, fakePort);
    p.doStop();
    assert.deepEqual(calls, ["start", "stop"]);
    assert.equal(p.transport, null);
  });
});

describe("ProcessProtocol", () => {
  it("routes child fds 1 and 2 to outReceived/errReceived, and closed fds to *ConnectionLost", () => {
    const seen: string[] = [];
    class P extends ProcessProtocol {
      override outReceived(d: Buffer) {
        seen.push(`out ${d}`);
      }
      override errReceived(d: Buffer) {
        seen.push(`err ${d}`);
      }
      override inConnectionLost() {
        seen.push("in lost");
      }
      override outConnectionLost() {
        seen.push("out lost");
      }
      override errConnectionLost() {
        seen.push("err lost");
      }
    }
    const p = new P();
    p.childDataReceived(1, Buffer.from("a"));
    p.childDataReceived(2, Buffer.from("b"));
    p.childDataReceived(3, Buffer.from("ignored"));
    p.childConnectionLost(0);
    p.childConnectionLost(1);
    p.childConnectionLost(2);
    assert.deepEqual(seen, ["out a", "err b", "in lost", "out lost", "err lost"]);
  });
});
