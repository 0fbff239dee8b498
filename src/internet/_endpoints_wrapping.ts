// The factory and protocol wrappers through which client endpoints learn that a connection is up.

import { Deferred } from "./defer.js";
import { ConnectingCancelledError, NotConnectingError, TwistedError } from "./error.js";
import type { Failure } from "./failure.js";
import type {
  IAddress,
  IConnector,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProtocol,
  IProtocolFactory,
  ITransport,
} from "./interfaces.js";
import { ClientFactory } from "./protocol.js";

/** A factory's `buildProtocol` returned `null`: it refused the connection. */
export class NoProtocol extends TwistedError {
  override readonly code: string = "ERR_NO_PROTOCOL";
  constructor(
    message = "Factory returned no protocol for the connection",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type OptionalEvents = Partial<IHalfCloseableProtocol & IHandshakeListener>;

/**
 * Gives `proxy` the optional protocol methods (half-close, handshake) that `wrapped` has, and only
 * those: transports look for them to decide, for instance, whether to half-close.
 * @internal
 */
export function _forwardOptionalEvents(proxy: object, wrapped: IProtocol): void {
  const target = proxy as OptionalEvents;
  const source = wrapped as OptionalEvents;
  for (const name of ["readConnectionLost", "writeConnectionLost", "handshakeCompleted"] as const) {
    if (typeof source[name] === "function" && target[name] === undefined) {
      target[name] = () => source[name]?.();
    }
  }
}

/**
 * Stands between a transport and the protocol that a client endpoint's factory built: it
 * connects the protocol, then fires `connected` with it.
 * @internal
 */
export class _WrappingProtocol implements IProtocol {
  transport: ITransport | null = null;

  constructor(
    private readonly connected: Deferred<IProtocol>,
    /** The protocol built by the user's factory. */
    readonly wrappedProtocol: IProtocol,
  ) {
    _forwardOptionalEvents(this, wrappedProtocol);
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    try {
      this.wrappedProtocol.makeConnection(this.transport as ITransport);
    } catch (e) {
      // The transport drops the connection; the caller learns why.
      if (!this.connected.called) this.connected.errback(e);
      throw e;
    }
    if (!this.connected.called) this.connected.callback(this.wrappedProtocol);
  }

  dataReceived(data: Buffer): void {
    this.wrappedProtocol.dataReceived(data);
  }

  connectionLost(reason: Failure): void {
    this.wrappedProtocol.connectionLost(reason);
  }
}

/**
 * The client factory that client endpoints give to `connectTCP` and friends: it builds the
 * user's protocol inside a `_WrappingProtocol` and fires `onConnection` with it once connected,
 * or with the connection failure. Cancelling `onConnection` while connecting stops the
 * connector and fails it with `ConnectingCancelledError`.
 * @internal
 */
export class _WrappingFactory extends ClientFactory<IProtocol> {
  /** Fires with the user's protocol once connected, or with why the connection failed. */
  readonly onConnection: Deferred<IProtocol>;
  /** The connector, once connecting. */
  connector: IConnector | null = null;

  constructor(
    /** The user's factory. */
    readonly wrappedFactory: IProtocolFactory,
  ) {
    super();
    this.noisy = false;
    this.onConnection = new Deferred<IProtocol>((d) => this.cancelConnecting(d));
  }

  override startFactory(): void {
    this.wrappedFactory.doStart();
  }

  override stopFactory(): void {
    this.wrappedFactory.doStop();
  }

  override startedConnecting(connector: IConnector): void {
    this.connector = connector;
  }

  override buildProtocol(addr: IAddress): IProtocol | null {
    let built: IProtocol | null;
    try {
      built = this.wrappedFactory.buildProtocol(addr);
    } catch (e) {
      if (!this.onConnection.called) this.onConnection.errback(e);
      return null;
    }
    if (built === null) {
      if (!this.onConnection.called) this.onConnection.errback(new NoProtocol());
      return null;
    }
    return new _WrappingProtocol(this.onConnection, built);
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    if (!this.onConnection.called) this.onConnection.errback(reason);
  }

  private cancelConnecting(d: Deferred<IProtocol>): void {
    const connector = this.connector;
    d.errback(new ConnectingCancelledError(connector?.getDestination()));
    if (connector === null) return;
    try {
      connector.stopConnecting();
    } catch (e) {
      // Connected in the meantime (the protocol not yet told): drop the connection.
      if (!(e instanceof NotConnectingError)) throw e;
      connector.disconnect();
    }
  }
}
