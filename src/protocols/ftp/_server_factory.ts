// FTPFactory (settings, connection limits) and FTPRealm (file-system shells per user).

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  ANONYMOUS,
  type AvatarId,
  type IRealm,
  LoginDenied,
  type LoginResult,
  type Portal,
} from "../../cred/index.js";
import { _globalReactor } from "../../internet/_global.js";
import { type Deferred, fail, maybeDeferred } from "../../internet/defer.js";
import type { Failure } from "../../internet/failure.js";
import type { IAddress, IProtocol, TLSContextOptions } from "../../internet/interfaces.js";
import { Factory, Protocol } from "../../internet/protocol.js";
import type { DataReactor } from "./_dtp.js";
import { FTPShell } from "./_fs_shell.js";
import { formatReply, REPLY } from "./_replies.js";
import { FTP, type FTPServerSettings } from "./_server.js";
import { IFTPShell } from "./_shell.js";

/** Options of {@link FTPFactory}. */
export interface FTPFactoryOptions {
  /** The reactor for data connections and timers (default: the global reactor). */
  reactor?: DataReactor;
  /** Offer anonymous logins (`USER anonymous`); the portal needs an `AllowAnonymousAccess` checker. */
  allowAnonymous?: boolean;
  /** Certificate and key (PEM) for explicit FTPS (`AUTH TLS`) and protected data connections. */
  tls?: { key: string | Buffer; cert: string | Buffer } & TLSContextOptions;
  /** Refuse logins until the control connection is protected. Default false. */
  requireTLS?: boolean;
  /** Passive ports, inclusive, e.g. `[30000, 30100]`. Default: any free port. */
  passivePorts?: readonly [number, number];
  /** The address announced in `PASV` replies (behind NAT). Default: the control connection's. */
  passiveHost?: string;
  /** Seconds to wait for a data connection. Default 30. */
  dataTimeout?: number;
  /** Idle timeout of control connections, in seconds (`null`: none). Default 600. */
  timeOut?: number | null;
  /** Most connections at once (`null`: no limit). Beyond, new ones get 421 and are closed. */
  maxConnections?: number | null;
  /** Most connections at once from one address (`null`: no limit). */
  maxConnectionsPerPeer?: number | null;
  /** The greeting. Default "Twisted.ts FTP server ready". */
  welcomeMessage?: string;
  /** The longest command line, in bytes. Default 4096. */
  maxLineLength?: number;
  /** Failed logins before the connection is closed. Default 3. */
  maxLoginAttempts?: number;
}

/** Says 421 and closes: for connections beyond the limits. */
class TooManyConnections extends Protocol {
  constructor(private readonly text: string) {
    super();
  }
  override connectionMade(): void {
    this.transport!.write(formatReply(REPLY.SVC_NOT_AVAIL_CLOSING_CTRL_CNX, this.text));
    this.transport!.loseConnection();
  }
}

function hostOf(addr: IAddress): string {
  return (addr as { host?: string }).host ?? String(addr);
}

/**
 * Makes `FTP` protocols that log users in through `portal` (asking for `IFTPShell` avatars),
 * with the server's settings: TLS, passive ports, timeouts and connection limits.
 *
 * @example
 * ```ts
 * const portal = new Portal(new FTPRealm({ root: "/srv/ftp" }), parseAuthString("memory:alice:secret"));
 * reactor.listenTCP(2121, new FTPFactory(portal, { passivePorts: [30000, 30100] }));
 * ```
 */
export class FTPFactory extends Factory<IProtocol> implements FTPServerSettings {
  readonly reactor: DataReactor;
  allowAnonymous: boolean;
  tlsOptions: TLSContextOptions | null;
  requireTLS: boolean;
  passivePorts: readonly [number, number] | null;
  passiveHost: string | null;
  dataTimeout: number;
  timeOut: number | null;
  maxConnections: number | null;
  maxConnectionsPerPeer: number | null;
  welcomeMessage: string;
  maxLineLength: number;
  maxLoginAttempts: number;
  /** Open connections, by client address. */
  readonly connections = new Map<string, number>();
  /** Open connections. */
  connectionCount = 0;

  constructor(
    readonly portal: Portal | FTPServerSettings["portal"],
    options: FTPFactoryOptions = {},
  ) {
    super();
    this.reactor = options.reactor ?? _globalReactor<DataReactor>();
    this.allowAnonymous = options.allowAnonymous ?? false;
    this.tlsOptions = options.tls ?? null;
    this.requireTLS = options.requireTLS ?? false;
    if (this.requireTLS && this.tlsOptions === null) {
      throw new TypeError("Cannot require TLS without a certificate: give the tls option");
    }
    const range = options.passivePorts ?? null;
    if (range !== null) {
      const [low, high] = range;
      if (
        !(
          Number.isInteger(low) &&
          Number.isInteger(high) &&
          low >= 1 &&
          low <= high &&
          high <= 65535
        )
      ) {
        throw new RangeError(`Invalid passive port range: ${low}-${high}`);
      }
    }
    this.passivePorts = range;
    this.passiveHost = options.passiveHost ?? null;
    this.dataTimeout = options.dataTimeout ?? 30;
    this.timeOut = options.timeOut === undefined ? 600 : options.timeOut;
    this.maxConnections = options.maxConnections ?? null;
    this.maxConnectionsPerPeer = options.maxConnectionsPerPeer ?? null;
    this.welcomeMessage = options.welcomeMessage ?? "Twisted.ts FTP server ready";
    this.maxLineLength = options.maxLineLength ?? 4096;
    this.maxLoginAttempts = options.maxLoginAttempts ?? 3;
  }

  override buildProtocol(addr: IAddress): IProtocol {
    const host = hostOf(addr);
    const fromPeer = this.connections.get(host) ?? 0;
    if (this.maxConnections !== null && this.connectionCount >= this.maxConnections) {
      return new TooManyConnections("Too many users, try again later");
    }
    if (this.maxConnectionsPerPeer !== null && fromPeer >= this.maxConnectionsPerPeer) {
      return new TooManyConnections("Too many connections from your address");
    }
    this.connectionCount++;
    this.connections.set(host, fromPeer + 1);
    const factory = this;
    const p = new (class extends FTP {
      override connectionLost(reason: Failure): void {
        factory.connectionCount--;
        const n = (factory.connections.get(host) ?? 1) - 1;
        if (n <= 0) factory.connections.delete(host);
        else factory.connections.set(host, n);
        super.connectionLost(reason);
      }
    })();
    p.settings = this;
    p.factory = this;
    return p;
  }
}

/** Options of {@link FTPRealm}. */
export interface FTPRealmOptions {
  /** The directory of anonymous users (read-only), or `null` to refuse them. Default: `root`. */
  anonymousRoot?: string | null;
  /** The directory every user gets, unless `userHome` is given. */
  root?: string;
  /**
   * A user's directory (per-user roots): a function of the name, or a directory under which
   * each user gets a folder named after them (created at first login).
   */
  userHome?: string | ((username: string) => string);
}

/**
 * A realm of `FTPShell`s (Twisted's `FTPRealm`): users get read-write shells rooted in their
 * directory, anonymous users a read-only shell of `anonymousRoot`.
 *
 * @example
 * ```ts
 * const realm = new FTPRealm({ userHome: "/srv/ftp/home", anonymousRoot: "/srv/ftp/pub" });
 * ```
 */
export class FTPRealm implements IRealm {
  constructor(private readonly options: FTPRealmOptions) {
    if (options.root === undefined && options.userHome === undefined) {
      throw new TypeError("FTPRealm needs root or userHome");
    }
  }

  /** The directory of `avatarId`, or `null` if it may not log in. */
  async getHomeDirectory(avatarId: AvatarId): Promise<string | null> {
    const o = this.options;
    if (avatarId === ANONYMOUS)
      return o.anonymousRoot === undefined ? (o.root ?? null) : o.anonymousRoot;
    if (typeof o.userHome === "function") return o.userHome(avatarId);
    if (typeof o.userHome === "string") {
      if (avatarId === "" || avatarId === "." || avatarId === ".." || /[/\\\0]/.test(avatarId))
        return null;
      const home = join(o.userHome, avatarId);
      await mkdir(home, { recursive: true });
      return home;
    }
    return o.root ?? null;
  }

  requestAvatar(
    avatarId: AvatarId,
    mind: unknown,
    ...interfaces: (symbol | string)[]
  ): Deferred<LoginResult> {
    if (!interfaces.includes(IFTPShell))
      return fail(new LoginDenied("FTPRealm only gives IFTPShell avatars"));
    return maybeDeferred(async (): Promise<LoginResult> => {
      const home = await this.getHomeDirectory(avatarId);
      if (home === null) throw new LoginDenied("No home directory for this user");
      const shell = new FTPShell(home, { readOnly: avatarId === ANONYMOUS });
      return [IFTPShell, shell, () => {}];
    });
  }
}
