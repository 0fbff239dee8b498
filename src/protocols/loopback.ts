// loopbackAsync: connects two protocols in memory, delivering their writes asynchronously.

import { Deferred } from "../internet/defer.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IProducer,
  IProtocol,
  IPullProducer,
  IPushProducer,
  IReactorTime,
  ITCPTransport,
} from "../internet/interfaces.js";

/** The address of either end of an in-memory loopback connection. */
export class LoopbackAddress implements IAddress {
  toString(): string {
    return "LoopbackAddress()";
  }
}

/** Delivers chunks queued for `target`; see `identityPumpPolicy` and `collapsingPumpPolicy`. */
export type PumpPolicy = (chunks: readonly Buffer[], target: IProtocol) => void;

/** Delivers each chunk as it was written (the default). */
export const identityPumpPolicy: PumpPolicy = (chunks, target) => {
  for (const c of chunks) target.dataReceived(c);
};

/** Delivers everything queued as one chunk. */
export const collapsingPumpPolicy: PumpPolicy = (chunks, target) => {
  if (chunks.length > 0) target.dataReceived(Buffer.concat(chunks));
};

/** Options of `loopbackAsync`. */
export interface LoopbackOptions {
  /** How queued chunks are handed to the receiving protocol. */
  pumpPolicy?: PumpPolicy;
  /** Schedule deliveries on this clock (`callLater(0)`) instead of `setImmediate`. */
  clock?: IReactorTime;
}

const CLOSE = Symbol("close");
const ABORT = Symbol("abort");
const EOF = Symbol("eof");
type Item = Buffer | typeof CLOSE | typeof ABORT | typeof EOF;

/** Writers are paused once this many bytes wait for a reader that does not read. */
const HIGH_WATER = 65536;

/** One end of a loopback connection: what one protocol writes to. */
class LoopbackTransport implements ITCPTransport {
  disconnecting = false;
  disconnected = false;
  /** The producer registered by this end's protocol. */
  producer: IProducer | null = null;
  streaming = false;
  /** This end's protocol asked not to receive data (`pauseProducing`). */
  readPaused = false;
  /** The registered streaming producer was paused because the peer does not read. */
  writePaused = false;
  /** Data written and not yet delivered to the peer. */
  readonly queue: Item[] = [];
  queuedBytes = 0;
  private writeClosed = false;

  constructor(private readonly link: LoopbackLink) {}

  write(data: Uint8Array | string): void {
    if (this.disconnecting || this.writeClosed || this.disconnected) return;
    const b =
      typeof data === "string"
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (b.length === 0) return;
    this.queue.push(b);
    this.queuedBytes += b.length;
    if (this.queuedBytes > HIGH_WATER && this.streaming && !this.writePaused) {
      this.writePaused = true;
      (this.producer as IPushProducer).pauseProducing();
    }
    this.link.schedule();
  }

  writeSequence(data: readonly (Uint8Array | string)[]): void {
    for (const d of data) this.write(d);
  }

  loseConnection(): void {
    if (this.disconnecting || this.disconnected) return;
    this.disconnecting = true;
    this.queue.push(CLOSE);
    this.link.schedule();
  }

  abortConnection(): void {
    if (this.disconnected) return;
    this.disconnecting = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.queue.push(ABORT);
    this.link.schedule();
  }

  loseWriteConnection(): void {
    if (this.writeClosed || this.disconnecting) return;
    this.writeClosed = true;
    this.queue.push(EOF);
    this.link.schedule();
  }

  getPeer(): IAddress {
    return new LoopbackAddress();
  }

  getHost(): IAddress {
    return new LoopbackAddress();
  }

  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register a producer: one is already registered");
    }
    this.producer = producer;
    this.streaming = streaming;
    this.writePaused = false;
    if (!streaming) this.link.schedule();
  }

  unregisterProducer(): void {
    this.producer = null;
    this.streaming = false;
    this.writePaused = false;
  }

  pauseProducing(): void {
    this.readPaused = true;
  }

  resumeProducing(): void {
    this.readPaused = false;
    this.link.schedule();
  }

  stopProducing(): void {
    this.loseConnection();
  }

  getTcpNoDelay(): boolean {
    return true;
  }

  setTcpNoDelay(enabled: boolean): void {}

  getTcpKeepAlive(): boolean {
    return false;
  }

  setTcpKeepAlive(enabled: boolean): void {}
}

/** The two ends, and the pump that moves data between them. */
class LoopbackLink {
  readonly transports: [LoopbackTransport, LoopbackTransport];
  readonly done = new Deferred<void>();
  private scheduled = false;
  private finished = false;
  /** How the connection ended: `[reason of end 0, reason of end 1]`. */
  private ending: [Error, Error] | null = null;

  constructor(
    private readonly protocols: [IProtocol, IProtocol],
    private readonly pumpPolicy: PumpPolicy,
    private readonly clock: IReactorTime | null,
  ) {
    this.transports = [new LoopbackTransport(this), new LoopbackTransport(this)];
  }

  schedule(): void {
    if (this.scheduled || this.finished) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.pump();
    };
    if (this.clock !== null) this.clock.callLater(0, run);
    else setImmediate(run);
  }

  private pump(): void {
    if (this.finished) return;
    for (const side of [0, 1] as const) this.deliver(side);
    if (this.ending !== null) {
      this.finish(this.ending);
      return;
    }
    for (const t of this.transports) {
      if (t.producer !== null && !t.streaming && !t.disconnecting)
        (t.producer as IPullProducer).resumeProducing();
    }
    const [a, b] = this.transports;
    const pending =
      (a.queue.length > 0 && !b.readPaused) ||
      (b.queue.length > 0 && !a.readPaused) ||
      (a.producer !== null && !a.streaming) ||
      (b.producer !== null && !b.streaming);
    if (pending) this.schedule();
  }

  /** Hands what end `side` wrote to the other end's protocol. */
  private deliver(side: 0 | 1): void {
    const from = this.transports[side];
    const to = this.transports[side === 0 ? 1 : 0];
    const target = this.protocols[side === 0 ? 1 : 0];
    while (from.queue.length > 0 && this.ending === null) {
      const head = from.queue[0];
      if (head === CLOSE || head === ABORT) {
        from.queue.shift();
        const lost = head === ABORT ? new ConnectionAborted() : new ConnectionDone();
        const other = head === ABORT ? new ConnectionLost() : new ConnectionDone();
        this.ending = side === 0 ? [lost, other] : [other, lost];
        return;
      }
      if (head === EOF) {
        from.queue.shift();
        const half = target as Partial<{ readConnectionLost(): void }>;
        const self = this.protocols[side] as Partial<{ writeConnectionLost(): void }>;
        self.writeConnectionLost?.();
        if (typeof half.readConnectionLost === "function") half.readConnectionLost();
        else to.loseConnection();
        continue;
      }
      if (to.readPaused) return;
      const chunks: Buffer[] = [];
      while (from.queue.length > 0 && Buffer.isBuffer(from.queue[0])) {
        const c = from.queue.shift() as Buffer;
        from.queuedBytes -= c.length;
        chunks.push(c);
      }
      this.pumpPolicy(chunks, target);
    }
    if (from.writePaused && from.queuedBytes === 0 && from.producer !== null) {
      from.writePaused = false;
      (from.producer as IPushProducer).resumeProducing();
    }
  }

  private finish(reasons: [Error, Error]): void {
    this.finished = true;
    for (const t of this.transports) {
      t.disconnecting = true;
      t.disconnected = true;
      const p = t.producer;
      t.producer = null;
      p?.stopProducing();
    }
    this.protocols[0].connectionLost(new Failure(reasons[0]));
    this.protocols[1].connectionLost(new Failure(reasons[1]));
    this.done.callback(undefined);
  }
}

/**
 * Connects `server` and `client` in memory: each gets a transport whose writes are delivered
 * to the other asynchronously (on a later turn of the event loop, or of `options.clock`).
 * Closing either side (`loseConnection`, after what was written is delivered) ends the
 * connection: both protocols get `connectionLost` with `ConnectionDone`. Transports accept
 * producers (pull producers are polled on each turn; a streaming producer is paused while its
 * peer does not read) and `pauseProducing` (stop receiving).
 *
 * @returns a Deferred fired once both protocols have been told the connection is lost. It
 *   cannot be cancelled: close a protocol's transport instead.
 *
 * @example
 * ```ts
 * const server = new Echo();
 * const client = new Greeter(); // writes "hi", then closes when it gets it back
 * await loopbackAsync(server, client);
 * ```
 */
export function loopbackAsync(
  server: IProtocol,
  client: IProtocol,
  options: LoopbackOptions = {},
): Deferred<void> {
  const link = new LoopbackLink(
    [server, client],
    options.pumpPolicy ?? identityPumpPolicy,
    options.clock ?? null,
  );
  server.makeConnection(link.transports[0]);
  client.makeConnection(link.transports[1]);
  link.schedule();
  return link.done;
}
