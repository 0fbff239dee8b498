// Tests of the PROXY protocol (v1/v2) parser and HAProxyWrappingFactory.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address, IPv6Address, UNIXAddress } from "../../src/internet/address.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IAddress } from "../../src/internet/interfaces.js";
import { connectionDone, Factory, Protocol } from "../../src/internet/protocol.js";
import { formatIPv6, parseIPv4, parseIPv6 } from "../../src/protocols/_haproxy_ip.js";
import {
  HAProxyTransport,
  HAProxyWrappingFactory,
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
  type ProxyHeaderParseResult,
  parseProxyHeader,
  V2_SIGNATURE,
} from "../../src/protocols/haproxy.js";
import { Clock, StringTransport } from "../../src/testing/index.js";

const ascii = (s: string) => Buffer.from(s, "latin1");

function v2(command: number, famProto: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = famProto;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

function inet4Body(src: string, dst: string, sport: number, dport: number, tlvs = Buffer.alloc(0)) {
  const b = Buffer.alloc(12);
  parseIPv4(src)!.copy(b, 0);
  parseIPv4(dst)!.copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return Buffer.concat([b, tlvs]);
}

function inet6Body(src: string, dst: string, sport: number, dport: number) {
  const b = Buffer.alloc(36);
  parseIPv6(src)!.copy(b, 0);
  parseIPv6(dst)!.copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}

function parsed(buf: Buffer): Extract<ProxyHeaderParseResult, { needMore: false }> {
  const r = parseProxyHeader(buf);
  assert.equal(r.needMore, false);
  return r as Extract<ProxyHeaderParseResult, { needMore: false }>;
}

/** Feeds every prefix of `buf` (one byte more each time): all but the whole must need more. */
function assertNeedsEveryByte(buf: Buffer): void {
  for (let n = 0; n < buf.length; n++) {
    const r = parseProxyHeader(buf.subarray(0, n));
    assert.equal(r.needMore, true, `prefix of ${n} bytes`);
  }
  assert.equal(parseProxyHeader(buf).needMore, false);
}

const V1_TCP4 = ascii("PROXY TCP4 203.0.113.7 192.0.2.10 56324 443\r\n");
const V2_TCP4 = v2(1, 0x11, inet4Body("203.0.113.7", "192.0.2.10", 56324, 443));

describe("IP address helpers", () => {
  it("format IPv6 as RFC 5952 recommends", () => {
    const cases: [string, string][] = [
      ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["::", "::"],
      ["::1", "::1"],
      ["1::", "1::"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
      ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
      ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ];
    for (const [input, output] of cases) assert.equal(formatIPv6(parseIPv6(input)!), output, input);
  });

  it("refuse malformed addresses", () => {
    for (const bad of [
      "",
      ":",
      ":::",
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "g::",
      "::1.2.3",
      "::256.1.1.1",
      "1:2:3:4:5:6:7:8::",
    ]) {
      assert.equal(parseIPv6(bad), null, bad);
    }
    for (const bad of ["1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "a.b.c.d", ""]) {
      assert.equal(parseIPv4(bad), null, bad);
    }
  });
});

describe("parseProxyHeader, version 1", () => {
  it("parses a TCP4 header and says how many bytes it took", () => {
    const r = parsed(Buffer.concat([V1_TCP4, ascii("GET / HTTP/1.1\r\n")]));
    assert.equal(r.consumed, V1_TCP4.length);
    assert.deepEqual(r.header, {
      version: 1,
      command: "PROXY",
      family: "INET",
      protocol: "STREAM",
      source: new IPv4Address("TCP", "203.0.113.7", 56324),
      destination: new IPv4Address("TCP", "192.0.2.10", 443),
    });
  });

  it("parses a TCP6 header, giving addresses in canonical form", () => {
    const r = parsed(ascii("PROXY TCP6 2001:DB8:0:0::1 ::1 1 65535\r\n"));
    assert.deepEqual(r.header.source, new IPv6Address("TCP", "2001:db8::1", 1));
    assert.deepEqual(r.header.destination, new IPv6Address("TCP", "::1", 65535));
    assert.equal(r.header.family, "INET6");
  });

  it("parses UNKNOWN, with or without addresses, as 'use the real addresses'", () => {
    for (const text of [
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n",
    ]) {
      const r = parsed(ascii(text));
      assert.equal(r.header.family, "UNSPEC");
      assert.equal(r.header.source, null);
      assert.equal(r.header.destination, null);
      assert.equal(r.consumed, text.length);
    }
  });

  it("needs more until the CRLF, whatever the split", () => {
    assertNeedsEveryByte(V1_TCP4);
  });

  it("accepts a header of exactly 107 bytes and refuses a longer one", () => {
    const longest = `PROXY UNKNOWN ${"x".repeat(107 - 16)}\r\n`;
    assert.equal(longest.length, 107);
    assert.equal(parsed(ascii(longest)).consumed, 107);
    const tooLong = ascii(`PROXY UNKNOWN ${"x".repeat(200)}`);
    assert.equal(parseProxyHeader(tooLong.subarray(0, 106)).needMore, true);
    assert.throws(() => parseProxyHeader(tooLong.subarray(0, 107)), /longer than 107 bytes/);
  });

  it("refuses malformed headers with InvalidProxyHeader", () => {
    const cases: [string, RegExp, Function][] = [
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /does not end with CRLF/, InvalidProxyHeader],
      ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", /Unknown protocol.*TCP5/, InvalidNetworkProtocol],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /needs 4 fields/, MissingAddressData],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", /needs 4 fields/, MissingAddressData],
      ["PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", /needs 4 fields/, MissingAddressData],
      ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /Invalid IPv4 address/, MissingAddressData],
      ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", /Invalid IPv6 address/, MissingAddressData],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /Invalid port/, MissingAddressData],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", /Invalid port/, MissingAddressData],
      ["PROXY TCP4 1.2.3.4 5.6.7.8 \u00e9 2\r\n", /Invalid character/, InvalidProxyHeader],
      ["PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", /Invalid character/, InvalidProxyHeader],
    ];
    for (const [text, message, type] of cases) {
      assert.throws(
        () => parseProxyHeader(ascii(text)),
        (e: unknown) => {
          assert.ok(e instanceof type, text);
          assert.ok(e instanceof InvalidProxyHeader);
          assert.match((e as Error).message, message);
          return true;
        },
      );
    }
  });

  it("refuses a stream that is not a PROXY header at the first byte that shows it", () => {
    assert.throws(() => parseProxyHeader(ascii("G")), /Not a PROXY protocol header/);
    assert.equal(parseProxyHeader(ascii("PROX")).needMore, true);
    assert.throws(() => parseProxyHeader(ascii("PROXZ")), /Not a PROXY protocol header/);
    assert.throws(() => parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b])), /Not a PROXY/);
    assert.deepEqual(parseProxyHeader(Buffer.alloc(0)), { needMore: true, needed: 1 });
  });
});

describe("parseProxyHeader, version 2", () => {
  it("parses a PROXY TCP over IPv4 header", () => {
    const r = parsed(Buffer.concat([V2_TCP4, ascii("hello")]));
    assert.equal(r.consumed, 28);
    assert.deepEqual(r.header, {
      version: 2,
      command: "PROXY",
      family: "INET",
      protocol: "STREAM",
      source: new IPv4Address("TCP", "203.0.113.7", 56324),
      destination: new IPv4Address("TCP", "192.0.2.10", 443),
    });
  });

  it("parses IPv6 addresses", () => {
    const r = parsed(v2(1, 0x21, inet6Body("2001:db8::7", "2001:db8::1", 40000, 8443)));
    assert.deepEqual(r.header.source, new IPv6Address("TCP", "2001:db8::7", 40000));
    assert.deepEqual(r.header.destination, new IPv6Address("TCP", "2001:db8::1", 8443));
  });

  it("skips TLVs after the addresses", () => {
    const tlvs = Buffer.from([0x02, 0x00, 0x05, ...ascii("a.com"), 0x04, 0x00, 0x00]);
    const header = v2(1, 0x11, inet4Body("10.1.1.1", "10.2.2.2", 1, 2, tlvs));
    const r = parsed(Buffer.concat([header, ascii("X")]));
    assert.equal(r.consumed, header.length);
    assert.deepEqual(r.header.source, new IPv4Address("TCP", "10.1.1.1", 1));
  });

  it("parses LOCAL as 'use the real addresses', ignoring any address block", () => {
    for (const body of [Buffer.alloc(0), inet4Body("1.1.1.1", "2.2.2.2", 3, 4)]) {
      const r = parsed(v2(0, body.length === 0 ? 0x00 : 0x11, body));
      assert.equal(r.header.command, "LOCAL");
      assert.equal(r.header.source, null);
      assert.equal(r.header.destination, null);
      assert.equal(r.consumed, 16 + body.length);
    }
  });

  it("parses UNSPEC as 'use the real addresses', and Unix socket paths", () => {
    assert.equal(parsed(v2(1, 0x00, Buffer.alloc(3))).header.source, null);
    const body = Buffer.alloc(216);
    body.write("/run/client.sock", 0);
    body.write("/run/server.sock", 108);
    const r = parsed(v2(1, 0x31, body));
    assert.deepEqual(r.header.source, new UNIXAddress("/run/client.sock"));
    assert.deepEqual(r.header.destination, new UNIXAddress("/run/server.sock"));
  });

  it("gives UDP addresses for DGRAM", () => {
    const r = parsed(v2(1, 0x12, inet4Body("1.1.1.1", "2.2.2.2", 53, 53)));
    assert.equal(r.header.protocol, "DGRAM");
    assert.deepEqual(r.header.source, new IPv4Address("UDP", "1.1.1.1", 53));
  });

  it("needs more until the length the header announces, asking for it at once", () => {
    assertNeedsEveryByte(V2_TCP4);
    assert.deepEqual(parseProxyHeader(V2_TCP4.subarray(0, 16)), { needMore: true, needed: 28 });
  });

  it("refuses bad versions, commands, families and short address blocks", () => {
    const bad = (buf: Buffer, message: RegExp, type: Function = InvalidProxyHeader) =>
      assert.throws(
        () => parseProxyHeader(buf),
        (e: unknown) => {
          assert.ok(e instanceof type);
          assert.match((e as Error).message, message);
          return true;
        },
      );
    const wrongVersion = Buffer.from(V2_TCP4);
    wrongVersion[12] = 0x11;
    bad(wrongVersion, /Unsupported PROXY header version: 1/);
    bad(v2(2, 0x11, inet4Body("1.1.1.1", "2.2.2.2", 1, 2)), /Unknown PROXY v2 command: 2/);
    bad(
      v2(1, 0x41, Buffer.alloc(12)),
      /Unknown address family or protocol.*0x41/,
      InvalidNetworkProtocol,
    );
    bad(
      v2(1, 0x13, Buffer.alloc(12)),
      /Unknown address family or protocol/,
      InvalidNetworkProtocol,
    );
    bad(
      v2(1, 0x11, Buffer.alloc(11)),
      /INET address block needs 12 bytes, got 11/,
      MissingAddressData,
    );
    bad(v2(1, 0x21, Buffer.alloc(12)), /INET6 address block needs 36/, MissingAddressData);
  });
});

class Recorder extends Protocol {
  received: Buffer[] = [];
  lost: Failure | null = null;
  peerAtConnect: IAddress | null = null;
  override connectionMade(): void {
    this.peerAtConnect = this.transport!.getPeer();
  }
  override dataReceived(data: Buffer): void {
    this.received.push(data);
  }
  override connectionLost(reason: Failure): void {
    this.lost = reason;
  }
  text(): string {
    return Buffer.concat(this.received).toString("latin1");
  }
}

class RecordingFactory extends Factory<Recorder> {
  built: { addr: IAddress; proto: Recorder }[] = [];
  events: string[] = [];
  refuse = false;
  override buildProtocol(addr: IAddress): Recorder | null {
    if (this.refuse) return null;
    const proto = new Recorder();
    this.built.push({ addr, proto });
    return proto;
  }
  override startFactory(): void {
    this.events.push("start");
  }
  override stopFactory(): void {
    this.events.push("stop");
  }
}

function connect(options: ConstructorParameters<typeof HAProxyWrappingFactory>[1] = {}) {
  const inner = new RecordingFactory();
  const factory = new HAProxyWrappingFactory(inner, options);
  const transport = new StringTransport(
    new IPv4Address("TCP", "10.0.0.5", 8080),
    new IPv4Address("TCP", "10.0.0.2", 41000),
  );
  const wrapper = factory.buildProtocol(transport.getPeer());
  wrapper.makeConnection(transport);
  return { inner, factory, transport, wrapper };
}

describe("HAProxyWrappingFactory", () => {
  it("shows the wrapped protocol the real source and destination (v1)", () => {
    const { inner, transport, wrapper } = connect();
    assert.equal(inner.built.length, 0, "the protocol is built once the header is in");
    wrapper.dataReceived(V1_TCP4);
    assert.equal(inner.built.length, 1);
    const { addr, proto } = inner.built[0]!;
    assert.deepEqual(addr, new IPv4Address("TCP", "203.0.113.7", 56324));
    assert.deepEqual(proto.peerAtConnect, new IPv4Address("TCP", "203.0.113.7", 56324));
    assert.deepEqual(proto.transport!.getHost(), new IPv4Address("TCP", "192.0.2.10", 443));
    assert.ok(proto.transport instanceof HAProxyTransport);
    assert.equal(transport.disconnecting, false);
  });

  it("shows the wrapped protocol the real addresses from a v2 IPv6 header", () => {
    const { inner, wrapper } = connect();
    wrapper.dataReceived(v2(1, 0x21, inet6Body("2001:db8::42", "2001:db8::1", 5000, 443)));
    const proto = inner.built[0]!.proto;
    assert.deepEqual(proto.transport!.getPeer(), new IPv6Address("TCP", "2001:db8::42", 5000));
    assert.deepEqual(proto.transport!.getHost(), new IPv6Address("TCP", "2001:db8::1", 443));
  });

  it("delivers the bytes after the header, in the same chunk and later", () => {
    const { inner, wrapper } = connect();
    wrapper.dataReceived(Buffer.concat([V2_TCP4, ascii("GET / HTTP/1.0\r\n")]));
    wrapper.dataReceived(ascii("\r\n"));
    assert.equal(inner.built[0]!.proto.text(), "GET / HTTP/1.0\r\n\r\n");
  });

  it("works when the header and data arrive one byte at a time", () => {
    for (const header of [V1_TCP4, V2_TCP4]) {
      const { inner, wrapper } = connect();
      for (const byte of Buffer.concat([header, ascii("data")]))
        wrapper.dataReceived(Buffer.from([byte]));
      assert.equal(inner.built.length, 1);
      assert.deepEqual(
        inner.built[0]!.proto.transport!.getPeer(),
        new IPv4Address("TCP", "203.0.113.7", 56324),
      );
      assert.equal(inner.built[0]!.proto.text(), "data");
    }
  });

  it("works with the header and data in random splits", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 50; round++) {
      const header = round % 2 === 0 ? V1_TCP4 : V2_TCP4;
      const stream = Buffer.concat([header, ascii("payload bytes")]);
      const { inner, wrapper } = connect();
      for (let i = 0; i < stream.length; ) {
        const n = 1 + Math.floor(random() * 20);
        wrapper.dataReceived(stream.subarray(i, i + n));
        i += n;
      }
      assert.equal(inner.built[0]!.proto.text(), "payload bytes");
    }
  });

  it("keeps the real addresses for LOCAL (v2) and UNKNOWN (v1)", () => {
    for (const header of [v2(0, 0x00, Buffer.alloc(0)), ascii("PROXY UNKNOWN\r\n")]) {
      const { inner, transport, wrapper } = connect();
      wrapper.dataReceived(header);
      const proto = inner.built[0]!.proto;
      assert.deepEqual(proto.transport!.getPeer(), transport.getPeer());
      assert.deepEqual(proto.transport!.getHost(), transport.getHost());
      assert.deepEqual(inner.built[0]!.addr, transport.getPeer());
    }
  });

  it("closes the connection on a malformed header, never building the protocol", () => {
    const { inner, transport, wrapper } = connect();
    wrapper.dataReceived(ascii("PROXY TCP4 1.2.3.4 nope 1 2\r\nGET /"));
    assert.equal(transport.disconnecting, true);
    assert.equal(inner.built.length, 0);
    wrapper.dataReceived(ascii("more"));
    assert.equal(inner.built.length, 0);
    assert.equal(transport.value().length, 0);
  });

  it("closes a connection that does not start with a header at its first byte", () => {
    const { inner, transport, wrapper } = connect();
    wrapper.dataReceived(ascii("G"));
    assert.equal(transport.disconnecting, true);
    assert.equal(inner.built.length, 0);
  });

  it("closes a connection whose v1 header has no CRLF within 107 bytes, even byte by byte", () => {
    const { transport, wrapper } = connect();
    const long = ascii(`PROXY UNKNOWN ${"x".repeat(150)}`);
    let n = 0;
    for (const byte of long) {
      if (transport.disconnecting) break;
      wrapper.dataReceived(Buffer.from([byte]));
      n++;
    }
    assert.equal(transport.disconnecting, true);
    assert.equal(n, 107);
  });

  it("closes a connection whose header is not complete within the timeout", () => {
    const clock = new Clock();
    const { inner, transport, wrapper } = connect({ timeout: 5, clock });
    wrapper.dataReceived(V1_TCP4.subarray(0, 10));
    clock.advance(4.9);
    assert.equal(transport.disconnecting, false);
    clock.advance(0.2);
    assert.equal(transport.disconnecting, true);
    assert.equal(inner.built.length, 0);
  });

  it("cancels the timeout once the header is in, and when the connection is lost", () => {
    const clock = new Clock();
    const a = connect({ timeout: 5, clock });
    a.wrapper.dataReceived(V1_TCP4);
    const b = connect({ timeout: 5, clock });
    b.wrapper.connectionLost(connectionDone());
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.advance(10);
    assert.equal(a.transport.disconnecting, false);
  });

  it("refuses a timeout without a clock", () => {
    assert.throws(
      () => new HAProxyWrappingFactory(new RecordingFactory(), { timeout: 1 }),
      /needs a clock/,
    );
  });

  it("passes writes, closes and producers through to the real transport", () => {
    const { inner, transport, wrapper } = connect();
    wrapper.dataReceived(V1_TCP4);
    const proto = inner.built[0]!.proto;
    const t = proto.transport as HAProxyTransport;
    t.write("one ");
    t.writeSequence(["two ", Buffer.from("three")]);
    assert.equal(transport.value().toString(), "one two three");
    const producer = { stopProducing() {}, pauseProducing() {}, resumeProducing() {} };
    t.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    t.unregisterProducer();
    t.pauseProducing();
    assert.equal(transport.producerState, "paused");
    t.setTcpNoDelay(true);
    assert.equal(transport.getTcpNoDelay(), true);
    t.loseConnection();
    assert.equal(transport.disconnecting, true);
    assert.equal(t.disconnecting, true);
  });

  it("tells the wrapped protocol about the end of the connection", () => {
    const { inner, wrapper } = connect();
    wrapper.dataReceived(V1_TCP4);
    const reason = connectionDone();
    wrapper.connectionLost(reason);
    assert.equal(inner.built[0]!.proto.lost, reason);
  });

  it("closes the connection when the wrapped factory refuses it", () => {
    const { inner, transport, wrapper } = connect();
    inner.refuse = true;
    wrapper.dataReceived(V1_TCP4);
    assert.equal(transport.disconnecting, true);
  });

  it("starts and stops the wrapped factory with itself", () => {
    const inner = new RecordingFactory();
    const factory = new HAProxyWrappingFactory(inner);
    factory.doStart();
    factory.doStart();
    factory.doStop();
    factory.doStop();
    assert.deepEqual(inner.events, ["start", "stop"]);
  });
});

describe("HAProxyWrappingFactory on a real reactor", () => {
  it("serves a real connection with the client address from the header", async () => {
    const { NodeReactor } = await import("../../src/internet/_reactor.js");
    const { Socket } = await import("node:net");
    const reactor = new NodeReactor();
    const running = reactor.run({ installSignalHandlers: false });
    class SayPeer extends Protocol {
      override dataReceived(data: Buffer): void {
        const peer = this.transport!.getPeer() as IPv4Address;
        this.transport!.write(`${peer.host}:${peer.port} said ${data.toString()}`);
        this.transport!.loseConnection();
      }
    }
    const port = reactor.listenTCP(
      0,
      new HAProxyWrappingFactory(Factory.forProtocol(SayPeer)),
      50,
      "127.0.0.1",
    );
    try {
      const socket = new Socket();
      await new Promise<void>((r) =>
        socket.connect((port.getHost() as IPv4Address).port, "127.0.0.1", r),
      );
      const chunks: Buffer[] = [];
      const done = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.on("data", (d) => chunks.push(d));
      socket.write(Buffer.concat([V2_TCP4, ascii("hi")]));
      await done;
      assert.equal(Buffer.concat(chunks).toString(), "203.0.113.7:56324 said hi");
    } finally {
      await port.stopListening();
      reactor.stop();
      await running;
    }
  });
});
