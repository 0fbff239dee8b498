// Tests of the Request API over StringTransport and Clock: cookies and sessions, conditional
// requests, client addresses, notifyFinish, producers, protocol switching, access logs.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Deferred } from "../../src/internet/defer.js";
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
  type IAccessLog,
  NOT_DONE_YET,
  type Request,
  Resource,
  Site,
} from "../../src/web/index.js";
import { serve } from "./_helpers.js";
import { GET, tree } from "./_server_tree.js";

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
