// Tests of HTTPChannel over StringTransport and Clock: bad input and limits answered and closed,
// 100 Continue, and the idle, slow-head, slow-body and stalled-reader timeouts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NOT_DONE_YET, type Request, Resource } from "../../src/web/index.js";
import { connectTo, serve } from "./_helpers.js";
import { Echo, GET, tree } from "./_server_tree.js";

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
