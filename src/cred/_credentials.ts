// Credentials and interface tags of twisted-ts/cred: UsernamePassword, UsernameHashedPassword, Anonymous.

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * An interface name. TypeScript has no runtime interfaces, so cred names them with tags:
 * preferably a `Symbol.for("package.IName")`, or a string.
 */
export type InterfaceTag = symbol | string;

/** Credentials that carry a username and the password itself: `.username`, `.password`. */
export const IUsernamePassword: unique symbol = Symbol.for("twisted-ts.cred.IUsernamePassword");

/**
 * Credentials that carry a username and can check a password the server knows:
 * `.username`, `.checkPassword(password)`. `IUsernamePassword` credentials provide it too;
 * challenge-response schemes (CRAM-MD5) provide only this.
 */
export const IUsernameHashedPassword: unique symbol = Symbol.for(
  "twisted-ts.cred.IUsernameHashedPassword",
);

/** Credentials of a user who did not authenticate. */
export const IAnonymous: unique symbol = Symbol.for("twisted-ts.cred.IAnonymous");

/** Something presented to a portal to log in: it lists the credentials interfaces it provides. */
export interface ICredentials {
  /** The credentials interfaces this object provides, most specific first. */
  readonly credentialInterfaces: readonly InterfaceTag[];
}

/** The shape of `IUsernameHashedPassword` credentials. */
export interface IUsernameHashedPasswordCredentials extends ICredentials {
  readonly username: string;
  /**
   * Checks `password` (the one the server has) against what the client sent. May answer later
   * (a Deferred or Promise of a boolean).
   */
  checkPassword(password: string | Uint8Array): boolean | PromiseLike<boolean>;
}

/** The shape of `IUsernamePassword` credentials. */
export interface IUsernamePasswordCredentials extends IUsernameHashedPasswordCredentials {
  /** The password as the client sent it. */
  readonly password: string | Uint8Array;
}

/** True when `credentials` says it provides `iface`. */
export function providedBy(iface: InterfaceTag, credentials: unknown): boolean {
  const list = (credentials as { credentialInterfaces?: unknown } | null)?.credentialInterfaces;
  return Array.isArray(list) && list.includes(iface);
}

/** A readable name for an interface tag (`IUsernamePassword`). */
export function interfaceName(iface: InterfaceTag): string {
  const text = typeof iface === "symbol" ? (iface.description ?? "Symbol()") : iface;
  const dot = text.lastIndexOf(".");
  return dot >= 0 ? text.slice(dot + 1) : text;
}

function digest(value: string | Uint8Array): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * Compares two passwords in constant time: both are hashed with SHA-256 first, so that the
 * comparison takes the same time whatever their lengths and contents.
 */
export function passwordsEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * A username and the password the client sent (Twisted's `UsernamePassword`). Provides
 * `IUsernamePassword` and `IUsernameHashedPassword`.
 *
 * @example
 * ```ts
 * const creds = new UsernamePassword("alice", "secret");
 * const [iface, avatar, logout] = await portal.login(creds, null, IShellUser);
 * ```
 */
export class UsernamePassword implements IUsernamePasswordCredentials {
  readonly credentialInterfaces: readonly InterfaceTag[] = [
    IUsernamePassword,
    IUsernameHashedPassword,
  ];

  constructor(
    readonly username: string,
    readonly password: string | Uint8Array,
  ) {}

  /** True when `password` equals the one sent, compared in constant time. */
  checkPassword(password: string | Uint8Array): boolean {
    return passwordsEqual(this.password, password);
  }
}

/**
 * A username and a password that can only be checked, not read (Twisted's
 * `UsernameHashedPassword`). Provides `IUsernameHashedPassword`.
 */
export class UsernameHashedPassword implements IUsernameHashedPasswordCredentials {
  readonly credentialInterfaces: readonly InterfaceTag[] = [IUsernameHashedPassword];

  constructor(
    readonly username: string,
    private readonly hashed: string | Uint8Array,
  ) {}

  /** True when `password` equals the one given, compared in constant time. */
  checkPassword(password: string | Uint8Array): boolean {
    return passwordsEqual(this.hashed, password);
  }
}

/** The credentials of an anonymous user (Twisted's `Anonymous`). Provides `IAnonymous`. */
export class Anonymous implements ICredentials {
  readonly credentialInterfaces: readonly InterfaceTag[] = [IAnonymous];
}
