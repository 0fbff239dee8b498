// AccumulatingProtocol: a protocol that records what happens to it, for tests of transports.

import type { Deferred } from "../internet/defer.js";
import type { Failure } from "../internet/failure.js";
import { Protocol } from "../internet/protocol.js";

/**
 * What `AccumulatingProtocol` looks for on its factory: a Deferred fired (once, then cleared)
 * with the first protocol whose connection is made.
 */
export interface AccumulatingFactoryHooks {
  protocolConnectionMade?: Deferred<AccumulatingProtocol> | null;
}

/**
 * A protocol that keeps every byte it receives in `data` and records `made`, `closed` and
 * `closedReason`. Give it a `closedDeferred` to be told when the connection is lost, or give its
 * factory a `protocolConnectionMade` Deferred to be told when it is made.
 *
 * @example
 * ```ts
 * const proto = new AccumulatingProtocol();
 * proto.closedDeferred = new Deferred();
 * const tr = new StringTransportWithDisconnection();
 * tr.protocol = proto;
 * proto.makeConnection(tr);
 * proto.dataReceived(Buffer.from("hi"));
 * tr.loseConnection();
 * assert.equal(proto.data.toString(), "hi");
 * assert.ok(proto.closedDeferred === null && proto.closed);
 * ```
 */
export class AccumulatingProtocol extends Protocol {
  /** True once `connectionMade` has run. */
  made = false;
  /** True once `connectionLost` has run. */
  closed = false;
  /** The reason given to `connectionLost`, or `null`. */
  closedReason: Failure | null = null;
  /** Fired with `null` (then cleared) by `connectionLost`. */
  closedDeferred: Deferred<null> | null = null;
  /** Everything received, in order. */
  data: Buffer = Buffer.alloc(0);

  override connectionMade(): void {
    this.made = true;
    const factory = this.factory as AccumulatingFactoryHooks | null;
    const d = factory?.protocolConnectionMade;
    if (factory && d) {
      factory.protocolConnectionMade = null;
      d.callback(this);
    }
  }

  override dataReceived(data: Buffer): void {
    this.data = this.data.length === 0 ? Buffer.from(data) : Buffer.concat([this.data, data]);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.closed = true;
    this.closedReason = reason;
    const d = this.closedDeferred;
    if (d !== null) {
      this.closedDeferred = null;
      d.callback(null);
    }
  }
}
