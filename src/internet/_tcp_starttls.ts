// The TLS layer of TCPTransport: the STARTTLS upgrade of a live socket, and what the transport
// reports of a TLS connection (peer certificate, session).

import type { Socket } from "node:net";
import { isIP } from "node:net";
import {
  type ConnectionOptions,
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { _bufferFull } from "./_tcp_producer.js";
import {
  _attachSocket,
  _detachSocket,
  _endSocket,
  _forgetSocketClose,
  IS_SERVER,
  TLS_ON,
  WRITE_SHUTDOWN,
} from "./_tcp_state.js";
import type { TCPTransport } from "./_tcp_transport.js";
import { ConnectionLost } from "./error.js";
import { Failure } from "./failure.js";
import type { TLSContextOptions } from "./interfaces.js";

const EMPTY = Buffer.alloc(0);

/**
 * `TCPTransport.startTLS`: what was written before is sent in clear first, what is written after
 * is buffered until the TLS socket exists, then encrypted. Invalid options raise at once and
 * leave the connection as it was. @internal
 */
export function _startTLS(transport: TCPTransport, options: TLSContextOptions): void {
  if (transport.TLS) throw new Error("Cannot start TLS: the connection already uses TLS");
  if (transport.disconnected || (transport._flags & WRITE_SHUTDOWN) !== 0) {
    throw new Error("Cannot start TLS: the connection is closing");
  }
  const secureContext = createSecureContext(options as SecureContextOptions); // raises now
  transport._flags |= TLS_ON;
  const raw = transport.socket;
  transport._extras().tlsPending = [];
  _detachSocket(raw);
  // Incoming handshake bytes stay buffered in the raw socket; the TLS socket reads them.
  raw.pause();
  if (raw.writableLength === 0) wrapTLS(transport, raw, options, secureContext);
  else raw.write(EMPTY, () => wrapTLS(transport, raw, options, secureContext));
}

function wrapTLS(
  transport: TCPTransport,
  raw: Socket,
  options: TLSContextOptions,
  secureContext: SecureContext,
): void {
  const x = transport._extras();
  // A raw socket that closed meanwhile reports its own close.
  if (transport.disconnected || x.tlsPending === null || raw.destroyed) return;
  let tlsSocket: TLSSocket;
  try {
    tlsSocket = _upgradeToTLS(raw, options, secureContext, {
      isServer: (transport._flags & IS_SERVER) !== 0,
      hostname: x.hostname,
      onSecure: (_socket, error) => {
        if (error === null) transport._handshakeDone();
        else {
          transport._abortWith(
            new ConnectionLost(`Connection lost: ${error.message}`, { cause: error }),
          );
        }
      },
    });
  } catch (e) {
    const why = Failure.from(e).getErrorMessage();
    transport._abortWith(
      new ConnectionLost(`Connection lost: cannot start TLS: ${why}`, { cause: e }),
    );
    return;
  }
  // The raw socket's close follows the TLS socket's; only errors are still of interest.
  _forgetSocketClose(raw);
  transport.socket = tlsSocket;
  const pending = x.tlsPending;
  x.tlsPending = null;
  _attachSocket(transport, tlsSocket);
  for (const chunk of pending) {
    if (!tlsSocket.write(chunk)) _bufferFull(transport);
  }
  if ((transport._flags & WRITE_SHUTDOWN) !== 0 && !transport.disconnected) _endSocket(transport);
}

/** `TCPTransport.getPeerCertificate`: the peer's certificate, or `null`. @internal */
export function _peerCertificate(transport: TCPTransport): unknown {
  const s = transport.socket as Partial<TLSSocket>;
  if (!transport.TLS || typeof s.getPeerCertificate !== "function") return null;
  const cert = s.getPeerCertificate(true);
  return cert && Object.keys(cert).length > 0 ? cert : null;
}

/** `TCPTransport.getSession`: the TLS session, or `undefined`. @internal */
export function _session(transport: TCPTransport): Buffer | undefined {
  const s = transport.socket as Partial<TLSSocket>;
  if (!transport.TLS || typeof s.getSession !== "function") return undefined;
  return s.getSession() ?? undefined;
}

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
  // The host to verify: one named in the options (a target behind a proxy tunnel), else the
  // one connected to.
  const hostname = typeof rest.host === "string" ? rest.host : context.hostname;
  const servername =
    rest.servername ?? (hostname !== undefined && isIP(hostname) === 0 ? hostname : undefined);
  const connectOptions: ConnectionOptions = {
    ...(rest as ConnectionOptions),
    socket: raw,
    secureContext,
    rejectUnauthorized: rest.rejectUnauthorized ?? true,
  };
  if (servername !== undefined) connectOptions.servername = servername;
  if (hostname !== undefined) connectOptions.host = hostname;
  const socket = tlsConnect(connectOptions);
  socket.once("secureConnect", () => context.onSecure(socket, null));
  return socket;
}
