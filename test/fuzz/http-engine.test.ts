// Fuzz tests of the sans-I/O HTTP/1.1 engine (HTTP11Connection), both roles: mutated valid
// messages fed whole and in random splits. The engine must hand out events or one
// RemoteProtocolError (with a 4xx/5xx status, or 502 as a client) — never another exception —
// keep its buffer within the limits while it asks for data, and see the same thing however
// the bytes are split.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Headers } from "../../src/web/_headers.js";
import {
  HTTP11Connection,
  type HTTPLimits,
  NEED_DATA,
  PAUSED,
  RemoteProtocolError,
  type Role,
} from "../../src/web/_http/index.js";
import { simplify } from "../web/_http_engine.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

/** Small limits, so that the fuzzer reaches them. */
const LIMITS: Partial<HTTPLimits> = {
  maxStartLineSize: 256,
  maxHeaderSize: 1024,
  maxHeaderCount: 20,
  maxBodySize: 4096,
  maxChunkLineSize: 64,
};

/** The most bytes the engine may hold while it asks for more data. */
const HELD_WHILE_READING =
  (LIMITS.maxStartLineSize as number) + (LIMITS.maxHeaderSize as number) + 8;

const REQUESTS = [
  "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
  "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
  "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
  "GET /old HTTP/1.0\r\n\r\n",
  "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
  // Pipelined.
  "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok",
  "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
];

const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
  "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
  "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw till close",
];

/** What feeding some chunks produced: the events, and the error status (if any). */
interface Outcome {
  events: string[];
  status: number | null;
}

/**
 * Feeds `chunks` then EOF to `conn`, answering each complete request (server role) so that
 * pipelined ones go on, and checks the invariants after every step.
 */
function feed(conn: HTTP11Connection, chunks: Buffer[], answer: () => void): Outcome {
  const events: string[] = [];
  const pull = (): boolean => {
    for (let guard = 0; guard < 10_000; guard++) {
      let ev: ReturnType<HTTP11Connection["nextEvent"]>;
      try {
        ev = conn.nextEvent();
      } catch (e) {
        assert.ok(e instanceof RemoteProtocolError, `not a RemoteProtocolError: ${String(e)}`);
        assert.ok(e.status >= 400 && e.status < 600, `status ${e.status}`);
        // The error sticks.
        assert.throws(() => conn.nextEvent(), RemoteProtocolError);
        events.push(`error ${e.status}`);
        return false;
      }
      if (ev === NEED_DATA) {
        if (conn.theirState !== "SEND_BODY") {
          assert.ok(
            conn.bufferedLength <= HELD_WHILE_READING,
            `holds ${conn.bufferedLength} bytes while reading a head`,
          );
        }
        return true;
      }
      if (ev === PAUSED) {
        const before = conn.bufferedLength;
        answer();
        if (conn.theirState === "DONE" || conn.theirState === "MUST_CLOSE") {
          // Still paused after answering: nothing more will come out.
          if (conn.ourState !== "IDLE") return true;
        }
        if (conn.bufferedLength === before && conn.theirState !== "IDLE") return true;
        continue;
      }
      const s = simplify(ev);
      const prev = events[events.length - 1];
      if (s.type === "DataReceived" && prev?.startsWith("data ")) {
        events[events.length - 1] = prev + (s.data as string);
      } else events.push(s.type === "DataReceived" ? `data ${s.data}` : JSON.stringify(s));
      if (ev.type === "MessageEnded") answer();
      if (ev.type === "ConnectionClosed") return false;
    }
    assert.fail("nextEvent did not settle in 10,000 calls");
  };
  for (const c of chunks) {
    conn.receiveData(c);
    if (!pull()) return { events, status: statusOf(events) };
  }
  conn.receiveData(Buffer.alloc(0));
  pull();
  return { events, status: statusOf(events) };
}

/**
 * The same outcome for both feeds: equal events, except that the body bytes handed out just
 * before a limit error depend on how they arrived.
 */
function assertSame(a: Outcome, b: Outcome, input: Buffer): void {
  const norm = (o: Outcome) => {
    const ev = [...o.events];
    if (o.status !== null && ev.length >= 2 && ev[ev.length - 2]?.startsWith("data ")) {
      ev.splice(ev.length - 2, 1);
    }
    return JSON.stringify(ev);
  };
  const x = norm(a);
  const y = norm(b);
  if (x !== y) {
    assert.fail(
      `split changed the outcome of ${JSON.stringify(input.toString("latin1").slice(0, 300))}:\n  whole: ${x.slice(0, 600)}\n  split: ${y.slice(0, 600)}`,
    );
  }
}

function statusOf(events: string[]): number | null {
  const last = events[events.length - 1];
  return last?.startsWith("error ") ? Number(last.slice(6)) : null;
}

/** Server role: answers the current request (if both sides allow it) and starts the next cycle. */
function serverAnswer(conn: HTTP11Connection): () => void {
  return () => {
    if (conn.ourState === "SEND_RESPONSE" && conn.theirState !== "SEND_BODY") {
      const headers = new Headers({ "Content-Length": "0" });
      conn.sendResponse({ status: 404, headers });
      conn.sendEndOfMessage();
    }
    if (conn.ourState === "DONE" && conn.theirState === "DONE") conn.startNextCycle();
  };
}

function serverCase(r: Rand): [Buffer, Outcome, Outcome] {
  const input = mutateMany(r, Buffer.from(r.pick(REQUESTS), "latin1"));
  const whole = new HTTP11Connection("server", LIMITS);
  const a = feed(whole, [input], serverAnswer(whole));
  const pieces = new HTTP11Connection("server", LIMITS);
  const b = feed(pieces, split(r, input), serverAnswer(pieces));
  return [input, a, b];
}

/** A client connection that has sent `method` and waits for the response. */
function clientAfter(method: string): HTTP11Connection {
  const conn = new HTTP11Connection("client", LIMITS);
  const headers = new Headers({ Host: "a" });
  conn.sendRequest({ method, target: "/", headers });
  conn.sendEndOfMessage();
  return conn;
}

const noAnswer = (): void => {};

describe("fuzz: HTTP11Connection", () => {
  for (const role of ["server", "client"] as Role[]) {
    it(`${role} role: mutated messages give events or one 4xx/5xx error, the same in any split`, () => {
      runCases(role === "server" ? 1 : 2, 1500, (r) => {
        if (role === "server") {
          const [input, a, b] = serverCase(r);
          assertSame(a, b, input);
          return;
        }
        const method = r.pick(["GET", "HEAD", "POST"]);
        const input = mutateMany(r, Buffer.from(r.pick(RESPONSES), "latin1"));
        const a = feed(clientAfter(method), [input], noAnswer);
        const b = feed(clientAfter(method), split(r, input), noAnswer);
        if (a.status !== null) assert.equal(a.status, 502);
        assertSame(a, b, input);
      });
    });
  }

  it("server role: random bytes never escape as anything but RemoteProtocolError", () => {
    runCases(3, 500, (r) => {
      const conn = new HTTP11Connection("server", LIMITS);
      feed(conn, split(r, r.bytes(r.range(1, 3000))), serverAnswer(conn));
    });
  });

  it("server role: an endless header block or chunk-size line is refused while it arrives", () => {
    runCases(4, 40, (r) => {
      const conn = new HTTP11Connection("server", LIMITS);
      const head = r.pick([
        "GET / HTTP/1.1\r\nHost: a\r\nX: ",
        "GET /",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ",
      ]);
      const chunks = [Buffer.from(head)];
      for (let i = 0; i < 200; i++)
        chunks.push(Buffer.alloc(r.range(1, 64), r.pick([0x61, 0x20, 0x3b])));
      const out = feed(conn, chunks, serverAnswer(conn));
      assert.ok(out.status !== null && out.status >= 400, `not refused: ${out.events.join(" | ")}`);
    });
  });
});
