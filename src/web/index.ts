// twisted-ts/web: the HTTP/1.1 server — Site, Resource, Request, static files, proxy, vhosts.

export { HTTPChannel, type IChannelSite } from "./_channel.js";
export {
  type IContentStore,
  type IRequestContent,
  SpooledContent,
  TempFileContentStore,
} from "./_content.js";
export {
  acceptQuality,
  EncodingResourceWrapper,
  GzipEncoderFactory,
  type IRequestEncoder,
  type IRequestEncoderFactory,
} from "./_encoding.js";
export { canonicalHeaderName, Headers, type HeaderText } from "./_headers.js";
export {
  DEFAULT_LIMITS,
  HTTP11Connection,
  type HTTPEvent,
  type HTTPLimits,
  LocalProtocolError,
  RESPONSES,
  RemoteProtocolError,
} from "./_http/index.js";
export {
  AccessLogFile,
  combinedLogFormatter,
  type IAccessLog,
  type LogFormatter,
  type LoggedRequest,
  logTimestamp,
} from "./_log.js";
export { ReverseProxyResource } from "./_proxy.js";
export { CACHED, type IRequestChannel, type IRequestSite, Request } from "./_request.js";
export {
  type CookieOptions,
  datetimeToString,
  type FormPart,
  parseMultipart,
  stringToDatetime,
} from "./_request_util.js";
export {
  type Body,
  getChildForRequest,
  type IRenderRequest,
  type IResource,
  NOT_DONE_YET,
  type RenderResult,
  Resource,
} from "./_resource.js";
export { Session } from "./_session.js";
export { Site, type SiteOptions } from "./_site.js";
export { File, type FileOptions, parseRange } from "./_static.js";
export {
  Data,
  ErrorPage,
  errorPageHTML,
  escapeHTML,
  ForbiddenResource,
  NoResource,
  Redirect,
  redirectTo,
} from "./_util.js";
export { NameVirtualHost } from "./_vhost.js";
