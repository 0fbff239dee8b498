// ThrottlingFactory: limits the connections and the bytes per second read and written by a factory's protocols.

import { _globalReactor } from "../internet/_global.js";
import type {
  IAddress,
  IDelayedCall,
  IProducer,
  IPushProducer,
  IReactorTime,
} from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import {
  ProtocolWrapper,
  type ProtocolWrapperClass,
  type WrappedFactory,
  WrappingFactory,
} from "./_wrapping.js";

const log = new Logger("twisted-ts.protocols.policies");

/** Counts the bytes of one connection for its `ThrottlingFactory`, and pauses it on demand. */
export class ThrottlingProtocol extends ProtocolWrapper {
  /** The producer the wrapped protocol registered, paused while writes are throttled. */
  producer: IProducer | null = null;

  private get throttler(): ThrottlingFactory {
    return this.factory as ThrottlingFactory;
  }

  override write(data: Uint8Array | string): void {
    this.throttler.registerWritten(byteLength(data));
    super.write(data);
  }

  override writeSequence(data: readonly (Uint8Array | string)[]): void {
    let n = 0;
    for (const d of data) n += byteLength(d);
    this.throttler.registerWritten(n);
    super.writeSequence(data);
  }

  override dataReceived(data: Buffer): void {
    this.throttler.registerRead(data.length);
    super.dataReceived(data);
  }

  override registerProducer(producer: IProducer, streaming: boolean): void {
    this.producer = producer;
    super.registerProducer(producer, streaming);
  }

  override unregisterProducer(): void {
    this.producer = null;
    super.unregisterProducer();
  }

  /** Stops reading from the real transport. */
  throttleReads(): void {
    super.pauseProducing();
  }

  /** Reads from the real transport again. */
  unthrottleReads(): void {
    super.resumeProducing();
  }

  /** Pauses the wrapped protocol's producer, if it registered one. */
  throttleWrites(): void {
    (this.producer as Partial<IPushProducer> | null)?.pauseProducing?.();
  }

  /** Resumes the wrapped protocol's producer, if it registered one. */
  unthrottleWrites(): void {
    (this.producer as Partial<IPushProducer> | null)?.resumeProducing?.();
  }
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.length;
}

/** Options of `ThrottlingFactory`. */
export interface ThrottlingOptions {
  /** Connections beyond this many are refused. Default: unlimited. */
  maxConnectionCount?: number;
  /** Bytes per second read over all connections; `null` (default) for no limit. */
  readLimit?: number | null;
  /** Bytes per second written over all connections; `null` (default) for no limit. */
  writeLimit?: number | null;
  /** The clock to measure seconds on (default: the global reactor). */
  clock?: IReactorTime;
}

/**
 * Limits the connections of a factory, and the bytes per second they read and write in total.
 * Every second, if more than `readLimit` bytes were read, every connection stops reading for as
 * long as the excess would take at the limit (and likewise `writeLimit` pauses the producers
 * that the protocols registered).
 *
 * @example
 * ```ts
 * const factory = new ThrottlingFactory(Factory.forProtocol(Echo), {
 *   maxConnectionCount: 100,
 *   readLimit: 64 * 1024,
 * });
 * reactor.listenTCP(8000, factory);
 * ```
 */
export class ThrottlingFactory extends WrappingFactory {
  override protocol: ProtocolWrapperClass = ThrottlingProtocol;
  /** Connections beyond this many are refused. */
  maxConnectionCount: number;
  /** Bytes per second read, or `null` for no limit. */
  readLimit: number | null;
  /** Bytes per second written, or `null` for no limit. */
  writeLimit: number | null;
  /** The clock (`null`: the global reactor). */
  clock: IReactorTime | null;
  /** Bytes read since the last check. */
  readThisSecond = 0;
  /** Bytes written since the last check. */
  writtenThisSecond = 0;
  /** How many connections are open (built and not yet lost). */
  connectionCount = 0;
  unthrottleReadsID: IDelayedCall | null = null;
  checkReadBandwidthID: IDelayedCall | null = null;
  unthrottleWritesID: IDelayedCall | null = null;
  checkWriteBandwidthID: IDelayedCall | null = null;

  constructor(wrappedFactory: WrappedFactory, options: ThrottlingOptions = {}) {
    super(wrappedFactory);
    this.maxConnectionCount = options.maxConnectionCount ?? Number.POSITIVE_INFINITY;
    this.readLimit = options.readLimit ?? null;
    this.writeLimit = options.writeLimit ?? null;
    this.clock = options.clock ?? null;
  }

  /** Schedules a call on the clock. */
  callLater(delay: number, fn: () => void): IDelayedCall {
    return (this.clock ?? _globalReactor<IReactorTime>()).callLater(delay, fn);
  }

  /** Counts bytes written. */
  registerWritten(length: number): void {
    this.writtenThisSecond += length;
  }

  /** Counts bytes read. */
  registerRead(length: number): void {
    this.readThisSecond += length;
  }

  /** Throttles reads if the last second went over `readLimit`; runs every second. */
  checkReadBandwidth(): void {
    const limit = this.readLimit;
    if (limit !== null && this.readThisSecond > limit) {
      this.throttleReads();
      this.unthrottleReadsID = this.callLater(this.readThisSecond / limit - 1, () =>
        this.unthrottleReads(),
      );
    }
    this.readThisSecond = 0;
    this.checkReadBandwidthID = this.callLater(1, () => this.checkReadBandwidth());
  }

  /** Throttles writes if the last second went over `writeLimit`; runs every second. */
  checkWriteBandwidth(): void {
    const limit = this.writeLimit;
    if (limit !== null && this.writtenThisSecond > limit) {
      this.throttleWrites();
      this.unthrottleWritesID = this.callLater(this.writtenThisSecond / limit - 1, () =>
        this.unthrottleWrites(),
      );
    }
    this.writtenThisSecond = 0;
    this.checkWriteBandwidthID = this.callLater(1, () => this.checkWriteBandwidth());
  }

  /** Stops every connection reading. */
  throttleReads(): void {
    log.debug("Throttling reads on {factory}", { factory: this.logPrefix() });
    for (const p of this.protocols) (p as ThrottlingProtocol).throttleReads();
  }

  /** Lets every connection read again. */
  unthrottleReads(): void {
    this.unthrottleReadsID = null;
    log.debug("Stopped throttling reads on {factory}", { factory: this.logPrefix() });
    for (const p of this.protocols) (p as ThrottlingProtocol).unthrottleReads();
  }

  /** Pauses every connection's producer. */
  throttleWrites(): void {
    log.debug("Throttling writes on {factory}", { factory: this.logPrefix() });
    for (const p of this.protocols) (p as ThrottlingProtocol).throttleWrites();
  }

  /** Resumes every connection's producer. */
  unthrottleWrites(): void {
    this.unthrottleWritesID = null;
    log.debug("Stopped throttling writes on {factory}", { factory: this.logPrefix() });
    for (const p of this.protocols) (p as ThrottlingProtocol).unthrottleWrites();
  }

  /** Refuses the connection (`null`) when `maxConnectionCount` are open. */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    if (this.connectionCount === 0) {
      if (this.readLimit !== null && this.checkReadBandwidthID === null) this.checkReadBandwidth();
      if (this.writeLimit !== null && this.checkWriteBandwidthID === null) {
        this.checkWriteBandwidth();
      }
    }
    if (this.connectionCount >= this.maxConnectionCount) {
      log.info("Max connection count reached: refusing a connection from {peer}", {
        peer: String(addr),
      });
      return null;
    }
    const p = super.buildProtocol(addr);
    if (p !== null) this.connectionCount++;
    return p;
  }

  /** Forgets the connection; the last one cancels the bandwidth checks. */
  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    this.connectionCount--;
    if (this.connectionCount === 0) {
      for (const id of [
        "unthrottleReadsID",
        "checkReadBandwidthID",
        "unthrottleWritesID",
        "checkWriteBandwidthID",
      ] as const) {
        const call = this[id];
        if (call?.active()) call.cancel();
        this[id] = null;
      }
    }
  }
}
