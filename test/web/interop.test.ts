// Interop: curl, Python's http.client and real Twisted's Agent against our web server (HTTP and HTTPS), and `twist web`.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IPv4Address } from "../../src/internet/address.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import {
  Data,
  EncodingResourceWrapper,
  File,
  type Request,
  Resource,
  Site,
} from "../../src/web/index.js";
import { freePort, PYTHON, ROOT, requirePeer, run, start } from "../_helpers/proc.js";

const CURL = "/usr/bin/curl";
const OPENSSL = "/usr/bin/openssl";
const reactor = new NodeReactor();
const ports: IListeningPort[] = [];
let dir: string;
let port: number;
let tlsPort: number;
let certPath: string;
const BIG = "All work and no play makes Jack a dull boy.\n".repeat(50_000);

class Upload extends Resource {
  override isLeaf = true;
  render_POST(request: Request) {
    const body = request.content.read();
    const framing =
      request.getHeader("transfer-encoding") ?? `length=${request.getHeader("content-length")}`;
    return `${request.method} ${framing} ${body.length} ${createHash("sha256").update(body).digest("hex").slice(0, 16)}`;
  }
  render_PUT(request: Request) {
    return this.render_POST(request);
  }
}

class Secure extends Resource {
  override isLeaf = true;
  render_GET(request: Request) {
    return `secure=${request.isSecure()}`;
  }
}

function site(): Site {
  const root = new Resource();
  root.putChild("hello", new Data("hello world", "text/plain"));
  root.putChild("files", new File(dir));
  root.putChild("gz", new EncodingResourceWrapper(new File(dir)));
  root.putChild("upload", new Upload());
  root.putChild("secure", new Secure());
  return new Site(root, { reactor });
}

before(async () => {
  for (const [path, hint] of [
    [CURL, "curl"],
    [PYTHON, "python3"],
    [OPENSSL, "openssl"],
  ] as const) {
    requirePeer(path, hint);
  }
  dir = mkdtempSync(join(tmpdir(), "twisted-ts-web-interop-"));
  writeFileSync(join(dir, "small.txt"), "small file\n");
  writeFileSync(join(dir, "big.txt"), BIG);
  certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const gen = await run(OPENSSL, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  assert.equal(gen.code, 0, gen.stderr);
  const plain = reactor.listenTCP(0, site(), 50, "127.0.0.1");
  const tls = reactor.listenSSL(
    0,
    site(),
    { key: readFileSync(keyPath), cert: readFileSync(certPath) },
    50,
    "127.0.0.1",
  );
  ports.push(plain, tls);
  port = (plain.getHost() as IPv4Address).port;
  tlsPort = (tls.getHost() as IPv4Address).port;
});

after(async () => {
  for (const p of ports) await p.stopListening();
  rmSync(dir, { recursive: true, force: true });
});

async function curl(args: string[], input?: string) {
  const r = await run(
    CURL,
    ["-sS", "--max-time", "20", ...args],
    input === undefined ? {} : { input },
  );
  assert.equal(r.code, 0, `curl ${args.join(" ")}: ${r.stderr}`);
  return r;
}

describe("curl against our server", () => {
  it("GETs a file and a resource", async () => {
    const r = await curl(["-D", "-", `http://127.0.0.1:${port}/files/small.txt`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    assert.ok(r.stdout.endsWith("\r\n\r\nsmall file\n"));
  });

  it("sends HEAD without a body", async () => {
    const r = await curl(["-I", `http://127.0.0.1:${port}/files/big.txt`]);
    assert.match(r.stdout, new RegExp(`Content-Length: ${BIG.length}\\r\\n`));
  });

  it("gets single and multiple ranges", async () => {
    assert.equal(
      (await curl(["-r", "0-4", `http://127.0.0.1:${port}/files/small.txt`])).stdout,
      "small",
    );
    const multi = await curl([
      "-D",
      "-",
      "-r",
      "0-1,6-9",
      `http://127.0.0.1:${port}/files/small.txt`,
    ]);
    assert.match(multi.stdout, /^HTTP\/1\.1 206 /);
    assert.match(multi.stdout, /Content-Range: bytes 0-1\/11\r\n\r\nsm\r\n/);
    assert.match(multi.stdout, /Content-Range: bytes 6-9\/11\r\n\r\nfile\r\n/);
  });

  it("decompresses a gzipped response with --compressed", async () => {
    const r = await curl(["--compressed", "-D", "-", `http://127.0.0.1:${port}/gz/big.txt`]);
    assert.match(r.stdout, /Content-Encoding: gzip\r\n/);
    assert.ok(r.stdout.endsWith(`\r\n\r\n${BIG}`));
  });

  it("uploads a body of unknown length with -T - (chunked)", async () => {
    const data = "streamed upload ".repeat(10_000);
    const r = await curl(["-T", "-", `http://127.0.0.1:${port}/upload`], data);
    const sha = createHash("sha256").update(data).digest("hex").slice(0, 16);
    assert.equal(r.stdout, `PUT chunked ${data.length} ${sha}`);
  });

  it("reuses one connection across URLs", async () => {
    const r = await curl([
      "-v",
      `http://127.0.0.1:${port}/hello`,
      `http://127.0.0.1:${port}/files/small.txt`,
      `http://127.0.0.1:${port}/hello`,
    ]);
    assert.equal(r.stdout, "hello worldsmall file\nhello world");
    assert.match(r.stderr, /Re-?using existing connection/);
    assert.equal((r.stderr.match(/Connected to/g) ?? []).length, 1);
  });

  it("speaks HTTPS with --cacert, and the request is secure", async () => {
    const r = await curl([
      "--cacert",
      certPath,
      "--resolve",
      `localhost:${tlsPort}:127.0.0.1`,
      `https://localhost:${tlsPort}/secure`,
      `https://localhost:${tlsPort}/files/small.txt`,
    ]);
    assert.equal(r.stdout, "secure=truesmall file\n");
    const plain = await curl([`http://127.0.0.1:${port}/secure`]);
    assert.equal(plain.stdout, "secure=false");
  });
});

describe("Python's http.client against our server", () => {
  it("keeps the connection alive across GET, HEAD, uploads and ranges", async () => {
    const r = await run(PYTHON, [
      join(ROOT, "test/web/fixtures/http_client_check.py"),
      String(port),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
    assert.deepEqual(out.get, [200, "hello world"]);
    assert.deepEqual(out.head, [200, "11", ""]);
    assert.deepEqual(out.post, [200, `POST length=100000 100000 ${sha("x".repeat(100000))}`]);
    const chunked = [0, 1, 2, 3, 4].map((i) => `chunk${i};`).join("");
    assert.deepEqual(out.chunked, [200, `PUT chunked ${chunked.length} ${sha(chunked)}`]);
    assert.deepEqual(out.range, [206, "small"]);
    assert.equal(out.reused, true);
  });
});

describe("real Twisted's Agent against our server", () => {
  it("GETs, uploads (sized and chunked), reads a large body, HEADs, gets 404", async () => {
    const r = await run(PYTHON, [
      join(ROOT, "test/web/fixtures/twisted_agent_check.py"),
      String(port),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
    assert.deepEqual(out.get, [200, "hello world"]);
    assert.deepEqual(out.post, [200, `POST length=50000 50000 ${sha("y".repeat(50000))}`]);
    assert.deepEqual(out.chunked, [200, `PUT chunked 6 ${sha("abcdef")}`]);
    assert.deepEqual(out.big, [200, BIG.length]);
    assert.deepEqual(out.head, [200, "11"]);
    assert.equal(out.missing, 404);
  });
});

describe("twist web", () => {
  it("serves a directory over HTTP and HTTPS, with --add-header, --mime-type and an access log", async () => {
    writeFileSync(join(dir, "notes.foo"), "foo notes");
    const p = await freePort();
    const sp = await freePort();
    const server = start(process.execPath, [
      join(ROOT, "bin/twist.js"),
      "--plugin",
      "src/cli/plugins/web.ts",
      "web",
      "--listen",
      `tcp:${p}:interface=127.0.0.1`,
      "--listen",
      `ssl:${sp}:interface=127.0.0.1:privateKey=${join(dir, "key.pem")}:certKey=${certPath}`,
      "--path",
      dir,
      "--add-header",
      "X-Served-By: twist",
      "--mime-type",
      "foo=text/x-foo",
      "--access-log",
      "-",
    ]);
    try {
      await server.waitFor(new RegExp(`listening on [^\\n]*port=${sp}`));
      await server.waitFor(new RegExp(`listening on [^\\n]*port=${p}`));
      const secure = await curl([
        "--cacert",
        certPath,
        "--resolve",
        `localhost:${sp}:127.0.0.1`,
        `https://localhost:${sp}/notes.foo`,
      ]);
      assert.equal(secure.stdout, "foo notes");
      const r = await curl(["-D", "-", `http://127.0.0.1:${p}/notes.foo`]);
      assert.match(r.stdout, /X-Served-By: twist\r\n/);
      assert.match(r.stdout, /Content-Type: text\/x-foo\r\n/);
      assert.ok(r.stdout.endsWith("foo notes"));
      const listing = await curl([`http://127.0.0.1:${p}/`]);
      assert.match(listing.stdout, /Directory listing for \//);
      await server.waitFor(/"GET \/notes\.foo HTTP\/1\.1" 200 9 "-" "curl\//);
    } finally {
      await server.stop();
    }
  });
});
