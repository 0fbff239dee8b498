// Tests of static.File over StringTransport: types, index files, listings, ranges, caching, streaming, escapes.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { File, parseRange } from "../../src/web/_static.js";
import { CHUNK_SIZE } from "../../src/web/_static_stream.js";
import { type Served, serve } from "./_helpers.js";

let base: string;
let root: string;
const big = Buffer.alloc(5 * 1024 * 1024 + 123);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;

before(() => {
  base = mkdtempSync(join(tmpdir(), "twisted-ts-static-"));
  root = join(base, "www");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(root, "docs"));
  writeFileSync(join(base, "secret.txt"), "top secret");
  writeFileSync(join(root, "hello.txt"), "hello, world\n");
  writeFileSync(join(root, "page.html"), "<p>page</p>");
  writeFileSync(join(root, "data.json"), "{}");
  writeFileSync(join(root, "digits.txt"), "0123456789");
  writeFileSync(join(root, "empty.bin"), "");
  writeFileSync(join(root, `<b>&"x'.txt`), "tricky");
  writeFileSync(join(root, "big.bin"), big);
  writeFileSync(join(root, "docs", "index.html"), "<h1>docs</h1>");
  utimesSync(join(root, "hello.txt"), 1_000_000, 1_000_000);
  symlinkSync(join(base, "secret.txt"), join(root, "out-link.txt"));
  symlinkSync(base, join(root, "out-dir"));
  symlinkSync("hello.txt", join(root, "in-link.html"));
  mkdirSync(join(root, "evil-index"));
  symlinkSync(join(base, "secret.txt"), join(root, "evil-index", "index.html"));
});

after(() => rmSync(base, { recursive: true, force: true }));

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`;

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function fetchOne(s: Served, request: string, method = "GET") {
  const before = s.tr.value().length;
  s.send(request);
  await until(() => {
    if (s.tr.value().length === before) return false;
    try {
      const rs = s.responses();
      const r = rs[rs.length - 1];
      const cl = r?.header("content-length");
      return method === "HEAD" || cl === undefined || r?.body.length === Number(cl);
    } catch {
      return false;
    }
  }, request);
  const rs = s.responses(Array(20).fill(method));
  return rs[rs.length - 1]!;
}

describe("parseRange", () => {
  it("parses single, open, suffix and multiple ranges, and tells unsatisfiable from invalid", () => {
    assert.deepEqual(parseRange("bytes=2-5", 10), [{ start: 2, end: 5 }]);
    assert.deepEqual(parseRange("bytes=7-", 10), [{ start: 7, end: 9 }]);
    assert.deepEqual(parseRange("bytes=-3", 10), [{ start: 7, end: 9 }]);
    assert.deepEqual(parseRange("bytes=-30", 10), [{ start: 0, end: 9 }]);
    assert.deepEqual(parseRange("bytes=0-0, 8-20", 10), [
      { start: 0, end: 0 },
      { start: 8, end: 9 },
    ]);
    assert.equal(parseRange("bytes=10-", 10), "unsatisfiable");
    assert.equal(parseRange("bytes=-0", 10), "unsatisfiable");
    assert.equal(parseRange("bytes=5-2", 10), null);
    assert.equal(parseRange("items=0-1", 10), null);
    assert.equal(parseRange("bytes=a-b", 10), null);
  });
});

describe("static.File", () => {
  it("serves a file with its MIME type, validators and Accept-Ranges", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/hello.txt"));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "hello, world\n");
    assert.equal(r.header("content-type"), "text/plain; charset=utf-8");
    assert.equal(r.header("last-modified"), "Mon, 12 Jan 1970 13:46:40 GMT");
    assert.equal(r.header("accept-ranges"), "bytes");
    assert.match(r.header("etag") ?? "", /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(
      (await fetchOne(s, GET("/page.html"))).header("content-type"),
      "text/html; charset=utf-8",
    );
    assert.equal(
      (await fetchOne(s, GET("/data.json"))).header("content-type"),
      "application/json; charset=utf-8",
    );
    const empty = await fetchOne(s, GET("/empty.bin"));
    assert.equal(empty.header("content-length"), "0");
  });

  it("uses contentTypes overrides and the default type", async () => {
    const s = serve(new File(root, { contentTypes: { ".txt": "text/x-custom" } }));
    assert.equal((await fetchOne(s, GET("/hello.txt"))).header("content-type"), "text/x-custom");
  });

  it("answers 304 to If-None-Match and If-Modified-Since", async () => {
    const s = serve(new File(root));
    const first = await fetchOne(s, GET("/hello.txt"));
    const etag = first.header("etag") as string;
    assert.equal((await fetchOne(s, GET("/hello.txt", `If-None-Match: ${etag}\r\n`))).status, 304);
    const ims = "If-Modified-Since: Mon, 12 Jan 1970 13:46:40 GMT\r\n";
    assert.equal((await fetchOne(s, GET("/hello.txt", ims))).status, 304);
    const older = "If-Modified-Since: Mon, 12 Jan 1970 13:46:39 GMT\r\n";
    assert.equal((await fetchOne(s, GET("/hello.txt", older))).status, 200);
  });

  it("answers HEAD with the length and no body", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, "HEAD /digits.txt HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD");
    assert.equal(r.status, 200);
    assert.equal(r.header("content-length"), "10");
    assert.equal(r.body.length, 0);
  });

  it("serves single ranges with 206, and 416 for unsatisfiable ones", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/digits.txt", "Range: bytes=2-5\r\n"));
    assert.equal(r.status, 206);
    assert.equal(r.body.toString(), "2345");
    assert.equal(r.header("content-range"), "bytes 2-5/10");
    const suffix = await fetchOne(s, GET("/digits.txt", "Range: bytes=-3\r\n"));
    assert.equal(suffix.body.toString(), "789");
    const bad = await fetchOne(s, GET("/digits.txt", "Range: bytes=20-30\r\n"));
    assert.equal(bad.status, 416);
    assert.equal(bad.header("content-range"), "bytes */10");
    const ignored = await fetchOne(s, GET("/digits.txt", "Range: bytes=5-2\r\n"));
    assert.equal(ignored.status, 200);
    assert.equal(ignored.body.toString(), "0123456789");
  });

  it("serves multiple ranges as multipart/byteranges", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/digits.txt", "Range: bytes=0-1, 8-\r\n"));
    assert.equal(r.status, 206);
    const m = /^multipart\/byteranges; boundary=(\w+)$/.exec(r.header("content-type") ?? "");
    assert.ok(m);
    const b = m[1];
    assert.equal(
      r.body.toString(),
      `\r\n--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/10\r\n\r\n01` +
        `\r\n--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--${b}--\r\n`,
    );
  });

  it("honours If-Range only when it matches", async () => {
    const s = serve(new File(root));
    const etag = (await fetchOne(s, GET("/digits.txt"))).header("etag") as string;
    const yes = await fetchOne(s, GET("/digits.txt", `Range: bytes=0-0\r\nIf-Range: ${etag}\r\n`));
    assert.equal(yes.status, 206);
    const no = await fetchOne(s, GET("/digits.txt", 'Range: bytes=0-0\r\nIf-Range: "other"\r\n'));
    assert.equal(no.status, 200);
  });

  it("serves a directory's index file, and redirects to the slash form first", async () => {
    const s = serve(new File(root));
    const redirect = await fetchOne(s, GET("/docs?x=1"));
    assert.equal(redirect.status, 301);
    assert.equal(redirect.header("location"), "/docs/?x=1");
    const index = await fetchOne(s, GET("/docs/"));
    assert.equal(index.body.toString(), "<h1>docs</h1>");
  });

  it("lists a directory with escaped names", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/"));
    const html = r.body.toString();
    assert.match(html, /Directory listing for \//);
    assert.match(html, /&lt;b&gt;&amp;&quot;x&#39;\.txt/);
    assert.doesNotMatch(html, /<b>&"x'/);
    assert.match(html, /href="%3Cb%3E%26%22x&#39;\.txt"/);
    assert.match(html, /href="sub\/">sub\/</);
    assert.match(html, /5\.0M/);
    const off = serve(new File(root, { listDirectories: false }));
    assert.equal((await fetchOne(off, GET("/sub/"))).status, 403);
  });

  for (const path of [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/sub/..%2f..%2fsecret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/%00",
    "/hello.txt%00.html",
    "//etc/passwd",
    `/${encodeURIComponent(join(base, "secret.txt"))}`,
    "/./hello.txt",
  ]) {
    it(`does not escape the root: ${path}`, async () => {
      const s = serve(new File(root));
      const r = await fetchOne(s, GET(path));
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body.toString(), /top secret|root:/);
    });
  }

  for (const path of ["/out-link.txt", "/out-dir/secret.txt", "/out-dir/", "/evil-index/"]) {
    it(`does not follow a symbolic link out of the root: ${path}`, async () => {
      const s = serve(new File(root, { listDirectories: false }));
      const r = await fetchOne(s, GET(path));
      assert.ok(r.status === 404 || r.status === 403, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /top secret/);
    });
  }

  it("follows a symbolic link inside the root, typed by the name asked for", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/in-link.html"));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "hello, world\n");
    assert.match(r.header("content-type") ?? "", /^text\/html/);
  });

  it("leaves links out of the root out of the listing", async () => {
    const s = serve(new File(root));
    const r = await fetchOne(s, GET("/"));
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /in-link\.html/);
    assert.doesNotMatch(r.body.toString(), /out-link|out-dir/);
  });

  it("streams a large file chunk by chunk, holding still while the client is not reading", async () => {
    const s = serve(new File(root));
    // The transport reports a full buffer as soon as the first chunk is written, as a socket
    // to a client that does not read would (no race with the file reads).
    const write = s.tr.write.bind(s.tr);
    s.tr.write = (data) => {
      write(data);
      if (s.tr.value().length > CHUNK_SIZE) s.channel.pauseProducing();
    };
    s.send(GET("/big.bin"));
    await until(() => s.tr.value().length > CHUNK_SIZE, "the first chunk");
    const held = s.tr.value().length;
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      s.tr.value().length - held <= CHUNK_SIZE + 16,
      "at most one chunk in flight while paused",
    );
    assert.ok(held < 2 * CHUNK_SIZE + 1024, `${held} bytes written before the pause`);
    s.tr.write = write;
    s.channel.resumeProducing();
    await until(() => {
      const r = s.responses(["GET"])[0];
      return r !== undefined && r.body.length === big.length;
    }, "the whole file");
    const r = s.responses(["GET"])[0]!;
    assert.ok(r.body.equals(big));
    assert.equal(s.tr.disconnecting, false);
  });

  it("stops reading when the client vanishes mid-download", async () => {
    const s = serve(new File(root));
    s.send(GET("/big.bin"));
    await until(() => s.tr.value().length > 0, "the first chunk");
    s.channel.connectionLost(new Failure(new ConnectionLost()));
    const size = s.tr.value().length;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(s.tr.value().length, size);
  });
});
