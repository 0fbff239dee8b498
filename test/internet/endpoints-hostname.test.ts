// Tests of HostnameEndpoint: name resolution and happy-eyeballs connection racing, on a fake clock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Deferred, fail, succeed } from "../../src/internet/defer.js";
import {
  HostnameEndpoint,
  interleaveAddresses,
  type ResolvedAddress,
} from "../../src/internet/endpoints.js";
import {
  ConnectingCancelledError,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TimeoutError,
} from "../../src/internet/error.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  assertNoResult,
  failureResultOf,
  MemoryReactorClock,
  successResultOf,
} from "../../src/testing/index.js";

const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });

/** Counts the protocols it builds. */
class CountingFactory extends Factory<Protocol> {
  built = 0;
  override protocol = Protocol;
  override buildProtocol(addr: Parameters<Factory["buildProtocol"]>[0]): Protocol | null {
    this.built++;
    return super.buildProtocol(addr);
  }
}

function setUp(addresses: readonly ResolvedAddress[], options: { attemptDelay?: number } = {}) {
  const reactor = new MemoryReactorClock();
  const lookups: string[] = [];
  const endpoint = new HostnameEndpoint(reactor, "example.test", 80, {
    timeout: 7,
    ...options,
    resolver: (host) => {
      lookups.push(host);
      return succeed(addresses);
    },
  });
  const factory = new CountingFactory();
  const d = endpoint.connect(factory);
  const hosts = () => reactor.tcpClients.map((c) => c[0]);
  return { reactor, d, factory, lookups, hosts };
}

describe("interleaveAddresses", () => {
  test("alternates families, starting with the first address's family", () => {
    const ordered = interleaveAddresses([
      v6("::a"),
      v6("::b"),
      v4("1.1.1.1"),
      v4("2.2.2.2"),
      v4("3.3.3.3"),
    ]);
    assert.deepEqual(
      ordered.map((a) => a.address),
      ["::a", "1.1.1.1", "::b", "2.2.2.2", "3.3.3.3"],
    );
    const v4first = interleaveAddresses([v4("1.1.1.1"), v6("::a"), v6("::b")]);
    assert.deepEqual(
      v4first.map((a) => a.address),
      ["1.1.1.1", "::a", "::b"],
    );
  });

  test("drops duplicate addresses", () => {
    assert.deepEqual(interleaveAddresses([v4("1.1.1.1"), v4("1.1.1.1")]), [v4("1.1.1.1")]);
  });
});

describe("HostnameEndpoint", () => {
  test("resolves the name and connects to its first address with the timeout", () => {
    const { reactor, lookups, hosts } = setUp([v6("2001:db8::1"), v4("192.0.2.1")]);
    assert.deepEqual(lookups, ["example.test"]);
    assert.deepEqual(hosts(), ["2001:db8::1"]);
    assert.equal(reactor.tcpClients[0]?.[1], 80);
    assert.equal(reactor.tcpClients[0]?.[3], 7);
  });

  test("tries IPv4 after attemptDelay while IPv6 is still connecting", () => {
    const { reactor, d, hosts } = setUp([v6("2001:db8::1"), v4("192.0.2.1")], {
      attemptDelay: 0.3,
    });
    reactor.advance(0.29);
    assert.deepEqual(hosts(), ["2001:db8::1"]);
    reactor.advance(0.01);
    assert.deepEqual(hosts(), ["2001:db8::1", "192.0.2.1"]);
    assertNoResult(d);
  });

  test("tries the next address at once when an attempt fails before attemptDelay", () => {
    const { reactor, hosts } = setUp([v6("2001:db8::1"), v4("192.0.2.1"), v6("2001:db8::2")]);
    reactor.failConnection(0, new NoRouteError());
    assert.deepEqual(hosts(), ["2001:db8::1", "192.0.2.1"]);
    // The delay starts again from the new attempt.
    reactor.advance(0.2);
    assert.equal(hosts().length, 2);
    reactor.advance(0.1);
    assert.deepEqual(hosts(), ["2001:db8::1", "192.0.2.1", "2001:db8::2"]);
  });

  test("the first connection wins: the other attempts and the timer are cancelled", () => {
    const { reactor, d, factory } = setUp([v6("2001:db8::1"), v4("192.0.2.1"), v6("2001:db8::2")]);
    reactor.advance(0.3);
    reactor.completeConnection(1);
    const proto = successResultOf(d);
    assert.ok(proto instanceof Protocol);
    assert.equal(factory.built, 1);
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    assert.equal(reactor.connectors[1]?.state, "connected");
    assert.deepEqual(reactor.getDelayedCalls(), []);
    reactor.advance(10);
    assert.equal(reactor.tcpClients.length, 2);
  });

  test("when every attempt fails, fails with the last attempt's error", () => {
    const { reactor, d } = setUp([v6("2001:db8::1"), v4("192.0.2.1")]);
    reactor.advance(0.3);
    reactor.failConnection(0, new NoRouteError());
    assertNoResult(d);
    reactor.failConnection(1, new ConnectionRefusedError());
    failureResultOf(d, ConnectionRefusedError);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test("an attempt's timeout fails the race only when nothing else is left", () => {
    const { reactor, d } = setUp([v4("192.0.2.1")]);
    reactor.failConnection(0, new TimeoutError());
    failureResultOf(d, TimeoutError);
  });

  test("a name that does not resolve fails with DNSLookupError without connecting", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new HostnameEndpoint(reactor, "nowhere.test", 80, {
      resolver: () =>
        fail(Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.test"), { code: "ENOTFOUND" })),
    });
    const f = failureResultOf(endpoint.connect(new Factory()), DNSLookupError);
    assert.match(f.getErrorMessage(), /nowhere\.test.*ENOTFOUND/);
    assert.equal(reactor.tcpClients.length, 0);
  });

  test("a name with no address fails with DNSLookupError", () => {
    const { d, reactor } = setUp([]);
    failureResultOf(d, DNSLookupError);
    assert.equal(reactor.tcpClients.length, 0);
  });

  test("an IP address is connected to without resolving", () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new HostnameEndpoint(reactor, "::1", 80, {
      resolver: () => assert.fail("resolved"),
    });
    endpoint.connect(new Factory());
    assert.equal(reactor.tcpClients[0]?.[0], "::1");
  });

  test("cancelling during the race stops every attempt and the timer", () => {
    const { reactor, d } = setUp([v6("2001:db8::1"), v4("192.0.2.1"), v6("2001:db8::2")]);
    reactor.advance(0.3);
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.deepEqual(reactor.getDelayedCalls(), []);
    for (const c of reactor.connectors) assert.equal(c.stoppedConnecting, true);
    reactor.advance(10);
    assert.equal(reactor.tcpClients.length, 2);
  });

  test("cancelling during resolution ignores the late answer", () => {
    const reactor = new MemoryReactorClock();
    const answer = new Deferred<ResolvedAddress[]>();
    const endpoint = new HostnameEndpoint(reactor, "slow.test", 80, { resolver: () => answer });
    const d = endpoint.connect(new Factory());
    d.cancel();
    failureResultOf(d, ConnectingCancelledError);
    assert.equal(reactor.tcpClients.length, 0);
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });

  test("accepts a resolver that returns a Promise", async () => {
    const reactor = new MemoryReactorClock();
    const endpoint = new HostnameEndpoint(reactor, "promise.test", 80, {
      resolver: async () => [v4("192.0.2.9")],
    });
    const d = endpoint.connect(new CountingFactory());
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reactor.tcpClients[0]?.[0], "192.0.2.9");
    reactor.completeConnection(0);
    successResultOf(d);
  });
});
