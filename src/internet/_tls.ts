// TLS ports and connectors over node:tls (reactor.listenSSL, reactor.connectSSL).

import type { Server, Socket } from "node:net";
import { isIP, Socket as NetSocket } from "node:net";
import {
  type ConnectionOptions,
  createServer,
  type TlsOptions,
  connect as tlsConnect,
} from "node:tls";
import { Logger } from "../logger/index.js";
import type { NodeReactor } from "./_reactor.js";
import { TCPConnector } from "./_tcp_connector.js";
import { TCPPort } from "./_tcp_port.js";
import { connectErrorFromNode, SSLError } from "./error.js";
import type {
  IClientFactory,
  IProtocolFactory,
  ServerTLSOptions,
  TLSContextOptions,
} from "./interfaces.js";

const log = new Logger("twisted-ts.internet.tls");

/**
 * A listening TLS port, as `reactor.listenSSL` returns. A connection is made (the protocol's
 * `connectionMade`, then `handshakeCompleted` if it has one) once the handshake is done; a
 * failed handshake is logged at debug level and that socket dropped. Client certificates are
 * checked only with `requestCert` and `rejectUnauthorized: true`. Sockets still in their
 * handshake are closed when the port stops (`stopListening`, reactor shutdown): a client that
 * never sends its ClientHello cannot hold the process up until Node's handshake timeout.
 */
export class TLSPort extends TCPPort {
  protected override readonly connectionEvent: "connection" | "secureConnection" =
    "secureConnection";
  protected override readonly acceptsTLS: boolean = true;
  /** The TCP sockets accepted whose TLS handshake is not done yet. */
  private readonly handshaking = new Set<Socket>();

  constructor(
    reactor: NodeReactor,
    port: number,
    factory: IProtocolFactory,
    readonly options: ServerTLSOptions,
    backlog: number,
    iface: string,
  ) {
    super(reactor, port, factory, backlog, iface);
  }

  protected override createServer(): Server {
    const { isServer: _, ...rest } = this.options;
    const server = createServer({
      ...(rest as TlsOptions),
      rejectUnauthorized: rest.rejectUnauthorized ?? false,
      allowHalfOpen: true,
    });
    server.on("tlsClientError", (err: Error, socket: Socket) => {
      log.debug("TLS handshake with {peer} failed: {error}", {
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
        error: err.message,
      });
      socket.destroy();
    });
    // Node wraps each accepted TCP socket in a TLSSocket ('connection', before ours runs) and
    // hands it over only once the handshake is done ('secureConnection', before the port's own
    // listener runs): in between, only the port knows of it.
    const handshaking = this.handshaking;
    function forget(this: Socket): void {
      handshaking.delete(this);
    }
    server.on("connection", (raw: Socket) => {
      handshaking.add(raw);
      raw.once("close", forget);
    });
    server.on("secureConnection", (socket: Socket) => {
      const raw = rawSocketOf(socket, handshaking);
      if (raw === null) return;
      handshaking.delete(raw);
      raw.removeListener("close", forget);
    });
    return server;
  }

  /** Closes the sockets still in their handshake: they would be dropped once it is done anyway. */
  protected override stopAccepting(): void {
    const sockets = [...this.handshaking];
    this.handshaking.clear();
    for (const raw of sockets) raw.destroy();
  }
}

/**
 * The TCP socket under a server `TLSSocket` (Node keeps it as `_parent`), or failing that the one
 * with the same peer among the sockets in their handshake.
 */
function rawSocketOf(socket: Socket, handshaking: ReadonlySet<Socket>): Socket | null {
  const parent = (socket as { _parent?: unknown })._parent;
  if (parent instanceof NetSocket && handshaking.has(parent)) return parent;
  for (const raw of handshaking) {
    if (raw.remotePort === socket.remotePort && raw.remoteAddress === socket.remoteAddress) {
      return raw;
    }
  }
  return null;
}

/**
 * An outgoing TLS connection, as `reactor.connectSSL` returns. The server's certificate and
 * name are verified unless `rejectUnauthorized` is false; SNI names the host unless it is an IP
 * address. The connection is made once the handshake is done; a failed handshake or
 * verification reaches `clientConnectionFailed` as `SSLError` (the TLS error as `cause`).
 */
export class TLSConnector extends TCPConnector {
  protected override readonly connectEvent: "connect" | "secureConnect" = "secureConnect";
  protected override readonly connectsTLS: boolean = true;

  constructor(
    reactor: NodeReactor,
    host: string,
    port: number,
    factory: IClientFactory,
    readonly options: TLSContextOptions,
    timeout: number,
    bindAddress: readonly [string, number] | undefined,
  ) {
    super(reactor, host, port, factory, timeout, bindAddress);
  }

  protected override makeSocket(): Socket {
    const { isServer: _, ...rest } = this.options;
    const options: ConnectionOptions = {
      ...(rest as ConnectionOptions),
      ...this.socketOptions(),
      rejectUnauthorized: rest.rejectUnauthorized ?? true,
    };
    const servername = rest.servername ?? (isIP(this.host) === 0 ? this.host : undefined);
    if (servername !== undefined) options.servername = servername;
    return tlsConnect(options);
  }

  protected override connectError(err: unknown, tcpConnected: boolean): Error {
    const error = connectErrorFromNode(err);
    if (error instanceof SSLError || !tcpConnected) return error;
    const message = err instanceof Error ? err.message : String(err);
    return new SSLError(`TLS handshake failed: ${message}`, { cause: err });
  }
}

/**
 * Listens for TLS connections (`reactor.listenSSL`); `options` holds at least the PEM `key` and
 * `cert`, and any other `node:tls` server option (`ca`, `requestCert`, `ALPNProtocols`,
 * `minVersion`…). Raises `CannotListenError` as `listenTCP` does.
 */
export function listenSSL(
  reactor: NodeReactor,
  port: number,
  factory: IProtocolFactory,
  contextFactory: ServerTLSOptions,
  backlog: number,
  iface: string,
): TLSPort {
  const p = new TLSPort(reactor, port, factory, contextFactory, backlog, iface);
  p.startListening();
  return p;
}

/**
 * Connects over TLS (`reactor.connectSSL`); `contextFactory` takes `node:tls` client options
 * (`ca`, `servername`, `ALPNProtocols`, `rejectUnauthorized`, a client `key`/`cert`…).
 */
export function connectSSL(
  reactor: NodeReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  contextFactory: TLSContextOptions,
  timeout: number,
  bindAddress: readonly [string, number] | undefined,
): TLSConnector {
  const c = new TLSConnector(reactor, host, port, factory, contextFactory, timeout, bindAddress);
  c.connect();
  return c;
}
