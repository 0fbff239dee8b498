// Tests of Site, HTTPChannel, Request and Resource over StringTransport and Clock (no sockets, no real time).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../src/internet/defer.js";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type { IPullProducer, IPushProducer } from "../../src/internet/interfaces.js";
import { Protocol } from "../../src/internet/protocol.js";
import { HAProxyWrappingFactory } from "../../src/protocols/haproxy.js";
import {
  Clock,
  failureResultOf,
  StringTransportWithDisconnection,
  successResultOf,
} from "../../src/testing/index.js";
import {
  CACHED,
  Data,
  type IAccessLog,
  NOT_DONE_YET,
  Redirect,
  type Request,
  Resource,
  Site,
  TempFileContentStore,
} from "../../src/web/index.js";
import { connectTo, serve } from "./_helpers.js";

class Hello extends Resource {
  override isLeaf = true;
  render_GET(request: Request) {
    request.setHeader("Content-Type", "text/plain");
    return "hello world";
  }
}

class Echo extends Resource {
  override isLeaf = true;
  render_POST(request: Request) {
    return JSON.stringify({ args: request.args, body: request.content.read().toString("latin1") });
  }
  render_GET(request: Request) {
    return JSON.stringify({
      args: request.args,
      prepath: request.prepath,
      postpath: request.postpath,
    });
  }
}

function tree(): Resource {
  const root = new Resource();
  root.putChild("hello", new Hello());
  root.putChild("echo", new Echo());
  root.putChild("", new Data("<h1>home</h1>", "text/html"));
  return root;
}

const GET = (path: string, extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: example.com\r\n${extra}\r\n`;

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
      s.send(GET("/broken") + "POST /broken HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
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

describe("Request API", () => {
  it("sets and reads cookies, and keeps a session that expires", () => {
    const seen: string[] = [];
    class Counter extends Resource {
      override isLeaf = true;
      render_GET(request: Request) {
        const session = request.getSession();
        seen.push(session.uid);
        const n = ((session.get("n") as number | undefined) ?? 0) + 1;
        session.set("n", n);
        request.addCookie("flavour", "oat", { path: "/", maxAge: 60 });
        return `${n} ${request.getCookie("flavour")}`;
      }
    }
    const s = serve(new Counter(), { sessionTimeout: 100 });
    s.send(GET("/"));
    const [first] = s.responses(["GET"]);
    const setCookies = first?.headers["set-cookie"] ?? [];
    const sessionCookie = setCookies.find((c) => c.startsWith("TWISTED_SESSION="));
    assert.ok(sessionCookie);
    assert.match(sessionCookie, /HttpOnly/);
    assert.ok(setCookies.includes("flavour=oat; Path=/; Max-Age=60"));
    const uid = sessionCookie.split(";")[0]?.split("=")[1];
    s.tr.clear();
    s.send(GET("/", `Cookie: TWISTED_SESSION=${uid}; flavour=oat\r\n`));
    assert.equal(s.responses(["GET"])[0]?.body.toString(), "2 oat");
    assert.equal(seen[0], seen[1]);
    assert.equal(s.site.sessions.size, 1);
    s.clock.advance(100);
    assert.equal(s.site.sessions.size, 0);
  });

  it("answers 304 from setLastModified and setETag when the client's copy is current", () => {
    class Cached extends Resource {
      override isLeaf = true;
      render_GET(request: Request) {
        if (request.setETag('"v1"') === CACHED) return "";
        if (request.setLastModified(1_000_000) === CACHED) return "";
        return "fresh";
      }
    }
    const s = serve(new Cached());
    s.send(
      GET("/", 'If-None-Match: W/"v1"\r\n') +
        GET("/", "If-Modified-Since: Mon, 12 Jan 1970 13:46:40 GMT\r\n") +
        GET("/", "If-Modified-Since: Mon, 12 Jan 1970 13:46:39 GMT\r\n"),
    );
    const [a, b, c] = s.responses(["GET", "GET", "GET"]);
    assert.equal(a?.status, 304);
    assert.equal(a?.header("etag"), '"v1"');
    assert.equal(b?.status, 304);
    assert.equal(c?.status, 200);
    assert.equal(c?.header("last-modified"), "Mon, 12 Jan 1970 13:46:40 GMT");
  });

  it("gives the client's address from the transport, and isSecure over TLS", () => {
    let info = "";
    class Who extends Resource {
      override isLeaf = true;
      render_GET(request: Request) {
        info = `${request.getClientIP()} ${request.isSecure()} ${request.getRequestHostname()}`;
        return "";
      }
    }
    const s = serve(new Who());
    s.send(GET("/"));
    assert.equal(info, "192.0.2.7 false example.com");
    const t = serve(new Who());
    t.tr.TLS = true;
    t.send(GET("/"));
    assert.equal(info, "192.0.2.7 true example.com");
  });

  it("gives the real client behind a PROXY-protocol balancer", () => {
    let ip: string | null = null;
    class Who extends Resource {
      override isLeaf = true;
      render_GET(request: Request) {
        ip = request.getClientIP();
        return "ok";
      }
    }
    const clock = new Clock();
    const wrapped = new HAProxyWrappingFactory(new Site(new Who(), { reactor: clock }));
    const tr = new StringTransportWithDisconnection();
    const proto = wrapped.buildProtocol(tr.getPeer());
    tr.protocol = proto;
    proto.makeConnection(tr);
    proto.dataReceived(Buffer.from(`PROXY TCP4 203.0.113.5 10.0.0.1 40000 80\r\n${GET("/")}`));
    assert.equal(ip, "203.0.113.5");
    assert.match(tr.value().toString(), /^HTTP\/1\.1 200 OK\r\n/);
  });

  it("errbacks notifyFinish when the client goes away, and stops the producer", () => {
    let request: Request | null = null;
    let stopped = false;
    class Stream extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        request = r;
        const p: IPushProducer = {
          stopProducing: () => (stopped = true),
          pauseProducing() {},
          resumeProducing() {},
        };
        r.registerProducer(p, true);
        r.write("partial");
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Stream());
    s.send(GET("/"));
    const done = (request as unknown as Request).notifyFinish();
    s.channel.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(done, ConnectionLost);
    assert.equal(stopped, true);
    (request as unknown as Request).write("ignored");
    (request as unknown as Request).finish();
  });

  it("fires notifyFinish when the response is finished", () => {
    let d: Deferred<void> | null = null;
    class R extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        d = r.notifyFinish();
        return "x";
      }
    }
    const s = serve(new R());
    s.send(GET("/"));
    assert.equal(successResultOf(d as unknown as Deferred<void>), undefined);
  });

  it("pauses a streaming producer while the transport is full", () => {
    const calls: string[] = [];
    let request: Request | null = null;
    class Stream extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        request = r;
        const producer: IPushProducer = {
          pauseProducing: () => calls.push("pause"),
          resumeProducing: () => calls.push("resume"),
          stopProducing: () => calls.push("stop"),
        };
        r.registerProducer(producer, true);
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Stream());
    s.send(GET("/"));
    assert.equal(s.tr.producer, s.channel);
    s.channel.pauseProducing();
    s.channel.resumeProducing();
    (request as unknown as Request).unregisterProducer();
    (request as unknown as Request).finish();
    assert.deepEqual(calls, ["pause", "resume"]);
  });

  it("asks a pull producer for more after each write", () => {
    let n = 0;
    class Pull extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        const pull: IPullProducer = {
          resumeProducing: () => {
            n++;
            if (n <= 3) r.write(`part${n} `);
            else {
              r.unregisterProducer();
              r.finish();
            }
          },
          stopProducing() {},
        };
        r.registerProducer(pull, false);
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Pull());
    s.send(GET("/"));
    for (let i = 0; i < 5; i++) s.clock.advance(0);
    assert.equal(s.responses(["GET"])[0]?.body.toString(), "part1 part2 part3 ");
  });

  it("hands the connection to another protocol after 101", () => {
    const got: string[] = [];
    class Upper extends Protocol {
      override dataReceived(data: Buffer) {
        got.push(data.toString());
        this.transport?.write(data.toString().toUpperCase());
      }
    }
    class Up extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        r.switchProtocols(new Upper(), { Upgrade: "upper" });
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Up());
    s.send(`${GET("/", "Connection: Upgrade\r\nUpgrade: upper\r\n")}early`);
    s.send("later");
    assert.equal(
      s.tr.value().toString(),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: upper\r\nConnection: Upgrade\r\n\r\nEARLYLATER",
    );
    assert.deepEqual(got, ["early", "later"]);
  });

  it("writes combined-format access log lines", () => {
    const lines: string[] = [];
    const accessLog: IAccessLog = { writeLine: (l) => lines.push(l), close() {} };
    const s = serve(tree(), { accessLog });
    s.send(GET("/hello", 'Referer: http://x/\r\nUser-Agent: test "agent"\r\n'));
    assert.deepEqual(lines, [
      '192.0.2.7 - - [01/Jan/1970:00:00:00 +0000] "GET /hello HTTP/1.1" 200 11 "http://x/" "test \\"agent\\""',
    ]);
  });
});

describe("HTTPChannel: bad input, limits and timeouts", () => {
  const bad: [string, string, number][] = [
    [
      "CL and TE",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
    [
      "differing CLs",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      400,
    ],
    [
      "malformed chunk size",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\na\r\n0\r\n\r\n",
      400,
    ],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", 400],
    ["whitespace before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400],
    ["bare CR", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400],
    ["request line too long", `GET /${"a".repeat(9000)} HTTP/1.1\r\n\r\n`, 414],
    ["too many headers", `GET / HTTP/1.1\r\nHost: h\r\n${"A: b\r\n".repeat(101)}\r\n`, 431],
    ["unsupported expectation", "GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", 417],
  ];
  for (const [name, data, status] of bad) {
    it(`answers ${name} with ${status} and closes`, () => {
      const s = serve(tree());
      s.send(data + GET("/hello"));
      const rs = s.responses();
      assert.equal(rs.length, 1);
      assert.equal(rs[0]?.status, status);
      assert.equal(rs[0]?.header("connection"), "close");
      assert.equal(s.tr.disconnecting, true);
      // The site goes on serving other connections.
      const other = connectTo(s.site, s.clock);
      other.send(GET("/hello"));
      assert.equal(other.responses(["GET"])[0]?.status, 200);
    });
  }

  it("answers 413 for a body over the resource's limit, before reading it", () => {
    const root = tree();
    const small = new Echo();
    small.maxRequestBodySize = 10;
    root.putChild("small", small);
    const s = serve(root);
    s.send("POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n");
    assert.equal(s.responses()[0]?.status, 413);
    assert.equal(s.tr.disconnecting, true);
    const ok = connectTo(s.site, s.clock);
    ok.send("POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789");
    assert.equal(ok.responses(["POST"])[0]?.status, 200);
    const big = connectTo(s.site, s.clock);
    big.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
    assert.equal(big.responses(["POST"])[0]?.status, 200);
  });

  it("sends 100 Continue before reading an expected body, and 413 instead when too large", () => {
    const s = serve(tree(), { maxRequestBodySize: 100 });
    s.send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert.equal(s.tr.value().toString(), "HTTP/1.1 100 Continue\r\n\r\n");
    s.send("hello");
    assert.equal(s.responses(["POST"])[1]?.status, 200);
    const t = connectTo(s.site, s.clock);
    t.send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 500\r\n\r\n");
    const rs = t.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0]?.status, 413);
  });

  it("closes an idle connection after the timeout, silently", () => {
    const s = serve(tree(), { timeout: 10 });
    s.send(GET("/hello"));
    s.clock.advance(9);
    assert.equal(s.tr.disconnecting, false);
    s.clock.advance(1);
    assert.equal(s.tr.disconnecting, true);
    assert.equal(s.responses(["GET"]).length, 1);
  });

  it("answers 408 to a slow-loris head, even if it keeps sending", () => {
    const s = serve(tree(), { timeout: 10, headerTimeout: 20 });
    s.send("GET / HTTP/1.1\r\n");
    for (let i = 0; i < 25 && !s.tr.disconnecting; i++) {
      s.clock.advance(1);
      s.send("X: y\r\n");
    }
    assert.equal(s.clock.seconds(), 20);
    assert.equal(s.responses()[0]?.status, 408);
    assert.equal(s.tr.disconnecting, true);
  });

  it("times out a client that trickles blank lines instead of a request head", () => {
    const s = serve(tree(), { timeout: 10, headerTimeout: 20 });
    for (let i = 0; i < 30 && !s.tr.disconnecting; i++) {
      s.send("\r\n");
      s.clock.advance(1);
    }
    assert.equal(s.clock.seconds(), 20);
    assert.equal(s.tr.disconnecting, true);
  });

  it("answers 408 when a body stops arriving", () => {
    const s = serve(tree(), { timeout: 5 });
    s.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    s.clock.advance(5);
    assert.equal(s.responses()[0]?.status, 408);
    assert.equal(s.tr.disconnecting, true);
  });

  it("aborts a client that stops reading a response", () => {
    class Stream extends Resource {
      override isLeaf = true;
      render_GET(r: Request) {
        r.write("x");
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Stream(), { timeout: 30 });
    s.send(GET("/"));
    s.channel.pauseProducing();
    s.clock.advance(30);
    assert.equal(s.tr.aborted, true);
  });

  it("does not time out while a response is being made", () => {
    class Slow extends Resource {
      override isLeaf = true;
      render_GET() {
        return NOT_DONE_YET;
      }
    }
    const s = serve(new Slow(), { timeout: 5 });
    s.send(GET("/"));
    s.clock.advance(100);
    assert.equal(s.tr.disconnecting, false);
  });
});
