// Client endpoints: TCP (IPv4, IPv6), Unix sockets, TLS, TLS over another endpoint, connectProtocol.

import { lookup } from "node:dns";
import { isIP, isIPv6 } from "node:net";
import { _forwardOptionalEvents, _WrappingFactory } from "./_endpoints_wrapping.js";
import { Deferred, fail } from "./defer.js";
import type { IStreamClientEndpoint } from "./endpoints.js";
import { ConnectingCancelledError, DNSLookupError, SSLError } from "./error.js";
import type { Failure } from "./failure.js";
import type {
  IAddress,
  IConnector,
  IProtocol,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorUNIX,
  ITLSTransport,
  ITransport,
  TLSContextOptions,
} from "./interfaces.js";

type BindAddress = readonly [string, number];

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to its addresses (all of them, in the order of preference). A Deferred
 * that has its result at once keeps tests synchronous.
 */
export type HostResolver = (host: string) => PromiseLike<readonly ResolvedAddress[]>;

/** Resolves with `dns.lookup(host, { all: true })`: the system resolver, `/etc/hosts` included. */
export const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => {
    lookup(host, { all: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })));
    });
  });

/** A Deferred of a resolver's result. @internal */
export function _resolveWith(
  resolver: HostResolver,
  host: string,
): Deferred<readonly ResolvedAddress[]> {
  let result: PromiseLike<readonly ResolvedAddress[]>;
  try {
    result = resolver(host);
  } catch (e) {
    return fail(e);
  }
  return result instanceof Deferred ? result : Deferred.fromPromise(result);
}

/** Connects with `start(factory)` through a `_WrappingFactory`; see the client endpoints. */
function connecting(
  factory: IProtocolFactory,
  start: (wf: _WrappingFactory) => IConnector,
): Deferred<IProtocol> {
  const wf = new _WrappingFactory(factory);
  try {
    const connector = start(wf);
    wf.connector ??= connector;
  } catch (e) {
    if (!wf.onConnection.called) wf.onConnection.errback(e);
  }
  return wf.onConnection;
}

/**
 * Connects over TCP to `host` (an IPv4 address, or a name the reactor resolves) and `port`.
 *
 * @example
 * ```ts
 * const proto = await new TCP4ClientEndpoint(reactor, "127.0.0.1", 8000).connect(factory);
 * ```
 */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  constructor(
    readonly reactor: IReactorTCP,
    readonly host: string,
    readonly port: number,
    /** Seconds to wait for the connection before failing with `TimeoutError`. */
    readonly timeout = 30,
    readonly bindAddress?: BindAddress,
  ) {}

  /**
   * Connects a protocol built by `factory`; fires with it once its `connectionMade` has run, or
   * fails with the reason (`ConnectionRefusedError`, `DNSLookupError`, `TimeoutError`…).
   * Cancelling while connecting stops the connector and fails with `ConnectingCancelledError`:
   * no socket or timer is left behind.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connecting(factory, (wf) =>
      this.reactor.connectTCP(this.host, this.port, wf, this.timeout, this.bindAddress),
    );
  }

  toString(): string {
    return `${this.constructor.name}(host="${this.host}", port=${this.port})`;
  }
}

/**
 * Connects over TCP to an IPv6 address, or to the first IPv6 address of a host name (resolved
 * with `resolver`, which tests may replace).
 */
export class TCP6ClientEndpoint implements IStreamClientEndpoint {
  /** Resolves host names; only IPv6 answers are used. */
  resolver: HostResolver = systemResolver;

  constructor(
    readonly reactor: IReactorTCP,
    readonly host: string,
    readonly port: number,
    readonly timeout = 30,
    readonly bindAddress?: BindAddress,
  ) {}

  /**
   * Like `TCP4ClientEndpoint.connect`, after resolving the name to an IPv6 address (failing
   * with `DNSLookupError` when it has none). A cancel during resolution drops its answer.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    const bare = this.host.replace(/^\[(.*)\]$/, "$1");
    const connectTo = (address: string): Deferred<IProtocol> =>
      connecting(factory, (wf) =>
        this.reactor.connectTCP(address, this.port, wf, this.timeout, this.bindAddress),
      );
    if (isIPv6(bare)) return connectTo(bare);
    let attempt: Deferred<IProtocol> | null = null;
    const resolving = _resolveWith(this.resolver, this.host);
    const d = new Deferred<IProtocol>((self) => {
      self.errback(new ConnectingCancelledError());
      if (attempt !== null) attempt.cancel();
      else resolving.cancel();
    });
    resolving.addCallbacks(
      (addresses) => {
        if (d.called) return;
        const v6 = addresses.find((a) => a.family === 6);
        if (v6 === undefined) {
          d.errback(new DNSLookupError(`DNS lookup failed: no IPv6 address for "${this.host}"`));
          return;
        }
        attempt = connectTo(v6.address);
        attempt.addCallbacks(
          (p) => void (d.called ? undefined : d.callback(p)),
          (f: Failure) => void (d.called ? undefined : d.errback(f)),
        );
      },
      (f: Failure) => {
        if (!d.called) {
          d.errback(
            new DNSLookupError(`DNS lookup failed: "${this.host}": ${f.getErrorMessage()}`, {
              cause: f.value,
            }),
          );
        }
      },
    );
    return d;
  }

  toString(): string {
    return `TCP6ClientEndpoint(host="${this.host}", port=${this.port})`;
  }
}

/**
 * Connects to a Unix socket.
 *
 * @example
 * ```ts
 * const proto = await new UNIXClientEndpoint(reactor, "/run/app.sock").connect(factory);
 * ```
 */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  constructor(
    readonly reactor: IReactorUNIX,
    readonly path: string,
    readonly timeout = 30,
  ) {}

  /**
   * Connects a protocol built by `factory`; fires with it once connected, or fails with the
   * reason. Cancelling while connecting stops the connector (`ConnectingCancelledError`).
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connecting(factory, (wf) => this.reactor.connectUNIX(this.path, wf, this.timeout));
  }

  toString(): string {
    return `UNIXClientEndpoint(path="${this.path}")`;
  }
}

/**
 * Connects over TLS (with `connectSSL`), with the options `sslContextFactory` gives, such as
 * those of `optionsForClientTLS`.
 */
export class SSL4ClientEndpoint implements IStreamClientEndpoint {
  constructor(
    readonly reactor: IReactorSSL,
    readonly host: string,
    readonly port: number,
    readonly sslContextFactory: TLSContextOptions,
    readonly timeout = 30,
    readonly bindAddress?: BindAddress,
  ) {}

  /**
   * Connects a protocol built by `factory`; fires with it once connected, or fails with the
   * reason. Cancelling while connecting stops the connector (`ConnectingCancelledError`).
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return connecting(factory, (wf) =>
      this.reactor.connectSSL(
        this.host,
        this.port,
        wf,
        this.sslContextFactory,
        this.timeout,
        this.bindAddress,
      ),
    );
  }

  toString(): string {
    return `SSL4ClientEndpoint(host="${this.host}", port=${this.port})`;
  }
}

// TLS over any endpoint ---------------------------------------------------------------------------

/** Starts TLS as soon as connected; connects the user's protocol once the handshake is done. */
class TLSStartingProtocol implements IProtocol {
  transport: ITransport | null = null;
  /** Fires with the user's protocol after the handshake, or with why it failed. */
  readonly secured = new Deferred<IProtocol>();
  private handshakeDone = false;
  private early: Buffer[] = [];

  constructor(
    readonly wrappedProtocol: IProtocol,
    private readonly options: TLSContextOptions,
  ) {
    _forwardOptionalEvents(this, wrappedProtocol);
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    const transport = this.transport as Partial<ITLSTransport>;
    if (typeof transport.startTLS !== "function") {
      this.secured.errback(
        new SSLError("Cannot start TLS: the transport does not support startTLS"),
      );
      this.transport?.loseConnection();
      return;
    }
    transport.startTLS({ ...this.options, isServer: false });
  }

  handshakeCompleted(): void {
    if (this.handshakeDone) return;
    this.handshakeDone = true;
    const wrapped = this.wrappedProtocol;
    try {
      wrapped.makeConnection(this.transport as ITransport);
    } catch (e) {
      if (!this.secured.called) this.secured.errback(e);
      throw e;
    }
    (wrapped as { handshakeCompleted?: () => void }).handshakeCompleted?.();
    if (!this.secured.called) this.secured.callback(wrapped);
    const early = this.early;
    this.early = [];
    for (const chunk of early) wrapped.dataReceived(chunk);
  }

  dataReceived(data: Buffer): void {
    if (this.handshakeDone) this.wrappedProtocol.dataReceived(data);
    else this.early.push(data);
  }

  connectionLost(reason: Failure): void {
    if (this.handshakeDone) {
      this.wrappedProtocol.connectionLost(reason);
    } else if (!this.secured.called) {
      const value = reason.value;
      const cause = value instanceof Error && value.cause !== undefined ? value.cause : value;
      const message = cause instanceof Error ? cause.message : reason.getErrorMessage();
      this.secured.errback(
        value instanceof SSLError
          ? reason
          : new SSLError(`TLS handshake failed: ${message}`, { cause }),
      );
    }
  }
}

/** Builds `TLSStartingProtocol`s around the user's protocols. */
class TLSStartingFactory {
  constructor(
    readonly wrappedFactory: IProtocolFactory,
    readonly options: TLSContextOptions,
  ) {}

  doStart(): void {
    this.wrappedFactory.doStart();
  }

  doStop(): void {
    this.wrappedFactory.doStop();
  }

  buildProtocol(addr: IAddress): IProtocol | null {
    const built = this.wrappedFactory.buildProtocol(addr);
    return built === null ? null : new TLSStartingProtocol(built, this.options);
  }
}

/**
 * A client endpoint that speaks TLS over the connections of another endpoint (see
 * `wrapClientTLS`).
 */
export class TLSWrapperClientEndpoint implements IStreamClientEndpoint {
  constructor(
    readonly connectionCreator: TLSContextOptions,
    readonly wrappedEndpoint: IStreamClientEndpoint,
  ) {}

  /**
   * Connects the wrapped endpoint, starts TLS, and fires with the protocol built by `factory`
   * once the handshake has succeeded (its `connectionMade` runs then); a failed handshake or
   * certificate check fails it with `SSLError`. Cancelling while connecting cancels the wrapped
   * endpoint's attempt; during the handshake it aborts the connection. Either way it fails
   * with `ConnectingCancelledError` and leaves nothing open.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    let current: TLSStartingProtocol | null = null;
    let inner: Deferred<IProtocol> | null = null;
    const d = new Deferred<IProtocol>((self) => {
      self.errback(new ConnectingCancelledError(current?.transport?.getPeer()));
      if (current !== null) {
        const transport = current.transport as Partial<ITLSTransport> | null;
        if (transport?.abortConnection !== undefined) transport.abortConnection();
        else transport?.loseConnection?.();
      } else {
        inner?.cancel();
      }
    });
    inner = this.wrappedEndpoint.connect(new TLSStartingFactory(factory, this.connectionCreator));
    inner.addCallbacks(
      (proto) => {
        const starting = proto as TLSStartingProtocol;
        current = starting;
        starting.secured.addCallbacks(
          (wrapped) => void (d.called ? undefined : d.callback(wrapped)),
          (f: Failure) => void (d.called ? undefined : d.errback(f)),
        );
      },
      (f: Failure) => void (d.called ? undefined : d.errback(f)),
    );
    return d;
  }

  toString(): string {
    return `TLSWrapperClientEndpoint(${String(this.wrappedEndpoint)})`;
  }
}

/**
 * Wraps a client endpoint so that its connections speak TLS with `connectionCreator` (the
 * options of `optionsForClientTLS`). The protocol's `connectionMade` runs after the handshake.
 *
 * @example
 * ```ts
 * const endpoint = wrapClientTLS(
 *   optionsForClientTLS("example.com"),
 *   new HostnameEndpoint(reactor, "example.com", 443),
 * );
 * const proto = await endpoint.connect(factory);
 * ```
 */
export function wrapClientTLS(
  connectionCreator: TLSContextOptions,
  wrappedEndpoint: IStreamClientEndpoint,
): TLSWrapperClientEndpoint {
  return new TLSWrapperClientEndpoint(connectionCreator, wrappedEndpoint);
}

/** The address family of an IP literal, or `null` for a host name. @internal */
export function _literalFamily(host: string): 4 | 6 | null {
  const family = isIP(host);
  return family === 4 ? 4 : family === 6 ? 6 : null;
}
