// Regression tests of bugs found by the fuzz tests (test/fuzz/socks.test.ts, haproxy.test.ts),
// reduced to the input that triggered each.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import { HAProxyWrappingFactory, parseProxyHeader } from "../../src/protocols/haproxy.js";
import { SOCKSFactory, SOCKSServer } from "../../src/protocols/socks.js";
import {
  LogCapture,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";

function wrapper() {
  const factory = new HAProxyWrappingFactory(Factory.forProtocol(Protocol));
  const t = new StringTransport(
    new IPv4Address("TCP", "10.0.0.5", 8080),
    new IPv4Address("TCP", "10.0.0.2", 41000),
  );
  const w = factory.buildProtocol(t.getPeer());
  w.makeConnection(t);
  return { t, w };
}

describe("PROXY header regressions (from fuzzing)", () => {
  // The wrapper waited for the 16 bytes of a v2 head (or the 6 of "PROXY ") before parsing
  // again, so a signature already wrong in the bytes received was only refused later: the
  // connection stayed open in one split and was dropped in another.
  it("drops a connection as soon as the v2 signature is wrong, however it was split", () => {
    const bad = Buffer.from("0d0a0d0a000d0a5155a1540a0d", "hex");
    const { t, w } = wrapper();
    const logs = new LogCapture({ exclusive: true });
    try {
      w.dataReceived(bad.subarray(0, 8));
      assert.equal(t.disconnecting, false, "a good prefix so far");
      w.dataReceived(bad.subarray(8));
    } finally {
      logs.stop();
    }
    assert.equal(t.disconnecting, true);
  });

  it('drops a connection as soon as the bytes cannot be "PROXY "', () => {
    const { t, w } = wrapper();
    const logs = new LogCapture({ exclusive: true });
    try {
      w.dataReceived(Buffer.from("PRO"));
      assert.equal(t.disconnecting, false);
      w.dataReceived(Buffer.from("XX"));
    } finally {
      logs.stop();
    }
    assert.equal(t.disconnecting, true);
  });

  it("asks for one more byte at a time while a signature is incomplete", () => {
    const r = parseProxyHeader(Buffer.from("0d0a0d0a", "hex"));
    assert.deepEqual(r, { needMore: true, needed: 5 });
    assert.deepEqual(parseProxyHeader(Buffer.from("PRO")), { needMore: true, needed: 4 });
  });
});

describe("SOCKS regressions (from fuzzing)", () => {
  // Bytes after the request were moved to the early-data buffer without the MAX_EARLY_DATA
  // check when they came in the same chunk as the request; the limit held only for later chunks.
  it("refuses more than MAX_EARLY_DATA bytes sent with the request in one chunk", () => {
    const reactor = new MemoryReactorClock();
    const factory = new SOCKSFactory({ reactor });
    const client = new StringTransportWithDisconnection(
      new IPv4Address("TCP", "127.0.0.1", 1080),
      new IPv4Address("TCP", "127.0.0.5", 50123),
    );
    const proto = factory.buildProtocol(client.getPeer()) as SOCKSServer;
    client.protocol = proto;
    proto.makeConnection(client);
    const request = Buffer.from([4, 1, 0, 80, 93, 184, 216, 34, 0x75, 0]);
    const logs = new LogCapture({ exclusive: true });
    try {
      proto.dataReceived(
        Buffer.concat([request, Buffer.alloc(SOCKSServer.MAX_EARLY_DATA + 1, 0x61)]),
      );
    } finally {
      logs.stop();
    }
    assert.equal(client.disconnecting, true);
    assert.deepEqual([...client.value()].slice(0, 2), [0, 91], "SOCKS4 rejected");
  });
});
