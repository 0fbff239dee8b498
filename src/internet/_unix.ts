// Unix socket ports and connectors (reactor.listenUNIX, reactor.connectUNIX).

import cluster from "node:cluster";
import { chmodSync, unlinkSync } from "node:fs";
import type { Server, Socket } from "node:net";
import * as net from "node:net";
import type { NodeReactor } from "./_reactor.js";
import { StreamConnector } from "./_tcp_connector.js";
import { StreamPort } from "./_tcp_port.js";
import { UNIXAddress } from "./address.js";
import { CannotListenError } from "./error.js";
import type { IAddress, IClientFactory, IProtocolFactory } from "./interfaces.js";

/**
 * A listening Unix socket, as `reactor.listenUNIX` returns. The socket file gets `mode` once
 * listening and is removed when the port stops. A path that exists already (even a stale socket
 * file) cannot be listened on, as in Twisted: remove it first. Paths starting with `"\0"` are
 * Linux abstract-namespace sockets (no file, no mode).
 */
export class UNIXPort extends StreamPort {
  constructor(
    reactor: NodeReactor,
    readonly path: string,
    factory: IProtocolFactory,
    backlog: number,
    readonly mode: number,
  ) {
    super(reactor, factory, backlog);
  }

  protected listenOn(server: Server): void {
    // A pipe binds synchronously in the primary process, but its error is only emitted on the
    // next tick: catch the error object as Node schedules it, to raise it now, as Twisted does.
    const nextTick = process.nextTick;
    let early: unknown = null;
    process.nextTick = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
      if (args[0] === server && args[1] instanceof Error) early = args[1];
      return nextTick.call(process, fn, ...args);
    }) as typeof process.nextTick;
    try {
      server.listen({ path: this.path, backlog: this.backlog });
    } finally {
      process.nextTick = nextTick;
    }
    if (!server.listening && cluster.isPrimary) {
      throw this.cannotListen(early ?? new Error(`Cannot bind ${this.path}`));
    }
  }

  protected override listened(server: Server): void {
    if (!this.path.startsWith("\0")) chmodSync(this.path, this.mode);
  }

  protected override closed(): void {
    if (this.path.startsWith("\0")) return;
    try {
      unlinkSync(this.path); // libuv removes it already; this is for other platforms
    } catch (e) {
      if ((e as { code?: unknown }).code !== "ENOENT") throw e;
    }
  }

  protected cannotListen(cause: unknown): CannotListenError {
    return new CannotListenError(this.path, "", { cause });
  }

  protected addressesOf(socket: Socket): { host: IAddress; peer: IAddress } {
    return { host: new UNIXAddress(this.path), peer: new UNIXAddress(null) };
  }

  /** The socket's path. */
  getHost(): UNIXAddress {
    return new UNIXAddress(this.path);
  }
}

/** An outgoing Unix socket connection, as `reactor.connectUNIX` returns. */
export class UNIXConnector extends StreamConnector {
  constructor(
    reactor: NodeReactor,
    readonly path: string,
    factory: IClientFactory,
    timeout: number,
  ) {
    super(reactor, factory, timeout);
  }

  protected makeSocket(): Socket {
    return net.connect({ path: this.path, allowHalfOpen: true });
  }

  protected addressesOf(socket: Socket): { host: IAddress; peer: IAddress } {
    return { host: new UNIXAddress(null), peer: new UNIXAddress(this.path) };
  }

  /** The path connected to. */
  getDestination(): UNIXAddress {
    return new UNIXAddress(this.path);
  }
}

/**
 * Listens on a Unix socket at `address` (`reactor.listenUNIX`), with file mode `mode`. Raises
 * `CannotListenError` when the path cannot be bound (in use, missing directory, no permission).
 */
export function listenUNIX(
  reactor: NodeReactor,
  address: string,
  factory: IProtocolFactory,
  backlog: number,
  mode: number,
): UNIXPort {
  const p = new UNIXPort(reactor, address, factory, backlog, mode);
  p.startListening();
  return p;
}

/** Connects to a Unix socket (`reactor.connectUNIX`); `timeout` is in seconds. */
export function connectUNIX(
  reactor: NodeReactor,
  address: string,
  factory: IClientFactory,
  timeout: number,
): UNIXConnector {
  const c = new UNIXConnector(reactor, address, factory, timeout);
  c.connect();
  return c;
}
