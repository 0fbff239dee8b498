// Loopback tests of the HTTP client on a real NodeReactor against a bare node:http(s) server.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import { HostnameEndpoint } from "../../../src/internet/endpoints.js";
import {
  CancelledError,
  ConnectionRefusedError,
  SSLError,
  TimeoutError,
} from "../../../src/internet/error.js";
import type { Failure } from "../../../src/internet/failure.js";
import type { IProtocol, IPushProducer, ITransport } from "../../../src/internet/interfaces.js";
import { makeSelfSignedCertificate } from "../../../src/internet/ssl.js";
import {
  Agent,
  BrowserLikePolicyForHTTPS,
  ContentDecoderAgent,
  CookieAgent,
  CookieJar,
  downloadPage,
  FileBodyProducer,
  getPage,
  Headers,
  HTTPConnectionPool,
  ProxyAgent,
  RedirectAgent,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  readBody,
  WebError,
} from "../../../src/web/client/index.js";

const reactor = new NodeReactor();
const BIG = Buffer.alloc(8 * 1024 * 1024, "0123456789abcdef");
let server: Server;
let base: string;
let tls: { key: string; cert: string };
let httpsServer: ReturnType<typeof createHttpsServer>;
let httpsBase: string;

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  switch (url.pathname) {
    case "/hello":
      res.setHeader("Content-Type", "text/plain");
      res.end("hello world");
      return;
    case "/port":
      res.end(String(req.socket.remotePort));
      return;
    case "/echo": {
      const body = await collect(req);
      res.setHeader("X-Method", req.method ?? "");
      res.setHeader("X-Transfer-Encoding", req.headers["transfer-encoding"] ?? "");
      res.setHeader("X-Content-Length", req.headers["content-length"] ?? "");
      res.end(`${body.length} ${sha(body)}`);
      return;
    }
    case "/big":
      res.setHeader("Content-Length", BIG.length);
      res.end(BIG);
      return;
    case "/gzip":
      res.setHeader("Content-Encoding", "gzip");
      res.end(gzipSync(Buffer.from("compressed ".repeat(1000))));
      return;
    case "/redirect": {
      const n = Number(url.searchParams.get("n") ?? "0");
      res.statusCode = 302;
      res.setHeader("Location", n > 0 ? `/redirect?n=${n - 1}` : "/hello");
      res.end("moving");
      return;
    }
    case "/set-cookie":
      res.setHeader("Set-Cookie", ["sid=s3cret; Path=/; HttpOnly", "pref=1; Path=/cookies"]);
      res.end("set");
      return;
    case "/cookies/show":
      res.end(req.headers.cookie ?? "");
      return;
    case "/missing":
      res.statusCode = 404;
      res.end("no such page");
      return;
    case "/slow": {
      res.setHeader("Content-Length", 1_000_000);
      res.write("a".repeat(1000));
      const timer = setInterval(() => res.write("b".repeat(1000)), 20);
      res.on("close", () => clearInterval(timer));
      return;
    }
    case "/silent":
      return; // never answers
    case "/huge-headers":
      res.setHeader("X-Big", "x".repeat(20000));
      res.end("hi");
      return;
    default:
      res.statusCode = 404;
      res.end();
  }
}

before(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  tls = makeSelfSignedCertificate({
    commonName: "localhost",
    altNames: ["localhost", "127.0.0.1"],
  });
  httpsServer = createHttpsServer(
    { key: tls.key, cert: tls.cert },
    (req, res) => void handle(req, res),
  );
  await new Promise<void>((resolve) => httpsServer.listen(0, "127.0.0.1", resolve));
  httpsBase = `https://localhost:${(httpsServer.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  httpsServer.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => httpsServer.close(resolve));
});

describe("Agent against node:http", () => {
  it("GET: status, headers and body", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/hello`);
    assert.equal(response.code, 200);
    assert.deepEqual(response.headers.getRawHeaders("content-type"), ["text/plain"]);
    assert.equal((await readBody(response)).toString(), "hello world");
  });

  it("HEAD: no body", async () => {
    const response = await new Agent(reactor).request("HEAD", `${base}/big`);
    assert.equal(response.length, 0);
    assert.equal((await readBody(response)).length, 0);
  });

  it("a persistent pool sends sequential requests over one connection", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool });
    const ports = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ports.add((await readBody(await agent.request("GET", `${base}/port`))).toString());
    }
    assert.equal(ports.size, 1);
    await pool.closeCachedConnections();
  });

  it("uploads a sized body and a chunked stream of unknown length", async () => {
    const agent = new Agent(reactor);
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    const sized = await agent.request("POST", `${base}/echo`, null, new FileBodyProducer(data));
    assert.equal((await readBody(sized)).toString(), `${data.length} ${sha(data)}`);
    assert.deepEqual(sized.headers.getRawHeaders("x-content-length"), [String(data.length)]);
    const stream = Readable.from([Buffer.from("abc"), Buffer.from("defg"), data]);
    const chunked = await agent.request("PUT", `${base}/echo`, null, new FileBodyProducer(stream));
    const expected = Buffer.concat([Buffer.from("abcdefg"), data]);
    assert.equal((await readBody(chunked)).toString(), `${expected.length} ${sha(expected)}`);
    assert.deepEqual(chunked.headers.getRawHeaders("x-transfer-encoding"), ["chunked"]);
  });

  it("downloads a large body intact", async () => {
    const body = await readBody(await new Agent(reactor).request("GET", `${base}/big`));
    assert.equal(sha(body), sha(BIG));
  });

  it("a body reader that pauses and resumes gets every byte", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/big`);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let paused = false;
      const reader: IProtocol & { transport: ITransport | null } = {
        transport: null,
        makeConnection(t) {
          this.transport = t;
        },
        connectionMade() {},
        dataReceived(data) {
          chunks.push(Buffer.from(data));
          if (!paused && chunks.length % 8 === 0) {
            paused = true;
            const producer = this.transport as unknown as IPushProducer;
            producer.pauseProducing();
            setTimeout(() => {
              paused = false;
              producer.resumeProducing();
            }, 5);
          }
        },
        connectionLost(reason: Failure) {
          if (reason.check(ResponseDone)) resolve(Buffer.concat(chunks));
          else reject(reason.value);
        },
      };
      response.deliverBody(reader);
    });
    assert.equal(sha(got), sha(BIG));
  });

  it("ContentDecoderAgent decodes a gzip body", async () => {
    const response = await new ContentDecoderAgent(new Agent(reactor)).request(
      "GET",
      `${base}/gzip`,
    );
    assert.equal((await readBody(response)).toString(), "compressed ".repeat(1000));
  });

  it("RedirectAgent follows a chain of redirects", async () => {
    const response = await new RedirectAgent(new Agent(reactor)).request(
      "GET",
      `${base}/redirect?n=3`,
    );
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).toString(), "hello world");
    let hops = 0;
    for (let r = response.previousResponse; r !== null; r = r.previousResponse) hops++;
    assert.equal(hops, 4);
  });

  it("CookieAgent keeps the cookies a server sets and sends them back by path", async () => {
    const jar = new CookieJar();
    const agent = new CookieAgent(new Agent(reactor), jar);
    await readBody(await agent.request("GET", `${base}/set-cookie`));
    const shown = await readBody(await agent.request("GET", `${base}/cookies/show`));
    assert.equal(shown.toString(), "pref=1; sid=s3cret");
  });

  it("a response head over the limit fails with ResponseFailed", async () => {
    const agent = new Agent(reactor, { limits: { maxHeaderSize: 8192 } });
    await assert.rejects(agent.request("GET", `${base}/huge-headers`).asPromise(), ResponseFailed);
  });

  it("readTimeout: a server that never answers fails with ResponseNeverReceived(TimeoutError)", async () => {
    const agent = new Agent(reactor, { readTimeout: 0.2 });
    await assert.rejects(agent.request("GET", `${base}/silent`).asPromise(), (e: unknown) => {
      assert.ok(e instanceof ResponseNeverReceived);
      assert.ok(e.hasReason(TimeoutError));
      return true;
    });
  });

  it("cancelling readBody mid-body closes the connection", async () => {
    const closed = new Promise<void>((resolve) => {
      server.once("request", (_req: IncomingMessage, res: ServerResponse) =>
        res.on("close", () => resolve()),
      );
    });
    const response = await new Agent(reactor).request("GET", `${base}/slow`);
    const body = readBody(response);
    await new Promise((r) => setTimeout(r, 50));
    body.cancel();
    await assert.rejects(body.asPromise(), CancelledError);
    await closed;
  });

  it("a refused connection fails with ConnectionRefusedError", async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(
      new Agent(reactor).request("GET", `http://127.0.0.1:${port}/`).asPromise(),
      ConnectionRefusedError,
    );
  });

  it("retries a GET once when the server closes a kept-alive connection under it", async () => {
    let connections = 0;
    const sockets: Socket[] = [];
    const raw = createNetServer((socket) => {
      sockets.push(socket);
      const n = ++connections;
      let requests = 0;
      socket.on("data", (data) => {
        if (!data.includes("\r\n\r\n")) return;
        requests++;
        if (n === 1 && requests === 2) {
          socket.destroy(); // closed under the second request, without an answer
          return;
        }
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nconn ${n} r${requests}`);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(raw.address() as { port: number }).port}/`;
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool });
    assert.equal((await readBody(await agent.request("GET", url))).toString(), "conn 1 r1");
    assert.equal((await readBody(await agent.request("GET", url))).toString(), "conn 2 r1");
    await pool.closeCachedConnections();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => raw.close(resolve));
  });

  it("ProxyAgent sends the absolute URI to the proxy", async () => {
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      res.end("via proxy");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as { port: number }).port;
    const agent = new ProxyAgent(new HostnameEndpoint(reactor, "127.0.0.1", port), reactor);
    const response = await agent.request("GET", "http://example.invalid:8080/path?q=1");
    assert.equal((await readBody(response)).toString(), "via proxy");
    assert.deepEqual(seen, ["GET http://example.invalid:8080/path?q=1 example.invalid:8080"]);
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  });
});

describe("HTTPS against node:https", () => {
  it("verifies the certificate against custom trust roots and the host name", async () => {
    const agent = new Agent(reactor, { tlsPolicy: new BrowserLikePolicyForHTTPS(tls.cert) });
    const response = await agent.request("GET", `${httpsBase}/hello`);
    assert.equal((await readBody(response)).toString(), "hello world");
    const byIp = httpsBase.replace("localhost", "127.0.0.1");
    assert.equal(
      (await readBody(await agent.request("GET", `${byIp}/hello`))).toString(),
      "hello world",
    );
  });

  it("refuses a certificate it does not trust (the default: platform roots)", async () => {
    await assert.rejects(
      new Agent(reactor).request("GET", `${httpsBase}/hello`).asPromise(),
      SSLError,
    );
  });

  it("refuses a trusted certificate for another host name", async () => {
    const other = makeSelfSignedCertificate({ altNames: ["other.example"] });
    const s = createHttpsServer({ key: other.key, cert: other.cert }, (_q, r) => r.end("x"));
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const url = `https://localhost:${(s.address() as { port: number }).port}/`;
    const agent = new Agent(reactor, { tlsPolicy: new BrowserLikePolicyForHTTPS(other.cert) });
    await assert.rejects(agent.request("GET", url).asPromise(), SSLError);
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });
});

describe("getPage and downloadPage against node:http", () => {
  it("getPage fires with the body, following redirects", async () => {
    const page = await getPage(`${base}/redirect?n=2`, { reactor });
    assert.equal(page.toString(), "hello world");
  });

  it("getPage fails with WebError carrying the status and the error page", async () => {
    await assert.rejects(getPage(`${base}/missing`, { reactor }).asPromise(), (e: unknown) => {
      assert.ok(e instanceof WebError);
      assert.equal(e.status, 404);
      assert.equal(e.response?.toString(), "no such page");
      return true;
    });
  });

  it("getPage posts data and sends its User-Agent and headers", async () => {
    const page = await getPage(`${base}/echo`, {
      reactor,
      postdata: "field=value",
      headers: { "X-Test": "1" },
    });
    assert.equal(page.toString(), `11 ${sha(Buffer.from("field=value"))}`);
  });

  it("getPage with a timeout fails with TimeoutError and leaves nothing behind", async () => {
    await assert.rejects(
      getPage(`${base}/silent`, { reactor, timeout: 0.2 }).asPromise(),
      TimeoutError,
    );
  });

  it("downloadPage writes the body to a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twisted-ts-client-"));
    try {
      const path = join(dir, "big.bin");
      await downloadPage(`${base}/big`, path, { reactor });
      assert.equal(sha(readFileSync(path)), sha(BIG));
      const missing = join(dir, "missing.bin");
      await assert.rejects(
        downloadPage(`${base}/missing`, missing, { reactor }).asPromise(),
        WebError,
      );
      assert.throws(() => readFileSync(missing));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("getPage sends the given headers", async () => {
    const headers = new Headers({ Cookie: ["a=b"] });
    const page = await getPage(`${base}/cookies/show`, { reactor, headers });
    assert.equal(page.toString(), "a=b");
  });
});
