// The shell interface: what an FTP server user can do with files (Twisted's IFTPShell).

import type { IConsumer } from "../../internet/interfaces.js";

/** The avatar interface of FTP logins: a realm asked for it returns an `IFTPShell`. */
export const IFTPShell: unique symbol = Symbol.for("twisted-ts.protocols.ftp.IFTPShell");

/** A path as segments under the user's root: `["pub", "notes.txt"]` is `/pub/notes.txt`. */
export type FTPPath = readonly string[];

/** What a shell tells about a file or directory (for `LIST`, `MLSD`, `SIZE`, `MDTM`…). */
export interface FTPFileInfo {
  /** The entry's name (empty for the root). */
  readonly name: string;
  /** A regular file, a directory, a symbolic link, or anything else. */
  readonly type: "file" | "dir" | "link" | "other";
  /** Size in bytes. */
  readonly size: number;
  /** Last modification, in seconds since the epoch. */
  readonly modified: number;
  /** Unix permission bits (`0o644`). */
  readonly permissions: number;
  /** Number of hard links. */
  readonly hardlinks: number;
  /** Owner name (or number). */
  readonly owner: string;
  /** Group name (or number). */
  readonly group: string;
  /** For links: the target, when known. */
  readonly target?: string;
}

/**
 * A file opened for reading. `send` streams it into a consumer as a streaming producer (so a
 * slow peer pauses the reading) and fires once everything is written; it fails if the consumer
 * stops it (the connection is lost). The file is closed when `send` ends; `close()` releases
 * it when `send` is never called.
 */
export interface IReadFile {
  /** The size of what `send` will write, when known (bytes from the offset to the end). */
  readonly size?: number;
  /** Writes the file to `consumer`; fires when done. */
  send(consumer: IConsumer): PromiseLike<void>;
  /** Releases the file without sending it (harmless after `send`). */
  close(): PromiseLike<void>;
}

/**
 * A file opened for writing. `receive` gives the consumer to write the data to; the server
 * registers the data connection with it as a streaming producer, so the file can pause the
 * upload while it catches up. `close` fires once the data is stored.
 */
export interface IWriteFile {
  /** The consumer the uploaded bytes go to. */
  receive(): PromiseLike<IConsumer>;
  /** Finishes the file: fires once everything written is stored (also after a partial upload). */
  close(): PromiseLike<void>;
}

/** Options of {@link IFTPShell.openForWriting}. */
export interface OpenForWritingOptions {
  /** Write from this byte on, dropping what follows (`REST` + `STOR`). Default 0: truncate. */
  offset?: number;
  /** Append to the end (`APPE`). */
  append?: boolean;
  /** Fail with `FileExistsError` if the file exists (`STOU`). */
  exclusive?: boolean;
}

/**
 * What a logged-in user can do. Paths are segments under the user's root, already resolved
 * (no `.` or `..`); a shell must still make sure nothing reaches outside its root (a symbolic
 * link, for instance). Failures are `FTPCmdError`s (`FileNotFoundError`,
 * `PermissionDeniedError`, `IsADirectoryError`…), which the server answers with their codes;
 * any other error is answered 451. Methods return Deferreds, Promises or anything awaitable.
 *
 * @example
 * ```ts
 * const shell: IFTPShell = new InMemoryShell();
 * await shell.makeDirectory(["pub"]);
 * const info = await shell.stat(["pub"]); // { type: "dir", … }
 * ```
 */
export interface IFTPShell {
  /** Creates a directory. */
  makeDirectory(path: FTPPath): PromiseLike<void>;
  /** Removes an empty directory. */
  removeDirectory(path: FTPPath): PromiseLike<void>;
  /** Removes a file. */
  removeFile(path: FTPPath): PromiseLike<void>;
  /** Renames (moves) a file or directory. */
  rename(fromPath: FTPPath, toPath: FTPPath): PromiseLike<void>;
  /** Fails unless `path` is a directory the user may enter (`CWD`). */
  access(path: FTPPath): PromiseLike<void>;
  /** Describes a file or directory (links are followed). */
  stat(path: FTPPath): PromiseLike<FTPFileInfo>;
  /** The entries of a directory, or the one entry of a file. */
  list(path: FTPPath): PromiseLike<FTPFileInfo[]>;
  /** Opens a file for reading, from byte `offset` on (`REST`). */
  openForReading(path: FTPPath, offset?: number): PromiseLike<IReadFile>;
  /** Opens (creates) a file for writing. */
  openForWriting(path: FTPPath, options?: OpenForWritingOptions): PromiseLike<IWriteFile>;
  /** Changes permission bits (`SITE CHMOD`); optional. */
  setPermissions?(path: FTPPath, mode: number): PromiseLike<void>;
  /** Whether the user may change anything (for `MLSD`'s `perm` fact). Default true. */
  readonly writable?: boolean;
  /** Called when the user logs out or the connection ends. */
  logout?(): void;
}

/** The display path of segments (`/a/b`), for error messages. */
export function displayPath(path: FTPPath): string {
  return `/${path.join("/")}`;
}
