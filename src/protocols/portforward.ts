// Port forwarding (twisted.protocols.portforward): a TCP proxy relaying bytes both ways with flow control.

import { _globalReactor } from "../internet/_global.js";
import type { Failure } from "../internet/failure.js";
import type {
  IConnector,
  IProducer,
  IPushProducer,
  IReactorTCP,
  ITransport,
} from "../internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";

const log = new Logger("twisted-ts.protocols.portforward");

type FlowTransport = ITransport & {
  registerProducer(producer: IProducer, streaming: boolean): void;
  unregisterProducer(): void;
} & Partial<IPushProducer>;

/**
 * One side of a proxied connection: what it receives is written to its `peer`'s transport,
 * and when it is lost, the peer's connection is closed too.
 */
// biome-ignore lint/suspicious/noShadowRestrictedNames: Twisted's name, kept for its users
export class Proxy extends Protocol {
  /** Logs a failed connection to the peer when true. */
  noisy = true;
  /** The other side, while both are connected. */
  peer: Proxy | null = null;
  /** True once paired with a peer. */
  private paired = false;
  /** True while this side's transport has the peer's transport registered as its producer. */
  producerRegistered = false;

  /** Pairs this side with `peer`. */
  setPeer(peer: Proxy): void {
    this.peer = peer;
    this.paired = true;
  }

  override dataReceived(data: Buffer): void {
    this.peer?.transport?.write(data);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const peer = this.peer;
    this.peer = null;
    if (peer !== null) {
      if (peer.peer === this) {
        peer.peer = null;
        peer.peerLost();
      }
    } else if (!this.paired && this.noisy) {
      log.info("Unable to connect to peer: {reason}", { reason: reason.getErrorMessage() });
    }
  }

  /**
   * The other side is gone: its transport stops being this transport's producer (a transport
   * does not close while a producer is registered), then this side closes after its pending
   * writes.
   */
  peerLost(): void {
    const t = this.transport as FlowTransport | null;
    if (t === null) return;
    if (this.producerRegistered) {
      this.producerRegistered = false;
      t.unregisterProducer();
    }
    t.loseConnection();
  }
}

/**
 * The outgoing side: once connected, it pairs with the server side, makes each transport the
 * streaming producer of the other (so a slow reader on one side pauses reading on the other),
 * and lets the server side read.
 */
export class ProxyClient extends Proxy {
  override connectionMade(): void {
    const server = this.peer;
    if (server === null || server.transport === null) return;
    server.setPeer(this);
    const mine = this.tx as FlowTransport;
    const theirs = server.transport as FlowTransport;
    mine.registerProducer(theirs as IPushProducer, true);
    this.producerRegistered = true;
    theirs.registerProducer(mine as IPushProducer, true);
    server.producerRegistered = true;
    theirs.resumeProducing?.();
  }
}

/** Builds the `ProxyClient` of one incoming connection. */
export class ProxyClientFactory extends ClientFactory<ProxyClient> {
  override protocol = ProxyClient;
  override noisy = false;
  /** The incoming side this factory connects for. */
  server: ProxyServer | null = null;

  /** Sets the incoming side. */
  setServer(server: ProxyServer): void {
    this.server = server;
  }

  override buildProtocol(addr: Parameters<ClientFactory["buildProtocol"]>[0]): ProxyClient | null {
    const p = super.buildProtocol(addr);
    if (p !== null && this.server !== null) p.setPeer(this.server);
    return p;
  }

  /** The outgoing connection failed: close the incoming one. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    log.info("Proxy connection to {destination} failed: {reason}", {
      destination: String(connector.getDestination?.() ?? ""),
      reason: reason.getErrorMessage(),
    });
    this.server?.transport?.loseConnection();
  }
}

/**
 * The incoming side: it stops reading from its client until the outgoing connection to the
 * factory's `host`:`port` is made, so nothing piles up meanwhile.
 */
export class ProxyServer extends Proxy {
  /** The factory of the outgoing side. */
  clientProtocolFactory: new () => ProxyClientFactory = ProxyClientFactory;
  /** The reactor to connect with (default: the factory's, then the global one). */
  reactor: IReactorTCP | null = null;

  override connectionMade(): void {
    (this.tx as Partial<IPushProducer>).pauseProducing?.();
    const factory = this.factory as ProxyFactory;
    const client = new this.clientProtocolFactory();
    client.setServer(this);
    const reactor = this.reactor ?? factory.reactor ?? _globalReactor<IReactorTCP>();
    reactor.connectTCP(factory.host, factory.port, client);
  }
}

/**
 * A TCP port forwarder: each connection it accepts is relayed to `host`:`port`, both ways,
 * with back-pressure end to end. If the outgoing connection fails, the incoming one is closed;
 * when either side closes, so does the other.
 *
 * @example
 * ```ts
 * // Forward local port 8080 to example.com:80.
 * reactor.listenTCP(8080, new ProxyFactory("example.com", 80));
 * ```
 */
export class ProxyFactory extends Factory<ProxyServer> {
  override protocol = ProxyServer;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly reactor: IReactorTCP | null = null,
  ) {
    super();
  }
}
