// Connection limits: LimitConnectionsByPeer and LimitTotalConnectionsFactory.

import type { IAddress, IProtocol } from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import { type ProtocolWrapper, type WrappedFactory, WrappingFactory } from "./_wrapping.js";

const log = new Logger("twisted-ts.protocols.policies");

/** The host part of an address (the path for Unix sockets). */
function peerKey(addr: IAddress): string {
  const a = addr as { host?: unknown; name?: unknown };
  if (typeof a.host === "string") return a.host;
  if (typeof a.name === "string") return a.name;
  return String(addr);
}

/**
 * Refuses a connection when its peer host already has `maxConnectionsPerPeer` open.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new LimitConnectionsByPeer(Factory.forProtocol(Echo), 2));
 * ```
 */
export class LimitConnectionsByPeer extends WrappingFactory {
  /** Open connections per peer host. */
  readonly peerConnections = new Map<string, number>();
  private readonly keys = new WeakMap<ProtocolWrapper, string>();

  constructor(
    wrappedFactory: WrappedFactory,
    public maxConnectionsPerPeer = 5,
  ) {
    super(wrappedFactory);
  }

  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    const key = peerKey(addr);
    const count = this.peerConnections.get(key) ?? 0;
    if (count >= this.maxConnectionsPerPeer) {
      log.info("Refusing a connection from {peer}: it has {count} already", { peer: key, count });
      return null;
    }
    const p = super.buildProtocol(addr);
    if (p === null) return null;
    this.peerConnections.set(key, count + 1);
    this.keys.set(p, key);
    return p;
  }

  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    const key = this.keys.get(p);
    if (key === undefined) return;
    this.keys.delete(p);
    const count = (this.peerConnections.get(key) ?? 1) - 1;
    if (count <= 0) this.peerConnections.delete(key);
    else this.peerConnections.set(key, count);
  }
}

/**
 * Limits the open connections of a factory to `connectionLimit` (`null`: no limit). Beyond it,
 * a connection is refused, or given to an instance of `overflowProtocol` if one is set (to say
 * "too busy" before closing, for instance).
 *
 * @example
 * ```ts
 * class Busy extends Protocol {
 *   override connectionMade() { this.tx.write("Too busy\r\n"); this.tx.loseConnection(); }
 * }
 * reactor.listenTCP(8000, new LimitTotalConnectionsFactory(Factory.forProtocol(Echo), 100, Busy));
 * ```
 */
export class LimitTotalConnectionsFactory extends WrappingFactory {
  /** Open connections, overflow ones included. */
  connectionCount = 0;

  constructor(
    wrappedFactory: WrappedFactory,
    public connectionLimit: number | null = null,
    public overflowProtocol: (new () => IProtocol) | null = null,
  ) {
    super(wrappedFactory);
  }

  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    let wrapped: IProtocol | null;
    if (this.connectionLimit === null || this.connectionCount < this.connectionLimit) {
      wrapped = this.wrappedFactory.buildProtocol(addr);
    } else if (this.overflowProtocol === null) {
      log.info("Refusing a connection from {peer}: {count} are open", {
        peer: peerKey(addr),
        count: this.connectionCount,
      });
      return null;
    } else {
      wrapped = new this.overflowProtocol();
      (wrapped as { factory?: unknown }).factory = this;
    }
    if (wrapped === null) return null;
    this.connectionCount++;
    return new this.protocol(this, wrapped);
  }

  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    this.connectionCount--;
  }
}
