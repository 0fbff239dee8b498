// twisted-ts/testing: test doubles and assertions for testing protocols without sockets or time.

export { Clock, DelayedCall } from "../internet/task.js";
export { type AccumulatingFactoryHooks, AccumulatingProtocol } from "./_accumulating_protocol.js";
export { assertNoResult, failureResultOf, successResultOf } from "./_assertions.js";
export {
  type AssertCleanReactorOptions,
  assertCleanReactor,
  type CheckableReactor,
  cleanReactor,
  DirtyReactorError,
} from "./_clean_reactor.js";
export {
  type ConnectedServerAndClientOptions,
  connect,
  connectedServerAndClient,
  FakeTransport,
  type FakeTransportOptions,
  IOPump,
  makeFakeClient,
  makeFakeServer,
  type ProtocolSource,
} from "./_iosim.js";
export { captureLogs, LogCapture, type LogCaptureOptions } from "./_log_capture.js";
export {
  MemoryConnector,
  MemoryListeningPort,
  type MemoryStreamKind,
  MemoryUDPPort,
} from "./_memory_ports.js";
export {
  type CallRecord,
  MemoryReactor,
  MemoryReactorClock,
  type SSLClientRecord,
  type SSLServerRecord,
  type TCPClientRecord,
  type TCPServerRecord,
  type UDPPortRecord,
  type UNIXClientRecord,
  type UNIXServerRecord,
} from "./_memory_reactor.js";
export {
  type ProducerState,
  StringTransport,
  StringTransportWithDisconnection,
} from "./_string_transport.js";
