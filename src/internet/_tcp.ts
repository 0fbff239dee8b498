// TCP for the reactor: listenTCP and connectTCP, over the transport, port and connector modules.

import type { NodeReactor } from "./_reactor.js";
import { TCPConnector } from "./_tcp_connector.js";
import { TCPPort } from "./_tcp_port.js";
import type { IClientFactory, IProtocolFactory } from "./interfaces.js";

export { StreamConnector, TCPConnector } from "./_tcp_connector.js";
export { StreamPort, TCPPort } from "./_tcp_port.js";
export { TCPTransport, type TCPTransportOptions } from "./_tcp_transport.js";

/**
 * Listens for TCP connections (`reactor.listenTCP`). `iface` `""` means every IPv4 interface,
 * as in Twisted. Raises `CannotListenError` at once when an IP address cannot be bound; with a
 * host name (or in a `node:cluster` worker) binding completes later: see `whenListening()`.
 */
export function listenTCP(
  reactor: NodeReactor,
  port: number,
  factory: IProtocolFactory,
  backlog: number,
  iface: string,
): TCPPort {
  const p = new TCPPort(reactor, port, factory, backlog, iface);
  p.startListening();
  return p;
}

/**
 * Connects over TCP (`reactor.connectTCP`); `timeout` is in seconds, `bindAddress` is the local
 * `[host, port]` to connect from.
 */
export function connectTCP(
  reactor: NodeReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
): TCPConnector {
  const c = new TCPConnector(reactor, host, port, factory, timeout, bindAddress);
  c.connect();
  return c;
}
