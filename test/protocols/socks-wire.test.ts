// Tests of the SOCKS wire formats: request parsers and their bounds.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseSOCKS4Request,
  parseSOCKS5Credentials,
  parseSOCKS5Greeting,
  parseSOCKS5Request,
  SOCKSProtocolError,
  socks4Reply,
  socks5Reply,
} from "../../src/protocols/socks.js";
import { bytes, port, v5Connect, v5Domain } from "./_socks.js";

describe("SOCKS wire parsers", () => {
  it("parse a SOCKS4 request, a SOCKS4a one, and need more until the NULs", () => {
    const v4 = bytes([4, 1, ...port(80), 93, 184, 216, 34], "bob", [0]);
    assert.deepEqual(parseSOCKS4Request(v4), {
      value: { version: 4, command: 1, host: "93.184.216.34", port: 80, userId: "bob" },
      consumed: v4.length,
    });
    const v4a = bytes([4, 1, ...port(443), 0, 0, 0, 1], [0], "example.com", [0], "extra");
    const r = parseSOCKS4Request(v4a)!;
    assert.equal(r.value.host, "example.com");
    assert.equal(r.consumed, v4a.length - 5);
    for (let n = 0; n < v4a.length - 5; n++)
      assert.equal(parseSOCKS4Request(v4a.subarray(0, n)), null);
  });

  it("refuse SOCKS4 user ids and host names longer than 255 bytes", () => {
    const long = bytes([4, 1, 0, 80, 1, 2, 3, 4], "u".repeat(256));
    assert.throws(() => parseSOCKS4Request(long), /user id longer than 255 bytes/);
    assert.equal(parseSOCKS4Request(long.subarray(0, 8 + 255)), null);
    const longHost = bytes([4, 1, 0, 80, 0, 0, 0, 9], [0], "h".repeat(300));
    assert.throws(() => parseSOCKS4Request(longHost), /host name longer than 255 bytes/);
  });

  it("parse SOCKS5 requests for IPv4, IPv6 and domain names", () => {
    assert.deepEqual(
      parseSOCKS5Request(v5Connect(1, [127, 0, 0, 1], 8080))!.value.host,
      "127.0.0.1",
    );
    const v6 = Buffer.alloc(16);
    v6[15] = 1;
    assert.deepEqual(parseSOCKS5Request(v5Connect(4, v6, 22))!.value, {
      version: 5,
      command: 1,
      host: "::1",
      port: 22,
      userId: "",
    });
    assert.equal(parseSOCKS5Request(v5Domain("example.org", 443))!.value.host, "example.org");
    const whole = v5Domain("example.org", 443);
    for (let n = 0; n < whole.length; n++)
      assert.equal(parseSOCKS5Request(whole.subarray(0, n)), null);
  });

  it("refuse an unknown SOCKS5 address type with reply 8, a bad host name with reply 1", () => {
    assert.throws(
      () => parseSOCKS5Request(bytes([5, 1, 0, 9, 1, 2])),
      (e: unknown) => e instanceof SOCKSProtocolError && e.reply === 8,
    );
    assert.throws(
      () => parseSOCKS5Request(v5Domain("bad host", 80)),
      (e: unknown) => e instanceof SOCKSProtocolError && e.reply === 1,
    );
    assert.throws(
      () => parseSOCKS5Request(bytes([5, 1, 0, 3, 0, 0, 80])),
      (e: unknown) => e instanceof SOCKSProtocolError && /Empty host name/.test(e.message),
    );
  });
});

describe("SOCKS5 greeting, credentials and replies", () => {
  it("parse the methods offered, needing more until all are in", () => {
    assert.deepEqual(parseSOCKS5Greeting(bytes([5, 2, 0, 2, 99])), { value: [0, 2], consumed: 4 });
    assert.equal(parseSOCKS5Greeting(bytes([5, 2, 0])), null);
    assert.throws(() => parseSOCKS5Greeting(bytes([4, 1, 0])), SOCKSProtocolError);
  });

  it("parse RFC 1929 credentials as raw bytes, an empty password included", () => {
    const r = parseSOCKS5Credentials(bytes([1, 3], "bob", [0]))!;
    assert.equal(r.value.username.toString(), "bob");
    assert.equal(r.value.password.length, 0);
    assert.equal(r.consumed, 6);
    const full = bytes([1, 5], "alice", [6], "secret");
    for (let n = 0; n < full.length; n++)
      assert.equal(parseSOCKS5Credentials(full.subarray(0, n)), null);
  });

  it("build replies with IPv4, IPv6 or empty bound addresses", () => {
    assert.deepEqual([...socks5Reply(0, "10.0.0.1", 1080)], [5, 0, 0, 1, 10, 0, 0, 1, 4, 56]);
    assert.deepEqual([...socks5Reply(0, "::1", 1)].slice(0, 4), [5, 0, 0, 4]);
    assert.equal(socks5Reply(0, "::1", 1).length, 22);
    assert.deepEqual([...socks5Reply(4, "not-an-ip", 9)], [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...socks4Reply(90, "1.2.3.4", 80)], [0, 90, 0, 80, 1, 2, 3, 4]);
    assert.deepEqual([...socks4Reply(91, "::1", 80)], [0, 91, 0, 0, 0, 0, 0, 0]);
  });
});
