// Response compression: EncodingResourceWrapper and the gzip encoder (Accept-Encoding negotiation).

import { constants, createGzip, type Gzip } from "node:zlib";
import type { IDelayedCall, IProducer, IPushProducer } from "../internet/interfaces.js";
import type { Request } from "./_request.js";
import type { IResource, RenderResult } from "./_resource.js";

/** Compresses one response: wraps the request's `write` and `finish`. */
export interface IRequestEncoder {
  /** Takes over `request.write`/`request.finish`. */
  install(request: Request): void;
}

/** Decides per request whether (and how) to encode the response. */
export interface IRequestEncoderFactory {
  /** An encoder for `request`, or `null` when the client does not accept this encoding. */
  encoderForRequest(request: Request): IRequestEncoder | null;
}

/** The q-value the client gives `coding` in `Accept-Encoding` (0 if not acceptable). */
export function acceptQuality(acceptEncoding: string | null, coding: string): number {
  if (acceptEncoding === null) return 0;
  let star = -1;
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    if (name === coding) return q;
    if (name === "*") star = q;
  }
  return Math.max(star, 0);
}

const ALREADY_COMPRESSED =
  /^(image\/(?!svg)|video\/|audio\/|application\/(zip|gzip|x-gzip|x-bzip2|x-xz|zstd|x-7z-compressed))/i;

/**
 * Compresses one response, paced by the connection. It sits between the resource and the
 * request: as the request's (streaming) producer it hears the transport's pause/resume, and as
 * the consumer the resource writes to and registers its producer with, it passes them on.
 *
 * Two things hold the resource's producer: the transport being paused (zlib's output stream is
 * paused too, so no compressed bytes pile up in the transport) and zlib's input buffer being
 * over its high-water mark (until `'drain'`, which only comes once the output can flow). So
 * what is held in memory is bounded by zlib's two stream buffers, the transport's buffer and
 * what the producer writes after being paused, whatever the body's size. A pull producer
 * (`streaming` false) is asked for the next chunk only when neither holds.
 */
class GzipEncoder implements IRequestEncoder, IPushProducer {
  private gzip: Gzip | null = null;
  private decided = false;
  private ending = false;
  /** The resource's producer, registered through the wrapped `registerProducer`. */
  private upstream: IProducer | null = null;
  private upstreamStreaming = false;
  private upstreamPaused = false;
  /** Whether this encoder is registered as the request's producer. */
  private registered = false;
  private transportPaused = false;
  /** zlib's input buffer is full: waiting for its `'drain'`. */
  private zlibFull = false;
  private pullCall: IDelayedCall | null = null;
  private request!: Request;
  private realRegister!: (producer: IProducer, streaming: boolean) => void;
  private realUnregister!: () => void;

  constructor(private readonly level: number) {}

  install(request: Request): void {
    this.request = request;
    const write = request.write.bind(request);
    const finish = request.finish.bind(request);
    this.realRegister = request.registerProducer.bind(request);
    this.realUnregister = request.unregisterProducer.bind(request);
    request.registerProducer = (producer, streaming) => {
      if (this.upstream !== null)
        throw new Error("Cannot register a producer: one is already registered");
      this.upstream = producer;
      this.upstreamStreaming = streaming;
      this.upstreamPaused = false;
      this.register();
      this.update();
    };
    request.unregisterProducer = () => {
      if (this.upstream === null) return;
      this.upstream = null;
      this.cancelPull();
      // Uncompressed, the request no longer needs a producer; compressed, this encoder stays
      // registered until zlib has written everything.
      if (this.decided && this.gzip === null) this.unregister();
    };
    request.write = (data) => {
      if (!this.decided) this.start(write, finish);
      const gzip = this.gzip;
      if (gzip === null) {
        write(data);
        this.update();
        return;
      }
      if (this.ending || request.finished)
        throw new Error("Request.write called on a request after Request.finish was called");
      // The connection is gone (zlib was destroyed with it): dropped, as Request.write does.
      if (gzip.destroyed) return;
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      if (bytes.length > 0) {
        gzip.write(bytes);
        // Streamed responses (NOT_DONE_YET) reach the client as they are written.
        gzip.flush(constants.Z_SYNC_FLUSH);
        if (gzip.writableNeedDrain && !this.zlibFull) {
          this.zlibFull = true;
          gzip.once("drain", () => {
            this.zlibFull = false;
            this.update();
          });
        }
      }
      this.update();
    };
    request.finish = () => {
      if (!this.decided) this.start(write, finish);
      const gzip = this.gzip;
      if (gzip === null) {
        this.unregister();
        finish();
        return;
      }
      if (this.ending || gzip.destroyed) return;
      this.ending = true;
      this.cancelPull();
      gzip.end();
    };
  }

  /** Decides, at the first write or the finish, whether to compress, and sets the headers. */
  private start(write: (data: Uint8Array) => void, finish: () => void): void {
    this.decided = true;
    const request = this.request;
    const h = request.responseHeaders;
    const ctype = h.getHeader("content-type") ?? "";
    const bodyless =
      request.code === 204 || request.code === 304 || request.code === 206 || request.code < 200;
    if (bodyless || h.hasHeader("content-encoding") || ALREADY_COMPRESSED.test(ctype)) {
      if (this.upstream === null) this.unregister();
      return;
    }
    h.removeHeader("content-length");
    h.setRawHeaders("Content-Encoding", ["gzip"]);
    const vary = h.getHeader("vary");
    if (vary === null) h.setRawHeaders("Vary", ["Accept-Encoding"]);
    else if (!/accept-encoding/i.test(vary)) h.setRawHeaders("Vary", [`${vary}, Accept-Encoding`]);
    const z = createGzip({ level: this.level });
    this.gzip = z;
    z.on("data", (chunk: Buffer) => {
      if (request.finished) return;
      write(chunk);
    });
    z.on("end", () => {
      this.unregister();
      if (!request.finished) finish();
    });
    z.on("error", () => request.channel.closeConnection(true));
    request.notifyFinish().addErrback(() => {
      z.destroy();
      return null;
    });
    if (this.transportPaused) z.pause();
    this.register();
  }

  private register(): void {
    if (this.registered || this.request.finished) return;
    this.registered = true;
    this.realRegister(this, true);
  }

  private unregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.realUnregister();
  }

  /** Pauses, resumes or pulls the resource's producer as the transport and zlib allow. */
  private update(): void {
    const p = this.upstream;
    if (p === null) return;
    const hold = this.transportPaused || this.zlibFull;
    if (this.upstreamStreaming) {
      if (hold && !this.upstreamPaused) {
        this.upstreamPaused = true;
        (p as IPushProducer).pauseProducing();
      } else if (!hold && this.upstreamPaused) {
        this.upstreamPaused = false;
        (p as IPushProducer).resumeProducing();
      }
    } else if (!hold && this.pullCall === null && !this.ending) {
      this.pullCall = this.request.site.reactor.callLater(0, () => {
        this.pullCall = null;
        const q = this.upstream;
        if (q !== null && !this.upstreamStreaming && !this.transportPaused && !this.zlibFull)
          (q as IPushProducer).resumeProducing();
      });
    }
  }

  private cancelPull(): void {
    if (this.pullCall?.active()) this.pullCall.cancel();
    this.pullCall = null;
  }

  /** The transport is full: stop zlib's output and hold the resource's producer. @internal */
  pauseProducing(): void {
    this.transportPaused = true;
    this.gzip?.pause();
    this.update();
  }

  /** The transport drained: let zlib's output flow and the producer go on. @internal */
  resumeProducing(): void {
    if (!this.transportPaused) return;
    this.transportPaused = false;
    this.gzip?.resume();
    this.update();
  }

  /** The connection is going away. @internal */
  stopProducing(): void {
    this.cancelPull();
    const p = this.upstream;
    this.upstream = null;
    this.registered = false;
    p?.stopProducing();
    this.gzip?.destroy();
  }
}

/**
 * Gzip for clients whose `Accept-Encoding` allows it: sets `Content-Encoding: gzip` and
 * `Vary: Accept-Encoding`, drops `Content-Length`, and compresses the body as it is written
 * (flushing after each write, so streamed responses are not held back). Responses that are
 * bodiless, partial (206), already encoded or of already-compressed types are left alone.
 */
export class GzipEncoderFactory implements IRequestEncoderFactory {
  constructor(
    /** zlib level, 1 (fast) to 9 (small). Default 6. */
    readonly compressLevel = 6,
  ) {}

  encoderForRequest(request: Request): IRequestEncoder | null {
    if (request.method === "HEAD") return null;
    return acceptQuality(request.getHeader("accept-encoding"), "gzip") > 0
      ? new GzipEncoder(this.compressLevel)
      : null;
  }
}

/**
 * Wraps a resource so that its responses (and its children's) are encoded by the first of
 * `encoders` the client accepts.
 *
 * @example
 * ```ts
 * const root = new EncodingResourceWrapper(new File("/srv/www"), [new GzipEncoderFactory()]);
 * ```
 */
export class EncodingResourceWrapper implements IResource {
  get isLeaf(): boolean {
    return this.original.isLeaf;
  }

  constructor(
    readonly original: IResource,
    readonly encoders: IRequestEncoderFactory[] = [new GzipEncoderFactory()],
  ) {
    if (original.maxRequestBodySize !== undefined)
      this.maxRequestBodySize = original.maxRequestBodySize;
  }

  /** The wrapped resource's body limit. */
  maxRequestBodySize?: number;

  getChildWithDefault(name: string, request: Request): IResource {
    return new EncodingResourceWrapper(
      this.original.getChildWithDefault(name, request),
      this.encoders,
    );
  }

  putChild(name: string, child: IResource): void {
    this.original.putChild(name, child);
  }

  render(request: Request): RenderResult {
    for (const factory of this.encoders) {
      const encoder = factory.encoderForRequest(request);
      if (encoder !== null) {
        encoder.install(request);
        break;
      }
    }
    return this.original.render(request);
  }
}
