// Unix socket transports (stub: being written).
import type { NodeReactor } from "./_reactor.js";
import type { IClientFactory, IConnector, IListeningPort, IProtocolFactory } from "./interfaces.js";

export function listenUNIX(
  reactor: NodeReactor,
  address: string,
  factory: IProtocolFactory,
  backlog: number,
  mode: number,
): IListeningPort {
  throw new Error("Not implemented yet");
}

export function connectUNIX(
  reactor: NodeReactor,
  address: string,
  factory: IClientFactory,
  timeout: number,
): IConnector {
  throw new Error("Not implemented yet");
}
