// Tests of Agent, ProxyAgent and HTTPConnectionPool on a MemoryReactorClock: connections, reuse, retry, cancel.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { succeed } from "../../../src/internet/defer.js";
import { HostnameEndpoint } from "../../../src/internet/endpoints.js";
import {
  CancelledError,
  ConnectionDone,
  ConnectionRefusedError,
} from "../../../src/internet/error.js";
import type { IProtocol } from "../../../src/internet/interfaces.js";
import { makeSelfSignedCertificate } from "../../../src/internet/ssl.js";
import {
  assertNoResult,
  failureResultOf,
  MemoryReactorClock,
  StringTransport,
  successResultOf,
} from "../../../src/testing/index.js";
import {
  Agent,
  BrowserLikePolicyForHTTPS,
  FileBodyProducer,
  Headers,
  HTTP11ClientProtocol,
  HTTPConnectionPool,
  ProxyAgent,
  ResponseNeverReceived,
  readBody,
  SchemeNotSupported,
} from "../../../src/web/client/index.js";

const resolver = (host: string) =>
  succeed(host === "example.com" ? [{ address: "192.0.2.1", family: 4 as const }] : []);

interface Served {
  tr: StringTransport;
  proto: HTTP11ClientProtocol;
  written(): string;
  respond(data: string): void;
  lose(reason?: unknown): void;
}

/** Completes connection attempt `i` and returns the client protocol on it. */
function serve(reactor: MemoryReactorClock, i: number): Served {
  const tr = new StringTransport();
  const wrapper = reactor.completeConnection(i, tr) as unknown as { wrappedProtocol: IProtocol };
  let proto = wrapper.wrappedProtocol;
  // Through wrapClientTLS: finish the (simulated) handshake first.
  if (!(proto instanceof HTTP11ClientProtocol)) {
    (proto as unknown as { handshakeCompleted(): void }).handshakeCompleted();
    proto = (proto as unknown as { wrappedProtocol: IProtocol }).wrappedProtocol;
  }
  const client = proto as HTTP11ClientProtocol;
  return {
    tr,
    proto: client,
    written: () => tr.value().toString("latin1"),
    respond: (data) => client.dataReceived(Buffer.from(data, "latin1")),
    lose: (reason) => reactor.connectionLost(i, reason),
  };
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

describe("Agent", () => {
  it("resolves the host, connects to its address and port, and sends the request", () => {
    const reactor = new MemoryReactorClock();
    const agent = new Agent(reactor, { resolver, connectTimeout: 7 });
    const d = agent.request(
      "GET",
      "http://example.com:8080/a?b=1",
      new Headers({ Accept: ["*/*"] }),
    );
    const [host, port, , timeout] = reactor.tcpClients[0] ?? [];
    assert.deepEqual([host, port, timeout], ["192.0.2.1", 8080, 7]);
    const s = serve(reactor, 0);
    assert.equal(
      s.written(),
      "GET /a?b=1 HTTP/1.1\r\nAccept: */*\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n",
    );
    s.respond(OK);
    const response = successResultOf(d);
    assert.equal(successResultOf(readBody(response)).toString(), "ok");
    assert.equal(response.request?.absoluteURI, "http://example.com:8080/a?b=1");
    assert.ok(s.tr.disconnecting, "the default pool is not persistent");
  });

  it("userinfo becomes Authorization: Basic and is not sent in the target", () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request("GET", "http://al%20ice:s3cret@127.0.0.1/x");
    const s = serve(reactor, 0);
    const expected = Buffer.from("al ice:s3cret").toString("base64");
    assert.match(
      s.written(),
      new RegExp(`^GET /x HTTP/1.1\r\nAuthorization: Basic ${expected}\r\nHost: 127.0.0.1\r\n`),
    );
    assertNoResult(d);
  });

  it("a body producer's length becomes Content-Length", () => {
    const reactor = new MemoryReactorClock();
    new Agent(reactor).request("POST", "http://127.0.0.1/", null, new FileBodyProducer("abc"));
    assert.match(serve(reactor, 0).written(), /Content-Length: 3\r\n\r\nabc$/);
  });

  it("an unsupported scheme fails with SchemeNotSupported, a bad URI with TypeError", () => {
    const agent = new Agent(new MemoryReactorClock());
    failureResultOf(agent.request("GET", "ftp://example.com/"), SchemeNotSupported);
    failureResultOf(agent.request("GET", "not a uri"), TypeError);
  });

  it("a refused connection fails the request with ConnectionRefusedError", () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request("GET", "http://127.0.0.1:1/");
    reactor.failConnection(0);
    failureResultOf(d, ConnectionRefusedError);
  });

  it("cancelling while connecting stops the attempt and fails with CancelledError", () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request("GET", "http://127.0.0.1/");
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(reactor.connectors[0]?.stoppedConnecting, true);
    assert.equal(reactor.getDelayedCalls().length, 0);
  });

  it("cancelling while waiting for the response aborts the connection", () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor).request("GET", "http://127.0.0.1/");
    const s = serve(reactor, 0);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.ok(s.tr.aborted);
  });

  it("https: TLS with the host name checked against the platform roots by default", () => {
    const reactor = new MemoryReactorClock();
    const d = new Agent(reactor, { resolver }).request("GET", "https://example.com/");
    const tr = new StringTransport();
    reactor.completeConnection(0, tr);
    assert.equal(tr.TLS, true, "startTLS was called");
    assert.equal(tr.tlsOptions?.servername, "example.com");
    assert.equal(tr.tlsOptions?.rejectUnauthorized, true);
    assert.equal(tr.tlsOptions?.ca, undefined);
    assert.equal(tr.value().length, 0, "nothing is sent before the handshake");
    assertNoResult(d);
  });

  it("https: a policy with custom trust roots passes them on", () => {
    const reactor = new MemoryReactorClock();
    const { cert } = makeSelfSignedCertificate({ commonName: "localhost" });
    const agent = new Agent(reactor, { tlsPolicy: new BrowserLikePolicyForHTTPS(cert) });
    const d = agent.request("GET", "https://127.0.0.1:8443/");
    const s = serve(reactor, 0);
    assert.deepEqual(s.tr.tlsOptions?.ca, [cert]);
    assert.equal(s.tr.tlsOptions?.servername, undefined, "no SNI for an IP address");
    assert.equal(s.tr.tlsOptions?.host, "127.0.0.1");
    assert.match(s.written(), /^GET \/ HTTP\/1.1\r\nHost: 127.0.0.1:8443\r\n/);
    s.respond(OK);
    assert.equal(successResultOf(d).code, 200);
  });
});

describe("HTTPConnectionPool", () => {
  function persistentAgent(reactor: MemoryReactorClock): {
    agent: Agent;
    pool: HTTPConnectionPool;
  } {
    const pool = new HTTPConnectionPool(reactor);
    return { agent: new Agent(reactor, { pool }), pool };
  }

  /** A persistent agent holding one idle connection (server `s`): a GET answered and read. */
  function idleConnection(reactor: MemoryReactorClock): {
    agent: Agent;
    pool: HTTPConnectionPool;
    s: Served;
  } {
    const { agent, pool } = persistentAgent(reactor);
    const d = agent.request("GET", "http://127.0.0.1/");
    const s = serve(reactor, 0);
    s.respond(OK);
    successResultOf(readBody(successResultOf(d)));
    return { agent, pool, s };
  }

  it("a persistent pool reuses the connection for the next request to the same host", () => {
    const reactor = new MemoryReactorClock();
    const { agent, pool } = persistentAgent(reactor);
    const d1 = agent.request("GET", "http://127.0.0.1/1");
    const s = serve(reactor, 0);
    assert.doesNotMatch(s.written(), /Connection:/);
    s.respond(OK);
    successResultOf(readBody(successResultOf(d1)));
    assert.equal(pool.cachedConnectionCount(), 1);
    s.tr.clear();
    const d2 = agent.request("GET", "http://127.0.0.1/2");
    assert.equal(reactor.tcpClients.length, 1, "no new connection");
    assert.match(s.written(), /^GET \/2 /);
    s.respond(OK);
    assert.equal(successResultOf(d2).code, 200);
  });

  it("different hosts, ports and schemes get different connections", () => {
    const reactor = new MemoryReactorClock();
    const { agent } = persistentAgent(reactor);
    agent.request("GET", "http://127.0.0.1/");
    serve(reactor, 0).respond(OK);
    agent.request("GET", "http://127.0.0.1:81/");
    agent.request("GET", "http://127.0.0.2/");
    assert.equal(reactor.tcpClients.length, 3);
  });

  it("keeps at most maxPersistentPerHost idle connections, closing the oldest", () => {
    const reactor = new MemoryReactorClock();
    const { agent, pool } = persistentAgent(reactor);
    pool.maxPersistentPerHost = 1;
    const d1 = agent.request("GET", "http://127.0.0.1/");
    const d2 = agent.request("GET", "http://127.0.0.1/");
    const s1 = serve(reactor, 0);
    const s2 = serve(reactor, 1);
    s1.respond(OK);
    successResultOf(readBody(successResultOf(d1)));
    s2.respond(OK);
    successResultOf(readBody(successResultOf(d2)));
    assert.equal(pool.cachedConnectionCount(), 1);
    assert.ok(s1.tr.disconnecting);
    assert.ok(!s2.tr.disconnecting);
  });

  it("closes an idle connection after cachedConnectionTimeout on the reactor's clock", () => {
    const reactor = new MemoryReactorClock();
    const { agent, pool } = persistentAgent(reactor);
    pool.cachedConnectionTimeout = 10;
    const d = agent.request("GET", "http://127.0.0.1/");
    const s = serve(reactor, 0);
    s.respond(OK);
    successResultOf(readBody(successResultOf(d)));
    reactor.advance(9);
    assert.ok(!s.tr.disconnecting);
    reactor.advance(1);
    assert.ok(s.tr.disconnecting);
    assert.equal(pool.cachedConnectionCount(), 0);
  });

  it("forgets an idle connection the server closed", () => {
    const reactor = new MemoryReactorClock();
    const { agent, pool, s } = idleConnection(reactor);
    s.lose();
    assert.equal(pool.cachedConnectionCount(), 0);
    assert.equal(reactor.getDelayedCalls().length, 0);
    agent.request("GET", "http://127.0.0.1/");
    assert.equal(reactor.tcpClients.length, 2);
  });

  it("retries an idempotent request once on a new connection when a cached one was closed under it", () => {
    const reactor = new MemoryReactorClock();
    const { agent, s: s1 } = idleConnection(reactor);
    const d2 = agent.request("GET", "http://127.0.0.1/again");
    s1.lose(new ConnectionDone());
    assert.equal(reactor.tcpClients.length, 2, "a new connection for the retry");
    const s2 = serve(reactor, 1);
    assert.match(s2.written(), /^GET \/again /);
    s2.respond(OK);
    assert.equal(successResultOf(d2).code, 200);
  });

  it("does not retry a request with a body, nor one on a new connection", () => {
    const reactor = new MemoryReactorClock();
    const { agent, s: s1 } = idleConnection(reactor);
    const d2 = agent.request("POST", "http://127.0.0.1/", null, new FileBodyProducer("x"));
    s1.lose();
    failureResultOf(d2, ResponseNeverReceived);
    const d3 = agent.request("GET", "http://127.0.0.1/");
    serve(reactor, 1).lose();
    failureResultOf(d3, ResponseNeverReceived);
    assert.equal(reactor.tcpClients.length, 2);
  });

  it("closeCachedConnections closes idle connections and fires once they are gone", () => {
    const reactor = new MemoryReactorClock();
    const { pool, s } = idleConnection(reactor);
    const closed = pool.closeCachedConnections();
    assert.ok(s.tr.disconnecting);
    assertNoResult(closed);
    s.lose();
    successResultOf(closed);
    assert.equal(reactor.getDelayedCalls().length, 0);
  });

  it("connections made under different TLS policies are not shared", () => {
    const reactor = new MemoryReactorClock();
    const pool = new HTTPConnectionPool(reactor);
    const a = new Agent(reactor, { pool });
    const b = new Agent(reactor, { pool, tlsPolicy: new BrowserLikePolicyForHTTPS("platform") });
    const d = a.request("GET", "https://127.0.0.1/");
    const s = serve(reactor, 0);
    s.respond(OK);
    successResultOf(readBody(successResultOf(d)));
    b.request("GET", "https://127.0.0.1/");
    assert.equal(reactor.tcpClients.length, 2);
  });
});

describe("ProxyAgent", () => {
  it("connects to the proxy and sends the absolute URI as request target", () => {
    const reactor = new MemoryReactorClock();
    const proxy = new HostnameEndpoint(reactor, "127.0.0.9", 3128);
    const agent = new ProxyAgent(proxy, reactor);
    const d = agent.request("GET", "http://example.com:8080/a?b#frag");
    const [host, port] = reactor.tcpClients[0] ?? [];
    assert.deepEqual([host, port], ["127.0.0.9", 3128]);
    const s = serve(reactor, 0);
    assert.match(
      s.written(),
      /^GET http:\/\/example.com:8080\/a\?b HTTP\/1.1\r\nHost: example.com:8080\r\n/,
    );
    s.respond(OK);
    assert.equal(successResultOf(d).code, 200);
  });

  it("a persistent pool shares proxy connections across target hosts", () => {
    const reactor = new MemoryReactorClock();
    const pool = new HTTPConnectionPool(reactor);
    const agent = new ProxyAgent(new HostnameEndpoint(reactor, "127.0.0.9", 3128), reactor, {
      pool,
    });
    const d = agent.request("GET", "http://a.example/");
    const s = serve(reactor, 0);
    s.respond(OK);
    successResultOf(readBody(successResultOf(d)));
    agent.request("GET", "http://b.example/");
    assert.equal(reactor.tcpClients.length, 1);
  });
});
