// A SOCKS4/4a and SOCKS5 (RFC 1928, RFC 1929) server: CONNECT through a cred Portal, relayed with back-pressure.

import type { IAddress } from "../internet/interfaces.js";
import { ServerFactory } from "../internet/protocol.js";
import { SOCKSServer } from "./_socks_server.js";
import type { SOCKSServerOptions } from "./_socks_types.js";

export { ISOCKSUser, type SOCKSPortal } from "./_socks_auth.js";
export { socks5ReplyForFailure } from "./_socks_relay.js";
export { SOCKSServer } from "./_socks_server.js";
export type {
  SOCKSConnectContext,
  SOCKSReactor,
  SOCKSServerOptions,
  SOCKSState,
} from "./_socks_types.js";
export {
  parseSOCKS4Request,
  parseSOCKS5Credentials,
  parseSOCKS5Greeting,
  parseSOCKS5Request,
  SOCKS4_MAX_FIELD,
  SOCKS4Reply,
  SOCKS5AddressType,
  SOCKS5Method,
  SOCKS5Reply,
  SOCKSCommand,
  SOCKSProtocolError,
  type SOCKSRequest,
  socks4Reply,
  socks5Reply,
} from "./_socks_wire.js";

/** A SOCKS server that serves only SOCKS4 and SOCKS4a (Twisted's `SOCKSv4`). */
export class SOCKSv4 extends SOCKSServer {
  constructor(options: SOCKSServerOptions) {
    super({ ...options, versions: [4] });
  }
}

/** A SOCKS server that serves only SOCKS5. */
export class SOCKSv5 extends SOCKSServer {
  constructor(options: SOCKSServerOptions) {
    super({ ...options, versions: [5] });
  }
}

/**
 * Makes a {@link SOCKSServer} per connection (SOCKS4, 4a and 5 unless `versions` says
 * otherwise).
 *
 * @example
 * ```ts
 * const portal = new Portal(new SimpleRealm((id) => ({ id })), parseAuthString("memory:alice:secret"));
 * reactor.listenTCP(1080, new SOCKSFactory({ reactor, portal }), 50, "127.0.0.1");
 * // curl --socks5-hostname 127.0.0.1:1080 --proxy-user alice:secret http://example.com/
 * ```
 */
export class SOCKSFactory extends ServerFactory<SOCKSServer> {
  constructor(readonly options: SOCKSServerOptions) {
    super();
    const { connectTimeout, handshakeTimeout } = options;
    if (connectTimeout !== undefined && !(connectTimeout > 0)) {
      throw new RangeError(`Invalid connectTimeout: ${connectTimeout} (expected seconds > 0)`);
    }
    if (handshakeTimeout !== undefined && !(handshakeTimeout >= 0)) {
      throw new RangeError(`Invalid handshakeTimeout: ${handshakeTimeout} (expected seconds ≥ 0)`);
    }
  }

  override buildProtocol(addr: IAddress): SOCKSServer {
    const p = new SOCKSServer(this.options);
    p.factory = this;
    return p;
  }
}
