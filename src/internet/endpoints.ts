// Endpoints: where to listen and what to connect to, as objects or description strings.

import type { Deferred } from "./defer.js";
import type { IAddress, IListeningPort, IProtocol, IProtocolFactory } from "./interfaces.js";

export {
  type HostResolver,
  type ResolvedAddress,
  SSL4ClientEndpoint,
  systemResolver,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  TLSWrapperClientEndpoint,
  UNIXClientEndpoint,
  wrapClientTLS,
} from "./_endpoints_client.js";
export {
  EndpointDescriptionError,
  type ParsedDescription,
  parseDescription,
  quoteDescriptionValue,
} from "./_endpoints_grammar.js";
export {
  HostnameEndpoint,
  type HostnameEndpointOptions,
  interleaveAddresses,
} from "./_endpoints_hostname.js";
export {
  clientFromString,
  type EndpointReactor,
  type IStreamClientEndpointStringParser,
  type IStreamServerEndpointStringParser,
  registerClientParser,
  registerServerParser,
  serverFromString,
  wrappingServerParser,
} from "./_endpoints_parse.js";
export {
  SSL4ServerEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
  WrapperServerEndpoint,
} from "./_endpoints_server.js";
export { NoProtocol } from "./_endpoints_wrapping.js";

/**
 * Somewhere to listen for stream connections (a TCP port, a Unix socket, a TLS port…).
 *
 * @example
 * ```ts
 * const endpoint: IStreamServerEndpoint = serverFromString(reactor, "tcp:8080");
 * const port = await endpoint.listen(Factory.forProtocol(Echo));
 * ```
 */
export interface IStreamServerEndpoint {
  /**
   * Listens with `factory`; fires with the port once it listens, or fails with
   * `CannotListenError`.
   */
  listen(factory: IProtocolFactory): Deferred<IListeningPort>;
}

/**
 * Something to connect a stream to (a host and port, a Unix socket, TLS over either…).
 *
 * @example
 * ```ts
 * const endpoint: IStreamClientEndpoint = clientFromString(reactor, "tcp:localhost:8080");
 * const proto = await endpoint.connect(factory);
 * ```
 */
export interface IStreamClientEndpoint {
  /**
   * Connects a protocol built by `factory`; fires with it once its `connectionMade` has run,
   * or fails with why the connection could not be made. Cancelling it while connecting fails it
   * with `ConnectingCancelledError` and stops the attempt.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol>;
}

/**
 * Connects `protocol` itself (not one made by a factory) through `endpoint`. Fires with it once
 * connected; a cancel is passed on to the endpoint's attempt (nothing is left connecting).
 *
 * @example
 * ```ts
 * const proto = await connectProtocol(new TCP4ClientEndpoint(reactor, "127.0.0.1", 7), new Echo());
 * ```
 */
export function connectProtocol<P extends IProtocol>(
  endpoint: IStreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  let used = false;
  const factory: IProtocolFactory = {
    doStart() {},
    doStop() {},
    buildProtocol(_addr: IAddress): IProtocol | null {
      // One protocol serves one connection.
      if (used) return null;
      used = true;
      return protocol;
    },
  };
  return endpoint.connect(factory) as Deferred<P>;
}
