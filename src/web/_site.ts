// Site: the protocol factory of a web server, serving a resource tree over HTTPChannels.

import { _globalReactor } from "../internet/_global.js";
import type { IAddress, IReactorTime } from "../internet/interfaces.js";
import { Factory } from "../internet/protocol.js";
import { HTTPChannel, type IChannelSite } from "./_channel.js";
import { type IContentStore, TempFileContentStore } from "./_content.js";
import { DEFAULT_LIMITS, type HTTPLimits } from "./_http/_parse.js";
import {
  AccessLogFile,
  combinedLogFormatter,
  type IAccessLog,
  type LogFormatter,
  logTimestamp,
} from "./_log.js";
import { Request } from "./_request.js";
import { getChildForRequest, type IResource, Resource } from "./_resource.js";
import { Session } from "./_session.js";

/** Options of {@link Site}. */
export interface SiteOptions {
  /**
   * Seconds a connection may stay silent — between requests or in the middle of a request
   * body — and a client may refuse to read, before it is closed. Default 60; `null` for never.
   */
  timeout?: number | null;
  /** Seconds a client has to send a whole request head (408 after). Default 30; `null` for never. */
  headerTimeout?: number | null;
  /** Appends an access log to this file (`"-"` for standard output). */
  logPath?: string;
  /** Or sends access-log lines here. */
  accessLog?: IAccessLog;
  /** Formats access-log lines; the combined log format by default. */
  logFormatter?: LogFormatter;
  /** The reactor (clock) for timeouts, dates and sessions; the global reactor by default. */
  reactor?: IReactorTime;
  /** Show tracebacks in 500 pages (never in production). Default false. */
  displayTracebacks?: boolean;
  /** Makes a request object for each request (a subclass of `Request`). */
  requestFactory?: (channel: HTTPChannel) => Request;
  /** Limits on request heads and bodies (see `HTTPLimits`). */
  limits?: Partial<HTTPLimits>;
  /** The largest request body (413 beyond), unless a resource says otherwise. Default 100 MiB. */
  maxRequestBodySize?: number;
  /** Where request bodies are kept; by default in memory up to 1 MiB, then in a temporary file. */
  contentStore?: IContentStore;
  /** Seconds without use after which a session expires. Default 900. */
  sessionTimeout?: number;
  /** The session cookie's name. Default `TWISTED_SESSION`. */
  sessionCookieName?: string;
}

/**
 * A web site: the factory to listen with, serving the resource tree under `resource`.
 *
 * @example
 * ```ts
 * const root = new Resource();
 * root.putChild("", new Data("<h1>Home</h1>", "text/html"));
 * root.putChild("static", new File("/srv/www"));
 * reactor.listenTCP(8080, new Site(root, { logPath: "-" }));
 * ```
 */
export class Site extends Factory<HTTPChannel> implements IChannelSite {
  /** The root of the resource tree. */
  resource: IResource;
  readonly timeout: number | null;
  readonly headerTimeout: number | null;
  readonly displayTracebacks: boolean;
  readonly limits: Partial<HTTPLimits>;
  readonly maxRequestBodySize: number;
  readonly contentStore: IContentStore;
  readonly sessionTimeout: number;
  readonly sessionCookieName: string;
  /** Live sessions by id. */
  readonly sessions = new Map<string, Session>();
  /** Formats access-log lines. */
  logFormatter: LogFormatter;
  private accessLog: IAccessLog | null;
  private readonly logPath: string | null;
  private _reactor: IReactorTime | null;
  private readonly makeRequest: (channel: HTTPChannel) => Request;

  constructor(resource: IResource, options: SiteOptions = {}) {
    super();
    this.noisy = false;
    this.resource = resource;
    this.timeout = options.timeout === undefined ? 60 : options.timeout;
    this.headerTimeout = options.headerTimeout === undefined ? 30 : options.headerTimeout;
    this.displayTracebacks = options.displayTracebacks ?? false;
    this.limits = options.limits ?? {};
    this.maxRequestBodySize =
      options.maxRequestBodySize ?? this.limits.maxBodySize ?? DEFAULT_LIMITS.maxBodySize;
    this.contentStore = options.contentStore ?? new TempFileContentStore();
    this.sessionTimeout = options.sessionTimeout ?? 900;
    this.sessionCookieName = options.sessionCookieName ?? "TWISTED_SESSION";
    this.logFormatter = options.logFormatter ?? combinedLogFormatter;
    this.accessLog = options.accessLog ?? null;
    this.logPath = options.logPath ?? null;
    this._reactor = options.reactor ?? null;
    this.makeRequest = options.requestFactory ?? ((channel) => new Request(channel));
  }

  /** The reactor (the global one unless one was given). */
  get reactor(): IReactorTime {
    if (this._reactor === null) this._reactor = _globalReactor<IReactorTime>();
    return this._reactor;
  }

  override buildProtocol(addr: IAddress): HTTPChannel {
    const channel = new HTTPChannel();
    channel.site = this;
    channel.factory = this;
    return channel;
  }

  /** @internal */
  requestFactory(channel: HTTPChannel): Request {
    return this.makeRequest(channel);
  }

  /** Finds the resource for `request` by traversing from the root (Twisted's `getResourceFor`). */
  getResourceFor(request: Request): IResource {
    request.sitepath = [...request.prepath];
    return getChildForRequest(this.resource, request);
  }

  /**
   * The largest body accepted for `request`: the `maxRequestBodySize` of the deepest resource
   * on its path among the static children (found without calling `getChild`), else the site's.
   */
  maxBodySizeFor(request: Request): number {
    let limit = this.resource.maxRequestBodySize ?? this.maxRequestBodySize;
    let r: IResource | undefined = this.resource;
    for (const name of request.postpath) {
      if (r === undefined || r.isLeaf) break;
      r = r instanceof Resource ? r.getStaticChild(name) : undefined;
      if (r?.maxRequestBodySize !== undefined) limit = r.maxRequestBodySize;
    }
    return limit;
  }

  /** Makes a new session (`request.getSession()` calls this). */
  makeSession(request: Request): Session {
    return new Session(this.sessions, this.reactor, { sessionTimeout: this.sessionTimeout });
  }

  /** The live session with id `uid`, or `undefined`. */
  getSession(uid: string): Session | undefined {
    return this.sessions.get(uid);
  }

  /** Writes the access-log line of a finished request. */
  log(request: Request): void {
    if (this.accessLog === null && this.logPath !== null)
      this.accessLog = new AccessLogFile(this.logPath);
    if (this.accessLog === null) return;
    this.accessLog.writeLine(this.logFormatter(logTimestamp(this.reactor.seconds()), request));
  }

  override stopFactory(): void {
    if (this.logPath !== null && this.accessLog !== null) {
      this.accessLog.close();
      this.accessLog = null;
    }
  }
}
