// Tests of server and client endpoints, wrapClientTLS and connectProtocol, with MemoryReactorClock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IPv4Address, IPv6Address } from "../../src/internet/address.js";
import { Deferred, succeed } from "../../src/internet/defer.js";
import {
  connectProtocol,
  NoProtocol,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
  WrapperServerEndpoint,
  wrapClientTLS,
} from "../../src/internet/endpoints.js";
import {
  CancelledError,
  CannotListenError,
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  SSLError,
  TimeoutError,
} from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type {
  IHandshakeListener,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
} from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  CertificateOptions,
  makeSelfSignedCertificate,
  optionsForClientTLS,
} from "../../src/internet/ssl.js";
import {
  assertNoResult,
  failureResultOf,
  MemoryReactorClock,
  type StringTransport,
  successResultOf,
} from "../../src/testing/index.js";

/** Records what happens to it; `made` also notes whether its transport was set then. */
class Recorder extends Protocol {
  made = 0;
  received: string[] = [];
  lost: Failure[] = [];
  override connectionMade(): void {
    this.made++;
  }
  override dataReceived(data: Buffer): void {
    this.received.push(data.toString());
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost.push(reason);
  }
}

class HalfCloser extends Recorder {
  readEOF = 0;
  readConnectionLost(): void {
    this.readEOF++;
  }
}

/** A factory counting how often it was started and stopped. */
class CountingFactory extends Factory<Recorder> {
  starts = 0;
  stops = 0;
  override protocol = Recorder;
  override startFactory(): void {
    this.starts++;
  }
  override stopFactory(): void {
    this.stops++;
  }
}

/** Asserts that nothing is left pending on `reactor`: no delayed call, no connector connecting. */
function assertNothingPending(reactor: MemoryReactorClock): void {
  assert.deepEqual(reactor.getDelayedCalls(), []);
  for (const c of reactor.connectors) assert.notEqual(c.state, "connecting", String(c));
}

describe("server endpoints", () => {
  test("TCP4ServerEndpoint listens with the port, factory, backlog and interface", () => {
    const reactor = new MemoryReactorClock();
    const factory = new CountingFactory();
    const port = successResultOf(
      new TCP4ServerEndpoint(reactor, 1234, 10, "127.0.0.1").listen(factory),
    );
    assert.deepEqual(reactor.tcpServers, [[1234, factory, 10, "127.0.0.1"]]);
    assert.equal(port, reactor.ports[0]);
    assert.equal(factory.starts, 1);
  });

  test("TCP6ServerEndpoint listens on :: unless told otherwise", () => {
    const reactor = new MemoryReactorClock();
    const factory = new Factory();
    const port = successResultOf(new TCP6ServerEndpoint(reactor, 0).listen(factory));
    assert.deepEqual(reactor.tcpServers, [[0, factory, 50, "::"]]);
    assert.ok(port.getHost() instanceof IPv6Address);
  });

  test("a port that cannot be listened on fails the Deferred with CannotListenError", () => {
    const reactor = new MemoryReactorClock();
    reactor.busyPorts.add(80);
    const f = failureResultOf(
      new TCP4ServerEndpoint(reactor, 80).listen(new Factory()),
      CannotListenError,
    );
    assert.match(f.getErrorMessage(), /Address already in use/);
  });

  test("UNIXServerEndpoint listens with the path, backlog and mode", () => {
    const reactor = new MemoryReactorClock();
    const factory = new Factory();
    successResultOf(new UNIXServerEndpoint(reactor, "/tmp/s.sock", 5, 0o600).listen(factory));
    assert.deepEqual(reactor.unixServers, [["/tmp/s.sock", factory, 5, 0o600]]);
  });

  test("SSL4ServerEndpoint gives listenSSL the options of a CertificateOptions", () => {
    const reactor = new MemoryReactorClock();
    const { key, cert } = makeSelfSignedCertificate();
    const options = new CertificateOptions({ privateKey: key, certificate: cert });
    successResultOf(new SSL4ServerEndpoint(reactor, 443, options).listen(new Factory()));
    assert.equal(reactor.sslServers[0]?.[2].cert, options.getContextOptions().cert);
    assert.equal(reactor.sslServers[0]?.[0], 443);
  });

  test("WrapperServerEndpoint listens with the wrapped factory", () => {
    const reactor = new MemoryReactorClock();
    const inner = new Factory();
    const outer = new Factory();
    const endpoint = new WrapperServerEndpoint(new TCP4ServerEndpoint(reactor, 80), (f) => {
      assert.equal(f, inner);
      return outer;
    });
    successResultOf(endpoint.listen(inner));
    assert.equal(reactor.tcpServers[0]?.[1], outer);
  });

  describe("with a port that binds later (whenListening)", () => {
    class SlowPort implements IListeningPort {
      readonly ready = new Deferred<SlowPort>();
      stopped = 0;
      startListening(): void {}
      stopListening() {
        this.stopped++;
        return succeed(undefined);
      }
      getHost() {
        return new IPv4Address("TCP", "127.0.0.1", 4321);
      }
      whenListening(): Deferred<SlowPort> {
        const d = new Deferred<SlowPort>();
        this.ready.addBoth((r) => {
          if (r instanceof Failure) d.errback(r);
          else d.callback(r);
          return null;
        });
        return d;
      }
    }
    const reactorWith = (port: SlowPort) => ({
      listenTCP: () => port,
      connectTCP: () => assert.fail(),
    });

    test("fires only once the port listens", () => {
      const port = new SlowPort();
      const d = new TCP4ServerEndpoint(reactorWith(port), 0).listen(new Factory());
      assertNoResult(d);
      port.ready.callback(port);
      assert.equal(successResultOf(d), port);
    });

    test("fails with the port's CannotListenError", () => {
      const port = new SlowPort();
      const d = new TCP4ServerEndpoint(reactorWith(port), 80).listen(new Factory());
      port.ready.errback(new CannotListenError("", 80, { cause: new Error("EADDRINUSE") }));
      failureResultOf(d, CannotListenError);
    });

    test("cancelling before then stops the port", () => {
      const port = new SlowPort();
      const d = new TCP4ServerEndpoint(reactorWith(port), 0).listen(new Factory());
      d.cancel();
      failureResultOf(d, CancelledError);
      assert.equal(port.stopped, 1);
      port.ready.errback(new CannotListenError("", 0));
    });
  });
});

describe("client endpoints", () => {
  test("TCP4ClientEndpoint connects with the host, port, timeout and bind address", () => {
    const reactor = new MemoryReactorClock();
    new TCP4ClientEndpoint(reactor, "example.com", 80, 7, ["10.0.0.2", 0]).connect(new Factory());
    const [host, port, , timeout, bindAddress] = reactor.tcpClients[0] ?? [];
    assert.deepEqual([host, port, timeout, bindAddress], ["example.com", 80, 7, ["10.0.0.2", 0]]);
  });

  test("fires with the factory's protocol once its connectionMade has run", () => {
    const reactor = new MemoryReactorClock();
    const factory = new CountingFactory();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(factory);
    assertNoResult(d);
    assert.equal(factory.starts, 1);
    reactor.completeConnection(0);
    const proto = successResultOf(d) as Recorder;
    assert.ok(proto instanceof Recorder);
    assert.equal(proto.made, 1);
    assert.equal(proto.factory, factory);
    assert.ok(proto.transport !== null);
  });

  test("passes data and the connection's end to the protocol", () => {
    const reactor = new MemoryReactorClock();
    const factory = new CountingFactory();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(factory);
    const wrapper = reactor.completeConnection(0) as IProtocol;
    wrapper.dataReceived(Buffer.from("hello"));
    reactor.connectionLost(0);
    const proto = successResultOf(d) as Recorder;
    assert.deepEqual(proto.received, ["hello"]);
    assert.ok(proto.lost[0]?.check(ConnectionDone));
    assert.equal(factory.stops, 1);
  });

  test("offers half-close to the transport only when the protocol handles it", () => {
    const reactor = new MemoryReactorClock();
    const plain = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80);
    plain.connect(Factory.forProtocol(Recorder));
    plain.connect(Factory.forProtocol(HalfCloser));
    const first = reactor.completeConnection(0) as { readConnectionLost?: () => void };
    const second = reactor.completeConnection(1) as { readConnectionLost?: () => void };
    assert.equal(first.readConnectionLost, undefined);
    second.readConnectionLost?.();
    const halfCloser = (second as unknown as { wrappedProtocol: HalfCloser }).wrappedProtocol;
    assert.equal(halfCloser.readEOF, 1);
  });

  test("a refused connection fails with ConnectionRefusedError and stops the factory", () => {
    const reactor = new MemoryReactorClock();
    const factory = new CountingFactory();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(factory);
    reactor.failConnection(0, new ConnectionRefusedError());
    failureResultOf(d, ConnectionRefusedError);
    assert.equal(factory.stops, 1);
    assertNothingPending(reactor);
  });

  test("a connection timeout fails with TimeoutError", () => {
    const reactor = new MemoryReactorClock();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(new Factory());
    reactor.failConnection(0, new TimeoutError());
    failureResultOf(d, TimeoutError);
  });

  test("cancelling while connecting stops the connector and fails with ConnectingCancelledError", () => {
    const reactor = new MemoryReactorClock();
    const factory = new CountingFactory();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(factory);
    d.cancel();
    const f = failureResultOf(d, ConnectingCancelledError);
    assert.ok((f.value as ConnectingCancelledError).address instanceof IPv4Address);
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    assert.equal(factory.stops, 1);
    assertNothingPending(reactor);
  });

  test("a factory that builds no protocol fails the connection with NoProtocol", () => {
    const reactor = new MemoryReactorClock();
    const factory: IProtocolFactory = { doStart() {}, doStop() {}, buildProtocol: () => null };
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(factory);
    reactor.completeConnection(0);
    failureResultOf(d, NoProtocol);
    assert.equal(reactor.connectors[0]?.transport?.disconnecting, true);
  });

  test("an error raised by buildProtocol or connectionMade fails the connection with it", () => {
    const reactor = new MemoryReactorClock();
    const boom = new Error("boom");
    const building: IProtocolFactory = {
      doStart() {},
      doStop() {},
      buildProtocol: () => {
        throw boom;
      },
    };
    const d1 = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(building);
    reactor.completeConnection(0);
    assert.equal(failureResultOf(d1).value, boom);
    class Failing extends Protocol {
      override connectionMade(): void {
        throw boom;
      }
    }
    const d2 = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(
      Factory.forProtocol(Failing),
    );
    assert.throws(() => reactor.completeConnection(1), /boom/);
    assert.equal(failureResultOf(d2).value, boom);
  });

  test("a connectTCP that raises fails the Deferred", () => {
    const reactor = {
      listenTCP: () => assert.fail(),
      connectTCP: () => {
        throw new Error("no network");
      },
    };
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 80).connect(new Factory());
    assert.match(failureResultOf(d).getErrorMessage(), /no network/);
  });

  test("UNIXClientEndpoint and SSL4ClientEndpoint connect with their arguments", () => {
    const reactor = new MemoryReactorClock();
    new UNIXClientEndpoint(reactor, "/tmp/s.sock", 4).connect(new Factory());
    assert.deepEqual(
      [reactor.unixClients[0]?.[0], reactor.unixClients[0]?.[2]],
      ["/tmp/s.sock", 4],
    );
    const options = optionsForClientTLS("example.com");
    const d = new SSL4ClientEndpoint(reactor, "example.com", 443, options, 9).connect(
      Factory.forProtocol(Recorder),
    );
    const [host, port, , tls, timeout] = reactor.sslClients[0] ?? [];
    assert.deepEqual([host, port, tls, timeout], ["example.com", 443, options, 9]);
    reactor.completeConnection(1);
    assert.equal((successResultOf(d) as Recorder).made, 1);
  });

  test("TCP6ClientEndpoint connects to the first IPv6 address of a name", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new TCP6ClientEndpoint(reactor, "dual.test", 80);
    endpoint.resolver = () =>
      succeed([
        { address: "192.0.2.1", family: 4 as const },
        { address: "2001:db8::1", family: 6 as const },
      ]);
    endpoint.connect(new Factory());
    assert.equal(reactor.tcpClients[0]?.[0], "2001:db8::1");
  });

  test("TCP6ClientEndpoint fails with DNSLookupError for a name without IPv6 address", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new TCP6ClientEndpoint(reactor, "v4only.test", 80);
    endpoint.resolver = () => succeed([{ address: "192.0.2.1", family: 4 as const }]);
    failureResultOf(endpoint.connect(new Factory()), DNSLookupError);
    assert.equal(reactor.tcpClients.length, 0);
  });

  test("TCP6ClientEndpoint connects to an IPv6 literal without resolving it", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new TCP6ClientEndpoint(reactor, "::1", 80);
    endpoint.resolver = () => assert.fail("resolved a literal");
    endpoint.connect(new Factory());
    assert.equal(reactor.tcpClients[0]?.[0], "::1");
  });

  test("cancelling TCP6ClientEndpoint during resolution leaves nothing connecting", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new TCP6ClientEndpoint(reactor, "slow.test", 80);
    const answer = new Deferred<{ address: string; family: 6 }[]>();
    endpoint.resolver = () => answer;
    const d = endpoint.connect(new Factory());
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.equal(reactor.tcpClients.length, 0);
  });
});

describe("wrapClientTLS", () => {
  const options = optionsForClientTLS("example.com");

  function setUp() {
    const reactor = new MemoryReactorClock();
    const endpoint = wrapClientTLS(options, new TCP4ClientEndpoint(reactor, "127.0.0.1", 443));
    const d = endpoint.connect(Factory.forProtocol(Recorder));
    return { reactor, d };
  }

  test("starts TLS as a client once connected, and connects the protocol after the handshake", () => {
    const { reactor, d } = setUp();
    const wrapper = reactor.completeConnection(0) as unknown as IHandshakeListener & IProtocol;
    const transport = reactor.connectors[0]?.transport as StringTransport;
    assert.equal(transport.TLS, true);
    assert.equal(transport.tlsOptions?.servername, "example.com");
    assert.equal(transport.tlsOptions?.isServer, false);
    assertNoResult(d);
    wrapper.handshakeCompleted();
    const proto = successResultOf(d) as Recorder;
    assert.equal(proto.made, 1);
    assert.equal(proto.transport, transport);
    wrapper.dataReceived(Buffer.from("secret"));
    assert.deepEqual(proto.received, ["secret"]);
  });

  test("a connection lost during the handshake fails with SSLError", () => {
    const { reactor, d } = setUp();
    reactor.completeConnection(0);
    reactor.connectionLost(
      0,
      new ConnectionLost("lost", { cause: new Error("certificate has expired") }),
    );
    const f = failureResultOf(d, SSLError);
    assert.match(f.getErrorMessage(), /TLS handshake failed: certificate has expired/);
  });

  test("a failed TCP connection fails with its error", () => {
    const { reactor, d } = setUp();
    reactor.failConnection(0);
    failureResultOf(d, ConnectionRefusedError);
  });

  test("cancelling while connecting stops the connector", () => {
    const { reactor, d } = setUp();
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assertNothingPending(reactor);
  });

  test("cancelling during the handshake aborts the connection", () => {
    const { reactor, d } = setUp();
    reactor.completeConnection(0);
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.equal(reactor.connectors[0]?.transport?.aborted, true);
  });
});

describe("connectProtocol", () => {
  test("connects the given protocol and fires with it", () => {
    const reactor = new MemoryReactorClock();
    const proto = new Recorder();
    const d = connectProtocol(new TCP4ClientEndpoint(reactor, "127.0.0.1", 80), proto);
    reactor.completeConnection(0);
    assert.equal(successResultOf(d), proto);
    assert.equal(proto.made, 1);
  });

  test("cancelling it stops the connection attempt", () => {
    const reactor = new MemoryReactorClock();
    const d = connectProtocol(new TCP4ClientEndpoint(reactor, "127.0.0.1", 80), new Recorder());
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assertNothingPending(reactor);
  });
});
