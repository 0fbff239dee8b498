// InMemoryShell: a shell over a tree kept in memory, for tests and for embedding.

import type { IConsumer, IProducer, IPushProducer } from "../../internet/interfaces.js";
import {
  AnonUserDeniedError,
  DirectoryNotEmptyError,
  FileExistsError,
  FileNotFoundError,
  IsADirectoryError,
  IsNotADirectoryError,
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

/** A file of an in-memory tree. */
export class MemoryFile {
  /** When it was last changed, in seconds since the epoch. */
  modified: number;
  constructor(
    /** The contents. */
    public data: Buffer = Buffer.alloc(0),
    modified?: number,
    /** Permission bits. */
    public permissions = 0o644,
  ) {
    this.modified = modified ?? Math.floor(Date.now() / 1000);
  }
}

/** A directory of an in-memory tree: named children, files and directories. */
export class MemoryDirectory {
  /** The entries, by name. */
  readonly children = new Map<string, MemoryFile | MemoryDirectory>();
  /** When it was last changed, in seconds since the epoch. */
  modified = Math.floor(Date.now() / 1000);
  /** Permission bits. */
  permissions = 0o755;

  /**
   * Builds a tree from a plain object: strings and Buffers are files, objects are directories.
   *
   * @example
   * ```ts
   * const root = MemoryDirectory.fromObject({ "readme.txt": "hi", pub: { "a.bin": Buffer.alloc(10) } });
   * ```
   */
  static fromObject(tree: MemoryTree): MemoryDirectory {
    const dir = new MemoryDirectory();
    for (const [name, value] of Object.entries(tree)) {
      dir.children.set(
        name,
        typeof value === "string" || Buffer.isBuffer(value)
          ? new MemoryFile(Buffer.from(value))
          : MemoryDirectory.fromObject(value),
      );
    }
    return dir;
  }
}

/** A plain-object description of a tree, for `MemoryDirectory.fromObject`. */
export interface MemoryTree {
  [name: string]: string | Buffer | MemoryTree;
}

/** Options of {@link InMemoryShell}. */
export interface InMemoryShellOptions {
  /** The tree to serve (share one between shells to share files). Default: a new empty one. */
  root?: MemoryDirectory;
  /** Refuse every change. Default false. */
  readOnly?: boolean;
  /** The clock for modification times, in seconds (default: the system's). */
  now?: () => number;
}

const CHUNK = 64 * 1024;

/**
 * A shell over a tree in memory: the same behaviour as `FTPShell` without a file system, for
 * tests and for servers that generate their files.
 *
 * @example
 * ```ts
 * const root = MemoryDirectory.fromObject({ pub: { "hello.txt": "Hello\n" } });
 * const realm = new SimpleRealm(() => new InMemoryShell({ root }));
 * ```
 */
export class InMemoryShell implements IFTPShell {
  /** The tree served. */
  readonly root: MemoryDirectory;
  /** Whether changes are allowed. */
  readonly writable: boolean;
  private readonly now: () => number;

  constructor(options: InMemoryShellOptions = {}) {
    this.root = options.root ?? new MemoryDirectory();
    this.writable = !options.readOnly;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  private lookup(path: FTPPath): MemoryFile | MemoryDirectory {
    let node: MemoryFile | MemoryDirectory = this.root;
    for (let i = 0; i < path.length; i++) {
      if (!(node instanceof MemoryDirectory))
        throw new IsNotADirectoryError(displayPath(path.slice(0, i)));
      const next: MemoryFile | MemoryDirectory | undefined = node.children.get(path[i]!);
      if (next === undefined) throw new FileNotFoundError(displayPath(path));
      node = next;
    }
    return node;
  }

  private parentOf(path: FTPPath): [MemoryDirectory, string] {
    if (path.length === 0) throw new PermissionDeniedError("/");
    const parent = this.lookup(path.slice(0, -1));
    if (!(parent instanceof MemoryDirectory))
      throw new IsNotADirectoryError(displayPath(path.slice(0, -1)));
    return [parent, path[path.length - 1]!];
  }

  private checkWritable(): void {
    if (!this.writable) throw new AnonUserDeniedError();
  }

  private info(name: string, node: MemoryFile | MemoryDirectory): FTPFileInfo {
    const dir = node instanceof MemoryDirectory;
    return {
      name,
      type: dir ? "dir" : "file",
      size: dir ? 0 : node.data.length,
      modified: node.modified,
      permissions: node.permissions,
      hardlinks: dir ? 2 : 1,
      owner: "ftp",
      group: "ftp",
    };
  }

  private async run<T>(fn: () => T): Promise<T> {
    return fn();
  }

  makeDirectory(path: FTPPath): Promise<void> {
    return this.run(() => {
      this.checkWritable();
      const [parent, name] = this.parentOf(path);
      if (parent.children.has(name)) throw new FileExistsError(displayPath(path));
      parent.children.set(name, new MemoryDirectory());
      parent.modified = this.now();
    });
  }

  removeDirectory(path: FTPPath): Promise<void> {
    return this.run(() => {
      this.checkWritable();
      const [parent, name] = this.parentOf(path);
      const node = this.lookup(path);
      if (!(node instanceof MemoryDirectory)) throw new IsNotADirectoryError(displayPath(path));
      if (node.children.size > 0) throw new DirectoryNotEmptyError(displayPath(path));
      parent.children.delete(name);
      parent.modified = this.now();
    });
  }

  removeFile(path: FTPPath): Promise<void> {
    return this.run(() => {
      this.checkWritable();
      const [parent, name] = this.parentOf(path);
      const node = this.lookup(path);
      if (node instanceof MemoryDirectory) throw new IsADirectoryError(displayPath(path));
      parent.children.delete(name);
      parent.modified = this.now();
    });
  }

  rename(fromPath: FTPPath, toPath: FTPPath): Promise<void> {
    return this.run(() => {
      this.checkWritable();
      const [fromParent, fromName] = this.parentOf(fromPath);
      const node = this.lookup(fromPath);
      const [toParent, toName] = this.parentOf(toPath);
      if (node instanceof MemoryDirectory) {
        // A directory cannot move into itself.
        if (toPath.length > fromPath.length && fromPath.every((s, i) => toPath[i] === s)) {
          throw new PermissionDeniedError(displayPath(toPath));
        }
        const existing = toParent.children.get(toName);
        if (existing instanceof MemoryFile) throw new IsNotADirectoryError(displayPath(toPath));
        if (
          existing instanceof MemoryDirectory &&
          existing !== node &&
          existing.children.size > 0
        ) {
          throw new DirectoryNotEmptyError(displayPath(toPath));
        }
      } else if (toParent.children.get(toName) instanceof MemoryDirectory) {
        throw new IsADirectoryError(displayPath(toPath));
      }
      fromParent.children.delete(fromName);
      toParent.children.set(toName, node);
      fromParent.modified = toParent.modified = this.now();
    });
  }

  access(path: FTPPath): Promise<void> {
    return this.run(() => {
      if (!(this.lookup(path) instanceof MemoryDirectory))
        throw new IsNotADirectoryError(displayPath(path));
    });
  }

  stat(path: FTPPath): Promise<FTPFileInfo> {
    return this.run(() => this.info(path[path.length - 1] ?? "", this.lookup(path)));
  }

  list(path: FTPPath): Promise<FTPFileInfo[]> {
    return this.run(() => {
      const node = this.lookup(path);
      if (!(node instanceof MemoryDirectory)) return [this.info(path[path.length - 1] ?? "", node)];
      return [...node.children.keys()]
        .sort()
        .map((name) => this.info(name, node.children.get(name)!));
    });
  }

  openForReading(path: FTPPath, offset = 0): Promise<IReadFile> {
    return this.run(() => {
      const node = this.lookup(path);
      if (node instanceof MemoryDirectory) throw new IsADirectoryError(displayPath(path));
      return new MemoryReader(node.data.subarray(Math.min(offset, node.data.length)));
    });
  }

  openForWriting(path: FTPPath, options: OpenForWritingOptions = {}): Promise<IWriteFile> {
    return this.run(() => {
      this.checkWritable();
      const [parent, name] = this.parentOf(path);
      let node = parent.children.get(name);
      if (node instanceof MemoryDirectory) throw new IsADirectoryError(displayPath(path));
      if (node !== undefined && options.exclusive) throw new FileExistsError(displayPath(path));
      if (node === undefined) {
        node = new MemoryFile(Buffer.alloc(0), this.now());
        parent.children.set(name, node);
        parent.modified = this.now();
      }
      const keep = options.append
        ? node.data.length
        : Math.min(options.offset ?? 0, node.data.length);
      return new MemoryWriter(node, node.data.subarray(0, keep), this.now);
    });
  }

  setPermissions(path: FTPPath, mode: number): Promise<void> {
    return this.run(() => {
      this.checkWritable();
      this.lookup(path).permissions = mode & 0o777;
    });
  }
}

/** Sends a buffer in chunks as a streaming producer. */
class MemoryReader implements IReadFile, IPushProducer {
  readonly size: number;
  private consumer: IConsumer | null = null;
  private offset = 0;
  private paused = false;
  private producing = false;
  private finish: { resolve: () => void; reject: (e: unknown) => void } | null = null;

  constructor(private readonly data: Buffer) {
    this.size = data.length;
  }

  send(consumer: IConsumer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.consumer = consumer;
      this.finish = { resolve, reject };
      consumer.registerProducer(this, true);
      this.resumeProducing();
    });
  }

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
    if (this.producing) return;
    this.producing = true;
    try {
      while (!this.paused && this.consumer !== null && this.offset < this.data.length) {
        const chunk = this.data.subarray(this.offset, this.offset + CHUNK);
        this.offset += chunk.length;
        this.consumer.write(chunk);
      }
    } finally {
      this.producing = false;
    }
    if (this.consumer !== null && this.offset >= this.data.length) {
      const consumer = this.consumer;
      this.consumer = null;
      consumer.unregisterProducer();
      this.finish?.resolve();
      this.finish = null;
    }
  }

  stopProducing(): void {
    this.consumer = null;
    this.finish?.reject(new Error("Consumer asked us to stop producing"));
    this.finish = null;
  }

  async close(): Promise<void> {}
}

/** Collects an upload; the file's contents change when it is closed. */
class MemoryWriter implements IWriteFile {
  private readonly chunks: Buffer[];
  private closed = false;

  constructor(
    private readonly file: MemoryFile,
    kept: Buffer,
    private readonly now: () => number,
  ) {
    this.chunks = [kept];
  }

  async receive(): Promise<IConsumer> {
    const chunks = this.chunks;
    return {
      registerProducer(producer: IProducer, streaming: boolean): void {
        if (!streaming) (producer as IPushProducer).resumeProducing();
      },
      unregisterProducer(): void {},
      write: (data: Uint8Array | string): void => {
        if (!this.closed) chunks.push(Buffer.from(data));
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.file.data = Buffer.concat(this.chunks);
    this.file.modified = this.now();
  }
}
