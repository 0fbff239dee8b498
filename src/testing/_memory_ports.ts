// Fake listening ports, UDP ports and connectors returned by MemoryReactor.

import { IPv4Address, IPv6Address, UNIXAddress } from "../internet/address.js";
import { type Deferred, succeed } from "../internet/defer.js";
import {
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionRefusedError,
  NotConnectingError,
} from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IClientFactory,
  IConnector,
  IDatagramProtocol,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IUDPTransport,
  TLSContextOptions,
} from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";
import { StringTransport } from "./_string_transport.js";

/** The kind of stream connection or port: plain TCP, TLS, or a Unix socket. */
export type MemoryStreamKind = "tcp" | "ssl" | "unix";

/** The default fake address of the peer of a connection accepted by a `MemoryListeningPort`. */
const DEFAULT_CLIENT = new IPv4Address("TCP", "192.168.1.1", 4321);

/**
 * A Unix address as an `IAddress` (`UNIXAddress` has no `type`, which TypeScript's weak-type
 * check rejects).
 * @internal
 */
export function _unixAddress(name: string | null): IAddress {
  return new UNIXAddress(name) as unknown as IAddress;
}

function asFailure(reason: unknown): Failure {
  return reason instanceof Failure ? reason : new Failure(reason);
}

/** The local address of a client connection to `destination`, as a `StringTransport` reports it. */
function clientHostFor(destination: IAddress): IAddress {
  if (destination instanceof UNIXAddress) return _unixAddress(null);
  if (destination instanceof IPv6Address) return new IPv6Address("TCP", "::1", 54321);
  return new IPv4Address("TCP", "10.0.0.1", 1234);
}

/**
 * A listening port returned by `MemoryReactor.listenTCP`/`listenSSL`/`listenUNIX`. Nothing
 * listens; `acceptConnection()` simulates an incoming connection.
 */
export class MemoryListeningPort implements IListeningPort {
  /** True once `startListening` has run (the reactor starts the port). */
  listening = false;
  /** True once `stopListening` has run. */
  disconnected = false;
  /** The transports of the connections accepted so far. */
  readonly transports: StringTransport[] = [];

  constructor(
    /** What kind of port this is. */
    readonly kind: MemoryStreamKind,
    /** The address `getHost()` reports (with the assigned port when 0 was asked for). */
    readonly address: IAddress,
    /** The factory that builds protocols for accepted connections. */
    readonly factory: IProtocolFactory,
    /** The TLS options given to `listenSSL`, else `null`. */
    readonly tlsOptions: TLSContextOptions | null = null,
  ) {}

  /** Starts the factory (`doStart`), as a real port does. Done by the reactor. */
  startListening(): void {
    if (this.listening) return;
    this.listening = true;
    this.factory.doStart();
  }

  /** Records `disconnected` and stops the factory (`doStop`), once. */
  stopListening(): Deferred<void> {
    if (!this.disconnected) {
      this.disconnected = true;
      this.listening = false;
      this.factory.doStop();
    }
    return succeed(undefined);
  }

  getHost(): IAddress {
    return this.address;
  }

  /**
   * Simulates an incoming connection: builds a protocol with the factory for `peer` and connects
   * it to `transport` (default: a new `StringTransport` from this port's address to `peer`).
   * When the factory refuses (returns `null`), the transport is told to lose the connection and
   * `null` is returned.
   *
   * @example
   * ```ts
   * const port = reactor.listenTCP(8080, factory) as MemoryListeningPort;
   * const proto = port.acceptConnection();
   * ```
   */
  acceptConnection<P extends IProtocol = IProtocol>(
    options: { peer?: IAddress; transport?: StringTransport } = {},
  ): P | null {
    if (this.disconnected) throw new Error("Cannot accept a connection: the port has stopped");
    const peer = options.peer ?? (this.kind === "unix" ? _unixAddress(null) : DEFAULT_CLIENT);
    const transport = options.transport ?? new StringTransport(this.address, peer);
    if (this.kind === "ssl" && !transport.TLS) {
      transport.TLS = true;
      transport.tlsOptions = this.tlsOptions;
    }
    this.transports.push(transport);
    const protocol = this.factory.buildProtocol(peer) as P | null;
    if (protocol === null) {
      transport.loseConnection();
      return null;
    }
    protocol.makeConnection(transport);
    return protocol;
  }

  toString(): string {
    return `<MemoryListeningPort ${this.kind} ${String(this.address)}>`;
  }
}

/**
 * A connector returned by `MemoryReactor.connectTCP`/`connectSSL`/`connectUNIX`. It stays
 * `"connecting"` until the test decides what happens: `completeConnection()`,
 * `failConnection()`, then `connectionLost()`. It drives the factory as a real connector does:
 * `doStart` and `startedConnecting` on `connect()`, `clientConnectionFailed` /
 * `clientConnectionLost` and then `doStop` unless the factory reconnects.
 */
export class MemoryConnector implements IConnector {
  /** `"disconnected" | "connecting" | "connected"`. */
  state: "disconnected" | "connecting" | "connected" = "disconnected";
  /** The transport of the live connection (kept after it is lost), or `null`. */
  transport: StringTransport | null = null;
  /** The protocol built for the connection (kept after it is lost), or `null`. */
  protocol: IProtocol | null = null;
  /** Set by `stopConnecting()`. */
  stoppedConnecting = false;
  /** Set by `disconnect()`. */
  disconnected = false;
  /** How many times `connect()` has run (1 right after `connectTCP`). */
  connectAttempts = 0;
  private factoryStarted = false;

  constructor(
    /** What kind of connection this is. */
    readonly kind: MemoryStreamKind,
    /** The address connected to. */
    readonly destination: IAddress,
    /** The client factory. */
    readonly factory: IClientFactory,
    /** The TLS options given to `connectSSL`, else `null`. */
    readonly tlsOptions: TLSContextOptions | null = null,
  ) {}

  /** Starts (again) to connect: calls `doStart` (once) and `startedConnecting`. */
  connect(): void {
    if (this.state !== "disconnected") {
      throw new Error(`Cannot connect: the connector is ${this.state}`);
    }
    this.state = "connecting";
    this.connectAttempts++;
    this.stoppedConnecting = false;
    this.disconnected = false;
    this.transport = null;
    this.protocol = null;
    if (!this.factoryStarted) {
      this.factoryStarted = true;
      this.factory.doStart();
    }
    this.factory.startedConnecting?.(this);
  }

  /**
   * Gives up connecting: the factory's `clientConnectionFailed` gets a
   * `ConnectingCancelledError`. Raises `NotConnectingError` unless connecting.
   */
  stopConnecting(): void {
    if (this.state !== "connecting") throw new NotConnectingError();
    this.stoppedConnecting = true;
    this.failConnection(new ConnectingCancelledError(this.destination));
  }

  /**
   * Stops connecting, or, when connected, sets `disconnected` and calls the transport's
   * `loseConnection()` (a `StringTransport` only records it: finish with `connectionLost()`).
   */
  disconnect(): void {
    if (this.state === "connecting") {
      this.stopConnecting();
    } else if (this.state === "connected") {
      this.disconnected = true;
      this.transport?.loseConnection();
    }
  }

  getDestination(): IAddress {
    return this.destination;
  }

  /**
   * Completes the pending connection: builds the protocol with `factory.buildProtocol` and
   * connects it to `transport` (default: a new `StringTransport` to the destination; marked
   * as TLS for `connectSSL`). Returns the protocol, or `null` when the factory refused (then
   * the transport is told to lose the connection). Raises unless connecting.
   */
  completeConnection<P extends IProtocol = IProtocol>(transport?: StringTransport): P | null {
    if (this.state !== "connecting") {
      throw new Error(`Cannot complete the connection: the connector is ${this.state}`);
    }
    const tr = transport ?? new StringTransport(clientHostFor(this.destination), this.destination);
    if (this.kind === "ssl" && !tr.TLS) {
      tr.TLS = true;
      tr.tlsOptions = this.tlsOptions;
    }
    this.state = "connected";
    this.transport = tr;
    const built = this.factory.buildProtocol(this.destination) as P | null;
    // As a real client transport does, a refused connection gets a do-nothing protocol.
    const protocol = built ?? new Protocol();
    this.protocol = protocol;
    protocol.makeConnection(tr);
    if (built === null) tr.loseConnection();
    return built;
  }

  /**
   * Fails the pending connection: the factory's `clientConnectionFailed` gets `reason`
   * (default `ConnectionRefusedError`), then `doStop` unless the factory reconnected.
   * Raises unless connecting.
   */
  failConnection(reason: unknown = new ConnectionRefusedError()): void {
    if (this.state !== "connecting") {
      throw new Error(`Cannot fail the connection: the connector is ${this.state}`);
    }
    this.state = "disconnected";
    this.factory.clientConnectionFailed?.(this, asFailure(reason));
    this.stopFactoryUnlessReconnecting();
  }

  /**
   * Ends the live connection: the protocol's `connectionLost` then the factory's
   * `clientConnectionLost` get `reason` (default `ConnectionDone`), then `doStop` unless the
   * factory reconnected. Raises unless connected.
   */
  connectionLost(reason: unknown = new ConnectionDone()): void {
    if (this.state !== "connected") {
      throw new Error(`Cannot lose the connection: the connector is ${this.state}`);
    }
    const failure = asFailure(reason);
    const transport = this.transport;
    if (transport !== null) {
      transport.disconnecting = true;
      transport.disconnected = true;
    }
    this.state = "disconnected";
    this.protocol?.connectionLost(failure);
    this.factory.clientConnectionLost?.(this, failure);
    this.stopFactoryUnlessReconnecting();
  }

  private stopFactoryUnlessReconnecting(): void {
    if (this.state === "disconnected" && this.factoryStarted) {
      this.factoryStarted = false;
      this.factory.doStop();
    }
  }

  toString(): string {
    return `<MemoryConnector ${this.kind} ${String(this.destination)} ${this.state}>`;
  }
}

/**
 * A UDP port returned by `MemoryReactor.listenUDP`: records datagrams written in `written`;
 * `receiveDatagram()` simulates one arriving.
 */
export class MemoryUDPPort implements IListeningPort, IUDPTransport {
  /** Datagrams written: `[bytes, address]` (`null` address: to the connected peer). */
  readonly written: Array<[data: Buffer, addr: readonly [string, number] | null]> = [];
  /** The peer set by `connect()`, or `null`. */
  connectedTo: readonly [string, number] | null = null;
  /** Recorded by `setBroadcastAllowed`. */
  broadcastAllowed = false;
  /** True once `startListening` has run. */
  listening = false;
  /** True once `stopListening` has run. */
  disconnected = false;

  constructor(
    /** The address `getHost()` reports (with the assigned port when 0 was asked for). */
    readonly address: IAddress,
    /** The datagram protocol. */
    readonly protocol: IDatagramProtocol,
    /** The largest datagram `receiveDatagram` accepts. */
    readonly maxPacketSize = 8192,
  ) {}

  /** Connects the protocol to this port (`makeConnection`, which starts it). */
  startListening(): void {
    if (this.listening) return;
    this.listening = true;
    this.protocol.makeConnection(this);
  }

  /** Records `disconnected` and stops the protocol (`doStop`), once. */
  stopListening(): Deferred<void> {
    if (!this.disconnected) {
      this.disconnected = true;
      this.listening = false;
      this.protocol.doStop();
    }
    return succeed(undefined);
  }

  getHost(): IAddress {
    return this.address;
  }

  /**
   * Records a datagram. Without `addr` the port must be connected; with one, it must match the
   * connected peer if any (as with a real port).
   */
  write(packet: Uint8Array | string, addr?: readonly [string, number]): void {
    if (this.disconnected) throw new Error("Cannot write: the port has stopped listening");
    const data = typeof packet === "string" ? Buffer.from(packet, "utf8") : Buffer.from(packet);
    const peer = this.connectedTo;
    if (addr === undefined) {
      if (peer === null) throw new Error("Cannot write: no address given and not connected");
      this.written.push([data, null]);
      return;
    }
    if (peer !== null && (peer[0] !== addr[0] || peer[1] !== addr[1])) {
      throw new Error(`Cannot write to ${addr[0]}:${addr[1]}: connected to ${peer[0]}:${peer[1]}`);
    }
    this.written.push([data, [addr[0], addr[1]]]);
  }

  /** Restricts the port to one peer; raises if already connected. */
  connect(host: string, port: number): void {
    if (this.connectedTo !== null) throw new Error("Cannot connect: the port is already connected");
    this.connectedTo = [host, port];
  }

  setBroadcastAllowed(enabled: boolean): void {
    this.broadcastAllowed = enabled;
  }

  getBroadcastAllowed(): boolean {
    return this.broadcastAllowed;
  }

  /** Simulates a datagram from `addr` arriving: calls `protocol.datagramReceived`. */
  receiveDatagram(data: Uint8Array | string, addr: readonly [string, number]): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    if (bytes.length > this.maxPacketSize) {
      throw new Error(
        `Cannot receive ${bytes.length} bytes: maxPacketSize is ${this.maxPacketSize}`,
      );
    }
    this.protocol.datagramReceived(bytes, addr);
  }

  toString(): string {
    return `<MemoryUDPPort ${String(this.address)}>`;
  }
}
