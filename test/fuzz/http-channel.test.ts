// Fuzz tests of the HTTP server (Site and HTTPChannel on a StringTransport and a Clock): mutated
// requests, whole and in random splits (one byte at a time included). Nothing may escape
// dataReceived; the output must parse as responses, a protocol error being answered once
// (4xx/5xx with Connection: close) and last, then closed; the engine's buffer stays bounded
// (reading pauses while pipelined requests wait); and the site still serves a new connection.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Clock, LogCapture } from "../../src/testing/index.js";
import type { HTTP11Connection } from "../../src/web/_http/index.js";
import { NOT_DONE_YET, type Request, Resource, Site } from "../../src/web/index.js";
import { connectTo, parseResponses } from "../web/_helpers.js";
import { GET, tree } from "../web/_server_tree.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

const LIMITS = {
  maxStartLineSize: 512,
  maxHeaderSize: 2048,
  maxHeaderCount: 30,
  maxBodySize: 8192,
  maxChunkLineSize: 64,
};

/** Answers after a second on the clock, so that pipelined requests pile up meanwhile. */
class Slow extends Resource {
  override isLeaf = true;
  constructor(private readonly clock: Clock) {
    super();
  }
  render_GET(request: Request) {
    this.clock.callLater(1, () => {
      if (request.finished) return;
      request.write(Buffer.from("slow"));
      request.finish();
    });
    return NOT_DONE_YET;
  }
}

/** Throws from render: the site must answer 500, not let it escape. */
class Broken extends Resource {
  override isLeaf = true;
  render_GET(): string {
    throw new Error("resource bug");
  }
}

const REQUESTS = [
  GET("/hello"),
  GET("/echo?a=1&b=%zz"),
  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
  "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n",
  "GET /hello HTTP/1.0\r\n\r\n",
  "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n",
  "PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  `${GET("/slow")}${GET("/hello")}${GET("/echo")}`,
  `${GET("/hello")}POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok${GET("/broken")}`,
  "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET http://a/hello HTTP/1.1\r\nHost: a\r\n\r\n",
];

/** Statuses the channel answers protocol errors with. */
const PROTOCOL_ERRORS = new Set([400, 408, 413, 414, 417, 431, 501, 505]);

function makeSite(clock: Clock): Site {
  const root = tree();
  root.putChild("slow", new Slow(clock));
  root.putChild("broken", new Broken());
  return new Site(root, { reactor: clock, limits: LIMITS });
}

/** One connection fed `chunks` (holding them while the channel paused reading), then the clock run. */
function serveOnce(site: Site, clock: Clock, chunks: Buffer[]): void {
  const s = connectTo(site, clock);
  const conn = (s.channel as unknown as { conn: HTTP11Connection }).conn;
  // The methods of the requests received, to know which responses have no body (HEAD).
  const methods: string[] = [];
  const nextEvent = conn.nextEvent.bind(conn);
  conn.nextEvent = () => {
    const ev = nextEvent();
    if (typeof ev === "object" && ev.type === "RequestReceived") methods.push(ev.method);
    return ev;
  };
  const bound = 4 * LIMITS.maxHeaderSize + LIMITS.maxStartLineSize + LIMITS.maxHeaderSize + 8;
  const queue = [...chunks];
  let biggest = 0;
  for (let round = 0; round < 100 && queue.length > 0 && !s.tr.disconnecting; round++) {
    while (queue.length > 0 && !s.tr.disconnecting && s.tr.producerState !== "paused") {
      const c = queue.shift() as Buffer;
      biggest = Math.max(biggest, c.length);
      s.send(c);
      assert.ok(
        conn.bufferedLength <= bound + biggest,
        `the engine holds ${conn.bufferedLength} bytes`,
      );
    }
    clock.advance(1);
  }
  for (let i = 0; i < 5; i++) clock.advance(1);
  const out = s.tr.value();
  const responses = parseResponses(out, methods);
  const errorAt = responses.findIndex(
    (r) => PROTOCOL_ERRORS.has(r.status) && r.header("connection") === "close",
  );
  if (errorAt >= 0) {
    assert.equal(errorAt, responses.length - 1, "a protocol error response is the last one");
    assert.ok(s.tr.disconnecting, "closed after a protocol error response");
  }
  for (const r of responses) assert.ok(r.status >= 100 && r.status < 600);
  // Once closing, nothing more is written.
  if (s.tr.disconnecting) {
    const before = s.tr.value().length;
    s.send(Buffer.from(GET("/hello")));
    assert.equal(s.tr.value().length, before, "wrote after closing");
  }
  // The peer goes away; the channel must cope whatever its state.
  if (s.tr.connected) s.tr.abortConnection();
}

function stillServes(site: Site, clock: Clock): void {
  const ok = connectTo(site, clock);
  ok.send(GET("/hello"));
  const rs = ok.responses(["GET"]);
  assert.equal(rs[0]?.status, 200);
  assert.equal(rs[0]?.body.toString(), "hello world");
}

function oneCase(r: Rand, site: Site, clock: Clock): void {
  const input = mutateMany(r, Buffer.from(r.pick(REQUESTS), "latin1"));
  try {
    serveOnce(site, clock, split(r, input, 600));
  } catch (e) {
    if (e instanceof Error) {
      e.message += ` — input ${JSON.stringify(input.toString("latin1").slice(0, 300))}`;
    }
    throw e;
  }
}

describe("fuzz: Site and HTTPChannel", () => {
  it("mutated requests never escape dataReceived and are answered, then closed on error", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      const clock = new Clock();
      const site = makeSite(clock);
      runCases(11, 700, (r, i) => {
        oneCase(r, site, clock);
        if (i % 50 === 0) stillServes(site, clock);
      });
      stillServes(site, clock);
    } finally {
      logs.stop();
    }
    // The resource that throws was reached, and its error logged rather than thrown.
    assert.ok(logs.failures().some((f) => f.getErrorMessage().includes("resource bug")));
  });

  it("a flood of pipelined requests to a slow resource pauses reading instead of buffering", () => {
    const clock = new Clock();
    const site = makeSite(clock);
    const s = connectTo(site, clock);
    const conn = (s.channel as unknown as { conn: HTTP11Connection }).conn;
    const one = Buffer.from(GET("/slow"));
    let sent = 0;
    while (s.tr.producerState !== "paused" && sent < 10_000) {
      s.send(one);
      sent++;
    }
    assert.equal(s.tr.producerState, "paused");
    assert.ok(conn.bufferedLength <= 4 * LIMITS.maxHeaderSize + one.length);
    // Answers flow and reading resumes.
    for (let i = 0; i < 5; i++) clock.advance(1);
    assert.ok(s.responses(Array(sent).fill("GET")).length >= 5);
  });
});
