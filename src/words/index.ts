// twisted-ts/words: IRC — the message engine, client (IRCClient) and server, with IRCv3.

export { type CaseMapping, IRCMap, ircEquals, ircLower } from "./_casemap.js";
export { IRCClient } from "./_client.js";
export { IRCClientBase, type MessageContext } from "./_client_base.js";
export {
  IRCClientBatches,
  type LabeledResponse,
  type SendLabeledOptions,
} from "./_client_batch.js";
export {
  type CapabilityState,
  DEFAULT_CAPABILITIES,
  IRCClientCapabilities,
} from "./_client_cap.js";
export { IRCClientCommands, splitText, type WhoisInfo } from "./_client_commands.js";
export {
  type CTCPMessage,
  ctcpDequote,
  ctcpExtract,
  ctcpQuote,
  ctcpStringify,
  X_DELIM,
} from "./_ctcp.js";
export {
  type BatchCompleted,
  type BatchIgnored,
  type BatchOverflowed,
  batchMessages,
  type IRCBatch,
  type IRCBatchEvent,
  IRCBatchReader,
  type IRCBatchReaderOptions,
  isIRCBatch,
  MAX_BATCH_MESSAGES,
  MAX_OPEN_BATCHES,
  type MessageReleased,
} from "./_irc_batch.js";
export {
  escapeTagValue,
  type FormatMessageOptions,
  formatMessage,
  type IRCMessage,
  type IRCMessageInput,
  IRCMessageParser,
  type IRCMessageParserOptions,
  type IRCParseEvent,
  type LineMalformed,
  type LineTooLong,
  LocalProtocolError,
  MAX_BODY_BYTES,
  MAX_TAG_BYTES,
  type MessageReceived,
  type ParsedPrefix,
  parseMessage,
  parsePrefix,
  RemoteProtocolError,
  truncateUtf8,
  unescapeTagValue,
} from "./_irc_message.js";
export {
  type ChannelModes,
  type PrefixModes,
  paramModesOf,
  parseChanModes,
  parseLimitList,
  parseModes,
  parsePrefixFeature,
  ServerSupportedFeatures,
} from "./_isupport.js";
export { NUMERICS, type NumericName, numericName } from "./_numerics.js";
export {
  IRCBot,
  type IRCBotOptions,
  type IRCFloodOptions,
  IRCServer,
  type IRCServerHooks,
  type IRCServerOptions,
  type WhowasEntry,
} from "./_server.js";
export { COMMANDS, type IRCCommandSpec } from "./_server_commands.js";
export {
  LabeledReply,
  MAX_LABEL_BYTES,
  prependTags,
  startLabeledReply,
} from "./_server_labeled.js";
export { IRCServerFactory, IRCServerProtocol } from "./_server_protocol.js";
export { IIRCUser, type IRCAvatar, ircRealm } from "./_server_register.js";
export {
  type IRCBan,
  IRCChannel,
  IRCUser,
  type IRCUserConnection,
  matchMask,
  normalizeMask,
  validChannel,
  validNick,
} from "./_server_state.js";
