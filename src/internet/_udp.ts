// UDP and multicast ports over node:dgram (Twisted's twisted.internet.udp).

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIP, isIPv6 } from "node:net";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { type IPAddress, ipAddress } from "./address.js";
import { Deferred } from "./defer.js";
import { CannotListenError, TwistedError } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IDatagramProtocol,
  IListeningPort,
  IMulticastTransport,
  IUDPTransport,
} from "./interfaces.js";
import { _callSafely } from "./protocol.js";

const log = new Logger("twisted-ts.internet.udp");

/** Joining (or leaving) a multicast group failed; `cause` holds the OS error. */
export class MulticastJoinError extends TwistedError {
  override readonly code: string = "ERR_MULTICAST_JOIN";
  constructor(message = "Cannot join multicast group", options?: { cause?: unknown }) {
    super(message, options);
  }
}

type PortState = "binding" | "listening" | "stopping" | "stopped" | "failed";

/**
 * A UDP port: what `reactor.listenUDP` returns, and the transport of its `DatagramProtocol`.
 *
 * Twisted binds synchronously; Node binds asynchronously. So `listenUDP` returns at once, and:
 * - `whenListening()` fires (with the port) once the socket is bound, or fails with
 *   `CannotListenError` (which is also logged);
 * - the protocol's `makeConnection` (hence `startProtocol`) runs once bound;
 * - `getHost()` reports the real port (when 0 was asked for) only once listening;
 * - datagrams written before then are queued by Node and sent once bound.
 *
 * A datagram longer than `maxPacketSize` is truncated to `maxPacketSize` bytes, as Twisted's
 * `recvfrom(maxPacketSize)` does; the rest is dropped.
 *
 * @example
 * ```ts
 * const port = reactor.listenUDP(0, new UDPEcho(), "127.0.0.1");
 * await port.whenListening();
 * console.log(port.getHost());
 * ```
 */
export class UDPPort implements IListeningPort, IUDPTransport {
  /** The address family of the socket. */
  readonly addressFamily: "udp4" | "udp6";
  /** True while listening (Twisted's `connected`). */
  connected = false;
  protected socket: Socket | null = null;
  protected state: PortState = "binding";
  private connectedAddr: readonly [string, number] | null = null;
  private connectQueue: (Uint8Array | string)[] | null = null;
  private broadcastAllowed = false;
  private listenFailure: Failure | null = null;
  private listeningWaiters: Deferred<UDPPort>[] = [];
  private stopWaiters: Deferred<void>[] = [];
  private started = false;

  constructor(
    readonly reactor: NodeReactor,
    /** The port number asked for (0: any free port). */
    readonly port: number,
    readonly protocol: IDatagramProtocol,
    /** The address asked for (`""`: all interfaces). */
    readonly iface: string,
    /** Longest datagram delivered; longer ones are truncated. */
    readonly maxPacketSize: number,
    protected readonly reuseAddr = false,
  ) {
    this.addressFamily = isIPv6(iface) ? "udp6" : "udp4";
  }

  /**
   * Creates the socket and starts binding it (done by `listenUDP`). Raises `CannotListenError`
   * at once only for errors Node reports synchronously (e.g. an invalid port number).
   */
  startListening(): void {
    if (this.started) return;
    this.started = true;
    const socket = createSocket({ type: this.addressFamily, reuseAddr: this.reuseAddr });
    this.socket = socket;
    socket.on("message", this.onMessage);
    socket.on("error", this.onError);
    const address = this.iface || (this.addressFamily === "udp6" ? "::" : "0.0.0.0");
    try {
      socket.bind(this.port, address, this.onBound);
    } catch (e) {
      this.state = "failed";
      this.socket = null;
      socket.close();
      throw new CannotListenError(this.iface, this.port, { cause: e });
    }
    this.reactor._track(this);
  }

  private readonly onBound = (): void => {
    if (this.state !== "binding") return;
    this.state = "listening";
    this.connected = true;
    this.applyOptions();
    log.info("{protocol} starting on {port}", {
      protocol: this.protocol.constructor.name,
      port: this.getHost().port,
    });
    _callSafely("makeConnection", () => this.protocol.makeConnection(this));
    const waiters = this.listeningWaiters;
    this.listeningWaiters = [];
    for (const d of waiters) d.callback(this);
  };

  /** Applies the options set before the socket was bound. */
  protected applyOptions(): void {
    if (this.broadcastAllowed) this.socket?.setBroadcast(true);
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.state !== "listening") return;
    const data = msg.length > this.maxPacketSize ? msg.subarray(0, this.maxPacketSize) : msg;
    const addr = [rinfo.address, rinfo.port] as const;
    _callSafely("datagramReceived", () => this.protocol.datagramReceived(data, addr));
  };

  private readonly onError = (err: Error & { code?: string }): void => {
    if (this.state === "binding") {
      this.bindFailed(new CannotListenError(this.iface, this.port, { cause: err }));
      return;
    }
    if (err.code === "ECONNREFUSED" && this.connectedAddr !== null) {
      _callSafely("connectionRefused", () => this.protocol.connectionRefused());
      return;
    }
    log.failure("UDP port {port} error", new Failure(err), undefined, { port: this.port });
  };

  private bindFailed(error: CannotListenError): void {
    this.state = "failed";
    const f = new Failure(error);
    this.listenFailure = f;
    log.failure("Cannot listen on UDP port {port}", f, undefined, { port: this.port });
    this.socket?.close();
    this.socket = null;
    this.reactor._untrack(this);
    const waiters = this.listeningWaiters;
    this.listeningWaiters = [];
    for (const d of waiters) d.errback(new Failure(error));
    this.finishStopping();
  }

  /**
   * A Deferred that fires with this port once it listens, or fails with `CannotListenError`.
   * Each call returns a new Deferred; cancelling it leaves the port as it is.
   */
  whenListening(): Deferred<this> {
    const d = new Deferred<this>();
    if (this.state === "listening") d.callback(this);
    else if (this.listenFailure !== null) d.errback(new Failure(this.listenFailure.value));
    else if (this.state === "binding") this.listeningWaiters.push(d as Deferred<UDPPort>);
    else {
      d.errback(
        new Failure(
          new CannotListenError(this.iface, this.port, {
            cause: new Error("Port was stopped before it was listening"),
          }),
        ),
      );
    }
    return d;
  }

  /**
   * Sends a datagram to `addr` (`[ip, port]`: an IP address, not a host name), or to the
   * connected peer when `connect` was called (then `addr` must be omitted or be that peer).
   * Send errors are reported asynchronously: logged, or `connectionRefused()` when connected.
   */
  write(packet: Uint8Array | string, addr?: readonly [string, number]): void {
    const socket = this.socket;
    if (socket === null || (this.state !== "listening" && this.state !== "binding")) {
      throw new Error("Cannot write: UDP port is not listening");
    }
    if (this.connectedAddr !== null) {
      if (
        addr !== undefined &&
        (addr[0] !== this.connectedAddr[0] || addr[1] !== this.connectedAddr[1])
      ) {
        throw new Error(`Cannot write to ${addr[0]}:${addr[1]}: port is connected to another peer`);
      }
      if (this.connectQueue !== null) this.connectQueue.push(packet);
      else socket.send(packet, this.onSent);
      return;
    }
    if (addr === undefined) {
      throw new Error("Cannot write: no address given and the port is not connected");
    }
    const [host, port] = addr;
    if (isIP(host) === 0) {
      throw new Error(`Cannot write to ${host}: pass an IP address, not a host name`);
    }
    socket.send(packet, port, host, this.onSent);
  }

  private readonly onSent = (err: (Error & { code?: string }) | null): void => {
    if (err === null || err === undefined) return;
    if (err.code === "ECONNREFUSED" && this.connectedAddr !== null) {
      _callSafely("connectionRefused", () => this.protocol.connectionRefused());
      return;
    }
    log.failure("Cannot send UDP datagram", new Failure(err));
  };

  /**
   * Connects the port to one peer: `write(data)` then needs no address, only the peer's
   * datagrams arrive, and ICMP "port unreachable" answers call `protocol.connectionRefused()`.
   * `host` must be an IP address. A port can be connected only once.
   */
  connect(host: string, port: number): void {
    if (this.connectedAddr !== null) {
      throw new Error("Cannot connect: already connected, reconnecting is not supported");
    }
    if (isIP(host) === 0) {
      throw new Error(`Cannot connect to ${host}: pass an IP address, not a host name`);
    }
    const socket = this.socket;
    if (socket === null) throw new Error("Cannot connect: UDP port is not listening");
    this.connectedAddr = [host, port];
    // Node cannot send without an address until connected: queue until then.
    this.connectQueue = [];
    socket.connect(port, host, (err?: Error) => {
      const queue = this.connectQueue ?? [];
      this.connectQueue = null;
      if (err) {
        log.failure("Cannot connect UDP port to {host}:{port}", new Failure(err), undefined, {
          host,
          port,
        });
        return;
      }
      if (this.socket !== socket) return;
      for (const packet of queue) socket.send(packet, this.onSent);
    });
  }

  /**
   * The local address. Before the port listens (see `whenListening`), this is the address and
   * port asked for, so a port asked as 0 reports 0.
   */
  getHost(): IPAddress {
    if (this.state === "listening" && this.socket !== null) {
      const a = this.socket.address();
      return ipAddress("UDP", a.address, a.port, a.family);
    }
    const host = this.iface || (this.addressFamily === "udp6" ? "::" : "0.0.0.0");
    return ipAddress("UDP", host, this.port, this.addressFamily === "udp6" ? "IPv6" : "IPv4");
  }

  /** Allows (or forbids) sending to broadcast addresses (`SO_BROADCAST`). */
  setBroadcastAllowed(enabled: boolean): void {
    this.broadcastAllowed = enabled;
    if (this.state === "listening") this.socket?.setBroadcast(enabled);
  }

  /** Whether sending to broadcast addresses is allowed. */
  getBroadcastAllowed(): boolean {
    return this.broadcastAllowed;
  }

  /**
   * Stops listening: closes the socket, then calls `protocol.doStop()` (hence `stopProtocol`)
   * and fires the returned Deferred. Calling it again returns a Deferred that fires when the
   * port is closed. Cancelling the Deferred does not stop the closing.
   */
  stopListening(): Deferred<void> {
    const d = new Deferred<void>();
    if (this.state === "stopped" || this.state === "failed") {
      d.callback(undefined);
      return d;
    }
    this.stopWaiters.push(d);
    if (this.state === "stopping") return d;
    const wasListening = this.state === "listening";
    this.state = "stopping";
    this.connected = false;
    const waiters = this.listeningWaiters;
    this.listeningWaiters = [];
    for (const w of waiters) {
      w.errback(
        new Failure(
          new CannotListenError(this.iface, this.port, {
            cause: new Error("Port was stopped before it was listening"),
          }),
        ),
      );
    }
    const socket = this.socket;
    const port = wasListening ? this.getHost().port : this.port;
    this.socket = null;
    const closed = (): void => {
      this.state = "stopped";
      this.reactor._untrack(this);
      log.info("(UDP Port {port} Closed)", { port });
      if (wasListening) _callSafely("doStop", () => this.protocol.doStop());
      this.finishStopping();
    };
    if (socket === null) closed();
    else socket.close(closed);
    return d;
  }

  private finishStopping(): void {
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }

  /** @internal the reactor stops: stop listening */
  _shutdown(): void {
    this.stopListening();
  }

  /** The name used in log messages: the protocol's class name. */
  logPrefix(): string {
    return this.protocol.constructor.name;
  }

  toString(): string {
    const port = this.state === "listening" ? this.getHost().port : "not listening";
    return `<${this.logPrefix()} on ${port}>`;
  }
}

/**
 * A UDP port that can join multicast groups: what `reactor.listenMulticast` returns. Defaults
 * are the kernel's: TTL 1, loopback on, outgoing interface chosen by the routing table.
 * Options set before the port listens are applied once it does; `joinGroup`, `leaveGroup` and
 * `setOutgoingInterface` wait for it.
 *
 * To receive a group's datagrams, listen on all interfaces (`iface` `""`) and join the group on
 * an interface: on Linux a socket bound to a unicast address gets no multicast datagrams.
 *
 * @example
 * ```ts
 * class Pinger extends DatagramProtocol {
 *   override startProtocol() {
 *     this.transport!.joinGroup("239.255.1.2", "127.0.0.1");
 *   }
 * }
 * reactor.listenMulticast(9999, new Pinger(), "", 8192, true);
 * ```
 */
export class MulticastPort extends UDPPort implements IMulticastTransport {
  private ttl = 1;
  private loopback = true;
  private outgoingInterface = "";
  private optionsSet = { ttl: false, loopback: false };

  protected override applyOptions(): void {
    super.applyOptions();
    const s = this.socket;
    if (s === null) return;
    if (this.optionsSet.ttl) s.setMulticastTTL(this.ttl);
    if (this.optionsSet.loopback) s.setMulticastLoopback(this.loopback);
  }

  /** Runs `fn` on the bound socket once listening; the Deferred fails if `fn` throws. */
  private whenBound(what: string, fn: (socket: Socket) => void): Deferred<void> {
    const d = new Deferred<void>();
    this.whenListening()
      .addCallback(() => {
        const s = this.socket;
        if (s === null) {
          d.errback(new Failure(new MulticastJoinError(`${what}: port is not listening`)));
          return;
        }
        try {
          fn(s);
          d.callback(undefined);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          d.errback(new Failure(new MulticastJoinError(`${what}: ${msg}`, { cause: e })));
        }
      })
      .addErrback((f: Failure) => {
        d.errback(f);
      });
    return d;
  }

  /**
   * Joins multicast group `addr` on the interface with address `iface` (default: the one the
   * kernel picks). Fails with `MulticastJoinError`.
   */
  joinGroup(addr: string, iface = ""): Deferred<void> {
    return this.whenBound(`Cannot join multicast group ${addr}`, (s) => {
      if (iface) s.addMembership(addr, iface);
      else s.addMembership(addr);
    });
  }

  /** Leaves multicast group `addr`. Fails with `MulticastJoinError`. */
  leaveGroup(addr: string, iface = ""): Deferred<void> {
    return this.whenBound(`Cannot leave multicast group ${addr}`, (s) => {
      if (iface) s.dropMembership(addr, iface);
      else s.dropMembership(addr);
    });
  }

  /** The address of the interface multicast datagrams are sent from (`"0.0.0.0"`: default). */
  getOutgoingInterface(): string {
    return this.outgoingInterface || (this.addressFamily === "udp6" ? "::" : "0.0.0.0");
  }

  /** Sends multicast datagrams from the interface with address `addr` (an IP address). */
  setOutgoingInterface(addr: string): Deferred<void> {
    return this.whenBound(`Cannot set outgoing interface ${addr}`, (s) => {
      s.setMulticastInterface(addr);
      this.outgoingInterface = addr;
    });
  }

  /** Whether our own multicast datagrams are delivered back to us (default true). */
  getLoopbackMode(): boolean {
    return this.loopback;
  }

  /** Turns delivery of our own multicast datagrams to local listeners on or off. */
  setLoopbackMode(mode: boolean): void {
    this.loopback = Boolean(mode);
    this.optionsSet.loopback = true;
    if (this.state === "listening") this.socket?.setMulticastLoopback(this.loopback);
  }

  /** The time-to-live of multicast datagrams sent (default 1: this network only). */
  getTTL(): number {
    return this.ttl;
  }

  /** Sets the time-to-live (hop limit) of multicast datagrams sent, 0–255. */
  setTTL(ttl: number): void {
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) {
      throw new RangeError(`Invalid multicast TTL: ${ttl}`);
    }
    this.ttl = ttl;
    this.optionsSet.ttl = true;
    if (this.state === "listening") this.socket?.setMulticastTTL(ttl);
  }
}

/**
 * Listens for UDP datagrams on `port` (0: any free port) and `iface` (`""`: all; an IPv6
 * address makes an IPv6 port). Returns at once; see `UDPPort` for when it listens.
 * @internal called by `NodeReactor.listenUDP`
 */
export function listenUDP(
  reactor: NodeReactor,
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
): UDPPort {
  const p = new UDPPort(reactor, port, protocol, iface, maxPacketSize);
  p.startListening();
  return p;
}

/**
 * Listens for UDP datagrams with multicast support; `listenMultiple` sets `SO_REUSEADDR` so that
 * several sockets (and processes) can listen on the same port.
 * @internal called by `NodeReactor.listenMulticast`
 */
export function listenMulticast(
  reactor: NodeReactor,
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
  listenMultiple: boolean,
): MulticastPort {
  const p = new MulticastPort(reactor, port, protocol, iface, maxPacketSize, listenMultiple);
  p.startListening();
  return p;
}
