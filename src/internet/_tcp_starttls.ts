// The TLS upgrade of a live socket (STARTTLS), for TCPTransport.startTLS.

import type { Socket } from "node:net";
import { isIP } from "node:net";
import {
  type ConnectionOptions,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import type { TLSContextOptions } from "./interfaces.js";

/** What the transport knows that the TLS options may leave out. @internal */
export interface _UpgradeContext {
  /** The side that accepted the connection: the default handshake side. */
  isServer: boolean;
  /** The host name connected to (clients), for SNI and the certificate name check. */
  hostname: string | undefined;
  /** Called once the handshake is done, with the reason when the peer is not accepted. */
  onSecure(socket: TLSSocket, error: Error | null): void;
}

/**
 * Wraps a connected `raw` socket in a `TLSSocket` (with `secureContext`, made from `options`)
 * and starts the handshake. Servers verify a client certificate only when asked (`requestCert`
 * and `rejectUnauthorized`); clients verify the server unless `rejectUnauthorized` is false.
 * @internal
 */
export function _upgradeToTLS(
  raw: Socket,
  options: TLSContextOptions,
  secureContext: SecureContext,
  context: _UpgradeContext,
): TLSSocket {
  const { isServer: side, ...rest } = options;
  if (side ?? context.isServer) {
    const rejectUnauthorized = rest.rejectUnauthorized ?? false;
    const requestCert = rest.requestCert ?? false;
    const socket = new TLSSocket(raw, {
      ...(rest as ConnectionOptions),
      isServer: true,
      secureContext,
      requestCert,
      rejectUnauthorized,
    });
    socket.once("secure", () => {
      if (requestCert && rejectUnauthorized && !socket.authorized) {
        const why = String(socket.authorizationError ?? "no certificate");
        context.onSecure(socket, new Error(`Client certificate rejected: ${why}`));
      } else {
        context.onSecure(socket, null);
      }
    });
    return socket;
  }
  const hostname = context.hostname;
  const servername =
    rest.servername ?? (hostname !== undefined && isIP(hostname) === 0 ? hostname : undefined);
  const connectOptions: ConnectionOptions = {
    ...(rest as ConnectionOptions),
    socket: raw,
    secureContext,
    rejectUnauthorized: rest.rejectUnauthorized ?? true,
  };
  if (servername !== undefined) connectOptions.servername = servername;
  // A host the caller names (e.g. the target behind a proxy tunnel) is the one to verify.
  if (hostname !== undefined && rest.host === undefined) connectOptions.host = hostname;
  const socket = tlsConnect(connectOptions);
  socket.once("secureConnect", () => context.onSecure(socket, null));
  return socket;
}
