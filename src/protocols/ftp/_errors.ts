// Errors of the FTP battery: command errors (each with its reply code) and client errors.

import { TwistedError } from "../../internet/error.js";

/**
 * An FTP command failed on the server side: the reply code and text to answer with. Shells
 * raise its subclasses (`FileNotFoundError`, `PermissionDeniedError`, …) and the server turns
 * them into replies.
 *
 * @example
 * ```ts
 * throw new FileNotFoundError("notes.txt"); // answered "550 notes.txt: No such file or directory"
 * ```
 */
export class FTPCmdError extends TwistedError {
  override readonly code: string = "ERR_FTP_COMMAND";
  /** The FTP reply code the server answers with. */
  readonly replyCode: number = 550;

  /** The reply text (without the code). */
  response(): string {
    return this.message;
  }
}

/** 550: the file or directory does not exist. */
export class FileNotFoundError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_FILE_NOT_FOUND";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: No such file or directory`, options);
  }
}

/** 550: the user may not do this. */
export class PermissionDeniedError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_PERMISSION_DENIED";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: Permission denied`, options);
  }
}

/** 550: the anonymous user may not do this (the anonymous shell is read-only). */
export class AnonUserDeniedError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_ANON_DENIED";
  constructor(options?: { cause?: unknown }) {
    super("Anonymous users are forbidden to change the filesystem", options);
  }
}

/** 550: a directory was expected. */
export class IsNotADirectoryError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_NOT_A_DIRECTORY";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: Not a directory`, options);
  }
}

/** 550: a file was expected, not a directory. */
export class IsADirectoryError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_IS_A_DIRECTORY";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: Is a directory`, options);
  }
}

/** 550: the file or directory exists already. */
export class FileExistsError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_FILE_EXISTS";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: File exists`, options);
  }
}

/** 550: a path that leaves the root, or is otherwise not acceptable. */
export class InvalidPath extends FTPCmdError {
  override readonly code: string = "ERR_FTP_INVALID_PATH";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: Invalid path`, options);
  }
}

/** 550: the directory is not empty. */
export class DirectoryNotEmptyError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_DIRECTORY_NOT_EMPTY";
  constructor(path: string, options?: { cause?: unknown }) {
    super(`${path}: Directory not empty`, options);
  }
}

/** 500: the command line cannot be understood. */
export class CmdSyntaxError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_SYNTAX";
  override readonly replyCode: number = 500;
}

/** 501: the command's argument cannot be understood. */
export class CmdArgSyntaxError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_ARG_SYNTAX";
  override readonly replyCode: number = 501;
}

/** 502: the command is not implemented. */
export class CmdNotImplementedError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_NOT_IMPLEMENTED";
  override readonly replyCode: number = 502;
}

/** 504: the command is not implemented for that argument. */
export class CmdNotImplementedForArgError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_NOT_IMPLEMENTED_FOR_ARG";
  override readonly replyCode: number = 504;
}

/** 503: the command is not valid now (e.g. `RNTO` without `RNFR`). */
export class BadCmdSequenceError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_BAD_SEQUENCE";
  override readonly replyCode: number = 503;
}

/** 530: not logged in, or the login failed. */
export class AuthorizationError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_AUTHORIZATION";
  override readonly replyCode: number = 530;
}

/** 451: the server failed (an unexpected error from the file system, for instance). */
export class LocalActionError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_LOCAL_ERROR";
  override readonly replyCode: number = 451;
}

/** 425: the data connection cannot be opened. */
export class PortConnectionError extends FTPCmdError {
  override readonly code: string = "ERR_FTP_DATA_CONNECTION";
  override readonly replyCode: number = 425;
}

// Client side ------------------------------------------------------------------------------------

/**
 * The server answered a command with an error reply (4xx or 5xx) or one the client did not
 * expect. `reply` holds the code and every line of the reply.
 *
 * @example
 * ```ts
 * try { await client.cwd("missing"); }
 * catch (e) { if (e instanceof CommandFailed && e.reply.code === 550) console.log("no such dir"); }
 * ```
 */
export class CommandFailed extends TwistedError {
  override readonly code: string = "ERR_FTP_COMMAND_FAILED";
  constructor(
    /** The server's reply. */
    readonly reply: { readonly code: number; readonly lines: readonly string[] },
    options?: { cause?: unknown },
  ) {
    super(`Command failed: ${reply.lines.join(" | ")}`, options);
  }
}

/** The server sent a reply that does not follow RFC 959, or could not be parsed. */
export class BadResponse extends TwistedError {
  override readonly code: string = "ERR_FTP_BAD_RESPONSE";
}

/** A command was given in a state that does not allow it (the client was misused). */
export class FTPClientUsageError extends TwistedError {
  override readonly code: string = "ERR_FTP_CLIENT_USAGE";
}
