// FTPShell and symbolic links: links leading out of the root are listed without their target and
// never followed (file, directory, chain, dangling), links inside keep working, and a directory
// swapped for a link while a file is being opened is caught after the open.

import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { IConsumer } from "../../src/internet/interfaces.js";
import {
  FileNotFoundError,
  type FTPFileInfo,
  FTPShell,
  formatListLine,
  formatMlsxLine,
  PermissionDeniedError,
} from "../../src/protocols/ftp/index.js";

let base: string;
let root: string;
let shell: FTPShell;

/** Reads a whole file through the shell. */
async function readAll(path: string[]): Promise<string> {
  const f = await shell.openForReading(path);
  const chunks: Buffer[] = [];
  const sink: IConsumer = {
    registerProducer() {},
    unregisterProducer() {},
    write(data) {
      chunks.push(Buffer.from(data));
    },
  };
  await f.send(sink);
  return Buffer.concat(chunks).toString("utf8");
}

function refused(result: PromiseLike<unknown>): Promise<void> {
  return assert.rejects(Promise.resolve(result), PermissionDeniedError);
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), "ftp-links-"));
  root = join(base, "root");
  await mkdir(join(root, "in", "sub"), { recursive: true });
  await mkdir(join(base, "outdir"));
  await writeFile(join(base, "secret.txt"), "outside");
  await writeFile(join(base, "outdir", "secret.txt"), "outside too");
  await writeFile(join(root, "in", "ok.txt"), "inside");
  // Leading out: a file, a directory, a chain (inside link -> inside link -> outside), dangling.
  await symlink(join(base, "secret.txt"), join(root, "file-out"));
  await symlink(join(base, "outdir"), join(root, "dir-out"));
  await symlink("../secret.txt", join(root, "rel-out"));
  await symlink("dir-out", join(root, "chain-2"));
  await symlink("chain-2", join(root, "chain-1"));
  await symlink(join(base, "nothing-yet"), join(root, "dangling-out"));
  // Staying inside: relative, absolute, a directory, a chain, a relative link with `..`.
  await symlink("in/ok.txt", join(root, "rel-in"));
  await symlink(join(root, "in", "ok.txt"), join(root, "abs-in"));
  await symlink("in", join(root, "dir-in"));
  await symlink("rel-in", join(root, "chain-in"));
  await symlink("../ok.txt", join(root, "in", "sub", "up-in"));
  shell = new FTPShell(root);
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("FTPShell: links leading out of the root", () => {
  const outside = ["file-out", "dir-out", "rel-out", "chain-1", "chain-2"];

  it("refuses to read through each of them, or through a directory link", async () => {
    for (const name of ["file-out", "rel-out"]) await refused(shell.openForReading([name]));
    await refused(shell.openForReading(["dir-out", "secret.txt"]));
    await refused(shell.openForReading(["chain-1", "secret.txt"]));
    await refused(shell.openForReading(["chain-2", "secret.txt"]));
  });

  it("refuses to list, enter, stat (MLST, SIZE, MDTM, RNFR) or chmod through them", async () => {
    const mode = (await stat(join(base, "secret.txt"))).mode;
    for (const name of outside) {
      await refused(shell.list([name]));
      await refused(shell.access([name]));
      await refused(shell.stat([name]));
      await refused(shell.setPermissions([name], 0o777));
    }
    await refused(shell.stat(["chain-1", "secret.txt"]));
    assert.equal((await stat(join(base, "secret.txt"))).mode, mode);
  });

  it("refuses to write, create, rename into or remove anything behind them", async () => {
    await refused(shell.openForWriting(["file-out"]));
    await refused(shell.openForWriting(["dir-out", "secret.txt"]));
    await refused(shell.openForWriting(["chain-1", "new.txt"]));
    await refused(shell.openForWriting(["dir-out", "new.txt"], { append: true }));
    await refused(shell.makeDirectory(["chain-1", "d"]));
    await refused(shell.removeFile(["dir-out", "secret.txt"]));
    await refused(shell.removeDirectory(["chain-1"]));
    await refused(shell.rename(["in", "ok.txt"], ["chain-1", "stolen.txt"]));
    await refused(shell.rename(["dir-out", "secret.txt"], ["taken.txt"]));
    await assert.rejects(
      Promise.resolve(shell.openForWriting(["dangling-out"])),
      FileNotFoundError,
    );
    assert.equal(await readFile(join(base, "secret.txt"), "utf8"), "outside");
    assert.equal(await readFile(join(base, "outdir", "secret.txt"), "utf8"), "outside too");
    for (const absent of ["nothing-yet", join("outdir", "new.txt"), join("outdir", "stolen.txt")])
      await assert.rejects(stat(join(base, absent)));
    await stat(join(root, "in", "ok.txt"));
  });

  it("lists them as links without target, size 0, in LIST and MLSD lines", async () => {
    const entries = new Map((await shell.list([])).map((e) => [e.name, e]));
    for (const name of [...outside, "dangling-out"]) {
      const e = entries.get(name) as FTPFileInfo;
      assert.equal(e.type, "link", name);
      assert.equal(e.target, undefined, name);
      assert.equal(e.size, 0, name);
      const line = formatListLine(e, 0);
      assert.match(line, /^l/);
      assert.ok(line.endsWith(` ${name}`), line);
      assert.ok(!formatMlsxLine(e, true).includes(base));
    }
  });

  it("never shows the host path of the root, even for links that stay inside", async () => {
    const all = [...(await shell.list([])), ...(await shell.list(["in", "sub"]))];
    for (const e of all) {
      assert.ok(!formatListLine(e, 0).includes(base), formatListLine(e, 0));
      assert.ok(!formatListLine(e, 0).includes("secret"), formatListLine(e, 0));
    }
  });
});

describe("FTPShell: links staying inside the root", () => {
  it("reads through relative, absolute, chained and `..` links", async () => {
    for (const path of [["rel-in"], ["abs-in"], ["chain-in"], ["dir-in", "ok.txt"]])
      assert.equal(await readAll(path), "inside", path.join("/"));
    assert.equal(await readAll(["in", "sub", "up-in"]), "inside");
  });

  it("enters and lists a directory link, and writes through it", async () => {
    await shell.access(["dir-in"]);
    assert.ok((await shell.list(["dir-in"])).some((e) => e.name === "ok.txt"));
    const w = await shell.openForWriting(["dir-in", "via-link.txt"]);
    (await w.receive()).write("through the link");
    await w.close();
    assert.equal(await readFile(join(root, "in", "via-link.txt"), "utf8"), "through the link");
  });

  it("lists relative targets as written and absolute ones as paths under the root", async () => {
    const entries = new Map((await shell.list([])).map((e) => [e.name, e]));
    assert.equal(entries.get("rel-in")?.target, "in/ok.txt");
    assert.equal(entries.get("chain-in")?.target, "rel-in");
    assert.equal(entries.get("dir-in")?.target, "in");
    assert.equal(entries.get("abs-in")?.target, "/in/ok.txt");
    assert.equal(entries.get("abs-in")?.size, (await readlink(join(root, "abs-in"))).length);
    const [up] = await shell.list(["in", "sub"]);
    assert.equal(up?.target, "/in/ok.txt");
    assert.match(formatListLine(entries.get("rel-in")!, 0), / rel-in -> in\/ok\.txt$/);
  });

  it("changes permissions of a file through a link inside", async () => {
    await shell.setPermissions(["rel-in"], 0o600);
    assert.equal((await stat(join(root, "in", "ok.txt"))).mode & 0o777, 0o600);
    await chmod(join(root, "in", "ok.txt"), 0o644);
  });
});

describe("FTPShell: a directory swapped for a link during an open", () => {
  it("never hands out the file behind the link (bounded race, 300 opens)", async () => {
    // `race/d` flips between a real directory and a link out, once per event-loop turn, while
    // the shell opens `race/d/f` for reading and for writing. Opens that see the real
    // directory succeed; none may read or write the file outside.
    await mkdir(join(root, "race", "real"), { recursive: true });
    await writeFile(join(root, "race", "real", "f"), "inside");
    await mkdir(join(base, "race-out"));
    await writeFile(join(base, "race-out", "f"), "outside");
    await symlink(join(base, "race-out"), join(root, "race", "link"));
    await rename(join(root, "race", "real"), join(root, "race", "d"));
    let realIsD = true;
    let flipping = true;
    const flip = async (): Promise<void> => {
      while (flipping) {
        const [away, back] = realIsD ? ["real", "link"] : ["link", "real"];
        renameSync(join(root, "race", "d"), join(root, "race", away));
        renameSync(join(root, "race", back), join(root, "race", "d"));
        realIsD = !realIsD;
        await new Promise((r) => setImmediate(r));
      }
    };
    const flipper = flip();
    const outcomes = { inside: 0, refused: 0, missing: 0, leaked: 0 };
    for (let i = 0; i < 300; i++) {
      try {
        const content =
          i % 3 === 2
            ? await shell.openForWriting(["race", "d", "f"]).then(async (w) => {
                (await w.receive()).write("inside");
                await w.close();
                return "inside";
              })
            : await readAll(["race", "d", "f"]);
        if (content === "inside") outcomes.inside++;
        else outcomes.leaked++;
      } catch (e) {
        if (e instanceof PermissionDeniedError) outcomes.refused++;
        else if (e instanceof FileNotFoundError) outcomes.missing++;
        else throw e;
      }
    }
    flipping = false;
    await flipper;
    assert.equal(outcomes.leaked, 0, JSON.stringify(outcomes));
    assert.equal(await readFile(join(base, "race-out", "f"), "utf8"), "outside");
    assert.ok(outcomes.inside > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
  });
});
