// Loopback tests of UDP and multicast ports (listenUDP, listenMulticast) on a real reactor.

import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { afterEach, describe, test } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { MulticastJoinError, type MulticastPort, type UDPPort } from "../../src/internet/_udp.js";
import { IPv4Address, IPv6Address } from "../../src/internet/address.js";
import { CannotListenError } from "../../src/internet/error.js";
import { DatagramProtocol } from "../../src/internet/protocol.js";

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

class Recorder extends DatagramProtocol {
  readonly received: [Buffer, readonly [string, number]][] = [];
  started = 0;
  stopped = 0;
  refused = 0;
  private waiters: (() => void)[] = [];
  readonly startedSignal = signal();
  readonly refusedSignal = signal();

  override startProtocol(): void {
    this.started++;
    this.startedSignal.resolve();
  }
  override stopProtocol(): void {
    this.stopped++;
  }
  override datagramReceived(data: Buffer, addr: readonly [string, number]): void {
    this.received.push([Buffer.from(data), addr]);
    for (const w of this.waiters.splice(0)) w();
  }
  override connectionRefused(): void {
    this.refused++;
    this.refusedSignal.resolve();
  }
  /** Resolves once `n` datagrams have arrived. */
  async waitFor(n: number): Promise<void> {
    while (this.received.length < n) {
      await within(`datagram #${n}`, new Promise<void>((r) => this.waiters.push(r)));
    }
  }
}

class Echo extends Recorder {
  override datagramReceived(data: Buffer, addr: readonly [string, number]): void {
    super.datagramReceived(data, addr);
    this.transport?.write(data, addr);
  }
}

const ports: (UDPPort | MulticastPort)[] = [];
afterEach(async () => {
  await Promise.all(ports.splice(0).map((p) => within("stopListening", p.stopListening())));
});

function track<P extends UDPPort | MulticastPort>(p: P): P {
  ports.push(p);
  return p;
}

for (const [family, host, AddressClass] of [
  ["IPv4", "127.0.0.1", IPv4Address],
  ["IPv6", "::1", IPv6Address],
] as const) {
  describe(`UDP over ${family} (${host})`, () => {
    test("a datagram sent to an echo port comes back from that port", async () => {
      const reactor = new NodeReactor();
      const server = new Echo();
      const client = new Recorder();
      const sp = track(reactor.listenUDP(0, server, host) as UDPPort);
      const cp = track(reactor.listenUDP(0, client, host) as UDPPort);
      await within("listening", Promise.all([sp.whenListening(), cp.whenListening()]));
      const serverAddr = sp.getHost();
      assert.ok(serverAddr instanceof AddressClass);
      assert.equal(serverAddr.type, "UDP");
      assert.equal(serverAddr.host, host);
      assert.notEqual(serverAddr.port, 0);
      client.transport!.write("hello", [host, serverAddr.port]);
      await client.waitFor(1);
      assert.equal(client.received[0]![0].toString(), "hello");
      assert.deepEqual(client.received[0]![1], [host, serverAddr.port]);
      assert.deepEqual(server.received[0]![1], [host, cp.getHost().port]);
    });
  });
}

describe("UDP port lifecycle", () => {
  test("makeConnection (startProtocol) runs once the port is bound, and whenListening fires with the port", async () => {
    const reactor = new NodeReactor();
    const proto = new Recorder();
    const port = track(reactor.listenUDP(0, proto, "127.0.0.1") as UDPPort);
    assert.equal(proto.started, 0, "listenUDP returns before the port is bound");
    assert.equal(port.getHost().port, 0, "before listening getHost reports the port asked for");
    const result = await within("whenListening", port.whenListening());
    assert.equal(result, port);
    assert.equal(proto.started, 1);
    assert.equal(proto.transport, port);
    assert.equal(port.connected, true);
  });

  test("a datagram written before the port is bound is sent once it is", async () => {
    const reactor = new NodeReactor();
    const server = new Recorder();
    const sp = track(reactor.listenUDP(0, server, "127.0.0.1") as UDPPort);
    await within("server listening", sp.whenListening());
    const cp = track(reactor.listenUDP(0, new Recorder(), "127.0.0.1") as UDPPort);
    cp.write("early", ["127.0.0.1", sp.getHost().port]);
    await server.waitFor(1);
    assert.equal(server.received[0]![0].toString(), "early");
  });

  test("stopListening closes the socket, calls doStop (stopProtocol) and fires its Deferred", async () => {
    const reactor = new NodeReactor();
    const proto = new Recorder();
    const port = reactor.listenUDP(0, proto, "127.0.0.1") as UDPPort;
    await within("whenListening", port.whenListening());
    const portNumber = port.getHost().port;
    await within("stopListening", port.stopListening());
    assert.equal(proto.stopped, 1);
    assert.equal(proto.transport, null);
    assert.equal(port.connected, false);
    // The port number is free again.
    const again = track(reactor.listenUDP(portNumber, new Recorder(), "127.0.0.1") as UDPPort);
    await within("re-listen", again.whenListening());
    // A second stopListening fires at once.
    await within("second stopListening", port.stopListening());
    assert.equal(proto.stopped, 1);
  });

  test("a port that is already in use fails whenListening with CannotListenError", async () => {
    const reactor = new NodeReactor();
    const first = track(reactor.listenUDP(0, new Recorder(), "127.0.0.1") as UDPPort);
    await within("first", first.whenListening());
    const proto = new Recorder();
    const second = reactor.listenUDP(first.getHost().port, proto, "127.0.0.1") as UDPPort;
    const f = await within(
      "failure",
      second.whenListening().then(
        () => null,
        (e: unknown) => e,
      ),
    );
    assert.ok(f instanceof CannotListenError, String(f));
    assert.equal(proto.started, 0);
    await within("stop failed port", second.stopListening());
  });

  test("an exception in datagramReceived is logged and the port keeps receiving", async () => {
    const reactor = new NodeReactor();
    class Buggy extends Recorder {
      override datagramReceived(data: Buffer, addr: readonly [string, number]): void {
        super.datagramReceived(data, addr);
        if (data.toString() === "boom") throw new Error("Buggy protocol");
      }
    }
    const proto = new Buggy();
    const port = track(reactor.listenUDP(0, proto, "127.0.0.1") as UDPPort);
    await within("listening", port.whenListening());
    const sender = createSocket("udp4");
    try {
      sender.send("boom", port.getHost().port, "127.0.0.1");
      await proto.waitFor(1);
      sender.send("after", port.getHost().port, "127.0.0.1");
      await proto.waitFor(2);
      assert.equal(proto.received[1]![0].toString(), "after");
    } finally {
      sender.close();
    }
  });

  test("datagrams longer than maxPacketSize are truncated to maxPacketSize bytes", async () => {
    const reactor = new NodeReactor();
    const proto = new Recorder();
    const port = track(reactor.listenUDP(0, proto, "127.0.0.1", 16) as UDPPort);
    await within("listening", port.whenListening());
    const sender = createSocket("udp4");
    try {
      sender.send(Buffer.alloc(100, "x"), port.getHost().port, "127.0.0.1");
      await proto.waitFor(1);
      assert.equal(proto.received[0]![0].length, 16);
    } finally {
      sender.close();
    }
  });

  test("write to a host name (not an IP address) raises", async () => {
    const reactor = new NodeReactor();
    const proto = new Recorder();
    const port = track(reactor.listenUDP(0, proto, "127.0.0.1") as UDPPort);
    await within("listening", port.whenListening());
    assert.throws(() => port.write("x", ["localhost", 9]), /IP address/);
    assert.throws(() => port.write("x"), /not connected/);
  });

  test("setBroadcastAllowed is remembered and applied to the socket", async () => {
    const reactor = new NodeReactor();
    const port = track(reactor.listenUDP(0, new Recorder(), "127.0.0.1") as UDPPort);
    assert.equal(port.getBroadcastAllowed(), false);
    port.setBroadcastAllowed(true);
    await within("listening", port.whenListening());
    assert.equal(port.getBroadcastAllowed(), true);
    port.setBroadcastAllowed(false);
    assert.equal(port.getBroadcastAllowed(), false);
  });

  test("reactor.stop() stops listening and calls doStop", async () => {
    const reactor = new NodeReactor();
    reactor.installSignalHandlers = false;
    const proto = new Recorder();
    const done = reactor.run();
    const port = reactor.listenUDP(0, proto, "127.0.0.1") as UDPPort;
    await within("listening", port.whenListening());
    reactor.stop();
    await within("reactor stop", done);
    await within("port stopped", port.stopListening());
    assert.equal(proto.stopped, 1);
  });
});

describe("connected UDP", () => {
  test("after connect, write(data) without an address goes to the peer", async () => {
    const reactor = new NodeReactor();
    const server = new Echo();
    const client = new Recorder();
    const sp = track(reactor.listenUDP(0, server, "127.0.0.1") as UDPPort);
    const cp = track(reactor.listenUDP(0, client, "127.0.0.1") as UDPPort);
    await within("listening", Promise.all([sp.whenListening(), cp.whenListening()]));
    cp.connect("127.0.0.1", sp.getHost().port);
    cp.write("ping");
    await client.waitFor(1);
    assert.equal(client.received[0]![0].toString(), "ping");
    assert.throws(() => cp.write("x", ["127.0.0.1", 1]), /connected to another peer/);
    assert.throws(() => cp.connect("127.0.0.1", 1), /already connected/);
  });

  test("datagrams to a closed port make the kernel's ICMP refusal call connectionRefused", async () => {
    const reactor = new NodeReactor();
    // Find a free port, then close it so that nobody listens there.
    const probe = createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "127.0.0.1", r));
    const closedPort = probe.address().port;
    await new Promise<void>((r) => probe.close(r));

    const client = new Recorder();
    const cp = track(reactor.listenUDP(0, client, "127.0.0.1") as UDPPort);
    await within("listening", cp.whenListening());
    cp.connect("127.0.0.1", closedPort);
    cp.write("anyone?");
    // The refusal is noticed on the next socket operation; keep sending until it is.
    const timer = setInterval(() => cp.write("anyone?"), 50);
    try {
      await within("connectionRefused", client.refusedSignal.promise);
    } finally {
      clearInterval(timer);
    }
    assert.ok(client.refused >= 1);
  });
});

describe("multicast", () => {
  test("TTL, loopback mode and outgoing interface are remembered", async () => {
    const reactor = new NodeReactor();
    const port = track(reactor.listenMulticast(0, new Recorder()) as MulticastPort);
    assert.equal(port.getTTL(), 1);
    assert.equal(port.getLoopbackMode(), true);
    assert.equal(port.getOutgoingInterface(), "0.0.0.0");
    port.setTTL(4);
    port.setLoopbackMode(false);
    await within("listening", port.whenListening());
    await within("setOutgoingInterface", port.setOutgoingInterface("127.0.0.1"));
    assert.equal(port.getTTL(), 4);
    assert.equal(port.getLoopbackMode(), false);
    assert.equal(port.getOutgoingInterface(), "127.0.0.1");
    assert.throws(() => port.setTTL(300), RangeError);
  });

  test("joining a non-multicast address fails with MulticastJoinError", async () => {
    const reactor = new NodeReactor();
    const port = track(reactor.listenMulticast(0, new Recorder()) as MulticastPort);
    const f = await within(
      "joinGroup failure",
      port.joinGroup("127.0.0.1", "127.0.0.1").then(
        () => null,
        (e: unknown) => e,
      ),
    );
    assert.ok(f instanceof MulticastJoinError, String(f));
  });

  test("a port joined to a group on 127.0.0.1 receives its own datagram with loopback on", async (t) => {
    const reactor = new NodeReactor();
    const group = "239.255.42.99";
    const proto = new Recorder();
    const port = track(reactor.listenMulticast(0, proto, "", 8192, true) as MulticastPort);
    await within("listening", port.whenListening());
    port.setLoopbackMode(true);
    // Send and receive on lo: there is no multicast route on lo in most containers, so the
    // group is joined on 127.0.0.1 and sent from 127.0.0.1 explicitly.
    await within("joinGroup", port.joinGroup(group, "127.0.0.1"));
    await within("setOutgoingInterface", port.setOutgoingInterface("127.0.0.1"));
    port.write("to the group", [group, port.getHost().port]);
    try {
      await proto.waitFor(1);
    } catch (e) {
      assert.fail(
        `Multicast loopback on 127.0.0.1 does not work on this machine: no datagram came back (${String(e)})`,
      );
    }
    assert.equal(proto.received[0]![0].toString(), "to the group");
    await within("leaveGroup", port.leaveGroup(group, "127.0.0.1"));
  });

  test("with listenMultiple two ports share one port number and both get the group's datagrams", async () => {
    const reactor = new NodeReactor();
    const group = "239.255.42.100";
    const a = new Recorder();
    const b = new Recorder();
    const pa = track(reactor.listenMulticast(0, a, "", 8192, true) as MulticastPort);
    await within("a listening", pa.whenListening());
    const pb = track(
      reactor.listenMulticast(pa.getHost().port, b, "", 8192, true) as MulticastPort,
    );
    await within("b listening", pb.whenListening());
    await within("join a", pa.joinGroup(group, "127.0.0.1"));
    await within("join b", pb.joinGroup(group, "127.0.0.1"));
    await within("outgoing", pa.setOutgoingInterface("127.0.0.1"));
    pa.write("both", [group, pa.getHost().port]);
    await Promise.all([a.waitFor(1), b.waitFor(1)]);
    assert.equal(b.received[0]![0].toString(), "both");
  });
});
