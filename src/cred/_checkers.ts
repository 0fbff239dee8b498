// Simple credentials checkers: an in-memory user database, and anonymous access.

import { type Deferred, fail, maybeDeferred, succeed } from "../internet/defer.js";
import {
  IAnonymous,
  type ICredentials,
  type InterfaceTag,
  IUsernameHashedPassword,
  type IUsernameHashedPasswordCredentials,
  IUsernamePassword,
  providedBy,
} from "./_credentials.js";
import { UnauthorizedLogin, UnhandledCredentials } from "./_errors.js";
import { ANONYMOUS, type AvatarId, type ICredentialsChecker } from "./_portal.js";

/** A password nobody has: what unknown users are checked against, to spend the same time. */
const NOBODYS_PASSWORD = Buffer.from("\u0000twisted-ts: no such user\u0000");

/**
 * Users and clear-text passwords kept in memory (Twisted's name says it all: for tests and
 * examples; use {@link PasswordFileChecker} for real deployments). Checks `IUsernamePassword`
 * and `IUsernameHashedPassword` credentials; an unknown user and a wrong password fail with the
 * same `UnauthorizedLogin`, after the same work.
 *
 * @example
 * ```ts
 * const checker = new InMemoryUsernamePasswordDatabaseDontUse({ alice: "secret" });
 * checker.addUser("bob", "hunter2");
 * ```
 */
export class InMemoryUsernamePasswordDatabaseDontUse implements ICredentialsChecker {
  readonly credentialInterfaces: readonly InterfaceTag[] = [
    IUsernamePassword,
    IUsernameHashedPassword,
  ];
  /** The users and their passwords. */
  readonly users = new Map<string, string | Uint8Array>();

  /** @param users initial users: an object or `[username, password]` pairs */
  constructor(
    users: Record<string, string | Uint8Array> | Iterable<[string, string | Uint8Array]> = {},
  ) {
    const entries = Symbol.iterator in users ? users : Object.entries(users);
    for (const [username, password] of entries) this.addUser(username, password);
  }

  /** Adds a user, or replaces their password. */
  addUser(username: string, password: string | Uint8Array): void {
    this.users.set(username, password);
  }

  /** Gives `credentials.username` when the password matches; `UnauthorizedLogin` otherwise. */
  requestAvatarId(credentials: ICredentials): Deferred<AvatarId> {
    if (!providedBy(IUsernameHashedPassword, credentials)) {
      return fail(new UnhandledCredentials("Credentials carry no username and password"));
    }
    const creds = credentials as IUsernameHashedPasswordCredentials;
    const stored = this.users.get(creds.username);
    // Unknown users are checked too (against a password nobody has): same work, same error.
    const known = stored !== undefined;
    return maybeDeferred(() => creds.checkPassword(stored ?? NOBODYS_PASSWORD)).addCallback(
      (matched): AvatarId => {
        if (matched === true && known) return creds.username;
        throw new UnauthorizedLogin();
      },
    );
  }
}

/**
 * The recommended name of {@link InMemoryUsernamePasswordDatabaseDontUse}: an in-memory user
 * database, as made by `--auth memory:alice:secret`.
 */
export class InMemoryUsernamePasswordDatabase extends InMemoryUsernamePasswordDatabaseDontUse {}

/**
 * Lets anyone in as `ANONYMOUS` (Twisted's `AllowAnonymousAccess`): checks `IAnonymous`
 * credentials, as made by `--auth anonymous`.
 */
export class AllowAnonymousAccess implements ICredentialsChecker {
  readonly credentialInterfaces: readonly InterfaceTag[] = [IAnonymous];

  /** Always gives `ANONYMOUS`. */
  requestAvatarId(credentials: ICredentials): Deferred<AvatarId> {
    return succeed(ANONYMOUS);
  }
}
