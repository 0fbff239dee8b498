// Interfaces of twisted-ts/internet, with Twisted's names (twisted.internet.interfaces).

import type { Failure } from "./failure.js";

/** Anything that can be waited on like Twisted's Deferred (Deferreds, Promises). */
export interface Thenable<T> extends PromiseLike<T> {}

// Addresses ------------------------------------------------------------------------------------

/** An address of an endpoint of a connection: IPv4/IPv6 with host and port, or a Unix path. */
export interface IAddress {
  /** `"TCP"`, `"UDP"` for IP addresses; absent for Unix addresses. */
  readonly type?: "TCP" | "UDP";
  /** A readable form, e.g. `IPv4Address(type='TCP', host='127.0.0.1', port=8080)`. */
  toString(): string;
}

// Time -----------------------------------------------------------------------------------------

/** A call scheduled with `callLater`. */
export interface IDelayedCall {
  /** When the call will run, in seconds on the reactor's clock. */
  getTime(): number;
  /** Cancels the call; raises `AlreadyCalled`/`AlreadyCancelled` if too late. */
  cancel(): void;
  /** Delays the call by `secondsLater` more seconds. */
  delay(secondsLater: number): void;
  /** Reschedules the call to run `secondsFromNow` seconds from now. */
  reset(secondsFromNow: number): void;
  /** True until the call has run or been cancelled. */
  active(): boolean;
}

/** Time-based scheduling: the reactor's clock, in seconds. */
export interface IReactorTime {
  /** The current time in seconds (fractional). */
  seconds(): number;
  /** Runs `callable(...args)` after `delay` seconds. */
  callLater<A extends any[]>(
    delay: number,
    callable: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  /** The calls that are scheduled and not yet run or cancelled. */
  getDelayedCalls(): IDelayedCall[];
}

// Core -----------------------------------------------------------------------------------------

/** A system event trigger phase. */
export type TriggerPhase = "before" | "during" | "after";

/** Starting and stopping a reactor, and the system events around that. */
export interface IReactorCore {
  /** True while the reactor is running. */
  readonly running: boolean;
  /** Starts the reactor; the Promise settles once it has stopped. */
  run(): Promise<void>;
  /** Stops the reactor; raises `ReactorNotRunning` if it is not running. */
  stop(): void;
  /** Runs `callable(...args)` once the reactor is running (at once if it already is). */
  callWhenRunning<A extends any[]>(callable: (...args: A) => unknown, ...args: A): unknown;
  /**
   * Adds a trigger for a system event (`"startup"`, `"shutdown"`). A trigger that returns a
   * Deferred or Promise is waited for before the next phase. Returns an id for removal.
   */
  addSystemEventTrigger(
    phase: TriggerPhase,
    eventType: string,
    callable: (...args: any[]) => unknown,
    ...args: unknown[]
  ): unknown;
  /** Removes a trigger added with `addSystemEventTrigger`. */
  removeSystemEventTrigger(triggerID: unknown): void;
  /** Fires the triggers of `eventType`, phase by phase. */
  fireSystemEvent(eventType: string): void;
  /** Resolves a host name to one IP address (as a Deferred of a string). */
  resolve(name: string, timeout?: number[]): PromiseLike<string>;
}

// Producers and consumers ------------------------------------------------------------------------

/** Something that produces data for a consumer. */
export interface IProducer {
  /** Stops producing for good. */
  stopProducing(): void;
}

/** A producer that writes on its own until paused. */
export interface IPushProducer extends IProducer {
  /** Stops producing until `resumeProducing` is called. */
  pauseProducing(): void;
  /** Resumes producing after `pauseProducing`. */
  resumeProducing(): void;
}

/** A producer that writes one chunk each time it is asked. */
export interface IPullProducer extends IProducer {
  /** Produces (writes to its consumer) one chunk of data. */
  resumeProducing(): void;
}

/** Something that data can be written to, with flow control through a registered producer. */
export interface IConsumer {
  /**
   * Registers a producer. A streaming (push) producer is paused when the consumer's buffer is
   * full and resumed when it drains; a pull producer is asked for data whenever the consumer
   * wants more.
   */
  registerProducer(producer: IProducer, streaming: boolean): void;
  /** Unregisters the current producer. */
  unregisterProducer(): void;
  /** Writes bytes (or a string, as UTF-8). */
  write(data: Uint8Array | string): void;
}

// Transports -----------------------------------------------------------------------------------

/** A connection between two endpoints: what a protocol writes to. */
export interface ITransport {
  /** Writes bytes (or a string, encoded as UTF-8), in order, without blocking. */
  write(data: Uint8Array | string): void;
  /** Writes several chunks at once. */
  writeSequence(data: readonly (Uint8Array | string)[]): void;
  /** Writes all pending data, then closes the connection. */
  loseConnection(): void;
  /** The address of the other side. */
  getPeer(): IAddress;
  /** The address of this side. */
  getHost(): IAddress;
}

/** A TCP (or Unix, or TLS) connection: a consumer and push producer with half-close. */
export interface ITCPTransport extends ITransport, IConsumer, IPushProducer {
  /** Closes at once, discarding pending writes. */
  abortConnection(): void;
  /** Half-closes: sends EOF after pending writes, but keeps reading. */
  loseWriteConnection(): void;
  /** True once `loseConnection` or `abortConnection` has been called. */
  readonly disconnecting: boolean;
  /** True once the connection is closed. */
  readonly disconnected: boolean;
  getTcpNoDelay(): boolean;
  setTcpNoDelay(enabled: boolean): void;
  getTcpKeepAlive(): boolean;
  setTcpKeepAlive(enabled: boolean): void;
}

/** Options for a TLS upgrade of a live connection (`startTLS`). */
export interface TLSContextOptions {
  /** Client or server side of the handshake. Defaults to the side that made the connection. */
  isServer?: boolean;
  /** PEM key (server, or client certificate). */
  key?: string | Buffer;
  /** PEM certificate chain. */
  cert?: string | Buffer;
  /** Trust roots; defaults to the system roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the peer (default true for clients, false for servers). */
  rejectUnauthorized?: boolean;
  /** Servers: ask the client for a certificate. */
  requestCert?: boolean;
  /** Clients: the name sent with SNI and checked against the certificate. */
  servername?: string;
  /** ALPN protocols offered, in order of preference. */
  ALPNProtocols?: string[];
  /** Minimum TLS version, e.g. `"TLSv1.2"`. */
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
  /** Any other `node:tls` option. */
  [option: string]: unknown;
}

/** A connection that can switch to TLS while live (STARTTLS). */
export interface ITLSTransport extends ITCPTransport {
  /**
   * Upgrades the connection to TLS. Data written before the call is sent in clear; data written
   * after it is encrypted. The protocol's `handshakeCompleted` (if any) runs when done.
   */
  startTLS(options: TLSContextOptions): void;
  /** True once the connection speaks TLS. */
  readonly TLS: boolean;
  /** The ALPN protocol the handshake settled on, or `null`. */
  readonly negotiatedProtocol: string | null;
  /** The peer's certificate (as Node gives it), or `null`. */
  getPeerCertificate(): unknown;
  /** The TLS session (to resume it on another connection), or `undefined`. */
  getSession?(): Buffer | undefined;
}

/** A UDP port: sends datagrams, and can be "connected" to one peer. */
export interface IUDPTransport {
  /** Sends a datagram to `addr` (`[host, port]`), or to the connected peer. */
  write(packet: Uint8Array | string, addr?: readonly [string, number]): void;
  /** Restricts the port to one peer. */
  connect(host: string, port: number): void;
  /** The local address. */
  getHost(): IAddress;
  /** Stops listening. */
  stopListening(): PromiseLike<void>;
  /** Sets whether datagrams may go to broadcast addresses. */
  setBroadcastAllowed(enabled: boolean): void;
  getBroadcastAllowed(): boolean;
}

/** A UDP port joined to multicast groups. */
export interface IMulticastTransport extends IUDPTransport {
  joinGroup(addr: string, iface?: string): PromiseLike<void>;
  leaveGroup(addr: string, iface?: string): PromiseLike<void>;
  getOutgoingInterface(): string;
  setOutgoingInterface(addr: string): PromiseLike<void>;
  getLoopbackMode(): boolean;
  setLoopbackMode(mode: boolean): void;
  getTTL(): number;
  setTTL(ttl: number): void;
}

/** A child process, as seen by its `ProcessProtocol`. */
export interface IProcessTransport extends ITransport {
  /** The process id, or `null` once it has ended. */
  readonly pid: number | null;
  /** Closes the child's standard input. */
  closeStdin(): void;
  closeStdout(): void;
  closeStderr(): void;
  /** Closes a child file descriptor (0, 1, 2). */
  closeChildFD(fd: number): void;
  /** Writes to a child file descriptor (0 is stdin). */
  writeToChild(fd: number, data: Uint8Array | string): void;
  /** Sends a signal: `"TERM"`, `"KILL"`, `"INT"`, … (or `"SIGTERM"`). */
  signalProcess(signal: string | number): void;
}

// Protocols ------------------------------------------------------------------------------------

/** A stream protocol: events of a connection. */
export interface IProtocol {
  /** Attaches the transport and calls `connectionMade`. */
  makeConnection(transport: ITransport): void;
  /** The connection is ready: the transport is set. */
  connectionMade(): void;
  /** Bytes arrived (any split of the stream: one byte at a time must work too). */
  dataReceived(data: Buffer): void;
  /** The connection is gone: `ConnectionDone` if clean, `ConnectionLost` otherwise. */
  connectionLost(reason: Failure): void;
}

/** A protocol that wants to know when the peer has half-closed (sent EOF). */
export interface IHalfCloseableProtocol {
  /** The peer will send no more data; we may still write. */
  readConnectionLost(): void;
  /** Our side was half-closed (after `loseWriteConnection`). */
  writeConnectionLost(): void;
}

/** A protocol that wants to know when a TLS handshake has completed. */
export interface IHandshakeListener {
  handshakeCompleted(): void;
}

/** Makes protocols for new connections. */
export interface IProtocolFactory {
  /** Returns a protocol for a connection from/to `addr`, or `null` to refuse it. */
  buildProtocol(addr: IAddress): IProtocol | null;
  /** Called when the factory starts being used by a port or connector. */
  doStart(): void;
  /** Called when no port or connector uses the factory any more. */
  doStop(): void;
}

/** Events of a connecting client (Twisted's `ClientFactory` methods). */
export interface IClientFactoryEvents {
  startedConnecting?(connector: IConnector): void;
  clientConnectionFailed?(connector: IConnector, reason: Failure): void;
  clientConnectionLost?(connector: IConnector, reason: Failure): void;
}

/** A client factory: a factory with connection events. */
export interface IClientFactory extends IProtocolFactory, IClientFactoryEvents {}

/** A datagram protocol (UDP). */
export interface IDatagramProtocol {
  makeConnection(transport: IUDPTransport): void;
  datagramReceived(data: Buffer, addr: readonly [string, number]): void;
  connectionRefused(): void;
  doStop(): void;
}

/** A process protocol (events of a child process). */
export interface IProcessProtocol {
  makeConnection(process: IProcessTransport): void;
  childDataReceived(childFD: number, data: Buffer): void;
  childConnectionLost(childFD: number): void;
  processExited(reason: Failure): void;
  processEnded(reason: Failure): void;
}

// Ports and connectors ---------------------------------------------------------------------------

/** A listening port. */
export interface IListeningPort {
  /** Starts listening (done already by `listenTCP` and friends). */
  startListening(): void;
  /** Stops listening; the result fires once the port is closed. */
  stopListening(): PromiseLike<void>;
  /** The address listened on (with the real port when 0 was asked for). */
  getHost(): IAddress;
}

/** An outgoing connection attempt and its connection, as returned by `connectTCP`. */
export interface IConnector {
  /** Stops the connection attempt (or disconnects once connected). */
  stopConnecting(): void;
  /** Disconnects, or stops connecting. */
  disconnect(): void;
  /** Tries again (used by `ReconnectingClientFactory`). */
  connect(): void;
  /** The address connected to. */
  getDestination(): IAddress;
  /** `"disconnected" | "connecting" | "connected"`. */
  readonly state: "disconnected" | "connecting" | "connected";
  /** The live transport while connected. */
  readonly transport: ITransport | null;
}

// Reactor interfaces -----------------------------------------------------------------------------

/** TCP ports and connections. */
export interface IReactorTCP {
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    backlog?: number,
    iface?: string,
  ): IListeningPort;
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    timeout?: number,
    bindAddress?: readonly [string, number],
  ): IConnector;
}

/** Server TLS options as `listenSSL` takes them. */
export interface ServerTLSOptions extends TLSContextOptions {
  key: string | Buffer;
  cert: string | Buffer;
}

/** TLS ports and connections. */
export interface IReactorSSL {
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: ServerTLSOptions,
    backlog?: number,
    iface?: string,
  ): IListeningPort;
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    contextFactory?: TLSContextOptions,
    timeout?: number,
    bindAddress?: readonly [string, number],
  ): IConnector;
}

/** Unix socket ports and connections. */
export interface IReactorUNIX {
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    backlog?: number,
    mode?: number,
  ): IListeningPort;
  connectUNIX(address: string, factory: IClientFactory, timeout?: number): IConnector;
}

/** UDP ports. */
export interface IReactorUDP {
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    iface?: string,
    maxPacketSize?: number,
  ): IListeningPort & IUDPTransport;
}

/** Multicast UDP ports. */
export interface IReactorMulticast {
  listenMulticast(
    port: number,
    protocol: IDatagramProtocol,
    iface?: string,
    maxPacketSize?: number,
    listenMultiple?: boolean,
  ): IListeningPort & IMulticastTransport;
}

/** Options of `spawnProcess`. */
export interface SpawnProcessOptions {
  /** Environment of the child (default: none, as in Twisted; pass `process.env` to inherit). */
  env?: Record<string, string | undefined>;
  /** Working directory. */
  path?: string;
  /** Run through a pseudo-terminal: not supported on Node without native modules. */
  usePTY?: boolean;
  /** Map of child fd → `"r"` (we read), `"w"` (we write), or a parent fd to pass through. */
  childFDs?: Record<number, "r" | "w" | number>;
  uid?: number;
  gid?: number;
}

/** Child processes. */
export interface IReactorProcess {
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args?: readonly string[],
    options?: SpawnProcessOptions,
  ): IProcessTransport;
}
