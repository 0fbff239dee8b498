// Agent and ProxyAgent: URIs to connections (HostnameEndpoint, TLS by policy) to requests.

import { Deferred, fail } from "../../internet/defer.js";
import {
  HostnameEndpoint,
  type HostnameEndpointOptions,
  type HostResolver,
  type IStreamClientEndpoint,
  wrapClientTLS,
} from "../../internet/endpoints.js";
import { CancelledError } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type { IReactorTCP, IReactorTime, TLSContextOptions } from "../../internet/interfaces.js";
import { type ClientTLSOptions, optionsForClientTLS, type TrustRoot } from "../../internet/ssl.js";
import { Headers } from "../_headers.js";
import type { HTTPLimits } from "../_http/index.js";
import { type ConnectionOptions, HTTPConnectionPool } from "./_pool.js";
import type { IBodyProducer } from "./_producer.js";
import { Request } from "./_request.js";
import type { IResponse, Response } from "./_response.js";
import { URI } from "./_uri.js";

/**
 * Something that makes requests (twisted.web.iweb.IAgent): `Agent`, and the agents that wrap
 * one (`RedirectAgent`, `ContentDecoderAgent`, `CookieAgent`).
 */
export interface IAgent {
  /**
   * Requests `uri` with `method`; fires with the response once its head has arrived (the
   * body is read with `readBody` or `response.deliverBody`). Cancel: see each agent.
   */
  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<IResponse>;
}

/** Decides the TLS options of HTTPS connections (twisted.web.iweb.IPolicyForHTTPS). */
export interface IPolicyForHTTPS {
  /** The client TLS options for a connection to `hostname`:`port`. */
  creatorForNetloc(hostname: string, port: number): TLSContextOptions;
}

/**
 * The default HTTPS policy: verify the server's certificate against `trustRoot` (default: the
 * platform's trust roots) and check that it is valid for the host name, as browsers do.
 *
 * @example
 * ```ts
 * // Trust a private CA (e.g. a certificate made by makeSelfSignedCertificate):
 * const agent = new Agent(reactor, { tlsPolicy: new BrowserLikePolicyForHTTPS(caPem) });
 * ```
 */
export class BrowserLikePolicyForHTTPS implements IPolicyForHTTPS {
  constructor(
    /** What certificates must chain to. */
    readonly trustRoot: TrustRoot = "platform",
    /** Other client TLS options (client certificate, minimum version…). */
    readonly options: Omit<ClientTLSOptions, "trustRoot"> = {},
  ) {}

  creatorForNetloc(hostname: string, _port: number): TLSContextOptions {
    return optionsForClientTLS(hostname, {
      acceptableProtocols: ["http/1.1"],
      ...this.options,
      trustRoot: this.trustRoot,
    });
  }
}

/** Makes the endpoint a request's connection goes through (twisted.web.iweb.IAgentEndpointFactory). */
export interface IAgentEndpointFactory {
  endpointForURI(uri: URI): IStreamClientEndpoint;
}

/** The reactor an `Agent` needs: TCP connections and a clock. */
export type AgentReactor = IReactorTCP & IReactorTime;

/** Options of `Agent`. */
export interface AgentOptions {
  /** The HTTPS policy (default `BrowserLikePolicyForHTTPS()`: verify against system roots). */
  tlsPolicy?: IPolicyForHTTPS;
  /** Twisted's name for `tlsPolicy`. */
  contextFactory?: IPolicyForHTTPS;
  /** Seconds each connection attempt may take (default 30). */
  connectTimeout?: number;
  /** Local address to connect from. */
  bindAddress?: readonly [string, number];
  /** The connection pool (default: a non-persistent one, as in Twisted). */
  pool?: HTTPConnectionPool;
  /** Limits on responses: status line, header block size, header count, body size. */
  limits?: Partial<HTTPLimits>;
  /**
   * Seconds of silence from the server tolerated while a response is awaited or read; then
   * the request (or its body) fails with a `TimeoutError` reason. Default: no limit.
   */
  readTimeout?: number;
  /**
   * Seconds a request with `Expect: 100-continue` waits for `100 Continue` before sending its
   * body anyway (default 1; see `HTTP11ClientProtocolOptions.expectContinueTimeout`).
   */
  expectContinueTimeout?: number;
  /** Resolves host names (default: the system resolver). */
  resolver?: HostResolver;
  /**
   * Makes the endpoints connections go through, instead of `HostnameEndpoint` (+ TLS); the
   * TLS and connection options above are then the factory's business.
   */
  endpointFactory?: IAgentEndpointFactory;
}

/** `HostnameEndpoint` for `http:`, wrapped in TLS by the policy for `https:`. */
class StandardEndpointFactory implements IAgentEndpointFactory {
  constructor(
    private readonly reactor: AgentReactor,
    private readonly policy: IPolicyForHTTPS,
    private readonly options: AgentOptions,
  ) {}

  endpointForURI(uri: URI): IStreamClientEndpoint {
    const hostnameOptions: HostnameEndpointOptions = {};
    const { connectTimeout, bindAddress, resolver } = this.options;
    if (connectTimeout !== undefined) hostnameOptions.timeout = connectTimeout;
    if (bindAddress !== undefined) hostnameOptions.bindAddress = bindAddress;
    if (resolver !== undefined) hostnameOptions.resolver = resolver;
    const tcp = new HostnameEndpoint(this.reactor, uri.host, uri.port, hostnameOptions);
    if (uri.scheme === "http") return tcp;
    return wrapClientTLS(this.policy.creatorForNetloc(uri.host, uri.port), tcp);
  }
}

const policyIds = new WeakMap<object, number>();
let nextPolicyId = 1;

/**
 * Tells TLS policies (and proxies) apart in pool keys, so that connections made under one are
 * not reused under another. @internal
 */
export function policyId(policy: object): number {
  let id = policyIds.get(policy);
  if (id === undefined) {
    id = nextPolicyId++;
    policyIds.set(policy, id);
  }
  return id;
}

/** The options an agent gives the protocols of its connections. @internal */
export function connectionOptions(options: {
  limits?: Partial<HTTPLimits>;
  readTimeout?: number;
  expectContinueTimeout?: number;
}): ConnectionOptions {
  const out: ConnectionOptions = {};
  if (options.limits !== undefined) out.limits = options.limits;
  if (options.readTimeout !== undefined) out.readTimeout = options.readTimeout;
  if (options.expectContinueTimeout !== undefined) {
    out.expectContinueTimeout = options.expectContinueTimeout;
  }
  return out;
}

/** `headers` copied, with `Authorization: Basic` from the URI's userinfo unless given. @internal */
export function requestHeaders(uri: URI, headers: Headers | null | undefined): Headers {
  const out = headers == null ? new Headers() : headers.copy();
  if ((uri.username !== "" || uri.password !== "") && !out.hasHeader("authorization")) {
    const token = Buffer.from(`${uri.username}:${uri.password}`, "utf8").toString("base64");
    out.setRawHeaders("Authorization", [`Basic ${token}`]);
  }
  return out;
}

/**
 * Gets a connection from `pool` and sends `request` on it; cancelling stops whichever step is
 * in progress and fails with `CancelledError`. @internal
 */
export function requestThroughPool(
  pool: HTTPConnectionPool,
  key: string,
  endpoint: IStreamClientEndpoint,
  request: Request,
  options: ConnectionOptions,
): Deferred<Response> {
  let step: Deferred<unknown> | null = null;
  const result = new Deferred<Response>((d) => {
    d.errback(new CancelledError("The request was cancelled"));
    step?.cancel();
  });
  const connecting = pool.getConnection(key, endpoint, options);
  step = connecting;
  connecting.addCallbacks(
    (connection) => {
      const requesting = connection.request(request);
      step = requesting;
      requesting.addCallbacks(
        (response) => void (result.called ? undefined : result.callback(response)),
        (f: Failure) => void (result.called ? undefined : result.errback(f)),
      );
    },
    (f: Failure) => void (result.called ? undefined : result.errback(f)),
  );
  return result;
}

/**
 * Makes HTTP/1.1 requests (twisted.web.client.Agent): parses the URI, connects to its host
 * (`HostnameEndpoint`, and TLS for `https:`, verified by `tlsPolicy`) through the connection
 * pool, sends the request and fires with the `Response`. URI userinfo becomes `Authorization:
 * Basic` unless that header is given.
 *
 * Cancel: cancelling the Deferred before the response head has arrived stops the connection
 * attempt or aborts the connection (it is not reused, its body producer is stopped) and fails
 * with `CancelledError`.
 *
 * @example
 * ```ts
 * const agent = new Agent(reactor, { connectTimeout: 10 });
 * const response = await agent.request("GET", "https://example.com/",
 *   new Headers({ "User-Agent": ["my-app"] }));
 * console.log(response.code, (await readBody(response)).toString());
 * ```
 */
export class Agent implements IAgent {
  /** The connection pool. */
  readonly pool: HTTPConnectionPool;
  private readonly endpointFactory: IAgentEndpointFactory;
  private readonly policyKey: number;
  private readonly connectionOptions: ConnectionOptions;

  constructor(reactor: AgentReactor, options: AgentOptions = {}) {
    const policy = options.tlsPolicy ?? options.contextFactory ?? new BrowserLikePolicyForHTTPS();
    this.pool = options.pool ?? new HTTPConnectionPool(reactor, false);
    const factory = options.endpointFactory;
    this.endpointFactory = factory ?? new StandardEndpointFactory(reactor, policy, options);
    this.policyKey = policyId(factory ?? policy);
    this.connectionOptions = connectionOptions(options);
  }

  /**
   * An agent that connects with `endpointFactory` (e.g. over Unix sockets, or through a
   * tunnel) instead of `HostnameEndpoint`.
   */
  static usingEndpointFactory(
    reactor: AgentReactor,
    endpointFactory: IAgentEndpointFactory,
    options: Pick<AgentOptions, "pool" | "limits" | "readTimeout" | "expectContinueTimeout"> = {},
  ): Agent {
    return new Agent(reactor, { ...options, endpointFactory });
  }

  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<Response> {
    let parsed: URI;
    let endpoint: IStreamClientEndpoint;
    try {
      parsed = URI.fromString(uri);
      endpoint = this.endpointFactory.endpointForURI(parsed);
    } catch (e) {
      return fail(e);
    }
    const key = `${parsed.origin}#${this.policyKey}`;
    const request = new Request(
      method,
      parsed,
      requestHeaders(parsed, headers),
      bodyProducer ?? null,
      {
        persistent: this.pool.persistent,
      },
    );
    return requestThroughPool(this.pool, key, endpoint, request, this.connectionOptions);
  }
}
