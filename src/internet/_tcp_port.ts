// Listening ports over node:net servers: the StreamPort base (TCP, Unix, TLS) and TCPPort.

import cluster from "node:cluster";
import type { Server, Socket } from "node:net";
import * as net from "node:net";
import { getSystemErrorMap, getSystemErrorName } from "node:util";
import { Logger, LogLevel } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { _tcpSocketAddresses } from "./_tcp_connector.js";
import { nameOf, TCPTransport } from "./_tcp_transport.js";
import { type IPAddress, IPv4Address, IPv6Address, ipAddress } from "./address.js";
import { Deferred } from "./defer.js";
import { CannotListenError } from "./error.js";
import { Failure } from "./failure.js";
import type { IAddress, IListeningPort, IProtocol, IProtocolFactory } from "./interfaces.js";

const log = new Logger("twisted-ts.internet.tcp");

type PortState = "idle" | "binding" | "listening" | "stopping" | "stopped" | "failed";

/**
 * A listening stream port: accepts connections and gives each a protocol from the factory
 * (`buildProtocol(peer)`; `null` refuses the connection) and a `TCPTransport`.
 *
 * - `startListening()` (called by `listenTCP` and friends) raises `CannotListenError` when the
 *   bind fails at once; when binding is asynchronous (host names, `node:cluster` workers) a
 *   failure is logged and fails `whenListening()`.
 * - `factory.doStart()` runs once listening, `factory.doStop()` once stopped.
 * - `stopListening()` closes the listening socket; connections already accepted stay up.
 */
export abstract class StreamPort implements IListeningPort {
  /** True while listening (Twisted's `connected`). */
  connected = false;
  /** The Node server, once `startListening` has run. */
  server: Server | null = null;
  protected state: PortState = "idle";
  private waiters: Deferred<this>[] = [];
  private stopWaiters: Deferred<void>[] = [];
  private failure: CannotListenError | null = null;

  constructor(
    readonly reactor: NodeReactor,
    readonly factory: IProtocolFactory,
    readonly backlog: number,
  ) {}

  /** The server event that hands over a ready socket (TLS ports wait for the handshake). */
  protected readonly connectionEvent: "connection" | "secureConnection" = "connection";

  /** Makes the server: a plain `net.Server` that allows half-closed connections (TLS overrides). */
  protected createServer(): Server {
    return net.createServer({ allowHalfOpen: true });
  }

  /**
   * Starts listening on `server`. Raises `CannotListenError` when the bind failed at once;
   * returns with `server.listening` false when the outcome comes later.
   */
  protected abstract listenOn(server: Server): void;
  /** A `CannotListenError` for this port. */
  protected abstract cannotListen(cause: unknown): CannotListenError;
  /** The local and remote addresses of an accepted socket. */
  protected abstract addressesOf(socket: Socket): { host: IAddress; peer: IAddress };
  /** Runs once listening, before the factory starts (Unix ports set the file mode). */
  protected listened(server: Server): void {}
  /** Runs once the server is closed (Unix ports remove the socket file). */
  protected closed(): void {}
  /** Runs when the port stops: sockets not yet handed to a protocol are dropped (TLS ports). */
  protected stopAccepting(): void {}
  /** Whether accepted sockets are TLS sockets that have completed their handshake. */
  protected readonly acceptsTLS: boolean = false;

  /** Starts listening; done already by `listenTCP` and friends. */
  startListening(): void {
    if (this.state !== "idle") return;
    const server = this.createServer();
    this.server = server;
    server.on("error", this.onServerError);
    server.on(this.connectionEvent, this.onConnection);
    this.state = "binding";
    try {
      this.listenOn(server);
    } catch (e) {
      this.state = "failed";
      throw e;
    }
    this.reactor._track(this);
    if (server.listening) {
      this.onListening();
      if (this.failure !== null) throw this.failure;
    } else {
      server.once("listening", this.onListening);
    }
  }

  private readonly onListening = (): void => {
    const server = this.server!;
    if (this.state === "stopping" || this.state === "stopped") {
      server.close(); // stopped while binding
      return;
    }
    if (this.state !== "binding") return;
    this.state = "listening";
    this.connected = true;
    try {
      this.listened(server);
    } catch (e) {
      this.bindFailed(e);
      server.close();
      this.closed();
      return;
    }
    if (isNoisy(this.factory)) {
      log.info("{factory} starting on {address}", {
        factory: nameOf(this.factory),
        address: String(this.getHost()),
      });
    }
    try {
      this.factory.doStart();
    } catch (e) {
      log.failure("Unhandled error in doStart of {factory}", Failure.from(e), undefined, {
        factory: nameOf(this.factory),
      });
    }
    for (const d of this.waiters.splice(0)) d.callback(this);
  };

  private readonly onServerError = (err: Error): void => {
    if (this.state === "binding") {
      this.bindFailed(err);
    } else if (this.state === "listening") {
      // Accept errors (EMFILE…) do not stop a port.
      log.failure("Error on {port}", new Failure(err), undefined, { port: String(this) });
    }
  };

  private bindFailed(err: unknown): void {
    const error = err instanceof CannotListenError ? err : this.cannotListen(err);
    this.state = "failed";
    this.connected = false;
    this.failure = error;
    this.reactor._untrack(this);
    log.failure("Cannot listen: {error}", new Failure(error), LogLevel.error, {
      error: error.message,
    });
    for (const d of this.waiters.splice(0)) d.errback(error);
    for (const d of this.stopWaiters.splice(0)) d.callback(undefined);
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.state !== "listening") {
      socket.destroy();
      return;
    }
    const { host, peer } = this.addressesOf(socket);
    let protocol: IProtocol | null;
    try {
      protocol = this.factory.buildProtocol(peer);
    } catch (e) {
      log.failure(
        "Unhandled error in buildProtocol of {factory}, closing the connection",
        Failure.from(e),
        undefined,
        {
          factory: nameOf(this.factory),
        },
      );
      socket.destroy();
      return;
    }
    if (protocol === null || protocol === undefined) {
      socket.destroy();
      return;
    }
    const transport = new TCPTransport(this.reactor, socket, {
      host,
      peer,
      isServer: true,
      tls: this.acceptsTLS,
    });
    transport._start(protocol);
    if (this.acceptsTLS) transport._handshakeDone();
  };

  /**
   * A Deferred that fires with this port once it listens, or fails with `CannotListenError`.
   * Cancelling it leaves the port as it is.
   */
  whenListening(): Deferred<this> {
    const d = new Deferred<this>();
    if (this.state === "listening") d.callback(this);
    else if (this.state === "failed" && this.failure !== null) d.errback(this.failure);
    else if (this.state === "binding" || this.state === "idle") this.waiters.push(d);
    else d.errback(this.cannotListen(new Error("Port was stopped")));
    return d;
  }

  /**
   * Stops listening: the result fires once the listening socket is closed and the factory
   * stopped. Connections already accepted stay up. Cancelling the result does not undo the stop.
   */
  stopListening(): Deferred<void> {
    const d = new Deferred<void>();
    const server = this.server;
    switch (this.state) {
      case "idle":
      case "stopped":
      case "failed":
        return d.callback(undefined);
      case "stopping":
        this.stopWaiters.push(d);
        return d;
      case "binding":
        this.stopWaiters.push(d);
        this.state = "stopping";
        this.connected = false;
        for (const w of this.waiters.splice(0)) {
          w.errback(this.cannotListen(new Error("Port was stopped before it was listening")));
        }
        this.reactor._untrack(this);
        this.stopAccepting();
        // An asynchronous bind may still complete: onListening then closes the server again.
        server!.once("close", () => this.finishStop(false));
        server!.close();
        return d;
      case "listening":
        this.stopWaiters.push(d);
        this.state = "stopping";
        this.connected = false;
        this.reactor._untrack(this);
        this.stopAccepting();
        // server.close() closes the listening socket at once but reports 'close' only after
        // every accepted connection ended; Twisted's stopListening does not wait for those.
        server!.close();
        setImmediate(() => this.finishStop(true));
        return d;
    }
  }

  private finishStop(started: boolean): void {
    if (this.state !== "stopping") return;
    this.state = "stopped";
    try {
      this.closed();
    } catch (e) {
      log.failure("Error while closing {port}", Failure.from(e), undefined, { port: String(this) });
    }
    if (started) {
      if (isNoisy(this.factory)) log.info("({port} closed)", { port: String(this) });
      try {
        this.factory.doStop();
      } catch (e) {
        log.failure("Unhandled error in doStop of {factory}", Failure.from(e), undefined, {
          factory: nameOf(this.factory),
        });
      }
    }
    for (const w of this.stopWaiters.splice(0)) w.callback(undefined);
  }

  /** Same as `stopListening` (Twisted's alias). */
  loseConnection(): Deferred<void> {
    return this.stopListening();
  }

  /** Stops listening for reactor shutdown. @internal */
  _shutdown(): void {
    this.stopListening();
  }

  /** The address listened on. */
  abstract getHost(): IAddress;

  /** `<Factory on address>`. */
  toString(): string {
    return `<${nameOf(this.factory)} on ${this.getHost()}>`;
  }
}

type CreateServerHandle = (
  address: string,
  port: number,
  addressType: number,
  fd: undefined,
  flags: number,
) => number | { listen(backlog: number): number; close(): void };

/**
 * A listening TCP port, as `reactor.listenTCP` returns. An empty interface means all IPv4
 * interfaces (`0.0.0.0`), as in Twisted; use `"::"` for IPv6 (and IPv4-mapped) ones.
 */
export class TCPPort extends StreamPort {
  private realAddress: IPAddress | null = null;
  /** The local address of the last accepted connection, shared with the next one if the same. */
  private lastHost: {
    address: string | undefined;
    port: number | undefined;
    family: string | undefined;
    value: IPAddress;
  } | null = null;
  /** The address of the last peer, whose host string the next one from that host shares. */
  private lastPeer: {
    address: string | undefined;
    family: string | undefined;
    value: IPAddress;
  } | null = null;

  constructor(
    reactor: NodeReactor,
    readonly port: number,
    factory: IProtocolFactory,
    backlog: number,
    readonly iface: string,
  ) {
    super(reactor, factory, backlog);
  }

  protected listenOn(server: Server): void {
    const host = this.iface === "" ? "0.0.0.0" : this.iface;
    const family = net.isIP(host);
    // net.Server binds only after a DNS lookup, even of an IP literal. Twisted's listenTCP
    // raises at once, so bind the handle ourselves with the helper Node's cluster module uses.
    const createHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })
      ._createServerHandle;
    if (family !== 0 && cluster.isPrimary && typeof createHandle === "function") {
      const handle = createHandle(host, this.port, family, undefined, 0);
      if (typeof handle === "number")
        throw this.cannotListen(uvError(handle, "bind", host, this.port));
      const err = handle.listen(this.backlog);
      if (err !== 0) {
        handle.close();
        throw this.cannotListen(uvError(err, "listen", host, this.port));
      }
      server.listen(handle, this.backlog);
      return;
    }
    server.listen({ port: this.port, host, backlog: this.backlog });
  }

  protected override listened(server: Server): void {
    const a = server.address();
    if (a !== null && typeof a === "object") {
      this.realAddress = ipAddress("TCP", a.address, a.port, a.family);
    }
  }

  protected cannotListen(cause: unknown): CannotListenError {
    return new CannotListenError(this.iface, this.port, { cause });
  }

  protected addressesOf(socket: Socket): { host: IAddress; peer: IAddress } {
    // Asked of the handle rather than through socket.localAddress/remoteAddress, which would keep
    // a copy on every socket. The local address is nearly always the previous one, and the peer's
    // host often is (clients behind one proxy, or one machine): both are shared, not copied.
    const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle;
    const name = scratchName;
    if (
      typeof handle?.getsockname !== "function" ||
      typeof handle.getpeername !== "function" ||
      handle.getsockname(name) !== 0
    ) {
      return _tcpSocketAddresses(socket);
    }
    const last = this.lastHost;
    let host: IPAddress;
    if (
      last !== null &&
      last.address === name.address &&
      last.port === name.port &&
      last.family === name.family
    ) {
      host = last.value;
    } else {
      host = ipAddress("TCP", name.address, name.port, name.family);
      this.lastHost = {
        address: name.address,
        port: name.port,
        family: name.family,
        value: host,
      };
    }
    if (handle.getpeername(name) !== 0) return _tcpSocketAddresses(socket);
    return { host, peer: this.peerAddress(name.address, name.port ?? 0, name.family) };
  }

  /** The peer's address; its host string is the previous peer's when they are the same host. */
  private peerAddress(address: string | undefined, port: number, family: string | undefined) {
    const last = this.lastPeer;
    if (last !== null && address === last.address && family === last.family) {
      const prev = last.value;
      return prev instanceof IPv4Address
        ? new IPv4Address("TCP", prev.host, port)
        : new IPv6Address("TCP", prev.host, port, 0, prev.scopeID);
    }
    const peer = ipAddress("TCP", address, port, family);
    this.lastPeer = { address, family, value: peer };
    return peer;
  }

  /** The address listened on, with the real port once listening (when 0 was asked for). */
  getHost(): IPAddress {
    return this.realAddress ?? ipAddress("TCP", this.iface || "0.0.0.0", this.port);
  }
}

/** What a TCP handle's `getsockname`/`getpeername` fill in. */
interface SockName {
  address?: string;
  port?: number;
  family?: string;
}

/** Filled in by `getsockname`/`getpeername` and read at once: one object for every accept. */
const scratchName: SockName = {};

/** The part of Node's TCP handle (`socket._handle`) used to read a connection's addresses. */
interface SocketHandle {
  getsockname?(out: SockName): number;
  getpeername?(out: SockName): number;
}

/** An error like Node's own for a failed socket call (`code`, `errno`, `syscall`). @internal */
export function uvError(errno: number, syscall: string, host: string, port: number): Error {
  const code = getSystemErrorName(errno);
  const description = getSystemErrorMap().get(errno)?.[1] ?? code;
  return Object.assign(new Error(`${syscall} ${code}: ${description} ${host}:${port}`), {
    code,
    errno,
    syscall,
    address: host,
    port,
  });
}

/** Twisted's `factory.noisy`: a factory whose `noisy` is false has its ports start and stop quietly. */
function isNoisy(factory: unknown): boolean {
  return (factory as { noisy?: unknown }).noisy !== false;
}
