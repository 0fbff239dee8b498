// Tests of the port forwarder: with a MemoryReactor, then over real loopback sockets.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { IPv4Address } from "../../src/internet/address.js";
import type { Failure } from "../../src/internet/failure.js";
import type {
  IListeningPort,
  IPushProducer,
  ITCPTransport,
} from "../../src/internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../src/internet/protocol.js";
import {
  type ProxyClient,
  ProxyFactory,
  type ProxyServer,
} from "../../src/protocols/portforward.js";
import { Echo } from "../../src/protocols/wire.js";
import { MemoryReactorClock, StringTransportWithDisconnection } from "../../src/testing/index.js";

const ADDR = new IPv4Address("TCP", "192.0.2.1", 4000);

/** An incoming connection to a ProxyFactory on a MemoryReactor, and its outgoing side. */
function proxied() {
  const reactor = new MemoryReactorClock();
  const factory = new ProxyFactory("example.com", 80, reactor);
  const server = factory.buildProtocol(ADDR) as ProxyServer;
  const st = new StringTransportWithDisconnection();
  st.protocol = server;
  server.makeConnection(st);
  return { reactor, server, st };
}

function completeClient(reactor: MemoryReactorClock) {
  const ct = new StringTransportWithDisconnection();
  const client = reactor.completeConnection<ProxyClient>(0, ct) as ProxyClient;
  ct.protocol = client;
  return { client, ct };
}

describe("ProxyFactory with a MemoryReactor", () => {
  it("pauses the incoming connection and connects to host:port", () => {
    const { reactor, st } = proxied();
    assert.equal(st.producerState, "paused");
    assert.equal(reactor.tcpClients.length, 1);
    assert.equal(reactor.tcpClients[0]?.[0], "example.com");
    assert.equal(reactor.tcpClients[0]?.[1], 80);
  });

  it("once connected, makes each transport the other's streaming producer and reads again", () => {
    const { reactor, st } = proxied();
    const { ct } = completeClient(reactor);
    assert.equal(ct.producer, st);
    assert.equal(ct.streaming, true);
    assert.equal(st.producer, ct);
    assert.equal(st.streaming, true);
    assert.equal(st.producerState, "producing");
  });

  it("relays bytes both ways", () => {
    const { reactor, server, st } = proxied();
    const { client, ct } = completeClient(reactor);
    server.dataReceived(Buffer.from("GET / HTTP/1.0\r\n\r\n"));
    client.dataReceived(Buffer.from("HTTP/1.0 200 OK\r\n"));
    assert.equal(ct.value().toString(), "GET / HTTP/1.0\r\n\r\n");
    assert.equal(st.value().toString(), "HTTP/1.0 200 OK\r\n");
  });

  it("closes the incoming connection when the outgoing one closes, and vice versa", () => {
    const a = proxied();
    const ca = completeClient(a.reactor);
    ca.ct.loseConnection();
    assert.equal(a.st.disconnecting, true);
    assert.equal(a.st.producer, null, "the lost side is no longer the survivor's producer");

    const b = proxied();
    const cb = completeClient(b.reactor);
    b.st.loseConnection();
    assert.equal(cb.ct.disconnecting, true);
  });

  it("closes the incoming connection when the outgoing one cannot be made", () => {
    const { reactor, st } = proxied();
    reactor.failConnection(0);
    assert.equal(st.disconnecting, true);
  });
});

// Real sockets ------------------------------------------------------------------------------

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

function deferredPromise<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes 64 KiB chunks for as long as its transport does not pause it; counts what it wrote. */
class Firehose extends Protocol implements IPushProducer {
  static sent = 0;
  static lost = deferredPromise<Failure>();
  private paused = false;
  private stopped = false;
  private readonly chunk = Buffer.alloc(65536, 0x78);
  clock: NodeReactor | null = null;

  override connectionMade(): void {
    (this.tx as ITCPTransport).registerProducer(this, true);
    this.produce();
  }
  private produce(): void {
    for (let i = 0; i < 16 && !this.paused && !this.stopped; i++) {
      this.tx.write(this.chunk);
      Firehose.sent += this.chunk.length;
    }
    if (!this.paused && !this.stopped) this.clock?.callLater(0, () => this.produce());
  }
  pauseProducing(): void {
    this.paused = true;
  }
  resumeProducing(): void {
    if (!this.paused) return;
    this.paused = false;
    this.produce();
  }
  stopProducing(): void {
    this.stopped = true;
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.stopped = true;
    Firehose.lost.resolve(reason);
  }
}

/** A client that can stop reading, and counts what it read. */
class SlowReader extends Protocol {
  /** The transport, as a TCP transport. */
  get t(): ITCPTransport {
    return this.transport as ITCPTransport;
  }
  received = 0;
  readonly connected_ = deferredPromise();
  private waiters: [number, () => void][] = [];
  override connectionMade(): void {
    this.connected_.resolve();
  }
  override dataReceived(data: Buffer): void {
    this.received += data.length;
    this.waiters = this.waiters.filter(([n, w]) => {
      if (this.received < n) return true;
      w();
      return false;
    });
  }
  until(n: number): Promise<void> {
    if (this.received >= n) return Promise.resolve();
    return new Promise((r) => this.waiters.push([n, r]));
  }
}

class OneClient<P extends Protocol> extends ClientFactory<P> {
  constructor(readonly instance: P) {
    super();
  }
  override buildProtocol(): P {
    return this.instance;
  }
}

describe("ProxyFactory over real sockets", () => {
  const reactor = new NodeReactor();
  const ports: IListeningPort[] = [];
  after(async () => {
    for (const p of ports) await p.stopListening();
  });

  function listen(factory: Parameters<NodeReactor["listenTCP"]>[1]): number {
    const port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    ports.push(port);
    return (port.getHost() as IPv4Address).port;
  }

  it("relays an echo conversation through the proxy", async () => {
    const echoPort = listen(Factory.forProtocol(Echo));
    const proxyPort = listen(new ProxyFactory("127.0.0.1", echoPort, reactor));
    const client = new SlowReader();
    reactor.connectTCP("127.0.0.1", proxyPort, new OneClient(client));
    await within("the client connection", client.connected_.promise);
    client.t.write(Buffer.alloc(300_000, 0x61));
    await within("the echo", client.until(300_000));
    client.t.loseConnection();
  });

  it("keeps memory bounded: a reader that stops reading pauses the upstream writer", async () => {
    const upstream = new Factory<Firehose>();
    upstream.protocol = Firehose;
    const base = upstream.buildProtocol.bind(upstream);
    upstream.buildProtocol = (a) => {
      const p = base(a);
      if (p !== null) p.clock = reactor;
      return p;
    };
    const upstreamPort = listen(upstream);
    const proxyPort = listen(new ProxyFactory("127.0.0.1", upstreamPort, reactor));
    const client = new SlowReader();
    reactor.connectTCP("127.0.0.1", proxyPort, new OneClient(client));
    await within("the client connection", client.connected_.promise);
    (client.t as ITCPTransport).pauseProducing();
    // Wait for the upstream to stop writing (buffers full, producers paused), however long a
    // loaded machine takes; without flow control it never would.
    const deadline = Date.now() + 20_000;
    let plateau = -1;
    while (Firehose.sent !== plateau) {
      // Kernel socket buffers hold a few MiB; without flow control this would be gigabytes.
      assert.ok(Firehose.sent < 64 * 1024 * 1024, `upstream wrote ${Firehose.sent} bytes`);
      assert.ok(Date.now() < deadline, `upstream never stopped: ${Firehose.sent} bytes`);
      plateau = Firehose.sent;
      await sleep(300);
    }
    await sleep(400);
    assert.ok(Firehose.sent - plateau < 4 * 1024 * 1024, "upstream kept writing while paused");
    (client.t as ITCPTransport).resumeProducing();
    await within("data after resuming", client.until(Firehose.sent + 1024 * 1024));
    client.t.loseConnection();
    await within("the upstream connection to close", Firehose.lost.promise);
  });
});
