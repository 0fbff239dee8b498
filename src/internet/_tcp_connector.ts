// Outgoing connections: the StreamConnector base (TCP, Unix, TLS) and TCPConnector.

import type { Socket } from "node:net";
import * as net from "node:net";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { nameOf, TCPTransport } from "./_tcp_transport.js";
import { type IPAddress, ipAddress } from "./address.js";
import {
  ConnectingCancelledError,
  ConnectionLost,
  connectErrorFromNode,
  NotConnectingError,
  TimeoutError,
} from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IClientFactory,
  IConnector,
  IDelayedCall,
  IProtocol,
} from "./interfaces.js";
import { Protocol } from "./protocol.js";

const log = new Logger("twisted-ts.internet.tcp");

const ignore = (): void => {};

/**
 * An outgoing connection attempt and, once connected, its connection (Twisted's `Connector`).
 * `connect()` calls `factory.doStart()` (once), starts connecting and calls
 * `factory.startedConnecting(connector)`. Then either `clientConnectionFailed(connector,
 * reason)` (`ConnectionRefusedError`, `DNSLookupError`, `TimeoutError`,
 * `ConnectingCancelledError`, `SSLError`…) or a protocol from `buildProtocol(peer)` is
 * connected, and `clientConnectionLost(connector, reason)` follows its `connectionLost`.
 * `factory.doStop()` runs when the attempt or connection is over unless the factory called
 * `connector.connect()` again from those callbacks (reconnecting factories do).
 */
export abstract class StreamConnector implements IConnector {
  /** `"disconnected"`, `"connecting"` or `"connected"`. */
  state: "disconnected" | "connecting" | "connected" = "disconnected";
  /** The connection's transport while connected, else `null`. */
  transport: TCPTransport | null = null;
  /** True between the factory's `doStart()` and `doStop()`. */
  factoryStarted = false;
  private socket: Socket | null = null;
  private timeoutCall: IDelayedCall | null = null;
  private tcpConnected = false;

  /**
   * @param timeout - seconds to wait for the connection; a non-finite value waits forever
   */
  constructor(
    readonly reactor: NodeReactor,
    readonly factory: IClientFactory,
    readonly timeout: number,
  ) {}

  /** Starts connecting: returns a socket that will emit `connectEvent` or `'error'`. */
  protected abstract makeSocket(): Socket;
  /** The socket event that means "connected and ready" (TLS connectors wait for the handshake). */
  protected readonly connectEvent: "connect" | "secureConnect" = "connect";
  /** The local and remote addresses of the connected socket. */
  protected abstract addressesOf(socket: Socket): { host: IAddress; peer: IAddress };
  /** The address connected to. */
  abstract getDestination(): IAddress;
  /** Whether connected sockets are TLS sockets that have completed their handshake. */
  protected readonly connectsTLS: boolean = false;
  /** The host name to record on the transport (for a later `startTLS`). */
  protected readonly hostname: string | undefined = undefined;

  /** Turns a socket error before the connection is ready into a `ConnectError`. */
  protected connectError(err: unknown, tcpConnected: boolean): Error {
    return connectErrorFromNode(err);
  }

  /** Starts a connection attempt; raises unless `state` is `"disconnected"`. */
  connect(): void {
    if (this.state !== "disconnected")
      throw new Error(`Cannot connect in this state: ${this.state}`);
    this.state = "connecting";
    if (!this.factoryStarted) {
      this.factory.doStart();
      this.factoryStarted = true;
    }
    let socket: Socket;
    try {
      socket = this.makeSocket();
    } catch (e) {
      // Bad arguments (an invalid port…): the caller's mistake, raised at once.
      this.state = "disconnected";
      this.stopFactory();
      throw e;
    }
    this.socket = socket;
    this.tcpConnected = false;
    socket.once(this.connectEvent, this.onConnect);
    socket.on("error", this.onConnectError);
    if (this.connectEvent !== "connect") socket.once("connect", this.onTCPConnect);
    this.reactor._track(this);
    if (Number.isFinite(this.timeout)) {
      this.timeoutCall = this.reactor.callLater(Math.max(0, this.timeout), this.onTimeout);
    }
    const started = this.factory.startedConnecting;
    if (typeof started === "function") {
      this.callFactory("startedConnecting", () => started.call(this.factory, this));
    }
  }

  private readonly onTCPConnect = (): void => {
    this.tcpConnected = true;
  };

  private readonly onConnect = (): void => {
    const socket = this.socket;
    if (socket === null) return;
    this.release(socket, false);
    const { host, peer } = this.addressesOf(socket);
    const options = { host, peer, isServer: false, tls: this.connectsTLS, onLost: this.onLost };
    const transport = new TCPTransport(
      this.reactor,
      socket,
      this.hostname === undefined ? options : { ...options, hostname: this.hostname },
    );
    this.transport = transport;
    this.state = "connected";
    let protocol: IProtocol | null = null;
    let error: unknown = null;
    try {
      protocol = this.factory.buildProtocol(peer) ?? null;
    } catch (e) {
      error = e;
      log.failure(
        "Unhandled error in buildProtocol of {factory}, closing the connection",
        Failure.from(e),
        undefined,
        {
          factory: nameOf(this.factory),
        },
      );
    }
    if (protocol === null) {
      // As Twisted: a stand-in protocol, and the connection is dropped at once.
      transport._start(new Protocol());
      if (error !== null) {
        transport._abortWith(
          new ConnectionLost(
            `Connection lost: buildProtocol raised: ${Failure.from(error).getErrorMessage()}`,
            {
              cause: error,
            },
          ),
        );
      } else {
        transport.loseConnection();
      }
      return;
    }
    transport._start(protocol);
    if (this.connectsTLS) transport._handshakeDone();
  };

  private readonly onConnectError = (err: Error): void => {
    const socket = this.socket;
    if (socket === null) return;
    this.release(socket, true);
    this.connectionFailed(this.connectError(err, this.tcpConnected));
  };

  private readonly onTimeout = (): void => {
    this.timeoutCall = null;
    const socket = this.socket;
    if (socket === null) return;
    this.release(socket, true);
    this.connectionFailed(new TimeoutError());
  };

  /** Stops listening to a connecting socket; destroys it when the attempt is abandoned. */
  private release(socket: Socket, abandon: boolean): void {
    this.socket = null;
    if (this.timeoutCall?.active()) this.timeoutCall.cancel();
    this.timeoutCall = null;
    this.reactor._untrack(this);
    socket.removeListener(this.connectEvent, this.onConnect);
    socket.removeListener("error", this.onConnectError);
    socket.removeListener("connect", this.onTCPConnect);
    if (abandon) {
      socket.on("error", ignore); // late errors of a socket we gave up on
      socket.destroy();
    }
  }

  private connectionFailed(error: Error): void {
    this.state = "disconnected";
    this.transport = null;
    const failed = this.factory.clientConnectionFailed;
    if (typeof failed === "function") {
      const reason = new Failure(error);
      this.callFactory("clientConnectionFailed", () => failed.call(this.factory, this, reason));
    }
    if (this.state === "disconnected") this.stopFactory();
  }

  private readonly onLost = (reason: Failure): void => {
    this.state = "disconnected";
    this.transport = null;
    const lost = this.factory.clientConnectionLost;
    if (typeof lost === "function") {
      this.callFactory("clientConnectionLost", () => lost.call(this.factory, this, reason));
    }
    if (this.state === "disconnected") this.stopFactory();
  };

  private stopFactory(): void {
    if (!this.factoryStarted) return;
    this.factoryStarted = false;
    this.callFactory("doStop", () => this.factory.doStop());
  }

  private callFactory(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.failure("Unhandled error in {what} of {factory}", Failure.from(e), undefined, {
        what,
        factory: nameOf(this.factory),
      });
    }
  }

  /**
   * Stops the connection attempt: the factory's `clientConnectionFailed` gets
   * `ConnectingCancelledError`. Raises `NotConnectingError` when not connecting.
   */
  stopConnecting(): void {
    const socket = this.socket;
    if (this.state !== "connecting" || socket === null) throw new NotConnectingError();
    this.release(socket, true);
    this.connectionFailed(new ConnectingCancelledError(this.getDestination()));
  }

  /** Stops connecting, or loses the connection once connected. */
  disconnect(): void {
    if (this.state === "connecting") this.stopConnecting();
    else if (this.state === "connected") this.transport?.loseConnection();
  }

  /** Stops a connection attempt for reactor shutdown (connections close themselves). @internal */
  _shutdown(): void {
    if (this.state === "connecting") this.stopConnecting();
  }

  /** `<TCPConnector to address>`. */
  toString(): string {
    return `<${this.constructor.name} to ${this.getDestination()}>`;
  }
}

/** An outgoing TCP connection, as `reactor.connectTCP` returns (IPv4, IPv6 or a host name). */
export class TCPConnector extends StreamConnector {
  protected override readonly hostname: string | undefined;

  constructor(
    reactor: NodeReactor,
    readonly host: string,
    readonly port: number,
    factory: IClientFactory,
    timeout: number,
    readonly bindAddress: readonly [string, number] | undefined,
  ) {
    super(reactor, factory, timeout);
    this.hostname = host;
  }

  protected makeSocket(): Socket {
    return net.connect(this.socketOptions());
  }

  /** The `net.connect` options: host, port, local address, half-close. */
  protected socketOptions(): net.TcpNetConnectOpts {
    const options: net.TcpNetConnectOpts = {
      host: this.host,
      port: this.port,
      allowHalfOpen: true,
    };
    if (this.bindAddress !== undefined) {
      const [localHost, localPort] = this.bindAddress;
      if (localHost !== "") options.localAddress = localHost;
      if (localPort !== 0) options.localPort = localPort;
    }
    return options;
  }

  protected addressesOf(socket: Socket): { host: IAddress; peer: IAddress } {
    return _tcpSocketAddresses(socket);
  }

  /** The address connected to (a host name is kept as given, in an `IPv4Address`). */
  getDestination(): IPAddress {
    return ipAddress("TCP", this.host, this.port);
  }
}

/** The local and remote addresses of a connected TCP socket, as Node reports them. @internal */
export function _tcpSocketAddresses(socket: Socket): { host: IPAddress; peer: IPAddress } {
  return {
    host: ipAddress("TCP", socket.localAddress, socket.localPort, socket.localFamily),
    peer: ipAddress("TCP", socket.remoteAddress, socket.remotePort, socket.remoteFamily),
  };
}
