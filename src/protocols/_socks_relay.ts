// The SOCKS server's outgoing side: the client factory and protocol of the connection it makes.

import {
  ConnectionRefusedError,
  DNSLookupError,
  NoRouteError,
  TCPTimedOutError,
  TimeoutError,
} from "../internet/error.js";
import type { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IConnector,
  IProducer,
  IPushProducer,
  ITransport,
} from "../internet/interfaces.js";
import { ClientFactory, Protocol } from "../internet/protocol.js";
import { SOCKS5Reply } from "./_socks_wire.js";

/** What the outgoing connection reports to the SOCKS protocol that asked for it. */
export interface SOCKSRelayPeer {
  /** The outgoing connection is up. */
  outgoingConnected(outgoing: SOCKSOutgoing): void;
  /** The outgoing connection could not be made. */
  outgoingFailed(reason: Failure): void;
  /** The destination sent bytes. */
  outgoingDataReceived(data: Buffer): void;
  /** The destination half-closed its side. */
  outgoingReadLost(): void;
  /** The outgoing connection is gone. */
  outgoingLost(reason: Failure): void;
}

/** The protocol of the connection to the destination: hands everything to the SOCKS side. */
export class SOCKSOutgoing extends Protocol {
  constructor(private readonly peer: SOCKSRelayPeer) {
    super();
  }

  override connectionMade(): void {
    this.peer.outgoingConnected(this);
  }

  override dataReceived(data: Buffer): void {
    this.peer.outgoingDataReceived(data);
  }

  /** The destination sent EOF: passed on as a half-close to the client. */
  readConnectionLost(): void {
    this.peer.outgoingReadLost();
  }

  writeConnectionLost(): void {}

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.peer.outgoingLost(reason);
  }
}

/** The client factory of the outgoing connection. */
export class SOCKSConnectFactory extends ClientFactory<SOCKSOutgoing> {
  override noisy = false;

  constructor(private readonly peer: SOCKSRelayPeer) {
    super();
  }

  override buildProtocol(addr: IAddress): SOCKSOutgoing {
    return new SOCKSOutgoing(this.peer);
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.peer.outgoingFailed(reason);
  }
}

function causeCode(reason: Failure): unknown {
  const cause = (reason.value as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code;
}

/**
 * The SOCKS5 reply code for a failed connection attempt: refused (5), host unreachable or
 * unknown host (4), network unreachable (3), timed out (6, "TTL expired", as Tor answers
 * timeouts), anything else (1).
 */
export function socks5ReplyForFailure(reason: Failure): number {
  if (reason.check(ConnectionRefusedError)) return SOCKS5Reply.CONNECTION_REFUSED;
  if (reason.check(DNSLookupError)) return SOCKS5Reply.HOST_UNREACHABLE;
  if (reason.check(NoRouteError)) {
    return causeCode(reason) === "ENETUNREACH"
      ? SOCKS5Reply.NETWORK_UNREACHABLE
      : SOCKS5Reply.HOST_UNREACHABLE;
  }
  if (reason.check(TimeoutError, TCPTimedOutError)) return SOCKS5Reply.TTL_EXPIRED;
  return SOCKS5Reply.GENERAL_FAILURE;
}

/** A transport that is also a push producer and a consumer. */
export type ProducerTransport = ITransport &
  IPushProducer & {
    registerProducer(producer: IProducer, streaming: boolean): void;
    unregisterProducer(): void;
    loseWriteConnection?(): void;
    readonly disconnecting?: boolean;
  };

/** True when `t` can be paused and can take a producer. */
export function canProduce(t: ITransport | null): t is ProducerTransport {
  const p = t as Partial<ProducerTransport> | null;
  return typeof p?.pauseProducing === "function" && typeof p.registerProducer === "function";
}

/** Unregisters `t`'s producer, if any: transports wait for it before closing. */
function unregisterQuietly(t: ITransport): void {
  if (!canProduce(t)) return;
  try {
    t.unregisterProducer();
  } catch {
    // None registered (any more).
  }
}

/**
 * Half-closes `t` (or closes it, if it cannot half-close) once the other side will write no
 * more: that side stops being `t`'s producer, so that the EOF goes out at once.
 */
export function halfClose(t: ITransport): void {
  unregisterQuietly(t);
  const w = (t as Partial<ProducerTransport>).loseWriteConnection;
  if (typeof w === "function") w.call(t);
  else t.loseConnection();
}

/** Closes `t` once the other side is gone (it stops being `t`'s producer first). */
export function closeRelayed(t: ITransport): void {
  unregisterQuietly(t);
  t.loseConnection();
}
