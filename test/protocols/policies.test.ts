// Tests of twisted-ts/protocols policies: wrapping, timeouts, throttling, limits, traffic logging.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import { ConnectionDone } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type {
  IAddress,
  IConnector,
  IProtocol,
  IPushProducer,
  ITransport,
} from "../../src/internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../src/internet/protocol.js";
import {
  LimitConnectionsByPeer,
  LimitTotalConnectionsFactory,
  type ProtocolWrapper,
  ThrottlingFactory,
  TimeoutFactory,
  TimeoutMixin,
  TrafficLoggingFactory,
  WrappingFactory,
} from "../../src/protocols/policies.js";
import { Clock, captureLogs, StringTransportWithDisconnection } from "../../src/testing/index.js";

/** Records what it receives, and whether it was connected/disconnected. */
class Recorder extends Protocol {
  received: string[] = [];
  lost: Failure | null = null;
  override dataReceived(data: Buffer): void {
    this.received.push(data.toString());
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }
}

/** A push producer that records its state. */
class FakeProducer implements IPushProducer {
  state = "producing";
  pauseProducing(): void {
    this.state = "paused";
  }
  resumeProducing(): void {
    this.state = "producing";
  }
  stopProducing(): void {
    this.state = "stopped";
  }
}

const addr = (host = "1.2.3.4", port = 5555): IAddress => new IPv4Address("TCP", host, port);

/** Builds a protocol from `factory` for `address` and connects it to a fresh transport. */
function connect(
  factory: { buildProtocol(a: IAddress): IProtocol | null },
  address = addr(),
): { p: ProtocolWrapper; t: StringTransportWithDisconnection } | null {
  const p = factory.buildProtocol(address) as ProtocolWrapper | null;
  if (p === null) return null;
  const t = new StringTransportWithDisconnection(addr("10.0.0.1", 80), address);
  t.protocol = p;
  p.makeConnection(t);
  return { p, t };
}

function must<T>(v: T | null): T {
  assert.notEqual(v, null);
  return v as T;
}

describe("WrappingFactory and ProtocolWrapper", () => {
  it("wraps the wrapped factory's protocol, whose transport is the wrapper", () => {
    const factory = new WrappingFactory(Factory.forProtocol(Recorder));
    const { p, t } = must(connect(factory));
    const inner = p.wrappedProtocol as Recorder;
    assert.ok(inner instanceof Recorder);
    assert.equal(inner.transport, p);
    assert.equal(inner.factory, factory.wrappedFactory);
    assert.ok(factory.protocols.has(p));
    p.dataReceived(Buffer.from("in"));
    assert.deepEqual(inner.received, ["in"]);
    inner.transport?.write("out");
    inner.transport?.writeSequence(["a", Buffer.from("b")]);
    assert.equal(t.value().toString(), "outab");
    assert.equal((p.getPeer() as IPv4Address).host, "1.2.3.4");
    assert.equal((p.getHost() as IPv4Address).port, 80);
  });

  it("forwards producers and pausing to the real transport", () => {
    const { p, t } = must(connect(new WrappingFactory(Factory.forProtocol(Recorder))));
    const producer = new FakeProducer();
    p.registerProducer(producer, true);
    assert.equal(t.producer, producer);
    assert.equal(t.streaming, true);
    p.pauseProducing();
    assert.equal(t.producerState, "paused");
    p.resumeProducing();
    assert.equal(t.producerState, "producing");
    p.unregisterProducer();
    assert.equal(t.producer, null);
  });

  it("loseConnection closes the real transport and the wrapped protocol sees connectionLost", () => {
    const factory = new WrappingFactory(Factory.forProtocol(Recorder));
    const { p } = must(connect(factory));
    const inner = p.wrappedProtocol as Recorder;
    inner.transport?.loseConnection();
    assert.equal(p.disconnecting, true);
    assert.ok(inner.lost?.check(ConnectionDone));
    assert.equal(factory.protocols.size, 0);
  });

  it("refuses the connection when the wrapped factory does", () => {
    const inner = new Factory();
    inner.buildProtocol = () => null;
    assert.equal(new WrappingFactory(inner).buildProtocol(addr()), null);
  });

  it("forwards doStart, doStop and client connection events to the wrapped factory", () => {
    const events: string[] = [];
    class Client extends ClientFactory {
      override startFactory(): void {
        events.push("start");
      }
      override stopFactory(): void {
        events.push("stop");
      }
      override clientConnectionFailed(): void {
        events.push("failed");
      }
      override clientConnectionLost(): void {
        events.push("lost");
      }
    }
    const factory = new WrappingFactory(new Client());
    factory.doStart();
    const connector = {} as IConnector;
    factory.clientConnectionFailed(connector, new Failure(new Error("x")));
    factory.clientConnectionLost(connector, new Failure(new Error("x")));
    factory.doStop();
    assert.deepEqual(events, ["start", "failed", "lost", "stop"]);
  });

  it("half-close reaches a half-closeable protocol, and closes for the others", () => {
    let readLost = 0;
    class HalfCloseable extends Recorder {
      readConnectionLost(): void {
        readLost++;
      }
    }
    const a = must(connect(new WrappingFactory(Factory.forProtocol(HalfCloseable))));
    a.p.readConnectionLost();
    assert.equal(readLost, 1);
    assert.equal(a.t.disconnecting, false);
    const b = must(connect(new WrappingFactory(Factory.forProtocol(Recorder))));
    b.p.readConnectionLost();
    assert.equal(b.t.disconnecting, true);
  });
});

class Idle extends TimeoutMixin(Recorder) {
  timedOut = 0;
  override timeoutConnection(): void {
    this.timedOut++;
    super.timeoutConnection();
  }
}

describe("TimeoutMixin", () => {
  function idle(clock: Clock): { p: Idle; t: StringTransportWithDisconnection } {
    const p = new Idle();
    p.clock = clock;
    const t = new StringTransportWithDisconnection();
    t.protocol = p;
    p.makeConnection(t);
    return { p, t };
  }

  it("calls timeoutConnection after the period, which drops the connection", () => {
    const clock = new Clock();
    const { p, t } = idle(clock);
    assert.equal(p.setTimeout(5), null);
    clock.advance(4.9);
    assert.equal(p.timedOut, 0);
    clock.advance(0.1);
    assert.equal(p.timedOut, 1);
    assert.equal(t.disconnecting, true);
  });

  it("resetTimeout() restarts the countdown", () => {
    const clock = new Clock();
    const { p } = idle(clock);
    p.setTimeout(5);
    clock.advance(4);
    p.resetTimeout();
    clock.advance(4);
    assert.equal(p.timedOut, 0);
    clock.advance(1);
    assert.equal(p.timedOut, 1);
  });

  it("setTimeout() returns the previous period and null cancels it", () => {
    const clock = new Clock();
    const { p } = idle(clock);
    p.setTimeout(5);
    assert.equal(p.setTimeout(10), 5);
    clock.advance(9);
    assert.equal(p.timedOut, 0);
    assert.equal(p.setTimeout(null), 10);
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.advance(100);
    assert.equal(p.timedOut, 0);
  });
});

describe("TimeoutFactory", () => {
  it("drops a connection idle for the period, and traffic postpones it", () => {
    const clock = new Clock();
    const { p, t } = must(
      connect(new TimeoutFactory(Factory.forProtocol(Recorder), 10, { clock })),
    );
    clock.advance(9);
    p.dataReceived(Buffer.from("x"));
    clock.advance(9);
    (p.wrappedProtocol as Recorder).transport?.write("y");
    clock.advance(9);
    assert.equal(t.disconnecting, false);
    clock.advance(1);
    assert.equal(t.disconnecting, true);
    assert.ok((p.wrappedProtocol as Recorder).lost !== null);
  });

  it("cancels the timeout when the connection is lost", () => {
    const clock = new Clock();
    const { t } = must(connect(new TimeoutFactory(Factory.forProtocol(Recorder), 10, { clock })));
    t.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0);
  });
});

describe("ThrottlingFactory", () => {
  it("refuses the connection beyond maxConnectionCount, and accepts again after one ends", () => {
    const factory = new ThrottlingFactory(Factory.forProtocol(Recorder), {
      maxConnectionCount: 2,
      clock: new Clock(),
    });
    const a = must(connect(factory));
    must(connect(factory));
    assert.equal(connect(factory), null);
    a.t.loseConnection();
    assert.notEqual(connect(factory), null);
  });

  it("pauses reading for the excess over readLimit, then resumes", () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Recorder), {
      readLimit: 100,
      clock,
    });
    const { p, t } = must(connect(factory));
    p.dataReceived(Buffer.alloc(150));
    assert.equal(t.producerState, "producing");
    clock.advance(1);
    assert.equal(t.producerState, "paused");
    clock.advance(0.49);
    assert.equal(t.producerState, "paused");
    clock.advance(0.01);
    assert.equal(t.producerState, "producing");
    p.dataReceived(Buffer.alloc(100));
    clock.advance(0.5);
    assert.equal(t.producerState, "producing");
  });

  it("pauses the registered producer for the excess over writeLimit, then resumes it", () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Recorder), {
      writeLimit: 10,
      clock,
    });
    const { p } = must(connect(factory));
    const inner = p.wrappedProtocol as Recorder;
    const producer = new FakeProducer();
    (
      inner.transport as ITransport & { registerProducer(x: unknown, s: boolean): void }
    ).registerProducer(producer, true);
    inner.transport?.writeSequence(["0123456789", "0123456789"]);
    clock.advance(1);
    assert.equal(producer.state, "paused");
    clock.advance(1);
    assert.equal(producer.state, "producing");
  });

  it("cancels its bandwidth checks once the last connection is gone", () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Recorder), {
      readLimit: 100,
      writeLimit: 100,
      clock,
    });
    const { t } = must(connect(factory));
    assert.equal(clock.getDelayedCalls().length, 2);
    t.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0);
  });
});

describe("LimitConnectionsByPeer", () => {
  it("refuses the N+1th connection from one host, not from another, until one ends", () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(Recorder), 2);
    const a = must(connect(factory, addr("1.1.1.1", 1)));
    must(connect(factory, addr("1.1.1.1", 2)));
    assert.equal(connect(factory, addr("1.1.1.1", 3)), null);
    assert.notEqual(connect(factory, addr("2.2.2.2", 1)), null);
    a.t.loseConnection();
    assert.notEqual(connect(factory, addr("1.1.1.1", 4)), null);
    assert.equal(factory.peerConnections.get("1.1.1.1"), 2);
  });
});

describe("LimitTotalConnectionsFactory", () => {
  it("refuses the N+1th connection, and accepts again once one ends", () => {
    const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(Recorder), 2);
    const a = must(connect(factory));
    must(connect(factory));
    assert.equal(connect(factory), null);
    assert.equal(factory.connectionCount, 2);
    a.t.loseConnection();
    assert.equal(factory.connectionCount, 1);
    assert.notEqual(connect(factory), null);
  });

  it("gives connections over the limit to the overflow protocol", () => {
    class Busy extends Protocol {
      override connectionMade(): void {
        this.tx.write("busy\r\n");
        this.tx.loseConnection();
      }
    }
    const factory = new LimitTotalConnectionsFactory(Factory.forProtocol(Recorder), 1, Busy);
    must(connect(factory));
    const over = must(connect(factory));
    assert.ok(over.p.wrappedProtocol instanceof Busy);
    assert.equal(over.t.value().toString(), "busy\r\n");
    assert.equal(factory.connectionCount, 1);
  });
});

describe("TrafficLoggingFactory", () => {
  it("logs bytes read and written, tagged with the prefix and connection number", () => {
    const factory = new TrafficLoggingFactory(Factory.forProtocol(Recorder), "echo");
    const events = captureLogs(
      () => {
        const { p, t } = must(connect(factory));
        p.dataReceived(Buffer.from("hi\r\n"));
        (p.wrappedProtocol as Recorder).transport?.write("there\x00");
        t.loseConnection();
      },
      { exclusive: true },
    );
    const traffic = events.filter(
      (e) => e.log_namespace === "twisted-ts.protocols.policies.traffic",
    );
    const lines = traffic.map(
      (e) => `${e.prefix}-${e.connection} ${e.direction} ${e.bytes}: ${e.data}`,
    );
    assert.ok(lines.includes("echo-1 C 4: hi\\r\\n"), lines.join("\n"));
    assert.ok(lines.includes("echo-1 S 6: there\\x00"), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("echo-1 ConnectionLost")));
  });
});
