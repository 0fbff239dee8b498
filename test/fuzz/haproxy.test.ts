// Fuzz tests of the PROXY protocol (v1 text, v2 binary) reader: parseProxyHeader and
// HAProxyWrappingFactory over a StringTransport. Mutated headers, whole and in random splits:
// parseProxyHeader only returns or throws InvalidProxyHeader; the wrapper builds the wrapped
// protocol with the same addresses and hands it the same bytes, or drops the connection, whatever
// the split; and it never holds more than a v2 header can be long.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import type { IAddress } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  HAProxyWrappingFactory,
  InvalidProxyHeader,
  parseProxyHeader,
  V2_SIGNATURE,
} from "../../src/protocols/haproxy.js";
import { LogCapture, StringTransport } from "../../src/testing/index.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

function v2(command: number, famProto: number, body: Buffer): Buffer {
  const head = Buffer.from([0x20 | command, famProto, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

const inet4 = Buffer.from([203, 0, 113, 7, 192, 0, 2, 10, 0xdb, 0xe4, 1, 187]);
const inet6 = Buffer.concat([
  Buffer.alloc(15),
  Buffer.from([1]),
  Buffer.alloc(15),
  Buffer.from([2, 0, 80, 1, 187]),
]);
const unix = Buffer.concat([Buffer.alloc(108, 0x61), Buffer.alloc(108, 0x62)]);
const tlv = Buffer.from([0x01, 0, 2, 0x68, 0x32, 0x20, 0, 5, 1, 0, 0, 0, 0]);

const HEADERS = [
  Buffer.from("PROXY TCP4 203.0.113.7 192.0.2.10 56324 443\r\n"),
  Buffer.from("PROXY TCP6 2001:db8::1 ::1 56324 443\r\n"),
  Buffer.from("PROXY UNKNOWN\r\n"),
  Buffer.from("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"),
  v2(1, 0x11, inet4),
  v2(1, 0x11, Buffer.concat([inet4, tlv])),
  v2(1, 0x21, inet6),
  v2(1, 0x31, unix),
  v2(0, 0x00, Buffer.alloc(0)),
  v2(1, 0x12, inet4),
];

class Recorder extends Protocol {
  data: Buffer[] = [];
  override dataReceived(data: Buffer): void {
    this.data.push(Buffer.from(data));
  }
}

class Recording extends Factory<Recorder> {
  built: { addr: IAddress; proto: Recorder }[] = [];
  override buildProtocol(addr: IAddress): Recorder {
    const proto = new Recorder();
    this.built.push({ addr, proto });
    return proto;
  }
}

function run(chunks: Buffer[]) {
  const inner = new Recording();
  const factory = new HAProxyWrappingFactory(inner);
  const t = new StringTransport(
    new IPv4Address("TCP", "10.0.0.5", 8080),
    new IPv4Address("TCP", "10.0.0.2", 41000),
  );
  const wrapper = factory.buildProtocol(t.getPeer());
  wrapper.makeConnection(t);
  for (const c of chunks) {
    wrapper.dataReceived(c);
    const held = (wrapper as unknown as { buffered: number; chunks: Buffer[] }).chunks.reduce(
      (a, x) => a + x.length,
      0,
    );
    assert.ok(held <= 16 + 65535, `holds ${held} bytes`);
  }
  const built = inner.built[0];
  return {
    closed: t.disconnecting,
    addr: built === undefined ? null : String(built.addr),
    peer: built === undefined ? null : String(built.proto.transport?.getPeer()),
    host: built === undefined ? null : String(built.proto.transport?.getHost()),
    data: built === undefined ? null : Buffer.concat(built.proto.data).toString("hex"),
  };
}

describe("fuzz: PROXY protocol", () => {
  it("parseProxyHeader returns or throws InvalidProxyHeader, on any prefix of a mutated header", () => {
    runCases(71, 1500, (r: Rand) => {
      const input = mutateMany(r, r.pick(HEADERS));
      for (const end of [input.length, r.int(input.length + 1)]) {
        try {
          const out = parseProxyHeader(input.subarray(0, end));
          if (!out.needMore) assert.ok(out.consumed > 0 && out.consumed <= end);
          else assert.ok(out.needed > end || out.needed >= 1);
        } catch (e) {
          assert.ok(
            e instanceof InvalidProxyHeader,
            `threw ${String(e)} for ${input.toString("hex")}`,
          );
        }
      }
    });
  });

  it("the wrapper does the same in any split: same addresses and bytes, or the connection dropped", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(72, 1500, (r: Rand) => {
        let input: Buffer = Buffer.concat([r.pick(HEADERS), Buffer.from("GET / HTTP/1.0\r\n\r\n")]);
        if (r.chance(0.8)) input = mutateMany(r, input);
        const whole = run([input]);
        const pieces = run(split(r, input));
        assert.deepEqual(pieces, whole, `split changed the outcome of ${input.toString("hex")}`);
      });
    } finally {
      logs.stop();
    }
  });
});
