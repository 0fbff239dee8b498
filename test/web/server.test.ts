// Tests of Site serving resources over StringTransport and Clock (no sockets, no real time):
// methods, pipelining, arguments and bodies, render results and errors, connection reuse.
// The Request API: server-request.test.ts; bad input, limits and timeouts: server-channel.test.ts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../src/internet/defer.js";
import {
  NOT_DONE_YET,
  Redirect,
  type Request,
  Resource,
  TempFileContentStore,
} from "../../src/web/index.js";
import { serve } from "./_helpers.js";
import { GET, tree } from "./_server_tree.js";

describe("Site: serving resources", () => {
  it("serves a GET with Content-Length, Date, Server and the resource's type", () => {
    const s = serve(tree());
    s.send(GET("/hello"));
    const [r] = s.responses(["GET"]);
    assert.equal(r?.status, 200);
    assert.equal(r?.body.toString(), "hello world");
    assert.equal(r?.header("content-length"), "11");
    assert.equal(r?.header("content-type"), "text/plain");
    assert.equal(r?.header("date"), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert.equal(r?.header("server"), "TwistedTS");
    assert.equal(s.tr.disconnecting, false);
  });

  it("serves the same request fed one byte at a time", () => {
    const s = serve(tree());
    s.sendBytewise(GET("/hello"));
    assert.equal(s.responses(["GET"])[0]?.body.toString(), "hello world");
  });

  it("answers 404 for a missing child, and the root's '' child for /", () => {
    const s = serve(tree());
    s.send(GET("/nothing/here") + GET("/"));
    const [a, b] = s.responses(["GET", "GET"]);
    assert.equal(a?.status, 404);
    assert.match(a?.body.toString() ?? "", /No Such Resource/);
    assert.equal(b?.body.toString(), "<h1>home</h1>");
  });

  it("answers HEAD like GET without a body, and 405 with Allow for other methods", () => {
    const s = serve(tree());
    s.send(`HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n`);
    const [head, del] = s.responses(["HEAD", "DELETE"]);
    assert.equal(head?.status, 200);
    assert.equal(head?.header("content-length"), "11");
    assert.equal(head?.body.length, 0);
    assert.equal(del?.status, 405);
    assert.equal(del?.header("allow"), "GET, HEAD");
  });

  it("answers pipelined requests in order, the second waiting for a late first", () => {
    let pending: Request | null = null;
    class Slow extends Resource {
      override isLeaf = true;
      render_GET(request: Request) {
        pending = request;
        return NOT_DONE_YET;
      }
    }
    const root = tree();
    root.putChild("slow", new Slow());
    const s = serve(root);
    s.send(GET("/slow") + GET("/hello"));
    assert.equal(s.tr.value().length, 0);
    (pending as unknown as Request).write("late ");
    (pending as unknown as Request).write("answer");
    (pending as unknown as Request).finish();
    const [a, b] = s.responses(["GET", "GET"]);
    assert.equal(a?.body.toString(), "late answer");
    assert.equal(a?.chunked, true);
    assert.equal(b?.body.toString(), "hello world");
  });

  it("parses query arguments, path segments and an urlencoded form body", () => {
    const s = serve(tree());
    s.send(GET("/echo/a%20b/c?x=1&x=2&y=&z=%C3%A9+f"));
    const body = "name=J%C3%BCrgen&lang=ts";
    s.send(
      `POST /echo?q=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const [g, p] = s.responses(["GET", "POST"]);
    assert.deepEqual(JSON.parse(g?.body.toString() ?? ""), {
      args: { x: ["1", "2"], y: [""], z: ["é f"] },
      prepath: ["echo"],
      postpath: ["a b", "c"],
    });
    assert.deepEqual(JSON.parse(p?.body.toString() ?? ""), {
      args: { q: ["1"], name: ["Jürgen"], lang: ["ts"] },
      body,
    });
  });

  it("parses a multipart/form-data body into args and files", () => {
    let files: Request["files"] | null = null;
    class Form extends Resource {
      override isLeaf = true;
      render_POST(request: Request) {
        files = request.files;
        return JSON.stringify(request.args);
      }
    }
    const s = serve(new Form());
    const body =
      '--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nJ\xc3\xbcrgen\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="up"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\xff\r\n--XyZ--\r\n';
    s.send(
      `POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.deepEqual(JSON.parse(s.responses(["POST"])[0]?.body.toString() ?? ""), {
      title: ["Jürgen"],
      up: ["\u0000\u00ff"],
    });
    const up = (files as unknown as Request["files"]).up?.[0];
    assert.equal(up?.filename, "a.bin");
    assert.deepEqual([...(up?.data ?? [])], [0, 255]);
  });

  it("reads a chunked upload into request.content", () => {
    const s = serve(tree());
    s.sendBytewise(
      "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
    );
    assert.equal(JSON.parse(s.responses(["POST"])[0]?.body.toString() ?? "").body, "Wikipedia");
  });

  it("spills a large body to a temporary file and reads it back", () => {
    let spilled: boolean | undefined;
    class Size extends Resource {
      override isLeaf = true;
      render_PUT(request: Request) {
        spilled = (request.content as unknown as { spilled: boolean }).spilled;
        const all = request.content.read();
        return `${all.length} ${all.subarray(0, 3).toString()}`;
      }
    }
    const s = serve(new Size(), { contentStore: new TempFileContentStore({ memoryLimit: 1000 }) });
    const body = "abc".repeat(2000);
    s.send(`PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let i = 0; i < body.length; i += 500) s.send(body.slice(i, i + 500));
    assert.equal(s.responses(["PUT"])[0]?.body.toString(), "6000 abc");
    assert.equal(spilled, true);
  });

  it("renders a Promise or Deferred of the body", async () => {
    const d = new Deferred<string>();
    class Later extends Resource {
      override isLeaf = true;
      render_GET() {
        return d;
      }
      render_POST() {
        return Promise.resolve("from a promise");
      }
    }
    const s = serve(new Later());
    s.send(GET("/"));
    assert.equal(s.tr.value().length, 0);
    d.callback("from a deferred");
    s.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    await new Promise((r) => setImmediate(r));
    const [a, b] = s.responses(["GET", "POST"]);
    assert.equal(a?.body.toString(), "from a deferred");
    assert.equal(b?.body.toString(), "from a promise");
  });

  it("answers 500 for a render error, with a traceback only when asked, and keeps serving", async () => {
    class Broken extends Resource {
      override isLeaf = true;
      render_GET(): string {
        throw new Error("kaboom <script>");
      }
      render_POST() {
        return Promise.reject(new Error("async kaboom"));
      }
    }
    for (const displayTracebacks of [false, true]) {
      const root = tree();
      root.putChild("broken", new Broken());
      const s = serve(root, { displayTracebacks });
      s.send(`${GET("/broken")}POST /broken HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n`);
      await new Promise((r) => setImmediate(r));
      s.send(GET("/hello"));
      const [a, b, c] = s.responses(["GET", "POST", "GET"]);
      assert.equal(a?.status, 500);
      assert.equal(b?.status, 500);
      assert.equal(c?.body.toString(), "hello world");
      const text = a?.body.toString() ?? "";
      if (displayTracebacks) {
        assert.match(text, /kaboom &lt;script&gt;/);
        assert.doesNotMatch(text, /<script>/);
      } else {
        assert.doesNotMatch(text, /kaboom/);
      }
    }
  });

  it("closes after an HTTP/1.0 request, and keeps an HTTP/1.0 keep-alive connection", () => {
    const s = serve(tree());
    s.send("GET /hello HTTP/1.0\r\n\r\n");
    assert.equal(s.responses(["GET"])[0]?.header("connection"), "close");
    assert.equal(s.tr.disconnecting, true);
    const k = serve(tree());
    k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(k.responses(["GET"])[0]?.header("connection"), "keep-alive");
    assert.equal(k.tr.disconnecting, false);
  });

  it("closes after a response to Connection: close", () => {
    const s = serve(tree());
    s.send(GET("/hello", "Connection: close\r\n") + GET("/hello"));
    assert.equal(s.responses(["GET"]).length, 1);
    assert.equal(s.tr.disconnecting, true);
  });

  it("writes the Redirect and Data resources", () => {
    const root = tree();
    root.putChild("old", new Redirect("/new", 301));
    const s = serve(root);
    s.send(GET("/old"));
    const [r] = s.responses(["GET"]);
    assert.equal(r?.status, 301);
    assert.equal(r?.header("location"), "/new");
  });
});
