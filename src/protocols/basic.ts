// Basic framing protocols (twisted.protocols.basic): lines, netstrings, length prefixes, files.

export { FileSender, type FileSenderSource } from "./_filesender.js";
export {
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  IntNStringReceiver,
  StatefulStringProtocol,
  StringTooLongError,
} from "./_intn.js";
export { LineOnlyReceiver, LineReceiver } from "./_line.js";
export { NetstringParseError, NetstringReceiver } from "./_netstring.js";
