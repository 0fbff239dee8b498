// Tests of the sans-I/O HTTP/1.1 engine: every case fed whole, one byte at a time and in random splits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Headers } from "../../src/web/_headers.js";
import {
  HTTP11Connection,
  type HTTPEvent,
  type HTTPLimits,
  LocalProtocolError,
  NEED_DATA,
  PAUSED,
  RemoteProtocolError,
  type Role,
} from "../../src/web/_http/index.js";
import { splits } from "../protocols/_splits.js";

/** An event with body data joined, for comparison. */
type Seen = Record<string, unknown>;

interface Driven {
  events: Seen[];
  error: RemoteProtocolError | null;
  conn: HTTP11Connection;
  last: string;
}

function simplify(e: HTTPEvent): Seen {
  const out: Seen = { ...e };
  if ("headers" in e) out.headers = Object.fromEntries(e.headers);
  if (e.type === "MessageEnded")
    out.trailers = e.trailers === null ? null : Object.fromEntries(e.trailers);
  if (e.type === "DataReceived") out.data = e.data.toString("latin1");
  return out;
}

/** Feeds `chunks` (then EOF if asked) and collects events, merging adjacent data events. */
function drive(
  role: Role,
  chunks: Buffer[],
  options: { eof?: boolean; limits?: Partial<HTTPLimits>; conn?: HTTP11Connection } = {},
): Driven {
  const conn = options.conn ?? new HTTP11Connection(role, options.limits);
  const events: Seen[] = [];
  let last = "";
  const pull = (): boolean => {
    for (;;) {
      let ev: ReturnType<HTTP11Connection["nextEvent"]>;
      try {
        ev = conn.nextEvent();
      } catch (e) {
        if (e instanceof RemoteProtocolError) return false;
        throw e;
      }
      if (ev === NEED_DATA || ev === PAUSED) {
        last = ev;
        return true;
      }
      const s = simplify(ev);
      const prev = events[events.length - 1];
      if (s.type === "DataReceived" && prev?.type === "DataReceived") {
        prev.data = (prev.data as string) + (s.data as string);
      } else events.push(s);
      if (ev.type === "ConnectionClosed") {
        last = "closed";
        return true;
      }
    }
  };
  let error: RemoteProtocolError | null = null;
  const catchErr = () => {
    try {
      conn.nextEvent();
    } catch (e) {
      if (e instanceof RemoteProtocolError) error = e;
    }
  };
  if (!pull()) {
    catchErr();
    return { events, error, conn, last };
  }
  for (const c of chunks) {
    conn.receiveData(c);
    if (!pull()) {
      catchErr();
      return { events, error, conn, last };
    }
  }
  if (options.eof) {
    conn.receiveData(Buffer.alloc(0));
    if (!pull()) catchErr();
  }
  return { events, error, conn, last };
}

/** Runs `check` for every split of `data`. */
function eachSplit(data: string | Buffer, check: (chunks: Buffer[], name: string) => void): void {
  for (const [name, chunks] of splits(data)) check(chunks, name);
}

const GET = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

function bytes(chunks: readonly Uint8Array[]): string {
  return Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("latin1");
}

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

describe("HTTP11Connection: smuggling vectors and malformed input are refused", () => {
  const head = (h: string, body = "") => `POST / HTTP/1.1\r\nHost: h\r\n${h}\r\n${body}`;
  const vectors: [string, string, number][] = [
    [
      "Content-Length and Transfer-Encoding",
      head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
      400,
    ],
    [
      "differing duplicate Content-Length",
      head("Content-Length: 5\r\nContent-Length: 6\r\n", "hello"),
      400,
    ],
    ["differing Content-Length list", head("Content-Length: 5, 6\r\n", "hello"), 400],
    ["signed Content-Length", head("Content-Length: +5\r\n", "hello"), 400],
    ["negative Content-Length", head("Content-Length: -1\r\n"), 400],
    ["hex Content-Length", head("Content-Length: 0x5\r\n"), 400],
    ["huge Content-Length", head("Content-Length: 99999999999999999999\r\n"), 400],
    [
      "chunk size with 0x",
      head("Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with sign",
      head("Transfer-Encoding: chunked\r\n", "+5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with leading space",
      head("Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with trailing space",
      head("Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    ["empty chunk size", head("Transfer-Encoding: chunked\r\n", "\r\nhello\r\n0\r\n\r\n"), 400],
    ["chunk size too large", head("Transfer-Encoding: chunked\r\n", "fffffffffffffffff\r\n"), 400],
    [
      "bare LF after chunk size",
      head("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "no CRLF after chunk data",
      head("Transfer-Encoding: chunked\r\n", "5\r\nhelloX\r\n0\r\n\r\n"),
      400,
    ],
    [
      "bare CR in chunk extension",
      head("Transfer-Encoding: chunked\r\n", "5;a\rb\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    ["chunked not last", head("Transfer-Encoding: chunked, gzip\r\n"), 400],
    ["chunked twice", head("Transfer-Encoding: chunked, chunked\r\n"), 400],
    ["unknown transfer coding", head("Transfer-Encoding: xchunked\r\n"), 400],
    ["unsupported transfer coding", head("Transfer-Encoding: gzip, chunked\r\n"), 501],
    [
      "Transfer-Encoding in HTTP/1.0",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
    ["obsolete line folding", head("X-A: a\r\n b\r\n"), 400],
    ["obsolete line folding after the request line", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400],
    ["whitespace before colon", head("Content-Length : 5\r\n", "hello"), 400],
    ["tab before colon", head("Transfer-Encoding\t: chunked\r\n"), 400],
    ["bare CR in a header", head("X-A: a\rb\r\n"), 400],
    ["bare CR ending a header", head("X-A: a\r\rX-B: b\r\n"), 400],
    ["NUL in a header value", head("X-A: a\0b\r\n"), 400],
    ["no colon", head("X-A a\r\n"), 400],
    ["empty header name", head(": a\r\n"), 400],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["double space in request line", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["HTTP/0.9 request line", "GET /\r\n\r\n", 400],
    ["bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["control character in target", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["non-ASCII target", "GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505],
    ["bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400],
  ];
  for (const [name, data, status] of vectors) {
    it(`${name} → ${status}`, () => {
      eachSplit(Buffer.from(data, "latin1"), (chunks, split) => {
        const { error, conn } = drive("server", chunks);
        assert.ok(error, `${split}: no error`);
        assert.equal(error.status, status, `${split}: ${error.message}`);
        assert.equal(conn.theirState, "ERROR", split);
        assert.throws(() => conn.nextEvent(), RemoteProtocolError);
      });
    });
  }
});

describe("HTTP11Connection: limits", () => {
  it("refuses a request line over 8 KiB with 414 before its end arrives", () => {
    const line = `GET /${"a".repeat(9000)}`;
    eachSplit(line, (chunks, name) => {
      const { error } = drive("server", chunks);
      assert.equal(error?.status, 414, name);
    });
  });

  it("accepts a request line of exactly the limit", () => {
    const target = `/${"a".repeat(8 * 1024 - "GET  HTTP/1.1".length - 1)}`;
    const req = `GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const { error, events } = drive("server", [Buffer.from(req)]);
    assert.equal(error, null);
    assert.equal(events[0]?.target, target);
  });

  it("refuses a header block over 16 KiB with 431", () => {
    const req = `GET / HTTP/1.1\r\nHost: h\r\n${"X-Big: abcdefghijklmnopqrstuvwxyz\r\n".repeat(600)}`;
    eachSplit(req, (chunks, name) => {
      assert.equal(drive("server", chunks).error?.status, 431, name);
    });
  });

  it("refuses more than 100 header fields with 431, and the limits are configurable", () => {
    const many = (n: number) => `GET / HTTP/1.1\r\nHost: h\r\n${"X: y\r\n".repeat(n)}\r\n`;
    assert.equal(drive("server", [Buffer.from(many(99))]).error, null);
    assert.equal(drive("server", [Buffer.from(many(100))]).error?.status, 431);
    assert.equal(
      drive("server", [Buffer.from(many(5))], { limits: { maxHeaderCount: 5 } }).error?.status,
      431,
    );
    assert.equal(
      drive("server", [Buffer.from(many(4))], { limits: { maxHeaderCount: 5 } }).error,
      null,
    );
  });

  it("refuses a Content-Length over the body limit with 413 before reading the body", () => {
    const conn = new HTTP11Connection("server");
    conn.receiveData(Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n"));
    assert.equal((conn.nextEvent() as HTTPEvent).type, "RequestReceived");
    conn.setMaxBodySize(999);
    assert.throws(
      () => conn.nextEvent(),
      (e: RemoteProtocolError) => e.status === 413,
    );
  });

  it("refuses a chunked body that grows over the limit with 413", () => {
    const req = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${"a\r\n0123456789\r\n".repeat(20)}0\r\n\r\n`;
    eachSplit(req, (chunks, name) => {
      assert.equal(
        drive("server", chunks, { limits: { maxBodySize: 150 } }).error?.status,
        413,
        name,
      );
      assert.equal(drive("server", chunks, { limits: { maxBodySize: 200 } }).error, null, name);
    });
  });

  it("refuses an endless chunk extension and an endless trailer block", () => {
    const ext = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;${"x".repeat(5000)}`;
    assert.equal(drive("server", [Buffer.from(ext)]).error?.status, 400);
    const trailers = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"X-T: v\r\n".repeat(3000)}`;
    assert.equal(drive("server", [Buffer.from(trailers)]).error?.status, 400);
  });
});

describe("HTTP11Connection (client role)", () => {
  function sent(method = "GET", headers = new Headers({ Host: "example.com" })): HTTP11Connection {
    const conn = new HTTP11Connection("client");
    const out = bytes([
      ...conn.sendRequest({ method, target: "/", headers }),
      ...conn.sendEndOfMessage(),
    ]);
    assert.match(out, new RegExp(`^${method} / HTTP/1.1\\r\\nHost: example.com\\r\\n`));
    return conn;
  }

  it("reads a Content-Length response and can reuse the connection", () => {
    eachSplit("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", (chunks, name) => {
      const conn = sent();
      const { events } = drive("client", chunks, { conn });
      assert.deepEqual(
        events,
        [
          {
            type: "ResponseReceived",
            status: 200,
            reason: "OK",
            version: "1.1",
            headers: { "Content-Length": ["5"] },
          },
          { type: "DataReceived", data: "hello" },
          { type: "MessageEnded", trailers: null },
        ],
        name,
      );
      conn.startNextCycle();
    });
  });

  it("reads chunked and close-delimited responses, and a 1xx before the final one", () => {
    eachSplit(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      (chunks, name) => {
        const { events } = drive("client", chunks, { conn: sent() });
        assert.deepEqual(
          events.map((e) => e.type),
          ["InformationalResponseReceived", "ResponseReceived", "DataReceived", "MessageEnded"],
          name,
        );
      },
    );
    eachSplit("HTTP/1.0 200 OK\r\n\r\nuntil the end", (chunks, name) => {
      const { events, conn } = drive("client", chunks, { conn: sent(), eof: true });
      assert.equal(events[1]?.data, "until the end", name);
      assert.equal(events[2]?.type, "MessageEnded", name);
      assert.equal(conn.keepAlive, false, name);
    });
  });

  it("expects no body after HEAD, 204 and 304", () => {
    const { events } = drive(
      "client",
      [Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")],
      {
        conn: sent("HEAD"),
      },
    );
    assert.equal(events[1]?.type, "MessageEnded");
  });

  it("sends chunked uploads and refuses framing it cannot honour", () => {
    const conn = new HTTP11Connection("client");
    const out = bytes([
      ...conn.sendRequest({
        method: "PUT",
        target: "/up",
        headers: new Headers({ Host: "h", "Transfer-Encoding": "chunked" }),
      }),
      ...conn.sendData(Buffer.from("abc")),
      ...conn.sendEndOfMessage(),
    ]);
    assert.equal(
      out,
      "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    const noHost = new HTTP11Connection("client");
    assert.throws(
      () => noHost.sendRequest({ method: "GET", target: "/", headers: new Headers() }),
      LocalProtocolError,
    );
    const noBody = new HTTP11Connection("client");
    noBody.sendRequest({ method: "POST", target: "/", headers: new Headers({ Host: "h" }) });
    assert.throws(() => noBody.sendData(Buffer.from("x")), LocalProtocolError);
  });

  it("answers malformed responses with 502", () => {
    for (const resp of [
      "HTTP/1.1 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    ]) {
      assert.equal(drive("client", [Buffer.from(resp)], { conn: sent() }).error?.status, 502, resp);
    }
    assert.equal(
      drive("client", [Buffer.from("HTTP/1.1 200 OK\r\n")], {
        conn: new HTTP11Connection("client"),
      }).error?.status,
      502,
    );
  });
});

describe("HTTP11Connection: defaults per role", () => {
  it("limits request bodies to 100 MiB but reads responses of any size", () => {
    assert.equal(new HTTP11Connection("server").limits.maxBodySize, 100 * 1024 * 1024);
    assert.equal(new HTTP11Connection("client").limits.maxBodySize, Number.POSITIVE_INFINITY);
    assert.equal(new HTTP11Connection("client", { maxBodySize: 10 }).limits.maxBodySize, 10);
  });
});
