// Tests of scrypt password hashes, password files and PasswordFileChecker.

import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  Anonymous,
  hashPassword,
  InvalidPasswordHash,
  PasswordFileChecker,
  Portal,
  parsePasswordFile,
  parsePasswordHash,
  SimpleRealm,
  UnauthorizedLogin,
  UnhandledCredentials,
  UsernamePassword,
  verifyPassword,
} from "../../src/cred/index.js";

const FAST = { N: 1024, r: 8, p: 1 };
const IUser = Symbol.for("test.IUser");

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "twisted-cred-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

describe("hashPassword and verifyPassword", () => {
  it("round-trip: the right password verifies, a wrong one does not", async () => {
    const entry = await hashPassword("correct horse", FAST);
    assert.match(entry, /^\$scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword("correct horse", entry), true);
    assert.equal(await verifyPassword("correct horsf", entry), false);
    assert.equal(await verifyPassword("", entry), false);
  });

  it("uses a fresh salt each time", async () => {
    const a = await hashPassword("same", FAST);
    const b = await hashPassword("same", FAST);
    assert.notEqual(a, b);
  });

  it("defaults to N=2^15, r=8, p=1", async () => {
    const entry = await hashPassword("x");
    const parsed = parsePasswordHash(entry);
    assert.deepEqual([parsed.N, parsed.r, parsed.p], [32768, 8, 1]);
    assert.equal(parsed.salt.length, 16);
    assert.equal(parsed.hash.length, 32);
  });

  it("accepts base64 padding and parameters in any order", async () => {
    const entry = await hashPassword("pw", FAST);
    const [, , , salt, hash] = entry.split("$");
    const reordered = `$scrypt$p=1,N=1024,r=8$${salt}==$${hash}=`;
    assert.equal(await verifyPassword("pw", reordered), true);
  });

  it("rejects malformed entries with InvalidPasswordHash naming the problem", async () => {
    const good = await hashPassword("pw", FAST);
    const [, , , salt, hash] = good.split("$");
    const cases: [string, RegExp][] = [
      ["plaintext", /expected \$scrypt\$/],
      [`$bcrypt$N=1024,r=8,p=1$${salt}$${hash}`, /Unknown password hash scheme: bcrypt/],
      [`$scrypt$N=1000,r=8,p=1$${salt}$${hash}`, /Invalid scrypt N: 1000/],
      [`$scrypt$N=1024,r=8$${salt}$${hash}`, /Missing scrypt parameter: p/],
      [`$scrypt$N=1024,r=8,p=1,p=1$${salt}$${hash}`, /Repeated scrypt parameter: p/],
      [`$scrypt$N=1024,r=99,p=1$${salt}$${hash}`, /Invalid scrypt r: 99/],
      [`$scrypt$N=1024,r=8,p=1,x=2$${salt}$${hash}`, /Invalid scrypt parameter: x=2/],
      [`$scrypt$N=1024,r=8,p=1$not*base64$${hash}`, /Invalid salt: not base64/],
      [`$scrypt$N=1024,r=8,p=1$${salt}$AAAA`, /Invalid hash length: 3 bytes/],
    ];
    for (const [entry, message] of cases) {
      assert.throws(
        () => parsePasswordHash(entry),
        (e: unknown) => {
          assert.ok(e instanceof InvalidPasswordHash, entry);
          assert.match(e.message, message);
          assert.equal(e.code, "ERR_INVALID_PASSWORD_HASH");
          return true;
        },
      );
      assert.ok((await rejection(verifyPassword("pw", entry))) instanceof InvalidPasswordHash);
    }
  });

  it("refuses out-of-range options when hashing", async () => {
    assert.ok((await rejection(hashPassword("x", { N: 3 }))) instanceof InvalidPasswordHash);
    assert.ok(
      (await rejection(hashPassword("x", { saltLength: 4 }))) instanceof InvalidPasswordHash,
    );
  });
});

describe("parsePasswordFile", () => {
  it("reads users, skipping comments, blank lines and CRLF line ends", async () => {
    const a = await hashPassword("a", FAST);
    const b = await hashPassword("b", FAST);
    const text = `# users\n\n  # indented comment\nalice:${a}\r\nbob:${b}   \n`;
    const { entries, problems } = parsePasswordFile(text);
    assert.deepEqual(problems, []);
    assert.deepEqual([...entries.keys()], ["alice", "bob"]);
    assert.equal(entries.get("alice")!.line, 4);
    assert.equal(entries.get("bob")!.line, 5);
  });

  it("reports bad lines with their line numbers and keeps the good ones", async () => {
    const a = await hashPassword("a", FAST);
    const text = [
      "# header",
      `alice:${a}`,
      "no colon here",
      `:${a}`,
      `bad user:${a}`,
      "carol:hunter2",
      `alice:${a}`,
      `dave:${a}`,
    ].join("\n");
    const { entries, problems } = parsePasswordFile(text, "users.txt");
    assert.deepEqual([...entries.keys()], ["alice", "dave"]);
    assert.deepEqual(
      problems.map((p) => [p.path, p.line]),
      [
        ["users.txt", 3],
        ["users.txt", 4],
        ["users.txt", 5],
        ["users.txt", 6],
        ["users.txt", 7],
      ],
    );
    assert.match(problems[0]!.message, /Missing ':'/);
    assert.match(problems[1]!.message, /Empty user name/);
    assert.match(problems[2]!.message, /white space/);
    assert.match(problems[3]!.message, /expected \$scrypt\$/);
    assert.match(problems[4]!.message, /User alice already defined on line 2/);
  });
});

describe("PasswordFileChecker", () => {
  async function userFile(name: string, users: Record<string, string>): Promise<string> {
    const lines = ["# test users"];
    for (const [user, pw] of Object.entries(users)) {
      lines.push(`${user}:${await hashPassword(pw, FAST)}`);
    }
    const path = join(dir, name);
    await writeFile(path, `${lines.join("\n")}\n`);
    return path;
  }

  function portalFor(checker: PasswordFileChecker): Portal {
    return new Portal(new SimpleRealm((id) => ({ id })), [checker]);
  }

  it("logs in with the right password and refuses a wrong one", async () => {
    const checker = new PasswordFileChecker(await userFile("right.txt", { alice: "secret" }));
    assert.equal(await checker.requestAvatarId(new UsernamePassword("alice", "secret")), "alice");
    const e = await rejection(checker.requestAvatarId(new UsernamePassword("alice", "nope")));
    assert.ok(e instanceof UnauthorizedLogin);
    assert.equal(e.message, "Invalid username or password");
  });

  it("refuses an unknown user with the same error, after running scrypt as for a known one", async () => {
    // Real parameters make a login take tens of milliseconds; an unknown user must take about
    // as long (a check that skipped scrypt would take well under a millisecond).
    const entry = await hashPassword("secret", { N: 2 ** 15 });
    const path = join(dir, "timing.txt");
    await writeFile(path, `alice:${entry}\n`);
    const checker = new PasswordFileChecker(path);
    await checker.load();
    const time = async (user: string) => {
      const start = process.hrtime.bigint();
      const e = await rejection(checker.requestAvatarId(new UsernamePassword(user, "wrong")));
      assert.ok(e instanceof UnauthorizedLogin);
      assert.equal(e.message, "Invalid username or password");
      return Number(process.hrtime.bigint() - start);
    };
    await time("alice");
    const known = Math.min(await time("alice"), await time("alice"));
    const unknown = Math.min(await time("nobody"), await time("nobody"));
    assert.ok(unknown > known * 0.3, `unknown ${unknown}ns vs known ${known}ns`);
  });

  it("goes through a Portal, and refuses credentials it cannot check", async () => {
    const checker = new PasswordFileChecker(await userFile("portal.txt", { bob: "pw" }));
    const [, avatar] = await portalFor(checker).login(
      new UsernamePassword("bob", "pw"),
      null,
      IUser,
    );
    assert.deepEqual(avatar, { id: "bob" });
    const e = await rejection(checker.requestAvatarId(new Anonymous()));
    assert.ok(e instanceof UnhandledCredentials);
  });

  it("re-reads the file when it changes", async () => {
    const path = await userFile("reload.txt", { alice: "one" });
    const checker = new PasswordFileChecker(path);
    assert.equal(await checker.requestAvatarId(new UsernamePassword("alice", "one")), "alice");
    await writeFile(
      path,
      `alice:${await hashPassword("two", FAST)}\ncarol:${await hashPassword("c", FAST)}\n`,
    );
    const later = new Date(Date.now() + 5000);
    await utimes(path, later, later);
    assert.equal(await checker.requestAvatarId(new UsernamePassword("alice", "two")), "alice");
    assert.equal(await checker.requestAvatarId(new UsernamePassword("carol", "c")), "carol");
    assert.ok(
      (await rejection(checker.requestAvatarId(new UsernamePassword("alice", "one")))) instanceof
        UnauthorizedLogin,
    );
    assert.deepEqual(checker.usernames(), ["alice", "carol"]);
  });

  it("reports bad lines with file and line number once per load, and still serves good lines", async () => {
    const path = join(dir, "bad.txt");
    await writeFile(path, `# c\nbroken\nzoe:${await hashPassword("z", FAST)}\n`);
    const warnings: string[] = [];
    const checker = new PasswordFileChecker(path, { onWarning: (m) => warnings.push(m) });
    assert.equal(await checker.requestAvatarId(new UsernamePassword("zoe", "z")), "zoe");
    assert.equal(await checker.requestAvatarId(new UsernamePassword("zoe", "z")), "zoe");
    assert.deepEqual(warnings, [
      `${path}:2: Missing ':' between the user name and the password hash`,
    ]);
    assert.equal(checker.problems.length, 1);
  });

  it("refuses every login while the file cannot be read, with the reason as the cause", async () => {
    const warnings: string[] = [];
    const checker = new PasswordFileChecker(join(dir, "missing.txt"), {
      onWarning: (m) => warnings.push(m),
    });
    const e = await rejection(checker.requestAvatarId(new UsernamePassword("a", "b")));
    assert.ok(e instanceof UnauthorizedLogin);
    assert.match(String((e.cause as Error).message), /Cannot read password file .*missing\.txt/);
    assert.equal(warnings.length, 1);
  });
});
