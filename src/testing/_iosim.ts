// iosim: a client and a server protocol talking through in-memory transports, pumped by hand.

import { IPv4Address } from "../internet/address.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProducer,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
  ITLSTransport,
  TLSContextOptions,
} from "../internet/interfaces.js";
import { Clock } from "../internet/task.js";
import { _toBytes } from "./_string_transport.js";

const SERVER_ADDRESS = new IPv4Address("TCP", "10.0.0.1", 1234);
const CLIENT_ADDRESS = new IPv4Address("TCP", "192.168.1.1", 4321);

let nextSerial = 1;

/** Options of a `FakeTransport`. */
export interface FakeTransportOptions {
  /** What `getHost()` returns (default: a fake IPv4 address of the side). */
  hostAddress?: IAddress;
  /** What `getPeer()` returns (default: a fake IPv4 address of the other side). */
  peerAddress?: IAddress;
  /**
   * Pending output, in bytes, above which a registered streaming producer is paused (it is
   * resumed once the pump has moved the bytes). Default: never pause, as in Twisted.
   */
  bufferSize?: number;
}

/**
 * One side of an in-memory connection made by `connect()`/`connectedServerAndClient()`: it
 * buffers what its protocol writes until an `IOPump` moves it to the other side. It honours
 * `loseConnection` (after pending output), `abortConnection` (at once, discarding output),
 * `loseWriteConnection` (half-close), producers (pull producers are asked for data at each
 * pump), `pauseProducing` (incoming bytes wait) and `startTLS` (recorded; no encryption, the
 * handshake "completes" once both sides have started TLS).
 */
export class FakeTransport implements ITLSTransport {
  /** A number identifying this transport in debug output. */
  readonly serial = nextSerial++;
  /** The protocol this transport delivers to. */
  readonly protocol: IProtocol;
  /** True for the server side of the connection. */
  readonly isServer: boolean;
  hostAddress: IAddress;
  peerAddress: IAddress;
  /** Streaming producers are paused when more than this many bytes are pending. */
  bufferSize: number;
  disconnecting = false;
  disconnected = false;
  /** Set by `abortConnection()`. */
  aborted = false;
  /** Set by `loseWriteConnection()`; output ends once pending bytes have moved. */
  writeDisconnecting = false;
  /** True once the half-close has reached the peer. */
  writeDisconnected = false;
  /** What this side's `connectionLost` will get (`ConnectionDone` unless aborted or reset). */
  disconnectReason: Error = new ConnectionDone();
  producer: IProducer | null = null;
  /** Whether the registered producer is a streaming (push) one. */
  streamingProducer = false;
  /** True while this transport has paused its streaming producer (pending output is full). */
  producerPaused = false;
  /** True between this transport's `pauseProducing` and `resumeProducing`: input waits. */
  readPaused = false;
  TLS = false;
  tlsOptions: TLSContextOptions | null = null;
  /** True once the simulated handshake completed. */
  handshakeDone = false;
  negotiatedProtocol: string | null = null;
  peerCertificate: unknown = null;
  tcpNoDelay = false;
  tcpKeepAlive = false;
  private stream: Buffer[] = [];
  private pending = 0;

  constructor(protocol: IProtocol, isServer: boolean, options: FakeTransportOptions = {}) {
    this.protocol = protocol;
    this.isServer = isServer;
    this.hostAddress = options.hostAddress ?? (isServer ? SERVER_ADDRESS : CLIENT_ADDRESS);
    this.peerAddress = options.peerAddress ?? (isServer ? CLIENT_ADDRESS : SERVER_ADDRESS);
    this.bufferSize = options.bufferSize ?? Number.POSITIVE_INFINITY;
  }

  /** Queues bytes for the peer; dropped once the connection (or its write side) is closed. */
  write(data: Uint8Array | string): void {
    const bytes = _toBytes(data);
    if (this.disconnected || this.aborted || this.writeDisconnected) return;
    if (bytes.length === 0) return;
    this.stream.push(bytes);
    this.pending += bytes.length;
    const producer = this.producer;
    if (this.streamingProducer && producer !== null && !this.producerPaused) {
      if (this.pending > this.bufferSize) {
        this.producerPaused = true;
        (producer as IPushProducer).pauseProducing();
      }
    }
  }

  writeSequence(data: readonly (Uint8Array | string)[]): void {
    for (const chunk of data) this.write(chunk);
  }

  /** Closes once pending output has moved (and a pull producer has unregistered). */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Closes at the next pump, discarding pending output; the peer sees `ConnectionLost`. */
  abortConnection(): void {
    this.aborted = true;
    this.disconnecting = true;
    this.disconnectReason = new ConnectionAborted();
    this.stream = [];
    this.pending = 0;
  }

  /** Sends EOF once pending output has moved; this side keeps reading. */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
  }

  getPeer(): IAddress {
    return this.peerAddress;
  }

  getHost(): IAddress {
    return this.hostAddress;
  }

  /** Registers a producer; a pull producer is asked for data at once and at each pump. */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register a producer: one is already registered");
    }
    if (this.disconnected) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streamingProducer = streaming;
    this.producerPaused = false;
    if (!streaming) (producer as IPullProducer).resumeProducing();
  }

  unregisterProducer(): void {
    this.producer = null;
    this.streamingProducer = false;
    this.producerPaused = false;
  }

  /** Stops delivering incoming bytes to the protocol until `resumeProducing`. */
  pauseProducing(): void {
    this.readPaused = true;
  }

  resumeProducing(): void {
    this.readPaused = false;
  }

  /** The consumer of this transport's input has gone for good: loses the connection. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** Records the upgrade; the handshake completes at a pump once both sides started TLS. */
  startTLS(options: TLSContextOptions): void {
    if (this.TLS) throw new Error("Cannot start TLS: the transport already speaks TLS");
    this.TLS = true;
    this.tlsOptions = options;
  }

  getPeerCertificate(): unknown {
    return this.peerCertificate;
  }

  getTcpNoDelay(): boolean {
    return this.tcpNoDelay;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  getTcpKeepAlive(): boolean {
    return this.tcpKeepAlive;
  }

  setTcpKeepAlive(enabled: boolean): void {
    this.tcpKeepAlive = enabled;
  }

  /** True when output is waiting to be pumped. */
  hasPendingOutput(): boolean {
    return this.pending > 0;
  }

  /** Takes the pending output (empty if none), resuming a producer paused for it. */
  getOutBuffer(): Buffer {
    const out =
      this.stream.length === 1 ? this.stream[0]! : Buffer.concat(this.stream, this.pending);
    this.stream = [];
    this.pending = 0;
    if (this.producerPaused && this.producer !== null) {
      this.producerPaused = false;
      (this.producer as IPullProducer).resumeProducing();
    }
    return out;
  }

  /** Delivers bytes from the peer to the protocol (unless this side is closing). */
  bufferReceived(data: Buffer): void {
    if (this.disconnecting || this.disconnected) return;
    this.protocol.dataReceived(data);
  }

  /** @internal asks a pull producer for more data */
  _checkProducer(): void {
    if (this.producer !== null && !this.streamingProducer) {
      (this.producer as IPullProducer).resumeProducing();
    }
  }

  /** @internal marks the connection closed and calls `connectionLost` with `reason` */
  _reportDisconnect(reason: Error): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.disconnecting = true;
    this.stream = [];
    this.pending = 0;
    const producer = this.producer;
    if (producer !== null) {
      // Real transports stop their producer when the connection goes away.
      this.unregisterProducer();
      producer.stopProducing();
    }
    this.protocol.connectionLost(new Failure(reason));
  }

  toString(): string {
    return `<FakeTransport #${this.serial} ${this.isServer ? "server" : "client"}>`;
  }
}

/** A `FakeTransport` for the server side of a connection. */
export function makeFakeServer(protocol: IProtocol, options?: FakeTransportOptions): FakeTransport {
  return new FakeTransport(protocol, true, options);
}

/** A `FakeTransport` for the client side of a connection. */
export function makeFakeClient(protocol: IProtocol, options?: FakeTransportOptions): FakeTransport {
  return new FakeTransport(protocol, false, options);
}

type HalfCloseable = Partial<IHalfCloseableProtocol> & Partial<IHandshakeListener>;

/**
 * Moves bytes between a client and a server `FakeTransport`. `pump()` moves what is pending
 * once each way; `flush()` pumps until nothing moves. A pump first runs the calls due now on
 * `clock` (`advance(0)`).
 */
export class IOPump {
  /** `flush()` gives up (raising) after this many pumps that moved something. */
  maxIterations = 1000;

  constructor(
    readonly client: IProtocol,
    readonly server: IProtocol,
    readonly clientIO: FakeTransport,
    readonly serverIO: FakeTransport,
    /** Prints what moves to stdout. */
    readonly debug = false,
    /** Advanced by 0 at each pump, so that `callLater(0, …)` calls run. */
    readonly clock: Clock = new Clock(),
  ) {}

  /**
   * Pumps until nothing moves. Returns whether anything moved. Raises if the protocols are
   * still talking after `maxIterations` pumps.
   */
  flush(debug = false, advanceClock = true): boolean {
    let moved = false;
    for (let i = 0; i < this.maxIterations; i++) {
      if (!this.pump(debug, advanceClock)) return moved;
      moved = true;
    }
    throw new Error(`Cannot flush: still moving data after ${this.maxIterations} pumps`);
  }

  /**
   * Moves pending bytes once each way; when none are pending, carries out one half-close or
   * close. Returns whether anything moved.
   */
  pump(debug = false, advanceClock = true): boolean {
    const say = this.debug || debug ? (line: string) => process.stdout.write(`${line}\n`) : null;
    say?.("-- GLUG --");
    if (advanceClock) this.clock.advance(0);
    const c = this.clientIO;
    const s = this.serverIO;
    c._checkProducer();
    s._checkProducer();
    const cData = s.readPaused ? null : c.getOutBuffer();
    const sData = c.readPaused ? null : s.getOutBuffer();
    if (cData !== null && cData.length > 0) {
      say?.(`C: ${JSON.stringify(cData.toString("latin1"))}`);
      s.bufferReceived(cData);
    }
    if (sData !== null && sData.length > 0) {
      say?.(`S: ${JSON.stringify(sData.toString("latin1"))}`);
      c.bufferReceived(sData);
    }
    if ((cData?.length ?? 0) > 0 || (sData?.length ?? 0) > 0) return true;
    if (this.completeHandshake()) return true;
    return (
      this.halfClose(s, c, say) ||
      this.halfClose(c, s, say) ||
      this.close(s, c, say) ||
      this.close(c, s, say)
    );
  }

  private completeHandshake(): boolean {
    const c = this.clientIO;
    const s = this.serverIO;
    if (!(c.TLS && s.TLS) || c.handshakeDone || c.disconnected || s.disconnected) return false;
    c.handshakeDone = true;
    s.handshakeDone = true;
    (s.protocol as HalfCloseable).handshakeCompleted?.();
    (c.protocol as HalfCloseable).handshakeCompleted?.();
    return true;
  }

  private halfClose(
    io: FakeTransport,
    peer: FakeTransport,
    say: ((line: string) => void) | null,
  ): boolean {
    if (!io.writeDisconnecting || io.writeDisconnected || io.disconnected) return false;
    if (io.hasPendingOutput()) return false;
    say?.(`* ${io.isServer ? "S" : "C"} half-closed`);
    io.writeDisconnected = true;
    const proto = io.protocol as HalfCloseable;
    const peerProto = peer.protocol as HalfCloseable;
    proto.writeConnectionLost?.();
    if (typeof peerProto.readConnectionLost === "function" && !peer.disconnected) {
      peerProto.readConnectionLost();
    } else {
      // A protocol that cannot half-close treats EOF as the end of the connection.
      peer.loseConnection();
    }
    if (peer.writeDisconnected) io.loseConnection();
    return true;
  }

  private close(
    io: FakeTransport,
    peer: FakeTransport,
    say: ((line: string) => void) | null,
  ): boolean {
    if (!io.disconnecting || io.disconnected) return false;
    if (!io.aborted && (io.hasPendingOutput() || (io.producer !== null && !io.streamingProducer))) {
      return false;
    }
    say?.(`* ${io.isServer ? "S" : "C"} closed`);
    const peerReason = io.aborted ? new ConnectionLost() : new ConnectionDone();
    peer._reportDisconnect(peerReason);
    io._reportDisconnect(io.disconnectReason);
    return true;
  }
}

/**
 * Connects a server and a client protocol through their transports (`makeConnection`, server
 * first) and returns the pump. With `greet`, flushes once so that what the protocols say in
 * `connectionMade` is exchanged.
 */
export function connect(
  serverProtocol: IProtocol,
  serverTransport: FakeTransport,
  clientProtocol: IProtocol,
  clientTransport: FakeTransport,
  debug = false,
  greet = true,
  clock: Clock = new Clock(),
): IOPump {
  serverProtocol.makeConnection(serverTransport);
  clientProtocol.makeConnection(clientTransport);
  const pump = new IOPump(
    clientProtocol,
    serverProtocol,
    clientTransport,
    serverTransport,
    debug,
    clock,
  );
  if (greet) pump.flush();
  return pump;
}

/** What makes a protocol: its class, a function returning one, or a protocol factory. */
export type ProtocolSource<P extends IProtocol> = (new () => P) | (() => P) | IProtocolFactory;

function isClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function buildFrom<P extends IProtocol>(
  source: ProtocolSource<P>,
  addr: IAddress,
  side: string,
): P {
  if (typeof source !== "function") {
    const p = source.buildProtocol(addr);
    if (p === null) throw new Error(`Cannot connect: the ${side} factory refused the connection`);
    return p as P;
  }
  return isClass(source) ? new (source as new () => P)() : (source as () => P)();
}

/** Options of `connectedServerAndClient`. */
export interface ConnectedServerAndClientOptions {
  /** Flush once after connecting, so that greetings are exchanged (default true). */
  greet?: boolean;
  /** The clock the pump advances by 0 at each pump (default: a new `Clock`). */
  clock?: Clock;
  /** Print what moves (default false). */
  debug?: boolean;
  /** Options of the server's transport (addresses, buffer size). */
  serverTransport?: FakeTransportOptions;
  /** Options of the client's transport (addresses, buffer size). */
  clientTransport?: FakeTransportOptions;
}

/**
 * Makes a server and a client protocol (each from a class, a function, or a protocol factory),
 * connects them in memory and returns `[client, server, pump]` (Twisted's order). Pump with
 * `pump.flush()` after each action; a `loseConnection()` on either side reaches both
 * protocols' `connectionLost` (with `ConnectionDone`) at the next flush.
 *
 * @example
 * ```ts
 * const [client, server, pump] = connectedServerAndClient(EchoServer, AccumulatingProtocol);
 * client.transport!.write("hello");
 * pump.flush();
 * assert.equal(client.data.toString(), "hello");
 * ```
 */
export function connectedServerAndClient<S extends IProtocol, C extends IProtocol>(
  server: ProtocolSource<S>,
  client: ProtocolSource<C>,
  options: ConnectedServerAndClientOptions = {},
): [client: C, server: S, pump: IOPump] {
  const serverOpts = options.serverTransport ?? {};
  const clientOpts = options.clientTransport ?? {};
  const serverHost = serverOpts.hostAddress ?? clientOpts.peerAddress ?? SERVER_ADDRESS;
  const clientHost = clientOpts.hostAddress ?? serverOpts.peerAddress ?? CLIENT_ADDRESS;
  const s = buildFrom(server, clientHost, "server");
  const c = buildFrom(client, serverHost, "client");
  const sIO = makeFakeServer(s, {
    hostAddress: serverHost,
    peerAddress: clientHost,
    ...serverOpts,
  });
  const cIO = makeFakeClient(c, {
    hostAddress: clientHost,
    peerAddress: serverHost,
    ...clientOpts,
  });
  const pump = connect(
    s,
    sIO,
    c,
    cIO,
    options.debug ?? false,
    options.greet ?? true,
    options.clock,
  );
  return [c, s, pump];
}
