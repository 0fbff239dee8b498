// Options and states of the SOCKS server.

import type { IAddress, IReactorTCP, IReactorTime } from "../internet/interfaces.js";
import type { SOCKSPortal } from "./_socks_auth.js";

/** The reactor methods a SOCKS server uses: `connectTCP`, and `callLater` for its timeout. */
export type SOCKSReactor = Pick<IReactorTCP, "connectTCP"> &
  Partial<Pick<IReactorTime, "callLater">>;

/** What `allowConnect` knows about who asks. */
export interface SOCKSConnectContext {
  readonly version: 4 | 5;
  /** The user who logged in with RFC 1929, or `null` (no authentication, or anonymous). */
  readonly username: string | null;
  /** The avatar the portal's realm gave, or `null` without a portal. */
  readonly avatar: unknown;
  /** The client's address. */
  readonly peer: IAddress;
}

/** Options of `SOCKSServer` and `SOCKSFactory`. */
export interface SOCKSServerOptions {
  /** Makes the outgoing connections (and times the handshake, if it has `callLater`). */
  reactor: SOCKSReactor;
  /**
   * Checks users: SOCKS5 clients must then log in with username/password (RFC 1929); clients
   * without credentials (SOCKS5 "no authentication", SOCKS4) are let in only if the portal has
   * a checker for anonymous credentials. Without a portal, anyone may connect.
   */
  portal?: SOCKSPortal;
  /** Seconds allowed for an outgoing connection (default 30). */
  connectTimeout?: number;
  /** Seconds allowed from connecting to a complete request (default 30; 0: no limit). */
  handshakeTimeout?: number;
  /**
   * Decides whether a destination may be reached (default: any). Answer `false` (or a Promise
   * of it) to refuse: the client gets "not allowed by ruleset" (SOCKS5) or "rejected" (SOCKS4).
   */
  allowConnect?: (
    host: string,
    port: number,
    context: SOCKSConnectContext,
  ) => boolean | PromiseLike<boolean>;
  /** The SOCKS versions served (default both). */
  versions?: readonly (4 | 5)[];
}

/** Where a SOCKS connection is in its life. */
export type SOCKSState =
  | "version"
  | "v4-request"
  | "v5-greeting"
  | "v5-auth"
  | "authenticating"
  | "v5-request"
  | "checking"
  | "connecting"
  | "relaying"
  | "closed";
