// Network services: StreamServerEndpointService, TimerService, ClientService, strports.

import { _globalReactor } from "../internet/_global.js";
import { Deferred, maybeDeferred } from "../internet/defer.js";
import {
  type IStreamClientEndpoint,
  type IStreamServerEndpoint,
  serverFromString,
} from "../internet/endpoints.js";
import { CancelledError } from "../internet/error.js";
import type { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IDelayedCall,
  IListeningPort,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  ITransport,
} from "../internet/interfaces.js";
import { LoopingCall } from "../internet/task.js";
import { Logger } from "../logger/index.js";
import { Service } from "./_service.js";

const log = new Logger("twisted-ts.application.internet");

/**
 * Listens on a server endpoint while running: `startService` calls `endpoint.listen(factory)`,
 * `stopService` stops listening. A listen failure is logged (and kept in `listenFailure`);
 * `whenListening()` gives the port, or the failure.
 *
 * @example
 * ```ts
 * new StreamServerEndpointService(serverFromString(reactor, "tcp:8080"), factory)
 *   .setServiceParent(application);
 * ```
 */
export class StreamServerEndpointService extends Service {
  /** The listening port, once listening. */
  port: IListeningPort | null = null;
  /** Why listening failed, if it did. */
  listenFailure: Failure | null = null;
  private waiting: Deferred<IListeningPort> | null = null;
  private readonly listeners: Deferred<IListeningPort>[] = [];

  constructor(
    readonly endpoint: IStreamServerEndpoint,
    readonly factory: IProtocolFactory,
  ) {
    super();
  }

  override startService(): void {
    super.startService();
    this.listenFailure = null;
    const d = this.endpoint.listen(this.factory);
    this.waiting = d;
    d.addCallbacks(
      (port) => {
        this.waiting = null;
        this.port = port;
        for (const l of this.listeners.splice(0)) l.callback(port);
        return null;
      },
      (f: Failure) => {
        this.waiting = null;
        this.listenFailure = f;
        log.failure("Cannot listen on {endpoint}", f, undefined, {
          endpoint: String(this.endpoint),
        });
        for (const l of this.listeners.splice(0)) l.errback(f);
        return null;
      },
    );
  }

  /** Fires with the port once listening, or fails with the reason listening failed. */
  whenListening(): Deferred<IListeningPort> {
    if (this.port !== null) return new Deferred<IListeningPort>().callback(this.port) as never;
    const d = new Deferred<IListeningPort>();
    if (this.listenFailure !== null) d.errback(this.listenFailure);
    else this.listeners.push(d);
    return d;
  }

  override stopService(): Deferred<unknown> {
    super.stopService();
    if (this.waiting !== null) {
      this.waiting.cancel();
      this.waiting = null;
    }
    const port = this.port;
    this.port = null;
    if (port === null) return maybeDeferred(() => undefined);
    return maybeDeferred(() => port.stopListening());
  }
}

/**
 * Calls `fn(...args)` every `step` seconds while running (a `LoopingCall`; the first call is
 * at start).
 */
export class TimerService extends Service {
  /** The looping call, while running. */
  readonly call: LoopingCall;
  /** The clock (defaults to the global reactor). */
  clock: IReactorTime | null = null;
  private loop: Deferred<unknown> | null = null;

  constructor(
    readonly step: number,
    fn: (...args: unknown[]) => unknown,
    ...args: unknown[]
  ) {
    super();
    this.call = new LoopingCall(fn, ...args);
  }

  override startService(): void {
    super.startService();
    this.call.clock = this.clock ?? _globalReactor<IReactorTime>();
    this.loop = this.call.start(this.step, true) as Deferred<unknown>;
    this.loop.addErrback((f: Failure) => {
      log.failure("TimerService call failed", f);
      return null;
    });
  }

  override stopService(): Deferred<unknown> {
    super.stopService();
    if (this.call.running) this.call.stop();
    const loop = this.loop;
    this.loop = null;
    return loop ?? maybeDeferred(() => undefined);
  }
}

/** Chooses how long to wait before the next attempt, given how many failed in a row. */
export type RetryPolicy = (failedAttempts: number) => number;

/**
 * Exponential back-off: `min(initialDelay * factor ** attempt, maxDelay) + jitter()` seconds.
 */
export function backoffPolicy(
  options: {
    initialDelay?: number;
    maxDelay?: number;
    factor?: number;
    jitter?: () => number;
  } = {},
): RetryPolicy {
  const { initialDelay = 1.0, maxDelay = 60, factor = 1.5, jitter = Math.random } = options;
  return (attempt) =>
    Math.min(initialDelay * factor ** Math.min(attempt, 100), maxDelay) + jitter();
}

type Waiter = { d: Deferred<IProtocol>; failAfter: number | null };

/**
 * Keeps one client connection up: connects when started, reconnects (with `retryPolicy`
 * back-off) whenever the connection fails or is lost, and disconnects when stopped.
 *
 * @example
 * ```ts
 * const svc = new ClientService(clientFromString(reactor, "tcp:host=irc.example:port=6667"), factory);
 * svc.startService();
 * const proto = await svc.whenConnected();
 * ```
 */
export class ClientService extends Service {
  private readonly clock: IReactorTime;
  private readonly retryPolicy: RetryPolicy;
  private readonly prepareConnection: ((p: IProtocol) => unknown) | null;
  private current: IProtocol | null = null;
  private currentTransport: ITransport | null = null;
  private attempt: Deferred<IProtocol> | null = null;
  private retryCall: IDelayedCall | null = null;
  private failures = 0;
  private lastFailure: Failure | null = null;
  private waiters: Waiter[] = [];
  private lostWaiters: Deferred<unknown>[] = [];

  constructor(
    readonly endpoint: IStreamClientEndpoint,
    readonly factory: IProtocolFactory,
    options: {
      retryPolicy?: RetryPolicy;
      clock?: IReactorTime;
      prepareConnection?: (protocol: IProtocol) => unknown;
    } = {},
  ) {
    super();
    this.clock = options.clock ?? _globalReactor<IReactorTime>();
    this.retryPolicy = options.retryPolicy ?? backoffPolicy();
    this.prepareConnection = options.prepareConnection ?? null;
  }

  override startService(): void {
    if (this.running) return;
    super.startService();
    this.failures = 0;
    this.connect();
  }

  /**
   * Fires with the connected protocol: at once if connected, else at the next connection.
   * With `failAfterFailures`, fails after that many consecutive failed attempts. Fails with
   * `CancelledError` when the service stops first.
   */
  whenConnected(options: { failAfterFailures?: number } = {}): Deferred<IProtocol> {
    const d = new Deferred<IProtocol>((self) => {
      this.waiters = this.waiters.filter((w) => w.d !== self);
    });
    if (this.current !== null) {
      d.callback(this.current);
      return d;
    }
    if (!this.running) {
      d.errback(new CancelledError("ClientService is not running"));
      return d;
    }
    this.waiters.push({ d, failAfter: options.failAfterFailures ?? null });
    return d;
  }

  private connect(): void {
    this.retryCall = null;
    const d = this.endpoint.connect(new _LossNotifyingFactory(this.factory, (p) => this.lost(p)));
    this.attempt = d;
    d.addCallbacks(
      (proxy: IProtocol) => {
        this.attempt = null;
        const proto = (proxy as _LossNotifyingProtocol).wrapped;
        const prepared = this.prepareConnection
          ? maybeDeferred(this.prepareConnection, proto)
          : null;
        const ready = () => {
          this.failures = 0;
          this.current = proto;
          this.currentTransport = (proxy as _LossNotifyingProtocol).transport;
          for (const w of this.waiters.splice(0)) w.d.callback(proto);
        };
        if (prepared === null) ready();
        else
          prepared.addCallbacks(
            () => {
              ready();
              return null;
            },
            (f: Failure) => {
              log.failure("prepareConnection failed; disconnecting", f);
              (proxy as _LossNotifyingProtocol).transport?.loseConnection();
              return null;
            },
          );
        return null;
      },
      (f: Failure) => {
        this.attempt = null;
        if (f.check(CancelledError)) return null;
        this.failed(f);
        return null;
      },
    );
  }

  private failed(f: Failure): void {
    this.failures++;
    this.lastFailure = f;
    for (const w of [...this.waiters]) {
      if (w.failAfter !== null && this.failures >= w.failAfter) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.d.errback(f);
      }
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    const delay = this.retryPolicy(this.failures);
    log.info("Scheduling retry {attempt} to connect {endpoint} in {delay} seconds", {
      attempt: this.failures,
      endpoint: String(this.endpoint),
      delay: delay.toFixed(2),
    });
    this.retryCall = this.clock.callLater(delay, () => this.connect());
  }

  private lost(proxy: _LossNotifyingProtocol): void {
    if (this.current === proxy.wrapped) {
      this.current = null;
      this.currentTransport = null;
    }
    for (const d of this.lostWaiters.splice(0)) d.callback(null);
    if (this.running) {
      this.failures = 0;
      this.scheduleRetry();
    }
  }

  /** Stops reconnecting and disconnects; fires once the connection is gone. */
  override stopService(): Deferred<unknown> {
    super.stopService();
    if (this.retryCall?.active()) this.retryCall.cancel();
    this.retryCall = null;
    if (this.attempt !== null) {
      const a = this.attempt;
      this.attempt = null;
      a.cancel();
    }
    for (const w of this.waiters.splice(0))
      w.d.errback(new CancelledError("ClientService stopped"));
    if (this.currentTransport === null) return maybeDeferred(() => undefined);
    const d = new Deferred<unknown>();
    this.lostWaiters.push(d);
    this.currentTransport.loseConnection();
    return d;
  }

  /** The failure of the last attempt, if any (for diagnostics). */
  get lastConnectionFailure(): Failure | null {
    return this.lastFailure;
  }
}

/** Forwards every protocol event to the wrapped protocol and reports `connectionLost`. */
class _LossNotifyingProtocol implements IProtocol {
  transport: ITransport | null = null;
  readConnectionLost?: () => void;
  writeConnectionLost?: () => void;
  handshakeCompleted?: () => void;

  constructor(
    readonly wrapped: IProtocol,
    private readonly onLost: (p: _LossNotifyingProtocol) => void,
  ) {
    const w = wrapped as Partial<
      Record<"readConnectionLost" | "writeConnectionLost" | "handshakeCompleted", () => void>
    >;
    if (w.readConnectionLost) this.readConnectionLost = () => w.readConnectionLost?.call(wrapped);
    if (w.writeConnectionLost)
      this.writeConnectionLost = () => w.writeConnectionLost?.call(wrapped);
    if (w.handshakeCompleted) this.handshakeCompleted = () => w.handshakeCompleted?.call(wrapped);
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.wrapped.makeConnection(transport);
  }

  connectionMade(): void {}

  dataReceived(data: Buffer): void {
    this.wrapped.dataReceived(data);
  }

  connectionLost(reason: Failure): void {
    try {
      this.wrapped.connectionLost(reason);
    } finally {
      this.onLost(this);
    }
  }
}

class _LossNotifyingFactory implements IProtocolFactory {
  constructor(
    private readonly wrapped: IProtocolFactory,
    private readonly onLost: (p: _LossNotifyingProtocol) => void,
  ) {}
  buildProtocol(addr: IAddress): IProtocol | null {
    const p = this.wrapped.buildProtocol(addr);
    return p === null ? null : new _LossNotifyingProtocol(p, this.onLost);
  }
  doStart(): void {
    this.wrapped.doStart();
  }
  doStop(): void {
    this.wrapped.doStop();
  }
}

/**
 * `strports`: services from endpoint description strings.
 *
 * @example
 * ```ts
 * strports.service("tcp:8080:interface=127.0.0.1", factory).setServiceParent(application);
 * ```
 */
export const strports = {
  /** A `StreamServerEndpointService` listening on `description` (see `serverFromString`). */
  service(
    description: string,
    factory: IProtocolFactory,
    options: { reactor?: unknown } = {},
  ): StreamServerEndpointService {
    const reactor = options.reactor ?? _globalReactor<unknown>();
    return new StreamServerEndpointService(
      serverFromString(reactor as never, description),
      factory,
    );
  },
};
