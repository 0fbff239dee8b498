// ReverseProxyResource: forwards requests to another HTTP server, streaming both ways with back-pressure.

import { _globalReactor } from "../internet/_global.js";
import type { Failure } from "../internet/failure.js";
import type {
  IConnector,
  IPullProducer,
  IPushProducer,
  IReactorTCP,
  ITCPTransport,
} from "../internet/interfaces.js";
import { ClientFactory, Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import { Headers } from "./_headers.js";
import { HTTP11Connection } from "./_http/_connection.js";
import { RemoteProtocolError } from "./_http/_errors.js";
import { NEED_DATA, PAUSED } from "./_http/_events.js";
import { fieldTokens } from "./_http/_parse.js";
import type { Request } from "./_request.js";
import {
  errorPageHTML,
  type IResource,
  NOT_DONE_YET,
  type RenderResult,
  Resource,
} from "./_resource.js";

const log = new Logger("twisted-ts.web.proxy");

/** Fields that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: Headers): Headers {
  const named = fieldTokens(headers, "connection");
  const out = new Headers();
  for (const [name, values] of headers) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.includes(lower)) out.setRawHeaders(name, values);
  }
  return out;
}

const UPLOAD_CHUNK = 64 * 1024;

/** The client side of one proxied request: sends it upstream and relays the response. */
class ProxyClient extends Protocol implements IPullProducer {
  private readonly conn = new HTTP11Connection("client");
  private uploading = false;
  private done = false;

  constructor(
    private readonly request: Request,
    private readonly method: string,
    private readonly target: string,
    private readonly headers: Headers,
  ) {
    super();
  }

  override connectionMade(): void {
    const t = this.transport as ITCPTransport;
    const length = this.request.content.length;
    if (length > 0 || this.request.requestHeaders.hasHeader("content-length")) {
      this.headers.setRawHeaders("Content-Length", [String(length)]);
    }
    t.writeSequence(
      this.conn.sendRequest({ method: this.method, target: this.target, headers: this.headers }),
    );
    this.request.content.seek(0);
    // The response may stream back slowly: pause reading upstream while the client is full.
    const relay: IPushProducer = {
      pauseProducing: () => t.pauseProducing(),
      resumeProducing: () => t.resumeProducing(),
      stopProducing: () => t.abortConnection(),
    };
    this.request.registerProducer(relay, true);
    this.uploading = true;
    t.registerProducer(this, false);
  }

  /** Sends the next piece of the request body (a pull producer on the upstream connection). */
  resumeProducing(): void {
    if (!this.uploading) return;
    const t = this.transport as ITCPTransport;
    const chunk = this.request.content.read(UPLOAD_CHUNK);
    if (chunk.length > 0) {
      t.writeSequence(this.conn.sendData(chunk));
      return;
    }
    this.uploading = false;
    t.writeSequence(this.conn.sendEndOfMessage());
    t.unregisterProducer();
  }

  stopProducing(): void {
    this.uploading = false;
  }

  override dataReceived(data: Buffer): void {
    if (this.done) return;
    this.conn.receiveData(data);
    this.pull();
  }

  private pull(): void {
    const req = this.request;
    for (;;) {
      let ev: ReturnType<HTTP11Connection["nextEvent"]>;
      try {
        ev = this.conn.nextEvent();
      } catch (e) {
        if (!(e instanceof RemoteProtocolError)) throw e;
        this.fail(`Bad response from the upstream server: ${e.message}`);
        return;
      }
      if (ev === NEED_DATA || ev === PAUSED) return;
      switch (ev.type) {
        case "ResponseReceived":
          req.setResponseCode(ev.status, ev.reason || undefined);
          req.responseHeaders = endToEnd(ev.headers);
          break;
        case "DataReceived":
          req.write(ev.data);
          break;
        case "MessageEnded":
          this.done = true;
          req.unregisterProducer();
          if (!req.finished && req.lostReason === null) req.finish();
          (this.transport as ITCPTransport).loseConnection();
          return;
        case "ConnectionClosed":
          return;
        default:
          break;
      }
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    if (this.done) return;
    this.conn.receiveData(Buffer.alloc(0));
    this.pull();
    if (!this.done) this.fail("The upstream server closed the connection early");
  }

  /** Answers 502 if nothing was sent yet, else cuts the client's connection. */
  fail(message: string): void {
    if (this.done) return;
    this.done = true;
    log.info("Proxy error for {uri}: {message}", { uri: this.request.uri, message });
    (this.transport as ITCPTransport | null)?.abortConnection();
    badGateway(this.request, message);
  }
}

function badGateway(request: Request, message: string): void {
  request.unregisterProducer();
  if (request.finished || request.lostReason !== null) return;
  if (request.startedWriting) {
    request.channel.closeConnection();
    return;
  }
  const body = Buffer.from(errorPageHTML(502, "Bad Gateway", message), "utf8");
  request.responseHeaders = new Headers({ "Content-Type": "text/html; charset=utf-8" });
  request.setResponseCode(502);
  request.setHeader("Content-Length", String(body.length));
  request.write(body);
  request.finish();
}

class ProxyClientFactory extends ClientFactory<ProxyClient> {
  constructor(private readonly make: () => ProxyClient) {
    super();
    this.noisy = false;
  }

  override buildProtocol(): ProxyClient {
    const p = this.make();
    p.factory = this;
    return p;
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.onFailed?.(reason);
  }

  onFailed: ((reason: Failure) => void) | null = null;
}

/**
 * Forwards requests for this resource and below to `host:port`, under `path` — e.g. mounted at
 * `/api`, `/api/users?id=1` goes to `http://host:port/path/users?id=1`. The request body is
 * streamed up and the response streamed back with flow control both ways; hop-by-hop fields
 * are dropped, `Host` is set to the upstream server and the client's address is appended to
 * `X-Forwarded-For`. A connection failure or bad response gives 502.
 *
 * @example
 * ```ts
 * root.putChild("api", new ReverseProxyResource("127.0.0.1", 8081, "/v1"));
 * ```
 */
export class ReverseProxyResource extends Resource {
  /** Upstream connection timeout, in seconds. */
  connectTimeout = 30;

  constructor(
    readonly host: string,
    readonly port: number,
    /** The path prefix on the upstream server (`""` or starting with `/`). */
    readonly path: string,
    readonly reactor: IReactorTCP | null = null,
  ) {
    super();
  }

  override getChild(name: string, request: Request): IResource {
    const child = new ReverseProxyResource(
      this.host,
      this.port,
      `${this.path}/${encodeURIComponent(name)}`,
      this.reactor,
    );
    child.connectTimeout = this.connectTimeout;
    return child;
  }

  override render(request: Request): RenderResult {
    const q = request.uri.indexOf("?");
    const target = (this.path === "" ? "/" : this.path) + (q < 0 ? "" : request.uri.slice(q));
    const headers = endToEnd(request.requestHeaders);
    headers.setRawHeaders("Host", [this.port === 80 ? this.host : `${this.host}:${this.port}`]);
    headers.setRawHeaders("Connection", ["close"]);
    headers.removeHeader("content-length");
    const ip = request.getClientIP();
    if (ip !== null) {
      const prior = request.requestHeaders.getRawHeaders("x-forwarded-for");
      headers.setRawHeaders("X-Forwarded-For", [[...(prior ?? []), ip].join(", ")]);
    }
    let client: ProxyClient | null = null;
    const factory = new ProxyClientFactory(() => {
      client = new ProxyClient(request, request.method, target, headers);
      return client;
    });
    factory.onFailed = (reason) => {
      log.info("Cannot reach {host}:{port}: {error}", {
        host: this.host,
        port: this.port,
        error: reason.getErrorMessage(),
      });
      badGateway(request, `Cannot reach the upstream server: ${reason.getErrorMessage()}`);
    };
    const reactor = this.reactor ?? _globalReactor<IReactorTCP>();
    const connector = reactor.connectTCP(this.host, this.port, factory, this.connectTimeout);
    request.notifyFinish().addErrback(() => {
      connector.disconnect();
      return null;
    });
    return NOT_DONE_YET;
  }
}
