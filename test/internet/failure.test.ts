// Tests of Failure, error classes and addresses.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address, IPv6Address, ipAddress, UNIXAddress } from "../../src/internet/address.js";
import {
  CannotListenError,
  ConnectError,
  ConnectionLost,
  ConnectionRefusedError,
  connectErrorFromNode,
  DNSLookupError,
  NoRouteError,
  ProcessTerminated,
  SSLError,
  TCPTimedOutError,
  TwistedError,
} from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";

describe("Failure", () => {
  it("wraps an error with its type, message and stack", () => {
    const f = new Failure(new ConnectionRefusedError());
    assert.equal(f.type, ConnectionRefusedError);
    assert.equal(f.getErrorMessage(), "Connection was refused by other side");
    assert.match(f.getTraceback(), /ConnectionRefusedError/);
    assert.match(String(f), /^\[Failure instance: ConnectionRefusedError: /);
  });

  it("wraps non-Error values, and a Failure of a Failure is the same value", () => {
    assert.equal(new Failure("text").getErrorMessage(), "text");
    assert.equal(new Failure({ a: 1 }).getErrorMessage(), '{"a":1}');
    const inner = new Failure(new Error("x"));
    assert.equal(new Failure(inner).value, inner.value);
    assert.equal(Failure.from(inner), inner);
  });

  it("check matches by class (with subclasses) or by name, and trap rethrows the Failure", () => {
    const f = new Failure(new ConnectionRefusedError());
    assert.equal(f.check(ConnectionLost, ConnectError), ConnectError);
    assert.equal(f.check("ConnectionRefusedError"), "ConnectionRefusedError");
    assert.equal(f.check(DNSLookupError), null);
    assert.equal(f.trap(ConnectionRefusedError), ConnectionRefusedError);
    assert.throws(
      () => f.trap(DNSLookupError),
      (e: unknown) => e === f,
    );
  });

  it("getTraceback follows the chain of causes", () => {
    const f = new Failure(new ConnectionLost("lost", { cause: new Error("ECONNRESET") }));
    assert.match(f.getTraceback(), /Caused by: Error: ECONNRESET/);
  });

  it("raiseException throws the wrapped value", () => {
    const e = new Error("boom");
    assert.throws(
      () => new Failure(e).raiseException(),
      (x: unknown) => x === e,
    );
  });
});

describe("errors", () => {
  it("have stable codes, names and Twisted's default messages", () => {
    const e = new ConnectionRefusedError();
    assert.ok(e instanceof ConnectError && e instanceof TwistedError && e instanceof Error);
    assert.equal(e.code, "ERR_CONNECTION_REFUSED");
    assert.equal(e.name, "ConnectionRefusedError");
    const listen = new CannotListenError("127.0.0.1", 80, { cause: new Error("EACCES") });
    assert.equal(listen.message, "Couldn't listen on 127.0.0.1:80: EACCES");
    assert.equal(new ProcessTerminated(3).exitCode, 3);
    assert.match(new ProcessTerminated(null, "SIGKILL").message, /signal SIGKILL/);
  });

  it("connectErrorFromNode maps Node's error codes and keeps the cause", () => {
    const cases: [string, Function][] = [
      ["ECONNREFUSED", ConnectionRefusedError],
      ["ENOTFOUND", DNSLookupError],
      ["EAI_AGAIN", DNSLookupError],
      ["ETIMEDOUT", TCPTimedOutError],
      ["EHOSTUNREACH", NoRouteError],
      ["ERR_SSL_WRONG_VERSION_NUMBER", SSLError],
      ["DEPTH_ZERO_SELF_SIGNED_CERT", SSLError],
      ["EWHATEVER", ConnectError],
    ];
    for (const [code, cls] of cases) {
      const cause = Object.assign(new Error(`x ${code}`), { code });
      const e = connectErrorFromNode(cause);
      assert.equal(e.constructor, cls, code);
      assert.equal(e.cause, cause);
    }
  });
});

describe("addresses", () => {
  it("ipAddress builds IPv4 and IPv6 addresses, unmapping ::ffff:a.b.c.d", () => {
    assert.ok(
      ipAddress("TCP", "127.0.0.1", 80, "IPv4").equals(new IPv4Address("TCP", "127.0.0.1", 80)),
    );
    assert.ok(ipAddress("TCP", "::1", 80, "IPv6").equals(new IPv6Address("TCP", "::1", 80)));
    assert.ok(
      ipAddress("TCP", "::ffff:10.0.0.1", 80, "IPv6").equals(
        new IPv4Address("TCP", "10.0.0.1", 80),
      ),
    );
    assert.equal((ipAddress("UDP", "fe80::1%lo", 5, 6) as IPv6Address).scopeID, "lo");
  });

  it("print like Twisted's and compare by value", () => {
    assert.equal(
      String(new IPv4Address("TCP", "127.0.0.1", 8080)),
      "IPv4Address(type='TCP', host='127.0.0.1', port=8080)",
    );
    assert.equal(String(new UNIXAddress("/tmp/s")), "UNIXAddress('/tmp/s')");
    assert.ok(new UNIXAddress("/a").equals(new UNIXAddress("/a")));
    assert.ok(!new IPv4Address("TCP", "1.2.3.4", 1).equals(new IPv4Address("UDP", "1.2.3.4", 1)));
  });
});
