// ProxyAgent against real proxies: tinyproxy (CONNECT tunnels to a TLS Site, forwarding, 403/407) and a raw proxy that answers 407.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import type { IPv4Address } from "../../../src/internet/address.js";
import { HostnameEndpoint } from "../../../src/internet/endpoints.js";
import { SSLError } from "../../../src/internet/error.js";
import type { IListeningPort } from "../../../src/internet/interfaces.js";
import {
  BrowserLikePolicyForHTTPS,
  FileBodyProducer,
  Headers,
  HTTPConnectionPool,
  ProxyAgent,
  readBody,
  TunnelError,
} from "../../../src/web/client/index.js";
import { type Request, Resource, Site } from "../../../src/web/index.js";
import { makeTestCertificates, type TestCertificates } from "../../_helpers/certs.js";
import { requirePeer, type Started, start } from "../../_helpers/proc.js";

const TINYPROXY = "/usr/bin/tinyproxy";
const reactor = new NodeReactor();
const AUTH = new Headers({
  "Proxy-Authorization": [`Basic ${Buffer.from("user:secret").toString("base64")}`],
});

/** Says how the request arrived: TLS or not, from which port, and what it carried. */
class Echo extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    const peer = request.getClientAddress() as IPv4Address;
    const proxyAuth = request.getHeader("proxy-authorization") ?? "-";
    return `secure=${request.isSecure()} port=${peer.port} uri=${request.uri} proxy-auth=${proxyAuth}`;
  }
  render_POST(request: Request): string {
    return `posted ${request.content.read().length}`;
  }
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function portOf(p: IListeningPort): number {
  return (p.getHost() as IPv4Address).port;
}

describe("ProxyAgent through tinyproxy", () => {
  let certs: TestCertificates;
  let tinyproxy: Started;
  let dir: string;
  const ports: IListeningPort[] = [];
  let tlsPort: number;
  let otherIpPort: number;
  let plainPort: number;
  let closedPort: number;
  let proxyEndpoint: HostnameEndpoint;

  before(async () => {
    requirePeer(TINYPROXY, "tinyproxy");
    certs = await makeTestCertificates();
    const site = new Site(new Echo(), { reactor });
    const tls = { key: certs.serverKey, cert: certs.serverCert };
    ports.push(reactor.listenSSL(0, site, tls, 50, "127.0.0.1"));
    // The test certificate names localhost, 127.0.0.1 and ::1, not 127.0.0.2.
    ports.push(reactor.listenSSL(0, site, tls, 50, "127.0.0.2"));
    ports.push(reactor.listenTCP(0, site, 50, "127.0.0.1"));
    [tlsPort, otherIpPort, plainPort] = ports.map(portOf) as [number, number, number];
    closedPort = await freePort();
    const proxyPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), "twisted-ts-tinyproxy-"));
    const config = join(dir, "tinyproxy.conf");
    writeFileSync(
      config,
      [
        `Port ${proxyPort}`,
        "Listen 127.0.0.1",
        "Timeout 30",
        "MaxClients 20",
        "LogLevel Info",
        `ConnectPort ${tlsPort}`,
        `ConnectPort ${otherIpPort}`,
        "BasicAuth user secret",
        "",
      ].join("\n"),
    );
    tinyproxy = start(TINYPROXY, ["-d", "-c", config]);
    await tinyproxy.waitFor(/Accepting connections/);
    proxyEndpoint = new HostnameEndpoint(reactor, "127.0.0.1", proxyPort);
  });

  after(async () => {
    await tinyproxy?.stop();
    for (const p of ports) await p.stopListening();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function agent(options: { pool?: HTTPConnectionPool; auth?: boolean; ca?: boolean } = {}) {
    return new ProxyAgent(proxyEndpoint, reactor, {
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      ...(options.auth === false ? {} : { proxyHeaders: AUTH }),
      ...(options.ca === false ? {} : { tlsPolicy: new BrowserLikePolicyForHTTPS(certs.caCert) }),
      readTimeout: 20,
    });
  }

  it("https: a tunnel to a TLS Site, verified against the test CA, kept for further requests", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const a = agent({ pool });
    const seen: string[] = [];
    for (const path of ["/one", "/two"]) {
      const response = await a.request("GET", `https://localhost:${tlsPort}${path}`);
      assert.equal(response.code, 200);
      seen.push((await readBody(response)).toString());
    }
    const [one, two] = seen as [string, string];
    assert.match(
      one,
      /^secure=true port=\d+ uri=\/one proxy-auth=-$/,
      "origin form, no proxy credentials",
    );
    assert.equal(two.replace("/two", "/one"), one, "the same tunnel (same port at the Site)");
    const posted = await a.request(
      "POST",
      `https://localhost:${tlsPort}/up`,
      null,
      new FileBodyProducer("12345"),
    );
    assert.equal((await readBody(posted)).toString(), "posted 5");
    assert.equal(pool.cachedConnectionCount(), 1);
    await pool.closeCachedConnections();
    assert.match(tinyproxy.output(), new RegExp(`CONNECT localhost:${tlsPort} HTTP/1\\.1`));
  });

  it("https: to an IP literal, the certificate is checked for the target's address", async () => {
    const ok = await agent().request("GET", `https://127.0.0.1:${tlsPort}/ip`);
    assert.match((await readBody(ok)).toString(), /secure=true/);
    await assert.rejects(
      agent().request("GET", `https://127.0.0.2:${otherIpPort}/ip`).asPromise(),
      (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.match(e.message, /127\.0\.0\.2/);
        return true;
      },
    );
  });

  it("https: the platform's trust roots refuse the test certificate", async () => {
    await assert.rejects(
      agent({ ca: false }).request("GET", `https://localhost:${tlsPort}/`).asPromise(),
      SSLError,
    );
  });

  it("without credentials tinyproxy answers 407: TunnelError with the status", async () => {
    await assert.rejects(
      agent({ auth: false }).request("GET", `https://localhost:${tlsPort}/`).asPromise(),
      (e: unknown) => {
        assert.ok(e instanceof TunnelError, String(e));
        assert.equal(e.status, 407);
        assert.match(e.headers?.getHeader("proxy-authenticate") ?? "", /^Basic/);
        return true;
      },
    );
  });

  it("a port not allowed by ConnectPort is refused (403)", async () => {
    await assert.rejects(
      agent().request("GET", `https://localhost:${closedPort}/`).asPromise(),
      (e: unknown) => e instanceof TunnelError && e.status === 403,
    );
  });

  it("http: is forwarded with an absolute URI and the proxy's credentials", async () => {
    const response = await agent().request("GET", `http://127.0.0.1:${plainPort}/plain?x=1`);
    assert.equal(response.code, 200);
    // tinyproxy passes the request on in origin form and keeps its credentials to itself.
    assert.match(
      (await readBody(response)).toString(),
      /^secure=false port=\d+ uri=\/plain\?x=1 proxy-auth=-$/,
    );
    assert.match(
      tinyproxy.output(),
      new RegExp(`GET http://127\\.0\\.0\\.1:${plainPort}/plain\\?x=1 HTTP/1\\.1`),
    );
  });
});

describe("ProxyAgent and a raw proxy that wants credentials", () => {
  let server: Server;
  let port: number;
  const received: string[] = [];

  before(async () => {
    server = createNetServer((socket) => {
      let head = "";
      socket.on("data", (data: Buffer) => {
        head += data.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        received.push(head);
        socket.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="raw"\r\nContent-Length: 6\r\n\r\nlogin!',
        );
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("the 407 fails the request with TunnelError (status, phrase, Proxy-Authenticate)", async () => {
    const a = new ProxyAgent(new HostnameEndpoint(reactor, "127.0.0.1", port), reactor);
    await assert.rejects(
      a.request("GET", "https://example.com:8443/x").asPromise(),
      (e: unknown) => {
        assert.ok(e instanceof TunnelError, String(e));
        assert.equal(e.status, 407);
        assert.equal(e.phrase, "Proxy Authentication Required");
        assert.equal(e.headers?.getHeader("proxy-authenticate"), 'Basic realm="raw"');
        return true;
      },
    );
    assert.equal(
      received[0],
      "CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n",
    );
  });
});
