// What the SOCKS server needs of a cred Portal, and the credentials it presents to one.
//
// Protocols sit above cred in the package layering (DESIGN §1), so this module does not import
// it: a cred `Portal` fits `SOCKSPortal`, and the credentials below provide cred's interfaces
// through the same `Symbol.for` tags that cred exports.

import { createHash, timingSafeEqual } from "node:crypto";

/** cred's `IUsernamePassword` tag. */
const IUsernamePassword = Symbol.for("twisted-ts.cred.IUsernamePassword");
/** cred's `IUsernameHashedPassword` tag. */
const IUsernameHashedPassword = Symbol.for("twisted-ts.cred.IUsernameHashedPassword");
/** cred's `IAnonymous` tag. */
export const IAnonymousTag = Symbol.for("twisted-ts.cred.IAnonymous");

/** The avatar interface the SOCKS server asks the realm for. */
export const ISOCKSUser: unique symbol = Symbol.for("twisted-ts.protocols.socks.ISOCKSUser");

/** The part of a cred `Portal` the SOCKS server uses (a `Portal` fits). */
export interface SOCKSPortal {
  login(
    credentials: { readonly credentialInterfaces: readonly (symbol | string)[] },
    mind: unknown,
    ...interfaces: (symbol | string)[]
  ): PromiseLike<[iface: symbol | string, avatar: unknown, logout: () => void]>;
  listCredentialsInterfaces(): (symbol | string)[];
}

function digest(value: string | Uint8Array): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Username/password credentials, as cred's `UsernamePassword` (RFC 1929 sends both in clear). */
export class SOCKSUsernamePassword {
  readonly credentialInterfaces: readonly symbol[] = [IUsernamePassword, IUsernameHashedPassword];
  constructor(
    readonly username: string,
    readonly password: Uint8Array,
  ) {}

  /** Compares in constant time (through SHA-256 digests of equal length). */
  checkPassword(password: string | Uint8Array): boolean {
    return timingSafeEqual(digest(this.password), digest(password));
  }
}

/** Anonymous credentials, as cred's `Anonymous`. */
export const SOCKS_ANONYMOUS = Object.freeze({ credentialInterfaces: [IAnonymousTag] });
