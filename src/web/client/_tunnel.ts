// HTTPTunnelEndpoint: connections to a host through an HTTP proxy's CONNECT tunnel (RFC 9110 §9.3.6).

import { Deferred } from "../../internet/defer.js";
import type { IStreamClientEndpoint } from "../../internet/endpoints.js";
import { ConnectingCancelledError, TimeoutError } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type {
  IAddress,
  IDelayedCall,
  IHandshakeListener,
  IProtocol,
  IProtocolFactory,
  IReactorTime,
  ITCPTransport,
  ITransport,
} from "../../internet/interfaces.js";
import { Headers } from "../_headers.js";
import { HTTP11Connection, type HTTPLimits, NEED_DATA, PAUSED } from "../_http/index.js";
import { TunnelError } from "./_errors.js";

/** Options of `HTTPTunnelEndpoint`. */
export interface HTTPTunnelEndpointOptions {
  /** Headers to send with `CONNECT`, e.g. `Proxy-Authorization`; `Host` is added unless given. */
  headers?: Headers | null;
  /** Seconds to wait for the proxy's answer to `CONNECT` (then `TimeoutError`). Default: none. */
  timeout?: number | null;
  /** The clock of `timeout`. */
  clock?: IReactorTime | null;
  /** Limits on the proxy's answer (status line, header block, header count). */
  limits?: Partial<HTTPLimits>;
}

/** `host:port` as a `CONNECT` target, with an IPv6 literal in brackets. */
export function _authority(host: string, port: number): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/**
 * A client endpoint whose connections go to `host`:`port` through an HTTP proxy reached by
 * `proxyEndpoint`: it connects to the proxy, sends `CONNECT host:port HTTP/1.1`, and once the
 * proxy answers 2xx hands the connection — now a byte stream to the target — to the protocol
 * built by the factory given to `connect` (its `connectionMade` runs then). Wrap it in
 * `wrapClientTLS` to speak TLS with the target through the tunnel, as `ProxyAgent` does for
 * `https:`.
 *
 * A proxy that answers another status fails the connection with `TunnelError` (with that
 * `status`, e.g. 407, and the answer's headers); one that breaks the protocol or closes first
 * fails it with `TunnelError` too (`status` `null`). Interim 1xx answers are skipped.
 *
 * @example
 * ```ts
 * const proxy = new HostnameEndpoint(reactor, "proxy.internal", 3128);
 * const tunnel = new HTTPTunnelEndpoint(proxy, "example.com", 443, {
 *   headers: new Headers({ "Proxy-Authorization": ["Basic dXNlcjpwdw=="] }),
 * });
 * const endpoint = wrapClientTLS(optionsForClientTLS("example.com"), tunnel);
 * const protocol = await endpoint.connect(factory);
 * ```
 */
export class HTTPTunnelEndpoint implements IStreamClientEndpoint {
  constructor(
    /** Where the proxy is. */
    readonly proxyEndpoint: IStreamClientEndpoint,
    /** The host to reach through the proxy. */
    readonly host: string,
    /** The port to reach through the proxy. */
    readonly port: number,
    private readonly options: HTTPTunnelEndpointOptions = {},
  ) {
    if (options.timeout != null && options.clock == null) {
      throw new TypeError("HTTPTunnelEndpoint needs a clock for its timeout");
    }
  }

  /**
   * Connects to the proxy, opens the tunnel, and fires with the protocol `factory` built once
   * the proxy has accepted `CONNECT`; fails with the proxy endpoint's error, `TunnelError`, or
   * `TimeoutError`.
   *
   * Cancel: cancelling while connecting to the proxy cancels that attempt; while waiting for
   * the proxy's answer it aborts the connection. Either way it fails with
   * `ConnectingCancelledError` and leaves nothing open.
   */
  connect(factory: IProtocolFactory): Deferred<IProtocol> {
    let tunnel: _TunnelProtocol | null = null;
    let connecting: Deferred<IProtocol> | null = null;
    const d = new Deferred<IProtocol>((self) => {
      self.errback(new ConnectingCancelledError(tunnel?.transport?.getPeer()));
      if (tunnel !== null) tunnel.abort();
      else connecting?.cancel();
    });
    const target = _authority(this.host, this.port);
    const options = this.options;
    const tunnelFactory: IProtocolFactory = {
      doStart: () => factory.doStart(),
      doStop: () => factory.doStop(),
      buildProtocol(addr: IAddress): IProtocol | null {
        const wrapped = factory.buildProtocol(addr);
        if (wrapped === null) return null;
        tunnel = new _TunnelProtocol(wrapped, target, options);
        return tunnel;
      },
    };
    connecting = this.proxyEndpoint.connect(tunnelFactory);
    connecting.addCallbacks(
      () => {
        (tunnel as _TunnelProtocol).established.addCallbacks(
          (wrapped) => void (d.called ? undefined : d.callback(wrapped)),
          (f: Failure) => void (d.called ? undefined : d.errback(f)),
        );
      },
      (f: Failure) => void (d.called ? undefined : d.errback(f)),
    );
    return d;
  }

  toString(): string {
    return `HTTPTunnelEndpoint(${_authority(this.host, this.port)} via ${String(this.proxyEndpoint)})`;
  }
}

/**
 * Sends `CONNECT`, reads the proxy's answer with the HTTP/1.1 engine, then stands between the
 * transport and the wrapped protocol, passing everything through.
 */
class _TunnelProtocol implements IProtocol, IHandshakeListener {
  transport: ITransport | null = null;
  /** Fires with the wrapped protocol once the tunnel is open, or with why it is not. */
  readonly established = new Deferred<IProtocol>();
  private open = false;
  private readonly conn: HTTP11Connection;
  private timer: IDelayedCall | null = null;

  constructor(
    readonly wrappedProtocol: IProtocol,
    private readonly target: string,
    private readonly options: HTTPTunnelEndpointOptions,
  ) {
    this.conn = new HTTP11Connection("client", { ...options.limits, maxBodySize: 0 });
  }

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    const headers = new Headers({ Host: this.target });
    for (const [name, values] of this.options.headers?.getAllRawHeaders() ?? []) {
      headers.setRawHeaders(name, values);
    }
    let head: Uint8Array[];
    try {
      head = [
        ...this.conn.sendRequest({ method: "CONNECT", target: this.target, headers }),
        ...this.conn.sendEndOfMessage(),
      ];
    } catch (e) {
      this.fail(new TunnelError(`Cannot send CONNECT ${this.target}`, { cause: e }));
      return;
    }
    (this.transport as ITransport).writeSequence(head);
    const { timeout, clock } = this.options;
    if (timeout != null && clock != null) {
      this.timer = clock.callLater(timeout, () => {
        this.timer = null;
        this.fail(
          new TimeoutError(`The proxy did not answer CONNECT ${this.target} in ${timeout} seconds`),
        );
      });
    }
  }

  dataReceived(data: Buffer): void {
    if (this.open) {
      this.wrappedProtocol.dataReceived(data);
      return;
    }
    if (this.established.called) return;
    this.conn.receiveData(data);
    for (;;) {
      let ev: ReturnType<HTTP11Connection["nextEvent"]>;
      try {
        ev = this.conn.nextEvent();
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        this.fail(new TunnelError(`Bad answer to CONNECT ${this.target}: ${why}`, { cause: e }));
        return;
      }
      if (ev === NEED_DATA || ev === PAUSED) return;
      if (ev.type === "InformationalResponseReceived") continue;
      if (ev.type !== "ResponseReceived") return;
      if (ev.status >= 200 && ev.status < 300) {
        this.opened();
      } else {
        const message = `The proxy refused CONNECT ${this.target}: ${ev.status} ${ev.reason}`;
        this.fail(
          new TunnelError(message.trim(), {
            status: ev.status,
            phrase: ev.reason,
            headers: ev.headers,
          }),
        );
      }
      return;
    }
  }

  /** The proxy accepted: connect the wrapped protocol to the stream. */
  private opened(): void {
    this.stopTimer();
    this.open = true;
    // Bytes the proxy sent after its answer already belong to the target.
    const early = this.conn.trailingData.data;
    const wrapped = this.wrappedProtocol;
    try {
      wrapped.makeConnection(this.transport as ITransport);
    } catch (e) {
      // The transport drops the connection; the caller learns why.
      if (!this.established.called) this.established.errback(e);
      throw e;
    }
    if (!this.established.called) this.established.callback(wrapped);
    if (early.length > 0) wrapped.dataReceived(early);
  }

  private fail(error: Error): void {
    this.stopTimer();
    if (!this.established.called) this.established.errback(error);
    this.abort();
  }

  /** Aborts the connection (before the tunnel is open: the attempt). */
  abort(): void {
    const transport = this.transport as Partial<ITCPTransport> | null;
    if (transport?.abortConnection !== undefined) transport.abortConnection();
    else transport?.loseConnection?.();
  }

  private stopTimer(): void {
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
  }

  handshakeCompleted(): void {
    if (this.open) (this.wrappedProtocol as Partial<IHandshakeListener>).handshakeCompleted?.();
  }

  connectionLost(reason: Failure): void {
    this.stopTimer();
    if (this.open) {
      this.wrappedProtocol.connectionLost(reason);
      return;
    }
    if (!this.established.called) {
      this.established.errback(
        new TunnelError(`The proxy closed the connection before answering CONNECT ${this.target}`, {
          cause: reason.value,
        }),
      );
    }
  }
}
