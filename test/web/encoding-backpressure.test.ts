// Gzip'd responses paced by the client: a slow reader over a real socket holds the resource's
// producer (push or pull) and zlib's output, so what the server buffers stays bounded while a
// large, incompressible body still arrives intact.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { createGunzip } from "node:zlib";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IPv4Address } from "../../src/internet/address.js";
import type { IListeningPort, IPushProducer } from "../../src/internet/interfaces.js";
import {
  EncodingResourceWrapper,
  GzipEncoderFactory,
  NOT_DONE_YET,
  type Request,
  Resource,
  Site,
} from "../../src/web/index.js";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** Random, so gzip cannot shrink it: its 32 KiB window never sees a repeat of this 1 MiB. */
const BLOCK = randomBytes(MiB);

const reactor = new NodeReactor();
const ports: IListeningPort[] = [];
after(async () => {
  for (const p of ports) await p.stopListening();
});

/** What one response did, sampled at every write on the server and every read on the client. */
interface Stats {
  produced: number;
  decoded: number;
  /**
   * The most the producer was ahead of what the kernel had taken from the server's socket:
   * what the server itself held (in zlib and the socket's buffer). The body does not compress,
   * so compressed and produced bytes compare (gzip adds a few bytes per 64 KiB).
   */
  maxServerHeld: number;
  /** The most bytes waiting in the server socket's write buffer. */
  maxSocketBuffered: number;
  transport: { getHandle(): Socket } | null;
  /** The producer was told to stop. */
  stopped: boolean;
  request: Request | null;
}

function sample(stats: Stats): void {
  const socket = stats.transport?.getHandle();
  if (socket === undefined) return;
  const sent = socket.bytesWritten - socket.writableLength;
  stats.maxServerHeld = Math.max(stats.maxServerHeld, stats.produced - sent);
  stats.maxSocketBuffered = Math.max(stats.maxSocketBuffered, socket.writableLength);
}

/** Writes `total` bytes of BLOCK as fast as it is let, 64 KiB at a time. */
class Source implements IPushProducer {
  private paused = false;
  private pumping = false;
  private stopped = false;

  constructor(
    private readonly request: Request,
    private readonly stats: Stats,
    private readonly total: number,
    private readonly streaming: boolean,
  ) {}

  start(): void {
    this.request.registerProducer(this, this.streaming);
    if (this.streaming) this.pump();
  }

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
    this.pump();
  }

  stopProducing(): void {
    this.stopped = true;
    this.stats.stopped = true;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    // A pull producer writes one chunk per resumeProducing; a push one until it is paused.
    do {
      if (this.stopped || this.stats.produced >= this.total) break;
      const at = this.stats.produced % MiB;
      const chunk = BLOCK.subarray(at, at + Math.min(CHUNK, this.total - this.stats.produced));
      this.stats.produced += chunk.length;
      this.request.write(chunk);
      sample(this.stats);
    } while (this.streaming && !this.paused);
    this.pumping = false;
    if (this.stats.produced >= this.total && !this.request.finished && !this.stopped) {
      this.request.unregisterProducer();
      this.request.finish();
    }
  }
}

class Streaming extends Resource {
  override isLeaf = true;
  constructor(
    private readonly stats: Stats,
    private readonly total: number,
    private readonly streaming: boolean,
    private readonly contentType: string,
  ) {
    super();
  }
  render_GET(request: Request) {
    request.setHeader("Content-Type", this.contentType);
    this.stats.transport = request.transport as unknown as Stats["transport"];
    this.stats.request = request;
    new Source(request, this.stats, this.total, this.streaming).start();
    return NOT_DONE_YET;
  }
}

function expectedDigest(total: number): string {
  const h = createHash("sha256");
  for (let at = 0; at < total; at += MiB) h.update(BLOCK.subarray(0, Math.min(MiB, total - at)));
  return h.digest("hex");
}

/**
 * Fetches `/` with gzip from `port`, reading slowly: stalled for the first 300 ms (the server
 * must stop), then paused for 5 ms after every 2 MiB received.
 */
function slowGet(
  port: number,
  stats: Stats,
): Promise<{ encoding: string | undefined; digest: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/", headers: { "Accept-Encoding": "gzip" }, agent: false },
      (res) => {
        const hash = createHash("sha256");
        const gunzip =
          res.headers["content-encoding"] === "gzip" ? createGunzip() : new PassThrough();
        gunzip.on("data", (c: Buffer) => {
          stats.decoded += c.length;
          hash.update(c);
          sample(stats);
        });
        gunzip.on("end", () =>
          resolve({ encoding: res.headers["content-encoding"], digest: hash.digest("hex") }),
        );
        gunzip.on("error", reject);
        let sincePause = 0;
        res.on("data", (c: Buffer) => {
          gunzip.write(c);
          sincePause += c.length;
          if (sincePause >= 2 * MiB) {
            sincePause = 0;
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on("end", () => gunzip.end());
        res.on("error", reject);
        res.pause();
        setTimeout(() => res.resume(), 300);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function newStats(): Stats {
  return {
    produced: 0,
    decoded: 0,
    maxServerHeld: 0,
    maxSocketBuffered: 0,
    transport: null,
    stopped: false,
    request: null,
  };
}

/** Serves `total` gzip-encoded bytes from a `Streaming` resource; returns the port. */
function listen(stats: Stats, total: number, streaming: boolean, contentType: string): number {
  const site = new Site(
    new EncodingResourceWrapper(new Streaming(stats, total, streaming, contentType), [
      new GzipEncoderFactory(1),
    ]),
    { reactor },
  );
  const port = reactor.listenTCP(0, site, 50, "127.0.0.1");
  ports.push(port);
  return (port.getHost() as IPv4Address).port;
}

/**
 * The server held less than 1 MiB of produced-but-unsent bytes (zlib's two 16 KiB stream
 * buffers, a chunk the producer wrote before being paused, the socket's buffer; unpaced, it
 * is the whole body), and the socket buffered less than 256 KiB (the transport pauses the
 * encoder once the socket's 16 KiB buffer is full: a zlib output chunk or a producer chunk
 * more at most).
 */
function assertBuffersBounded(stats: Stats): void {
  assert.ok(stats.maxServerHeld < MiB, `server held ${stats.maxServerHeld} bytes`);
  assert.ok(
    stats.maxSocketBuffered < 256 * 1024,
    `socket buffered ${stats.maxSocketBuffered} bytes`,
  );
}

async function run(
  total: number,
  streaming: boolean,
  contentType = "application/x-random",
): Promise<Stats> {
  const stats = newStats();
  // Also between writes and reads: while the client stalls, nothing else samples.
  const sampler = setInterval(() => sample(stats), 1);
  const port = listen(stats, total, streaming, contentType);
  const got = await slowGet(port, stats).finally(() => clearInterval(sampler));
  assert.equal(got.encoding, contentType.startsWith("image/") ? undefined : "gzip");
  assert.equal(stats.decoded, total);
  assert.equal(got.digest, expectedDigest(total));
  return stats;
}

describe("gzip encoder: back-pressure from a slow reader", () => {
  it("holds a push producer: 64 MiB arrive intact with the server's buffers bounded", async () => {
    const stats = await run(64 * MiB, true);
    // zlib's two 16 KiB stream buffers, a chunk the producer wrote before being paused, the
    // socket's buffer. Unpaced, it is the whole body.
    assertBuffersBounded(stats);
  });

  it("asks a pull producer for more only when there is room", async () => {
    const stats = await run(16 * MiB, false);
    assertBuffersBounded(stats);
  });

  it("passes pause and resume through when it leaves the response uncompressed", async () => {
    const stats = await run(16 * MiB, true, "image/png");
    assertBuffersBounded(stats);
  });

  it("stops the producer when the client goes away mid-body", async () => {
    const stats = newStats();
    const port = listen(stats, 64 * MiB, true, "text/plain");
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          headers: { "Accept-Encoding": "gzip" },
          agent: false,
        },
        (res) => {
          let got = 0;
          res.on("data", (c: Buffer) => {
            got += c.length;
            if (got >= MiB) {
              res.destroy();
              resolve();
            }
          });
        },
      );
      req.on("error", reject);
      req.end();
    });
    for (let i = 0; i < 200 && !stats.stopped; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(stats.stopped, true);
    // A resource that writes and finishes anyway is ignored, as without compression.
    stats.request?.write("late");
    stats.request?.finish();
    assert.ok(stats.produced < 64 * MiB, `produced ${stats.produced}`);
  });
});
