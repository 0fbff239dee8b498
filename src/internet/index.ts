// twisted-ts/internet: the reactor, transports, protocols, Deferreds, task and endpoints.

export { Process, ProcessAddress } from "./_process.js";
export { type _ReactorResource, NodeReactor, reactor } from "./_reactor.js";
export {
  StreamConnector,
  StreamPort,
  TCPConnector,
  TCPPort,
  TCPTransport,
  type TCPTransportOptions,
} from "./_tcp.js";
export { TLSConnector, TLSPort } from "./_tls.js";
export { MulticastJoinError, MulticastPort, UDPPort } from "./_udp.js";
export { UNIXConnector, UNIXPort } from "./_unix.js";
export { type IPAddress, IPv4Address, IPv6Address, ipAddress, UNIXAddress } from "./address.js";
export * from "./defer.js";
export * from "./endpoints.js";
export * from "./error.js";
export { Failure } from "./failure.js";
export * as inotify from "./inotify.js";
export { INotify } from "./inotify.js";
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
export * from "./ssl.js";
export {
  PipeAddress,
  StandardIO,
  type StandardIOOptions,
  type StandardIOReactor,
} from "./stdio.js";
export * from "./task.js";
/** The task module as a namespace, for Twisted-style `task.LoopingCall`. */
export * as task from "./task.js";
