// Response compression: EncodingResourceWrapper and the gzip encoder (Accept-Encoding negotiation).

import { constants, createGzip, type Gzip } from "node:zlib";
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

class GzipEncoder implements IRequestEncoder {
  constructor(private readonly level: number) {}

  install(request: Request): void {
    const write = request.write.bind(request);
    const finish = request.finish.bind(request);
    let gzip: Gzip | null = null;
    let decided = false;
    let ending = false;
    const start = (): Gzip | null => {
      decided = true;
      const h = request.responseHeaders;
      const ctype = h.getHeader("content-type") ?? "";
      const bodyless =
        request.code === 204 || request.code === 304 || request.code === 206 || request.code < 200;
      if (bodyless || h.hasHeader("content-encoding") || ALREADY_COMPRESSED.test(ctype))
        return null;
      h.removeHeader("content-length");
      h.setRawHeaders("Content-Encoding", ["gzip"]);
      const vary = h.getHeader("vary");
      if (vary === null) h.setRawHeaders("Vary", ["Accept-Encoding"]);
      else if (!/accept-encoding/i.test(vary))
        h.setRawHeaders("Vary", [`${vary}, Accept-Encoding`]);
      const z = createGzip({ level: this.level });
      z.on("data", (chunk: Buffer) => write(chunk));
      z.on("end", () => {
        if (!request.finished) finish();
      });
      z.on("error", () => request.channel.closeConnection(true));
      request.notifyFinish().addErrback(() => {
        z.destroy();
        return null;
      });
      return z;
    };
    request.write = (data) => {
      if (!decided) gzip = start();
      if (gzip === null) {
        write(data);
        return;
      }
      if (ending || request.finished)
        throw new Error("Request.write called on a request after Request.finish was called");
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      if (bytes.length > 0) gzip.write(bytes);
    };
    request.finish = () => {
      if (!decided) gzip = start();
      if (gzip === null) {
        finish();
        return;
      }
      if (ending) return;
      ending = true;
      gzip.end();
    };
    // Streamed responses (NOT_DONE_YET) reach the client as they are written.
    const flushed = request.write;
    request.write = (data) => {
      flushed(data);
      if (gzip !== null && !ending) gzip.flush(constants.Z_SYNC_FLUSH);
    };
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
