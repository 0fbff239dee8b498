// Symbolic links through real clients: Python's ftplib and curl against `twist ftp` serving a root
// with links leading out (file, directory, chain) and links staying inside.

import assert from "node:assert/strict";
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, PYTHON, requirePeer, run, type Started } from "../_helpers/proc.js";
import { startTwistFTP, tempDir } from "./_loopback.js";

const CURL = "/usr/bin/curl";
let dir: { path: string; remove(): Promise<void> };
let root: string;
let twist: Started;
let port: number;

before(async () => {
  requirePeer(PYTHON, "python3");
  requirePeer(CURL, "curl");
  dir = await tempDir("ftp-links-interop-");
  root = join(dir.path, "root");
  await mkdir(join(root, "in"), { recursive: true });
  await mkdir(join(dir.path, "outdir"));
  await writeFile(join(dir.path, "secret.txt"), "outside");
  await writeFile(join(dir.path, "outdir", "secret.txt"), "outside too");
  await writeFile(join(root, "in", "ok.txt"), "inside");
  await symlink(join(dir.path, "outdir", "secret.txt"), join(root, "file-out"));
  await symlink(join(dir.path, "outdir"), join(root, "dir-out"));
  await symlink("dir-out", join(root, "chain-2"));
  await symlink("chain-2", join(root, "chain-1"));
  await symlink("in/ok.txt", join(root, "rel-in"));
  await symlink(join(root, "in"), join(root, "dir-in"));
  port = await freePort();
  twist = await startTwistFTP(port, root);
});

after(async () => {
  await twist?.stop("SIGTERM");
  await dir?.remove();
});

async function outsideUntouched(): Promise<void> {
  assert.equal(await readFile(join(dir.path, "secret.txt"), "utf8"), "outside");
  assert.equal(await readFile(join(dir.path, "outdir", "secret.txt"), "utf8"), "outside too");
  for (const absent of ["new.txt", "d", "stolen.txt"])
    await assert.rejects(stat(join(dir.path, "outdir", absent)), absent);
}

describe("interop: links through Python ftplib against twist ftp", () => {
  it("answers 550 to every command through a link out, and follows links inside", async () => {
    const r = await run(
      PYTHON,
      ["test/ftp/fixtures/ftplib_symlinks.py", "localhost", String(port), "alice", "secret"],
      { timeoutMs: 30000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    const followed = ["retr rel-in", "retr dir-in/ok.txt", "cwd dir-in", "retr ok.txt in dir-in"];
    const refusals = Object.entries(report).filter(
      ([k]) => !["list", "mlsd", "pwd", ...followed].includes(k),
    );
    // 13 commands for each of three links, STOR, APPE, RNTO, two traversals, CWD back out.
    assert.equal(refusals.length, 3 * 13 + 6, JSON.stringify(report));
    for (const [attempt, code] of refusals) assert.equal(code, "550", attempt);
    assert.equal(report["retr rel-in"], "inside");
    assert.equal(report["retr dir-in/ok.txt"], "inside");
    assert.equal(report["cwd dir-in"], "250");
    assert.equal(report.pwd, "/dir-in");
    assert.equal(report["retr ok.txt in dir-in"], "inside");
    const list = report.list as string[];
    for (const name of ["file-out", "dir-out", "chain-1", "chain-2"]) {
      const line = list.find((l) => l.endsWith(` ${name}`));
      assert.match(line ?? "", /^l.* 0 \S+ \d\d +\S+ \S+$/, `${name}: ${line}`);
    }
    assert.ok(
      list.some((l) => l.endsWith(" rel-in -> in/ok.txt")),
      list.join("\n"),
    );
    assert.ok(
      list.some((l) => l.endsWith(" dir-in -> /in")),
      list.join("\n"),
    );
    assert.ok(!list.join("\n").includes(dir.path), list.join("\n"));
    assert.deepEqual(
      (report.mlsd as string[][]).filter(([n]) => n?.includes("-out")),
      [
        ["dir-out", "OS.unix=link"],
        ["file-out", "OS.unix=link"],
      ],
    );
    await outsideUntouched();
    await stat(join(root, "in", "ok.txt"));
  });
});

describe("interop: links through curl against twist ftp", () => {
  const url = (path: string): string => `ftp://alice:secret@localhost:${port}/${path}`;
  const curl = (args: string[]) =>
    run(CURL, ["-sS", "--max-time", "20", ...args], { timeoutMs: 25000 });

  it("cannot download, upload or list through links out, but can through links inside", async () => {
    for (const path of ["file-out", "dir-out/secret.txt", "chain-1/secret.txt"]) {
      const r = await curl([url(path)]);
      assert.notEqual(r.code, 0, path);
      assert.ok(!r.stdout.includes("outside"), path);
    }
    let r = await curl(["-T", "-", url("dir-out/new.txt")]);
    assert.notEqual(r.code, 0);
    r = await curl([url("dir-out/")]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, "");
    r = await curl([url("rel-in")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "inside");
    r = await curl([url("dir-in/ok.txt")]);
    assert.equal(r.stdout, "inside");
    r = await curl([url("")]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(dir.path), r.stdout);
    await outsideUntouched();
  });
});
