// PROXY protocol (HAProxy) v1/v2 support: a wrapping factory that shows protocols the real client.

import { registerServerParser, wrappingServerParser } from "../internet/endpoints.js";
import type { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IDelayedCall,
  IProducer,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  ITLSTransport,
  ITransport,
  TLSContextOptions,
} from "../internet/interfaces.js";
import { Factory, Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import { InvalidProxyHeader, type ProxyHeader, parseProxyHeader } from "./_haproxy_parser.js";

export {
  InvalidNetworkProtocol,
  InvalidProxyHeader,
  MissingAddressData,
  type ProxyAddress,
  type ProxyHeader,
  type ProxyHeaderParseResult,
  parseProxyHeader,
  V1_MAX_LENGTH,
  V2_MAX_LENGTH,
  V2_SIGNATURE,
} from "./_haproxy_parser.js";

const log = new Logger("twisted-ts.protocols.haproxy");

type AnyTransport = ITransport & Partial<Omit<ITLSTransport, keyof ITransport>>;

function missing(name: string): never {
  throw new Error(`Cannot ${name}: the underlying transport does not support it`);
}

/**
 * The transport a wrapped protocol sees: the real connection, except that `getPeer()` and
 * `getHost()` give the addresses from the PROXY header.
 */
export class HAProxyTransport implements ITLSTransport {
  constructor(
    /** The real transport. */
    readonly transport: AnyTransport,
    private readonly peer: IAddress,
    private readonly host: IAddress,
  ) {}

  /** The original client, as the PROXY header says (or the real peer for LOCAL/UNKNOWN). */
  getPeer(): IAddress {
    return this.peer;
  }
  /** The address the client connected to, as the PROXY header says. */
  getHost(): IAddress {
    return this.host;
  }
  write(data: Uint8Array | string): void {
    this.transport.write(data);
  }
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    this.transport.writeSequence(data);
  }
  loseConnection(): void {
    this.transport.loseConnection();
  }
  abortConnection(): void {
    (this.transport.abortConnection ?? missing("abortConnection")).call(this.transport);
  }
  loseWriteConnection(): void {
    (this.transport.loseWriteConnection ?? missing("loseWriteConnection")).call(this.transport);
  }
  get disconnecting(): boolean {
    return this.transport.disconnecting ?? false;
  }
  get disconnected(): boolean {
    return this.transport.disconnected ?? false;
  }
  registerProducer(producer: IProducer, streaming: boolean): void {
    (this.transport.registerProducer ?? missing("registerProducer")).call(
      this.transport,
      producer,
      streaming,
    );
  }
  unregisterProducer(): void {
    (this.transport.unregisterProducer ?? missing("unregisterProducer")).call(this.transport);
  }
  pauseProducing(): void {
    (this.transport.pauseProducing ?? missing("pauseProducing")).call(this.transport);
  }
  resumeProducing(): void {
    (this.transport.resumeProducing ?? missing("resumeProducing")).call(this.transport);
  }
  stopProducing(): void {
    (this.transport.stopProducing ?? missing("stopProducing")).call(this.transport);
  }
  getTcpNoDelay(): boolean {
    return (this.transport.getTcpNoDelay ?? missing("getTcpNoDelay")).call(this.transport);
  }
  setTcpNoDelay(enabled: boolean): void {
    (this.transport.setTcpNoDelay ?? missing("setTcpNoDelay")).call(this.transport, enabled);
  }
  getTcpKeepAlive(): boolean {
    return (this.transport.getTcpKeepAlive ?? missing("getTcpKeepAlive")).call(this.transport);
  }
  setTcpKeepAlive(enabled: boolean): void {
    (this.transport.setTcpKeepAlive ?? missing("setTcpKeepAlive")).call(this.transport, enabled);
  }
  startTLS(options: TLSContextOptions): void {
    (this.transport.startTLS ?? missing("startTLS")).call(this.transport, options);
  }
  get TLS(): boolean {
    return this.transport.TLS ?? false;
  }
  get negotiatedProtocol(): string | null {
    return this.transport.negotiatedProtocol ?? null;
  }
  getPeerCertificate(): unknown {
    return this.transport.getPeerCertificate?.call(this.transport) ?? null;
  }
}

/**
 * Reads the PROXY header at the start of a connection, then hands the connection to a protocol
 * built by the wrapped factory, which sees the real client through `transport.getPeer()`. A
 * malformed header, a connection that does not start with one, or (with a timeout) one that is
 * too slow to come, is dropped before the wrapped protocol exists.
 */
export class HAProxyProtocolWrapper extends Protocol {
  /** The protocol built once the header arrived, or `null` before that (or if refused). */
  wrappedProtocol: IProtocol | null = null;
  /** The header read, once it has been. */
  header: ProxyHeader | null = null;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 1;
  private rejected = false;
  private timer: IDelayedCall | null = null;

  constructor(private readonly wrappingFactory: HAProxyWrappingFactory) {
    super();
    this.factory = wrappingFactory;
  }

  override connectionMade(): void {
    const { timeout, clock } = this.wrappingFactory;
    if (timeout !== null && clock !== null) {
      this.timer = clock.callLater(timeout, () => {
        this.timer = null;
        this.reject(`No complete PROXY header within ${timeout} seconds`);
      });
    }
  }

  override dataReceived(data: Buffer): void {
    if (this.wrappedProtocol !== null) {
      this.wrappedProtocol.dataReceived(data);
      return;
    }
    if (this.rejected || this.header !== null) return;
    this.chunks.push(data);
    this.buffered += data.length;
    // A v2 header says its length up front: wait for all of it instead of re-parsing each byte.
    if (this.buffered < this.needed) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [buf];
    let result: ReturnType<typeof parseProxyHeader>;
    try {
      result = parseProxyHeader(buf);
    } catch (e) {
      if (!(e instanceof InvalidProxyHeader)) throw e;
      this.reject(e.message);
      return;
    }
    if (result.needMore) {
      this.needed = result.needed;
      return;
    }
    this.chunks = [];
    this.headerReceived(result.header, buf.subarray(result.consumed));
  }

  private reject(why: string): void {
    this.rejected = true;
    this.chunks = [];
    this.cancelTimer();
    log.info("Dropping connection from {peer}: {why}", {
      peer: String(this.transport?.getPeer()),
      why,
    });
    this.transport?.loseConnection();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      if (this.timer.active()) this.timer.cancel();
      this.timer = null;
    }
  }

  private headerReceived(header: ProxyHeader, rest: Buffer): void {
    this.header = header;
    this.cancelTimer();
    const real = this.tx;
    const peer = header.source ?? real.getPeer();
    const host = header.destination ?? real.getHost();
    const wrapped = this.wrappingFactory.wrappedFactory.buildProtocol(peer);
    if (wrapped === null) {
      real.loseConnection();
      return;
    }
    this.wrappedProtocol = wrapped;
    wrapped.makeConnection(new HAProxyTransport(real, peer, host));
    if (rest.length > 0) wrapped.dataReceived(rest);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.cancelTimer();
    this.chunks = [];
    const wrapped = this.wrappedProtocol;
    if (wrapped !== null) wrapped.connectionLost(reason);
  }

  /** The peer half-closed: tell a half-closeable wrapped protocol, else close. */
  readConnectionLost(): void {
    const wrapped = this.wrappedProtocol as Partial<{ readConnectionLost(): void }> | null;
    if (wrapped?.readConnectionLost !== undefined) wrapped.readConnectionLost();
    else this.transport?.loseConnection();
  }

  writeConnectionLost(): void {
    const wrapped = this.wrappedProtocol as Partial<{ writeConnectionLost(): void }> | null;
    wrapped?.writeConnectionLost?.();
  }

  handshakeCompleted(): void {
    const wrapped = this.wrappedProtocol as Partial<{ handshakeCompleted(): void }> | null;
    wrapped?.handshakeCompleted?.();
  }
}

/** Options of {@link HAProxyWrappingFactory}. */
export interface HAProxyWrappingFactoryOptions {
  /** Drop connections whose header is not complete within this many seconds (needs `clock`). */
  timeout?: number;
  /** The clock for `timeout` (the reactor). */
  clock?: IReactorTime;
}

/**
 * Wraps a factory for servers behind a proxy speaking the PROXY protocol (HAProxy
 * `send-proxy`/`send-proxy-v2`, nginx `proxy_protocol on`, AWS NLB): each connection must start
 * with a v1 or v2 header; the wrapped factory's protocol is built once it has arrived (its
 * `buildProtocol` gets the real client address) and sees the real source and destination in
 * `transport.getPeer()`/`getHost()`, and every byte after the header. With the `LOCAL` command
 * (health checks) or `UNKNOWN`, the real addresses are kept.
 *
 * Only put it behind a proxy you trust: anyone who can connect directly can claim any address.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8080, new HAProxyWrappingFactory(Factory.forProtocol(Echo)));
 * // in Echo: (this.transport!.getPeer() as IPv4Address).host is the client's, not HAProxy's
 * ```
 */
export class HAProxyWrappingFactory extends Factory<HAProxyProtocolWrapper> {
  /** Seconds allowed for the header, or `null`. */
  readonly timeout: number | null;
  /** The clock used for `timeout`, or `null`. */
  readonly clock: IReactorTime | null;

  constructor(
    /** The factory of the protocols that serve the connections. */
    readonly wrappedFactory: IProtocolFactory,
    options: HAProxyWrappingFactoryOptions = {},
  ) {
    super();
    if (options.timeout !== undefined && options.clock === undefined) {
      throw new TypeError("HAProxyWrappingFactory: a timeout needs a clock");
    }
    this.timeout = options.timeout ?? null;
    this.clock = options.clock ?? null;
  }

  override startFactory(): void {
    this.wrappedFactory.doStart();
  }

  override stopFactory(): void {
    this.wrappedFactory.doStop();
  }

  /** A protocol that reads the header, then builds the wrapped factory's protocol. */
  override buildProtocol(addr: IAddress): HAProxyProtocolWrapper {
    return new HAProxyProtocolWrapper(this);
  }
}

// Importing this module makes `haproxy:<server description>` endpoint strings work (as Twisted's
// plugin does): the inner endpoint's factory is wrapped in an HAProxyWrappingFactory.
registerServerParser(
  wrappingServerParser("haproxy", (factory) => new HAProxyWrappingFactory(factory)),
);
