// Tests of INotify over fs.watch: create, modify, attrib, delete events in a temp directory.

import assert from "node:assert/strict";
import {
  appendFileSync,
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import {
  humanReadableMask,
  IN_ATTRIB,
  IN_CHANGED,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_ISDIR,
  IN_MODIFY,
  IN_MOVED,
  IN_WATCH_MASK,
  INotify,
  INotifyError,
  type Watch,
} from "../../src/internet/inotify.js";

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects events; `next(path, flag)` waits for one about `path` with `flag` set. */
class Events {
  readonly seen: { watch: Watch; path: string; mask: number }[] = [];
  private waiters: (() => void)[] = [];
  readonly callback = (watch: Watch, path: string, mask: number): void => {
    this.seen.push({ watch, path, mask });
    for (const w of this.waiters.splice(0)) w();
  };
  has(path: string, flag: number): boolean {
    return this.seen.some((e) => e.path === path && (e.mask & flag) !== 0);
  }
  async next(path: string, flag: number): Promise<void> {
    const arrived = async (): Promise<void> => {
      while (!this.has(path, flag)) await new Promise<void>((r) => this.waiters.push(r));
    };
    await within(`${humanReadableMask(flag).join("|")} on ${path}`, arrived()).catch((e: Error) => {
      throw new Error(`${e.message} (seen: ${this.describe()})`);
    });
  }
  describe(): string {
    return this.seen.map((e) => `${e.path}:${humanReadableMask(e.mask).join("|")}`).join(", ");
  }
}

let dir = "";
const notifiers: INotify[] = [];
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "twisted-ts-inotify-")));
});
afterEach(() => {
  for (const n of notifiers.splice(0)) n.connectionLost();
  rmSync(dir, { recursive: true, force: true });
});

function notifier(reactor?: NodeReactor): INotify {
  const n = new INotify(reactor ?? new NodeReactor());
  notifiers.push(n);
  return n;
}

describe("INotify", () => {
  test("creating, modifying and deleting a file in a watched directory report IN_CREATE, IN_MODIFY, IN_DELETE", async () => {
    const events = new Events();
    const n = notifier();
    const wd = n.watch(dir, [events.callback]);
    assert.equal(typeof wd, "number");
    const file = join(dir, "a.txt");
    writeFileSync(file, "one");
    await events.next(file, IN_CREATE);
    appendFileSync(file, "two");
    await events.next(file, IN_MODIFY);
    unlinkSync(file);
    await events.next(file, IN_DELETE);
    assert.equal(events.seen[0]?.watch.wd, wd);
    assert.equal(events.seen[0]?.watch.path, dir);
    for (const e of events.seen) assert.equal(e.mask & IN_ISDIR, 0);
  });

  test("a metadata-only change (chmod) is reported as IN_ATTRIB", async () => {
    const events = new Events();
    const n = notifier();
    n.watch(dir, events.callback);
    const file = join(dir, "b");
    closeSync(openSync(file, "w"));
    await events.next(file, IN_CREATE);
    // The inode change time must move on: kernel timestamps are coarse (a few ms).
    await sleep(30);
    chmodSync(file, 0o600);
    await events.next(file, IN_ATTRIB);
  });

  test("a new subdirectory is reported as IN_CREATE | IN_ISDIR", async () => {
    const events = new Events();
    const n = notifier();
    n.watch(dir, events.callback);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    await events.next(sub, IN_CREATE);
    assert.ok(events.seen.some((e) => e.path === sub && (e.mask & IN_ISDIR) !== 0));
    rmSync(sub, { recursive: true });
    await events.next(sub, IN_DELETE);
    assert.ok(events.seen.some((e) => e.path === sub && e.mask === (IN_DELETE | IN_ISDIR)));
  });

  test("only events in the watch's mask are reported", async () => {
    const events = new Events();
    const n = notifier();
    n.watch(dir, events.callback, { mask: IN_DELETE });
    const file = join(dir, "c");
    writeFileSync(file, "x");
    unlinkSync(file);
    await events.next(file, IN_DELETE);
    assert.deepEqual(
      events.seen.map((e) => e.mask),
      [IN_DELETE],
    );
  });

  test("ignore(path) stops the events of that path", async () => {
    const ignored = new Events();
    const other = new Events();
    const n = notifier();
    const a = join(dir, "a");
    const b = join(dir, "b");
    mkdirSync(a);
    mkdirSync(b);
    n.watch(a, ignored.callback);
    n.watch(b, other.callback);
    n.ignore(a);
    assert.equal(n._isWatched(a), false);
    writeFileSync(join(a, "f"), "x");
    writeFileSync(join(b, "f"), "x");
    // Both watches share the loop's inotify queue: once b's event is in, a's would be too.
    await other.next(join(b, "f"), IN_CREATE);
    await sleep(50);
    assert.deepEqual(ignored.seen, []);
    assert.throws(() => n.ignore(a), INotifyError);
  });

  test("watching a file reports its changes, and its deletion as IN_DELETE_SELF, which ends the watch", async () => {
    const events = new Events();
    const n = notifier();
    const file = join(dir, "watched");
    writeFileSync(file, "1");
    n.watch(file, events.callback);
    appendFileSync(file, "2");
    await events.next(file, IN_MODIFY);
    unlinkSync(file);
    await events.next(file, IN_DELETE_SELF);
    assert.equal(n._isWatched(file), false);
  });

  test("watching the same path twice returns the same descriptor", () => {
    const n = notifier();
    const wd = n.watch(dir);
    assert.equal(n.watch(dir), wd);
    assert.equal(n._isWatched(dir), wd);
  });

  test("watching a path that does not exist raises INotifyError", () => {
    const n = notifier();
    assert.throws(() => n.watch(join(dir, "missing")), INotifyError);
  });

  test("an exception in a callback is logged and later events still arrive", async () => {
    const events = new Events();
    const n = notifier();
    let calls = 0;
    n.watch(dir, [
      () => {
        calls++;
        throw new Error("Buggy callback");
      },
      events.callback,
    ]);
    writeFileSync(join(dir, "1"), "");
    await events.next(join(dir, "1"), IN_CREATE);
    writeFileSync(join(dir, "2"), "");
    await events.next(join(dir, "2"), IN_CREATE);
    assert.ok(calls >= 2);
  });

  test("a recursive watch reports changes in subdirectories", async () => {
    const events = new Events();
    const sub = join(dir, "sub");
    mkdirSync(sub);
    const n = notifier();
    n.watch(dir, events.callback, { recursive: true });
    // Node's recursive watch on Linux starts watching subdirectories asynchronously: create
    // files until one under `sub` is reported (bounded), rather than guess how long that takes.
    const deadline = Date.now() + 20_000;
    let file = "";
    for (let i = 0; !events.seen.some((e) => e.path.startsWith(`${sub}/`)); i++) {
      assert.ok(Date.now() < deadline, `No event under ${sub} (seen: ${events.describe()})`);
      file = join(sub, `deep-${i}.txt`);
      writeFileSync(file, "x");
      await sleep(50);
    }
    await events.next(file, IN_CREATE);
  });

  test("reactor.stop() closes every watch", async () => {
    const reactor = new NodeReactor();
    reactor.installSignalHandlers = false;
    const done = reactor.run();
    const n = notifier(reactor);
    n.watch(dir);
    assert.ok(reactor._resources.has(n as never));
    reactor.stop();
    await within("reactor stop", done);
    assert.equal(n.disconnected, true);
    assert.equal(n._isWatched(dir), false);
    assert.ok(!reactor._resources.has(n as never));
  });
});

describe("humanReadableMask", () => {
  test("names each flag set in a mask, in Twisted's order", () => {
    assert.deepEqual(humanReadableMask(IN_CREATE | IN_ISDIR), ["create", "is_dir"]);
    assert.deepEqual(humanReadableMask(IN_CHANGED), ["modify", "attrib"]);
    assert.deepEqual(humanReadableMask(IN_MOVED), ["moved_from", "moved_to"]);
    assert.deepEqual(humanReadableMask(0), []);
    assert.ok(humanReadableMask(IN_WATCH_MASK).includes("delete_self"));
    assert.deepEqual(humanReadableMask(0x80000000), ["one_shot"]);
  });
});
