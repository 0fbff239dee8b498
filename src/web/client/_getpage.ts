// getPage and downloadPage: the one-call conveniences of the seed's URL fetcher, over the agents.

import { createWriteStream, unlink } from "node:fs";
import type { Writable } from "node:stream";
import { _globalReactor } from "../../internet/_global.js";
import { Deferred } from "../../internet/defer.js";
import { CancelledError } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type { IProtocol, IPushProducer, ITransport } from "../../internet/interfaces.js";
import { Headers } from "../_headers.js";
import { Agent, type AgentReactor, type IAgent, type IPolicyForHTTPS } from "./_agent.js";
import { CookieAgent, type CookieJar } from "./_cookies.js";
import { ContentDecoderAgent } from "./_decoder.js";
import { PageRedirect, PotentialDataLoss, ResponseDone, WebError } from "./_errors.js";
import { FileBodyProducer } from "./_producer.js";
import { BrowserLikeRedirectAgent } from "./_redirect.js";
import type { IResponse } from "./_response.js";

/** Options of `getPage` and `downloadPage`. */
export interface GetPageOptions {
  /** The method (default `GET`, or `POST` when `postdata` is given). */
  method?: string;
  /** Request headers. */
  headers?: Headers | Record<string, string | string[]>;
  /** A request body. */
  postdata?: Uint8Array | string;
  /** The `User-Agent` (default `"Twisted.ts PageGetter"`). */
  agent?: string;
  /** Seconds the whole exchange may take; then it fails with `TimeoutError`. Default: none. */
  timeout?: number;
  /** Follow redirects (default true); if false a 3xx fails with `PageRedirect`. */
  followRedirect?: boolean;
  /** The most redirects followed (default 20). */
  redirectLimit?: number;
  /** Ask for and decode gzip/deflate bodies (default true). */
  decompress?: boolean;
  /** A jar whose cookies are sent and which keeps the cookies set. */
  cookies?: CookieJar;
  /** The HTTPS policy (default: verify against the platform's roots). */
  tlsPolicy?: IPolicyForHTTPS;
  /** Seconds a connection attempt may take (default 30). */
  connectTimeout?: number;
  /**
   * The reactor (default: the global one, installed by importing `reactor` from
   * `twisted-ts/internet`; without either, the call raises).
   */
  reactor?: AgentReactor;
}

/** The agent stack and request arguments of a `getPage`/`downloadPage` call. */
function prepare(options: GetPageOptions): {
  agent: IAgent;
  reactor: AgentReactor;
  method: string;
  headers: Headers;
  body: FileBodyProducer | null;
} {
  const reactor = options.reactor ?? _globalReactor<AgentReactor>();
  const agentOptions: ConstructorParameters<typeof Agent>[1] = {};
  if (options.tlsPolicy !== undefined) agentOptions.tlsPolicy = options.tlsPolicy;
  if (options.connectTimeout !== undefined) agentOptions.connectTimeout = options.connectTimeout;
  let agent: IAgent = new Agent(reactor, agentOptions);
  if (options.decompress ?? true) agent = new ContentDecoderAgent(agent);
  if (options.cookies !== undefined) agent = new CookieAgent(agent, options.cookies);
  if (options.followRedirect ?? true) {
    agent = new BrowserLikeRedirectAgent(agent, options.redirectLimit ?? 20);
  }
  const given = options.headers;
  const headers =
    given instanceof Headers
      ? given.copy()
      : new Headers(
          Object.fromEntries(
            Object.entries(given ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
          ),
        );
  if (!headers.hasHeader("user-agent")) {
    headers.setRawHeaders("User-Agent", [options.agent ?? "Twisted.ts PageGetter"]);
  }
  const body = options.postdata === undefined ? null : new FileBodyProducer(options.postdata);
  const method = options.method ?? (body === null ? "GET" : "POST");
  return { agent, reactor, method, headers, body };
}

/** Fails for error pages (≥ 400) and unfollowed redirects, with the page's body. */
function checkStatus(response: IResponse, body: Buffer | null): void {
  const { code, phrase } = response;
  if (code >= 400) throw new WebError(code, phrase, body);
  if (code >= 300 && code < 400 && code !== 304) {
    const location = response.headers.getHeader("location");
    let absolute = location;
    if (location !== null && response.request !== null) {
      try {
        absolute = new URL(location, response.request.absoluteURI).href;
      } catch {
        // Keep it as sent.
      }
    }
    throw new PageRedirect(code, phrase, body, absolute);
  }
}

/** Collects a body; a close-delimited one (PotentialDataLoss) counts as complete here. */
class PageCollector implements IProtocol {
  transport: ITransport | null = null;
  private readonly chunks: Buffer[] = [];
  constructor(private readonly done: Deferred<Buffer>) {}
  makeConnection(transport: ITransport): void {
    this.transport = transport;
  }
  connectionMade(): void {}
  dataReceived(data: Buffer): void {
    // Body bytes are views that stay valid (the engine never reuses handed-out bytes): no copy.
    this.chunks.push(data);
  }
  connectionLost(reason: Failure): void {
    if (this.done.called) return;
    if (reason.check(ResponseDone, PotentialDataLoss) !== null) {
      this.done.callback(Buffer.concat(this.chunks));
    } else {
      this.done.errback(reason);
    }
  }
}

/** `d`, cancelled after `options.timeout` seconds (a `TimeoutError`), if given. */
function withTimeout<T>(
  d: Deferred<T>,
  options: GetPageOptions,
  reactor: AgentReactor,
): Deferred<T> {
  return options.timeout === undefined ? d : d.addTimeout(options.timeout, reactor);
}

/**
 * Fetches `url` and fires with its body (twisted.web.client.getPage, on top of `Agent`):
 * follows redirects as a browser does, decodes gzip/deflate, and fails with `WebError` (status,
 * phrase and body of the error page) for a status ≥ 400, or `PageRedirect` for a redirect it
 * does not follow. Connections are not kept.
 *
 * Cancel: cancelling aborts the request or body in flight (its connection is closed) and
 * fails with `CancelledError`; `timeout` does the same with `TimeoutError`.
 *
 * @example
 * ```ts
 * getPage("http://127.0.0.1:8080/")
 *   .addCallbacks((page) => console.log(page.toString()), (f) => console.error(f.getErrorMessage()))
 *   .addBoth(() => reactor.stop());
 * ```
 */
export function getPage(url: string, options: GetPageOptions = {}): Deferred<Buffer> {
  const { agent, reactor, method, headers, body } = prepare(options);
  let inFlight: Deferred<unknown> | null = null;
  let bodyTransport: Partial<IPushProducer> | null = null;
  const result = new Deferred<Buffer>((d) => {
    d.errback(new CancelledError("getPage was cancelled"));
    inFlight?.cancel();
    bodyTransport?.stopProducing?.();
  });
  const requesting = agent.request(method, url, headers, body);
  inFlight = requesting;
  requesting.addCallbacks(
    (response) => {
      if (result.called) return;
      const collected = new Deferred<Buffer>();
      const collector = new PageCollector(collected);
      response.deliverBody(collector);
      bodyTransport = collector.transport as Partial<IPushProducer> | null;
      collected.addCallbacks(
        (page) => {
          if (result.called) return;
          try {
            checkStatus(response, page);
          } catch (e) {
            result.errback(e);
            return;
          }
          result.callback(page);
        },
        (f: Failure) => void (result.called ? undefined : result.errback(f)),
      );
    },
    (f: Failure) => void (result.called ? undefined : result.errback(f)),
  );
  return withTimeout(result, options, reactor);
}

/** Writes a body to a file or stream, with back-pressure; fires when all is written. */
class FileWriter implements IProtocol {
  transport: ITransport | null = null;
  private paused = false;

  constructor(
    private readonly out: Writable,
    private readonly done: Deferred<void>,
  ) {
    out.on("drain", () => {
      if (this.paused) {
        this.paused = false;
        (this.transport as Partial<IPushProducer> | null)?.resumeProducing?.();
      }
    });
  }
  makeConnection(transport: ITransport): void {
    this.transport = transport;
  }
  connectionMade(): void {}
  dataReceived(data: Buffer): void {
    if (!this.out.write(data) && !this.paused) {
      this.paused = true;
      (this.transport as Partial<IPushProducer> | null)?.pauseProducing?.();
    }
  }
  connectionLost(reason: Failure): void {
    if (reason.check(ResponseDone, PotentialDataLoss) === null) {
      if (!this.done.called) this.done.errback(reason);
      return;
    }
    this.out.end(() => {
      if (!this.done.called) this.done.callback(undefined);
    });
  }
}

/**
 * Fetches `url` into `file` (a path, or any Node `Writable`) as the body streams in, with
 * back-pressure (twisted.web.client.downloadPage); options and errors as for `getPage`. A path
 * is created only once a successful response has arrived.
 *
 * Cancel: cancelling (or `timeout`) aborts the transfer and fails with `CancelledError` (or
 * `TimeoutError`); a file created at a path is removed, as it is after any failure. A
 * `Writable` given is destroyed.
 *
 * @example
 * ```ts
 * await downloadPage("https://example.com/big.iso", "/tmp/big.iso");
 * ```
 */
export function downloadPage(
  url: string,
  file: string | Writable,
  options: GetPageOptions = {},
): Deferred<void> {
  const { agent, reactor, method, headers, body } = prepare(options);
  let inFlight: Deferred<unknown> | null = null;
  let writer: FileWriter | null = null;
  let out: Writable | null = null;
  const cleanUp = (): void => {
    (writer?.transport as Partial<IPushProducer> | null | undefined)?.stopProducing?.();
    const stream = out;
    if (stream === null) return;
    out = null;
    if (typeof file === "string") {
      // Unlink once closed: a stream still opening would create the file after an early unlink.
      if (stream.closed) unlink(file, () => {});
      else stream.once("close", () => unlink(file, () => {}));
    }
    if (!stream.destroyed) stream.destroy();
  };
  const result = new Deferred<void>((d) => {
    d.errback(new CancelledError("downloadPage was cancelled"));
    inFlight?.cancel();
    cleanUp();
  });
  const requesting = agent.request(method, url, headers, body);
  inFlight = requesting;
  requesting.addCallbacks(
    (response) => {
      if (result.called) return;
      if (response.code >= 300 && response.code !== 304) {
        const page = new Deferred<Buffer>();
        response.deliverBody(new PageCollector(page));
        page.addCallbacks(
          (bytes) => {
            try {
              checkStatus(response, bytes);
            } catch (e) {
              if (!result.called) result.errback(e);
            }
          },
          (f: Failure) => void (result.called ? undefined : result.errback(f)),
        );
        return;
      }
      const stream: Writable = typeof file === "string" ? createWriteStream(file) : file;
      out = stream;
      const written = new Deferred<void>();
      writer = new FileWriter(stream, written);
      stream.once("error", (err) => {
        if (result.called) return;
        result.errback(err);
        cleanUp();
      });
      response.deliverBody(writer);
      written.addCallbacks(
        () => void (result.called ? undefined : result.callback(undefined)),
        (f: Failure) => {
          if (result.called) return;
          result.errback(f);
          cleanUp();
        },
      );
    },
    (f: Failure) => void (result.called ? undefined : result.errback(f)),
  );
  return withTimeout(result, options, reactor);
}
