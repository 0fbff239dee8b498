// Request: one HTTP request and its response, with Twisted's API (twisted.web.server.Request).

import { Deferred } from "../internet/defer.js";
import { ConnectionDone, ConnectionLost } from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IProducer,
  IProtocol,
  IReactorTime,
  ITransport,
} from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import type { IRequestContent } from "./_content.js";
import { Headers } from "./_headers.js";
import { reasonPhrase } from "./_http/_status.js";
import {
  type CookieOptions,
  datetimeToString,
  etagMatches,
  type FormPart,
  formatCookie,
  httpDate,
  parseBasicAuth,
  parseCookies,
  parseFormBody,
  parseQS,
  stringToDatetime,
  unquote,
} from "./_request_util.js";
import {
  type Body,
  errorPageHTML,
  escapeHTML,
  getChildForRequest,
  type IResource,
  NOT_DONE_YET,
  type RenderResult,
} from "./_resource.js";
import type { Session } from "./_session.js";

const log = new Logger("twisted-ts.web.server");

/** Returned by `setLastModified`/`setETag` when the client's copy is current (304 is set). */
export const CACHED = "CACHED";

/** What a request needs from its site. `Site` implements it. */
export interface IRequestSite {
  readonly reactor: IReactorTime;
  readonly displayTracebacks: boolean;
  getResourceFor(request: Request): IResource;
  makeSession(request: Request): Session;
  getSession(uid: string): Session | undefined;
  readonly sessionCookieName: string;
  log(request: Request): void;
}

/** What a request needs from its connection. `HTTPChannel` implements it. */
export interface IRequestChannel {
  readonly transport: ITransport | null;
  readonly site: IRequestSite;
  /** Sends the response head. */
  writeHead(request: Request, status: number, reason: string, headers: Headers): void;
  /** Sends body bytes. */
  writeBody(request: Request, data: Uint8Array): void;
  /** Ends the response; the channel moves on to the next request. */
  endResponse(request: Request): void;
  registerProducer(request: Request, producer: IProducer, streaming: boolean): void;
  unregisterProducer(request: Request): void;
  /** Closes the connection (after pending writes, unless `abort`). */
  closeConnection(abort?: boolean): void;
  /** Answers 101 and hands the connection to `protocol`. */
  switchProtocols(request: Request, protocol: IProtocol, headers: Headers): void;
}

const SERVER = "TwistedTS";

function toBytes(data: Body): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`Response data must be a string or bytes, not ${typeof data}`);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * A request being served. Resources read the request (`method`, `uri`, `path`, `args`,
 * `requestHeaders`, `content`, cookies, the client's address) and write the response
 * (`setResponseCode`, `setHeader`, `write`, `finish`, or return a body from `render`).
 *
 * @example
 * ```ts
 * class Echo extends Resource {
 *   override isLeaf = true;
 *   render_POST(request: Request) {
 *     request.setHeader("Content-Type", "application/octet-stream");
 *     return request.content.read();
 *   }
 * }
 * ```
 */
export class Request {
  /** The request method. */
  method = "GET";
  /** The request target as sent (path and query). */
  uri = "/";
  /** The path part of `uri` (still percent-encoded). */
  path = "/";
  /** `HTTP/1.1` or `HTTP/1.0`. */
  clientproto = "HTTP/1.1";
  /** Query arguments (and fields of an urlencoded form body): name → values. */
  args: Record<string, string[]> = Object.create(null);
  /** Files of a `multipart/form-data` body, by field name (beyond Twisted). */
  files: Record<string, FormPart[]> = Object.create(null);
  /** The request's header fields. */
  requestHeaders = new Headers();
  /** The response's header fields (sent with the first write). */
  responseHeaders = new Headers();
  /** The request body. */
  content!: IRequestContent;
  /** Path segments traversed so far (decoded). */
  prepath: string[] = [];
  /** Path segments left to traverse (decoded). */
  postpath: string[] = [];
  /** The response status. */
  code = 200;
  /** The response reason phrase. */
  codeMessage = "OK";
  /** True once the response head was sent. */
  startedWriting = false;
  /** True once `finish()` was called. */
  finished = false;
  /** Response body bytes written so far. */
  sentLength = 0;
  /** Cookies the client sent: name → value. */
  receivedCookies: Record<string, string> = Object.create(null);
  /** `Set-Cookie` values to send. */
  cookies: string[] = [];
  /** The time the request arrived (reactor seconds). */
  readonly started: number;
  /** The `Last-Modified` time set by `setLastModified`, in seconds. */
  lastModified: number | null = null;
  /** The `ETag` set by `setETag`. */
  etag: string | null = null;
  /** The resource that rendered this request, once found. */
  resource: IResource | null = null;
  /** The path prefix of the site, for session cookies. */
  sitepath: string[] = [];
  /** The session, once `getSession` made or found it. */
  session: Session | null = null;
  /** Set when the connection was lost before the response finished. */
  lostReason: Failure | null = null;
  private finishWaiters: Deferred<void>[] = [];
  private producer: IProducer | null = null;

  constructor(
    /** The connection. */
    readonly channel: IRequestChannel,
  ) {
    this.started = channel.site.reactor.seconds();
  }

  /** The site serving this request. */
  get site(): IRequestSite {
    return this.channel.site;
  }

  /** The connection's transport (`null` once it is gone). */
  get transport(): ITransport | null {
    return this.channel.transport;
  }

  // Receiving ------------------------------------------------------------------------------------

  /** Sets the request line and headers (called by the channel). @internal */
  _gotHead(method: string, target: string, version: string, headers: Headers): void {
    this.method = method;
    this.uri = target;
    this.clientproto =
      version === "1.1" ? "HTTP/1.1" : version === "1.0" ? "HTTP/1.0" : `HTTP/${version}`;
    this.requestHeaders = headers;
    let pathPart = target;
    const abs = target.charCodeAt(0) === 0x2f ? null : /^https?:\/\/[^/?#]*/i.exec(target);
    if (abs !== null) pathPart = target.slice(abs[0].length) || "/";
    const q = pathPart.indexOf("?");
    this.path = q < 0 ? pathPart : pathPart.slice(0, q);
    if (q >= 0) parseQS(pathPart.slice(q + 1), this.args);
    if (this.path.charCodeAt(0) === 0x2f) {
      const segments = this.path.slice(1).split("/");
      // `unquote` leaves a segment without `%` as it is.
      if (this.path.includes("%"))
        for (let i = 0; i < segments.length; i++) segments[i] = unquote(segments[i] as string);
      this.postpath = segments;
    } else {
      this.postpath = [];
    }
    const cookies = headers._get("cookie");
    if (cookies !== undefined) this.receivedCookies = parseCookies(cookies);
  }

  /** The whole body has arrived: parse a form body, then process. @internal */
  _bodyReceived(): void {
    this.content.seek(0);
    const header = this.getHeader("content-type") ?? "";
    const ctype = header === "" ? "" : (header.split(";")[0]?.trim().toLowerCase() ?? "");
    parseFormBody(this.content, ctype, header, this.args, this.files);
    this.process();
  }

  /** Finds the resource for this request and renders it (Twisted's `process`). */
  process(): void {
    this.responseHeaders._setTrusted("server", SERVER);
    this.responseHeaders._setTrusted("date", httpDate(this.site.reactor.seconds()));
    let resource: IResource;
    try {
      resource = this.resource ?? this.site.getResourceFor(this);
    } catch (e) {
      this.processingFailed(new Failure(e));
      return;
    }
    this.render(resource);
  }

  /** Renders `resource` and writes what it returns (see `RenderResult`). */
  render(resource: IResource): void {
    this.resource = resource;
    let body: RenderResult;
    try {
      body = resource.render(this);
    } catch (e) {
      this.processingFailed(new Failure(e));
      return;
    }
    if (isThenable(body)) {
      Deferred.fromPromise(body).addCallbacks(
        (b) => {
          this.writeRendered(b);
          return null;
        },
        (f: Failure) => {
          this.processingFailed(f);
          return null;
        },
      );
      return;
    }
    this.writeRendered(body);
  }

  private writeRendered(body: Body | typeof NOT_DONE_YET): void {
    if (body === NOT_DONE_YET || this.lostReason !== null || this.finished) return;
    let bytes: Uint8Array;
    try {
      bytes = toBytes(body);
    } catch (e) {
      this.processingFailed(new Failure(e));
      return;
    }
    // A HEAD answered with an empty body keeps the length the resource announced.
    const keepLength =
      this.method === "HEAD" &&
      bytes.length === 0 &&
      this.responseHeaders.hasHeader("content-length");
    if (!this.startedWriting && !keepLength)
      this.responseHeaders._setTrusted("content-length", String(bytes.length));
    this.write(bytes);
    this.finish();
  }

  /**
   * Answers 500 for an error raised while rendering (with the traceback only when the site
   * has `displayTracebacks`), logs it, and keeps the connection serving. If the response had
   * started, the connection is closed instead.
   */
  processingFailed(reason: Failure): void {
    log.failure("Error rendering {method} {uri}", reason, undefined, {
      method: this.method,
      uri: this.uri,
    });
    if (this.finished || this.lostReason !== null) return;
    if (this.startedWriting) {
      this.channel.closeConnection();
      return;
    }
    const body = this.site.displayTracebacks
      ? `<html><head><title>web.Server Traceback (most recent call last)</title></head><body><b>web.Server Traceback (most recent call last):</b>\n\n<pre>${escapeHTML(reason.getTraceback())}</pre></body></html>\n`
      : errorPageHTML(500, "Processing Failed", "An error occurred while processing this request.");
    const bytes = Buffer.from(body, "utf8");
    this.responseHeaders = new Headers();
    this.setResponseCode(500);
    this.setHeader("Content-Type", "text/html; charset=utf-8");
    this.setHeader("Content-Length", String(bytes.length));
    this.write(bytes);
    this.finish();
  }

  // Reading --------------------------------------------------------------------------------------

  /** The last value of the request header `name`, or `null`. */
  getHeader(name: string): string | null {
    return this.requestHeaders.getHeader(name);
  }

  /** All request headers as lower-case name → last value (Twisted's `getAllHeaders`). */
  getAllHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, values] of this.requestHeaders)
      out[name.toLowerCase()] = values[values.length - 1] ?? "";
    return out;
  }

  /** The value of the cookie `name` the client sent, or `null`. */
  getCookie(name: string): string | null {
    return this.receivedCookies[name] ?? null;
  }

  /** The client's address: the transport's peer (the real client behind a PROXY-protocol balancer). */
  getClientAddress(): IAddress {
    const t = this.transport;
    if (t === null) throw new Error("Cannot get the client address: the connection is gone");
    return t.getPeer();
  }

  /** The client's IP address, or `null` for a non-IP (Unix) connection. */
  getClientIP(): string | null {
    const a = this.getClientAddress() as { host?: unknown };
    return typeof a.host === "string" ? a.host : null;
  }

  /** The local address the request came in on. */
  getHost(): IAddress {
    const t = this.transport;
    if (t === null) throw new Error("Cannot get the host address: the connection is gone");
    return t.getHost();
  }

  /** The host name the client asked for (`Host` without the port), or the local address. */
  getRequestHostname(): string {
    const host = this.getHeader("host");
    if (host !== null) return host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    const h = this.transport?.getHost() as { host?: string } | undefined;
    return h?.host ?? "localhost";
  }

  /** True when the request came over TLS. */
  isSecure(): boolean {
    return (this.transport as { TLS?: boolean } | null)?.TLS === true;
  }

  /** The user and password of HTTP Basic authentication, or `null`. */
  getBasicCredentials(): { user: string; password: string } | null {
    return parseBasicAuth(this.getHeader("authorization"));
  }

  /** The user name of HTTP Basic authentication, or `""` (Twisted's `getUser`). */
  getUser(): string {
    return this.getBasicCredentials()?.user ?? "";
  }

  /** The password of HTTP Basic authentication, or `""` (Twisted's `getPassword`). */
  getPassword(): string {
    return this.getBasicCredentials()?.password ?? "";
  }

  /** The absolute URL of the resource found so far (scheme, host, prepath). */
  prePathURL(): string {
    const secure = this.isSecure();
    const host = this.getHeader("host") ?? `${this.getRequestHostname()}`;
    const prefix = this.prepath.map((s) => encodeURIComponent(s)).join("/");
    return `${secure ? "https" : "http"}://${host}/${prefix}`;
  }

  // Writing --------------------------------------------------------------------------------------

  /** Sets the response status (and reason phrase). */
  setResponseCode(code: number, message?: string): void {
    if (!Number.isInteger(code) || code < 100 || code > 999) {
      throw new Error(`Invalid HTTP status code: ${code}`);
    }
    this.code = code;
    this.codeMessage = message ?? reasonPhrase(code);
  }

  /** Sets a response header (replacing earlier values). */
  setHeader(name: string, value: string | number): void {
    this.responseHeaders.setRawHeaders(name, [String(value)]);
  }

  /** Adds a `Set-Cookie` header to the response. */
  addCookie(name: string, value: string, options: CookieOptions = {}): void {
    this.cookies.push(formatCookie(name, value, options));
  }

  /** Sets `Location` and status 302 (or `code`). */
  redirect(url: string, code = 302): void {
    this.setResponseCode(code);
    this.setHeader("Location", url);
  }

  /**
   * Sets `Last-Modified` (seconds since the epoch, or a Date). When the client's
   * `If-Modified-Since` is as recent, sets 304 and returns `CACHED`: send no body then.
   */
  setLastModified(when: number | Date): typeof CACHED | null {
    const t = Math.ceil(when instanceof Date ? when.getTime() / 1000 : when);
    if (this.lastModified === null || this.lastModified < t) this.lastModified = t;
    const ims = this.getHeader("if-modified-since");
    if (ims === null || this.getHeader("if-none-match") !== null) return null;
    const since = stringToDatetime(ims.split(";")[0] ?? "");
    if (since !== null && since >= this.lastModified && this.code === 200) {
      this.setResponseCode(304);
      return CACHED;
    }
    return null;
  }

  /**
   * Sets `ETag` (a quoted entity tag such as `"abc"`). When the client's `If-None-Match`
   * matches, sets 304 (412 for other methods than GET and HEAD) and returns `CACHED`.
   */
  setETag(etag: string): typeof CACHED | null {
    if (etag !== "") this.etag = etag;
    const inm = this.getHeader("if-none-match");
    if (inm === null) return null;
    if (etagMatches(inm, etag)) {
      this.setResponseCode(this.method === "GET" || this.method === "HEAD" ? 304 : 412);
      return CACHED;
    }
    return null;
  }

  private writeHead(): void {
    this.startedWriting = true;
    const h = this.responseHeaders;
    if (this.lastModified !== null && !h.hasHeader("last-modified")) {
      h.setRawHeaders("Last-Modified", [datetimeToString(this.lastModified)]);
    }
    if (this.etag !== null) h.setRawHeaders("ETag", [this.etag]);
    for (const c of this.cookies) h.addRawHeader("Set-Cookie", c);
    const bodyless = this.code === 204 || this.code === 304 || this.code < 200;
    if (bodyless) h.removeHeader("content-length");
    else if (h._get("content-type") === undefined)
      h._setTrusted("content-type", "text/html; charset=utf-8");
    this.channel.writeHead(this, this.code, this.codeMessage, h);
  }

  /** Writes part of the response body (a string as UTF-8); the head goes out first. */
  write(data: Body): void {
    if (this.finished)
      throw new Error("Request.write called on a request after Request.finish was called");
    if (this.lostReason !== null) return;
    const bytes = toBytes(data);
    if (!this.startedWriting) this.writeHead();
    if (bytes.length === 0) return;
    this.sentLength += bytes.length;
    this.channel.writeBody(this, bytes);
  }

  /**
   * Ends the response. Without any write, a `Content-Length: 0` response is sent. Calling it
   * after the connection was lost does nothing.
   */
  finish(): void {
    if (this.lostReason !== null) return;
    if (this.finished) throw new Error("Request.finish called twice");
    if (!this.startedWriting) {
      if (
        !this.responseHeaders.hasHeader("content-length") &&
        !this.responseHeaders.hasHeader("transfer-encoding")
      ) {
        this.setHeader("Content-Length", "0");
      }
      this.writeHead();
    }
    this.finished = true;
    this.channel.endResponse(this);
    this.content?.close();
    this.site.log(this);
    if (this.finishWaiters.length > 0)
      for (const d of this.finishWaiters.splice(0)) d.callback(undefined);
  }

  /**
   * A Deferred that fires when the response has been finished, or errbacks (with
   * `ConnectionLost`/`ConnectionDone`) if the connection goes away first — e.g. the client
   * gave up. Cancelling it only stops the notification.
   */
  notifyFinish(): Deferred<void> {
    const d = new Deferred<void>((self) => {
      const i = this.finishWaiters.indexOf(self);
      if (i >= 0) this.finishWaiters.splice(i, 1);
    });
    if (this.finished) d.callback(undefined);
    else if (this.lostReason !== null) d.errback(this.lostReason);
    else this.finishWaiters.push(d);
    return d;
  }

  /** The connection was lost before the response finished. @internal */
  _connectionLost(reason: Failure): void {
    if (this.finished || this.lostReason !== null) return;
    this.lostReason =
      reason.check(ConnectionDone) !== null
        ? new Failure(
            new ConnectionLost(
              "Connection to the client was lost before the response was finished",
              { cause: reason.value },
            ),
          )
        : reason;
    this.content?.close();
    const producer = this.producer;
    this.producer = null;
    if (producer !== null) producer.stopProducing();
    for (const d of this.finishWaiters.splice(0)) d.errback(this.lostReason);
  }

  /**
   * Registers a producer of the response body: a streaming one is paused and resumed with
   * the connection's flow control, a pull one is asked for a chunk whenever there is room.
   */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null)
      throw new Error("Cannot register a producer: one is already registered");
    if (this.lostReason !== null) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.channel.registerProducer(this, producer, streaming);
  }

  /** Unregisters the producer. */
  unregisterProducer(): void {
    if (this.producer === null) return;
    this.producer = null;
    this.channel.unregisterProducer(this);
  }

  /**
   * Accepts the client's `Upgrade`: answers `101 Switching Protocols` with `headers` and hands
   * the connection to `protocol` (its `makeConnection` runs, then it gets the bytes that came
   * after the request). Return `NOT_DONE_YET` from `render` after calling it.
   */
  switchProtocols(protocol: IProtocol, headers: Record<string, string> = {}): void {
    const h = new Headers(headers);
    this.code = 101;
    this.codeMessage = reasonPhrase(101);
    this.startedWriting = true;
    this.finished = true;
    this.channel.switchProtocols(this, protocol, h);
    this.site.log(this);
  }

  // Sessions ---------------------------------------------------------------------------------------

  /**
   * The session of this client, found by its session cookie or made (and the cookie set, valid
   * for the site's path, `HttpOnly`, `Secure` over TLS).
   */
  getSession(): Session {
    if (this.session !== null) {
      this.session.touch();
      return this.session;
    }
    const name = this.sessionCookieName();
    const uid = this.getCookie(name);
    const found = uid === null ? undefined : this.site.getSession(uid);
    if (found !== undefined) {
      found.touch();
      this.session = found;
      return found;
    }
    const session = this.site.makeSession(this);
    this.addCookie(name, session.uid, {
      path: `/${this.sitepath.map((s) => encodeURIComponent(s)).join("/")}`,
      httpOnly: true,
      secure: this.isSecure(),
      sameSite: "Lax",
    });
    this.session = session;
    return session;
  }

  private sessionCookieName(): string {
    const base = this.site.sessionCookieName;
    return this.isSecure() ? `${base.replace(/_SESSION$/, "")}_SECURE_SESSION` : base;
  }

  /** Resources below `resource` for the rest of the path (Twisted's `getChildForRequest`). @internal */
  _traverse(root: IResource): IResource {
    this.sitepath = [...this.prepath];
    return getChildForRequest(root, this);
  }
}
