// Server endpoints: TCP (IPv4, IPv6), Unix sockets, TLS, and a factory-wrapping endpoint.

import { Deferred, fail, succeed } from "./defer.js";
import type { IStreamServerEndpoint } from "./endpoints.js";
import { CannotListenError } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IListeningPort,
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorUNIX,
  ServerTLSOptions,
} from "./interfaces.js";
import { CertificateOptions } from "./ssl.js";

type WhenListening = { whenListening?: () => PromiseLike<unknown> };

/**
 * Starts a port with `listen` and gives a Deferred of it: fired once the port really listens
 * (ports with `whenListening()`), or at once. A bind error fails it with `CannotListenError`;
 * cancelling it before then stops the port.
 */
function listening(
  describe: () => [iface: string, port: number | string],
  listen: () => IListeningPort,
): Deferred<IListeningPort> {
  let port: IListeningPort;
  try {
    port = listen();
  } catch (e) {
    if (e instanceof CannotListenError) return fail(e);
    const [iface, portNumber] = describe();
    return fail(new CannotListenError(iface, portNumber, { cause: e }));
  }
  const when = (port as WhenListening).whenListening;
  if (typeof when !== "function") return succeed(port);
  const d = new Deferred<IListeningPort>(() => {
    void port.stopListening();
  });
  const ready = when.call(port);
  const settled = ready instanceof Deferred ? ready : Deferred.fromPromise(ready);
  settled.addCallbacks(
    () => {
      if (!d.called) d.callback(port);
    },
    (f: Failure) => {
      if (!d.called) d.errback(f);
    },
  );
  return d;
}

/**
 * Listens for TCP connections on IPv4 (`interface` defaults to all addresses).
 *
 * @example
 * ```ts
 * const port = await new TCP4ServerEndpoint(reactor, 8080, 50, "127.0.0.1").listen(factory);
 * ```
 */
export class TCP4ServerEndpoint implements IStreamServerEndpoint {
  constructor(
    readonly reactor: IReactorTCP,
    readonly port: number,
    readonly backlog = 50,
    readonly interface_: string = "",
  ) {}

  /**
   * Listens with `factory`; fires with the port once it listens, or fails with
   * `CannotListenError`. Cancelling before then stops the port: nothing is left listening.
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listening(
      () => [this.interface_, this.port],
      () => this.reactor.listenTCP(this.port, factory, this.backlog, this.interface_),
    );
  }

  toString(): string {
    return `${this.constructor.name}(port=${this.port}, interface="${this.interface_}")`;
  }
}

/** Listens for TCP connections on IPv6 (`interface` defaults to `::`). */
export class TCP6ServerEndpoint extends TCP4ServerEndpoint {
  constructor(reactor: IReactorTCP, port: number, backlog = 50, interface_ = "::") {
    super(reactor, port, backlog, interface_);
  }
}

/**
 * Listens on a Unix socket at `address`, whose file gets mode `mode`.
 *
 * @example
 * ```ts
 * await new UNIXServerEndpoint(reactor, "/run/app.sock", 50, 0o660).listen(factory);
 * ```
 */
export class UNIXServerEndpoint implements IStreamServerEndpoint {
  constructor(
    readonly reactor: IReactorUNIX,
    readonly address: string,
    readonly backlog = 50,
    readonly mode = 0o666,
  ) {}

  /**
   * Listens with `factory`; fires with the port once it listens, or fails with
   * `CannotListenError`. Cancelling before then stops the port.
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    return listening(
      () => ["", this.address],
      () => this.reactor.listenUNIX(this.address, factory, this.backlog, this.mode),
    );
  }

  toString(): string {
    return `UNIXServerEndpoint(address="${this.address}", mode=0o${this.mode.toString(8)})`;
  }
}

/**
 * Listens for TLS connections on IPv4 or IPv6, presenting the key and certificate of
 * `sslContextFactory` (`CertificateOptions` or the options object `listenSSL` takes).
 *
 * @example
 * ```ts
 * const options = new CertificateOptions({ privateKey: key, certificate: cert });
 * await new SSL4ServerEndpoint(reactor, 8443, options).listen(factory);
 * ```
 */
export class SSL4ServerEndpoint implements IStreamServerEndpoint {
  constructor(
    readonly reactor: IReactorSSL,
    readonly port: number,
    readonly sslContextFactory: ServerTLSOptions | CertificateOptions,
    readonly backlog = 50,
    readonly interface_: string = "",
  ) {}

  /**
   * Listens with `factory`; fires with the port once it listens, or fails with
   * `CannotListenError`. Cancelling before then stops the port.
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    const context = this.sslContextFactory;
    const options = context instanceof CertificateOptions ? context.getContextOptions() : context;
    return listening(
      () => [this.interface_, this.port],
      () => this.reactor.listenSSL(this.port, factory, options, this.backlog, this.interface_),
    );
  }

  toString(): string {
    return `SSL4ServerEndpoint(port=${this.port}, interface="${this.interface_}")`;
  }
}

/**
 * A server endpoint that wraps every factory given to `listen` with `wrapFactory` before
 * handing it to `wrappedEndpoint` (how `haproxy:` endpoints put the PROXY protocol in front).
 *
 * @example
 * ```ts
 * const endpoint = new WrapperServerEndpoint(inner, (f) => new HAProxyWrappingFactory(f));
 * ```
 */
export class WrapperServerEndpoint implements IStreamServerEndpoint {
  constructor(
    readonly wrappedEndpoint: IStreamServerEndpoint,
    readonly wrapFactory: (factory: IProtocolFactory) => IProtocolFactory,
  ) {}

  /** Listens on the wrapped endpoint; a cancel is passed on to it. */
  listen(factory: IProtocolFactory): Deferred<IListeningPort> {
    let wrapped: IProtocolFactory;
    try {
      wrapped = this.wrapFactory(factory);
    } catch (e) {
      return fail(Failure.from(e));
    }
    return this.wrappedEndpoint.listen(wrapped);
  }

  toString(): string {
    return `WrapperServerEndpoint(${String(this.wrappedEndpoint)})`;
  }
}
