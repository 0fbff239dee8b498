// Tests of the shells: the same behaviour from FTPShell (file system) and InMemoryShell, and
// FTPShell's confinement to its root (.., absolute paths, symbolic links outside).

import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { IConsumer, IProducer, IPushProducer } from "../../src/internet/interfaces.js";
import {
  AnonUserDeniedError,
  DirectoryNotEmptyError,
  FileExistsError,
  FileNotFoundError,
  FTPShell,
  type IFTPShell,
  InMemoryShell,
  InvalidPath,
  IsADirectoryError,
  IsNotADirectoryError,
  PermissionDeniedError,
} from "../../src/protocols/ftp/index.js";

/** A consumer that collects bytes and can hold its producer paused. */
class Sink implements IConsumer {
  chunks: Buffer[] = [];
  producer: IProducer | null = null;
  registerProducer(producer: IProducer): void {
    this.producer = producer;
  }
  unregisterProducer(): void {
    this.producer = null;
  }
  write(data: Uint8Array | string): void {
    this.chunks.push(Buffer.from(data));
  }
  get value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function readAll(shell: IFTPShell, path: string[], offset?: number): Promise<string> {
  const f = await shell.openForReading(path, offset);
  const sink = new Sink();
  await f.send(sink);
  return sink.value.toString("utf8");
}

async function writeAll(
  shell: IFTPShell,
  path: string[],
  data: string,
  options = {},
): Promise<void> {
  const f = await shell.openForWriting(path, options);
  const consumer = await f.receive();
  consumer.write(Buffer.from(data));
  await f.close();
}

/** `assert.rejects` for the shells' PromiseLike results. */
function rejects(
  result: PromiseLike<unknown>,
  error: RegExp | (new (...args: never[]) => Error) = /./,
): Promise<void> {
  return assert.rejects(Promise.resolve(result), error as RegExp);
}

const tmp: string[] = [];
after(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

async function fsShell(options = {}): Promise<FTPShell> {
  const dir = await mkdtemp(join(tmpdir(), "ftp-shell-"));
  tmp.push(dir);
  return new FTPShell(dir, options);
}

const makers: [string, (o?: { readOnly?: boolean }) => Promise<IFTPShell>][] = [
  ["FTPShell", (o) => fsShell(o)],
  ["InMemoryShell", async (o) => new InMemoryShell(o)],
];

for (const [name, make] of makers) {
  describe(`${name}: common behaviour`, () => {
    it("makes, lists, stats and removes directories", async () => {
      const s = await make();
      await s.makeDirectory(["d"]);
      await s.makeDirectory(["d", "sous répertoire"]);
      await rejects(s.makeDirectory(["d"]), FileExistsError);
      await s.access(["d"]);
      assert.equal((await s.stat(["d"])).type, "dir");
      assert.deepEqual(
        (await s.list(["d"])).map((e) => [e.name, e.type]),
        [["sous répertoire", "dir"]],
      );
      await rejects(s.removeDirectory(["d"]), DirectoryNotEmptyError);
      await s.removeDirectory(["d", "sous répertoire"]);
      await s.removeDirectory(["d"]);
      await rejects(s.access(["d"]), FileNotFoundError);
    });

    it("writes, reads (from an offset), appends and resumes files with spaces and UTF-8 names", async () => {
      const s = await make();
      const f = ["fichier été 1.txt"];
      await writeAll(s, f, "0123456789");
      assert.equal(await readAll(s, f), "0123456789");
      assert.equal(await readAll(s, f, 7), "789");
      await writeAll(s, f, "ab", { append: true });
      assert.equal(await readAll(s, f), "0123456789ab");
      await writeAll(s, f, "XY", { offset: 3 });
      assert.equal(await readAll(s, f), "012XY");
      await writeAll(s, f, "new");
      assert.equal(await readAll(s, f), "new");
      const info = await s.stat(f);
      assert.equal(info.type, "file");
      assert.equal(info.size, 3);
      assert.equal(info.name, "fichier été 1.txt");
      assert.deepEqual(
        (await s.list(f)).map((e) => e.name),
        ["fichier été 1.txt"],
      );
    });

    it("refuses exclusive creation of an existing file", async () => {
      const s = await make();
      await writeAll(s, ["a"], "1");
      await rejects(s.openForWriting(["a"], { exclusive: true }), FileExistsError);
    });

    it("renames files and directories", async () => {
      const s = await make();
      await s.makeDirectory(["d"]);
      await writeAll(s, ["a"], "x");
      await s.rename(["a"], ["d", "b"]);
      assert.equal(await readAll(s, ["d", "b"]), "x");
      await s.rename(["d"], ["e"]);
      assert.equal(await readAll(s, ["e", "b"]), "x");
      await rejects(s.rename(["missing"], ["x"]), FileNotFoundError);
    });

    it("reports the FTP errors for wrong kinds and missing entries", async () => {
      const s = await make();
      await s.makeDirectory(["d"]);
      await writeAll(s, ["f"], "x");
      await rejects(s.openForReading(["d"]), IsADirectoryError);
      await rejects(s.access(["f"]), IsNotADirectoryError);
      await rejects(s.removeFile(["d"]), IsADirectoryError);
      await rejects(s.removeFile(["nope"]), FileNotFoundError);
      await rejects(s.openForReading(["nope"]), FileNotFoundError);
      await rejects(s.stat(["d", "nope", "x"]), FileNotFoundError);
    });

    it("refuses every change when read-only", async () => {
      const s = await make({ readOnly: true });
      assert.equal(s.writable, false);
      await rejects(s.makeDirectory(["d"]), AnonUserDeniedError);
      await rejects(s.openForWriting(["f"]), AnonUserDeniedError);
      await rejects(s.removeFile(["f"]), AnonUserDeniedError);
      await rejects(s.rename(["a"], ["b"]), AnonUserDeniedError);
    });

    it("stops sending when the consumer is paused, and resumes", async () => {
      const s = await make();
      await writeAll(s, ["big"], "x".repeat(1 << 20));
      const f = await s.openForReading(["big"]);
      const sink = new Sink();
      const origWrite = sink.write.bind(sink);
      let paused = false;
      let pausedNow!: () => void;
      const pausedOnce = new Promise<void>((r) => {
        pausedNow = r;
      });
      sink.write = (d) => {
        origWrite(d);
        if (!paused && sink.producer !== null) {
          paused = true;
          (sink.producer as IPushProducer).pauseProducing();
          pausedNow();
        }
      };
      const done = f.send(sink);
      // Wait for the pause itself (a loaded machine may read late), then for a while longer.
      await pausedOnce;
      const sent = sink.value.length;
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(sent < 1 << 20);
      assert.equal(sink.value.length, sent, "nothing more is read while paused");
      (sink.producer as IPushProducer | null)?.resumeProducing();
      await done;
      assert.equal(sink.value.length, 1 << 20);
    });
  });
}

describe("FTPShell: confinement to its root", () => {
  let base: string;
  let root: string;
  let shell: FTPShell;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), "ftp-jail-"));
    tmp.push(base);
    root = join(base, "root");
    await mkdir(join(root, "in"), { recursive: true });
    await writeFile(join(base, "secret.txt"), "outside");
    await writeFile(join(root, "in", "ok.txt"), "inside");
    await symlink(join(base, "secret.txt"), join(root, "link-out"));
    await symlink(base, join(root, "dir-out"));
    await symlink(join(root, "in", "ok.txt"), join(root, "link-in"));
    await symlink(join(base, "new.txt"), join(root, "dangling-out"));
    shell = new FTPShell(root);
  });

  it("follows a link that stays inside the root", async () => {
    assert.equal(await readAll(shell, ["link-in"]), "inside");
  });

  it("refuses to read, list, enter or stat through links pointing outside", async () => {
    await rejects(shell.openForReading(["link-out"]), PermissionDeniedError);
    await rejects(shell.openForReading(["dir-out", "secret.txt"]), PermissionDeniedError);
    await rejects(shell.list(["dir-out"]), PermissionDeniedError);
    await rejects(shell.access(["dir-out"]), PermissionDeniedError);
    await rejects(shell.stat(["link-out"]), PermissionDeniedError);
  });

  it("refuses to write through links pointing outside, even dangling ones", async () => {
    await rejects(shell.openForWriting(["dir-out", "x.txt"]), PermissionDeniedError);
    await rejects(shell.openForWriting(["link-out"]), PermissionDeniedError);
    await rejects(shell.openForWriting(["dangling-out"]), /No such file|Permission denied/);
    await rejects(shell.makeDirectory(["dir-out", "d"]), PermissionDeniedError);
    await rejects(shell.rename(["in", "ok.txt"], ["dir-out", "stolen.txt"]), PermissionDeniedError);
    assert.equal(await readFile(join(base, "secret.txt"), "utf8"), "outside");
    await rejects(readFile(join(base, "new.txt")));
    await rejects(readFile(join(base, "x.txt")));
  });

  it("removes a link itself, never its target", async () => {
    await shell.removeFile(["link-out"]);
    assert.equal(await readFile(join(base, "secret.txt"), "utf8"), "outside");
  });

  it("lists links as links, with their target as a path under the root", async () => {
    const entries = await shell.list([]);
    const link = entries.find((e) => e.name === "link-in");
    assert.equal(link?.type, "link");
    assert.equal(link?.target, "/in/ok.txt");
  });

  it("refuses unresolved segments given straight to the shell (.., a slash, empty)", async () => {
    await rejects(shell.openForWriting(["../escaped.txt"]), InvalidPath);
    await rejects(shell.openForWriting(["in", "../../escaped.txt"]), InvalidPath);
    await rejects(shell.removeDirectory(["in", "..", ".."]), InvalidPath);
    await rejects(shell.removeFile(["in", ".."]), InvalidPath);
    await rejects(shell.rename(["in", "..", ".."], ["moved"]), InvalidPath);
    await rejects(shell.makeDirectory([""]), InvalidPath);
    await rejects(shell.openForReading([".."]), InvalidPath);
    await rejects(readFile(join(base, "escaped.txt")));
  });

  it("refuses to remove or rename the root", async () => {
    await rejects(shell.removeDirectory([]), PermissionDeniedError);
    await rejects(shell.rename([], ["x"]), PermissionDeniedError);
  });
});
