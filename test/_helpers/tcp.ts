// Helpers of the loopback stream tests (TCP, Unix, TLS): recording protocols and factories.

import { afterEach } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { TCPTransport } from "../../src/internet/_tcp.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IAddress, IConnector, IListeningPort } from "../../src/internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../src/internet/protocol.js";
import type { LogEvent } from "../../src/logger/index.js";
import { globalLogPublisher } from "../../src/logger/index.js";

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
export function within<T>(what: string, promise: PromiseLike<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function. */
export interface Signal<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  fired: boolean;
}

/** Makes a `Signal`. */
export function signal<T = void>(): Signal<T> {
  let resolve!: (v: T) => void;
  const s: Signal<T> = {
    promise: new Promise<T>((r) => {
      resolve = r;
    }),
    resolve: (v: T) => {
      s.fired = true;
      resolve(v);
    },
    fired: false,
  };
  return s;
}

/** A protocol that records what happens to it. */
export class Recorder extends Protocol {
  readonly chunks: Buffer[] = [];
  readonly made = signal<this>();
  readonly lost = signal<Failure>();
  readonly readLost = signal();
  readonly writeLost = signal();
  lostCount = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  override connectionMade(): void {
    this.made.resolve(this);
  }

  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
    const size = this.size;
    this.waiters = this.waiters.filter((w) => {
      if (size < w.n) return true;
      w.resolve();
      return false;
    });
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lostCount++;
    this.lost.resolve(reason);
  }

  /** Bytes received so far. */
  get size(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  /** Everything received so far. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `n` bytes have arrived. */
  waitForBytes(n: number, ms = 5000): Promise<void> {
    if (this.size >= n) return Promise.resolve();
    return within(
      `${n} bytes`,
      new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
      ms,
    );
  }
}

/** Echoes what it receives. */
export class Echo extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
}

/** A half-closeable recorder: it knows when the peer or it half-closed. */
export class HalfCloseRecorder extends Recorder {
  readConnectionLost(): void {
    this.readLost.resolve();
  }
  writeConnectionLost(): void {
    this.writeLost.resolve();
  }
}

/** A server factory that keeps the protocols it built and tells when the next one is made. */
export class RecordingFactory<P extends Recorder> extends Factory<P> {
  readonly built: P[] = [];
  readonly addresses: IAddress[] = [];
  private pending: Signal<P>[] = [];
  started = 0;
  stopped = 0;

  constructor(protocolClass: new () => P) {
    super();
    this.protocol = protocolClass;
    this.noisy = false;
  }

  override startFactory(): void {
    this.started++;
  }
  override stopFactory(): void {
    this.stopped++;
  }

  override buildProtocol(addr: IAddress): P | null {
    const p = super.buildProtocol(addr)!;
    this.built.push(p);
    this.addresses.push(addr);
    const s = this.pending[this.built.length - 1];
    if (s !== undefined) s.resolve(p);
    return p;
  }

  /** Resolves with the `i`-th protocol built (0-based) once its connection is made. */
  async nth(i: number): Promise<P> {
    while (this.pending.length <= i) this.pending.push(signal<P>());
    const existing = this.built[i];
    if (existing !== undefined) this.pending[i]!.resolve(existing);
    const p = await within(`protocol #${i}`, this.pending[i]!.promise);
    return within(`connectionMade of #${i}`, p.made.promise);
  }
}

/** A client factory that records connection failures and losses. */
export class RecordingClientFactory<P extends Recorder> extends ClientFactory<P> {
  readonly built: P[] = [];
  readonly connected = signal<P>();
  readonly failed = signal<Failure>();
  readonly lost = signal<Failure>();
  readonly events: string[] = [];
  started = 0;
  stopped = 0;

  constructor(protocolClass: new () => P) {
    super();
    this.protocol = protocolClass;
    this.noisy = false;
  }

  override startFactory(): void {
    this.started++;
    this.events.push("startFactory");
  }
  override stopFactory(): void {
    this.stopped++;
    this.events.push("stopFactory");
  }
  override startedConnecting(connector: IConnector): void {
    this.events.push("startedConnecting");
  }
  override buildProtocol(addr: IAddress): P | null {
    const p = super.buildProtocol(addr)!;
    this.built.push(p);
    this.events.push("buildProtocol");
    p.made.promise.then((x) => this.connected.resolve(x));
    return p;
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.events.push("clientConnectionFailed");
    this.failed.resolve(reason);
  }
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.events.push("clientConnectionLost");
    this.lost.resolve(reason);
  }
}

/** Stops every port given, waiting for each. */
export async function stopAll(ports: IListeningPort[]): Promise<void> {
  await Promise.all(ports.splice(0).map((p) => within("stopListening", p.stopListening())));
}

/** Records the log events emitted while `fn`'s promise runs. */
export async function capturingLogs<T>(fn: (events: LogEvent[]) => Promise<T>): Promise<T> {
  const events: LogEvent[] = [];
  const observer = (e: LogEvent): void => {
    events.push(e);
  };
  globalLogPublisher.addObserver(observer);
  try {
    return await fn(events);
  } finally {
    globalLogPublisher.removeObserver(observer);
  }
}

/** The port number of an IP address. */
export function portOf(address: IAddress): number {
  return (address as { port: number }).port;
}

/** What a loopback test file shares: its reactor, and what to close after each test. */
export interface LoopbackSuite {
  reactor: NodeReactor;
  /** Ports to stop after each test. */
  ports: IListeningPort[];
  /** Protocols whose connections are aborted after each test. */
  protocols: Recorder[];
}

/**
 * Makes the reactor of a loopback test file and registers an `afterEach` that aborts the
 * connections of `protocols` and stops `ports`. Call it once, at the top level of the file.
 */
export function loopbackSuite(): LoopbackSuite {
  const suite: LoopbackSuite = { reactor: new NodeReactor(), ports: [], protocols: [] };
  afterEach(async () => {
    for (const p of suite.protocols.splice(0)) {
      (p.transport as TCPTransport | null)?.abortConnection();
    }
    await stopAll(suite.ports);
  });
  return suite;
}

/** The transport of a connected recorder, as a `TCPTransport`. */
export function tx(p: Recorder): TCPTransport {
  return p.transport as TCPTransport;
}
