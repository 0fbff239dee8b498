// Tests of the SOCKS server protocol with StringTransport and MemoryReactor.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AllowAnonymousAccess,
  InMemoryUsernamePasswordDatabase,
  Portal,
  SimpleRealm,
} from "../../src/cred/index.js";
import { IPv4Address, IPv6Address } from "../../src/internet/address.js";
import { Deferred } from "../../src/internet/defer.js";
import {
  ConnectError,
  ConnectionDone,
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TimeoutError,
} from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import {
  ISOCKSUser,
  type SOCKSConnectContext,
  SOCKSFactory,
  type SOCKSServer,
  type SOCKSServerOptions,
  SOCKSv4,
  SOCKSv5,
} from "../../src/protocols/socks.js";
import {
  LogCapture,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";
import { bytes, port, v5Connect, v5Domain } from "./_socks.js";

const V5_NOAUTH = bytes([5, 1, 0]);
const v5Auth = (user: string, pw: string) =>
  bytes([1, Buffer.byteLength(user)], Buffer.from(user), [Buffer.byteLength(pw)], Buffer.from(pw));

function setup(
  options: Partial<SOCKSServerOptions> = {},
  make?: (o: SOCKSServerOptions) => SOCKSServer,
) {
  const reactor = new MemoryReactorClock();
  const all: SOCKSServerOptions = { reactor, ...options };
  const factory = new SOCKSFactory(all);
  const client = new StringTransportWithDisconnection(
    new IPv4Address("TCP", "127.0.0.1", 1080),
    new IPv4Address("TCP", "192.168.5.5", 50123),
  );
  const proto = make ? make(all) : factory.buildProtocol(client.getPeer());
  client.protocol = proto;
  proto.makeConnection(client);
  const lost: Failure[] = [];
  const connectionLost = proto.connectionLost.bind(proto);
  proto.connectionLost = (reason: Failure) => {
    lost.push(reason);
    connectionLost(reason);
  };
  /** Completes outgoing connection `i`, with a transport whose host is 10.9.8.7:40000. */
  const complete = (i = 0) => {
    const remote = new StringTransportWithDisconnection(
      new IPv4Address("TCP", "10.9.8.7", 40000),
      new IPv4Address("TCP", "93.184.216.34", 80),
    );
    const outgoing = reactor.completeConnection(i, remote)!;
    remote.protocol = outgoing;
    return { remote, outgoing };
  };
  const send = (data: Buffer) => proto.dataReceived(data);
  const takeReply = () => {
    const v = Buffer.from(client.value());
    client.clear();
    return [...v];
  };
  return { reactor, factory, client, proto, complete, send, takeReply, lost };
}

function portal(options: { anonymous?: boolean } = {}) {
  const loggedOut: string[] = [];
  const realm = new SimpleRealm((id) => ({ id: String(id) }), {
    interfaces: [ISOCKSUser],
    logout: (a) => loggedOut.push((a as { id: string }).id),
  });
  const checkers = [new InMemoryUsernamePasswordDatabase({ alice: "secret" })];
  const p = new Portal(
    realm,
    options.anonymous ? [...checkers, new AllowAnonymousAccess()] : checkers,
  );
  return { portal: p, loggedOut };
}

const SUCCESS_V5 = [5, 0, 0, 1, 10, 9, 8, 7, ...port(40000)];

describe("SOCKS4 and SOCKS4a", () => {
  it("connects to the requested IPv4 address, replies 90 with the bound address, then relays", () => {
    const { reactor, client, complete, send, takeReply } = setup();
    send(bytes([4, 1, ...port(80), 93, 184, 216, 34], "someone", [0]));
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["93.184.216.34", 80]);
    assert.equal(reactor.tcpClients[0]![3], 30);
    assert.equal(client.producerState, "paused", "reading waits for the connection");
    const { remote, outgoing } = complete();
    assert.deepEqual(takeReply(), [0, 90, ...port(40000), 10, 9, 8, 7]);
    assert.equal(client.producerState, "producing");
    send(bytes("GET / HTTP/1.0\r\n\r\n"));
    assert.equal(remote.value().toString(), "GET / HTTP/1.0\r\n\r\n");
    outgoing.dataReceived(bytes("HTTP/1.0 200 OK\r\n"));
    assert.equal(client.value().toString(), "HTTP/1.0 200 OK\r\n");
    assert.equal(client.producer, remote, "the remote side produces for the client");
    assert.equal(remote.producer, client, "the client side produces for the remote");
  });

  it("resolves a SOCKS4a host name through connectTCP", () => {
    const { reactor, complete, takeReply, send } = setup();
    send(bytes([4, 1, ...port(443), 0, 0, 0, 7], "", [0], "example.com", [0]));
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["example.com", 443]);
    complete();
    assert.deepEqual(takeReply().slice(0, 2), [0, 90]);
  });

  it("rejects BIND with 91 and closes", () => {
    const { client, send, takeReply, reactor } = setup();
    send(bytes([4, 2, ...port(80), 1, 2, 3, 4], [0]));
    assert.deepEqual(takeReply(), [0, 91, 0, 0, 0, 0, 0, 0]);
    assert.equal(client.disconnecting, true);
    assert.equal(reactor.tcpClients.length, 0);
  });

  it("answers a failed connection with 91", () => {
    const { reactor, client, send, takeReply } = setup();
    send(bytes([4, 1, ...port(81), 10, 0, 0, 1], [0]));
    reactor.failConnection(0, new ConnectionRefusedError());
    assert.deepEqual(takeReply().slice(0, 2), [0, 91]);
    assert.equal(client.disconnecting, true);
  });

  it("rejects a SOCKS4 user id that is too long with 91", () => {
    const { client, send, takeReply } = setup();
    send(bytes([4, 1, 0, 80, 1, 2, 3, 4], "x".repeat(300)));
    assert.deepEqual(takeReply().slice(0, 2), [0, 91]);
    assert.equal(client.disconnecting, true);
  });

  it("with a portal, refuses SOCKS4 (it has no passwords) unless the portal lets anonymous in", () => {
    const a = setup({ portal: portal().portal });
    a.send(bytes([4, 1, 0, 80, 1, 2, 3, 4], "alice", [0]));
    assert.deepEqual(a.takeReply().slice(0, 2), [0, 91]);
    assert.equal(a.reactor.tcpClients.length, 0);
    const b = setup({ portal: portal({ anonymous: true }).portal });
    b.send(bytes([4, 1, 0, 80, 1, 2, 3, 4], [0]));
    assert.equal(b.reactor.tcpClients.length, 1);
  });
});

describe("SOCKS5 without authentication", () => {
  it("selects no-auth, connects to an IPv4 address, replies with the bound address, relays", () => {
    const { reactor, complete, send, takeReply, client } = setup();
    send(V5_NOAUTH);
    assert.deepEqual(takeReply(), [5, 0]);
    send(v5Connect(1, [127, 0, 0, 1], 8080));
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["127.0.0.1", 8080]);
    const { remote, outgoing } = complete();
    assert.deepEqual(takeReply(), SUCCESS_V5);
    send(bytes("ping"));
    outgoing.dataReceived(bytes("pong"));
    assert.equal(remote.value().toString(), "ping");
    assert.equal(client.value().toString(), "pong");
  });

  it("connects to IPv6 addresses and domain names, and reports an IPv6 bound address", () => {
    const { reactor, send, takeReply } = setup();
    send(V5_NOAUTH);
    const v6 = Buffer.from("20010db8000000000000000000000001", "hex");
    send(v5Connect(4, v6, 443));
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["2001:db8::1", 443]);
    takeReply();
    const remote = new StringTransport(new IPv6Address("TCP", "2001:db8::99", 5555));
    reactor.completeConnection(0, remote);
    const reply = takeReply();
    assert.deepEqual(reply.slice(0, 4), [5, 0, 0, 4]);
    assert.deepEqual(
      Buffer.from(reply.slice(4, 20)).toString("hex"),
      "20010db8000000000000000000000099",
    );
    assert.deepEqual(reply.slice(20), port(5555));
    const b = setup();
    b.send(V5_NOAUTH);
    b.send(v5Domain("example.com", 80));
    assert.deepEqual(b.reactor.tcpClients[0]!.slice(0, 2), ["example.com", 80]);
  });

  it("refuses clients that offer no method it accepts, with 0xFF", () => {
    for (const greeting of [bytes([5, 1, 2]), bytes([5, 0])]) {
      const { client, send, takeReply } = setup();
      send(greeting);
      assert.deepEqual(takeReply(), [5, 0xff]);
      assert.equal(client.disconnecting, true);
    }
  });

  it("answers BIND and UDP ASSOCIATE with 'command not supported' (7)", () => {
    for (const cmd of [2, 3, 9]) {
      const { client, send, takeReply, reactor } = setup();
      send(V5_NOAUTH);
      takeReply();
      send(bytes([5, cmd, 0, 1, 1, 2, 3, 4, 0, 80]));
      assert.deepEqual(takeReply(), [5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
      assert.equal(client.disconnecting, true);
      assert.equal(reactor.tcpClients.length, 0);
    }
  });

  it("answers an unknown address type with 8 and a malformed host name with 1", () => {
    const a = setup();
    a.send(V5_NOAUTH);
    a.takeReply();
    a.send(bytes([5, 1, 0, 7, 1, 2, 3, 4]));
    assert.deepEqual(a.takeReply().slice(0, 2), [5, 8]);
    assert.equal(a.client.disconnecting, true);
    const b = setup();
    b.send(V5_NOAUTH);
    b.takeReply();
    b.send(v5Domain("a\u0000b", 80));
    assert.deepEqual(b.takeReply().slice(0, 2), [5, 1]);
  });

  it("closes without a reply on a version it does not speak", () => {
    for (const first of [bytes("GET / HTTP/1.1\r\n"), bytes([6, 1, 0])]) {
      const { client, send, takeReply } = setup();
      send(first);
      assert.deepEqual(takeReply(), []);
      assert.equal(client.disconnecting, true);
    }
  });

  it("a SOCKSv4 protocol refuses SOCKS5, and a SOCKSv5 protocol refuses SOCKS4", () => {
    const a = setup({}, (o) => new SOCKSv4(o));
    a.send(V5_NOAUTH);
    assert.equal(a.client.disconnecting, true);
    const b = setup({}, (o) => new SOCKSv5(o));
    b.send(bytes([4, 1, 0, 80, 1, 2, 3, 4, 0]));
    assert.equal(b.client.disconnecting, true);
  });

  it("works when every byte arrives on its own", () => {
    const { reactor, complete, send, takeReply } = setup();
    for (const b of Buffer.concat([V5_NOAUTH, v5Domain("example.net", 8443)]))
      send(Buffer.from([b]));
    assert.deepEqual(reactor.tcpClients[0]!.slice(0, 2), ["example.net", 8443]);
    complete();
    assert.deepEqual(takeReply(), [5, 0, ...SUCCESS_V5]);
  });

  it("works with the negotiation in random splits", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const stream = Buffer.concat([V5_NOAUTH, v5Domain("example.net", 8443), bytes("early")]);
    for (let round = 0; round < 30; round++) {
      const { reactor, complete, send } = setup();
      for (let i = 0; i < stream.length; ) {
        const n = 1 + Math.floor(random() * 8);
        send(stream.subarray(i, i + n));
        i += n;
      }
      assert.equal(reactor.tcpClients[0]![0], "example.net");
      assert.equal(complete().remote.value().toString(), "early");
    }
  });

  it("passes on data sent before the connection was made, once it is", () => {
    const { complete, send } = setup();
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80), bytes("GET /")]));
    send(bytes(" HTTP/1.0\r\n\r\n"));
    assert.equal(complete().remote.value().toString(), "GET / HTTP/1.0\r\n\r\n");
  });

  it("closes with 'general failure' when too much data arrives before connecting", () => {
    const { client, send, takeReply, reactor } = setup();
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    takeReply();
    send(Buffer.alloc(64 * 1024 + 1));
    assert.deepEqual(takeReply().slice(0, 2), [5, 1]);
    assert.equal(client.disconnecting, true);
    assert.equal(reactor.connectors[0]!.stoppedConnecting, true);
  });
});

describe("SOCKS5 connection failures", () => {
  const cases: [string, unknown, number][] = [
    ["refused", new ConnectionRefusedError(), 5],
    ["DNS failure", new DNSLookupError(), 4],
    ["no route to host", new NoRouteError(), 4],
    ["network unreachable", new NoRouteError("x", { cause: { code: "ENETUNREACH" } }), 3],
    ["timeout", new TimeoutError(), 6],
    ["other", new ConnectError(), 1],
  ];
  for (const [what, error, code] of cases) {
    it(`answers ${what} with reply ${code} and closes`, () => {
      const { reactor, client, send, takeReply } = setup();
      send(Buffer.concat([V5_NOAUTH, v5Domain("nowhere.test", 80)]));
      takeReply();
      reactor.failConnection(0, error);
      assert.deepEqual(takeReply(), [5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
      assert.equal(client.disconnecting, true);
    });
  }

  it("answers with 'general failure' when connectTCP itself throws", () => {
    const { client, send, takeReply, reactor } = setup();
    reactor.connectTCP = () => {
      throw new RangeError("Port should be > 0");
    };
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 0)]));
    assert.deepEqual(takeReply().slice(2, 4), [5, 1]);
    assert.equal(client.disconnecting, true);
  });

  it("uses the configured connect timeout", () => {
    const { reactor, send } = setup({ connectTimeout: 5 });
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    assert.equal(reactor.tcpClients[0]![3], 5);
  });
});

describe("SOCKS5 with username/password (RFC 1929) through a portal", () => {
  it("selects username/password, accepts the right password, then connects", () => {
    const { portal: p } = portal();
    const { reactor, send, takeReply, complete } = setup({ portal: p });
    send(bytes([5, 2, 0, 2]));
    assert.deepEqual(takeReply(), [5, 2]);
    send(v5Auth("alice", "secret"));
    assert.deepEqual(takeReply(), [1, 0]);
    send(v5Connect(1, [10, 0, 0, 1], 22));
    assert.equal(reactor.tcpClients.length, 1);
    complete();
    assert.deepEqual(takeReply(), SUCCESS_V5);
  });

  it("refuses a wrong password and an unknown user with the same failure reply", () => {
    for (const [user, pw] of [
      ["alice", "wrong"],
      ["mallory", "secret"],
      ["", "x"],
    ] as const) {
      const { client, send, takeReply, reactor } = setup({ portal: portal().portal });
      send(bytes([5, 1, 2]));
      takeReply();
      send(v5Auth(user, pw));
      assert.deepEqual(takeReply(), [1, 1], `${user}/${pw}`);
      assert.equal(client.disconnecting, true);
      assert.equal(reactor.tcpClients.length, 0);
    }
  });

  it("refuses clients that offer only no-auth", () => {
    const { client, send, takeReply } = setup({ portal: portal().portal });
    send(V5_NOAUTH);
    assert.deepEqual(takeReply(), [5, 0xff]);
    assert.equal(client.disconnecting, true);
  });

  it("lets no-auth clients in when the portal accepts anonymous logins", () => {
    const { reactor, send, takeReply } = setup({ portal: portal({ anonymous: true }).portal });
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 2, 3, 4], 80)]));
    assert.deepEqual(takeReply(), [5, 0]);
    assert.equal(reactor.tcpClients.length, 1);
  });

  it("waits for a checker that answers later, buffering what follows", () => {
    const pending = new Deferred<string>();
    const p = new Portal(new SimpleRealm((id) => id), [
      {
        credentialInterfaces: [Symbol.for("twisted-ts.cred.IUsernamePassword")],
        requestAvatarId: () => pending,
      },
    ]);
    const { reactor, send, takeReply } = setup({ portal: p });
    send(Buffer.concat([bytes([5, 1, 2]), v5Auth("slow", "pw"), v5Connect(1, [1, 2, 3, 4], 80)]));
    assert.deepEqual(takeReply(), [5, 2]);
    assert.equal(reactor.tcpClients.length, 0);
    pending.callback("slow");
    assert.deepEqual(takeReply(), [1, 0]);
    assert.equal(reactor.tcpClients.length, 1);
  });

  it("refuses an unknown auth sub-negotiation version by closing", () => {
    const { client, send, takeReply } = setup({ portal: portal().portal });
    send(bytes([5, 1, 2]));
    takeReply();
    send(bytes([2, 1, 65, 1, 65]));
    assert.deepEqual(takeReply(), []);
    assert.equal(client.disconnecting, true);
  });

  it("logs the avatar out when the connection ends", () => {
    const { portal: p, loggedOut } = portal();
    const { send, proto, complete } = setup({ portal: p });
    send(
      Buffer.concat([bytes([5, 1, 2]), v5Auth("alice", "secret"), v5Connect(1, [1, 2, 3, 4], 80)]),
    );
    complete();
    assert.deepEqual(loggedOut, []);
    proto.connectionLost(new Failure(new ConnectionDone()));
    assert.deepEqual(loggedOut, ["alice"]);
  });
});

describe("SOCKS destination policy", () => {
  it("answers a refused destination with 'not allowed' (5: 2, 4: 91), telling the hook who asks", () => {
    const seen: [string, number, SOCKSConnectContext][] = [];
    const allowConnect = (host: string, p: number, ctx: SOCKSConnectContext) => {
      seen.push([host, p, ctx]);
      return host !== "10.0.0.1";
    };
    const { portal: pt } = portal();
    const a = setup({ allowConnect, portal: pt });
    a.send(
      Buffer.concat([bytes([5, 1, 2]), v5Auth("alice", "secret"), v5Connect(1, [10, 0, 0, 1], 22)]),
    );
    assert.deepEqual(a.takeReply().slice(4), [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(a.reactor.tcpClients.length, 0);
    assert.equal(seen[0]![2].username, "alice");
    assert.deepEqual(seen[0]![2].avatar, { id: "alice" });
    assert.equal(seen[0]![2].version, 5);
    const b = setup({ allowConnect });
    b.send(bytes([4, 1, 0, 22, 10, 0, 0, 1, 0]));
    assert.deepEqual(b.takeReply().slice(0, 2), [0, 91]);
    const c = setup({ allowConnect });
    c.send(bytes([4, 1, 0, 22, 10, 0, 0, 2, 0]));
    assert.equal(c.reactor.tcpClients.length, 1);
  });

  it("waits for an asynchronous decision", async () => {
    const { reactor, send } = setup({ allowConnect: async () => true });
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    assert.equal(reactor.tcpClients.length, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(reactor.tcpClients.length, 1);
  });

  it("answers a hook that throws with 'general failure', and logs the error", () => {
    const { send, takeReply } = setup({
      allowConnect: () => {
        throw new Error("policy bug");
      },
    });
    const logs = new LogCapture({ exclusive: true });
    try {
      send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    } finally {
      logs.stop();
    }
    assert.deepEqual(takeReply().slice(2, 4), [5, 1]);
    assert.equal(logs.flushFailures(Error).length, 1);
  });
});

describe("SOCKS connection life", () => {
  it("closes a client that sends no complete request within the handshake timeout", () => {
    const { reactor, client, send } = setup({ handshakeTimeout: 10 });
    send(bytes([5, 1]));
    reactor.advance(9);
    assert.equal(client.disconnecting, false);
    reactor.advance(1);
    assert.equal(client.disconnecting, true);
  });

  it("stops the handshake timer once the request is in", () => {
    const { reactor, client, send } = setup({ handshakeTimeout: 10 });
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    assert.equal(reactor.getDelayedCalls().length, 0);
    reactor.advance(100);
    assert.equal(client.disconnecting, false);
  });

  it("stops connecting when the client goes away first", () => {
    const { reactor, send, proto } = setup();
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    proto.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(reactor.connectors[0]!.stoppedConnecting, true);
  });

  it("closes the client when the destination closes, and the destination when the client does", () => {
    const a = setup();
    a.send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    a.complete();
    a.reactor.connectionLost(0);
    assert.equal(a.client.disconnecting, true);
    assert.equal(a.lost.length, 1);
    const b = setup();
    b.send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    const { remote } = b.complete();
    b.client.loseConnection();
    assert.equal(remote.disconnecting, true);
  });

  it("passes a half-close on in both directions, and closes once both sides are done", () => {
    const { send, complete, proto, client } = setup();
    send(Buffer.concat([V5_NOAUTH, v5Connect(1, [1, 1, 1, 1], 80)]));
    const { remote, outgoing } = complete();
    proto.readConnectionLost();
    assert.equal(remote.writeDisconnecting, true);
    assert.equal(remote.producer, null, "the client no longer holds back the remote's EOF");
    assert.equal(remote.disconnecting, false);
    outgoing.dataReceived(bytes("still talking"));
    assert.equal(client.value().toString().endsWith("still talking"), true);
    (outgoing as unknown as { readConnectionLost(): void }).readConnectionLost();
    assert.equal(client.disconnecting, true);
  });

  it("closes a client that half-closes while negotiating", () => {
    const { send, proto, client } = setup();
    send(bytes([5, 1]));
    proto.readConnectionLost();
    assert.equal(client.disconnecting, true);
  });

  it("refuses a negotiation longer than the handshake buffer", () => {
    const pending = new Deferred<string>();
    const p = new Portal(new SimpleRealm((id) => id), [
      {
        credentialInterfaces: [Symbol.for("twisted-ts.cred.IUsernamePassword")],
        requestAvatarId: () => pending,
      },
    ]);
    const { client, send } = setup({ portal: p });
    send(Buffer.concat([bytes([5, 1, 2]), v5Auth("slow", "pw")]));
    send(Buffer.alloc(2000, 5));
    assert.equal(client.disconnecting, true);
  });

  it("validates the factory's timeouts", () => {
    const reactor = new MemoryReactorClock();
    assert.throws(() => new SOCKSFactory({ reactor, connectTimeout: 0 }), /Invalid connectTimeout/);
    assert.throws(
      () => new SOCKSFactory({ reactor, handshakeTimeout: -1 }),
      /Invalid handshakeTimeout/,
    );
  });
});
