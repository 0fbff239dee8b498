// The HTTP/1.1 engine (sans-I/O), shared by the server (HTTPChannel) and the client side.

export { ReceiveBuffer } from "./_buffer.js";
export { HTTP11Connection } from "./_connection.js";
export { LocalProtocolError, RemoteProtocolError } from "./_errors.js";
export {
  type ConnectionClosed,
  type DataReceived,
  type HTTPEvent,
  type HTTPVersion,
  type InformationalResponseReceived,
  type MessageEnded,
  NEED_DATA,
  PAUSED,
  type RequestHead,
  type RequestReceived,
  type ResponseHead,
  type ResponseReceived,
} from "./_events.js";
export {
  contentLength,
  DEFAULT_LIMITS,
  type Framing,
  fieldTokens,
  type HTTPLimits,
  parseFieldLines,
  requestFraming,
  responseFraming,
} from "./_parse.js";
export { ConnectionState, type Role, type State, type Step, TRANSITIONS } from "./_states.js";
export { RESPONSES, reasonPhrase } from "./_status.js";
