// HTTPConnectionPool: connections per (scheme, host, port), kept open between requests when persistent.

import { Deferred, succeed } from "../../internet/defer.js";
import type { IStreamClientEndpoint } from "../../internet/endpoints.js";
import { CancelledError, TimeoutError } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type {
  IAddress,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
} from "../../internet/interfaces.js";
import {
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseNeverReceived,
  type WrapperError,
} from "./_errors.js";
import { HTTP11ClientProtocol, type HTTP11ClientProtocolOptions } from "./_protocol.js";
import type { Request } from "./_request.js";
import type { Response } from "./_response.js";

/** A connection the pool hands out: something that sends one request at a time. */
export interface IHTTPClientConnection {
  /** Sends `request`; see `HTTP11ClientProtocol.request`. */
  request(request: Request): Deferred<Response>;
}

/** Options for the protocols of new connections (an agent's limits and timeouts). */
export type ConnectionOptions = Omit<HTTP11ClientProtocolOptions, "quiescentCallback" | "clock">;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "TRACE"]);

/**
 * Whether a request that failed with `error` on a reused connection may be sent again on a
 * new one: an idempotent method without a body, that the server cannot have answered (the
 * connection was closed under it), and not because of a cancel or timeout.
 */
export function _shouldRetry(request: Request, error: unknown): boolean {
  if (!IDEMPOTENT.has(request.method) || request.bodyProducer !== null) return false;
  if (error instanceof RequestNotSent) return true;
  if (!(error instanceof RequestTransmissionFailed || error instanceof ResponseNeverReceived)) {
    return false;
  }
  return !(error as WrapperError).reasons.some(
    (f) => f.check(CancelledError, TimeoutError) !== null,
  );
}

/** A cached connection that retries, once on a new connection, a request its server dropped. */
class RetryingConnection implements IHTTPClientConnection {
  constructor(
    private readonly protocol: HTTP11ClientProtocol,
    private readonly reconnect: () => Deferred<IHTTPClientConnection>,
  ) {}

  request(request: Request): Deferred<Response> {
    return this.protocol.request(request).addErrback((f: Failure) => {
      if (!_shouldRetry(request, f.value)) throw f;
      return this.reconnect().addCallback((connection) => connection.request(request));
    }) as Deferred<Response>;
  }
}

/**
 * Connections for agents (twisted.web.client.HTTPConnectionPool). A persistent pool keeps up
 * to `maxPersistentPerHost` idle connections per key (scheme, host, port — or proxy) for
 * `cachedConnectionTimeout` seconds on the reactor's clock, forgets those the server closes,
 * and, with `retryAutomatically`, sends an idempotent request again (once, on a new
 * connection) when a cached connection turns out to have been closed by the server. A
 * non-persistent pool opens a connection per request and closes it after the response.
 * Connections are never limited in number: only idle ones are.
 *
 * @example
 * ```ts
 * const pool = new HTTPConnectionPool(reactor); // persistent
 * pool.maxPersistentPerHost = 4;
 * const agent = new Agent(reactor, { pool });
 * // … later, to let the process exit:
 * await pool.closeCachedConnections();
 * ```
 */
export class HTTPConnectionPool {
  /** Idle connections kept per key. */
  maxPersistentPerHost = 2;
  /** Seconds an idle connection is kept. */
  cachedConnectionTimeout = 240;
  /** Retry an idempotent request once when a cached connection was closed under it. */
  retryAutomatically = true;
  private readonly connections = new Map<string, HTTP11ClientProtocol[]>();
  private readonly timeouts = new Map<HTTP11ClientProtocol, IDelayedCall>();
  private readonly watched = new WeakSet<HTTP11ClientProtocol>();

  constructor(
    /** The clock of the idle timeouts. */
    readonly reactor: IReactorTime,
    /** Keep connections open between requests. */
    readonly persistent = true,
  ) {}

  /**
   * A connection for `key`: an idle cached one, or a new one made through `endpoint`.
   *
   * Cancel: cancelling while connecting stops the attempt (`ConnectingCancelledError`);
   * nothing is left connecting.
   */
  getConnection(
    key: string,
    endpoint: IStreamClientEndpoint,
    options: ConnectionOptions = {},
  ): Deferred<IHTTPClientConnection> {
    const cached = this.connections.get(key);
    while (cached !== undefined && cached.length > 0) {
      const protocol = cached.pop() as HTTP11ClientProtocol;
      this.timeouts.get(protocol)?.cancel();
      this.timeouts.delete(protocol);
      if (cached.length === 0) this.connections.delete(key);
      if (protocol.state !== "QUIESCENT") continue;
      if (!this.retryAutomatically) return succeed(protocol);
      return succeed(
        new RetryingConnection(protocol, () => this._newConnection(key, endpoint, options)),
      );
    }
    return this._newConnection(key, endpoint, options);
  }

  /** Connects a new protocol through `endpoint`. @internal */
  _newConnection(
    key: string,
    endpoint: IStreamClientEndpoint,
    options: ConnectionOptions,
  ): Deferred<IHTTPClientConnection> {
    const pool = this;
    const factory: IProtocolFactory = {
      doStart() {},
      doStop() {},
      buildProtocol(_addr: IAddress): IProtocol {
        return new HTTP11ClientProtocol({
          ...options,
          clock: pool.reactor,
          quiescentCallback: (p) => pool._putConnection(key, p),
        });
      },
    };
    return endpoint.connect(factory) as unknown as Deferred<IHTTPClientConnection>;
  }

  /** Takes back an idle connection (called when a response has ended). @internal */
  _putConnection(key: string, protocol: HTTP11ClientProtocol): void {
    if (!this.persistent || protocol.state !== "QUIESCENT") {
      protocol.transport?.loseConnection();
      return;
    }
    let list = this.connections.get(key);
    if (list === undefined) {
      list = [];
      this.connections.set(key, list);
    }
    if (list.length >= this.maxPersistentPerHost) {
      const dropped = list.shift() as HTTP11ClientProtocol;
      this.timeouts.get(dropped)?.cancel();
      this.timeouts.delete(dropped);
      dropped.transport?.loseConnection();
    }
    list.push(protocol);
    this.timeouts.set(
      protocol,
      this.reactor.callLater(this.cachedConnectionTimeout, () => {
        this.timeouts.delete(protocol);
        this.forget(key, protocol);
        protocol.transport?.loseConnection();
      }),
    );
    if (!this.watched.has(protocol)) {
      this.watched.add(protocol);
      protocol._disconnectedDeferred.addCallback(() => this.forget(key, protocol));
    }
  }

  private forget(key: string, protocol: HTTP11ClientProtocol): void {
    const timer = this.timeouts.get(protocol);
    if (timer !== undefined) {
      if (timer.active()) timer.cancel();
      this.timeouts.delete(protocol);
    }
    const list = this.connections.get(key);
    if (list === undefined) return;
    const i = list.indexOf(protocol);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.connections.delete(key);
  }

  /** How many idle connections are cached for `key` (or in all). */
  cachedConnectionCount(key?: string): number {
    if (key !== undefined) return this.connections.get(key)?.length ?? 0;
    let n = 0;
    for (const list of this.connections.values()) n += list.length;
    return n;
  }

  /**
   * Closes every idle connection; fires once they are all closed. Connections in use are not
   * touched (they close after their response if the pool is not persistent).
   *
   * Cancel: cancelling only stops the waiting (with `CancelledError`); the connections still
   * close.
   */
  closeCachedConnections(): Deferred<void> {
    const protocols = [...this.connections.values()].flat();
    this.connections.clear();
    for (const timer of this.timeouts.values()) if (timer.active()) timer.cancel();
    this.timeouts.clear();
    const done = new Deferred<void>();
    let waiting = protocols.length;
    if (waiting === 0) return succeed(undefined);
    for (const protocol of protocols) {
      protocol.whenDisconnected().addCallback(() => {
        if (--waiting === 0) done.callback(undefined);
      });
      protocol.transport?.loseConnection();
    }
    return done;
  }
}
