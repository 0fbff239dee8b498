// The IRC server's state: users, channels, bans, and the rules for names and masks.

import { ircLower } from "./_casemap.js";

/** Where a user's lines go: a network connection, or a bot living inside the server. */
export interface IRCUserConnection {
  /** Sends one line, already formatted (`\r\n` included). */
  sendLine(line: Buffer): void;
  /** Sends `ERROR :Closing Link: …` with `reason` and closes; the user is already gone. */
  close(reason: string): void;
  /** Goes on reading commands held while a login was checked. */
  resume?(): void;
}

/** A user of the server, registered or still registering. */
export class IRCUser {
  /** The nick, or `null` before `NICK`. */
  nick: string | null = null;
  /** The user name (from `USER`, `~`-prefixed since there is no ident check). */
  username: string | null = null;
  /** The real name (from `USER`). */
  realname = "";
  /** User modes: `i` (invisible), `o` (operator), `w` (wallops). */
  readonly modes = new Set<string>();
  /** The away message, or `null` when here. */
  away: string | null = null;
  /** The account logged in to (SASL or `PASS`), or `null`. */
  account: string | null = null;
  /** True once the server's portal let the user in (or it needs no login, as a bot). */
  authenticated = false;
  /** True while a login is being checked (commands wait). */
  authPending = false;
  /** IRCv3 capabilities in effect. */
  readonly caps = new Set<string>();
  /** The CAP LS version the client asked for (302 gives values and cap-notify). */
  capVersion = 0;
  /** True while the client negotiates capabilities (registration waits for `CAP END`). */
  capNegotiating = false;
  /** The channels joined. */
  readonly channels = new Set<IRCChannel>();
  /** True once welcomed. */
  registered = false;
  /** The password from `PASS`, until registration uses it. */
  password: string | null = null;
  /** When the user connected, in seconds on the server's clock. */
  signon: number;
  /** When the user last sent a message (not PING/PONG), for WHOIS idle time. */
  lastActive: number;
  /** Ends the cred session (set by a login). */
  logout: (() => void) | null = null;
  /** True once the user has left the server. */
  gone = false;

  constructor(
    /** The user's host (the peer address; no DNS lookup). */
    readonly host: string,
    /** Where the user's lines go. */
    readonly connection: IRCUserConnection,
    now: number,
  ) {
    this.signon = now;
    this.lastActive = now;
  }

  /** `nick!user@host`. */
  get prefix(): string {
    return `${this.nick ?? "*"}!${this.username ?? "*"}@${this.host}`;
  }

  /** The nick, or `*` before one is set (the target of numerics). */
  get target(): string {
    return this.nick ?? "*";
  }

  /** True for an IRC operator. */
  get isOper(): boolean {
    return this.modes.has("o");
  }

  toString(): string {
    return `<IRCUser ${this.prefix}>`;
  }
}

/** A ban on a channel. */
export interface IRCBan {
  readonly mask: string;
  readonly setBy: string;
  readonly time: number;
}

/** A channel: members with their status, topic, modes, bans and invitations. */
export class IRCChannel {
  /** Members and their status modes (`o`, `v`). */
  readonly members = new Map<IRCUser, Set<string>>();
  topic: string | null = null;
  topicSetBy = "";
  topicTime = 0;
  /** Flag modes: `i`, `m`, `n`, `s`, `t`. */
  readonly modes = new Set<string>();
  key: string | null = null;
  limit: number | null = null;
  readonly bans: IRCBan[] = [];
  /** Folded nicks invited (they pass `+i`). */
  readonly invited = new Set<string>();
  /** Kept when empty (a channel the embedding program registered). */
  persistent = false;

  constructor(
    readonly name: string,
    /** When the channel was created, in seconds. */
    readonly created: number,
  ) {}

  /** True when `user` is a member with status `mode` (`o` or `v`). */
  has(user: IRCUser, mode: string): boolean {
    return this.members.get(user)?.has(mode) === true;
  }

  /** The status prefix of a member: the highest (`@`, `+`), or all of them with multi-prefix. */
  prefixOf(user: IRCUser, all: boolean): string {
    const status = this.members.get(user);
    if (status === undefined) return "";
    const op = status.has("o") ? "@" : "";
    const voice = status.has("v") ? "+" : "";
    return all ? op + voice : op || voice;
  }

  /** The modes as `MODE` parameters: `["+ntlk", "10", "key"]` (the key only if `showKey`). */
  modeParams(showKey: boolean): string[] {
    let flags = "+";
    const params: string[] = [];
    for (const m of [...this.modes].sort()) flags += m;
    if (this.limit !== null) {
      flags += "l";
      params.push(String(this.limit));
    }
    if (this.key !== null) {
      flags += "k";
      params.push(showKey ? this.key : "*");
    }
    return [flags, ...params];
  }

  /** True when the channel is `+s` (hidden from those outside it). */
  get secret(): boolean {
    return this.modes.has("s");
  }

  toString(): string {
    return `<IRCChannel ${this.name}>`;
  }
}

/** The characters that start a channel name on the server (what ISUPPORT `CHANTYPES` says). */
export const CHANNEL_TYPES = "#&";

const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/** True when `nick` is a valid nick of at most `maxLength` characters. */
export function validNick(nick: string, maxLength: number): boolean {
  return nick.length > 0 && nick.length <= maxLength && NICK.test(nick);
}

/** True when `name` is a valid channel name: a prefix from `types`, no space, comma or ^G. */
export function validChannel(name: string, types: string, maxLength: number): boolean {
  return (
    name.length > 1 &&
    name.length <= maxLength &&
    types.includes(name[0]!) &&
    !/[\s,\x07\0]/.test(name)
  );
}

/** A user name as the server keeps it: safe characters only, `~`-prefixed, at most 10. */
export function cleanUsername(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._\-[\]\\`^{|}]/g, "").slice(0, 9);
  return `~${clean || "user"}`;
}

/** Completes a partial ban mask: `nick` → `nick!*@*`, `user@host` → `*!user@host`. */
export function normalizeMask(mask: string): string {
  const bang = mask.indexOf("!");
  const at = mask.indexOf("@");
  if (bang < 0 && at < 0) return `${mask}!*@*`;
  if (bang < 0) return `*!${mask}`;
  if (at < 0) return `${mask}@*`;
  return mask;
}

/**
 * True when `text` matches the glob `mask` (`*`, `?`) under the case mapping. Masks come from
 * clients (bans, WHO), so matching is the greedy star-backtracking scan, O(mask × text) at
 * worst: a regular expression of many `.*` backtracks exponentially and would stall the server.
 */
export function matchMask(mask: string, text: string, mapping: string): boolean {
  const p = ircLower(mask, mapping);
  const t = ircLower(text, mapping);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < t.length) {
    const c = p[i];
    if (c === "*") {
      star = i++;
      resume = j;
    } else if (i < p.length && (c === "?" || c === t[j])) {
      i++;
      j++;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else {
      return false;
    }
  }
  while (p[i] === "*") i++;
  return i === p.length;
}

/** True when `user` matches one of the channel's bans. */
export function isBanned(channel: IRCChannel, user: IRCUser, mapping: string): boolean {
  if (channel.bans.length === 0) return false;
  const prefix = user.prefix;
  return channel.bans.some((b) => matchMask(b.mask, prefix, mapping));
}
