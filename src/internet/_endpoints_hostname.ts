// HostnameEndpoint: resolves a name to all its addresses and races connections (happy eyeballs).

import {
  _literalFamily,
  _resolveWith,
  type HostResolver,
  type ResolvedAddress,
  systemResolver,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
} from "./_endpoints_client.js";
import { Deferred } from "./defer.js";
import type { IStreamClientEndpoint } from "./endpoints.js";
import { ConnectingCancelledError, DNSLookupError } from "./error.js";
import type { Failure } from "./failure.js";
import type {
  IAddress,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
  IReactorTCP,
  IReactorTime,
} from "./interfaces.js";

/** Options of `HostnameEndpoint`. */
export interface HostnameEndpointOptions {
  /** Seconds each connection attempt may take before failing with `TimeoutError`. */
  timeout?: number;
  /** Local address to connect from. */
  bindAddress?: readonly [string, number];
  /** Seconds to wait for an attempt before starting the next one in parallel. */
  attemptDelay?: number;
  /** Resolves the host name (default: `dns.lookup(host, { all: true })`). */
  resolver?: HostResolver;
}

/**
 * Orders addresses for connection attempts (RFC 8305 §4): the first address's family first,
 * then alternating families, each family keeping the resolver's order. Duplicates are dropped.
 */
export function interleaveAddresses(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const seen = new Set<string>();
  const unique = addresses.filter((a) => !seen.has(a.address) && seen.add(a.address));
  const first = unique[0]?.family ?? 6;
  const preferred = unique.filter((a) => a.family === first);
  const other = unique.filter((a) => a.family !== first);
  const out: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(preferred.length, other.length); i++) {
    const p = preferred[i];
    const o = other[i];
    if (p !== undefined) out.push(p);
    if (o !== undefined) out.push(o);
  }
  return out;
}

/**
 * Connects to a host name over TCP the way browsers do ("happy eyeballs", RFC 8305): it
 * resolves the name to all its IPv6 and IPv4 addresses, tries them in interleaved order,
 * starting the next attempt `attemptDelay` seconds after the previous one (or as soon as it
 * fails), and keeps the first connection made, cancelling the other attempts.
 *
 * @example
 * ```ts
 * const endpoint = new HostnameEndpoint(reactor, "example.com", 80, { timeout: 10 });
 * const proto = await connectProtocol(endpoint, new MyProtocol());
 * ```
 */
export class HostnameEndpoint implements IStreamClientEndpoint {
  /** Seconds each attempt may take. */
  readonly timeout: number;
  /** Local address to connect from, if any. */
  readonly bindAddress: readonly [string, number] | undefined;
  /** Seconds between the starts of attempts. */
  readonly attemptDelay: number;
  /** The resolver of host names. */
  readonly resolver: HostResolver;

  constructor(
    readonly reactor: IReactorTCP & IReactorTime,
    readonly host: string,
    readonly port: number,
    options: HostnameEndpointOptions = {},
  ) {
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress;
    this.attemptDelay = options.attemptDelay ?? 0.3;
    this.resolver = options.resolver ?? systemResolver;
  }

  /**
   * Connects a protocol built by `factory` (built once, for the winning connection only). Fires
   * with it once connected; fails with `DNSLookupError` when the name has no address, or with
   * the last attempt's error when every attempt failed. Cancelling stops the resolution or
   * every pending attempt and its timer, and fails with `ConnectingCancelledError`.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    return new ConnectionRace(this, factory).start();
  }

  toString(): string {
    return `HostnameEndpoint(host="${this.host}", port=${this.port})`;
  }
}

/** Lets only the first connection of a race build a protocol. */
class OnceFactory {
  won = false;
  constructor(readonly wrapped: IProtocolFactory) {}
  doStart(): void {
    this.wrapped.doStart();
  }
  doStop(): void {
    this.wrapped.doStop();
  }
  buildProtocol(addr: IAddress): IProtocol | null {
    return this.won ? null : this.wrapped.buildProtocol(addr);
  }
}

/** One `HostnameEndpoint.connect` call. */
class ConnectionRace {
  private readonly result: Deferred<IProtocol>;
  private readonly factory: OnceFactory;
  private resolving: Deferred<readonly ResolvedAddress[]> | null = null;
  private queue: ResolvedAddress[] = [];
  private readonly attempts = new Set<Deferred<IProtocol>>();
  private timer: IDelayedCall | null = null;
  /** Set once the race has a result (a winner, a failure or a cancel). */
  private finished = false;

  constructor(
    private readonly endpoint: HostnameEndpoint,
    factory: IProtocolFactory,
  ) {
    this.factory = new OnceFactory(factory);
    this.result = new Deferred<IProtocol>((d) => this.cancel(d));
  }

  start(): Deferred<IProtocol> {
    const { host } = this.endpoint;
    const bare = host.replace(/^\[(.*)\]$/, "$1");
    const family = _literalFamily(bare);
    if (family !== null) {
      this.begin([{ address: bare, family }]);
      return this.result;
    }
    const resolving = _resolveWith(this.endpoint.resolver, host);
    this.resolving = resolving;
    resolving.addCallbacks(
      (addresses) => {
        this.resolving = null;
        if (this.finished) return;
        if (addresses.length === 0) {
          this.finished = true;
          this.result.errback(new DNSLookupError(`DNS lookup failed: no address for "${host}"`));
        } else {
          this.begin(addresses);
        }
      },
      (f: Failure) => {
        this.resolving = null;
        if (this.finished) return;
        this.finished = true;
        this.result.errback(
          new DNSLookupError(`DNS lookup failed: "${host}": ${f.getErrorMessage()}`, {
            cause: f.value,
          }),
        );
      },
    );
    return this.result;
  }

  private begin(addresses: readonly ResolvedAddress[]): void {
    this.queue = interleaveAddresses(addresses);
    this.startNext();
  }

  private startNext(): void {
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
    const next = this.queue.shift();
    if (next === undefined) return;
    const { reactor, port, timeout, bindAddress } = this.endpoint;
    const endpoint =
      next.family === 6
        ? new TCP6ClientEndpoint(reactor, next.address, port, timeout, bindAddress)
        : new TCP4ClientEndpoint(reactor, next.address, port, timeout, bindAddress);
    const attempt = endpoint.connect(this.factory);
    this.attempts.add(attempt);
    attempt.addCallbacks(
      (protocol) => this.won(attempt, protocol),
      (f: Failure) => this.lost(attempt, f),
    );
    // A failure reported at once has already moved on to the next address.
    if (
      this.attempts.has(attempt) &&
      this.timer === null &&
      this.queue.length > 0 &&
      !this.finished
    ) {
      this.timer = reactor.callLater(this.endpoint.attemptDelay, () => this.startNext());
    }
  }

  private won(attempt: Deferred<IProtocol>, protocol: IProtocol): void {
    this.attempts.delete(attempt);
    if (this.finished) {
      // Cancelled meanwhile: nobody wants this connection.
      (protocol as { transport?: { loseConnection(): void } | null }).transport?.loseConnection();
      return;
    }
    this.finished = true;
    this.factory.won = true;
    this.stopEverything();
    this.result.callback(protocol);
  }

  private lost(attempt: Deferred<IProtocol>, f: Failure): void {
    this.attempts.delete(attempt);
    if (this.finished) return;
    if (this.queue.length > 0) {
      this.startNext();
    } else if (this.attempts.size === 0) {
      this.finished = true;
      this.stopEverything();
      this.result.errback(f);
    }
  }

  private stopEverything(): void {
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
    this.queue = [];
    this.resolving?.cancel();
    this.resolving = null;
    for (const attempt of [...this.attempts]) attempt.cancel();
    this.attempts.clear();
  }

  private cancel(d: Deferred<IProtocol>): void {
    this.finished = true;
    d.errback(new ConnectingCancelledError(`${this.endpoint.host}:${this.endpoint.port}`));
    this.stopEverything();
  }
}
