// Interop: our Agent against real Twisted's twisted.web server and against nginx (HTTP, gzip, DAV uploads, TLS, proxying).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import { HostnameEndpoint } from "../../../src/internet/endpoints.js";
import { SSLError } from "../../../src/internet/error.js";
import { makeSelfSignedCertificate } from "../../../src/internet/ssl.js";
import {
  Agent,
  BrowserLikePolicyForHTTPS,
  ContentDecoderAgent,
  CookieAgent,
  CookieJar,
  DecodedResponse,
  FileBodyProducer,
  getPage,
  Headers,
  HTTPConnectionPool,
  ProxyAgent,
  RedirectAgent,
  readBody,
  WebError,
} from "../../../src/web/client/index.js";
import { PYTHON, requirePeer, type Started, start } from "../../_helpers/proc.js";

const NGINX = "/usr/sbin/nginx";
const FIXTURE = new URL("./fixtures/twisted_site.py", import.meta.url).pathname;
const reactor = new NodeReactor();

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Waits until something accepts connections on `port`. */
async function listening(port: number, what: Started, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${port}:\n${what.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("our Agent against real Twisted (twisted.web)", () => {
  let twisted: Started;
  let base: string;

  before(async () => {
    requirePeer(PYTHON, "python3-twisted");
    twisted = start(PYTHON, [FIXTURE]);
    const m = await twisted.waitFor(/PORT (\d+)/);
    base = `http://127.0.0.1:${m[1]}`;
  });

  after(async () => {
    await twisted?.stop();
  });

  it("GETs a resource, and a 404 page", async () => {
    const agent = new Agent(reactor);
    const response = await agent.request("GET", `${base}/hello`);
    assert.equal(response.code, 200);
    assert.deepEqual(response.headers.getRawHeaders("content-type"), ["text/plain"]);
    assert.equal((await readBody(response)).toString(), "hello from twisted.web");
    await assert.rejects(getPage(`${base}/nope`, { reactor }).asPromise(), (e: unknown) => {
      assert.ok(e instanceof WebError);
      assert.equal(e.status, 404);
      return true;
    });
  });

  it("reads a chunked body and a large body", async () => {
    const agent = new Agent(reactor);
    const chunked = await agent.request("GET", `${base}/chunked`);
    assert.deepEqual(chunked.headers.getRawHeaders("transfer-encoding"), ["chunked"]);
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join("");
    assert.equal((await readBody(chunked)).toString(), lines);
    const big = await readBody(await agent.request("GET", `${base}/big`));
    assert.equal(big.length, 4 * 1024 * 1024);
    assert.equal(sha(big), sha(Buffer.from("0123456789abcdef".repeat(256 * 1024))));
  });

  it("uploads a sized body and a chunked one of unknown length", async () => {
    const agent = new Agent(reactor);
    const data = Buffer.alloc(200_000, 0x61);
    const sized = await readBody(
      await agent.request("POST", `${base}/echo`, null, new FileBodyProducer(data)),
    );
    assert.equal(sized.toString(), `POST length=${data.length} ${data.length} ${sha(data)}`);
    const stream = Readable.from([Buffer.from("abc"), data]);
    const chunked = await readBody(
      await agent.request("PUT", `${base}/echo`, null, new FileBodyProducer(stream)),
    );
    const all = Buffer.concat([Buffer.from("abc"), data]);
    assert.equal(chunked.toString(), `PUT chunked ${all.length} ${sha(all)}`);
  });

  it("keeps one persistent connection for many requests", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool });
    const peers = new Set<string>();
    for (let i = 0; i < 5; i++) {
      peers.add((await readBody(await agent.request("GET", `${base}/peer`))).toString());
    }
    assert.equal(peers.size, 1);
    await pool.closeCachedConnections();
  });

  it("decodes twisted's gzip, follows its redirect, keeps its cookies", async () => {
    const gz = await new ContentDecoderAgent(new Agent(reactor)).request("GET", `${base}/gz`);
    assert.equal((await readBody(gz)).toString(), "twisted ".repeat(2000));
    const moved = await new RedirectAgent(new Agent(reactor)).request("GET", `${base}/old`);
    assert.equal((await readBody(moved)).toString(), "hello from twisted.web");
    const cookies = new CookieAgent(new Agent(reactor), new CookieJar());
    await readBody(await cookies.request("GET", `${base}/set-cookie`));
    const shown = await readBody(await cookies.request("GET", `${base}/show-cookie`));
    assert.equal(shown.toString(), "tw=session-1");
  });

  it("HEAD has no body", async () => {
    const response = await new Agent(reactor).request("HEAD", `${base}/hello`);
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).length, 0);
  });
});

describe("our Agent against nginx", () => {
  let nginx: Started;
  let prefix: string;
  let base: string;
  let tlsBase: string;
  let proxyPort: number;
  let cert: string;
  const FILE = Buffer.alloc(6 * 1024 * 1024, "nginx and twisted-ts\n");
  const TEXT = "compress me please\n".repeat(2000);

  before(async () => {
    requirePeer(NGINX, "nginx (Debian package nginx or nginx-light)");
    prefix = mkdtempSync(join(tmpdir(), "twisted-ts-nginx-"));
    const www = join(prefix, "www");
    mkdirSync(www);
    mkdirSync(join(www, "uploads"));
    writeFileSync(join(www, "big.bin"), FILE);
    writeFileSync(join(www, "text.txt"), TEXT);
    writeFileSync(join(www, "hello.txt"), "hello from nginx\n");
    const pair = makeSelfSignedCertificate({ commonName: "localhost" });
    cert = pair.cert;
    writeFileSync(join(prefix, "cert.pem"), pair.cert);
    writeFileSync(join(prefix, "key.pem"), pair.key);
    const [port, tlsPort, proxy] = [await freePort(), await freePort(), await freePort()];
    proxyPort = proxy;
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
      .map((t) => `  ${t}_temp_path ${join(prefix, t)};`)
      .join("\n");
    const config = `
daemon off;
master_process off;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
events { worker_connections 128; }
http {
  access_log off;
${temp}
  types { text/plain txt; application/octet-stream bin; }
  default_type application/octet-stream;
  gzip on;
  gzip_types text/plain;
  gzip_min_length 100;
  keepalive_timeout 30;
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${join(prefix, "cert.pem")};
    ssl_certificate_key ${join(prefix, "key.pem")};
    root ${www};
    add_header X-Connection $connection always;
    location = /moved { return 301 /hello.txt; }
    location = /cookie { add_header Set-Cookie "ng=1; Path=/" always; return 200 "cookie set\\n"; }
    location = /show-cookie { return 200 "$http_cookie"; }
    location /uploads/ {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 50m;
    }
  }
  server {
    listen 127.0.0.1:${proxy};
    location / {
      proxy_pass http://127.0.0.1:${port};
      proxy_set_header X-Proxied-Host $host;
    }
  }
}
`;
    const configPath = join(prefix, "nginx.conf");
    writeFileSync(configPath, config);
    nginx = start(NGINX, ["-p", prefix, "-e", join(prefix, "error.log"), "-c", configPath]);
    await listening(port, nginx);
    await listening(tlsPort, nginx);
    await listening(proxy, nginx);
    base = `http://127.0.0.1:${port}`;
    tlsBase = `https://localhost:${tlsPort}`;
  });

  after(async () => {
    await nginx?.stop("SIGQUIT");
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true });
  });

  it("GETs a static file, and a 404 page", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/hello.txt`);
    assert.equal(response.code, 200);
    assert.equal(response.length, 17);
    assert.equal((await readBody(response)).toString(), "hello from nginx\n");
    await assert.rejects(getPage(`${base}/nope`, { reactor }).asPromise(), WebError);
  });

  it("downloads a large file intact", async () => {
    const body = await readBody(await new Agent(reactor).request("GET", `${base}/big.bin`));
    assert.equal(sha(body), sha(FILE));
  });

  it("gzip on: asks for and decodes a compressed (chunked) response", async () => {
    const agent = new ContentDecoderAgent(new Agent(reactor));
    const response = await agent.request("GET", `${base}/text.txt`);
    assert.ok(response instanceof DecodedResponse, "nginx compressed it");
    assert.equal(response.original.headers.getHeader("content-encoding"), "gzip");
    assert.deepEqual(response.original.headers.getRawHeaders("transfer-encoding"), ["chunked"]);
    assert.equal(response.headers.hasHeader("content-encoding"), false, "decoded");
    assert.equal((await readBody(response)).toString(), TEXT);
    const raw = await new Agent(reactor).request("GET", `${base}/text.txt`, null);
    assert.equal(raw.headers.getHeader("content-encoding"), null, "not asked, not compressed");
    await readBody(raw);
  });

  it("keeps one persistent connection across requests", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool });
    const connections = new Set<string | null>();
    for (const path of ["/hello.txt", "/text.txt", "/hello.txt", "/big.bin"]) {
      const response = await agent.request("GET", `${base}${path}`);
      connections.add(response.headers.getHeader("x-connection"));
      await readBody(response);
    }
    assert.equal(connections.size, 1);
    await pool.closeCachedConnections();
  });

  it("uploads with PUT (sized and chunked) through WebDAV, then reads them back", async () => {
    const agent = new Agent(reactor);
    const data = Buffer.alloc(1_000_000, 0x42);
    const put = await agent.request(
      "PUT",
      `${base}/uploads/sized.bin`,
      null,
      new FileBodyProducer(data),
    );
    assert.equal(put.code, 201);
    await readBody(put);
    const back = await readBody(await agent.request("GET", `${base}/uploads/sized.bin`));
    assert.equal(sha(back), sha(data));
    const stream = Readable.from([Buffer.from("first "), Buffer.from("second "), data]);
    const chunked = await agent.request(
      "PUT",
      `${base}/uploads/chunked.bin`,
      null,
      new FileBodyProducer(stream),
    );
    assert.equal(chunked.code, 201);
    await readBody(chunked);
    const all = await readBody(await agent.request("GET", `${base}/uploads/chunked.bin`));
    assert.equal(sha(all), sha(Buffer.concat([Buffer.from("first second "), data])));
  });

  it("Expect: 100-continue: nginx answers 100 before reading a PUT body; the body follows at once", async () => {
    const agent = new Agent(reactor, { expectContinueTimeout: 30 });
    const data = Buffer.alloc(500_000, 0x43);
    const started = Date.now();
    const put = await agent.request(
      "PUT",
      `${base}/uploads/expect.bin`,
      new Headers({ Expect: ["100-continue"] }),
      new FileBodyProducer(data),
    );
    assert.equal(put.code, 201);
    await readBody(put);
    assert.ok(Date.now() - started < 10_000, "did not wait for the 30 s timeout");
    const back = await readBody(await agent.request("GET", `${base}/uploads/expect.bin`));
    assert.equal(sha(back), sha(data));
  });

  it("follows nginx's redirect and keeps its cookie", async () => {
    const moved = await new RedirectAgent(new Agent(reactor)).request("GET", `${base}/moved`);
    assert.equal(moved.previousResponse?.code, 301);
    assert.equal((await readBody(moved)).toString(), "hello from nginx\n");
    const agent = new CookieAgent(new Agent(reactor), new CookieJar());
    await readBody(await agent.request("GET", `${base}/cookie`));
    assert.equal(
      (await readBody(await agent.request("GET", `${base}/show-cookie`))).toString(),
      "ng=1",
    );
  });

  it("HEAD has no body", async () => {
    const response = await new Agent(reactor).request("HEAD", `${base}/big.bin`);
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).length, 0);
  });

  it("HTTPS: verified against the test's certificate; refused with the default trust roots", async () => {
    const agent = new Agent(reactor, { tlsPolicy: new BrowserLikePolicyForHTTPS(cert) });
    const response = await agent.request("GET", `${tlsBase}/hello.txt`);
    assert.equal((await readBody(response)).toString(), "hello from nginx\n");
    const big = await readBody(await agent.request("GET", `${tlsBase}/big.bin`));
    assert.equal(sha(big), sha(FILE));
    await assert.rejects(
      new Agent(reactor).request("GET", `${tlsBase}/hello.txt`).asPromise(),
      SSLError,
    );
  });

  it("ProxyAgent through nginx as a proxy, with absolute-form targets", async () => {
    const agent = new ProxyAgent(new HostnameEndpoint(reactor, "127.0.0.1", proxyPort), reactor);
    const response = await agent.request("GET", "http://origin.invalid/hello.txt");
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).toString(), "hello from nginx\n");
  });
});
