// TCP transports, ports and connectors over node:net (stub: being written).
import type { NodeReactor } from "./_reactor.js";
import type { IClientFactory, IConnector, IListeningPort, IProtocolFactory } from "./interfaces.js";

export function listenTCP(
  reactor: NodeReactor,
  port: number,
  factory: IProtocolFactory,
  backlog: number,
  iface: string,
): IListeningPort {
  throw new Error("Not implemented yet");
}

export function connectTCP(
  reactor: NodeReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
): IConnector {
  throw new Error("Not implemented yet");
}
