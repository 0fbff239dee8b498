// twisted-ts/logger: structured logging (Logger, observers, filters) and the legacy `log` API.

export type {
  FailureLike,
  ILevelAwareLogObserver,
  ILogObserver,
  LogEvent,
  LogFile,
} from "./_event.js";
export { eventAsJSON, eventFromJSON } from "./_json.js";
/**
 * The legacy `twisted.python.log` API: `log.msg`, `log.err`, `log.startLogging`,
 * `log.addObserver`, `log.removeObserver`, `log.callWithContext`, `log.textFromEventDict`.
 *
 * @example
 * ```ts
 * log.startLogging(process.stdout);
 * log.msg("Client connected from", peer.host);
 * ```
 */
export * as log from "./_legacy.js";
export { InvalidLogLevelError, LogLevel } from "./_levels.js";
export { Logger, type LoggerOptions } from "./_logger.js";
export {
  FileLogObserver,
  FilteringLogObserver,
  type ILevelAwareFilterPredicate,
  type ILogFilterPredicate,
  type JSONFileLogObserverOptions,
  jsonFileLogObserver,
  LogLevelFilterPredicate,
  PredicateResult,
  textFileLogObserver,
} from "./_observers.js";
export {
  type BeginLoggingOptions,
  globalLogBeginner,
  globalLogPublisher,
  LimitedHistoryLogObserver,
  LogBeginner,
  type LogBeginnerOptions,
  LogPublisher,
} from "./_publisher.js";
export {
  type EventAsTextOptions,
  eventAsText,
  formatEvent,
  formatEventAsClassicLogText,
  formatTime,
  legacyTimeFormat,
  timeFormatRFC3339,
} from "./_text.js";
