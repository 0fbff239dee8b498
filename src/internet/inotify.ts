// INotify: file-system change notifications over fs.watch, with Twisted's names (twisted.internet.inotify).

import { type BigIntStats, type FSWatcher, watch as fsWatch, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Logger } from "../logger/index.js";
import { _globalReactor } from "./_global.js";
import { TwistedError } from "./error.js";
import { Failure } from "./failure.js";
import { _callSafely } from "./protocol.js";

const log = new Logger("twisted-ts.internet.inotify");

/** File was accessed (never reported by `fs.watch`). */
export const IN_ACCESS = 0x00000001;
/** File was modified. */
export const IN_MODIFY = 0x00000002;
/** Metadata changed (permissions, owner, times…). */
export const IN_ATTRIB = 0x00000004;
/** Writable file was closed (never reported by `fs.watch`). */
export const IN_CLOSE_WRITE = 0x00000008;
/** Unwritable file was closed (never reported by `fs.watch`). */
export const IN_CLOSE_NOWRITE = 0x00000010;
/** File was opened (never reported by `fs.watch`). */
export const IN_OPEN = 0x00000020;
/** File was moved out of the watched directory (reported as `IN_DELETE`, see `INotify`). */
export const IN_MOVED_FROM = 0x00000040;
/** File was moved into the watched directory (reported as `IN_CREATE`, see `INotify`). */
export const IN_MOVED_TO = 0x00000080;
/** File was created in the watched directory. */
export const IN_CREATE = 0x00000100;
/** File was deleted from the watched directory. */
export const IN_DELETE = 0x00000200;
/** The watched path itself was deleted. */
export const IN_DELETE_SELF = 0x00000400;
/** The watched path itself was moved. */
export const IN_MOVE_SELF = 0x00000800;
/** The file system holding the watched path was unmounted. */
export const IN_UNMOUNT = 0x00002000;
/** The event queue overflowed. */
export const IN_Q_OVERFLOW = 0x00004000;
/** The watch was removed. */
export const IN_IGNORED = 0x00008000;
/** Only watch the path if it is a directory. */
export const IN_ONLYDIR = 0x01000000;
/** Do not follow a symbolic link. */
export const IN_DONT_FOLLOW = 0x02000000;
/** Add to the mask of an existing watch. */
export const IN_MASK_ADD = 0x20000000;
/** The event is about a directory. */
export const IN_ISDIR = 0x40000000;
/** Remove the watch after one event. */
export const IN_ONESHOT = 0x80000000;

/** Closes: `IN_CLOSE_WRITE | IN_CLOSE_NOWRITE`. */
export const IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
/** Moves: `IN_MOVED_FROM | IN_MOVED_TO`. */
export const IN_MOVED = IN_MOVED_FROM | IN_MOVED_TO;
/** Changes of content or metadata: `IN_MODIFY | IN_ATTRIB`. */
export const IN_CHANGED = IN_MODIFY | IN_ATTRIB;
/** The events watched by default. */
export const IN_WATCH_MASK =
  IN_MODIFY |
  IN_ATTRIB |
  IN_CREATE |
  IN_DELETE |
  IN_DELETE_SELF |
  IN_MOVE_SELF |
  IN_UNMOUNT |
  IN_MOVED_FROM |
  IN_MOVED_TO;

const FLAG_TO_HUMAN: readonly (readonly [number, string])[] = [
  [IN_ACCESS, "access"],
  [IN_MODIFY, "modify"],
  [IN_ATTRIB, "attrib"],
  [IN_CLOSE_WRITE, "close_write"],
  [IN_CLOSE_NOWRITE, "close_nowrite"],
  [IN_OPEN, "open"],
  [IN_MOVED_FROM, "moved_from"],
  [IN_MOVED_TO, "moved_to"],
  [IN_CREATE, "create"],
  [IN_DELETE, "delete"],
  [IN_DELETE_SELF, "delete_self"],
  [IN_MOVE_SELF, "move_self"],
  [IN_UNMOUNT, "unmount"],
  [IN_Q_OVERFLOW, "queue_overflow"],
  [IN_IGNORED, "ignored"],
  [IN_ONLYDIR, "only_dir"],
  [IN_DONT_FOLLOW, "dont_follow"],
  [IN_MASK_ADD, "mask_add"],
  [IN_ISDIR, "is_dir"],
  [IN_ONESHOT, "one_shot"],
];

/**
 * The names of the flags set in `mask`, e.g. `["create", "is_dir"]`.
 *
 * @example
 * ```ts
 * humanReadableMask(IN_CREATE | IN_ISDIR); // ["create", "is_dir"]
 * ```
 */
export function humanReadableMask(mask: number): string[] {
  const names: string[] = [];
  for (const [flag, name] of FLAG_TO_HUMAN)
    if ((mask & flag) >>> 0 === flag >>> 0) names.push(name);
  return names;
}

/** A path could not be watched (it does not exist, or no permission). */
export class INotifyError extends TwistedError {
  override readonly code: string = "ERR_INOTIFY";
  constructor(message = "Cannot watch path", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A callback of a watch: `(watch, path, mask)` where `path` is the file the event is about. */
export type INotifyCallback = (watch: Watch, path: string, mask: number) => void;

/** Options of `INotify.watch`. */
export interface WatchOptions {
  /** The events to report (default `IN_WATCH_MASK`). */
  mask?: number;
  /** Also watch every subdirectory, present and future. */
  recursive?: boolean;
}

interface Known {
  mtimeNs: bigint;
  ctimeNs: bigint;
  size: bigint;
  isDir: boolean;
}

/** One watched path, as given to callbacks. */
export class Watch {
  /** The file system watcher (null once ignored). */
  _watcher: FSWatcher | null = null;
  /** Events waiting for their `stat`, handled one at a time and in order. */
  private queue: Promise<void> = Promise.resolve();
  /** What was last seen of each path: tells a metadata change from a content change. */
  private readonly known = new Map<string, Known>();

  constructor(
    /** The watch descriptor `INotify.watch` returned. */
    readonly wd: number,
    /** The absolute watched path. */
    readonly path: string,
    /** The events reported. */
    readonly mask: number,
    readonly callbacks: INotifyCallback[],
    readonly recursive: boolean,
    private readonly isDirectory: boolean,
    private readonly onSelfGone: (watch: Watch) => void,
  ) {}

  /** @internal an event from `fs.watch` */
  _event(type: string, filename: string | Buffer | null): void {
    const name = filename === null ? "" : String(filename);
    const target = this.isDirectory && name !== "" ? join(this.path, name) : this.path;
    this.queue = this.queue
      .then(() => this.classify(type, target))
      .catch((e: unknown) => {
        log.failure("Error while handling a change of {path}", new Failure(e), undefined, {
          path: target,
        });
      });
  }

  private async classify(type: string, target: string): Promise<void> {
    if (this._watcher === null) return;
    const st = await statOrNull(target);
    if (this._watcher === null) return;
    const isSelf = target === this.path;
    // The watched path itself is gone (for a directory, fs.watch names it like a child).
    if (st === null && (isSelf || (await statOrNull(this.path)) === null)) {
      this.notify(this.path, IN_DELETE_SELF | (this.isDirectory ? IN_ISDIR : 0));
      this.onSelfGone(this);
      return;
    }
    const before = this.known.get(target);
    let mask: number;
    if (st === null) {
      this.known.delete(target);
      // A "change" of a file already gone: its "rename" reports the deletion.
      if (type !== "rename") return;
      mask = IN_DELETE | (before?.isDir ? IN_ISDIR : 0);
    } else {
      mask = type === "rename" && !isSelf ? IN_CREATE : this.changeKind(before, st);
      if (st.isDirectory()) mask |= IN_ISDIR;
      this.remember(target, st);
    }
    this.notify(target, mask);
  }

  /** `IN_ATTRIB` when only the inode changed time moved, else `IN_MODIFY`. */
  private changeKind(before: Known | undefined, st: BigIntStats): number {
    if (
      before !== undefined &&
      before.mtimeNs === st.mtimeNs &&
      before.size === st.size &&
      before.ctimeNs !== st.ctimeNs
    ) {
      return IN_ATTRIB;
    }
    return IN_MODIFY;
  }

  private remember(path: string, st: BigIntStats): void {
    this.known.set(path, {
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
      size: st.size,
      isDir: st.isDirectory(),
    });
  }

  private notify(path: string, mask: number): void {
    if ((mask & this.mask & ~IN_ISDIR) === 0) return;
    for (const cb of this.callbacks) _callSafely("INotify callback", () => cb(this, path, mask));
  }

  toString(): string {
    return `<Watch ${this.wd} ${this.path} ${humanReadableMask(this.mask).join(",")}>`;
  }
}

function statOrNull(path: string): Promise<BigIntStats | null> {
  return stat(path, { bigint: true }).catch(() => null);
}

/** What `INotify` needs of a reactor: registration for closing at shutdown. */
export interface INotifyReactor {
  _track(resource: { _shutdown(): void }): void;
  _untrack(resource: { _shutdown(): void }): void;
}

/**
 * Watches files and directories for changes, as Twisted's `INotify` (Linux inotify) does, over
 * Node's `fs.watch`. Callbacks get `(watch, path, mask)`: `path` is the file the event is about
 * (a child of a watched directory, or the watched path itself) and `mask` one event flag, plus
 * `IN_ISDIR` for directories.
 *
 * `fs.watch` only says "rename" or "change", so events are worked out with a `stat`:
 * - "rename" of a path that exists → `IN_CREATE`; that no longer exists → `IN_DELETE`
 *   (`IN_DELETE_SELF` for the watched path itself, which also removes the watch). A move is
 *   thus reported as `IN_DELETE` of the old name and `IN_CREATE` of the new one, never as
 *   `IN_MOVED_FROM`/`IN_MOVED_TO`.
 * - "change" → `IN_ATTRIB` when only the inode's change time moved since the last event,
 *   else `IN_MODIFY`.
 * Access, open and close events are never reported.
 *
 * The reactor's `stop()` closes every watch.
 *
 * @example
 * ```ts
 * const notifier = new INotify();
 * notifier.watch("/var/spool/in", (watch, path, mask) => {
 *   if (mask & IN_CREATE) console.log("new file:", path, humanReadableMask(mask));
 * });
 * ```
 */
export class INotify {
  private readonly watches = new Map<number, Watch>();
  private nextWd = 1;
  private readonly reactor: INotifyReactor | null;
  /** True once `connectionLost` (or `stopReading`) has closed every watch. */
  disconnected = false;

  constructor(reactor?: INotifyReactor) {
    this.reactor = reactor ?? defaultReactor();
  }

  /**
   * Watches `path` (a file or a directory) and calls `callbacks` for its events. Returns the
   * watch descriptor; if `path` is already watched, returns its descriptor and changes
   * nothing. Raises `INotifyError` when the path cannot be watched.
   */
  watch(
    path: string,
    callbacks: INotifyCallback | readonly INotifyCallback[] = [],
    options: WatchOptions = {},
  ): number {
    if (this.disconnected) throw new INotifyError("Cannot watch path: INotify is closed");
    const abs = resolve(path);
    const existing = this._isWatched(abs);
    if (existing !== false) return existing;
    const cbs = typeof callbacks === "function" ? [callbacks] : [...callbacks];
    let watcher: FSWatcher;
    let isDirectory: boolean;
    try {
      watcher = fsWatch(abs, { recursive: options.recursive ?? false, persistent: true });
      isDirectory = statSync(abs).isDirectory();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new INotifyError(`Cannot watch ${abs}: ${msg}`, { cause: e });
    }
    const wd = this.nextWd++;
    const w = new Watch(
      wd,
      abs,
      options.mask ?? IN_WATCH_MASK,
      cbs,
      options.recursive ?? false,
      isDirectory,
      (gone) => this.remove(gone),
    );
    w._watcher = watcher;
    watcher.on("change", (type: string, filename: string | Buffer | null) =>
      w._event(type, filename),
    );
    watcher.on("error", (err: Error) => {
      log.failure("Watch of {path} failed", new Failure(err), undefined, { path: abs });
      this.remove(w);
    });
    if (this.watches.size === 0) this.reactor?._track(this);
    this.watches.set(wd, w);
    return wd;
  }

  /** Stops watching `path`; raises if it is not watched. Pending events are dropped. */
  ignore(path: string): void {
    const wd = this._isWatched(path);
    if (wd === false) throw new INotifyError(`Cannot ignore ${resolve(path)}: not watched`);
    const w = this.watches.get(wd);
    if (w !== undefined) this.remove(w);
  }

  /** The watch descriptor of `path`, or `false` when it is not watched. */
  _isWatched(path: string): number | false {
    const abs = resolve(path);
    for (const w of this.watches.values()) if (w.path === abs) return w.wd;
    return false;
  }

  private remove(w: Watch): void {
    if (!this.watches.delete(w.wd)) return;
    w._watcher?.close();
    w._watcher = null;
    if (this.watches.size === 0) this.reactor?._untrack(this);
  }

  /** Closes every watch; no more callbacks are called. */
  connectionLost(reason?: Failure): void {
    this.disconnected = true;
    for (const w of [...this.watches.values()]) this.remove(w);
  }

  /** Closes every watch (as `connectionLost`). */
  stopReading(): void {
    this.connectionLost();
  }

  /** Closes every watch (as `connectionLost`). */
  loseConnection(): void {
    this.connectionLost();
  }

  /** @internal the reactor stops: close every watch */
  _shutdown(): void {
    this.connectionLost();
  }
}

function defaultReactor(): INotifyReactor | null {
  try {
    const r = _globalReactor<Partial<INotifyReactor>>();
    return typeof r._track === "function" ? (r as INotifyReactor) : null;
  } catch {
    return null;
  }
}
