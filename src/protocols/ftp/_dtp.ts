// Server data connections: passive ports from a range with a timeout, active connections, DTP.

import { Deferred } from "../../internet/defer.js";
import { CannotListenError } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type {
  IAddress,
  IConnector,
  IConsumer,
  IDelayedCall,
  IListeningPort,
  IProducer,
  IReactorTCP,
  IReactorTime,
  ITCPTransport,
  ITLSTransport,
  TLSContextOptions,
} from "../../internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../internet/protocol.js";
import { type HostPort, unmapHost } from "./_commands.js";
import { PortConnectionError } from "./_errors.js";

/** The reactor a server's data connections need. */
export type DataReactor = IReactorTCP & IReactorTime;

/** Bytes buffered from an upload before its file is ready; beyond, reading pauses. */
const EARLY_DATA_LIMIT = 1 << 20;

/**
 * The protocol of one data connection (Twisted's `DTP`): what it receives goes to `consumer`
 * (an upload's file); `whenClosed` fires with the reason the connection ended.
 */
export class DTP extends Protocol {
  /** Settles with the `connectionLost` reason (a Promise: a Deferred would treat it as an error). */
  readonly whenClosed: Promise<Failure>;
  private closed!: (reason: Failure) => void;
  /** Bytes received before a consumer was set. */
  private early: Buffer[] = [];
  private earlyLength = 0;
  private consumer: IConsumer | null = null;

  constructor() {
    super();
    this.whenClosed = new Promise((resolve) => {
      this.closed = resolve;
    });
  }

  /** The transport, typed for flow control and TLS. */
  get tcp(): ITLSTransport {
    return this.transport as ITLSTransport;
  }

  /**
   * Sends what the connection receives to `consumer`, registering the transport as its
   * streaming producer so that a slow consumer pauses the upload.
   */
  receiveInto(consumer: IConsumer): void {
    this.consumer = consumer;
    for (const chunk of this.early) consumer.write(chunk);
    this.early = [];
    if (this.earlyLength >= EARLY_DATA_LIMIT) this.tcp.resumeProducing();
    this.earlyLength = 0;
    if (this.connected) consumer.registerProducer(this.tcp, true);
  }

  override dataReceived(data: Buffer): void {
    if (this.consumer !== null) {
      this.consumer.write(data);
      return;
    }
    this.early.push(data);
    this.earlyLength += data.length;
    if (this.earlyLength >= EARLY_DATA_LIMIT) this.tcp.pauseProducing();
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const consumer = this.consumer;
    this.consumer = null;
    consumer?.unregisterProducer();
    this.closed(reason);
  }
}

/** Options of a {@link DataChannel}. */
export interface DataChannelOptions {
  /** Listens for passive connections and makes active ones. */
  reactor: DataReactor;
  /** Passive ports to choose from (inclusive range); `null`: any free port. */
  passivePorts: readonly [number, number] | null;
  /** Seconds to wait for the client to connect to a passive port (or for an active connection). */
  timeout: number;
  /** The local address of the control connection: passive ports listen there. */
  localHost: string;
  /** The client's address: only it may connect to a passive port. */
  peerHost: string;
  /** TLS options for a new data connection (`PROT P`), or `null` for clear text. */
  secure: () => TLSContextOptions | null;
}

/**
 * The data connection of one control connection: a passive port (`PASV`/`EPSV`) or an address
 * to connect to (`PORT`/`EPRT`), then the connection itself for one transfer. A passive port
 * accepts one connection, from the client's address only, and closes as soon as it has it,
 * when the timeout expires, or when the channel is reset; nothing outlives the channel.
 */
export class DataChannel {
  private port: IListeningPort | null = null;
  private active: HostPort | null = null;
  private connector: IConnector | null = null;
  private connection: DTP | null = null;
  private waiter: Deferred<DTP> | null = null;
  private timer: IDelayedCall | null = null;
  private nextPort = 0;

  constructor(private readonly options: DataChannelOptions) {}

  /** Whether `PASV`/`EPSV`/`PORT`/`EPRT` set up the next transfer's connection. */
  get configured(): boolean {
    return this.port !== null || this.active !== null || this.connection !== null;
  }

  /** Whether the data connection is already open (the transfer then starts with 125). */
  get isConnected(): boolean {
    return this.connection !== null;
  }

  /**
   * Listens on a passive port (closing any previous one) and returns its number. Raises
   * `PortConnectionError` (425) when no port of the range is free.
   */
  listen(): number {
    this.reset();
    const factory = new PassiveFactory(this);
    const [low, high] = this.options.passivePorts ?? [0, 0];
    const count = high - low + 1;
    const start = this.nextPort;
    for (let i = 0; i < count; i++) {
      const n = low === 0 ? 0 : low + ((start + i) % count);
      try {
        this.port = this.options.reactor.listenTCP(n, factory, 1, this.options.localHost);
        this.nextPort = (start + i + 1) % count;
        break;
      } catch (e) {
        if (!(e instanceof CannotListenError) || low === 0)
          throw new PortConnectionError(
            `Cannot listen for the data connection: ${(e as Error).message}`,
            { cause: e },
          );
      }
    }
    if (this.port === null) throw new PortConnectionError("No passive port free, try again later");
    this.timer = this.options.reactor.callLater(this.options.timeout, () => {
      this.timer = null;
      this.fail(
        new PortConnectionError("Can't open data connection: the client did not connect in time"),
      );
      this.reset();
    });
    const host = this.port.getHost() as IAddress & { port: number };
    return host.port;
  }

  /** Uses `address` for the next transfer's connection (closing any passive port). */
  connectTo(address: HostPort): void {
    this.reset();
    this.active = address;
  }

  /**
   * The data connection for a transfer: the one accepted on the passive port (now or when the
   * client connects) or a new one to the `PORT` address. Fails with `PortConnectionError` (425)
   * on timeout or refusal. The channel is then unconfigured: each transfer sets it up anew.
   */
  open(): Deferred<DTP> {
    if (this.waiter !== null) return this.waiter;
    const d = new Deferred<DTP>();
    if (this.connection !== null) {
      const c = this.connection;
      this.connection = null;
      return d.callback(c);
    }
    if (this.port !== null) {
      this.waiter = d;
      return d;
    }
    const address = this.active;
    if (address === null) return d.errback(new PortConnectionError("Use PORT or PASV first"));
    this.active = null;
    this.waiter = d;
    this.connector = this.options.reactor.connectTCP(
      address.host,
      address.port,
      new ActiveFactory(this),
      this.options.timeout,
    );
    return d;
  }

  /** Closes the passive port, drops an unused connection and fails a pending `open()`. */
  reset(reason?: Error): void {
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port !== null) void port.stopListening();
    this.active = null;
    const connector = this.connector;
    this.connector = null;
    if (connector !== null && connector.state === "connecting") connector.stopConnecting();
    const connection = this.connection;
    this.connection = null;
    (connection?.transport as ITCPTransport | null)?.abortConnection();
    if (reason !== undefined) this.fail(reason);
  }

  private fail(reason: Error): void {
    const w = this.waiter;
    this.waiter = null;
    w?.errback(reason);
  }

  /** A passive connection from `peer`: accepted once, from the client only. @internal */
  _accept(peer: IAddress): DTP | null {
    const host = (peer as { host?: string }).host;
    if (
      this.port === null ||
      host === undefined ||
      unmapHost(host) !== unmapHost(this.options.peerHost)
    ) {
      return null;
    }
    const port = this.port;
    this.port = null;
    void port.stopListening();
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
    return new ChannelDTP(this);
  }

  /** A data connection is up (passive or active). @internal */
  _connected(dtp: DTP): void {
    this.connector = null;
    const tls = this.options.secure();
    if (tls !== null) dtp.tcp.startTLS({ ...tls, isServer: true });
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) w.callback(dtp);
    else this.connection = dtp;
  }

  /** The active connection failed. @internal */
  _failed(reason: Failure): void {
    this.connector = null;
    this.fail(new PortConnectionError(`Can't open data connection: ${reason.getErrorMessage()}`));
  }

  /** An unused connection closed before its transfer. @internal */
  _lost(dtp: DTP): void {
    if (this.connection === dtp) this.connection = null;
  }
}

class ChannelDTP extends DTP {
  constructor(private readonly channel: DataChannel) {
    super();
  }
  override connectionMade(): void {
    this.channel._connected(this);
  }
  override connectionLost(reason: Failure): void {
    this.channel._lost(this);
    super.connectionLost(reason);
  }
}

class PassiveFactory extends Factory<DTP> {
  override noisy = false;
  constructor(private readonly channel: DataChannel) {
    super();
  }
  override buildProtocol(addr: IAddress): DTP | null {
    return this.channel._accept(addr);
  }
}

class ActiveFactory extends ClientFactory<DTP> {
  override noisy = false;
  constructor(private readonly channel: DataChannel) {
    super();
  }
  override buildProtocol(): DTP {
    return new ChannelDTP(this.channel);
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.channel._failed(reason);
  }
}

// ASCII mode ---------------------------------------------------------------------------------------

/**
 * A consumer that turns local line ends (LF) into the network's (CRLF) on the way to `consumer`
 * (`TYPE A` downloads); CRLF already in the data stays as it is.
 */
export class AsciiSendingConsumer implements IConsumer {
  private lastWasCR = false;
  constructor(private readonly consumer: IConsumer) {}

  registerProducer(producer: IProducer, streaming: boolean): void {
    this.consumer.registerProducer(producer, streaming);
  }
  unregisterProducer(): void {
    this.consumer.unregisterProducer();
  }
  write(data: Uint8Array | string): void {
    const b =
      typeof data === "string"
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.length);
    if (b.length === 0) return;
    const out = toCRLF(b, this.lastWasCR);
    this.lastWasCR = b[b.length - 1] === 0x0d;
    this.consumer.write(out);
  }
}

/** Turns bare LFs of `b` into CRLF (`afterCR`: the byte before `b` was a CR). */
export function toCRLF(b: Buffer, afterCR = false): Buffer {
  let i = b.indexOf(0x0a);
  if (i < 0) return b;
  const parts: Buffer[] = [];
  let start = 0;
  while (i >= 0) {
    const prevCR = i > 0 ? b[i - 1] === 0x0d : afterCR;
    if (!prevCR) {
      parts.push(b.subarray(start, i), CRLF);
      start = i + 1;
    }
    i = b.indexOf(0x0a, i + 1);
  }
  if (parts.length === 0) return b;
  parts.push(b.subarray(start));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from("\r\n");

/**
 * A consumer that turns the network's line ends (CRLF) into local ones (LF) on the way to
 * `consumer` (`TYPE A` uploads). A CR at the end of a chunk waits for the next byte.
 */
export class AsciiReceivingConsumer implements IConsumer {
  private pendingCR = false;
  constructor(private readonly consumer: IConsumer) {}

  registerProducer(producer: IProducer, streaming: boolean): void {
    this.consumer.registerProducer(producer, streaming);
  }
  unregisterProducer(): void {
    this.flush();
    this.consumer.unregisterProducer();
  }
  write(data: Uint8Array | string): void {
    let b =
      typeof data === "string"
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.length);
    if (b.length === 0) return;
    if (this.pendingCR) {
      this.pendingCR = false;
      b = Buffer.concat([b[0] === 0x0a ? Buffer.alloc(0) : Buffer.from("\r"), b]);
    }
    if (b[b.length - 1] === 0x0d) {
      this.pendingCR = true;
      b = b.subarray(0, b.length - 1);
    }
    let i = b.indexOf("\r\n");
    if (i < 0) {
      if (b.length > 0) this.consumer.write(b);
      return;
    }
    const parts: Buffer[] = [];
    let start = 0;
    while (i >= 0) {
      parts.push(b.subarray(start, i));
      start = i + 1;
      i = b.indexOf("\r\n", start);
    }
    parts.push(b.subarray(start));
    this.consumer.write(Buffer.concat(parts));
  }
  /** Writes a CR held back at the end of the stream. */
  flush(): void {
    if (this.pendingCR) {
      this.pendingCR = false;
      this.consumer.write(Buffer.from("\r"));
    }
  }
}
