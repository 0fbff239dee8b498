// Tests of HTTPTunnelEndpoint and ProxyAgent's https: tunnels on StringTransports: CONNECT, answers, TLS, pooling.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Deferred, succeed } from "../../../src/internet/defer.js";
import type { IStreamClientEndpoint } from "../../../src/internet/endpoints.js";
import {
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionLost,
  TimeoutError,
} from "../../../src/internet/error.js";
import { Failure } from "../../../src/internet/failure.js";
import type { IProtocol, IProtocolFactory } from "../../../src/internet/interfaces.js";
import {
  AccumulatingProtocol,
  assertNoResult,
  Clock,
  failureResultOf,
  StringTransportWithDisconnection,
  successResultOf,
} from "../../../src/testing/index.js";
import {
  Headers,
  HTTPConnectionPool,
  HTTPTunnelEndpoint,
  ProxyAgent,
  readBody,
  TunnelError,
} from "../../../src/web/client/index.js";

/** One connection made by a `FakeProxyEndpoint`. */
interface ProxyConnection {
  protocol: IProtocol & { handshakeCompleted?: () => void };
  tr: StringTransportWithDisconnection;
  /** Feeds bytes from the proxy. */
  feed(data: string): void;
  /** What was written to the proxy, as latin1; clears it. */
  take(): string;
}

/** A proxy endpoint whose connections are StringTransports, made at once. */
class FakeProxyEndpoint implements IStreamClientEndpoint {
  readonly connections: ProxyConnection[] = [];

  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    const protocol = factory.buildProtocol({ type: "TCP", host: "127.0.0.1", port: 3128 } as never);
    if (protocol === null) throw new Error("no protocol");
    const tr = new StringTransportWithDisconnection();
    tr.protocol = protocol;
    protocol.makeConnection(tr);
    this.connections.push({
      protocol,
      tr,
      feed: (data) => protocol.dataReceived(Buffer.from(data, "latin1")),
      take: () => {
        const out = tr.value().toString("latin1");
        tr.clear();
        return out;
      },
    });
    return succeed(protocol);
  }
}

function protocolFactory(built: AccumulatingProtocol[]): IProtocolFactory {
  return {
    doStart() {},
    doStop() {},
    buildProtocol() {
      const p = new AccumulatingProtocol();
      built.push(p);
      return p;
    },
  };
}

describe("HTTPTunnelEndpoint", () => {
  it("sends CONNECT with Host and the given headers, and connects the protocol on 200", () => {
    const proxy = new FakeProxyEndpoint();
    const built: AccumulatingProtocol[] = [];
    const endpoint = new HTTPTunnelEndpoint(proxy, "example.com", 443, {
      headers: new Headers({ "Proxy-Authorization": ["Basic dTpw"] }),
    });
    const d = endpoint.connect(protocolFactory(built));
    const c = proxy.connections[0] as ProxyConnection;
    assert.equal(
      c.take(),
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
    );
    assertNoResult(d);
    assert.equal(built[0]?.made, false, "not connected before the answer");
    c.feed("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\nfirst bytes");
    assert.equal(successResultOf(d), built[0]);
    const target = built[0] as AccumulatingProtocol;
    assert.equal(target.made, true);
    assert.equal(target.transport, c.tr, "the proxy connection itself");
    assert.equal(target.data.toString(), "first bytes", "bytes after the answer are the target's");
    c.feed("more");
    assert.equal(target.data.toString(), "first bytesmore");
    target.transport?.write("to target");
    assert.equal(c.take(), "to target");
    c.tr.loseConnection();
    assert.ok(target.closedReason?.check(ConnectionDone));
  });

  it("skips interim 1xx answers; an IPv6 target goes in brackets", () => {
    const proxy = new FakeProxyEndpoint();
    const built: AccumulatingProtocol[] = [];
    const d = new HTTPTunnelEndpoint(proxy, "::1", 8443).connect(protocolFactory(built));
    const c = proxy.connections[0] as ProxyConnection;
    assert.match(c.take(), /^CONNECT \[::1\]:8443 HTTP\/1\.1\r\nHost: \[::1\]:8443\r\n\r\n$/);
    c.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    assert.equal(successResultOf(d), built[0]);
  });

  it("a 407 fails with TunnelError carrying status and headers, and aborts the connection", () => {
    const proxy = new FakeProxyEndpoint();
    const built: AccumulatingProtocol[] = [];
    const d = new HTTPTunnelEndpoint(proxy, "example.com", 443).connect(protocolFactory(built));
    const c = proxy.connections[0] as ProxyConnection;
    c.feed(
      'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="p"\r\nContent-Length: 3\r\n\r\nno!',
    );
    const error = failureResultOf(d, TunnelError).value as TunnelError;
    assert.equal(error.status, 407);
    assert.equal(error.phrase, "Proxy Authentication Required");
    assert.equal(error.headers?.getHeader("proxy-authenticate"), 'Basic realm="p"');
    assert.match(error.message, /refused CONNECT example\.com:443: 407/);
    assert.equal(error.code, "ERR_TUNNEL");
    assert.equal(c.tr.aborted, true);
    assert.equal(built[0]?.made, false, "the protocol never connected");
  });

  it("a proxy that answers garbage or closes first fails with TunnelError without status", () => {
    const proxy = new FakeProxyEndpoint();
    const built: AccumulatingProtocol[] = [];
    const endpoint = new HTTPTunnelEndpoint(proxy, "example.com", 443);
    const garbage = endpoint.connect(protocolFactory(built));
    (proxy.connections[0] as ProxyConnection).feed("SSH-2.0-OpenSSH\r\n\r\n");
    const bad = failureResultOf(garbage, TunnelError).value as TunnelError;
    assert.equal(bad.status, null);
    assert.match(bad.message, /Bad answer to CONNECT/);
    const closed = endpoint.connect(protocolFactory(built));
    (proxy.connections[1] as ProxyConnection).tr.loseConnection();
    const lost = failureResultOf(closed, TunnelError).value as TunnelError;
    assert.match(lost.message, /closed the connection before answering/);
  });

  it("times out waiting for the answer; cancelling aborts the connection", () => {
    const clock = new Clock();
    const proxy = new FakeProxyEndpoint();
    const endpoint = new HTTPTunnelEndpoint(proxy, "example.com", 443, { timeout: 5, clock });
    const d = endpoint.connect(protocolFactory([]));
    clock.advance(4.9);
    assertNoResult(d);
    clock.advance(0.1);
    failureResultOf(d, TimeoutError);
    assert.equal((proxy.connections[0] as ProxyConnection).tr.aborted, true);
    const cancelled = endpoint.connect(protocolFactory([]));
    cancelled.cancel();
    failureResultOf(cancelled, ConnectingCancelledError);
    assert.equal((proxy.connections[1] as ProxyConnection).tr.aborted, true);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("forwards handshakeCompleted and connectionLost once the tunnel is open", () => {
    const proxy = new FakeProxyEndpoint();
    let handshakes = 0;
    const target = Object.assign(new AccumulatingProtocol(), {
      handshakeCompleted: () => void handshakes++,
    });
    const factory: IProtocolFactory = {
      doStart() {},
      doStop() {},
      buildProtocol: () => target,
    };
    new HTTPTunnelEndpoint(proxy, "example.com", 443).connect(factory);
    const c = proxy.connections[0] as ProxyConnection;
    c.protocol.handshakeCompleted?.();
    assert.equal(handshakes, 0, "not before the tunnel is open");
    c.feed("HTTP/1.1 200 OK\r\n\r\n");
    c.protocol.handshakeCompleted?.();
    assert.equal(handshakes, 1);
    c.protocol.connectionLost(new Failure(new ConnectionLost()));
    assert.ok(target.closedReason?.check(ConnectionLost));
  });
});

describe("ProxyAgent: https: through a CONNECT tunnel", () => {
  function setup() {
    const clock = new Clock();
    const proxy = new FakeProxyEndpoint();
    const pool = new HTTPConnectionPool(clock);
    const agent = new ProxyAgent(proxy, clock, {
      pool,
      proxyHeaders: new Headers({ "Proxy-Authorization": ["Basic cHJveHk6cHc="] }),
    });
    return { clock, proxy, pool, agent };
  }

  /** Answers the CONNECT of `c` with 200 and completes the TLS handshake. */
  function openTunnel(c: ProxyConnection): void {
    c.feed("HTTP/1.1 200 Connection established\r\n\r\n");
    c.protocol.handshakeCompleted?.();
  }

  it("CONNECT with proxyHeaders, then TLS for the target, then the request in origin form", () => {
    const { proxy, pool, agent } = setup();
    const d = agent.request(
      "GET",
      "https://user:pw@example.com/a?b=1",
      new Headers({ "Proxy-Authorization": ["Basic bGVhaw=="], "X-Test": ["1"] }),
    );
    const c = proxy.connections[0] as ProxyConnection;
    assert.equal(
      c.take(),
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic cHJveHk6cHc=\r\n\r\n",
    );
    c.feed("HTTP/1.1 200 Connection established\r\n\r\n");
    assert.equal(c.tr.TLS, true, "TLS started over the proxy connection");
    const tls = c.tr.tlsOptions as Record<string, unknown>;
    assert.equal(tls.servername, "example.com", "SNI names the target");
    assert.equal(tls.rejectUnauthorized, true);
    assert.deepEqual(tls.ALPNProtocols, ["http/1.1"]);
    assert.equal(tls.host, "example.com", "the certificate is checked against the target");
    assert.equal(c.take(), "", "nothing before the handshake");
    c.protocol.handshakeCompleted?.();
    const sent = c.take();
    assert.match(sent, /^GET \/a\?b=1 HTTP\/1\.1\r\n/);
    assert.match(sent, /\r\nHost: example\.com\r\n/);
    assert.match(sent, /\r\nAuthorization: Basic dXNlcjpwdw==\r\n/);
    assert.match(sent, /\r\nX-Test: 1\r\n/);
    assert.doesNotMatch(sent, /Proxy-Authorization/i, "proxy credentials stay with the proxy");
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    const response = successResultOf(d);
    assert.equal(successResultOf(readBody(response)).toString(), "hi");
    assert.equal(pool.cachedConnectionCount(), 1);
  });

  it("a kept tunnel serves its own target only; plain requests use their own connection", () => {
    const { proxy, pool, agent } = setup();
    const first = agent.request("GET", "https://example.com/1");
    const c0 = proxy.connections[0] as ProxyConnection;
    openTunnel(c0);
    c0.take();
    c0.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
    successResultOf(readBody(successResultOf(first)));
    const again = agent.request("GET", "https://example.com/2");
    assert.equal(proxy.connections.length, 1, "the tunnel is reused");
    assert.match(c0.take(), /^GET \/2 HTTP\/1\.1\r\n/);
    c0.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
    successResultOf(readBody(successResultOf(again)));
    agent.request("GET", "https://other.example/");
    assert.equal(proxy.connections.length, 2, "another target, another tunnel");
    assert.match((proxy.connections[1] as ProxyConnection).take(), /^CONNECT other\.example:443 /);
    agent.request("GET", "http://example.com/plain");
    assert.equal(proxy.connections.length, 3, "a plain request never goes into a tunnel");
    const plain = (proxy.connections[2] as ProxyConnection).take();
    assert.match(plain, /^GET http:\/\/example\.com\/plain HTTP\/1\.1\r\n/);
    assert.match(plain, /\r\nProxy-Authorization: Basic cHJveHk6cHc=\r\n/);
    assert.equal(pool.cachedConnectionCount(), 1);
  });

  it("a refused CONNECT fails the request with the TunnelError", () => {
    const { proxy, agent } = setup();
    const d = agent.request("GET", "https://example.com/");
    (proxy.connections[0] as ProxyConnection).feed(
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    );
    const error = failureResultOf(d, TunnelError).value as TunnelError;
    assert.equal(error.status, 403);
  });

  it("readTimeout bounds the wait for the proxy's answer", () => {
    const clock = new Clock();
    const proxy = new FakeProxyEndpoint();
    const agent = new ProxyAgent(proxy, clock, { readTimeout: 10 });
    const d = agent.request("GET", "https://example.com/");
    clock.advance(10);
    failureResultOf(d, TimeoutError);
  });
});
