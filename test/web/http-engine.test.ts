// Tests of the sans-I/O HTTP/1.1 engine, server role: requests and responses, every case fed
// whole, one byte at a time and in random splits (refusals and limits: http-engine-refusals,
// client role: http-engine-client).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Headers } from "../../src/web/_headers.js";
import {
  HTTP11Connection,
  LocalProtocolError,
  NEED_DATA,
  PAUSED,
  RemoteProtocolError,
} from "../../src/web/_http/index.js";
import { bytes, drive, eachSplit, GET } from "./_http_engine.js";

describe("HTTP11Connection (server role): requests", () => {
  it("parses a GET request into RequestReceived and MessageEnded", () => {
    eachSplit(GET, (chunks, name) => {
      const { events, error, last } = drive("server", chunks);
      assert.equal(error, null, name);
      assert.deepEqual(
        events,
        [
          {
            type: "RequestReceived",
            method: "GET",
            target: "/index.html?q=1",
            version: "1.1",
            headers: { Host: ["example.com"], Accept: ["*/*"] },
          },
          { type: "MessageEnded", trailers: null },
        ],
        name,
      );
      assert.equal(last, NEED_DATA, name);
    });
  });

  it("reads a Content-Length body", () => {
    const req = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
    eachSplit(req, (chunks, name) => {
      const { events, error } = drive("server", chunks);
      assert.equal(error, null, name);
      assert.deepEqual(
        events.slice(1),
        [
          { type: "DataReceived", data: "hello world" },
          { type: "MessageEnded", trailers: null },
        ],
        name,
      );
    });
  });

  it("reads a chunked body with extensions and trailers", () => {
    const req =
      "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n0006\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n";
    eachSplit(req, (chunks, name) => {
      const { events, error } = drive("server", chunks);
      assert.equal(error, null, name);
      assert.deepEqual(
        events.slice(1),
        [
          { type: "DataReceived", data: "hello world" },
          { type: "MessageEnded", trailers: { "X-Checksum": ["abc"] } },
        ],
        name,
      );
    });
  });

  it("accepts LF-only line ends in the head and skips empty lines before the request line", () => {
    eachSplit("\r\n\nGET / HTTP/1.1\nHost: h\n\n", (chunks, name) => {
      const { events, error } = drive("server", chunks);
      assert.equal(error, null, name);
      assert.equal(events[0]?.method, "GET", name);
      assert.equal(events[1]?.type, "MessageEnded", name);
    });
  });

  it("holds pipelined requests (PAUSED) until the response is sent and the next cycle starts", () => {
    const two = `${GET}GET /second HTTP/1.1\r\nHost: h\r\n\r\n`;
    eachSplit(two, (chunks, name) => {
      const { events, conn, last } = drive("server", chunks);
      assert.equal(events.length, 2, name);
      assert.equal(last, PAUSED, name);
      conn.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "0" }) });
      conn.sendEndOfMessage();
      conn.startNextCycle();
      const next = drive("server", [], { conn });
      assert.equal(next.events[0]?.target, "/second", name);
      assert.equal(next.events[1]?.type, "MessageEnded", name);
    });
  });

  it("reports EOF between requests as ConnectionClosed", () => {
    const { events, error } = drive("server", [Buffer.from(GET)], { eof: true });
    assert.equal(error, null);
    assert.deepEqual(events[2], { type: "ConnectionClosed" });
  });

  it("fails on EOF in the middle of a head or a body", () => {
    assert.equal(
      drive("server", [Buffer.from("GET / HTTP/1.1\r\nHo")], { eof: true }).error?.status,
      400,
    );
    const body = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc";
    assert.match(
      drive("server", [Buffer.from(body)], { eof: true }).error?.message ?? "",
      /missing/,
    );
  });

  it("turns keep-alive off for Connection: close and for HTTP/1.0 without keep-alive", () => {
    const cases: [string, boolean][] = [
      ["GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false],
      ["GET / HTTP/1.0\r\n\r\n", false],
      ["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true],
      [GET, true],
    ];
    for (const [req, keep] of cases) {
      eachSplit(req, (chunks, name) => {
        const { conn } = drive("server", chunks);
        assert.equal(conn.keepAlive, keep, `${req} ${name}`);
      });
    }
  });

  it("flags Expect: 100-continue until a response or body data", () => {
    const req = "PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    const { conn } = drive("server", [Buffer.from(req)]);
    assert.equal(conn.theyAreWaitingFor100Continue, true);
    assert.equal(
      bytes(conn.sendInformationalResponse({ status: 100 })),
      "HTTP/1.1 100 Continue\r\n\r\n",
    );
    assert.equal(conn.theyAreWaitingFor100Continue, false);
    const rest = drive("server", [Buffer.from("abc")], { conn });
    assert.deepEqual(rest.events, [
      { type: "DataReceived", data: "abc" },
      { type: "MessageEnded", trailers: null },
    ]);
  });

  it("hands the connection over after 101 Switching Protocols, with the bytes that followed", () => {
    const req =
      "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    eachSplit(req, (chunks, name) => {
      const { conn, last } = drive("server", chunks);
      assert.equal(last, PAUSED, name);
      assert.equal(conn.theirState, "MIGHT_SWITCH_PROTOCOL", name);
      const out = bytes(
        conn.sendInformationalResponse({
          status: 101,
          headers: new Headers({ Upgrade: "websocket", Connection: "Upgrade" }),
        }),
      );
      assert.equal(
        out,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      );
      assert.deepEqual(
        conn.states,
        { client: "SWITCHED_PROTOCOL", server: "SWITCHED_PROTOCOL" },
        name,
      );
      assert.equal(conn.trailingData.data.toString("latin1"), "\x81\x05hello", name);
    });
  });

  it("declines an upgrade with an ordinary response", () => {
    const req = "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    const { conn } = drive("server", [Buffer.from(req)]);
    conn.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "0" }) });
    conn.sendEndOfMessage();
    assert.deepEqual(conn.states, { client: "DONE", server: "DONE" });
  });
});

describe("HTTP11Connection (server role): responses", () => {
  function afterRequest(req = GET): HTTP11Connection {
    const conn = new HTTP11Connection("server");
    conn.receiveData(Buffer.from(req));
    conn.nextEvent();
    conn.nextEvent();
    return conn;
  }

  it("keeps a Content-Length the caller set", () => {
    const conn = afterRequest();
    const out = [
      ...conn.sendResponse({ status: 200, headers: new Headers({ "content-length": "5" }) }),
      ...conn.sendData(Buffer.from("hello")),
      ...conn.sendEndOfMessage(),
    ];
    assert.equal(bytes(out), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    conn.startNextCycle();
    assert.equal(conn.ourState, "IDLE");
  });

  it("chunks a body of unknown length for an HTTP/1.1 client, with trailers", () => {
    const conn = afterRequest();
    const out = [
      ...conn.sendResponse({ status: 200, headers: new Headers() }),
      ...conn.sendData(Buffer.from("hello")),
      ...conn.sendData(Buffer.alloc(0)),
      ...conn.sendData(Buffer.alloc(600, "x")),
      ...conn.sendEndOfMessage(new Headers({ "X-Sum": "1" })),
    ];
    assert.equal(
      bytes(out),
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n258\r\n${"x".repeat(600)}\r\n0\r\nX-Sum: 1\r\n\r\n`,
    );
  });

  it("delimits by closing for an HTTP/1.0 client, and says keep-alive when it may", () => {
    const conn = afterRequest("GET / HTTP/1.0\r\n\r\n");
    const out = bytes([
      ...conn.sendResponse({ status: 200, headers: new Headers() }),
      ...conn.sendData(Buffer.from("x")),
      ...conn.sendEndOfMessage(),
    ]);
    assert.equal(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nx");
    assert.equal(conn.ourState, "MUST_CLOSE");
    const ka = afterRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const head = bytes(
      ka.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "0" }) }),
    );
    assert.equal(head, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  });

  it("sends no body for HEAD, 204 and 304, dropping data", () => {
    for (const [req, status] of [
      ["HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", 200],
      [GET, 204],
      [GET, 304],
    ] as const) {
      const conn = afterRequest(req);
      const out = bytes([
        ...conn.sendResponse({ status, headers: new Headers({ "Content-Length": "5" }) }),
        ...conn.sendData(Buffer.from("hello")),
        ...conn.sendEndOfMessage(),
      ]);
      assert.doesNotMatch(out, /hello/);
      assert.doesNotMatch(out, /chunked/);
    }
  });

  it("adds Connection: close when the client asked for it", () => {
    const conn = afterRequest("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const head = bytes(
      conn.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "0" }) }),
    );
    assert.match(head, /\r\nConnection: close\r\n/);
    conn.sendEndOfMessage();
    assert.equal(conn.ourState, "MUST_CLOSE");
  });

  it("raises LocalProtocolError for misuse, and goes to ERROR", () => {
    const idle = new HTTP11Connection("server");
    assert.throws(
      () => idle.sendResponse({ status: 200, headers: new Headers() }),
      LocalProtocolError,
    );
    const conn = afterRequest();
    conn.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "2" }) });
    assert.throws(() => conn.sendData(Buffer.from("abc")), LocalProtocolError);
    assert.equal(conn.ourState, "ERROR");
    const short = afterRequest();
    short.sendResponse({ status: 200, headers: new Headers({ "Content-Length": "2" }) });
    short.sendData(Buffer.from("a"));
    assert.throws(() => short.sendEndOfMessage(), /short of Content-Length/);
    const early = afterRequest();
    assert.throws(() => early.startNextCycle(), LocalProtocolError);
    assert.throws(() => early.sendInformationalResponse({ status: 101 }), /did not ask/);
  });

  it("can answer an error before any request was parsed", () => {
    const conn = new HTTP11Connection("server");
    conn.receiveData(Buffer.from("BAD REQUEST LINE WITH SPACES\r\n\r\n"));
    assert.throws(() => conn.nextEvent(), RemoteProtocolError);
    const out = bytes([
      ...conn.sendResponse({ status: 400, headers: new Headers({ "Content-Length": "0" }) }),
      ...conn.sendEndOfMessage(),
    ]);
    assert.equal(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert.equal(conn.ourState, "MUST_CLOSE");
  });
});
