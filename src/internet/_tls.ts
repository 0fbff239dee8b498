// TLS ports and connectors over node:tls (stub: being written).
import type { NodeReactor } from "./_reactor.js";
import type {
  IClientFactory,
  IConnector,
  IListeningPort,
  IProtocolFactory,
  ServerTLSOptions,
  TLSContextOptions,
} from "./interfaces.js";

export function listenSSL(
  reactor: NodeReactor,
  port: number,
  factory: IProtocolFactory,
  contextFactory: ServerTLSOptions,
  backlog: number,
  iface: string,
): IListeningPort {
  throw new Error("Not implemented yet");
}

export function connectSSL(
  reactor: NodeReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  contextFactory: TLSContextOptions,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
): IConnector {
  throw new Error("Not implemented yet");
}
