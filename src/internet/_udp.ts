// UDP and multicast ports over node:dgram (stub: being written).
import type { NodeReactor } from "./_reactor.js";
import type {
  IDatagramProtocol,
  IListeningPort,
  IMulticastTransport,
  IUDPTransport,
} from "./interfaces.js";

export function listenUDP(
  reactor: NodeReactor,
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
): IListeningPort & IUDPTransport {
  throw new Error("Not implemented yet");
}

export function listenMulticast(
  reactor: NodeReactor,
  port: number,
  protocol: IDatagramProtocol,
  iface: string,
  maxPacketSize: number,
  listenMultiple: boolean,
): IListeningPort & IMulticastTransport {
  throw new Error("Not implemented yet");
}
