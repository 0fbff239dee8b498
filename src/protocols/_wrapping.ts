// ProtocolWrapper and WrappingFactory: the base of the policies that sit between a transport and a protocol.

import type { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IClientFactory,
  IClientFactoryEvents,
  IConnector,
  IProducer,
  IProtocol,
  IProtocolFactory,
  ITLSTransport,
  ITransport,
  TLSContextOptions,
} from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";

const log = new Logger("twisted-ts.protocols.policies");

type AnyTransport = Partial<ITLSTransport> & ITransport;

/**
 * Sits between a transport and a protocol: it is the protocol of the real transport, and the
 * transport of the wrapped protocol. Every call is forwarded unchanged (writes, closing,
 * addresses, producers, TLS); subclasses override what they want to watch or change.
 *
 * @example
 * ```ts
 * class Counting extends ProtocolWrapper {
 *   bytes = 0;
 *   override dataReceived(data: Buffer) {
 *     this.bytes += data.length;
 *     super.dataReceived(data);
 *   }
 * }
 * ```
 */
export class ProtocolWrapper extends Protocol implements ITransport {
  /** The factory that built this wrapper. */
  override factory: WrappingFactory;
  /** The protocol this wrapper is the transport of. */
  wrappedProtocol: IProtocol;
  private _disconnecting = false;

  constructor(factory: WrappingFactory, wrappedProtocol: IProtocol) {
    super();
    this.factory = factory;
    this.wrappedProtocol = wrappedProtocol;
  }

  /** A name for logs: the wrapped protocol's class, and the wrapper's. */
  logPrefix(): string {
    const inner = this.wrappedProtocol as { logPrefix?: () => string };
    const name =
      typeof inner.logPrefix === "function"
        ? inner.logPrefix()
        : this.wrappedProtocol.constructor.name;
    return `${name} (${this.constructor.name})`;
  }

  /** Attaches the real transport, registers with the factory, then connects the wrapped protocol. */
  override makeConnection(transport: ITransport): void {
    super.makeConnection(transport);
    this.factory.registerProtocol(this);
    this.wrappedProtocol.makeConnection(this);
  }

  private get _t(): AnyTransport {
    return this.tx as AnyTransport;
  }

  // ITransport, as seen by the wrapped protocol ----------------------------------------------

  /** Writes to the real transport. */
  write(data: Uint8Array | string): void {
    this._t.write(data);
  }

  /** Writes several chunks to the real transport. */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    this._t.writeSequence(data);
  }

  /** Closes the real transport after pending writes. */
  loseConnection(): void {
    this._disconnecting = true;
    this._t.loseConnection();
  }

  /** Closes the real transport at once. */
  abortConnection(): void {
    this._disconnecting = true;
    const t = this._t;
    if (typeof t.abortConnection === "function") t.abortConnection();
    else t.loseConnection();
  }

  /** Half-closes the real transport. */
  loseWriteConnection(): void {
    this._t.loseWriteConnection?.();
  }

  /** True once the connection is being closed. */
  get disconnecting(): boolean {
    return this._disconnecting || (this.transport as AnyTransport | null)?.disconnecting === true;
  }

  /** True once the real transport is closed. */
  get disconnected(): boolean {
    return (this.transport as AnyTransport | null)?.disconnected === true;
  }

  /** The peer's address. */
  getPeer(): IAddress {
    return this._t.getPeer();
  }

  /** This side's address. */
  getHost(): IAddress {
    return this._t.getHost();
  }

  /** Registers a producer with the real transport. */
  registerProducer(producer: IProducer, streaming: boolean): void {
    this._t.registerProducer?.(producer, streaming);
  }

  /** Unregisters the producer of the real transport. */
  unregisterProducer(): void {
    this._t.unregisterProducer?.();
  }

  /** Stops reading from the real transport. */
  pauseProducing(): void {
    this._t.pauseProducing?.();
  }

  /** Reads from the real transport again. */
  resumeProducing(): void {
    this._t.resumeProducing?.();
  }

  /** Stops the real transport for good. */
  stopProducing(): void {
    this._t.stopProducing?.();
  }

  getTcpNoDelay(): boolean {
    return this._t.getTcpNoDelay?.() ?? false;
  }

  setTcpNoDelay(enabled: boolean): void {
    this._t.setTcpNoDelay?.(enabled);
  }

  getTcpKeepAlive(): boolean {
    return this._t.getTcpKeepAlive?.() ?? false;
  }

  setTcpKeepAlive(enabled: boolean): void {
    this._t.setTcpKeepAlive?.(enabled);
  }

  /** Upgrades the real transport to TLS. */
  startTLS(options: TLSContextOptions): void {
    const t = this._t;
    if (typeof t.startTLS !== "function") throw new Error("Cannot start TLS: transport lacks it");
    t.startTLS(options);
  }

  /** True once the real transport speaks TLS. */
  get TLS(): boolean {
    return (this.transport as AnyTransport | null)?.TLS === true;
  }

  /** The ALPN protocol of the real transport, or `null`. */
  get negotiatedProtocol(): string | null {
    return (this.transport as AnyTransport | null)?.negotiatedProtocol ?? null;
  }

  /** The peer's certificate, or `null`. */
  getPeerCertificate(): unknown {
    return this._t.getPeerCertificate?.() ?? null;
  }

  // IProtocol, as seen by the real transport ---------------------------------------------------

  /**
   * Hands the data to the wrapped protocol. Its return value is passed on, so that the
   * transport sees (and logs) a rejected Promise of an async `dataReceived`.
   */
  override dataReceived(data: Buffer): unknown {
    return this.wrappedProtocol.dataReceived(data);
  }

  /** The peer half-closed: tells a half-closeable wrapped protocol, or closes. */
  readConnectionLost(): void {
    const p = this.wrappedProtocol as Partial<{ readConnectionLost(): void }>;
    if (typeof p.readConnectionLost === "function") p.readConnectionLost();
    else this.loseConnection();
  }

  /** Our side was half-closed: tells a half-closeable wrapped protocol. */
  writeConnectionLost(): void {
    const p = this.wrappedProtocol as Partial<{ writeConnectionLost(): void }>;
    if (typeof p.writeConnectionLost === "function") p.writeConnectionLost();
  }

  /** The TLS handshake completed: tells a wrapped protocol that listens for it. */
  handshakeCompleted(): void {
    const p = this.wrappedProtocol as Partial<{ handshakeCompleted(): void }>;
    if (typeof p.handshakeCompleted === "function") p.handshakeCompleted();
  }

  /** Unregisters from the factory, then tells the wrapped protocol. */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.factory.unregisterProtocol(this);
    this.wrappedProtocol.connectionLost(reason);
  }
}

/** A `ProtocolWrapper` class, as `WrappingFactory.protocol` takes it. */
export type ProtocolWrapperClass = new (
  factory: WrappingFactory,
  wrappedProtocol: IProtocol,
) => ProtocolWrapper;

/** A factory as `WrappingFactory` wraps it: client events are forwarded when it has them. */
export type WrappedFactory = IProtocolFactory & IClientFactoryEvents;

/**
 * Wraps the protocols of another factory in `protocol` (a `ProtocolWrapper` class), and keeps
 * the set of live wrappers in `protocols`. Starting, stopping and client connection events are
 * forwarded to the wrapped factory.
 *
 * @example
 * ```ts
 * const factory = new WrappingFactory(Factory.forProtocol(Echo));
 * factory.protocol = Counting;
 * reactor.listenTCP(8000, factory);
 * ```
 */
export class WrappingFactory implements IClientFactory {
  /** The wrapper class built for each connection. */
  protocol: ProtocolWrapperClass = ProtocolWrapper;
  /** The live wrappers (registered on connection, removed on disconnection). */
  readonly protocols = new Set<ProtocolWrapper>();
  /** How many ports/connectors use this factory. */
  numPorts = 0;
  /** Logs start/stop messages when true. */
  noisy = true;

  constructor(readonly wrappedFactory: WrappedFactory) {}

  /** A name for logs. */
  logPrefix(): string {
    return `${this.wrappedFactory.constructor.name} (${this.constructor.name})`;
  }

  /** Starts the wrapped factory, then this one. */
  doStart(): void {
    this.wrappedFactory.doStart();
    if (this.numPorts === 0) {
      if (this.noisy) log.debug("Starting factory {factory}", { factory: this.logPrefix() });
      this.startFactory();
    }
    this.numPorts++;
  }

  /** Stops the wrapped factory, then this one. */
  doStop(): void {
    this.wrappedFactory.doStop();
    if (this.numPorts === 0) return;
    this.numPorts--;
    if (this.numPorts === 0) {
      if (this.noisy) log.debug("Stopping factory {factory}", { factory: this.logPrefix() });
      this.stopFactory();
    }
  }

  /** Called before the first port/connector uses the factory. */
  startFactory(): void {}

  /** Called after the last port/connector stopped using the factory. */
  stopFactory(): void {}

  /** Forwarded to the wrapped factory. */
  startedConnecting(connector: IConnector): void {
    this.wrappedFactory.startedConnecting?.(connector);
  }

  /** Forwarded to the wrapped factory. */
  clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionFailed?.(connector, reason);
  }

  /** Forwarded to the wrapped factory. */
  clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionLost?.(connector, reason);
  }

  /** Wraps the wrapped factory's protocol; `null` (refused) when it returns `null`. */
  buildProtocol(addr: IAddress): ProtocolWrapper | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    if (wrapped === null) return null;
    return new this.protocol(this, wrapped);
  }

  /** Called by a wrapper once connected. */
  registerProtocol(p: ProtocolWrapper): void {
    this.protocols.add(p);
  }

  /** Called by a wrapper once disconnected. */
  unregisterProtocol(p: ProtocolWrapper): void {
    this.protocols.delete(p);
  }
}
