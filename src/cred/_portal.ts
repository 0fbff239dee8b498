// Portal, realms and the checker contract of twisted-ts/cred (twisted.cred.portal).

import { type Deferred, fail, maybeDeferred } from "../internet/defer.js";
import type { ICredentials, InterfaceTag } from "./_credentials.js";
import { interfaceName, providedBy } from "./_credentials.js";
import { LoginDenied, UnhandledCredentials } from "./_errors.js";

/** The avatar id of an anonymous login (Twisted's `checkers.ANONYMOUS`). */
export const ANONYMOUS: unique symbol = Symbol.for("twisted-ts.cred.ANONYMOUS");

/** Who logged in, as a checker names them: a user name, or `ANONYMOUS`. */
export type AvatarId = string | typeof ANONYMOUS;

/** What a successful login gives: the interface chosen, the avatar and a logout function. */
export type LoginResult<A = unknown> = [iface: InterfaceTag, avatar: A, logout: () => void];

/**
 * Checks credentials and names whose they are (Twisted's `ICredentialsChecker`).
 *
 * @example
 * ```ts
 * const checker: ICredentialsChecker = {
 *   credentialInterfaces: [IUsernamePassword],
 *   requestAvatarId: (c) => succeed((c as UsernamePassword).username),
 * };
 * ```
 */
export interface ICredentialsChecker {
  /** The credentials interfaces this checker can check. */
  readonly credentialInterfaces: readonly InterfaceTag[];
  /**
   * Checks `credentials`: gives the avatar id, or fails with `UnauthorizedLogin` (the same
   * error for an unknown user and for a wrong password). A Deferred, a Promise or a value.
   */
  requestAvatarId(credentials: ICredentials): PromiseLike<AvatarId> | AvatarId;
}

/**
 * Makes avatars for authenticated users (Twisted's `IRealm`): given who logged in, the client's
 * `mind` and the interfaces the server can use, in order of preference, it gives the interface
 * it chose, the avatar and a logout function.
 */
export interface IRealm {
  requestAvatar(
    avatarId: AvatarId,
    mind: unknown,
    ...interfaces: InterfaceTag[]
  ): LoginResult | PromiseLike<LoginResult>;
}

/**
 * Connects protocols to a realm through checkers: `login(credentials, mind, ...interfaces)`
 * finds the checker for the credentials, asks it for the avatar id, then asks the realm for an
 * avatar. Every server battery authenticates through one.
 *
 * @example
 * ```ts
 * const portal = new Portal(new SimpleRealm((id) => ({ name: id })), [
 *   new InMemoryUsernamePasswordDatabase({ alice: "secret" }),
 * ]);
 * const [iface, avatar, logout] = await portal.login(
 *   new UsernamePassword("alice", "secret"), null, IMyUser);
 * ```
 */
export class Portal {
  /** The realm that makes avatars. */
  readonly realm: IRealm;
  private readonly checkers = new Map<InterfaceTag, ICredentialsChecker>();

  /** @param checkers registered for each of their `credentialInterfaces`, in order */
  constructor(realm: IRealm, checkers: Iterable<ICredentialsChecker> = []) {
    this.realm = realm;
    for (const checker of checkers) this.registerChecker(checker);
  }

  /**
   * Registers `checker` for `credentialInterfaces` (default: the checker's own
   * `credentialInterfaces`). A later registration for the same interface replaces the earlier.
   */
  registerChecker(checker: ICredentialsChecker, ...credentialInterfaces: InterfaceTag[]): void {
    const ifaces =
      credentialInterfaces.length > 0 ? credentialInterfaces : checker.credentialInterfaces;
    if (ifaces.length === 0) {
      throw new TypeError("Cannot register a checker that names no credentials interface");
    }
    for (const iface of ifaces) this.checkers.set(iface, checker);
  }

  /** The credentials interfaces that some registered checker handles, in registration order. */
  listCredentialsInterfaces(): InterfaceTag[] {
    return [...this.checkers.keys()];
  }

  /**
   * Logs in: the first registered interface that `credentials` provides picks the checker; its
   * avatar id goes to the realm with `mind` and `interfaces`. Fails with `UnhandledCredentials`
   * when no checker fits, and with the checker's or realm's error otherwise.
   *
   * Cancelling the Deferred cancels the checker's or realm's pending work only if their
   * Deferreds support it; an avatar made anyway is dropped without `logout` being called.
   */
  login(
    credentials: ICredentials,
    mind: unknown,
    ...interfaces: InterfaceTag[]
  ): Deferred<LoginResult> {
    if (interfaces.length === 0) {
      return fail(new TypeError("Portal.login needs at least one avatar interface"));
    }
    for (const [iface, checker] of this.checkers) {
      if (!providedBy(iface, credentials)) continue;
      return maybeDeferred(() => checker.requestAvatarId(credentials)).addCallback((avatarId) =>
        maybeDeferred(() => this.realm.requestAvatar(avatarId, mind, ...interfaces)),
      );
    }
    const offered = (credentials.credentialInterfaces ?? []).map(interfaceName).join(", ");
    return fail(
      new UnhandledCredentials(`No checker for credentials providing: ${offered || "nothing"}`),
    );
  }
}

/** Options of {@link SimpleRealm}. */
export interface SimpleRealmOptions {
  /**
   * The avatar interfaces the realm can serve. A login asking for none of them fails with
   * `LoginDenied`. Default: any (the first one asked for is chosen).
   */
  interfaces?: readonly InterfaceTag[];
  /** Called when the avatar logs out (default: the avatar's own `logout()` method, if any). */
  logout?: (avatar: unknown, avatarId: AvatarId) => void;
}

/**
 * A realm for servers that only need to turn an avatar id into an avatar:
 * `new SimpleRealm((avatarId, mind, iface) => avatar)`. The function may return a Promise.
 *
 * @example
 * ```ts
 * const realm = new SimpleRealm((id) => new FTPUser(String(id)), { interfaces: [IFTPShell] });
 * ```
 */
export class SimpleRealm<A = unknown> implements IRealm {
  constructor(
    private readonly makeAvatar: (
      avatarId: AvatarId,
      mind: unknown,
      iface: InterfaceTag,
    ) => A | PromiseLike<A>,
    private readonly options: SimpleRealmOptions = {},
  ) {}

  requestAvatar(
    avatarId: AvatarId,
    mind: unknown,
    ...interfaces: InterfaceTag[]
  ): Deferred<LoginResult<A>> {
    const served = this.options.interfaces;
    const iface = served === undefined ? interfaces[0] : interfaces.find((i) => served.includes(i));
    if (iface === undefined) {
      const asked = interfaces.map(interfaceName).join(", ");
      return fail(new LoginDenied(`Realm serves none of the interfaces asked for: ${asked}`));
    }
    return maybeDeferred(() => this.makeAvatar(avatarId, mind, iface)).addCallback(
      (avatar): LoginResult<A> => [iface, avatar, () => this.logout(avatar, avatarId)],
    );
  }

  private logout(avatar: A, avatarId: AvatarId): void {
    if (this.options.logout !== undefined) {
      this.options.logout(avatar, avatarId);
      return;
    }
    const own = (avatar as { logout?: unknown } | null)?.logout;
    if (typeof own === "function") own.call(avatar);
  }
}
