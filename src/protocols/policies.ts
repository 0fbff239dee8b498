// Policies (twisted.protocols.policies): wrappers for timeouts, throttling, limits and logging.

export { LimitConnectionsByPeer, LimitTotalConnectionsFactory } from "./_limits.js";
export {
  ThrottlingFactory,
  type ThrottlingOptions,
  ThrottlingProtocol,
} from "./_throttling.js";
export {
  type ITimeoutMixin,
  TimeoutFactory,
  TimeoutMixin,
  TimeoutProtocol,
} from "./_timeout.js";
export {
  SpewingFactory,
  SpewingProtocol,
  TrafficLoggingFactory,
  TrafficLoggingProtocol,
} from "./_traffic.js";
export {
  ProtocolWrapper,
  type ProtocolWrapperClass,
  type WrappedFactory,
  WrappingFactory,
} from "./_wrapping.js";
