// FTPShell: a shell over a directory of the file system, which no path can leave.

import type { WriteStream } from "node:fs";
import { constants, type Stats } from "node:fs";
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { Deferred } from "../../internet/defer.js";
import type { IConsumer, IProducer, IPushProducer } from "../../internet/interfaces.js";
import { FileSender } from "../basic.js";
import {
  AnonUserDeniedError,
  DirectoryNotEmptyError,
  FileExistsError,
  FileNotFoundError,
  FTPCmdError,
  InvalidPath,
  IsADirectoryError,
  IsNotADirectoryError,
  LocalActionError,
  PermissionDeniedError,
} from "./_errors.js";
import {
  displayPath,
  type FTPFileInfo,
  type FTPPath,
  type IFTPShell,
  type IReadFile,
  type IWriteFile,
  type OpenForWritingOptions,
} from "./_shell.js";

/** Options of {@link FTPShell}. */
export interface FTPShellOptions {
  /** Refuse every change (the anonymous shell). Default false. */
  readOnly?: boolean;
}

/** Turns a Node file-system error into the FTP error for `path`. */
function ftpError(e: unknown, path: FTPPath): Error {
  if (e instanceof FTPCmdError) return e;
  const shown = displayPath(path);
  switch ((e as { code?: string }).code) {
    case "ENOENT":
      return new FileNotFoundError(shown, { cause: e });
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new PermissionDeniedError(shown, { cause: e });
    case "ENOTDIR":
      return new IsNotADirectoryError(shown, { cause: e });
    case "EISDIR":
      return new IsADirectoryError(shown, { cause: e });
    case "EEXIST":
      return new FileExistsError(shown, { cause: e });
    case "ENOTEMPTY":
      return new DirectoryNotEmptyError(shown, { cause: e });
    case "ELOOP":
    case "EXDEV":
      return new PermissionDeniedError(shown, { cause: e });
    default: {
      const err = new LocalActionError(`${shown}: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
      return err;
    }
  }
}

function typeOf(s: Stats): FTPFileInfo["type"] {
  if (s.isFile()) return "file";
  if (s.isDirectory()) return "dir";
  if (s.isSymbolicLink()) return "link";
  return "other";
}

function infoOf(name: string, s: Stats, target?: string): FTPFileInfo {
  const info: FTPFileInfo = {
    name,
    type: typeOf(s),
    size: s.size,
    modified: Math.floor(s.mtimeMs / 1000),
    permissions: s.mode & 0o7777,
    hardlinks: s.nlink,
    owner: String(s.uid),
    group: String(s.gid),
  };
  return target === undefined ? info : { ...info, target };
}

/** Whether a link's text names something below the link's own directory (`a`, `sub/b`). */
function isPlainRelative(target: string): boolean {
  return !isAbsolute(target) && !target.split("/").includes("..");
}

/**
 * A shell over the directory `root` of the file system (Twisted's `FTPShell`). Every path is
 * resolved under `root`; a symbolic link is followed only when its target, fully resolved
 * (`realpath`, so chains of links too), lies inside `root`, so neither `..`, absolute paths nor
 * links reach anything outside: reading, writing, listing, entering, renaming, removing or
 * stat-ing through such a link fails with `PermissionDeniedError` (550), like a chrooted
 * vsftpd, which shows links but cannot follow them out.
 *
 * Listings show every link as a link (`l` in `LIST`, `type=OS.unix=link` in `MLSD`) but only
 * reveal a target that leads inside the root: as written when it is a relative path below the
 * link's directory (`ok.txt`, `sub/ok.txt`), otherwise as the path under the root it resolves
 * to (`/in/ok.txt`, never the host path). A link leading outside, or dangling to an absolute or
 * `..` target, is listed without target and with size 0 (the size of a link is the length of
 * its target).
 *
 * Files are opened without following a final link, and the file actually opened is checked to
 * lie inside the root (through `/proc/self/fd` on Linux, else by comparing it with the path
 * resolved again), so a directory swapped for a link between the check and the open is
 * refused; uploads truncate only after that check. Listings and directory operations (`MKD`,
 * `RMD`, `DELE`, `RNFR`/`RNTO`) check the real path first and are not race-free against a
 * local user who swaps links in the tree meanwhile (Node has no `openat`).
 *
 * File names may contain spaces and any UTF-8. Reads stream with back-pressure; writes pause
 * the upload while the disk catches up, so memory use stays constant whatever the size.
 *
 * @example
 * ```ts
 * const shell = new FTPShell("/srv/ftp/alice");
 * const entries = await shell.list(["pub"]);
 * ```
 */
export class FTPShell implements IFTPShell {
  /** Whether changes are allowed. */
  readonly writable: boolean;
  private rootReal: Promise<string> | null = null;

  constructor(
    /** The directory this shell is confined to. */
    readonly root: string,
    options: FTPShellOptions = {},
  ) {
    this.writable = !options.readOnly;
  }

  private realRoot(): Promise<string> {
    this.rootReal ??= realpath(this.root);
    return this.rootReal;
  }

  private inside(rootReal: string, real: string): boolean {
    return real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
  }

  /**
   * Refuses segments that are not plain names: the shell is public API, and a caller that did
   * not resolve its path (`["..", …]`, `["a/../../etc"]`) must not reach past the root through
   * the last segment, which is joined without being resolved.
   */
  private checkSegments(path: FTPPath): void {
    for (const s of path) {
      if (s === "" || s === "." || s === ".." || s.includes("/") || s.includes("\0"))
        throw new InvalidPath(displayPath(path));
    }
  }

  /** The real path of an existing `path`, checked to lie inside the root. */
  private async resolveExisting(path: FTPPath): Promise<string> {
    this.checkSegments(path);
    const rootReal = await this.realRoot();
    let real: string;
    try {
      real = await realpath(join(rootReal, ...path));
    } catch (e) {
      throw ftpError(e, path);
    }
    if (!this.inside(rootReal, real)) throw new PermissionDeniedError(displayPath(path));
    return real;
  }

  /**
   * Where a new entry `path` goes: its parent's real path (inside the root) joined with its
   * name. An existing link in its place is only used if it leads inside the root.
   */
  private async resolveNew(path: FTPPath): Promise<string> {
    if (path.length === 0) throw new PermissionDeniedError("/");
    this.checkSegments(path);
    const parent = await this.resolveExisting(path.slice(0, -1));
    const target = join(parent, path[path.length - 1]!);
    let s: Stats | null = null;
    try {
      s = await lstat(target);
    } catch {
      // Nothing there yet.
    }
    if (s?.isSymbolicLink()) return this.resolveExisting(path);
    return target;
  }

  /**
   * Fails unless the file opened as `fh` lies inside the root: a component of the path may
   * have been swapped for a link leading outside between `resolveExisting` and `open`.
   */
  private async checkOpened(fh: FileHandle, path: FTPPath): Promise<void> {
    const rootReal = await this.realRoot();
    let opened: string | null = null;
    try {
      opened = (await readlink(`/proc/self/fd/${fh.fd}`)).replace(/ \(deleted\)$/, "");
    } catch {
      // No /proc: compare the file with what the path leads to now.
    }
    if (opened !== null) {
      if (!this.inside(rootReal, opened)) throw new PermissionDeniedError(displayPath(path));
      return;
    }
    const [got, now] = await Promise.all([fh.stat(), this.resolveExisting(path).then(stat)]);
    if (got.dev !== now.dev || got.ino !== now.ino)
      throw new PermissionDeniedError(displayPath(path));
  }

  /**
   * What a listing may tell of the link `full`: its target if it leads inside the root,
   * `undefined` to hide it.
   */
  private async linkTarget(full: string): Promise<string | undefined> {
    const rootReal = await this.realRoot();
    let text: string;
    try {
      text = await readlink(full);
    } catch {
      return undefined;
    }
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      // Dangling (or a loop): only a target below the link's directory says nothing more.
      return isPlainRelative(text) ? text : undefined;
    }
    if (!this.inside(rootReal, real)) return undefined;
    if (isPlainRelative(text)) return text;
    return `/${relative(rootReal, real).split(sep).join("/")}`;
  }

  private checkWritable(): void {
    if (!this.writable) throw new AnonUserDeniedError();
  }

  async makeDirectory(path: FTPPath): Promise<void> {
    this.checkWritable();
    const target = await this.resolveNew(path);
    try {
      await mkdir(target);
    } catch (e) {
      throw ftpError(e, path);
    }
  }

  async removeDirectory(path: FTPPath): Promise<void> {
    this.checkWritable();
    if (path.length === 0) throw new PermissionDeniedError("/");
    const target = await this.resolveNew(path);
    try {
      await rmdir(target);
    } catch (e) {
      throw ftpError(e, path);
    }
  }

  async removeFile(path: FTPPath): Promise<void> {
    this.checkWritable();
    // The entry itself (a link is removed, never its target).
    this.checkSegments(path);
    const rootReal = await this.realRoot();
    const parent = await this.resolveExisting(path.slice(0, -1));
    const target = join(parent, path[path.length - 1] ?? "");
    if (!this.inside(rootReal, target) || target === rootReal)
      throw new PermissionDeniedError(displayPath(path));
    try {
      const s = await lstat(target);
      if (s.isDirectory()) throw new IsADirectoryError(displayPath(path));
      await unlink(target);
    } catch (e) {
      throw ftpError(e, path);
    }
  }

  async rename(fromPath: FTPPath, toPath: FTPPath): Promise<void> {
    this.checkWritable();
    if (fromPath.length === 0) throw new PermissionDeniedError("/");
    this.checkSegments(fromPath);
    const fromParent = await this.resolveExisting(fromPath.slice(0, -1));
    const from = join(fromParent, fromPath[fromPath.length - 1]!);
    const to = await this.resolveNew(toPath);
    try {
      await lstat(from);
      await rename(from, to);
    } catch (e) {
      throw ftpError(e, fromPath);
    }
  }

  async access(path: FTPPath): Promise<void> {
    const real = await this.resolveExisting(path);
    let s: Stats;
    try {
      s = await stat(real);
    } catch (e) {
      throw ftpError(e, path);
    }
    if (!s.isDirectory()) throw new IsNotADirectoryError(displayPath(path));
  }

  async stat(path: FTPPath): Promise<FTPFileInfo> {
    const real = await this.resolveExisting(path);
    try {
      return infoOf(path[path.length - 1] ?? "", await stat(real));
    } catch (e) {
      throw ftpError(e, path);
    }
  }

  async list(path: FTPPath): Promise<FTPFileInfo[]> {
    const real = await this.resolveExisting(path);
    try {
      const s = await stat(real);
      if (!s.isDirectory()) return [infoOf(path[path.length - 1] ?? "", s)];
      const names = (await readdir(real)).sort();
      const out: FTPFileInfo[] = [];
      for (const name of names) {
        const full = join(real, name);
        try {
          const ls = await lstat(full);
          if (!ls.isSymbolicLink()) {
            out.push(infoOf(name, ls));
            continue;
          }
          const target = await this.linkTarget(full);
          const info = infoOf(name, ls, target);
          out.push(target === undefined ? { ...info, size: 0 } : info);
        } catch {
          // Removed meanwhile: leave it out.
        }
      }
      return out;
    } catch (e) {
      throw ftpError(e, path);
    }
  }

  async openForReading(path: FTPPath, offset = 0): Promise<IReadFile> {
    const real = await this.resolveExisting(path);
    let fh: FileHandle;
    try {
      fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      throw ftpError(e, path);
    }
    try {
      await this.checkOpened(fh, path);
      const s = await fh.stat();
      if (s.isDirectory()) throw new IsADirectoryError(displayPath(path));
      if (!s.isFile()) throw new PermissionDeniedError(displayPath(path));
      return new FileReader(fh, offset, Math.max(0, s.size - offset));
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw ftpError(e, path);
    }
  }

  async openForWriting(path: FTPPath, options: OpenForWritingOptions = {}): Promise<IWriteFile> {
    this.checkWritable();
    const target = await this.resolveNew(path);
    const offset = options.offset ?? 0;
    let flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;
    if (options.exclusive) flags |= constants.O_EXCL;
    if (options.append) flags |= constants.O_APPEND;
    // Truncation waits for checkOpened: O_TRUNC would act before it.
    let fh: FileHandle;
    try {
      fh = await open(target, flags, 0o644);
    } catch (e) {
      throw ftpError(e, path);
    }
    try {
      await this.checkOpened(fh, path);
      const s = await fh.stat();
      if (!s.isFile()) throw new PermissionDeniedError(displayPath(path));
      if (!options.append) await fh.truncate(offset);
      return new FileWriter(fh, options.append ? undefined : offset);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw ftpError(e, path);
    }
  }

  async setPermissions(path: FTPPath, mode: number): Promise<void> {
    this.checkWritable();
    const real = await this.resolveExisting(path);
    let fh: FileHandle | null = null;
    try {
      fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      // An unreadable file cannot be opened to change it by handle: by path, then.
      if ((e as { code?: string }).code !== "EACCES") throw ftpError(e, path);
    }
    try {
      if (fh === null) await chmod(real, mode & 0o777);
      else {
        await this.checkOpened(fh, path);
        await fh.chmod(mode & 0o777);
      }
    } catch (e) {
      throw ftpError(e, path);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}

/** A file of the file system opened for reading: streamed through a `FileSender`. */
class FileReader implements IReadFile {
  private closed = false;
  constructor(
    private readonly fh: FileHandle,
    private readonly offset: number,
    readonly size: number,
  ) {}

  send(consumer: IConsumer): Deferred<void> {
    const stream = this.fh.createReadStream({
      start: this.offset,
      highWaterMark: 256 * 1024,
      autoClose: false,
    });
    const sent = new FileSender().beginFileTransfer(stream, consumer);
    const done = async (): Promise<void> => {
      try {
        await sent;
      } finally {
        stream.destroy();
        await this.close();
      }
    };
    return Deferred.fromPromise(done());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/** A file of the file system opened for writing, with back-pressure on the upload. */
class FileWriter implements IWriteFile {
  private readonly stream: WriteStream;
  private producer: IProducer | null = null;
  private paused = false;
  private error: unknown = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly fh: FileHandle,
    start: number | undefined,
  ) {
    const options = { highWaterMark: 1 << 20, autoClose: false };
    this.stream = fh.createWriteStream(start === undefined ? options : { ...options, start });
    this.stream.on("drain", () => {
      if (this.paused && this.producer !== null) {
        this.paused = false;
        (this.producer as IPushProducer).resumeProducing();
      }
    });
    this.stream.on("error", (e) => {
      this.error ??= e;
      this.producer?.stopProducing();
    });
  }

  receive(): Promise<IConsumer> {
    const writer = this;
    return Promise.resolve({
      registerProducer(producer: IProducer, streaming: boolean): void {
        writer.producer = producer;
        if (!streaming) (producer as IPushProducer).resumeProducing();
      },
      unregisterProducer(): void {
        writer.producer = null;
      },
      write(data: Uint8Array | string): void {
        if (writer.closing !== null || writer.error !== null) return;
        if (!writer.stream.write(data) && writer.producer !== null && !writer.paused) {
          writer.paused = true;
          (writer.producer as IPushProducer).pauseProducing();
        }
      },
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.stream.end(() => {
        this.fh.close().then(
          () => (this.error === null ? resolve() : reject(this.error)),
          (e: unknown) => reject(this.error ?? e),
        );
      });
    });
    return this.closing;
  }
}
