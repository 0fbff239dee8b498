// ProxyAgent: requests through an HTTP proxy — forwarded (http:) or through a CONNECT tunnel (https:).

import { type Deferred, fail } from "../../internet/defer.js";
import { type IStreamClientEndpoint, wrapClientTLS } from "../../internet/endpoints.js";
import type { IReactorTime, TLSContextOptions } from "../../internet/interfaces.js";
import type { Headers } from "../_headers.js";
import type { HTTPLimits } from "../_http/index.js";
import {
  BrowserLikePolicyForHTTPS,
  connectionOptions,
  type IAgent,
  type IPolicyForHTTPS,
  policyId,
  requestHeaders,
  requestThroughPool,
} from "./_agent.js";
import { type ConnectionOptions, HTTPConnectionPool } from "./_pool.js";
import type { IBodyProducer } from "./_producer.js";
import { Request } from "./_request.js";
import type { Response } from "./_response.js";
import { _authority, HTTPTunnelEndpoint } from "./_tunnel.js";
import { URI } from "./_uri.js";

/** Options of `ProxyAgent`. */
export interface ProxyAgentOptions {
  /** The connection pool (default: a non-persistent one). */
  pool?: HTTPConnectionPool;
  /** Limits on responses (and on the proxy's answers to `CONNECT`). */
  limits?: Partial<HTTPLimits>;
  /**
   * Seconds of silence tolerated while a response is awaited or read, and while the proxy's
   * answer to `CONNECT` is awaited.
   */
  readTimeout?: number;
  /** Seconds a request with `Expect: 100-continue` waits for `100 Continue` (default 1). */
  expectContinueTimeout?: number;
  /**
   * The HTTPS policy for `https:` URIs, applied to the target through the tunnel (default
   * `BrowserLikePolicyForHTTPS()`: the platform's trust roots, the target's host name).
   */
  tlsPolicy?: IPolicyForHTTPS;
  /** Twisted's name for `tlsPolicy`. */
  contextFactory?: IPolicyForHTTPS;
  /**
   * Headers meant for the proxy, such as `Proxy-Authorization`: sent with every `CONNECT`,
   * and added to every forwarded `http:` request that does not carry them already.
   */
  proxyHeaders?: Headers;
}

/**
 * TLS options for a target reached through a tunnel: the transport is connected to the proxy,
 * so the target is named as the host to verify (and, unless it is an IP literal, for SNI).
 */
function tunnelTLSOptions(options: TLSContextOptions, host: string): TLSContextOptions {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return { ...options, host: bare };
}

/**
 * Sends requests through an HTTP proxy (twisted.web.client.ProxyAgent) reached through
 * `endpoint`:
 *
 * - `http:` URIs are forwarded: the request goes to the proxy with the absolute URI as target
 *   (`GET http://example.com/ HTTP/1.1`), and the proxy fetches it.
 * - `https:` URIs go through a tunnel: `CONNECT example.com:443 HTTP/1.1` (with
 *   `proxyHeaders`), then, once the proxy answers 2xx, TLS with the target over the same
 *   connection (SNI and certificate checks for the target's host name, by `tlsPolicy`), then
 *   the request in origin form. The proxy sees only the target's name and port. A refusal
 *   fails the request with `TunnelError` (its `status`, e.g. 407).
 *
 * Tunnels are pooled per (proxy, target, TLS policy), apart from forwarded connections, so a
 * kept tunnel carries further requests to its own target only. `Proxy-Authorization` given
 * with a request is never sent through a tunnel (use `proxyHeaders`).
 *
 * Cancel: as for `Agent`; cancelling while the tunnel is being opened aborts that connection.
 *
 * @example
 * ```ts
 * const proxy = new HostnameEndpoint(reactor, "proxy.internal", 3128);
 * const agent = new ProxyAgent(proxy, reactor, {
 *   proxyHeaders: new Headers({ "Proxy-Authorization": ["Basic dXNlcjpwdw=="] }),
 * });
 * const page = await agent.request("GET", "http://example.com/");
 * const secure = await agent.request("GET", "https://example.com/"); // CONNECT tunnel
 * ```
 */
export class ProxyAgent implements IAgent {
  /** The connection pool. */
  readonly pool: HTTPConnectionPool;
  private readonly connectionOptions: ConnectionOptions;
  private readonly policy: IPolicyForHTTPS;
  private readonly proxyHeaders: Headers | null;
  private readonly limits: Partial<HTTPLimits> | undefined;
  private readonly readTimeout: number | undefined;

  constructor(
    /** Where the proxy is. */
    readonly endpoint: IStreamClientEndpoint,
    /** The clock of the pool and of the timeouts. */
    readonly reactor: IReactorTime,
    options: ProxyAgentOptions = {},
  ) {
    this.pool = options.pool ?? new HTTPConnectionPool(reactor, false);
    this.connectionOptions = connectionOptions(options);
    this.policy = options.tlsPolicy ?? options.contextFactory ?? new BrowserLikePolicyForHTTPS();
    this.proxyHeaders = options.proxyHeaders?.copy() ?? null;
    this.limits = options.limits;
    this.readTimeout = options.readTimeout;
  }

  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<Response> {
    let parsed: URI;
    try {
      parsed = URI.fromString(uri);
    } catch (e) {
      return fail(e);
    }
    if (parsed.scheme === "https") return this.tunnelled(method, parsed, headers, bodyProducer);
    const forwarded = requestHeaders(parsed, headers);
    for (const [name, values] of this.proxyHeaders?.getAllRawHeaders() ?? []) {
      if (!forwarded.hasHeader(name)) forwarded.setRawHeaders(name, values);
    }
    const key = `http-proxy#${policyId(this.endpoint)}`;
    const request = new Request(method, parsed, forwarded, bodyProducer ?? null, {
      persistent: this.pool.persistent,
      target: parsed.absoluteForm,
    });
    return requestThroughPool(this.pool, key, this.endpoint, request, this.connectionOptions);
  }

  /** An `https:` request through a `CONNECT` tunnel, TLS inside. */
  private tunnelled(
    method: string,
    uri: URI,
    headers: Headers | null | undefined,
    bodyProducer: IBodyProducer | null | undefined,
  ): Deferred<Response> {
    let endpoint: IStreamClientEndpoint;
    try {
      const tunnel = new HTTPTunnelEndpoint(this.endpoint, uri.host, uri.port, {
        headers: this.proxyHeaders,
        timeout: this.readTimeout ?? null,
        clock: this.reactor,
        ...(this.limits === undefined ? {} : { limits: this.limits }),
      });
      const tls = this.policy.creatorForNetloc(uri.host, uri.port);
      endpoint = wrapClientTLS(tunnelTLSOptions(tls, uri.host), tunnel);
    } catch (e) {
      return fail(e);
    }
    const proxy = policyId(this.endpoint);
    const credentials = this.proxyHeaders === null ? 0 : policyId(this.proxyHeaders);
    const key = `https-tunnel#${proxy}#${credentials}#${_authority(uri.host, uri.port)}#${policyId(this.policy)}`;
    const sent = requestHeaders(uri, headers);
    sent.removeHeader("proxy-authorization");
    const request = new Request(method, uri, sent, bodyProducer ?? null, {
      persistent: this.pool.persistent,
    });
    return requestThroughPool(this.pool, key, endpoint, request, this.connectionOptions);
  }
}
