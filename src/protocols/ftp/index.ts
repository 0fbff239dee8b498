// twisted-ts/protocols/ftp: FTP and FTPS client and server (RFC 959, 2228, 2389, 2428, 3659, 4217).

export { FTPClient, type FTPClientOptions } from "./_client.js";
export {
  BufferingProtocol,
  type ClientDataReactor,
  DataPortProtocol,
  type DownloadSink,
  type IFinishableConsumer,
  writeAndFinish,
} from "./_client_data.js";
export {
  COMMANDS,
  CommandLineParser,
  type CommandSpec,
  encodeExtendedAddress,
  encodeHostPort,
  type FTPCommand,
  type HostPort,
  parseCommandLine,
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
  quotePath,
  segmentsToPath,
  toSegments,
  unquotePath,
} from "./_commands.js";
export {
  AsciiReceivingConsumer,
  AsciiSendingConsumer,
  DataChannel,
  type DataChannelOptions,
  type DataReactor,
  DTP,
  toCRLF,
} from "./_dtp.js";
export {
  AnonUserDeniedError,
  AuthorizationError,
  BadCmdSequenceError,
  BadResponse,
  CmdArgSyntaxError,
  CmdNotImplementedError,
  CmdNotImplementedForArgError,
  CmdSyntaxError,
  CommandFailed,
  DirectoryNotEmptyError,
  FileExistsError,
  FileNotFoundError,
  FTPClientUsageError,
  FTPCmdError,
  InvalidPath,
  IsADirectoryError,
  IsNotADirectoryError,
  LocalActionError,
  PermissionDeniedError,
  PortConnectionError,
} from "./_errors.js";
export { FTPShell, type FTPShellOptions } from "./_fs_shell.js";
export {
  FTPFileListProtocol,
  formatListLine,
  formatMlsxLine,
  formatTimeValue,
  type MlsxEntry,
  parseMlsxLine,
  parseTimeValue,
  parseUnixListLine,
  type UnixListEntry,
} from "./_list.js";
export {
  InMemoryShell,
  type InMemoryShellOptions,
  MemoryDirectory,
  MemoryFile,
  type MemoryTree,
} from "./_memory_shell.js";
export {
  type FTPReply,
  formatReply,
  REPLY,
  ReplyParser,
  type ReplyParserOptions,
  replyKind,
} from "./_replies.js";
export { FTP, type FTPServerSettings } from "./_server.js";
export {
  type CommandReceived,
  FTPServerConnection,
  type FTPServerConnectionOptions,
  type FTPServerEvent,
} from "./_server_engine.js";
export {
  FTPFactory,
  type FTPFactoryOptions,
  FTPRealm,
  type FTPRealmOptions,
} from "./_server_factory.js";
export {
  displayPath,
  type FTPFileInfo,
  type FTPPath,
  IFTPShell,
  type IReadFile,
  type IWriteFile,
  type OpenForWritingOptions,
} from "./_shell.js";
