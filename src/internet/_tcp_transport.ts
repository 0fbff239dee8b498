// TCPTransport: the stream transport of TCP, Unix and TLS connections, over a node:net Socket.
// Its booleans, rarely used state and socket listeners are in _tcp_state.ts, the consumer side
// (producers) in _tcp_producer.ts, the batching of small writes in _tcp_write.ts, STARTTLS in
// _tcp_starttls.ts.

import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import {
  _callProducer,
  _drained,
  _registerProducer,
  _unregisterProducer,
} from "./_tcp_producer.js";
import { _peerCertificate, _session, _startTLS } from "./_tcp_starttls.js";
import {
  _attachSocket,
  _endSocket,
  _TransportExtras,
  CONNECTED,
  DISCONNECTED,
  DISCONNECTING,
  IS_SERVER,
  KEEP_ALIVE,
  NO_DELAY,
  nameOf,
  PRODUCER_PAUSED,
  READ_PAUSED,
  STREAMING,
  TLS_ON,
  WRITE_DISCONNECTING,
  WRITE_SHUTDOWN,
} from "./_tcp_state.js";
import { _flushLater, _flushPending, _send, COALESCE_LIMIT } from "./_tcp_write.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IHalfCloseableProtocol,
  IHandshakeListener,
  IProducer,
  IProtocol,
  ITLSTransport,
  TLSContextOptions,
} from "./interfaces.js";

const log = new Logger("twisted-ts.internet.tcp");

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

/** The transport whose protocol's `dataReceived` is running, if any. */
let receiving: TCPTransport | null = null;

/** How long reactor shutdown lets a connection flush its pending writes before aborting it. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * A connected stream socket as a Twisted transport: TCP, Unix or TLS. Bytes from the socket go
 * to `protocol.dataReceived` as Node delivers them (no copy); small writes made during one
 * callback go to the socket together when it returns, larger ones at once (`_tcp_write.ts`).
 * The transport is a consumer (register a producer for flow control) and a push producer
 * (pause it to stop reading). `connectionLost` runs exactly once, with
 * `ConnectionDone` after a clean close by either side, `ConnectionAborted` after
 * `abortConnection()`, and `ConnectionLost` (the Node error as `cause`) otherwise.
 *
 * Ports and connectors make transports; protocols only see them as `this.transport`. An idle
 * connection costs a small object (its booleans are bits of one number) and four listeners on
 * the socket; producers, STARTTLS and close reasons take memory only once used.
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
  /** The booleans of this transport, as bits (`_tcp_state.ts`). @internal */
  _flags: number;
  /** What an idle connection does not need (producer, TLS hand-over…), made on first use. @internal */
  _x: _TransportExtras | null = null;
  /** The reactor's list of open connections runs through these two. @internal */
  _prevTracked: TCPTransport | null = null;
  /** @internal */
  _nextTracked: TCPTransport | null = null;
  /** Small writes waiting for the end of the current callback (`_tcp_write.ts`). @internal */
  _pending: Uint8Array | string | (Uint8Array | string)[] | null = null;
  /** Their length (characters for strings). @internal */
  _pendingBytes = 0;
  private readonly host: IAddress;
  private readonly peer: IAddress;

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
    this._flags = (options.isServer ? IS_SERVER : 0) | (options.tls === true ? TLS_ON : 0);
    if (options.hostname !== undefined || options.onLost !== undefined) {
      const x = this._extras();
      x.hostname = options.hostname;
      x.onLost = options.onLost;
    }
  }

  /** True from the moment the protocol is attached until the connection is closed. */
  get connected(): boolean {
    return (this._flags & CONNECTED) !== 0;
  }

  /** True once `loseConnection` or `abortConnection` has been called (or the peer closed). */
  get disconnecting(): boolean {
    return (this._flags & DISCONNECTING) !== 0;
  }

  /** True once the connection is closed and `connectionLost` has run. */
  get disconnected(): boolean {
    return (this._flags & DISCONNECTED) !== 0;
  }

  /** The registered producer, if any. */
  get producer(): IProducer | null {
    const x = this._x;
    return x === null ? null : x.producer;
  }

  /** Whether the registered producer is a push (streaming) producer. */
  get streamingProducer(): boolean {
    return (this._flags & STREAMING) !== 0;
  }

  /** True while a streaming producer is paused because the socket's buffer is full. */
  get producerPaused(): boolean {
    return (this._flags & PRODUCER_PAUSED) !== 0;
  }

  /** The side state, made now if it was not yet. @internal */
  _extras(): _TransportExtras {
    let x = this._x;
    if (x === null) {
      x = new _TransportExtras();
      this._x = x;
    }
    return x;
  }

  // Lifecycle ----------------------------------------------------------------------------------

  /**
   * Attaches `protocol`, starts reading and calls `protocol.makeConnection(this)`. An exception
   * from `connectionMade` is logged and drops the connection.
   * @internal
   */
  _start(protocol: IProtocol): void {
    this.protocol = protocol;
    this._flags |= CONNECTED;
    _attachSocket(this, this.socket);
    this.reactor._trackConnection(this);
    try {
      protocol.makeConnection(this);
    } catch (e) {
      this._protocolFailed("connectionMade", e);
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
      this._protocolFailed("handshakeCompleted", e);
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
      _callProducer(this, producer, "stopProducing");
    }
    if (!this.disconnected) {
      setTimeout(() => {
        if (!this.disconnected) this.abortConnection();
      }, SHUTDOWN_GRACE_MS).unref();
    }
  }

  // Socket events (the shared listeners of _tcp_state.ts call these) ---------------------------

  /** @internal */
  _onData(data: Buffer): void {
    // After loseConnection Twisted reads no more; keep draining the socket so that closing it
    // sends a FIN rather than a reset, but drop what arrives.
    if ((this._flags & (DISCONNECTING | DISCONNECTED)) !== 0) return;
    const outer = receiving;
    receiving = this;
    try {
      const result: unknown = this.protocol!.dataReceived(data);
      // An async dataReceived that rejects is handled like one that throws.
      if (
        result !== undefined &&
        result !== null &&
        typeof (result as PromiseLike<void>).then === "function"
      ) {
        (result as PromiseLike<void>).then(undefined, (e: unknown) =>
          this._protocolFailed("dataReceived", e),
        );
      }
    } catch (e) {
      this._protocolFailed("dataReceived", e);
    }
    receiving = outer;
    // What the protocol wrote in answer leaves now, in one write (see `write`).
    if (this._pending !== null) _flushPending(this);
  }

  /** @internal */
  _onEnd(): void {
    if ((this._flags & (DISCONNECTING | DISCONNECTED)) !== 0) return;
    if (this.callHalfCloseable("readConnectionLost")) return;
    // Not half-closeable: the peer's EOF ends the connection, after our pending writes.
    this._flags |= DISCONNECTING;
    this._shutdownWrite();
  }

  /** @internal */
  _onError(err: Error): void {
    const x = this._extras();
    if (x.reason === null) {
      x.reason = new Failure(new ConnectionLost(`Connection lost: ${err.message}`, { cause: err }));
    }
  }

  /** @internal */
  _onClose(): void {
    if (this.disconnected) return;
    const x = this._x;
    if (x !== null) x.tlsPending = null;
    this.connectionLost(x?.reason ?? new Failure(new ConnectionDone()));
  }

  /** @internal */
  _onDrain(): void {
    _drained(this);
  }

  /** @internal */
  _onFinish(): void {
    const flags = this._flags;
    if ((flags & DISCONNECTED) !== 0) return;
    if ((flags & DISCONNECTING) !== 0) {
      // Everything was handed to the kernel and the FIN sent: close now, as Twisted does.
      this.socket.destroy();
      return;
    }
    if ((flags & WRITE_DISCONNECTING) !== 0) this.callHalfCloseable("writeConnectionLost");
  }

  /** Calls an `IHalfCloseableProtocol` method if the protocol has it; false if it has not. */
  private callHalfCloseable(method: keyof IHalfCloseableProtocol): boolean {
    const p = this.protocol as Partial<IHalfCloseableProtocol> | null;
    const fn = p?.[method];
    if (typeof fn !== "function") return false;
    try {
      fn.call(p);
    } catch (e) {
      this._protocolFailed(method, e);
    }
    return true;
  }

  private connectionLost(reason: Failure): void {
    this._pending = null;
    this._flags = (this._flags & ~CONNECTED) | DISCONNECTED | DISCONNECTING | WRITE_SHUTDOWN;
    this.reactor._untrackConnection(this);
    const x = this._x;
    if (x !== null) {
      if (x.pullScheduled !== null) clearImmediate(x.pullScheduled);
      x.pullScheduled = null;
      const producer = x.producer;
      x.producer = null;
      if (producer !== null) _callProducer(this, producer, "stopProducing");
    }
    try {
      this.protocol?.connectionLost(reason);
    } catch (e) {
      log.failure("Unhandled error in connectionLost of {protocol}", Failure.from(e), undefined, {
        protocol: nameOf(this.protocol),
      });
    }
    x?.onLost?.(reason);
  }

  /** A protocol callback threw: log it and drop this connection (only this one). */
  /** @internal */
  _protocolFailed(what: string, e: unknown): void {
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
    this._pending = null;
    this._extras().reason ??= new Failure(error);
    this._flags |= DISCONNECTING | WRITE_SHUTDOWN;
    this.socket.destroy();
  }

  // ITransport -----------------------------------------------------------------------------------

  /**
   * Writes bytes, or a string as UTF-8, without copying. Ignored once the connection is closing
   * (except while `loseConnection` waits for a registered producer, which may still write).
   *
   * Like Twisted's transports, small writes are buffered and sent together once the current
   * callback returns (one system call and one segment for the lines of a reply, rather than a
   * segment each that Nagle's algorithm holds back until the peer's delayed ACK). A write of
   * `COALESCE_LIMIT` bytes or more, or one that brings the buffered bytes there, goes out at once.
   */
  write(data: Uint8Array | string): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`Data must be bytes or a string, not ${typeof data}`);
    }
    if ((this._flags & (WRITE_SHUTDOWN | DISCONNECTED)) !== 0 || data.length === 0) return;
    const x = this._x;
    if (x !== null && x.tlsPending !== null) {
      x.tlsPending.push(data);
      return;
    }
    if (this.socket.destroyed) return;
    const pending = this._pending;
    if (pending === null) {
      if (data.length >= COALESCE_LIMIT) {
        _send(this, data);
        return;
      }
      this._pending = data;
      this._pendingBytes = data.length;
      // While our own dataReceived runs, `_onData` flushes when it returns.
      if (receiving !== this) _flushLater(this);
      return;
    }
    if (Array.isArray(pending)) pending.push(data);
    else this._pending = [pending, data];
    this._pendingBytes += data.length;
    if (this._pendingBytes >= COALESCE_LIMIT) _flushPending(this);
  }

  /** Writes several chunks in one system call where possible. */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    for (const chunk of data) this.write(chunk);
  }

  /**
   * Closes the connection once pending writes are sent; with a registered producer, once it has
   * unregistered. `connectionLost` then gets `ConnectionDone`. Nothing is read after this call.
   */
  loseConnection(): void {
    const flags = this._flags;
    if ((flags & (DISCONNECTED | DISCONNECTING)) !== 0) return;
    this._flags = flags | DISCONNECTING;
    if ((flags & WRITE_SHUTDOWN) !== 0) {
      // Already half-closed: close as soon as the EOF is out.
      if (this.socket.writableFinished) this.socket.destroy();
      return;
    }
    if (this.producer !== null) return; // unregisterProducer finishes the job
    this._shutdownWrite();
  }

  /** Closes at once, discarding pending writes: `connectionLost` gets `ConnectionAborted`. */
  abortConnection(): void {
    if (this.disconnected || this.socket.destroyed) return;
    // An abort wins over an earlier error that has not closed yet.
    if (this._x !== null) this._x.reason = null;
    this._abortWith(new ConnectionAborted());
  }

  /**
   * Half-closes: sends EOF after pending writes while still reading. A half-closeable protocol's
   * `writeConnectionLost()` runs once the EOF is out.
   */
  loseWriteConnection(): void {
    const flags = this._flags;
    if ((flags & (DISCONNECTED | DISCONNECTING | WRITE_DISCONNECTING)) !== 0) return;
    this._flags = flags | WRITE_DISCONNECTING;
    if (this.producer === null) this._shutdownWrite();
  }

  /** Shuts the write side (EOF after pending writes). @internal */
  _shutdownWrite(): void {
    const flags = this._flags;
    if ((flags & WRITE_SHUTDOWN) !== 0) return;
    _flushPending(this);
    this._flags = flags | WRITE_SHUTDOWN;
    // During a startTLS hand-over the EOF is sent by the TLS socket once it exists.
    const x = this._x;
    if ((x === null || x.tlsPending === null) && !this.socket.destroyed) _endSocket(this);
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
    return (this._flags & NO_DELAY) !== 0;
  }

  /** Turns Nagle's algorithm off (true) or on (false). */
  setTcpNoDelay(enabled: boolean): void {
    this._flags = enabled ? this._flags | NO_DELAY : this._flags & ~NO_DELAY;
    this.socket.setNoDelay(enabled);
  }

  /** Whether TCP keep-alive probes are on (`SO_KEEPALIVE`). */
  getTcpKeepAlive(): boolean {
    return (this._flags & KEEP_ALIVE) !== 0;
  }

  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void {
    this._flags = enabled ? this._flags | KEEP_ALIVE : this._flags & ~KEEP_ALIVE;
    this.socket.setKeepAlive(enabled);
  }

  // IConsumer (_tcp_producer.ts) -----------------------------------------------------------------

  /**
   * Registers a producer of the data written here. A streaming producer is paused while the
   * socket's buffer is full and resumed on `'drain'`; a pull producer is asked for more
   * (`resumeProducing`) now and each time there is room. Raises if one is registered already;
   * on a closed connection the producer is stopped at once.
   */
  registerProducer(producer: IProducer, streaming: boolean): void {
    _registerProducer(this, producer, streaming);
  }

  /** Unregisters the producer; a `loseConnection` waiting for it proceeds. */
  unregisterProducer(): void {
    _unregisterProducer(this);
  }

  // IPushProducer --------------------------------------------------------------------------------

  /** Stops reading from the socket (the peer is then slowed down by TCP). */
  pauseProducing(): void {
    this._flags |= READ_PAUSED;
    if (this._x === null || this._x.tlsPending === null) this.socket.pause();
  }

  /** Reads from the socket again after `pauseProducing`. */
  resumeProducing(): void {
    this._flags &= ~READ_PAUSED;
    if (this.disconnected) return;
    if (this._x === null || this._x.tlsPending === null) this.socket.resume();
  }

  /** Stops for good: loses the connection. */
  stopProducing(): void {
    this.loseConnection();
  }

  // ITLSTransport --------------------------------------------------------------------------------

  /** True once the connection speaks TLS (from the `startTLS` call on). */
  get TLS(): boolean {
    return (this._flags & TLS_ON) !== 0;
  }

  /** The ALPN protocol the TLS handshake settled on, or `null`. */
  get negotiatedProtocol(): string | null {
    const alpn = (this.socket as Partial<TLSSocket>).alpnProtocol;
    return typeof alpn === "string" ? alpn : null;
  }

  /** The peer's certificate as Node describes it, or `null` (no TLS, or none sent). */
  getPeerCertificate(): unknown {
    return _peerCertificate(this);
  }

  /**
   * The TLS session, for resuming it on another connection (as FTPS data connections must), or
   * `undefined` without TLS or before the handshake.
   */
  getSession(): Buffer | undefined {
    return _session(this);
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
    // What was written before goes out in clear text, ahead of the handshake.
    _flushPending(this);
    _startTLS(this, options);
  }

  /** `<TCPTransport Protocol peer>`, for logs. */
  toString(): string {
    return `<TCPTransport ${nameOf(this.protocol)} ${this.peer}>`;
  }
}

export { nameOf };
