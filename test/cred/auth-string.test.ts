// Tests of parseAuthString: the --auth strings shared by every server plugin.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AllowAnonymousAccess,
  ANONYMOUS,
  Anonymous,
  AuthStringError,
  hashPassword,
  InMemoryUsernamePasswordDatabase,
  PasswordFileChecker,
  parseAuthString,
  UnauthorizedLogin,
  UsernamePassword,
} from "../../src/cred/index.js";
import { failureResultOf, successResultOf } from "../../src/testing/index.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "twisted-auth-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function usageError(description: string, message: RegExp): void {
  assert.throws(
    () => parseAuthString(description),
    (e: unknown) => {
      assert.ok(e instanceof AuthStringError, `${description}: ${String(e)}`);
      assert.equal(e.code, "ERR_USAGE");
      assert.match(e.message, message);
      return true;
    },
  );
}

describe("parseAuthString", () => {
  it("memory:user:pw:user:pw makes an in-memory database of those users", () => {
    const [checker] = parseAuthString("memory:alice:secret:bob:hunter2");
    assert.ok(checker instanceof InMemoryUsernamePasswordDatabase);
    const ok = checker.requestAvatarId(new UsernamePassword("bob", "hunter2"));
    assert.equal(successResultOf(ok as never), "bob");
    failureResultOf(
      checker.requestAvatarId(new UsernamePassword("alice", "hunter2")) as never,
      UnauthorizedLogin,
    );
  });

  it("memory allows an empty password", () => {
    const [checker] = parseAuthString("memory:guest:");
    assert.equal(
      successResultOf(checker!.requestAvatarId(new UsernamePassword("guest", "")) as never),
      "guest",
    );
  });

  it("anonymous lets anyone in as ANONYMOUS", () => {
    const [checker] = parseAuthString("anonymous");
    assert.ok(checker instanceof AllowAnonymousAccess);
    assert.equal(successResultOf(checker.requestAvatarId(new Anonymous()) as never), ANONYMOUS);
  });

  it("file:PATH makes a password file checker for an existing file", async () => {
    const path = join(dir, "users");
    await writeFile(path, `amy:${await hashPassword("pw", { N: 1024 })}\n`);
    const [checker] = parseAuthString(`file:${path}`);
    assert.ok(checker instanceof PasswordFileChecker);
    assert.equal(checker.path, path);
    assert.equal(await checker.requestAvatarId(new UsernamePassword("amy", "pw")), "amy");
  });

  it("an odd number of memory fields is a usage error that names no field", () => {
    usageError("memory:alice:secret:bob", /odd number of fields.*3 fields given/);
    usageError("memory:alice", /odd number of fields/);
    assert.throws(
      () => parseAuthString("memory:alice:s3:cr3t"),
      (e: unknown) => !/s3|cr3t/.test((e as Error).message),
    );
  });

  it("malformed memory strings are usage errors", () => {
    usageError("memory", /expected user:password pairs/);
    usageError("memory:", /expected user:password pairs/);
    usageError("memory::pw", /empty user name in pair 1/);
    usageError("memory:a:1:a:2", /user a given twice/);
  });

  it("file without a path, or with a missing file or a directory, is a usage error", () => {
    usageError("file", /missing path/);
    usageError("file:", /missing path/);
    usageError(`file:${join(dir, "nope")}`, /no such file: .*nope/);
    usageError(`file:${dir}`, /not a regular file/);
  });

  it("an unknown kind, an empty string or anonymous with arguments are usage errors", () => {
    usageError("ldap:cn=admin", /Unknown --auth kind: ldap \(expected memory, file or anonymous\)/);
    usageError("", /Empty --auth string/);
    usageError(":x", /Unknown --auth kind: \(empty\)/);
    usageError("anonymous:yes", /anonymous: takes no arguments/);
  });
});
