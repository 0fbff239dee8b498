// Protocols and factories: Protocol, Factory, ClientFactory, ReconnectingClientFactory, …

import { Logger } from "../logger/index.js";
import { _globalReactor } from "./_global.js";
import { Deferred } from "./defer.js";
import { ConnectionDone } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IConnector,
  IDatagramProtocol,
  IDelayedCall,
  IProcessProtocol,
  IProcessTransport,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  ITransport,
  IUDPTransport,
} from "./interfaces.js";

const log = new Logger("twisted-ts.internet.protocol");

/**
 * The base of stream protocols: keeps the transport and the `connected` flag.
 * Subclass `Protocol` rather than this.
 */
export class BaseProtocol {
  /** True between `makeConnection` and `connectionLost`. */
  connected = false;
  /** The transport, set by `makeConnection`. */
  transport: ITransport | null = null;

  /** Attaches `transport`, then calls `connectionMade`. */
  makeConnection(transport: ITransport): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /** Called once the connection is up and `this.transport` is set. Override it. */
  connectionMade(): void {}
}

/**
 * A stream protocol. Override `connectionMade`, `dataReceived` and `connectionLost`; write with
 * `this.transport.write()`. `dataReceived` may get the stream in any split — one byte at a time
 * included — so buffer and frame (see `LineReceiver`).
 *
 * @example
 * ```ts
 * class Echo extends Protocol {
 *   override dataReceived(data: Buffer) {
 *     this.transport!.write(data);
 *   }
 * }
 * reactor.listenTCP(8000, Factory.forProtocol(Echo));
 * ```
 */
export class Protocol extends BaseProtocol implements IProtocol {
  /** The factory that built this protocol (set by `Factory.buildProtocol`). */
  factory: unknown = null;

  /** Called with each chunk of bytes received. Override it. */
  dataReceived(data: Buffer): void {}

  /**
   * Called exactly once when the connection is gone: `reason` wraps `ConnectionDone` after a
   * clean close, `ConnectionLost` otherwise. Override it (call `super.connectionLost`).
   */
  connectionLost(reason: Failure): void {
    this.connected = false;
  }

  /** The transport, asserting that the connection is up (a typed convenience). */
  protected get tx(): ITransport {
    const t = this.transport;
    if (t === null) throw new Error("Protocol is not connected: no transport");
    return t;
  }
}

type ProtocolClass<P> = new () => P;

/**
 * Makes a protocol per connection: set `protocol` to the class, or override `buildProtocol`.
 * `doStart`/`doStop` count how many ports and connectors use the factory and call
 * `startFactory`/`stopFactory` on the first and last.
 *
 * @example
 * ```ts
 * const factory = new Factory();
 * factory.protocol = Echo;
 * reactor.listenTCP(8000, factory);
 * ```
 */
export class Factory<P extends IProtocol = IProtocol> implements IProtocolFactory {
  /** The protocol class that `buildProtocol` instantiates. */
  protocol: ProtocolClass<P> | null = null;
  /** How many ports/connectors use this factory. */
  numPorts = 0;
  /** Prints start/stop messages when true. */
  noisy = true;

  /** A factory for `protocolClass`. */
  static forProtocol<Q extends IProtocol>(protocolClass: ProtocolClass<Q>): Factory<Q> {
    const f = new Factory<Q>();
    f.protocol = protocolClass;
    return f;
  }

  /** Called by ports and connectors when they start using this factory. */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.debug("Starting factory {factory}", { factory: this.constructor.name });
      this.startFactory();
    }
    this.numPorts++;
  }

  /** Called by ports and connectors when they stop using this factory. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts--;
    if (this.numPorts === 0) {
      if (this.noisy) log.debug("Stopping factory {factory}", { factory: this.constructor.name });
      this.stopFactory();
    }
  }

  /** Called before the first port/connector uses the factory. Override it. */
  startFactory(): void {}

  /** Called after the last port/connector stopped using the factory. Override it. */
  stopFactory(): void {}

  /**
   * Builds a protocol for a connection from/to `addr`: an instance of `this.protocol` whose
   * `factory` is set to this factory. Return `null` to refuse the connection.
   */
  buildProtocol(addr: IAddress): P | null {
    if (this.protocol === null) throw new Error("Factory has no protocol class set");
    const p = new this.protocol();
    (p as { factory?: unknown }).factory = this;
    return p;
  }
}

/** A factory for servers (Twisted keeps this name). */
export class ServerFactory<P extends IProtocol = IProtocol> extends Factory<P> {}

/**
 * A factory for clients: adds the connection events `startedConnecting`,
 * `clientConnectionFailed` and `clientConnectionLost`.
 */
export class ClientFactory<P extends IProtocol = IProtocol> extends Factory<P> {
  /** A connection attempt started. */
  startedConnecting(connector: IConnector): void {}
  /** A connection attempt failed (`reason` wraps a `ConnectError`). */
  clientConnectionFailed(connector: IConnector, reason: Failure): void {}
  /** An established connection was lost. */
  clientConnectionLost(connector: IConnector, reason: Failure): void {}
}

/**
 * A client factory that reconnects after a lost or failed connection, waiting longer each time
 * (exponential back-off with jitter), up to `maxDelay` seconds and `maxRetries` attempts.
 * Call `resetDelay()` once connected (e.g. in `buildProtocol`) and `stopTrying()` to give up.
 *
 * @example
 * ```ts
 * class Reconnecting extends ReconnectingClientFactory<Echo> {
 *   override protocol = Echo;
 *   override buildProtocol(addr: IAddress) {
 *     this.resetDelay();
 *     return super.buildProtocol(addr);
 *   }
 * }
 * ```
 */
export class ReconnectingClientFactory<P extends IProtocol = IProtocol> extends ClientFactory<P> {
  /** Longest wait between attempts, in seconds. */
  maxDelay = 3600;
  /** First wait, in seconds. */
  initialDelay = 1.0;
  /** Growth factor of the wait (e (2.718…) as in Twisted). */
  factor = Math.E;
  /** Relative random spread of each wait. */
  jitter = 0.11962656472;
  /** Give up after this many attempts (`null`: never). */
  maxRetries: number | null = null;
  /** The current wait, in seconds. */
  delay = this.initialDelay;
  /** Attempts made since the last `resetDelay`. */
  retries = 0;
  /** False once `stopTrying()` is called. */
  continueTrying = true;
  /** The clock used to schedule attempts (defaults to the global reactor). */
  clock: IReactorTime | null = null;
  /** The pending reconnection, if any. */
  _callID: IDelayedCall | null = null;
  /** The connector to reconnect. */
  connector: IConnector | null = null;
  /** Random source in [0, 1) for jitter (replace in tests). */
  random: () => number = Math.random;

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** Schedules the next attempt (unless `maxRetries` is reached or `stopTrying` was called). */
  retry(connector?: IConnector): void {
    if (!this.continueTrying) return;
    const c = connector ?? this.connector;
    if (c === null) throw new Error("ReconnectingClientFactory has no connector to retry");
    this.retries++;
    if (this.maxRetries !== null && this.retries > this.maxRetries) {
      log.info("Abandoning {connector} after {retries} retries", {
        connector: String(c.getDestination()),
        retries: this.retries - 1,
      });
      return;
    }
    this.delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter) {
      // A normal spread around the delay, as Twisted does, from a Box–Muller sample.
      const u1 = Math.max(this.random(), 1e-12);
      const u2 = this.random();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      this.delay = Math.max(0, this.delay + z * this.delay * this.jitter);
    }
    const clock = this.clock ?? _globalReactor<IReactorTime>();
    this._callID = clock.callLater(this.delay, () => {
      this._callID = null;
      c.connect();
    });
  }

  /** Stops reconnecting, and cancels a pending attempt. */
  stopTrying(): void {
    if (this._callID !== null) {
      this._callID.cancel();
      this._callID = null;
    }
    this.continueTrying = false;
    if (this.connector !== null && this.connector.state === "connecting") {
      this.connector.stopConnecting();
    }
  }

  /** Resets the wait and retry count: call it once a connection succeeded. */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this._callID = null;
    this.continueTrying = true;
  }
}

/** The reactor methods `ClientCreator` needs. */
interface ClientCreatorReactor {
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactory,
    timeout?: number,
    bindAddress?: readonly [string, number],
  ): IConnector;
  connectUNIX(address: string, factory: ClientFactory, timeout?: number): IConnector;
  connectSSL(
    host: string,
    port: number,
    factory: ClientFactory,
    contextFactory?: Record<string, unknown>,
    timeout?: number,
    bindAddress?: readonly [string, number],
  ): IConnector;
}

class _InstanceFactory<P extends IProtocol> extends ClientFactory<P> {
  override noisy = false;
  private pending: IDelayedCall | null = null;
  constructor(
    private readonly clock: IReactorTime,
    private readonly instance: P,
    readonly deferred: Deferred<P>,
  ) {
    super();
  }

  override buildProtocol(addr: IAddress): P {
    this.pending = this.clock.callLater(0, () => {
      this.pending = null;
      this.deferred.callback(this.instance);
    });
    return this.instance;
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    if (this.pending === null && !this.deferred.called) this.deferred.errback(reason);
  }
}

/**
 * Connects one protocol instance, built from a class and arguments, and gives it as a Deferred:
 * `new ClientCreator(reactor, Echo).connectTCP("localhost", 8000)`.
 * Cancelling the Deferred before it fires stops the connection attempt.
 */
export class ClientCreator<P extends IProtocol, A extends unknown[] = []> {
  constructor(
    readonly reactor: ClientCreatorReactor & IReactorTime,
    readonly protocolClass: new (...args: A) => P,
    ...args: A
  ) {
    this.args = args;
  }
  private readonly args: A;

  private connect(doConnect: (f: ClientFactory<P>) => IConnector): Deferred<P> {
    let connector: IConnector | null = null;
    const d = new Deferred<P>(() => connector?.stopConnecting());
    const factory = new _InstanceFactory<P>(this.reactor, new this.protocolClass(...this.args), d);
    connector = doConnect(factory);
    return d;
  }

  /** Connects over TCP; the Deferred fires with the connected protocol. */
  connectTCP(
    host: string,
    port: number,
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): Deferred<P> {
    return this.connect((f) => this.reactor.connectTCP(host, port, f, timeout, bindAddress));
  }

  /** Connects to a Unix socket; the Deferred fires with the connected protocol. */
  connectUNIX(address: string, timeout = 30): Deferred<P> {
    return this.connect((f) => this.reactor.connectUNIX(address, f, timeout));
  }

  /** Connects over TLS; the Deferred fires with the connected protocol. */
  connectSSL(
    host: string,
    port: number,
    contextFactory?: Record<string, unknown>,
    timeout = 30,
    bindAddress?: readonly [string, number],
  ): Deferred<P> {
    return this.connect((f) =>
      this.reactor.connectSSL(host, port, f, contextFactory, timeout, bindAddress),
    );
  }
}

/**
 * A UDP protocol: override `datagramReceived(data, [host, port])`, and send with
 * `this.transport.write(data, [host, port])`.
 *
 * @example
 * ```ts
 * class UDPEcho extends DatagramProtocol {
 *   override datagramReceived(data: Buffer, addr: readonly [string, number]) {
 *     this.transport!.write(data, addr);
 *   }
 * }
 * reactor.listenUDP(9999, new UDPEcho());
 * ```
 */
export class DatagramProtocol implements IDatagramProtocol {
  /** The UDP port, set by `makeConnection`. */
  transport: IUDPTransport | null = null;
  /** How many ports use this protocol. */
  numPorts = 0;
  noisy = true;

  /** Called by the port when it starts listening. */
  makeConnection(transport: IUDPTransport): void {
    this.transport = transport;
    this.doStart();
  }

  /** Calls `startProtocol` when the first port starts. */
  doStart(): void {
    if (this.numPorts === 0) this.startProtocol();
    this.numPorts++;
  }

  /** Calls `stopProtocol` when the last port stops. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts--;
    this.transport = null;
    if (this.numPorts === 0) this.stopProtocol();
  }

  /** The port is listening. Override it. */
  startProtocol(): void {}
  /** The port stopped listening. Override it. */
  stopProtocol(): void {}
  /** A datagram arrived from `addr` (`[host, port]`). Override it. */
  datagramReceived(data: Buffer, addr: readonly [string, number]): void {}
  /** A datagram sent to the connected peer was refused (ICMP port unreachable). */
  connectionRefused(): void {}
}

/**
 * The events of a child process started with `reactor.spawnProcess`: override `outReceived`,
 * `errReceived`, `processExited` and `processEnded`.
 *
 * @example
 * ```ts
 * class Collect extends ProcessProtocol {
 *   out = "";
 *   override outReceived(data: Buffer) { this.out += data; }
 *   override processEnded(reason: Failure) { console.log(this.out); }
 * }
 * reactor.spawnProcess(new Collect(), "ls", ["ls", "-l"], { env: process.env });
 * ```
 */
export class ProcessProtocol implements IProcessProtocol {
  /** The process transport, set by `makeConnection`. */
  transport: IProcessTransport | null = null;

  /** Attaches the process transport, then calls `connectionMade`. */
  makeConnection(process: IProcessTransport): void {
    this.transport = process;
    this.connectionMade();
  }

  /** The process started. Override it (e.g. to write to its stdin). */
  connectionMade(): void {}

  /** Routes child fd output: 1 → `outReceived`, 2 → `errReceived`. */
  childDataReceived(childFD: number, data: Buffer): void {
    if (childFD === 1) this.outReceived(data);
    else if (childFD === 2) this.errReceived(data);
  }

  /** Data from the child's stdout. */
  outReceived(data: Buffer): void {}
  /** Data from the child's stderr. */
  errReceived(data: Buffer): void {}

  /** Routes a closed child fd to `inConnectionLost`/`outConnectionLost`/`errConnectionLost`. */
  childConnectionLost(childFD: number): void {
    if (childFD === 0) this.inConnectionLost();
    else if (childFD === 1) this.outConnectionLost();
    else if (childFD === 2) this.errConnectionLost();
  }

  inConnectionLost(): void {}
  outConnectionLost(): void {}
  errConnectionLost(): void {}

  /** The process exited (`ProcessDone` or `ProcessTerminated`); its pipes may still be open. */
  processExited(reason: Failure): void {}
  /** The process exited and all its pipes are closed. */
  processEnded(reason: Failure): void {}
}

/** A `Failure` of a clean close, for `connectionLost` after `loseConnection`. */
export function connectionDone(): Failure {
  return new Failure(new ConnectionDone());
}

/**
 * Calls a protocol callback, logging (never propagating) an exception. Transports use it so
 * that a bug in user code drops one connection, not the reactor.
 * @returns the thrown value wrapped in a `Failure`, or `null` when `fn` returned normally
 * @internal
 */
export function _callSafely(what: string, fn: () => unknown): Failure | null {
  try {
    const result = fn();
    // An async callback that rejects is logged too, instead of becoming an unhandled rejection
    // (which would end the process).
    if (result instanceof Promise) {
      result.then(undefined, (e: unknown) => {
        log.failure(`Unhandled error in ${what}`, Failure.from(e));
      });
    }
    return null;
  } catch (e) {
    const f = Failure.from(e);
    log.failure(`Unhandled error in ${what}`, f);
    return f;
  }
}
