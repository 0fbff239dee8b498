// StringTransport: an in-memory transport that records what a protocol writes, for unit tests.

import { IPv4Address } from "../internet/address.js";
import { ConnectionAborted, ConnectionDone } from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IProducer,
  IProtocol,
  ITLSTransport,
  TLSContextOptions,
} from "../internet/interfaces.js";

/** The state `StringTransport` records from `pauseProducing`/`resumeProducing`/`stopProducing`. */
export type ProducerState = "producing" | "paused" | "stopped";

/**
 * Turns what a protocol gave to `write` into bytes, raising a clear `TypeError` for anything
 * else (a number, an object, `undefined`), which a real socket would mangle.
 * @internal
 */
export function _toBytes(data: unknown, what = "Data"): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  // Copy: the caller may reuse its buffer after write() returns, as with a real transport.
  if (data instanceof Uint8Array) return Buffer.from(data);
  const kind = data === null ? "null" : Array.isArray(data) ? "array" : typeof data;
  throw new TypeError(`${what} must be a Uint8Array or a string, not ${kind}`);
}

/**
 * A transport that keeps everything written to it in memory, for testing a protocol without a
 * connection: feed bytes with `protocol.dataReceived()`, read what it wrote with `value()`.
 *
 * Like Twisted's, `loseConnection()` only sets `disconnecting`; it does not call
 * `connectionLost` (call it yourself, or use {@link StringTransportWithDisconnection}).
 * It also records producer registration, its own producer state (`producerState`), TCP options
 * and a `startTLS` upgrade.
 *
 * @example
 * ```ts
 * const proto = new Echo();
 * const tr = new StringTransport();
 * proto.makeConnection(tr);
 * proto.dataReceived(Buffer.from("hello"));
 * assert.equal(tr.value().toString(), "hello");
 * ```
 */
export class StringTransport implements ITLSTransport {
  /** The address `getHost()` returns. */
  hostAddress: IAddress;
  /** The address `getPeer()` returns. */
  peerAddress: IAddress;
  /** Set by `loseConnection()` and `abortConnection()`. */
  disconnecting = false;
  /** Set by whoever simulates the end of the connection (e.g. `MemoryReactor`). */
  disconnected = false;
  /** Set by `abortConnection()`. */
  aborted = false;
  /** Set by `loseWriteConnection()` (half-close). */
  writeDisconnecting = false;
  /** The registered producer, or `null`. */
  producer: IProducer | null = null;
  /** Whether the registered producer is a streaming (push) one; `null` when none is registered. */
  streaming: boolean | null = null;
  /** This transport's own state as a producer (of the bytes it reads). */
  producerState: ProducerState = "producing";
  /** True once `startTLS` was called (or the transport was made for a TLS connection). */
  TLS = false;
  /** The options given to `startTLS` (or to `connectSSL`/`listenSSL`), or `null`. */
  tlsOptions: TLSContextOptions | null = null;
  /** What `negotiatedProtocol` reports; set it to simulate ALPN. */
  negotiatedProtocol: string | null = null;
  /** What `getPeerCertificate()` returns; set it to simulate a client certificate. */
  peerCertificate: unknown = null;
  /** Recorded by `setTcpNoDelay`. */
  tcpNoDelay = false;
  /** Recorded by `setTcpKeepAlive`. */
  tcpKeepAlive = false;
  private chunks: Buffer[] = [];

  /**
   * @param hostAddress what `getHost()` returns (default: fake `IPv4Address("TCP", "10.0.0.1", 1234)`)
   * @param peerAddress what `getPeer()` returns (default: fake `IPv4Address("TCP", "192.168.1.1", 4321)`)
   */
  constructor(hostAddress?: IAddress, peerAddress?: IAddress) {
    this.hostAddress = hostAddress ?? new IPv4Address("TCP", "10.0.0.1", 1234);
    this.peerAddress = peerAddress ?? new IPv4Address("TCP", "192.168.1.1", 4321);
  }

  /** Everything written since construction or the last `clear()`. */
  value(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Forgets what was written so far. */
  clear(): void {
    this.chunks = [];
  }

  /** Records `data` (a string is encoded as UTF-8); raises `TypeError` for anything else. */
  write(data: Uint8Array | string): void {
    const bytes = _toBytes(data);
    if (bytes.length > 0) this.chunks.push(bytes);
  }

  /** Records each chunk of `data` in order. */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    if (!Array.isArray(data)) {
      throw new TypeError("Data must be an array of Uint8Array or string chunks");
    }
    const bytes = data.map((chunk) => _toBytes(chunk, "Each chunk"));
    for (const b of bytes) if (b.length > 0) this.chunks.push(b);
  }

  /** Sets `disconnecting`; does not call `connectionLost`. */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Sets `aborted` and `disconnecting`; does not call `connectionLost`. */
  abortConnection(): void {
    this.aborted = true;
    this.loseConnection();
  }

  /** Sets `writeDisconnecting` (half-close). */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
  }

  getPeer(): IAddress {
    return this.peerAddress;
  }

  getHost(): IAddress {
    return this.hostAddress;
  }

  /** Records the producer; raises if one is already registered (as real transports do). */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register a producer: one is already registered");
    }
    this.producer = producer;
    this.streaming = streaming;
  }

  /** Forgets the producer; raises if none is registered. */
  unregisterProducer(): void {
    if (this.producer === null) {
      throw new Error("Cannot unregister a producer: none is registered");
    }
    this.producer = null;
    this.streaming = null;
  }

  private checkState(): void {
    if (this.disconnecting) throw new Error("Cannot resume producing after loseConnection");
    if (this.producerState === "stopped") throw new Error("Cannot resume a stopped producer");
  }

  /** Records `producerState = "paused"`; raises after `loseConnection` or `stopProducing`. */
  pauseProducing(): void {
    this.checkState();
    this.producerState = "paused";
  }

  /** Records `producerState = "producing"`; raises after `loseConnection` or `stopProducing`. */
  resumeProducing(): void {
    this.checkState();
    this.producerState = "producing";
  }

  /** Records `producerState = "stopped"`. */
  stopProducing(): void {
    this.producerState = "stopped";
  }

  /** Records the upgrade: sets `TLS` and `tlsOptions`. Raises if TLS is already on. */
  startTLS(options: TLSContextOptions): void {
    if (this.TLS) throw new Error("Cannot start TLS: the transport already speaks TLS");
    this.TLS = true;
    this.tlsOptions = options;
  }

  /** Returns `peerCertificate`. */
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
}

/**
 * A `StringTransport` whose `loseConnection()` calls `protocol.connectionLost` with
 * `ConnectionDone` (and `abortConnection()` with `ConnectionAborted`), once. Set `protocol`
 * (or use `makeConnection`-style wiring: `tr.protocol = proto; proto.makeConnection(tr)`).
 *
 * @example
 * ```ts
 * const tr = new StringTransportWithDisconnection();
 * tr.protocol = proto;
 * proto.makeConnection(tr);
 * tr.loseConnection(); // proto.connectionLost(Failure(ConnectionDone)) has run
 * ```
 */
export class StringTransportWithDisconnection extends StringTransport {
  /** The protocol told about the disconnection. */
  protocol: IProtocol | null = null;
  /** True until the connection is lost. */
  connected = true;

  override loseConnection(): void {
    this.disconnecting = true;
    this.lose(new ConnectionDone());
  }

  override abortConnection(): void {
    this.aborted = true;
    this.disconnecting = true;
    this.lose(new ConnectionAborted());
  }

  private lose(reason: Error): void {
    if (!this.connected) return;
    this.connected = false;
    this.disconnected = true;
    const producer = this.producer;
    // Real transports stop their producer when the connection goes away.
    if (producer !== null) {
      this.producer = null;
      this.streaming = null;
      producer.stopProducing();
    }
    if (this.protocol === null) {
      throw new Error("Cannot report the disconnection: the transport's protocol is not set");
    }
    this.protocol.connectionLost(new Failure(reason));
  }
}
