import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IPv4Address, IPv6Address, UNIXAddress } from "../../src/internet/address.js";
import {
  CannotListenError,
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  NotConnectingError,
  ReactorNotRunning,
} from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IAddress, IConnector } from "../../src/internet/interfaces.js";
import {
  ClientFactory,
  DatagramProtocol,
  Factory,
  Protocol,
  ReconnectingClientFactory,
} from "../../src/internet/protocol.js";
import {
  AccumulatingProtocol,
  failureResultOf,
  type MemoryListeningPort,
  MemoryReactor,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from "../../src/testing/index.js";

class Greeter extends Protocol {
  override connectionMade(): void {
    this.transport!.write("HELLO\r\n");
  }
}

class RecordingClientFactory extends ClientFactory<Greeter> {
  override protocol = Greeter;
  events: string[] = [];
  reasons: Failure[] = [];
  override startFactory(): void {
    this.events.push("startFactory");
  }
  override stopFactory(): void {
    this.events.push("stopFactory");
  }
  override startedConnecting(connector: IConnector): void {
    this.events.push("startedConnecting");
  }
  override buildProtocol(addr: IAddress): Greeter | null {
    this.events.push("buildProtocol");
    return super.buildProtocol(addr);
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.events.push("clientConnectionFailed");
    this.reasons.push(reason);
  }
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.events.push("clientConnectionLost");
    this.reasons.push(reason);
  }
}

describe("MemoryReactor: listening", () => {
  test("listenTCP records (port, factory, backlog, interface) and returns a port", () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = reactor.listenTCP(8080, factory, 10, "127.0.0.1");
    assert.deepEqual(reactor.tcpServers, [[8080, factory, 10, "127.0.0.1"]]);
    assert.ok((port.getHost() as IPv4Address).equals(new IPv4Address("TCP", "127.0.0.1", 8080)));
    assert.equal(reactor.ports[0], port);
  });

  test("listenTCP defaults: backlog 50, all interfaces", () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = reactor.listenTCP(80, factory);
    assert.deepEqual(reactor.tcpServers[0], [80, factory, 50, ""]);
    assert.equal((port.getHost() as IPv4Address).host, "0.0.0.0");
  });

  test("listening on port 0 reports an assigned port", () => {
    const reactor = new MemoryReactor();
    const a = reactor.listenTCP(0, Factory.forProtocol(Protocol));
    const b = reactor.listenTCP(0, Factory.forProtocol(Protocol), 50, "::1");
    const pa = (a.getHost() as IPv4Address).port;
    assert.ok(pa > 0);
    assert.ok(b.getHost() instanceof IPv6Address);
    assert.notEqual((b.getHost() as IPv6Address).port, pa);
    assert.equal(reactor.tcpServers[0]![0], 0);
  });

  test("the port starts its factory, and stopListening stops it and records disconnected", () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const port = reactor.listenTCP(80, factory);
    assert.equal(factory.numPorts, 1);
    const d = port.stopListening();
    assert.equal(port.disconnected, true);
    assert.equal(factory.numPorts, 0);
    assert.equal(successResultOf(d), undefined);
    port.stopListening();
    assert.equal(factory.numPorts, 0);
  });

  test("listening on a busy port raises CannotListenError", () => {
    const reactor = new MemoryReactor();
    reactor.busyPorts.add(8080);
    assert.throws(() => reactor.listenTCP(8080, Factory.forProtocol(Protocol)), CannotListenError);
    assert.throws(
      () => reactor.listenSSL(8080, Factory.forProtocol(Protocol), { key: "k", cert: "c" }),
      /Couldn't listen on any:8080: Address already in use/,
    );
    assert.deepEqual(reactor.tcpServers, []);
    reactor.busyPorts.add("/run/app.sock");
    assert.throws(() => reactor.listenUNIX("/run/app.sock", Factory.forProtocol(Protocol)));
  });

  test("acceptConnection builds a server protocol connected to a StringTransport", () => {
    const reactor = new MemoryReactor();
    const port = reactor.listenTCP(25, Factory.forProtocol(Greeter));
    const proto = port.acceptConnection<Greeter>()!;
    const tr = proto.transport as StringTransport;
    assert.equal(tr.value().toString(), "HELLO\r\n");
    assert.equal(tr.getHost(), port.getHost());
    assert.equal(port.transports[0], tr);
  });

  test("listenSSL and listenUNIX are recorded; their connections are TLS / Unix", () => {
    const reactor = new MemoryReactor();
    const factory = Factory.forProtocol(Protocol);
    const options = { key: "KEY", cert: "CERT" };
    const ssl = reactor.listenSSL(443, factory, options);
    const unix = reactor.listenUNIX("/tmp/s", factory, 5, 0o600);
    assert.deepEqual(reactor.sslServers, [[443, factory, options, 50, ""]]);
    assert.deepEqual(reactor.unixServers, [["/tmp/s", factory, 5, 0o600]]);
    const tlsTransport = ssl.acceptConnection<Protocol>()!.transport as StringTransport;
    assert.equal(tlsTransport.TLS, true);
    assert.equal(tlsTransport.tlsOptions, options);
    assert.ok(unix.getHost() instanceof UNIXAddress);
  });

  test("a port whose factory refuses a connection loses it", () => {
    const reactor = new MemoryReactor();
    const factory = new Factory();
    factory.buildProtocol = () => null;
    const port = reactor.listenTCP(80, factory) as MemoryListeningPort;
    assert.equal(port.acceptConnection(), null);
    assert.equal(port.transports[0]!.disconnecting, true);
  });

  test("listenUDP records the call and starts the protocol on a fake port", () => {
    const reactor = new MemoryReactor();
    const received: string[] = [];
    class UDPEcho extends DatagramProtocol {
      started = false;
      override startProtocol(): void {
        this.started = true;
      }
      override datagramReceived(data: Buffer, addr: readonly [string, number]): void {
        received.push(data.toString());
        this.transport!.write(data, addr);
      }
    }
    const proto = new UDPEcho();
    const port = reactor.listenUDP(5353, proto);
    assert.deepEqual(reactor.udpPorts, [[5353, proto, "", 8192]]);
    assert.equal(proto.started, true);
    port.receiveDatagram("ping", ["10.1.1.1", 999]);
    assert.deepEqual(received, ["ping"]);
    assert.equal(port.written[0]![0].toString(), "ping");
    assert.deepEqual(port.written[0]![1], ["10.1.1.1", 999]);
    port.stopListening();
    assert.equal(port.disconnected, true);
  });

  test("a connected UDP port refuses datagrams to another address", () => {
    const reactor = new MemoryReactor();
    const port = reactor.listenUDP(0, new DatagramProtocol());
    assert.throws(() => port.write("x"), /not connected/);
    port.connect("10.0.0.9", 53);
    port.write("x");
    assert.throws(() => port.write("x", ["10.0.0.8", 53]), /connected to 10.0.0.9:53/);
  });
});

describe("MemoryReactor: connecting", () => {
  test("connectTCP records (host, port, factory, timeout, bindAddress) and starts connecting", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    const connector = reactor.connectTCP("example.com", 80, factory, 5, ["0.0.0.0", 0]);
    assert.deepEqual(reactor.tcpClients, [["example.com", 80, factory, 5, ["0.0.0.0", 0]]]);
    assert.equal(connector.state, "connecting");
    assert.deepEqual(factory.events, ["startFactory", "startedConnecting"]);
    const dest = connector.getDestination() as IPv4Address;
    assert.equal(dest.host, "example.com");
    assert.equal(dest.port, 80);
  });

  test("completeConnection builds the protocol with the factory and attaches a StringTransport", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    reactor.connectTCP("127.0.0.1", 6667, factory);
    const proto = reactor.completeConnection<Greeter>(0)!;
    assert.ok(proto instanceof Greeter);
    const tr = proto.transport as StringTransport;
    assert.equal(tr.value().toString(), "HELLO\r\n");
    assert.ok((tr.getPeer() as IPv4Address).equals(new IPv4Address("TCP", "127.0.0.1", 6667)));
    assert.equal(reactor.connectors[0]!.state, "connected");
    assert.equal(reactor.connectors[0]!.transport, tr);
  });

  test("completeConnection uses a given transport", () => {
    const reactor = new MemoryReactor();
    reactor.connectTCP("::1", 80, new RecordingClientFactory());
    const tr = new StringTransport();
    const proto = reactor.completeConnection(-1, tr)!;
    assert.equal((proto as Greeter).transport, tr);
    assert.ok(reactor.connectors[0]!.getDestination() instanceof IPv6Address);
  });

  test("failConnection gives the factory clientConnectionFailed with the reason, then stops it", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    const connector = reactor.connectTCP("10.0.0.5", 80, factory);
    reactor.failConnection(0);
    assert.deepEqual(factory.events, [
      "startFactory",
      "startedConnecting",
      "clientConnectionFailed",
      "stopFactory",
    ]);
    assert.ok(factory.reasons[0]!.check(ConnectionRefusedError));
    assert.equal(connector.state, "disconnected");
    assert.throws(() => reactor.completeConnection(0), /connector is disconnected/);
  });

  test("failConnection passes a given reason", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    reactor.connectTCP("nowhere.invalid", 80, factory);
    reactor.failConnection(0, new DNSLookupError());
    assert.ok(factory.reasons[0]!.check(DNSLookupError));
  });

  test("connectionLost reaches the protocol and then the factory's clientConnectionLost", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    factory.buildProtocol = () => new AccumulatingProtocol() as unknown as Greeter;
    reactor.connectTCP("10.0.0.5", 80, factory);
    const proto = reactor.completeConnection<AccumulatingProtocol>(0)!;
    reactor.connectionLost(0, new ConnectionLost());
    assert.equal(proto.closed, true);
    assert.ok(proto.closedReason!.check(ConnectionLost));
    assert.ok(factory.reasons[0]!.check(ConnectionLost));
    assert.deepEqual(factory.events.slice(-2), ["clientConnectionLost", "stopFactory"]);
    assert.equal((proto.transport as StringTransport).disconnected, true);
  });

  test("connectionLost defaults to ConnectionDone and needs a live connection", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    reactor.connectTCP("10.0.0.5", 80, factory);
    assert.throws(() => reactor.connectionLost(0), /connector is connecting/);
    reactor.completeConnection(0);
    reactor.connectionLost(0);
    assert.ok(factory.reasons[0]!.check(ConnectionDone));
  });

  test("stopConnecting fails the attempt with ConnectingCancelledError", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    const connector = reactor.connectTCP("10.0.0.5", 80, factory);
    connector.stopConnecting();
    assert.equal(connector.stoppedConnecting, true);
    assert.ok(factory.reasons[0]!.check(ConnectingCancelledError));
    assert.throws(() => connector.stopConnecting(), NotConnectingError);
  });

  test("disconnect on a live connection loses the transport", () => {
    const reactor = new MemoryReactor();
    const connector = reactor.connectTCP("10.0.0.5", 80, new RecordingClientFactory());
    reactor.completeConnection(connector);
    connector.disconnect();
    assert.equal(connector.disconnected, true);
    assert.equal(connector.transport!.disconnecting, true);
  });

  test("a refused client connection returns null and loses the transport", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    factory.buildProtocol = () => null;
    const connector = reactor.connectTCP("10.0.0.5", 80, factory);
    assert.equal(reactor.completeConnection(0), null);
    assert.equal(connector.transport!.disconnecting, true);
  });

  test("connectSSL and connectUNIX are recorded; SSL connections are marked TLS", () => {
    const reactor = new MemoryReactor();
    const factory = new RecordingClientFactory();
    reactor.connectSSL("example.com", 443, factory, { servername: "example.com" });
    reactor.connectUNIX("/run/app.sock", factory);
    assert.deepEqual(reactor.sslClients, [
      ["example.com", 443, factory, { servername: "example.com" }, 30, undefined],
    ]);
    assert.deepEqual(reactor.unixClients, [["/run/app.sock", factory, 30]]);
    const tls = reactor.completeConnection<Greeter>(0)!.transport as StringTransport;
    assert.equal(tls.TLS, true);
    assert.deepEqual(tls.tlsOptions, { servername: "example.com" });
    const unix = reactor.completeConnection<Greeter>(1)!.transport as StringTransport;
    assert.ok(unix.getPeer() instanceof UNIXAddress);
  });

  test("an unknown connector index raises a RangeError", () => {
    assert.throws(() => new MemoryReactor().completeConnection(0), RangeError);
  });
});

describe("MemoryReactor: core", () => {
  test("run records hasRun and runs callWhenRunning calls; stop records hasStopped", async () => {
    const reactor = new MemoryReactor();
    const calls: string[] = [];
    reactor.callWhenRunning((x: string) => calls.push(x), "before");
    const done = reactor.run();
    assert.equal(reactor.hasRun, true);
    assert.equal(reactor.running, true);
    reactor.callWhenRunning((x: string) => calls.push(x), "while");
    assert.deepEqual(calls, ["before", "while"]);
    assert.equal(reactor.whenRunningHooks.length, 2);
    reactor.stop();
    await done;
    assert.equal(reactor.hasStopped, true);
    assert.throws(() => reactor.stop(), ReactorNotRunning);
  });

  test("system event triggers are recorded and run by fireSystemEvent, phase by phase", () => {
    const reactor = new MemoryReactor();
    const calls: string[] = [];
    reactor.addSystemEventTrigger("after", "shutdown", () => calls.push("after"));
    reactor.addSystemEventTrigger("before", "shutdown", (x: string) => calls.push(x), "before");
    const id = reactor.addSystemEventTrigger("during", "shutdown", () => calls.push("removed"));
    assert.equal(reactor.triggers.before.shutdown!.length, 1);
    reactor.removeSystemEventTrigger(id);
    reactor.fireSystemEvent("shutdown");
    assert.deepEqual(calls, ["before", "after"]);
    assert.equal(reactor.triggers.before.shutdown, undefined);
    assert.throws(() => reactor.removeSystemEventTrigger(id), /Unknown system event trigger/);
  });

  test("resolve uses the hosts map, passes IP literals through and fails for unknown names", () => {
    const reactor = new MemoryReactor();
    reactor.hosts.set("example.com", "93.184.216.34");
    assert.equal(successResultOf(reactor.resolve("example.com")), "93.184.216.34");
    assert.equal(successResultOf(reactor.resolve("localhost")), "127.0.0.1");
    assert.equal(successResultOf(reactor.resolve("::1")), "::1");
    failureResultOf(reactor.resolve("nowhere.invalid"), DNSLookupError);
  });
});

describe("MemoryReactorClock", () => {
  test("callLater runs on the fake clock when advanced", () => {
    const reactor = new MemoryReactorClock();
    const calls: number[] = [];
    reactor.callLater(2, (n: number) => calls.push(n), 7);
    assert.equal(reactor.getDelayedCalls().length, 1);
    reactor.advance(1.5);
    assert.deepEqual(calls, []);
    reactor.pump([0.25, 0.25]);
    assert.deepEqual(calls, [7]);
    assert.equal(reactor.seconds(), 2);
    assert.equal(reactor.rightNow, 2);
  });

  test("a ReconnectingClientFactory retries on the fake clock after a failed connection", () => {
    const reactor = new MemoryReactorClock();
    const factory = new ReconnectingClientFactory();
    factory.protocol = Protocol;
    factory.clock = reactor;
    factory.jitter = 0;
    const connector = reactor.connectTCP("example.com", 80, factory);
    reactor.failConnection(0);
    assert.equal(connector.state, "disconnected");
    assert.equal(reactor.getDelayedCalls().length, 1);
    reactor.advance(factory.delay);
    assert.equal(connector.state, "connecting");
    assert.equal(connector.connectAttempts, 2);
    assert.equal(factory.numPorts, 1);
    factory.stopTrying();
    assert.equal(factory.numPorts, 0);
  });
});
