// IRCClient's command layer: registration and the commands a client sends (Twisted's names).

import { Deferred } from "../internet/defer.js";
import { ircLower } from "./_casemap.js";
import { IRCClientBase } from "./_client_base.js";
import { type CTCPMessage, ctcpStringify } from "./_ctcp.js";
import { truncateUtf8 } from "./_irc_message.js";

/** The longest line a server accepts, `\r\n` included. */
const MAX_COMMAND_LENGTH = 512;
/** Channel prefixes assumed before the server's `CHANTYPES` is known (Twisted's). */
const CHANNEL_PREFIXES = "&#!+";

/**
 * Splits text into lines of at most `maxBytes` UTF-8 bytes: at each `\n`, then at the last
 * space that fits, or inside a word when none does, never inside a UTF-8 character. Empty
 * lines are dropped.
 *
 * @example
 * ```ts
 * splitText("hello big world", 9); // ["hello big", "world"]
 * ```
 */
export function splitText(text: string, maxBytes: number): string[] {
  const out: string[] = [];
  for (let line of text.replace(/\r/g, "").split("\n")) {
    while (Buffer.byteLength(line) > maxBytes) {
      let cut = truncateUtf8(Buffer.from(line, "utf8"), maxBytes).toString("utf8");
      // A character longer than the limit still goes out whole rather than looping for ever.
      if (cut === "") cut = String.fromCodePoint(line.codePointAt(0)!);
      const sp = line[cut.length] === " " ? cut.length : cut.lastIndexOf(" ");
      if (sp > 0) {
        out.push(cut.slice(0, sp));
        line = line.slice(sp + 1);
      } else {
        out.push(cut);
        line = line.slice(cut.length);
      }
    }
    if (line.trim() !== "") out.push(line);
  }
  return out;
}

/** What `whois()` gives: the user's entry, gathered from the WHOIS replies. */
export interface WhoisInfo {
  nick: string;
  user: string | null;
  host: string | null;
  realname: string | null;
  server: string | null;
  channels: string[];
  operator: boolean;
  account: string | null;
  away: string | null;
  idleSeconds: number | null;
  signon: number | null;
}

/** The commands of `IRCClient` (the layer under its handlers). Subclass `IRCClient`. */
export class IRCClientCommands extends IRCClientBase {
  /** The real name sent at registration (default: the nick). */
  realname: string | null = null;
  /** The user name sent at registration (default: the nick). */
  username: string | null = null;
  /** The server password (`PASS`), or `null`. */
  password: string | null = null;
  /** Register as soon as connected (Twisted's `performLogin`). */
  performLogin = true;
  /** The nick to fall back on when the server refuses ours as erroneous at registration. */
  erroneousNickFallback = "defaultnick";
  /** True once the server has welcomed us. */
  _registered = false;
  /** @internal WHOIS replies being gathered, by folded nick. */
  readonly _whois = new Map<string, { info: WhoisInfo; waiters: Deferred<WhoisInfo | null>[] }>();
  /** @internal CTCP PINGs sent by `ping()`: "nick key" → time sent. */
  readonly _pings = new Map<string, number>();

  /** Adds `#` to a name that does not start with a channel prefix. */
  protected channelName(channel: string): string {
    const types = this.supported.hasFeature("CHANTYPES")
      ? this.supported.channelTypes
      : CHANNEL_PREFIXES;
    return types.includes(channel[0] ?? "") ? channel : `#${channel}`;
  }

  /** Folds a nick by the server's case mapping. */
  protected fold(name: string): string {
    return ircLower(name, this.supported.caseMapping);
  }

  /** Registers: `PASS` (if `password`), `NICK`, `USER`. Called on connection by default. */
  register(nickname: string): void {
    if (this.password !== null) this.sendCommand("PASS", [this.password]);
    this.setNick(nickname);
    const username = this.username ?? nickname;
    this.sendCommand("USER", [username, "0", "*", this.realname ?? nickname]);
  }

  /** Asks for a new nick; the server's answer updates `nickname` (see `nickChanged`). */
  setNick(nickname: string): void {
    this._attemptedNick = nickname;
    this.sendCommand("NICK", [nickname]);
  }

  /** Joins `channel` (`#` is added when it has no channel prefix), with its key if any. */
  join(channel: string, key?: string): void {
    const params = [this.channelName(channel)];
    if (key !== undefined && key !== "") params.push(key);
    this.sendCommand("JOIN", params);
  }

  /** Leaves `channel`, with an optional reason. */
  leave(channel: string, reason?: string): void {
    const params = [this.channelName(channel)];
    if (reason !== undefined) params.push(reason);
    this.sendCommand("PART", params);
  }

  /** Same as `leave`. */
  part(channel: string, reason?: string): void {
    this.leave(channel, reason);
  }

  /** Kicks `user` from `channel`, with an optional reason. */
  kick(channel: string, user: string, reason?: string): void {
    const params = [this.channelName(channel), user];
    if (reason !== undefined) params.push(reason);
    this.sendCommand("KICK", params);
  }

  /** Invites `user` to `channel`. */
  invite(user: string, channel: string): void {
    this.sendCommand("INVITE", [user, this.channelName(channel)]);
  }

  /** Asks for the topic of `channel` or, given `topic`, sets it (`""` clears it). */
  topic(channel: string, topic?: string): void {
    const params = [this.channelName(channel)];
    if (topic !== undefined) params.push(topic);
    this.sendCommand("TOPIC", params);
  }

  /**
   * Changes modes (Twisted's `mode`): `set` adds or removes `modes` on `chan` (a channel or our
   * nick), with one parameter: a `limit`, a `user` or a `mask`.
   *
   * @example
   * ```ts
   * client.mode("#chan", true, "o", undefined, "alice");  // MODE #chan +o alice
   * ```
   */
  mode(
    chan: string,
    set: boolean,
    modes: string,
    limit?: number,
    user?: string,
    mask?: string,
  ): void {
    const params = [chan, `${set ? "+" : "-"}${modes}`];
    if (limit !== undefined) params.push(String(limit));
    else if (user !== undefined) params.push(user);
    else if (mask !== undefined) params.push(mask);
    this.sendCommand("MODE", params);
  }

  /** Sends `message` to `channel` (`#` is added when it has no channel prefix). */
  say(channel: string, message: string, length?: number): void {
    this.msg(this.channelName(channel), message, length);
  }

  /** The longest line to send with `command`, leaving room for the prefix the server adds. */
  protected safeMaximumLineLength(command: string): number {
    const nickLength = this.supported.nickLength ?? 9;
    const theoretical = `:${"a".repeat(nickLength)}!${"b".repeat(10)}@${"c".repeat(63)} ${command}`;
    return MAX_COMMAND_LENGTH - Buffer.byteLength(theoretical) - 10;
  }

  private sendText(command: "PRIVMSG" | "NOTICE", target: string, text: string, length?: number) {
    const fmt = `${command} ${target} :`;
    const total = length ?? this.safeMaximumLineLength(fmt);
    const minimum = Buffer.byteLength(fmt) + 2;
    if (total <= minimum) {
      throw new RangeError(
        `Maximum length must exceed ${minimum} bytes for ${command} to ${target}`,
      );
    }
    for (const line of splitText(text, total - minimum)) this.sendCommand(command, [target, line]);
  }

  /**
   * Sends `message` to a user or channel. It is split at each newline and wherever a line
   * would exceed `length` bytes (default: what fits once the server adds our prefix), never
   * inside a UTF-8 character.
   */
  msg(user: string, message: string, length?: number): void {
    this.sendText("PRIVMSG", user, message, length);
  }

  /** Sends a notice (split like `msg`). */
  notice(user: string, message: string, length?: number): void {
    this.sendText("NOTICE", user, message, length);
  }

  /** Sends an action (CTCP ACTION, `/me`) to a user or channel. */
  describe(channel: string, action: string): void {
    this.ctcpMakeQuery(channel, [["ACTION", action]]);
  }

  /** Marks us away with `message`. */
  away(message = ""): void {
    if (message === "") this.sendCommand("AWAY");
    else this.sendCommand("AWAY", [message]);
  }

  /** Marks us back (no longer away). */
  back(): void {
    this.sendCommand("AWAY");
  }

  /**
   * Asks about `nickname`. The Deferred fires with what the replies said, or `null` when
   * there is no such nick; it fails if the connection is lost first. Cancelling it only stops
   * waiting.
   */
  whois(nickname: string, server?: string): Deferred<WhoisInfo | null> {
    const key = this.fold(nickname);
    let entry = this._whois.get(key);
    if (entry === undefined) {
      const info: WhoisInfo = {
        nick: nickname,
        user: null,
        host: null,
        realname: null,
        server: null,
        channels: [],
        operator: false,
        account: null,
        away: null,
        idleSeconds: null,
        signon: null,
      };
      entry = { info, waiters: [] };
      this._whois.set(key, entry);
    }
    const waiters = entry.waiters;
    const done = new Deferred<WhoisInfo | null>(() => {
      const i = waiters.indexOf(done);
      if (i >= 0) waiters.splice(i, 1);
    });
    waiters.push(done);
    this.sendCommand("WHOIS", server === undefined ? [nickname] : [server, nickname]);
    return done;
  }

  /** Leaves the server with an optional message. */
  quit(message = ""): void {
    this.sendCommand("QUIT", [message]);
  }

  /**
   * Measures the round trip to `user` with a CTCP PING; their reply calls `pong(user, secs)`.
   */
  ping(user: string, text?: string): void {
    const key = text ?? Math.floor(Math.random() * 2 ** 31).toString(36);
    if (this._pings.size >= 12) this._pings.delete(this._pings.keys().next().value!);
    this._pings.set(`${this.fold(user)} ${key}`, this._clock.seconds());
    this.ctcpMakeQuery(user, [["PING", key]]);
  }

  /** Sends CTCP queries (a PRIVMSG) to `user`. */
  ctcpMakeQuery(user: string, messages: readonly CTCPMessage[]): void {
    this.sendCommand("PRIVMSG", [user, ctcpStringify(messages)]);
  }

  /** Sends CTCP replies (a NOTICE) to `user`. */
  ctcpMakeReply(user: string, messages: readonly CTCPMessage[]): void {
    this.sendCommand("NOTICE", [user, ctcpStringify(messages)]);
  }
}
