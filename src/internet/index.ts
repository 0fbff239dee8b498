// twisted-ts/internet: the reactor, transports, protocols, Deferreds, task and endpoints.

export { type _ReactorResource, NodeReactor, reactor } from "./_reactor.js";
export { type IPAddress, IPv4Address, IPv6Address, ipAddress, UNIXAddress } from "./address.js";
export * from "./defer.js";
export * from "./error.js";
export { Failure } from "./failure.js";
export type * from "./interfaces.js";
export {
  BaseProtocol,
  ClientCreator,
  ClientFactory,
  connectionDone,
  DatagramProtocol,
  Factory,
  ProcessProtocol,
  Protocol,
  ReconnectingClientFactory,
  ServerFactory,
} from "./protocol.js";
export * from "./task.js";
/** The task module as a namespace, for Twisted-style `task.LoopingCall`. */
export * as task from "./task.js";
