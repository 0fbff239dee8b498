// Tests of setPasswordInFile, removeUserFromFile and `twist passwd` (passwdMain).

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import {
  type PasswdInput,
  PasswordFileChecker,
  parsePasswordFile,
  passwdMain,
  removeUserFromFile,
  setPasswordInFile,
  UsernamePassword,
} from "../../src/cred/index.js";

const FAST = { N: 1024 };
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "twisted-passwd-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sink() {
  let text = "";
  return {
    write(s: string) {
      text += s;
      return true;
    },
    get text() {
      return text;
    },
  };
}

async function login(path: string, user: string, pw: string): Promise<boolean> {
  try {
    await new PasswordFileChecker(path).requestAvatarId(new UsernamePassword(user, pw));
    return true;
  } catch {
    return false;
  }
}

describe("setPasswordInFile", () => {
  it("creates the file with a header, readable only by its owner", async () => {
    const path = join(dir, "new.txt");
    assert.equal(await setPasswordInFile(path, "alice", "pw", FAST), "added");
    const text = await readFile(path, "utf8");
    assert.match(text, /^# twisted-ts password file/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(parsePasswordFile(text).problems, []);
    assert.equal(await login(path, "alice", "pw"), true);
  });

  it("replaces a user's line in place, keeping comments and other users", async () => {
    const path = join(dir, "keep.txt");
    await setPasswordInFile(path, "alice", "one", FAST);
    await setPasswordInFile(path, "bob", "b", FAST);
    const before = await readFile(path, "utf8");
    await writeFile(path, `${before}# trailing comment\n`);
    assert.equal(await setPasswordInFile(path, "alice", "two", FAST), "updated");
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 5);
    assert.ok(lines[2]!.startsWith("alice:$scrypt$"));
    assert.ok(lines[3]!.startsWith("bob:$scrypt$"));
    assert.equal(lines[4], "# trailing comment");
    assert.equal(await login(path, "alice", "two"), true);
    assert.equal(await login(path, "alice", "one"), false);
    assert.equal(await login(path, "bob", "b"), true);
  });

  it("refuses a user name with a colon or white space", async () => {
    await assert.rejects(setPasswordInFile(join(dir, "x.txt"), "a:b", "pw", FAST), /':'/);
    await assert.rejects(setPasswordInFile(join(dir, "x.txt"), "a b", "pw", FAST), /white space/);
  });

  it("removeUserFromFile removes the user's line and says whether there was one", async () => {
    const path = join(dir, "remove.txt");
    await setPasswordInFile(path, "alice", "a", FAST);
    await setPasswordInFile(path, "bob", "b", FAST);
    assert.equal(await removeUserFromFile(path, "alice"), true);
    assert.equal(await removeUserFromFile(path, "alice"), false);
    assert.deepEqual([...parsePasswordFile(await readFile(path, "utf8")).entries.keys()], ["bob"]);
  });
});

describe("passwdMain (twist passwd FILE USER)", () => {
  it("takes the password from --password", async () => {
    const path = join(dir, "cli1.txt");
    const out = sink();
    const code = await passwdMain(["--password", "s3cret", path, "carol"], {
      stdout: out,
      hashOptions: FAST,
    });
    assert.equal(code, 0);
    assert.equal(out.text, `Added user carol to ${path}\n`);
    assert.equal(await login(path, "carol", "s3cret"), true);
  });

  it("reads the first line of standard input when it is not a terminal", async () => {
    const path = join(dir, "cli2.txt");
    const out = sink();
    const stdin = Readable.from([Buffer.from("from stdin\r\nignored\n")]) as unknown as PasswdInput;
    assert.equal(await passwdMain([path, "dan"], { stdin, stdout: out, hashOptions: FAST }), 0);
    assert.equal(await login(path, "dan", "from stdin"), true);
    const again = Readable.from([Buffer.from("second")]) as unknown as PasswdInput;
    assert.equal(
      await passwdMain([path, "dan"], { stdin: again, stdout: out, hashOptions: FAST }),
      0,
    );
    assert.match(out.text, /Changed password of dan/);
    assert.equal(await login(path, "dan", "second"), true);
  });

  it("on a terminal, reads the password twice without echo", async () => {
    const path = join(dir, "cli3.txt");
    const out = sink();
    const raw: boolean[] = [];
    const tty = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode(mode: boolean) {
        raw.push(mode);
      },
    });
    const done = passwdMain([path, "erin"], { stdin: tty, stdout: out, hashOptions: FAST });
    tty.write("typo\u007f\u007fped\r"); // "ty" + "ped"
    await new Promise((r) => setImmediate(r));
    tty.write("typed\n");
    assert.equal(await done, 0);
    assert.equal(out.text.includes("typed"), false, "the password is not echoed");
    assert.match(out.text, /^Password: \nRetype password: \nAdded user erin/);
    assert.deepEqual(raw, [true, false, true, false]);
    assert.equal(await login(path, "erin", "typed"), true);
  });

  it("fails when the two passwords typed differ", async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
    const err = sink();
    const done = passwdMain([join(dir, "cli4.txt"), "finn"], {
      stdin: tty,
      stdout: sink(),
      stderr: err,
      hashOptions: FAST,
    });
    tty.write("one\r");
    await new Promise((r) => setImmediate(r));
    tty.write("two\r");
    assert.equal(await done, 1);
    assert.match(err.text, /Passwords do not match/);
  });

  it("--delete removes a user", async () => {
    const path = join(dir, "cli5.txt");
    await setPasswordInFile(path, "gus", "pw", FAST);
    const out = sink();
    assert.equal(await passwdMain(["--delete", path, "gus"], { stdout: out }), 0);
    assert.equal(out.text, `Removed user gus from ${path}\n`);
    const err = sink();
    assert.equal(await passwdMain(["--delete", path, "gus"], { stderr: err }), 1);
    assert.match(err.text, /No user gus/);
  });

  it("answers a bad command line with exit code 64 and the usage", async () => {
    for (const argv of [
      [],
      ["only-file"],
      ["--bogus", "f", "u"],
      ["f", "u", "extra"],
      ["f", "a:b"],
    ]) {
      const err = sink();
      assert.equal(await passwdMain(argv, { stderr: err, stdout: sink() }), 64, argv.join(" "));
      assert.match(err.text, /Usage: twist passwd/);
    }
  });

  it("refuses an empty password and leaves the file alone", async () => {
    const path = join(dir, "cli6.txt");
    const err = sink();
    const stdin = Readable.from([Buffer.from("\n")]) as unknown as PasswdInput;
    assert.equal(await passwdMain([path, "hal"], { stdin, stderr: err, hashOptions: FAST }), 1);
    assert.match(err.text, /Empty password/);
    await assert.rejects(stat(path));
  });

  it("prints its help with --help", async () => {
    const out = sink();
    assert.equal(await passwdMain(["--help"], { stdout: out }), 0);
    assert.match(out.text, /Usage: twist passwd \[options\] FILE USER/);
  });
});
