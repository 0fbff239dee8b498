// Fuzz tests of the SOCKS server (SOCKSv4/4a/5 over a StringTransport and MemoryReactorClock):
// mutated handshakes (greetings, user/password auth, CONNECT requests with every address type),
// whole and in random splits. Nothing may escape dataReceived; the handshake buffer stays within
// its limit; the replies, the outgoing connections and the close are the same whatever the
// split; and every outgoing connection has a sane host and port.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AllowAnonymousAccess,
  InMemoryUsernamePasswordDatabase,
  Portal,
  SimpleRealm,
} from "../../src/cred/index.js";
import { IPv4Address } from "../../src/internet/address.js";
import { ISOCKSUser, SOCKSFactory, SOCKSServer } from "../../src/protocols/socks.js";
import {
  LogCapture,
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

const b = (...parts: (number[] | string)[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))),
  );

const HANDSHAKES = [
  b([4, 1, 0, 80, 93, 184, 216, 34], "someone", [0]),
  b([4, 1, 0, 80, 0, 0, 0, 1], "u", [0], "example.com", [0]),
  b([4, 2, 0, 80, 1, 2, 3, 4], [0]),
  b([5, 1, 0], [5, 1, 0, 1, 93, 184, 216, 34, 0, 80]),
  b([5, 2, 0, 2], [5, 1, 0, 3, 11], "example.com", [1, 187]),
  b([5, 1, 0], [5, 1, 0, 4], Buffer.alloc(16, 0).toString("latin1"), [0, 80]),
  b([5, 1, 2], [1, 5], "alice", [6], "secret", [5, 1, 0, 3, 1], "a", [0, 22]),
  b([5, 1, 2], [1, 5], "alice", [5], "wrong", [5, 1, 0, 1, 1, 1, 1, 1, 0, 1]),
  b([5, 3, 0, 1, 2], [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]),
  b([5, 1, 0], [5, 3, 0, 1, 0, 0, 0, 0, 0, 0]),
  b([5, 1, 0], [5, 1, 0, 3, 0, 0, 80]),
  b([5, 0]),
  b("GET / HTTP/1.1\r\n\r\n"),
];

function serve(withPortal: boolean) {
  const reactor = new MemoryReactorClock();
  let portal: Portal | undefined;
  if (withPortal) {
    const realm = new SimpleRealm((id) => ({ id: String(id) }), { interfaces: [ISOCKSUser] });
    portal = new Portal(realm, [
      new InMemoryUsernamePasswordDatabase({ alice: "secret" }),
      new AllowAnonymousAccess(),
    ]);
  }
  const factory = new SOCKSFactory(portal === undefined ? { reactor } : { reactor, portal });
  const client = new StringTransportWithDisconnection(
    new IPv4Address("TCP", "127.0.0.1", 1080),
    new IPv4Address("TCP", "127.0.0.5", 50123),
  );
  const proto = factory.buildProtocol(client.getPeer()) as SOCKSServer;
  client.protocol = proto;
  proto.makeConnection(client);
  return { reactor, client, proto };
}

function run(chunks: Buffer[], withPortal: boolean, extra: Buffer) {
  const { reactor, client, proto } = serve(withPortal);
  for (const c of chunks) {
    if (client.disconnecting) break;
    proto.dataReceived(c);
    const buffered = (proto as unknown as { buffer: Buffer }).buffer?.length ?? 0;
    if (!client.disconnecting) {
      assert.ok(buffered <= SOCKSServer.MAX_HANDSHAKE_BUFFER, `holds ${buffered} handshake bytes`);
    }
  }
  const outgoing = reactor.tcpClients.map(([host, port]) => `${host}:${port}`);
  for (const [host, port] of reactor.tcpClients) {
    assert.ok(typeof host === "string" && host.length > 0 && host.length <= 255, `host ${host}`);
    assert.ok(Number.isInteger(port) && port >= 0 && port <= 65535, `port ${port}`);
  }
  // Complete the connection if one was asked for, and send the early data through.
  let relayed = "";
  if (reactor.tcpClients.length > 0 && !client.disconnecting) {
    const remote = new StringTransportWithDisconnection(
      new IPv4Address("TCP", "10.9.8.7", 40000),
      new IPv4Address("TCP", "93.184.216.34", 80),
    );
    const out = reactor.completeConnection(0, remote);
    if (out !== null && out !== undefined) {
      remote.protocol = out;
      if (!client.disconnecting) proto.dataReceived(extra);
      relayed = remote.value().toString("latin1");
    }
  }
  reactor.advance(100);
  return {
    reply: client.value().toString("hex"),
    // A connection attempt may or may not have started before a refusal, depending on the split.
    outgoing: client.disconnecting ? [] : outgoing,
    closed: client.disconnecting,
    relayed,
  };
}

describe("fuzz: SOCKS server", () => {
  it("mutated handshakes: same replies, connections and close in any split; bounded; sane targets", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(61, 1500, (r: Rand) => {
        let input: Buffer = r.pick(HANDSHAKES);
        if (r.chance(0.8)) input = mutateMany(r, input);
        if (r.chance(0.05)) input = Buffer.concat([input, r.bytes(2000)]);
        const withPortal = r.chance(0.5);
        const extra = Buffer.from("hello");
        const whole = run([input], withPortal, extra);
        const pieces = run(split(r, input), withPortal, extra);
        assert.deepEqual(pieces, whole, `split changed the outcome of ${input.toString("hex")}`);
      });
    } finally {
      logs.stop();
    }
  });
});
