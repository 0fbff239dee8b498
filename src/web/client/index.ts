// twisted-ts/web/client: the HTTP/1.1 client — Agent, connection pool, proxies and tunnels, redirects, decoders, cookies, getPage.

export { Headers } from "../_headers.js";
export {
  Agent,
  type AgentOptions,
  type AgentReactor,
  BrowserLikePolicyForHTTPS,
  type IAgent,
  type IAgentEndpointFactory,
  type IPolicyForHTTPS,
} from "./_agent.js";
export {
  type Cookie,
  CookieAgent,
  CookieJar,
  type CookieJarOptions,
  domainMatch,
  parseCookieDate,
  pathMatch,
} from "./_cookies.js";
export {
  ContentDecoderAgent,
  DecodedResponse,
  type DecoderClass,
  DeflateDecoder,
  GzipDecoder,
} from "./_decoder.js";
export {
  InfiniteRedirection,
  PageRedirect,
  PartialDownloadError,
  PotentialDataLoss,
  RedirectWithNoLocation,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  SchemeNotSupported,
  TunnelError,
  type TunnelErrorInit,
  WebError,
  WebError as Error,
  WrapperError,
  WrongBodyLength,
} from "./_errors.js";
export { downloadPage, type GetPageOptions, getPage } from "./_getpage.js";
export {
  type ConnectionOptions,
  HTTPConnectionPool,
  type IHTTPClientConnection,
} from "./_pool.js";
export {
  type BodyLength,
  FileBodyProducer,
  type FileBodyProducerOptions,
  type IBodyProducer,
  UNKNOWN_LENGTH,
} from "./_producer.js";
export {
  type ClientState,
  HTTP11ClientProtocol,
  type HTTP11ClientProtocolOptions,
} from "./_protocol.js";
export { ProxyAgent, type ProxyAgentOptions } from "./_proxyagent.js";
export { BrowserLikeRedirectAgent, RedirectAgent } from "./_redirect.js";
export { Request, type RequestOptions } from "./_request.js";
export {
  type HTTPVersionTuple,
  type IClientRequest,
  type IResponse,
  Response,
  ResponseBodyTransport,
  type ResponseInit,
  readBody,
} from "./_response.js";
export { HTTPTunnelEndpoint, type HTTPTunnelEndpointOptions } from "./_tunnel.js";
export { URI } from "./_uri.js";
