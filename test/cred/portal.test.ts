// Tests of Portal, SimpleRealm, credentials and the in-memory and anonymous checkers.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AllowAnonymousAccess,
  ANONYMOUS,
  Anonymous,
  type AvatarId,
  IAnonymous,
  type ICredentials,
  type ICredentialsChecker,
  InMemoryUsernamePasswordDatabase,
  InMemoryUsernamePasswordDatabaseDontUse,
  type InterfaceTag,
  IUsernameHashedPassword,
  IUsernamePassword,
  LoginDenied,
  LoginFailed,
  Portal,
  SimpleRealm,
  UnauthorizedLogin,
  UnhandledCredentials,
  UsernameHashedPassword,
  UsernamePassword,
} from "../../src/cred/index.js";
import { Deferred, succeed } from "../../src/internet/defer.js";
import { failureResultOf, successResultOf } from "../../src/testing/index.js";

const IShell = Symbol.for("test.IShell");
const IMail = Symbol.for("test.IMail");

class User {
  loggedOut = false;
  constructor(readonly id: AvatarId) {}
  logout(): void {
    this.loggedOut = true;
  }
}

function memoryPortal(): Portal {
  return new Portal(new SimpleRealm((id) => new User(id)), [
    new InMemoryUsernamePasswordDatabase({ alice: "secret", bob: "hunter2" }),
  ]);
}

describe("UsernamePassword", () => {
  it("provides IUsernamePassword and IUsernameHashedPassword", () => {
    const c = new UsernamePassword("alice", "secret");
    assert.deepEqual(c.credentialInterfaces, [IUsernamePassword, IUsernameHashedPassword]);
  });

  it("checks a password of any length, as a string or bytes", () => {
    const c = new UsernamePassword("alice", "secret");
    assert.equal(c.checkPassword("secret"), true);
    assert.equal(c.checkPassword(Buffer.from("secret")), true);
    assert.equal(c.checkPassword("secre"), false);
    assert.equal(c.checkPassword("secret but longer"), false);
    assert.equal(c.checkPassword(""), false);
  });

  it("UsernameHashedPassword provides only IUsernameHashedPassword and checks its password", () => {
    const c = new UsernameHashedPassword("alice", "secret");
    assert.deepEqual(c.credentialInterfaces, [IUsernameHashedPassword]);
    assert.equal(c.checkPassword("secret"), true);
    assert.equal(c.checkPassword("nope"), false);
  });
});

describe("InMemoryUsernamePasswordDatabase", () => {
  it("gives the username for the right password", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    const d = checker.requestAvatarId(new UsernamePassword("alice", "secret"));
    assert.equal(successResultOf(d), "alice");
  });

  it("fails with UnauthorizedLogin for a wrong password", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    const f = failureResultOf(
      checker.requestAvatarId(new UsernamePassword("alice", "wrong")),
      UnauthorizedLogin,
    );
    assert.equal(f.getErrorMessage(), "Invalid username or password");
  });

  it("fails an unknown user with the same error and message as a wrong password", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    const wrong = failureResultOf(checker.requestAvatarId(new UsernamePassword("alice", "x")));
    const unknown = failureResultOf(checker.requestAvatarId(new UsernamePassword("mallory", "x")));
    assert.equal(unknown.type, wrong.type);
    assert.equal(unknown.getErrorMessage(), wrong.getErrorMessage());
  });

  it("checks the password of an unknown user too, so both take the same path", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    const checked: unknown[] = [];
    const creds = {
      credentialInterfaces: [IUsernameHashedPassword],
      username: "mallory",
      checkPassword(pw: string | Uint8Array) {
        checked.push(pw);
        return true; // even a lying credentials object cannot log in as nobody
      },
    };
    failureResultOf(checker.requestAvatarId(creds), UnauthorizedLogin);
    assert.equal(checked.length, 1);
  });

  it("accepts IUsernameHashedPassword credentials whose checkPassword answers later", () => {
    const checker = new InMemoryUsernamePasswordDatabase([["alice", "secret"]]);
    const answer = new Deferred<boolean>();
    const creds = {
      credentialInterfaces: [IUsernameHashedPassword],
      username: "alice",
      checkPassword: (pw: string | Uint8Array) => answer.addCallback(() => pw === "secret"),
    };
    const d = checker.requestAvatarId(creds);
    answer.callback(true);
    assert.equal(successResultOf(d), "alice");
  });

  it("addUser adds a user and replaces a password; the DontUse name is the same class", () => {
    const checker = new InMemoryUsernamePasswordDatabase();
    checker.addUser("carol", "one");
    checker.addUser("carol", "two");
    assert.equal(
      successResultOf(checker.requestAvatarId(new UsernamePassword("carol", "two"))),
      "carol",
    );
    failureResultOf(
      checker.requestAvatarId(new UsernamePassword("carol", "one")),
      UnauthorizedLogin,
    );
    assert.ok(checker instanceof InMemoryUsernamePasswordDatabaseDontUse);
  });

  it("a user named like an Object property is just an unknown user", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    failureResultOf(
      checker.requestAvatarId(new UsernamePassword("__proto__", "")),
      UnauthorizedLogin,
    );
  });

  it("refuses credentials without a username and password", () => {
    const checker = new InMemoryUsernamePasswordDatabase({ alice: "secret" });
    failureResultOf(checker.requestAvatarId(new Anonymous()), UnhandledCredentials);
  });
});

describe("AllowAnonymousAccess", () => {
  it("gives ANONYMOUS for Anonymous credentials", () => {
    const checker = new AllowAnonymousAccess();
    assert.deepEqual(checker.credentialInterfaces, [IAnonymous]);
    assert.equal(successResultOf(checker.requestAvatarId(new Anonymous())), ANONYMOUS);
  });
});

describe("Portal", () => {
  it("logs in with the right password: interface, avatar, and a logout that reaches the avatar", () => {
    const [iface, avatar, logout] = successResultOf(
      memoryPortal().login(new UsernamePassword("alice", "secret"), null, IShell),
    );
    assert.equal(iface, IShell);
    assert.ok(avatar instanceof User);
    assert.equal(avatar.id, "alice");
    logout();
    assert.equal(avatar.loggedOut, true);
  });

  it("fails with UnauthorizedLogin for a wrong password and for an unknown user alike", () => {
    const portal = memoryPortal();
    const a = failureResultOf(portal.login(new UsernamePassword("alice", "x"), null, IShell));
    const b = failureResultOf(portal.login(new UsernamePassword("eve", "x"), null, IShell));
    assert.ok(a.check(UnauthorizedLogin));
    assert.equal(a.getErrorMessage(), b.getErrorMessage());
    assert.ok(b.check(LoginFailed));
  });

  it("fails with UnhandledCredentials (an UnauthorizedLogin) when no checker fits", () => {
    const f = failureResultOf(memoryPortal().login(new Anonymous(), null, IShell));
    assert.ok(f.check(UnhandledCredentials));
    assert.ok(f.check(UnauthorizedLogin));
    assert.match(f.getErrorMessage(), /IAnonymous/);
  });

  it("routes each kind of credentials to its checker when several are registered", () => {
    const portal = memoryPortal();
    portal.registerChecker(new AllowAnonymousAccess());
    assert.deepEqual(portal.listCredentialsInterfaces(), [
      IUsernamePassword,
      IUsernameHashedPassword,
      IAnonymous,
    ]);
    const [, anon] = successResultOf(portal.login(new Anonymous(), null, IShell));
    assert.equal((anon as User).id, ANONYMOUS);
    const [, bob] = successResultOf(
      portal.login(new UsernamePassword("bob", "hunter2"), null, IShell),
    );
    assert.equal((bob as User).id, "bob");
  });

  it("registers a checker for the interfaces given, replacing an earlier one", () => {
    const seen: string[] = [];
    const custom: ICredentialsChecker = {
      credentialInterfaces: [IUsernamePassword],
      requestAvatarId(c: ICredentials) {
        seen.push("custom");
        return succeed("custom-user");
      },
    };
    const portal = memoryPortal();
    portal.registerChecker(custom, IUsernamePassword);
    // UsernamePassword provides IUsernamePassword first: the custom checker answers.
    const [, avatar] = successResultOf(portal.login(new UsernamePassword("x", "y"), null, IShell));
    assert.equal((avatar as User).id, "custom-user");
    assert.deepEqual(seen, ["custom"]);
    // Hashed-only credentials still reach the in-memory checker.
    const [, alice] = successResultOf(
      portal.login(new UsernameHashedPassword("alice", "secret"), null, IShell),
    );
    assert.equal((alice as User).id, "alice");
  });

  it("accepts checkers and realms that answer with Promises", async () => {
    const portal = new Portal(
      {
        async requestAvatar(id: AvatarId, mind: unknown, ...ifaces: InterfaceTag[]) {
          return [ifaces[0]!, { id, mind }, () => {}];
        },
      },
      [
        {
          credentialInterfaces: [IUsernamePassword],
          requestAvatarId: async (c: ICredentials) => (c as UsernamePassword).username,
        },
      ],
    );
    const [iface, avatar] = await portal.login(new UsernamePassword("zed", "pw"), "mind!", IMail);
    assert.equal(iface, IMail);
    assert.deepEqual(avatar, { id: "zed", mind: "mind!" });
  });

  it("passes the mind and the interfaces to the realm in order", () => {
    const calls: unknown[][] = [];
    const portal = new Portal(
      {
        requestAvatar(id: AvatarId, mind: unknown, ...ifaces: InterfaceTag[]) {
          calls.push([id, mind, ifaces]);
          return [ifaces[1]!, "avatar", () => {}];
        },
      },
      [new AllowAnonymousAccess()],
    );
    const [iface] = successResultOf(portal.login(new Anonymous(), "m", IShell, IMail));
    assert.equal(iface, IMail);
    assert.deepEqual(calls, [[ANONYMOUS, "m", [IShell, IMail]]]);
  });

  it("rejects a login that asks for no interface", () => {
    failureResultOf(memoryPortal().login(new UsernamePassword("alice", "secret"), null), TypeError);
  });

  it("refuses to register a checker that names no interface", () => {
    assert.throws(
      () =>
        memoryPortal().registerChecker({ credentialInterfaces: [], requestAvatarId: () => "x" }),
      TypeError,
    );
  });
});

describe("SimpleRealm", () => {
  it("denies a login for interfaces it does not serve, with LoginDenied", () => {
    const realm = new SimpleRealm((id) => id, { interfaces: [IMail] });
    failureResultOf(realm.requestAvatar("alice", null, IShell), LoginDenied);
    const [iface] = successResultOf(realm.requestAvatar("alice", null, IShell, IMail));
    assert.equal(iface, IMail);
  });

  it("calls the logout option with the avatar and its id", () => {
    const out: unknown[] = [];
    const realm = new SimpleRealm((id) => ({ id }), { logout: (a, id) => out.push([a, id]) });
    const [, avatar, logout] = successResultOf(realm.requestAvatar("bob", null, IShell));
    logout();
    assert.deepEqual(out, [[avatar, "bob"]]);
  });

  it("waits for an avatar made asynchronously", async () => {
    const realm = new SimpleRealm(async (id) => `avatar of ${String(id)}`);
    const [, avatar] = await realm.requestAvatar("amy", null, IShell);
    assert.equal(avatar, "avatar of amy");
  });
});
