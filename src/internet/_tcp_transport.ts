// TCPTransport: the stream transport of TCP, Unix and TLS connections, over a node:net Socket.

import type { Socket } from "node:net";
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type TLSSocket,
} from "node:tls";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { _upgradeToTLS } from "./_tcp_starttls.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProducer,
  IProtocol,
  IPushProducer,
  ITLSTransport,
  TLSContextOptions,
} from "./interfaces.js";

const log = new Logger("twisted-ts.internet.tcp");

const EMPTY = Buffer.alloc(0);

/** What a port or connector tells a new transport about its connection. */
export interface TCPTransportOptions {
  /** The local address (`getHost()`). */
  host: IAddress;
  /** The remote address (`getPeer()`). */
  peer: IAddress;
  /** True on the accepting side: the default side of a `startTLS` handshake. */
  isServer: boolean;
  /** True when the socket is a `TLSSocket` that has completed its handshake already. */
  tls?: boolean;
  /** The host name that was connected to (clients): the default TLS server name. */
  hostname?: string;
  /** Called after the protocol's `connectionLost` (connectors report `clientConnectionLost`). */
  onLost?: (reason: Failure) => void;
}

/** How long reactor shutdown lets a connection flush its pending writes before aborting it. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * A connected stream socket as a Twisted transport: TCP, Unix or TLS. Bytes from the socket go
 * to `protocol.dataReceived` as Node delivers them (no copy); `write` goes straight to the
 * socket. The transport is a consumer (register a producer for flow control) and a push
 * producer (pause it to stop reading). `connectionLost` runs exactly once, with
 * `ConnectionDone` after a clean close by either side, `ConnectionAborted` after
 * `abortConnection()`, and `ConnectionLost` (the Node error as `cause`) otherwise.
 *
 * Ports and connectors make transports; protocols only see them as `this.transport`.
 *
 * @example
 * ```ts
 * class Upper extends Protocol {
 *   override dataReceived(data: Buffer) {
 *     this.transport!.write(data.toString("latin1").toUpperCase());
 *   }
 * }
 * ```
 */
export class TCPTransport implements ITLSTransport {
  /** The socket: a `net.Socket`, or a `tls.TLSSocket` once TLS is on. */
  socket: Socket;
  /** The protocol fed by this transport (set when the connection is made). */
  protocol: IProtocol | null = null;
  /** True from the moment the protocol is attached until the connection is closed. */
  connected = false;
  /** True once `loseConnection` or `abortConnection` has been called (or the peer closed). */
  disconnecting = false;
  /** True once the connection is closed and `connectionLost` has run. */
  disconnected = false;
  /** The registered producer, if any. */
  producer: IProducer | null = null;
  /** Whether the registered producer is a push (streaming) producer. */
  streamingProducer = false;
  /** True while a streaming producer is paused because the socket's buffer is full. */
  producerPaused = false;

  private readonly host: IAddress;
  private readonly peer: IAddress;
  private readonly isServer: boolean;
  private readonly hostname: string | undefined;
  private readonly onLost: ((reason: Failure) => void) | undefined;
  private readPaused = false;
  /** `socket.end()` was called (or is due once TLS is set up): no more writes. */
  private writeShutdown = false;
  /** `loseWriteConnection()` was called. */
  private writeDisconnecting = false;
  /** Why the connection is going down uncleanly, if it is. */
  private reason: Failure | null = null;
  private pullScheduled: NodeJS.Immediate | null = null;
  private tlsOn: boolean;
  /** Writes made after `startTLS` while the clear-text buffer flushes; `null` otherwise. */
  private tlsPending: (Uint8Array | string)[] | null = null;
  private noDelay = false;
  private keepAlive = false;

  /**
   * Wraps a connected `socket` (made with `allowHalfOpen: true`). The transport starts feeding a
   * protocol once `_start` is called.
   */
  constructor(
    readonly reactor: NodeReactor,
    socket: Socket,
    options: TCPTransportOptions,
  ) {
    this.socket = socket;
    this.host = options.host;
    this.peer = options.peer;
    this.isServer = options.isServer;
    this.hostname = options.hostname;
    this.onLost = options.onLost;
    this.tlsOn = options.tls ?? false;
  }

  // Lifecycle ----------------------------------------------------------------------------------

  /**
   * Attaches `protocol`, starts reading and calls `protocol.makeConnection(this)`. An exception
   * from `connectionMade` is logged and drops the connection.
   * @internal
   */
  _start(protocol: IProtocol): void {
    this.protocol = protocol;
    this.connected = true;
    this.attach(this.socket);
    this.reactor._track(this);
    try {
      protocol.makeConnection(this);
    } catch (e) {
      this.protocolFailed("connectionMade", e);
    }
  }

  /** Tells an `IHandshakeListener` protocol that the TLS handshake is done. @internal */
  _handshakeDone(): void {
    const p = this.protocol as Partial<IHandshakeListener> | null;
    if (this.disconnected || this.socket.destroyed) return;
    if (typeof p?.handshakeCompleted !== "function") return;
    try {
      p.handshakeCompleted();
    } catch (e) {
      this.protocolFailed("handshakeCompleted", e);
    }
  }

  /**
   * Closes the connection for reactor shutdown: pending data gets `SHUTDOWN_GRACE_MS` to be
   * written, then the connection is aborted, so a peer that stopped reading cannot keep the
   * process alive. @internal
   */
  _shutdown(): void {
    this.loseConnection();
    const producer = this.producer;
    if (producer !== null) {
      // A producer would hold the close back: shutdown does not wait for it.
      this.unregisterProducer();
      this.callProducer(producer, "stopProducing");
    }
    if (!this.disconnected) {
      setTimeout(() => {
        if (!this.disconnected) this.abortConnection();
      }, SHUTDOWN_GRACE_MS).unref();
    }
  }

  private attach(socket: Socket): void {
    (socket as SocketWithTransport)[kTransport] = this;
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    socket.on("drain", onSocketDrain);
    socket.on("finish", onSocketFinish);
    if (this.readPaused) socket.pause();
  }

  /** Stops listening to `socket` (before `startTLS` hands it over). @internal */
  _detach(socket: Socket): void {
    socket.removeListener("data", onSocketData);
    socket.removeListener("end", onSocketEnd);
    socket.removeListener("drain", onSocketDrain);
    socket.removeListener("finish", onSocketFinish);
  }

  // Socket events (module-level listeners below call these: no closures per connection) ---------

  /** @internal */
  _onData(data: Buffer): void {
    // After loseConnection Twisted reads no more; keep draining the socket so that closing it
    // sends a FIN rather than a reset, but drop what arrives.
    if (this.disconnecting || this.disconnected) return;
    try {
      const result: unknown = this.protocol!.dataReceived(data);
      // An async dataReceived that rejects is handled like one that throws.
      if (result !== undefined && typeof (result as PromiseLike<void>).then === "function") {
        (result as PromiseLike<void>).then(undefined, (e: unknown) =>
          this.protocolFailed("dataReceived", e),
        );
      }
    } catch (e) {
      this.protocolFailed("dataReceived", e);
    }
  }

  /** @internal */
  _onEnd(): void {
    if (this.disconnecting || this.disconnected) return;
    if (this.callHalfCloseable("readConnectionLost")) return;
    // Not half-closeable: the peer's EOF ends the connection, after our pending writes.
    this.disconnecting = true;
    this.shutdownWrite();
  }

  /** @internal */
  _onError(err: Error): void {
    if (this.reason === null) {
      this.reason = new Failure(
        new ConnectionLost(`Connection lost: ${err.message}`, { cause: err }),
      );
    }
  }

  /** @internal */
  _onClose(): void {
    if (this.disconnected) return;
    this.tlsPending = null;
    this.connectionLost(this.reason ?? new Failure(new ConnectionDone()));
  }

  /** @internal */
  _onDrain(): void {
    const producer = this.producer;
    if (producer === null || this.disconnected) return;
    if (!this.streamingProducer) {
      this.callProducer(producer, "resumeProducing");
    } else if (this.producerPaused) {
      this.producerPaused = false;
      this.callProducer(producer, "resumeProducing");
    }
  }

  /** @internal */
  _onFinish(): void {
    if (this.disconnected) return;
    if (this.disconnecting) {
      // Everything was handed to the kernel and the FIN sent: close now, as Twisted does.
      this.socket.destroy();
      return;
    }
    if (this.writeDisconnecting) this.callHalfCloseable("writeConnectionLost");
  }

  /** Calls an `IHalfCloseableProtocol` method if the protocol has it; false if it has not. */
  private callHalfCloseable(method: keyof IHalfCloseableProtocol): boolean {
    const p = this.protocol as Partial<IHalfCloseableProtocol> | null;
    const fn = p?.[method];
    if (typeof fn !== "function") return false;
    try {
      fn.call(p);
    } catch (e) {
      this.protocolFailed(method, e);
    }
    return true;
  }

  /** @internal */
  _onPullTick(): void {
    this.pullScheduled = null;
    const producer = this.producer;
    if (producer === null || this.streamingProducer || this.disconnected) return;
    if (this.socket.writableNeedDrain) return; // 'drain' will ask
    this.callProducer(producer, "resumeProducing");
  }

  private connectionLost(reason: Failure): void {
    this.disconnected = true;
    this.connected = false;
    this.disconnecting = true;
    this.writeShutdown = true;
    this.reactor._untrack(this);
    if (this.pullScheduled !== null) clearImmediate(this.pullScheduled);
    this.pullScheduled = null;
    const producer = this.producer;
    this.producer = null;
    if (producer !== null) this.callProducer(producer, "stopProducing");
    try {
      this.protocol?.connectionLost(reason);
    } catch (e) {
      log.failure("Unhandled error in connectionLost of {protocol}", Failure.from(e), undefined, {
        protocol: nameOf(this.protocol),
      });
    }
    this.onLost?.(reason);
  }

  /** A protocol callback threw: log it and drop this connection (only this one). */
  private protocolFailed(what: string, e: unknown): void {
    const f = Failure.from(e);
    log.failure("Unhandled error in {what} of {protocol}, dropping the connection", f, undefined, {
      what,
      protocol: nameOf(this.protocol),
    });
    this._abortWith(
      new ConnectionLost(`Connection lost: ${what} raised: ${f.getErrorMessage()}`, { cause: e }),
    );
  }

  /** Drops the connection at once; `connectionLost` gets `error` (unless closing already). @internal */
  _abortWith(error: Error): void {
    if (this.disconnected || this.socket.destroyed) return;
    this.reason ??= new Failure(error);
    this.disconnecting = true;
    this.writeShutdown = true;
    this.socket.destroy();
  }

  private callProducer(producer: IProducer, method: keyof IPushProducer): void {
    try {
      (producer as IPushProducer)[method]();
    } catch (e) {
      this.protocolFailed(`the producer's ${method}`, e);
    }
  }

  // ITransport -----------------------------------------------------------------------------------

  /**
   * Writes bytes, or a string as UTF-8, without copying. Ignored once the connection is closing
   * (except while `loseConnection` waits for a registered producer, which may still write).
   */
  write(data: Uint8Array | string): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`Data must be bytes or a string, not ${typeof data}`);
    }
    if (this.writeShutdown || this.disconnected || data.length === 0) return;
    if (this.tlsPending !== null) {
      this.tlsPending.push(data);
      return;
    }
    if (this.socket.destroyed) return;
    if (!this.socket.write(data)) this.bufferFull();
    else if (this.producer !== null && !this.streamingProducer) this.schedulePull();
  }

  /** Writes several chunks in one system call where possible (cork/uncork). */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    if (this.writeShutdown || this.disconnected) return;
    if (this.tlsPending !== null) {
      for (const chunk of data) this.write(chunk);
      return;
    }
    const socket = this.socket;
    if (socket.destroyed) return;
    let ok = true;
    socket.cork();
    try {
      for (const chunk of data) {
        if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
          throw new TypeError(`Data must be bytes or a string, not ${typeof chunk}`);
        }
        if (chunk.length > 0) ok = socket.write(chunk) && ok;
      }
    } finally {
      socket.uncork();
    }
    if (!ok) this.bufferFull();
    else if (this.producer !== null && !this.streamingProducer) this.schedulePull();
  }

  /**
   * Closes the connection once pending writes are sent; with a registered producer, once it has
   * unregistered. `connectionLost` then gets `ConnectionDone`. Nothing is read after this call.
   */
  loseConnection(): void {
    if (this.disconnected || this.disconnecting) return;
    this.disconnecting = true;
    if (this.writeShutdown) {
      // Already half-closed: close as soon as the EOF is out.
      if (this.socket.writableFinished) this.socket.destroy();
      return;
    }
    if (this.producer !== null) return; // unregisterProducer finishes the job
    this.shutdownWrite();
  }

  /** Closes at once, discarding pending writes: `connectionLost` gets `ConnectionAborted`. */
  abortConnection(): void {
    if (this.disconnected || this.socket.destroyed) return;
    this.reason = null; // an abort wins over an earlier error that has not closed yet
    this._abortWith(new ConnectionAborted());
  }

  /**
   * Half-closes: sends EOF after pending writes while still reading. A half-closeable protocol's
   * `writeConnectionLost()` runs once the EOF is out.
   */
  loseWriteConnection(): void {
    if (this.disconnected || this.disconnecting || this.writeDisconnecting) return;
    this.writeDisconnecting = true;
    if (this.producer === null) this.shutdownWrite();
  }

  private shutdownWrite(): void {
    if (this.writeShutdown) return;
    this.writeShutdown = true;
    // During a startTLS hand-over the EOF is sent by the TLS socket once it exists.
    if (this.tlsPending === null && !this.socket.destroyed) this.socket.end();
  }

  /** The address of the other side. */
  getPeer(): IAddress {
    return this.peer;
  }

  /** The address of this side. */
  getHost(): IAddress {
    return this.host;
  }

  /** The underlying socket (Twisted's `getHandle`). */
  getHandle(): Socket {
    return this.socket;
  }

  // TCP options ----------------------------------------------------------------------------------

  /** Whether Nagle's algorithm is off (`TCP_NODELAY`). */
  getTcpNoDelay(): boolean {
    return this.noDelay;
  }

  /** Turns Nagle's algorithm off (true) or on (false). */
  setTcpNoDelay(enabled: boolean): void {
    this.noDelay = enabled;
    this.socket.setNoDelay(enabled);
  }

  /** Whether TCP keep-alive probes are on (`SO_KEEPALIVE`). */
  getTcpKeepAlive(): boolean {
    return this.keepAlive;
  }

  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void {
    this.keepAlive = enabled;
    this.socket.setKeepAlive(enabled);
  }

  // IConsumer ------------------------------------------------------------------------------------

  /**
   * Registers a producer of the data written here. A streaming producer is paused while the
   * socket's buffer is full and resumed on `'drain'`; a pull producer is asked for more
   * (`resumeProducing`) now and each time there is room. Raises if one is registered already;
   * on a closed connection the producer is stopped at once.
   */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error(
        `Cannot register producer ${nameOf(producer)}: producer ${nameOf(this.producer)} was never unregistered`,
      );
    }
    if (this.disconnected) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streamingProducer = streaming;
    this.producerPaused = false;
    if (!streaming) {
      (producer as IPushProducer).resumeProducing();
    } else if (this.socket.writableNeedDrain) {
      this.producerPaused = true;
      (producer as IPushProducer).pauseProducing();
    }
  }

  /** Unregisters the producer; a `loseConnection` waiting for it proceeds. */
  unregisterProducer(): void {
    this.producer = null;
    this.producerPaused = false;
    if (this.pullScheduled !== null) clearImmediate(this.pullScheduled);
    this.pullScheduled = null;
    if (this.disconnected) return;
    if (this.disconnecting || this.writeDisconnecting) this.shutdownWrite();
  }

  private bufferFull(): void {
    const producer = this.producer;
    if (producer !== null && this.streamingProducer && !this.producerPaused) {
      this.producerPaused = true;
      this.callProducer(producer, "pauseProducing");
    }
  }

  private schedulePull(): void {
    if (this.pullScheduled === null) this.pullScheduled = setImmediate(pullTick, this);
  }

  // IPushProducer --------------------------------------------------------------------------------

  /** Stops reading from the socket (the peer is then slowed down by TCP). */
  pauseProducing(): void {
    this.readPaused = true;
    if (this.tlsPending === null) this.socket.pause();
  }

  /** Reads from the socket again after `pauseProducing`. */
  resumeProducing(): void {
    this.readPaused = false;
    if (!this.disconnected && this.tlsPending === null) this.socket.resume();
  }

  /** Stops for good: loses the connection. */
  stopProducing(): void {
    this.loseConnection();
  }

  // ITLSTransport --------------------------------------------------------------------------------

  /** True once the connection speaks TLS (from the `startTLS` call on). */
  get TLS(): boolean {
    return this.tlsOn;
  }

  /** The ALPN protocol the TLS handshake settled on, or `null`. */
  get negotiatedProtocol(): string | null {
    const alpn = (this.socket as Partial<TLSSocket>).alpnProtocol;
    return typeof alpn === "string" ? alpn : null;
  }

  /** The peer's certificate as Node describes it, or `null` (no TLS, or none sent). */
  getPeerCertificate(): unknown {
    const s = this.socket as Partial<TLSSocket>;
    if (!this.tlsOn || typeof s.getPeerCertificate !== "function") return null;
    const cert = s.getPeerCertificate(true);
    return cert && Object.keys(cert).length > 0 ? cert : null;
  }

  /**
   * The TLS session, for resuming it on another connection (as FTPS data connections must), or
   * `undefined` without TLS or before the handshake.
   */
  getSession(): Buffer | undefined {
    const s = this.socket as Partial<TLSSocket>;
    if (!this.tlsOn || typeof s.getSession !== "function") return undefined;
    return s.getSession() ?? undefined;
  }

  /**
   * Switches the connection to TLS (STARTTLS). What was written before is sent in clear first;
   * what is written after is encrypted. The handshake side is `options.isServer`, by default
   * the side that accepted the connection. Clients verify the server's certificate and name
   * unless `rejectUnauthorized` is false; the server name defaults to the host connected to.
   * When the handshake completes the protocol's `handshakeCompleted()` runs, if it has one; a
   * failed handshake loses the connection with `ConnectionLost` (the TLS error as `cause`).
   * Invalid options (a bad key, say) raise at once and leave the connection as it was.
   */
  startTLS(options: TLSContextOptions): void {
    if (this.tlsOn) throw new Error("Cannot start TLS: the connection already uses TLS");
    if (this.disconnected || this.writeShutdown) {
      throw new Error("Cannot start TLS: the connection is closing");
    }
    const secureContext = createSecureContext(options as SecureContextOptions); // raises now
    this.tlsOn = true;
    const raw = this.socket;
    this.tlsPending = [];
    this._detach(raw);
    // Incoming handshake bytes stay buffered in the raw socket; the TLS socket reads them.
    raw.pause();
    if (raw.writableLength === 0) this.wrapTLS(raw, options, secureContext);
    else raw.write(EMPTY, () => this.wrapTLS(raw, options, secureContext));
  }

  private wrapTLS(raw: Socket, options: TLSContextOptions, secureContext: SecureContext): void {
    // A raw socket that closed meanwhile reports its own close.
    if (this.disconnected || this.tlsPending === null || raw.destroyed) return;
    let tlsSocket: TLSSocket;
    try {
      tlsSocket = _upgradeToTLS(raw, options, secureContext, {
        isServer: this.isServer,
        hostname: this.hostname,
        onSecure: (_socket, error) => this.upgradeSecure(error),
      });
    } catch (e) {
      const why = Failure.from(e).getErrorMessage();
      this._abortWith(
        new ConnectionLost(`Connection lost: cannot start TLS: ${why}`, { cause: e }),
      );
      return;
    }
    // The raw socket's close follows the TLS socket's; only errors are still of interest.
    raw.removeListener("close", onSocketClose);
    this.socket = tlsSocket;
    const pending = this.tlsPending ?? [];
    this.tlsPending = null;
    this.attach(tlsSocket);
    for (const chunk of pending) {
      if (!tlsSocket.write(chunk)) this.bufferFull();
    }
    if (this.writeShutdown && !this.disconnected) tlsSocket.end();
  }

  private upgradeSecure(error: Error | null): void {
    if (error === null) this._handshakeDone();
    else this._abortWith(new ConnectionLost(`Connection lost: ${error.message}`, { cause: error }));
  }

  /** `<TCPTransport Protocol peer>`, for logs. */
  toString(): string {
    return `<TCPTransport ${nameOf(this.protocol)} ${this.peer}>`;
  }
}

// Socket listeners shared by every connection: Node calls them with the socket as `this`, and the
// socket points back at its transport. (A closure per connection and event cost ~300 bytes each.)

const kTransport = Symbol("twisted-ts.transport");

type SocketWithTransport = Socket & { [kTransport]: TCPTransport };

function onSocketData(this: Socket, data: Buffer): void {
  (this as SocketWithTransport)[kTransport]._onData(data);
}

function onSocketEnd(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onEnd();
}

function onSocketError(this: Socket, err: Error): void {
  (this as SocketWithTransport)[kTransport]._onError(err);
}

function onSocketClose(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onClose();
}

function onSocketDrain(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onDrain();
}

function onSocketFinish(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onFinish();
}

function pullTick(transport: TCPTransport): void {
  transport._onPullTick();
}

/** The class name of an object, for logs. @internal */
export function nameOf(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const ctor = (x as { constructor?: { name?: string } }).constructor;
  return ctor?.name || typeof x;
}
