// Loopback tests of the web server on a real NodeReactor: keep-alive, gzip, proxy, vhosts, bad and vanishing clients.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IPv4Address } from "../../src/internet/address.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import {
  Data,
  EncodingResourceWrapper,
  File,
  GzipEncoderFactory,
  NameVirtualHost,
  NOT_DONE_YET,
  type Request,
  Resource,
  ReverseProxyResource,
  Site,
} from "../../src/web/index.js";

const reactor = new NodeReactor();
const ports: IListeningPort[] = [];
let dir: string;

function listen(site: Site): number {
  const port = reactor.listenTCP(0, site, 50, "127.0.0.1");
  ports.push(port);
  return (port.getHost() as IPv4Address).port;
}

interface Got {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
  localPort: number;
}

function get(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: HttpAgent;
  } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            localPort: res.socket?.localPort ?? 0,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Sends raw bytes and collects everything until the server closes. */
function raw(port: number, data: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new Error(
          `Server did not close: got ${Buffer.concat(chunks).toString("latin1").slice(0, 200)}`,
        ),
      );
    }, timeoutMs);
    s.on("data", (c) => chunks.push(c));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    s.write(data);
  });
}

class Slow extends Resource {
  override isLeaf = true;
  render_GET(request: Request) {
    request.write("first ");
    setTimeout(() => {
      request.write("second");
      request.finish();
    }, 20);
    return NOT_DONE_YET;
  }
}

class Headers extends Resource {
  override isLeaf = true;
  render_GET(request: Request) {
    request.setHeader("Content-Type", "application/json");
    return JSON.stringify({
      xff: request.getHeader("x-forwarded-for"),
      host: request.getHeader("host"),
      uri: request.uri,
      connection: request.getHeader("connection"),
    });
  }
  render_POST(request: Request) {
    return `got ${request.content.length} bytes`;
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "twisted-ts-loopback-"));
  writeFileSync(
    join(dir, "big.txt"),
    "All work and no play makes Jack a dull boy.\n".repeat(100_000),
  );
  writeFileSync(join(dir, "small.txt"), "small file\n");
});

after(async () => {
  for (const p of ports) await p.stopListening();
  rmSync(dir, { recursive: true, force: true });
});

function makeSite(): Site {
  const root = new Resource();
  root.putChild("files", new File(dir));
  root.putChild("gz", new EncodingResourceWrapper(new File(dir), [new GzipEncoderFactory()]));
  root.putChild("slow", new Slow());
  root.putChild("headers", new Headers());
  root.putChild("hello", new Data("hello world", "text/plain"));
  return new Site(root, { reactor });
}

describe("web server over loopback TCP", () => {
  it("serves several requests over one kept-alive connection", async () => {
    const port = listen(makeSite());
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const a = await get(port, "/hello", { agent });
    const b = await get(port, "/files/small.txt", { agent });
    const c = await get(port, "/slow", { agent });
    agent.destroy();
    assert.equal(a.body.toString(), "hello world");
    assert.equal(b.body.toString(), "small file\n");
    assert.equal(c.body.toString(), "first second");
    assert.equal(a.localPort, b.localPort);
    assert.equal(b.localPort, c.localPort);
  });

  it("answers pipelined requests in order on one socket", async () => {
    const port = listen(makeSite());
    const out = await raw(
      port,
      "GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    const first = out.indexOf("first");
    const hello = out.indexOf("hello world");
    assert.ok(first >= 0 && hello > first, out);
    assert.equal(out.split("hello world").length, 3);
  });

  it("gzips for clients that accept it", async () => {
    const port = listen(makeSite());
    const r = await get(port, "/gz/big.txt", { headers: { "Accept-Encoding": "gzip, deflate" } });
    assert.equal(r.headers["content-encoding"], "gzip");
    assert.equal(r.headers.vary, "Accept-Encoding");
    const text = gunzipSync(r.body).toString();
    assert.equal(text.length, 44 * 100_000);
    assert.ok(r.body.length < text.length / 10);
    const plain = await get(port, "/gz/big.txt");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.length, 44 * 100_000);
  });

  it("proxies to another site, streaming both ways, with X-Forwarded-For", async () => {
    const backend = listen(makeSite());
    const root = new Resource();
    root.putChild("up", new ReverseProxyResource("127.0.0.1", backend, "", reactor));
    const front = listen(new Site(root, { reactor }));
    const h = await get(front, "/up/headers?x=1", {
      headers: {
        "X-Forwarded-For": "203.0.113.9",
        Connection: "keep-alive, X-Secret",
        "X-Secret": "s",
      },
    });
    const info = JSON.parse(h.body.toString());
    assert.equal(info.xff, "203.0.113.9, 127.0.0.1");
    assert.equal(info.host, `127.0.0.1:${backend}`);
    assert.equal(info.uri, "/headers?x=1");
    const big = await get(front, "/up/files/big.txt");
    assert.equal(big.status, 200);
    assert.equal(big.body.length, 44 * 100_000);
    const body = Buffer.alloc(300_000, 0x62);
    const post = await get(front, "/up/headers", { method: "POST", body });
    assert.equal(post.body.toString(), "got 300000 bytes");
    const slow = await get(front, "/up/slow");
    assert.equal(slow.body.toString(), "first second");
  });

  it("answers 502 when the upstream server cannot be reached", async () => {
    const root = new Resource();
    root.putChild("down", new ReverseProxyResource("127.0.0.1", 1, "", reactor));
    const front = listen(new Site(root, { reactor }));
    const r = await get(front, "/down/x");
    assert.equal(r.status, 502);
  });

  it("picks a tree by Host with NameVirtualHost", async () => {
    const vhost = new NameVirtualHost();
    vhost.addHost("a.example", new Data("site a", "text/plain"));
    vhost.addHost("b.example", new Data("site b", "text/plain"));
    const port = listen(new Site(vhost, { reactor }));
    assert.equal(
      (await get(port, "/", { headers: { Host: "A.example:80" } })).body.toString(),
      "site a",
    );
    assert.equal(
      (await get(port, "/", { headers: { Host: "b.example" } })).body.toString(),
      "site b",
    );
    assert.equal((await get(port, "/", { headers: { Host: "c.example" } })).status, 404);
  });

  it("answers a smuggling attempt with 400, closes, and keeps serving", async () => {
    const port = listen(makeSite());
    const out = await raw(
      port,
      "POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.doesNotMatch(out, /hello world/);
    assert.equal((await get(port, "/hello")).body.toString(), "hello world");
  });

  it("answers each bad request with its status over a real socket, and keeps serving", async () => {
    const root = new Resource();
    const small = new Headers();
    small.maxRequestBodySize = 1000;
    root.putChild("small", small);
    root.putChild("hello", new Data("hello world", "text/plain"));
    const port = listen(new Site(root, { reactor }));
    const cases: [string, number][] = [
      [
        "POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
      ],
      ["POST /hello HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n", 400],
      ["GET /hello HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n", 400],
      ["GET /hello HTTP/1.1\r\nHost : h\r\n\r\n", 400],
      ["GET /hello HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400],
      [`GET /${"a".repeat(10_000)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414],
      [`POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n${"z".repeat(5000)}`, 413],
      [
        `POST /small HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${"64\r\n".concat("z".repeat(100), "\r\n").repeat(20)}0\r\n\r\n`,
        413,
      ],
    ];
    for (const [data, status] of cases) {
      const out = await raw(port, data);
      assert.match(out, new RegExp(`^HTTP/1\\.1 ${status} `), data.slice(0, 60));
      assert.match(out, /\r\nConnection: close\r\n/);
    }
    assert.equal((await get(port, "/hello")).body.toString(), "hello world");
  });

  it("answers 431 to an oversized head and 408 to a slow-loris, then closes", async () => {
    const port = listen(new Site(new Data("x", "text/plain"), { reactor, headerTimeout: 0.3 }));
    const big = await raw(
      port,
      `GET / HTTP/1.1\r\nHost: h\r\n${"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(1000)}\r\n`,
    );
    assert.match(big, /^HTTP\/1\.1 431 /);
    const slow = await raw(port, "GET / HTTP/1.1\r\nHost: h\r\nX-Still: typing");
    assert.match(slow, /^HTTP\/1\.1 408 /);
  });

  it("survives a client vanishing in the middle of a large response", async () => {
    const port = listen(makeSite());
    await new Promise<void>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.on("error", () => {});
      let got = 0;
      s.on("data", (c) => {
        got += c.length;
        if (got > 100_000) {
          s.destroy();
          resolve();
        }
      });
      s.write("GET /files/big.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await get(port, "/hello")).body.toString(), "hello world");
  });
});
