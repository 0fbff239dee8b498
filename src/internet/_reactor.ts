// NodeReactor: Twisted's reactor interfaces over Node's own event loop (libuv).

import { lookup } from "node:dns";
import { Logger } from "../logger/index.js";
import { DelayedCall } from "./_clock.js";
import { _installGlobalReactor } from "./_global.js";
import { spawnProcess } from "./_process.js";
import { connectTCP, listenTCP } from "./_tcp.js";
import { connectSSL, listenSSL } from "./_tls.js";
import { listenMulticast, listenUDP, type MulticastPort, type UDPPort } from "./_udp.js";
import { connectUNIX, listenUNIX } from "./_unix.js";
import { Deferred, DeferredList, maybeDeferred } from "./defer.js";
import { DNSLookupError, ReactorAlreadyRunning, ReactorNotRunning } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IClientFactory,
  IConnector,
  IDatagramProtocol,
  IDelayedCall,
  IListeningPort,
  IProcessProtocol,
  IProcessTransport,
  IProtocolFactory,
  IReactorCore,
  IReactorMulticast,
  IReactorProcess,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  ServerTLSOptions,
  SpawnProcessOptions,
  TLSContextOptions,
  TriggerPhase,
} from "./interfaces.js";

const log = new Logger("twisted-ts.internet.reactor");

/** Something the reactor closes when it stops: ports, connections, processes, watchers. */
export interface _ReactorResource {
  /** Close for shutdown: stop listening, lose the connection, unref a child… */
  _shutdown(): void;
}

/**
 * A connection the reactor closes when it stops. Connections are many, so the reactor links them
 * through two fields of their own rather than holding each in a Set (an entry, and the tables a
 * growing Set leaves behind, cost more than the two fields).
 */
export interface _TrackedConnection extends _ReactorResource {
  /** The connection tracked before this one, or `null`. */
  _prevTracked: _TrackedConnection | null;
  /** The connection tracked after this one, or `null`. */
  _nextTracked: _TrackedConnection | null;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

type Trigger = { id: number; fn: (...args: unknown[]) => unknown; args: unknown[] };
type TriggerID = readonly [string, TriggerPhase, number];

/**
 * The reactor: runs on Node's event loop and gives it Twisted's interfaces. Use the global
 * `reactor`; make your own `NodeReactor` only for tests that need an isolated one.
 *
 * Network, process and file-system methods (`listenTCP`, `connectTCP`, `listenSSL`, …) are
 * added to this class by the transport modules.
 *
 * @example
 * ```ts
 * import { reactor } from "twisted-ts/internet";
 * reactor.callLater(1, () => reactor.stop());
 * await reactor.run();
 * ```
 */
export class NodeReactor
  implements
    IReactorCore,
    IReactorTime,
    IReactorTCP,
    IReactorSSL,
    IReactorUNIX,
    IReactorUDP,
    IReactorMulticast,
    IReactorProcess
{
  private _running = false;
  private _stopping = false;
  private _started = false;
  private keepAlive: NodeJS.Timeout | null = null;
  private runDone: (() => void) | null = null;
  private readonly triggers = new Map<string, Record<TriggerPhase, Trigger[]>>();
  private nextTriggerId = 1;
  private readonly signalHandler = (signal: NodeJS.Signals): void => {
    log.info("Received {signal}, shutting down", { signal });
    if (this._running && !this._stopping) this.stop();
  };
  /** @internal calls not yet run nor cancelled, with their Node timers */
  readonly _delayedCalls = new Map<DelayedCall, NodeJS.Timeout>();
  private readonly now = (): number => this.seconds();
  private readonly dropCall = (call: DelayedCall): void => {
    clearTimeout(this._delayedCalls.get(call));
    this._delayedCalls.delete(call);
  };
  private readonly armCall = (call: DelayedCall): void => {
    clearTimeout(this._delayedCalls.get(call));
    const ms = Math.min(Math.max(0, (call.time - this.seconds()) * 1000), MAX_TIMEOUT_MS);
    this._delayedCalls.set(call, setTimeout(this.fireCall, ms, call));
  };
  private readonly fireCall = (call: DelayedCall): void => {
    // Node may wake a hair early, and far-future timers are capped: re-arm until due.
    if (this.seconds() < call.time - 0.0005) {
      this.armCall(call);
      return;
    }
    this._delayedCalls.delete(call);
    call.called = true;
    try {
      call.func(...call.args);
    } catch (e) {
      log.failure("Unhandled error in delayed call {call}", Failure.from(e), undefined, {
        call: String(call),
      });
    }
  };
  /** Open ports, processes, watchers (connections are in the list below). */
  private readonly tracked = new Set<_ReactorResource>();
  /** The first tracked connection still open; the others follow through `_nextTracked`. */
  private connections: _TrackedConnection | null = null;
  /** The last tracked connection still open. */
  private lastConnection: _TrackedConnection | null = null;
  /** Whether `run()` installs SIGINT/SIGTERM handlers that stop the reactor. */
  installSignalHandlers = true;

  /** True while the reactor runs (from `run()` until it has stopped). */
  get running(): boolean {
    return this._running;
  }

  // IReactorTime -------------------------------------------------------------------------------

  /** The current time in seconds since the epoch, monotonic within the process. */
  seconds(): number {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  /** Runs `fn(...args)` after `delay` seconds. */
  callLater<A extends unknown[]>(
    delay: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall {
    if (!(delay >= 0)) throw new RangeError(`Invalid delay: ${delay}`);
    const call = new DelayedCall(
      this.seconds() + delay,
      fn as (...a: unknown[]) => unknown,
      args,
      this.dropCall,
      this.armCall,
      this.now,
    );
    this.armCall(call);
    return call;
  }

  /** The calls scheduled and not yet run or cancelled. */
  getDelayedCalls(): IDelayedCall[] {
    return [...this._delayedCalls.keys()];
  }

  // IReactorCore -------------------------------------------------------------------------------

  /**
   * Starts the reactor: fires the startup triggers and `callWhenRunning` calls. The Promise
   * settles once `stop()` has run the shutdown triggers and closed everything. While running,
   * the reactor keeps the process alive even with nothing else to do, as Twisted's does.
   */
  run(options: { installSignalHandlers?: boolean } = {}): Promise<void> {
    if (this._running) return Promise.reject(new ReactorAlreadyRunning());
    this._running = true;
    this._stopping = false;
    this._started = true;
    this.keepAlive = setInterval(() => {}, MAX_TIMEOUT_MS);
    if (options.installSignalHandlers ?? this.installSignalHandlers) {
      process.on("SIGINT", this.signalHandler);
      process.on("SIGTERM", this.signalHandler);
    }
    const done = new Promise<void>((resolve) => {
      this.runDone = resolve;
    });
    this.fireSystemEvent("startup");
    return done;
  }

  /**
   * Stops the reactor: fires the shutdown triggers (a trigger may return a Deferred to be waited
   * for), stops listening ports, loses connections, cancels delayed calls, and lets the process
   * exit by itself. Raises `ReactorNotRunning` when it is not running (or already stopping).
   */
  stop(): void {
    if (!this._running || this._stopping) throw new ReactorNotRunning();
    this._stopping = true;
    this.fireSystemEvent("shutdown");
  }

  /** Runs `fn(...args)` once the reactor runs; at once if it already does. */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): unknown {
    if (this._running && this._started) {
      try {
        fn(...args);
      } catch (e) {
        log.failure("Unhandled error in callWhenRunning", Failure.from(e));
      }
      return null;
    }
    return this.addSystemEventTrigger(
      "after",
      "startup",
      fn as (...a: unknown[]) => unknown,
      ...args,
    );
  }

  /** Adds a trigger to a phase of a system event; returns an id for `removeSystemEventTrigger`. */
  addSystemEventTrigger(
    phase: TriggerPhase,
    eventType: string,
    fn: (...args: any[]) => unknown,
    ...args: unknown[]
  ): TriggerID {
    if (phase !== "before" && phase !== "during" && phase !== "after") {
      throw new Error(`Invalid trigger phase: ${String(phase)}`);
    }
    let phases = this.triggers.get(eventType);
    if (phases === undefined) {
      phases = { before: [], during: [], after: [] };
      this.triggers.set(eventType, phases);
    }
    const id = this.nextTriggerId++;
    phases[phase].push({ id, fn, args });
    return [eventType, phase, id] as const;
  }

  /** Removes a trigger; raises if the id is unknown. */
  removeSystemEventTrigger(triggerID: unknown): void {
    const [eventType, phase, id] = triggerID as TriggerID;
    const list = this.triggers.get(eventType)?.[phase];
    const i = list?.findIndex((t) => t.id === id) ?? -1;
    if (list === undefined || i < 0) throw new Error("Unknown system event trigger");
    list.splice(i, 1);
  }

  /**
   * Fires the triggers of `eventType`: all "before" triggers (waiting for the Deferreds they
   * return), then "during", then "after". The reactor's own work happens in "during" of
   * startup/shutdown.
   */
  fireSystemEvent(eventType: string): void {
    const phases = this.triggers.get(eventType);
    this.triggers.delete(eventType);
    const runPhase = (phase: TriggerPhase): Deferred<unknown> => {
      const list = phases?.[phase] ?? [];
      const waits: Deferred<unknown>[] = [];
      // Triggers added while a phase runs join the same phase (Twisted allows it).
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        const d = maybeDeferred(t.fn, ...t.args);
        d.addErrback((f) => {
          log.failure("Error in {event} trigger", f, undefined, { event: eventType });
        });
        if (!d.called) waits.push(d);
      }
      if (eventType === "startup" && phase === "during") this.startupDuring();
      if (eventType === "shutdown" && phase === "during") this.shutdownDuring();
      if (waits.length === 0)
        return new Deferred<unknown>().callback(null) as unknown as Deferred<unknown>;
      return new DeferredList(waits) as unknown as Deferred<unknown>;
    };
    runPhase("before")
      .addCallback(() => runPhase("during"))
      .addCallback(() => runPhase("after"))
      .addCallback(() => {
        if (eventType === "shutdown") this.shutdownDone();
      });
  }

  private startupDuring(): void {}

  private shutdownDuring(): void {
    for (const resource of [...this._resources]) {
      try {
        resource._shutdown();
      } catch (e) {
        log.failure("Error while closing {resource} at shutdown", Failure.from(e), undefined, {
          resource: String(resource),
        });
      }
    }
  }

  private shutdownDone(): void {
    for (const call of [...this._delayedCalls.keys()]) call.cancel();
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.keepAlive = null;
    process.removeListener("SIGINT", this.signalHandler);
    process.removeListener("SIGTERM", this.signalHandler);
    this._running = false;
    this._stopping = false;
    this._started = false;
    const done = this.runDone;
    this.runDone = null;
    done?.();
  }

  /** Resolves a host name to one IP address. */
  resolve(name: string, timeout?: number[]): Deferred<string> {
    const d = new Deferred<string>();
    lookup(name, (err, address) => {
      if (err)
        d.errback(new DNSLookupError(`DNS lookup failed: ${name}: ${err.message}`, { cause: err }));
      else d.callback(address);
    });
    return d;
  }

  // Transports ----------------------------------------------------------------------------------

  /**
   * Listens for TCP connections on `port` (0 picks a free one; see `getHost()`), on all
   * interfaces or on `iface`. Raises `CannotListenError` when the address is taken.
   */
  listenTCP(port: number, factory: IProtocolFactory, backlog = 50, iface = ""): IListeningPort {
    return listenTCP(this, port, factory, backlog, iface);
  }

  /** Connects over TCP (IPv4 or IPv6; host names are resolved). */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): IConnector {
    return connectTCP(this, host, port, factory, timeout, bindAddress);
  }

  /** Listens for TLS connections; `contextFactory` holds the PEM key and certificate. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: ServerTLSOptions,
    backlog = 50,
    iface = "",
  ): IListeningPort {
    return listenSSL(this, port, factory, contextFactory, backlog, iface);
  }

  /** Connects over TLS, verifying the server's certificate and name unless told otherwise. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    contextFactory: TLSContextOptions = {},
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): IConnector {
    return connectSSL(this, host, port, factory, contextFactory, timeout, bindAddress);
  }

  /** Listens on a Unix socket at `address`, with file mode `mode`. */
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    backlog = 50,
    mode = 0o666,
  ): IListeningPort {
    return listenUNIX(this, address, factory, backlog, mode);
  }

  /** Connects to a Unix socket. */
  connectUNIX(address: string, factory: IClientFactory, timeout = 30): IConnector {
    return connectUNIX(this, address, factory, timeout);
  }

  /** Listens for UDP datagrams. */
  listenUDP(port: number, protocol: IDatagramProtocol, iface = "", maxPacketSize = 8192): UDPPort {
    return listenUDP(this, port, protocol, iface, maxPacketSize);
  }

  /** Listens for UDP datagrams and allows joining multicast groups. */
  listenMulticast(
    port: number,
    protocol: IDatagramProtocol,
    iface = "",
    maxPacketSize = 8192,
    listenMultiple = false,
  ): MulticastPort {
    return listenMulticast(this, port, protocol, iface, maxPacketSize, listenMultiple);
  }

  /**
   * Starts a child process; `args` includes the program name as `args[0]`, as in Twisted.
   */
  spawnProcess(
    processProtocol: IProcessProtocol,
    executable: string,
    args: readonly string[] = [executable],
    options: SpawnProcessOptions = {},
  ): IProcessTransport {
    return spawnProcess(this, processProtocol, executable, args, options);
  }

  /** @internal open ports, connections, processes, watchers: a snapshot */
  get _resources(): ReadonlySet<_ReactorResource> {
    const all = new Set(this.tracked);
    for (let c = this.connections; c !== null; c = c._nextTracked) all.add(c);
    return all;
  }

  /** @internal registers something to close at shutdown */
  _track(resource: _ReactorResource): void {
    this.tracked.add(resource);
  }

  /** @internal unregisters something closed */
  _untrack(resource: _ReactorResource): void {
    this.tracked.delete(resource);
  }

  /** @internal registers a connection to close at shutdown (once; it must not be tracked yet) */
  _trackConnection(connection: _TrackedConnection): void {
    const last = this.lastConnection;
    connection._prevTracked = last;
    connection._nextTracked = null;
    if (last !== null) last._nextTracked = connection;
    else this.connections = connection;
    this.lastConnection = connection;
  }

  /** @internal unregisters a closed connection (nothing happens if it is not tracked) */
  _untrackConnection(connection: _TrackedConnection): void {
    const prev = connection._prevTracked;
    const next = connection._nextTracked;
    if (prev !== null) prev._nextTracked = next;
    else if (this.connections === connection) this.connections = next;
    else return;
    if (next !== null) next._prevTracked = prev;
    else this.lastConnection = prev;
    connection._prevTracked = null;
    connection._nextTracked = null;
  }
}

/** The global reactor. */
export const reactor = new NodeReactor();
_installGlobalReactor(reactor);
