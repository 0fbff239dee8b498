// MemoryReactor: a reactor that records listen/connect calls instead of touching the network.

import { isIP, isIPv6 } from "node:net";
import { IPv4Address, IPv6Address } from "../internet/address.js";
import { type Deferred, fail, succeed } from "../internet/defer.js";
import {
  CannotListenError,
  DNSLookupError,
  ReactorAlreadyRunning,
  ReactorNotRunning,
} from "../internet/error.js";
import type {
  IAddress,
  IClientFactory,
  IDatagramProtocol,
  IDelayedCall,
  IProtocol,
  IProtocolFactory,
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  ServerTLSOptions,
  TLSContextOptions,
  TriggerPhase,
} from "../internet/interfaces.js";
import { Clock } from "../internet/task.js";
import {
  _unixAddress,
  MemoryConnector,
  MemoryListeningPort,
  type MemoryStreamKind,
  MemoryUDPPort,
} from "./_memory_ports.js";
import type { StringTransport } from "./_string_transport.js";

type AnyFunction = (...args: any[]) => unknown;
type BindAddress = readonly [string, number] | undefined;

/** A `listenTCP` call, as recorded in `MemoryReactor.tcpServers`. */
export type TCPServerRecord = [
  port: number,
  factory: IProtocolFactory,
  backlog: number,
  iface: string,
];
/** A `connectTCP` call, as recorded in `MemoryReactor.tcpClients`. */
export type TCPClientRecord = [
  host: string,
  port: number,
  factory: IClientFactory,
  timeout: number,
  bindAddress: BindAddress,
];
/** A `listenSSL` call, as recorded in `MemoryReactor.sslServers`. */
export type SSLServerRecord = [
  port: number,
  factory: IProtocolFactory,
  contextFactory: ServerTLSOptions,
  backlog: number,
  iface: string,
];
/** A `connectSSL` call, as recorded in `MemoryReactor.sslClients`. */
export type SSLClientRecord = [
  host: string,
  port: number,
  factory: IClientFactory,
  contextFactory: TLSContextOptions,
  timeout: number,
  bindAddress: BindAddress,
];
/** A `listenUNIX` call, as recorded in `MemoryReactor.unixServers`. */
export type UNIXServerRecord = [
  address: string,
  factory: IProtocolFactory,
  backlog: number,
  mode: number,
];
/** A `connectUNIX` call, as recorded in `MemoryReactor.unixClients`. */
export type UNIXClientRecord = [address: string, factory: IClientFactory, timeout: number];
/** A `listenUDP` call, as recorded in `MemoryReactor.udpPorts`. */
export type UDPPortRecord = [
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
];
/** A recorded trigger or `callWhenRunning` call: the function and its arguments. */
export type CallRecord = [fn: AnyFunction, args: unknown[]];

/** First port handed out when a test listens on port 0 (the start of the dynamic range). */
const FIRST_ASSIGNED_PORT = 49152;
const PHASES: readonly TriggerPhase[] = ["before", "during", "after"];

/**
 * A fake reactor for unit tests: `listenTCP`, `connectTCP` and friends record their arguments
 * (`tcpServers`, `tcpClients`, …) and return fake ports and connectors; nothing touches the
 * network. The test then decides what happens to a connection attempt with
 * `completeConnection(i)`, `failConnection(i, reason)` and `connectionLost(i, reason)`, where `i`
 * indexes `connectors` (every `connectTCP`/`connectSSL`/`connectUNIX` call, in order; negative
 * indexes count from the end). `run()`/`stop()` only record `hasRun`/`hasStopped`; system event
 * triggers are recorded in `triggers` and run only by `fireSystemEvent`.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * const factory = new MyClientFactory();
 * reactor.connectTCP("example.com", 80, factory);
 * assert.equal(reactor.tcpClients[0]![0], "example.com");
 * const proto = reactor.completeConnection<MyProtocol>(0)!;
 * assert.equal((proto.transport as StringTransport).value().toString(), "HELLO\r\n");
 * ```
 */
export class MemoryReactor
  implements IReactorCore, IReactorTCP, IReactorSSL, IReactorUNIX, IReactorUDP
{
  /** True between `run()` and `stop()`/`crash()`. */
  running = false;
  /** True once `run()` was called. */
  hasRun = false;
  /** True once `stop()` was called. */
  hasStopped = false;
  /** True once `crash()` was called. */
  hasCrashed = false;
  /** `callWhenRunning` calls, in order (those made while running have already run). */
  readonly whenRunningHooks: CallRecord[] = [];
  /** `addSystemEventTrigger` calls: `triggers[phase][eventType]` lists `[fn, args]`. */
  readonly triggers: Record<TriggerPhase, Record<string, CallRecord[]>> = {
    before: {},
    during: {},
    after: {},
  };
  /** `listenTCP` calls. */
  readonly tcpServers: TCPServerRecord[] = [];
  /** `connectTCP` calls. */
  readonly tcpClients: TCPClientRecord[] = [];
  /** `listenSSL` calls. */
  readonly sslServers: SSLServerRecord[] = [];
  /** `connectSSL` calls. */
  readonly sslClients: SSLClientRecord[] = [];
  /** `listenUNIX` calls. */
  readonly unixServers: UNIXServerRecord[] = [];
  /** `connectUNIX` calls. */
  readonly unixClients: UNIXClientRecord[] = [];
  /** `listenUDP` calls. */
  readonly udpPorts: UDPPortRecord[] = [];
  /** The connectors returned by every `connect*` call, in order. */
  readonly connectors: MemoryConnector[] = [];
  /** The ports returned by every successful `listen*` call, in order. */
  readonly ports: (MemoryListeningPort | MemoryUDPPort)[] = [];
  /**
   * Ports (numbers) and Unix paths on which `listen*` raises `CannotListenError`, as if
   * another program held them.
   */
  readonly busyPorts = new Set<number | string>();
  /** Host name → address map used by `resolve` (IP literals resolve to themselves). */
  readonly hosts = new Map<string, string>([["localhost", "127.0.0.1"]]);
  private nextPort = FIRST_ASSIGNED_PORT;
  private hooksRun = 0;
  private runDone: (() => void) | null = null;

  /** Twisted's name for `udpPorts`. */
  get udpServers(): UDPPortRecord[] {
    return this.udpPorts;
  }

  // IReactorCore -------------------------------------------------------------------------------

  /**
   * Records `hasRun`, sets `running` and runs the pending `callWhenRunning` calls (not the
   * startup triggers). The Promise settles at `stop()` or `crash()`.
   */
  run(): Promise<void> {
    if (this.running) return Promise.reject(new ReactorAlreadyRunning());
    this.running = true;
    this.hasRun = true;
    const done = new Promise<void>((resolve) => {
      this.runDone = resolve;
    });
    while (this.hooksRun < this.whenRunningHooks.length) {
      const [fn, args] = this.whenRunningHooks[this.hooksRun++]!;
      fn(...args);
    }
    return done;
  }

  /** Records `hasStopped`; raises `ReactorNotRunning` unless running. Runs no triggers. */
  stop(): void {
    if (!this.running) throw new ReactorNotRunning();
    this.hasStopped = true;
    this.finish();
  }

  /** Records `hasCrashed` and stops running (Twisted's `reactor.crash()`). */
  crash(): void {
    this.hasCrashed = true;
    this.finish();
  }

  private finish(): void {
    this.running = false;
    const done = this.runDone;
    this.runDone = null;
    done?.();
  }

  /** Records the call in `whenRunningHooks`; runs it at once if running, else at `run()`. */
  callWhenRunning<A extends any[]>(fn: (...args: A) => unknown, ...args: A): undefined {
    this.whenRunningHooks.push([fn as AnyFunction, args]);
    if (this.running) {
      this.hooksRun = this.whenRunningHooks.length;
      fn(...args);
    }
    return undefined;
  }

  /** Records the trigger in `triggers[phase][eventType]`; returns an id for removal. */
  addSystemEventTrigger(
    phase: TriggerPhase,
    eventType: string,
    fn: AnyFunction,
    ...args: unknown[]
  ): CallRecord {
    if (!PHASES.includes(phase)) throw new Error(`Invalid trigger phase: ${String(phase)}`);
    const record: CallRecord = [fn, args];
    const byEvent = this.triggers[phase];
    const list = byEvent[eventType] ?? [];
    list.push(record);
    byEvent[eventType] = list;
    return record;
  }

  /** Removes a recorded trigger; raises if the id is unknown. */
  removeSystemEventTrigger(triggerID: unknown): void {
    for (const phase of PHASES) {
      for (const list of Object.values(this.triggers[phase])) {
        const i = list.indexOf(triggerID as CallRecord);
        if (i >= 0) {
          list.splice(i, 1);
          return;
        }
      }
    }
    throw new Error("Unknown system event trigger");
  }

  /**
   * Runs and forgets the triggers of `eventType`, phase by phase, synchronously: Deferreds they
   * return are not waited for, and an exception propagates to the caller.
   */
  fireSystemEvent(eventType: string): void {
    for (const phase of PHASES) {
      const list = this.triggers[phase][eventType];
      if (list === undefined) continue;
      delete this.triggers[phase][eventType];
      for (const [fn, args] of list) fn(...args);
    }
  }

  /**
   * Resolves from `hosts`: an IP literal resolves to itself, an unknown name fails with
   * `DNSLookupError`. The Deferred has its result at once.
   */
  resolve(name: string, timeout?: number[]): Deferred<string> {
    if (isIP(name) !== 0) return succeed(name);
    const address = this.hosts.get(name);
    if (address !== undefined) return succeed(address);
    return fail(new DNSLookupError(`DNS lookup failed: no address for ${name}`));
  }

  // Listening ----------------------------------------------------------------------------------

  private checkFree(iface: string, port: number | string): void {
    if (this.busyPorts.has(port)) {
      throw new CannotListenError(iface, port, { cause: new Error("Address already in use") });
    }
  }

  private ipAddress(type: "TCP" | "UDP", iface: string, port: number): IAddress {
    const p = port === 0 ? this.nextPort++ : port;
    if (isIPv6(iface)) return new IPv6Address(type, iface, p);
    return new IPv4Address(type, iface || "0.0.0.0", p);
  }

  private listenStream(
    kind: MemoryStreamKind,
    address: IAddress,
    factory: IProtocolFactory,
    tlsOptions: TLSContextOptions | null = null,
  ): MemoryListeningPort {
    const port = new MemoryListeningPort(kind, address, factory, tlsOptions);
    port.startListening();
    this.ports.push(port);
    return port;
  }

  /**
   * Records the call in `tcpServers` and returns a `MemoryListeningPort` (port 0 gets a port
   * number of its own). Raises `CannotListenError` for a port in `busyPorts`.
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    backlog = 50,
    iface = "",
  ): MemoryListeningPort {
    this.checkFree(iface, port);
    this.tcpServers.push([port, factory, backlog, iface]);
    return this.listenStream("tcp", this.ipAddress("TCP", iface, port), factory);
  }

  /** Like `listenTCP`, recorded in `sslServers`; accepted connections are marked TLS. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    contextFactory: ServerTLSOptions,
    backlog = 50,
    iface = "",
  ): MemoryListeningPort {
    this.checkFree(iface, port);
    this.sslServers.push([port, factory, contextFactory, backlog, iface]);
    const address = this.ipAddress("TCP", iface, port);
    return this.listenStream("ssl", address, factory, contextFactory);
  }

  /** Like `listenTCP` for a Unix socket path, recorded in `unixServers`. */
  listenUNIX(
    address: string,
    factory: IProtocolFactory,
    backlog = 50,
    mode = 0o666,
  ): MemoryListeningPort {
    this.checkFree("", address);
    this.unixServers.push([address, factory, backlog, mode]);
    return this.listenStream("unix", _unixAddress(address), factory);
  }

  /**
   * Records the call in `udpPorts`, connects `protocol` to a `MemoryUDPPort` (which starts it)
   * and returns the port. Raises `CannotListenError` for a port in `busyPorts`.
   */
  listenUDP(
    port: number,
    protocol: IDatagramProtocol,
    iface = "",
    maxPacketSize = 8192,
  ): MemoryUDPPort {
    this.checkFree(iface, port);
    this.udpPorts.push([port, protocol, iface, maxPacketSize]);
    const udp = new MemoryUDPPort(this.ipAddress("UDP", iface, port), protocol, maxPacketSize);
    udp.startListening();
    this.ports.push(udp);
    return udp;
  }

  // Connecting ---------------------------------------------------------------------------------

  private connectStream(
    kind: MemoryStreamKind,
    destination: IAddress,
    factory: IClientFactory,
    tlsOptions: TLSContextOptions | null = null,
  ): MemoryConnector {
    const connector = new MemoryConnector(kind, destination, factory, tlsOptions);
    this.connectors.push(connector);
    connector.connect();
    return connector;
  }

  private static destination(host: string, port: number): IAddress {
    return isIPv6(host) ? new IPv6Address("TCP", host, port) : new IPv4Address("TCP", host, port);
  }

  /**
   * Records the call in `tcpClients` and returns a `MemoryConnector` that stays connecting
   * (the factory gets `startedConnecting`) until `completeConnection`/`failConnection`.
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): MemoryConnector {
    this.tcpClients.push([host, port, factory, timeout, bindAddress]);
    return this.connectStream("tcp", MemoryReactor.destination(host, port), factory);
  }

  /** Like `connectTCP`, recorded in `sslClients`; the completed connection is marked TLS. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    contextFactory: TLSContextOptions = {},
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): MemoryConnector {
    this.sslClients.push([host, port, factory, contextFactory, timeout, bindAddress]);
    const destination = MemoryReactor.destination(host, port);
    return this.connectStream("ssl", destination, factory, contextFactory);
  }

  /** Like `connectTCP` for a Unix socket path, recorded in `unixClients`. */
  connectUNIX(address: string, factory: IClientFactory, timeout = 30): MemoryConnector {
    this.unixClients.push([address, factory, timeout]);
    return this.connectStream("unix", _unixAddress(address), factory);
  }

  // Deciding what happens to connection attempts ----------------------------------------------

  /** The connector `which` designates: itself, or its index in `connectors` (negative: from the end). */
  connector(which: number | MemoryConnector): MemoryConnector {
    if (typeof which !== "number") return which;
    const c = this.connectors.at(which);
    if (c === undefined) {
      throw new RangeError(
        `No connector at index ${which}: ${this.connectors.length} connection attempts recorded`,
      );
    }
    return c;
  }

  /**
   * Completes connection attempt `which`: builds the protocol with its factory, connects it to
   * `transport` (default: a new `StringTransport`) and returns it (`null` if the factory refused).
   *
   * @example
   * ```ts
   * reactor.connectTCP("127.0.0.1", 6667, factory);
   * const proto = reactor.completeConnection<IRCClient>(0)!;
   * const transport = proto.transport as StringTransport;
   * ```
   */
  completeConnection<P extends IProtocol = IProtocol>(
    which: number | MemoryConnector,
    transport?: StringTransport,
  ): P | null {
    return this.connector(which).completeConnection<P>(transport);
  }

  /**
   * Fails connection attempt `which`: its factory's `clientConnectionFailed` gets `reason`
   * (default `ConnectionRefusedError`).
   */
  failConnection(which: number | MemoryConnector, reason?: unknown): void {
    this.connector(which).failConnection(reason);
  }

  /**
   * Ends completed connection `which`: its protocol's `connectionLost` and its factory's
   * `clientConnectionLost` get `reason` (default `ConnectionDone`).
   */
  connectionLost(which: number | MemoryConnector, reason?: unknown): void {
    this.connector(which).connectionLost(reason);
  }
}

/**
 * A `MemoryReactor` that is also a `Clock` (`IReactorTime`): `callLater` schedules on the fake
 * clock, and `advance(seconds)` moves it. The clock itself is `clock`.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactorClock();
 * const factory = new ReconnectingClientFactory();
 * factory.clock = reactor;
 * reactor.connectTCP("example.com", 80, factory);
 * reactor.failConnection(0);
 * reactor.advance(10); // the factory reconnects: connectors[0].connectAttempts === 2
 * ```
 */
export class MemoryReactorClock extends MemoryReactor implements IReactorTime {
  /** The fake clock behind `seconds`, `callLater` and `advance`. */
  readonly clock = new Clock();

  /** The fake clock's time, in seconds (starts at 0). */
  get rightNow(): number {
    return this.clock.rightNow;
  }

  seconds(): number {
    return this.clock.seconds();
  }

  /** Schedules `fn(...args)` `delay` seconds from now on the fake clock. */
  callLater<A extends any[]>(delay: number, fn: (...args: A) => unknown, ...args: A): IDelayedCall {
    return this.clock.callLater(delay, fn, ...args);
  }

  getDelayedCalls(): IDelayedCall[] {
    return this.clock.getDelayedCalls();
  }

  /** Moves the fake clock forward by `amount` seconds, running the calls then due. */
  advance(amount: number): void {
    this.clock.advance(amount);
  }

  /** Advances by each of `timings` in turn. */
  pump(timings: Iterable<number>): void {
    this.clock.pump(timings);
  }
}
