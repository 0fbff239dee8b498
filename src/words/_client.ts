// IRCClient: Twisted's IRC client protocol — handlers of server messages, and the callbacks they call.

import type { Failure } from "../internet/failure.js";
import type { MessageContext } from "./_client_base.js";
import { IRCClientBatches } from "./_client_batch.js";
import { type CTCPMessage, ctcpExtract, ctcpStringify, X_DELIM } from "./_ctcp.js";
import { parsePrefix } from "./_irc_message.js";
import { paramModesOf, parseModes } from "./_isupport.js";

type Params = string[];
type Prefix = string | null;

function nickOf(prefix: Prefix): string {
  return prefix === null ? "" : parsePrefix(prefix).nick;
}

/**
 * An IRC client protocol with Twisted's API: set `nickname` (and `realname`, `username`,
 * `password`), connect it, and override the callbacks — `signedOn`, `joined`, `privmsg`,
 * `userJoined`… — to react. Commands are methods: `join`, `say`, `msg`, `topic`, `mode`…
 *
 * Beyond Twisted: IRCv3 capability negotiation and SASL PLAIN (`capabilities`,
 * `saslUsername`/`saslPassword`), message tags and `server-time` (the `context` argument of
 * message callbacks, or `messageContext()`), `echo-message`, `batch` (`batchReceived`) and
 * `labeled-response` (`sendLabeled`), flood control (`lineRate`),
 * heartbeat PINGs measuring `lag` and dropping a dead connection, and `whois()` giving a
 * Deferred.
 *
 * @example
 * ```ts
 * class Bot extends IRCClient {
 *   override nickname = "pingbot";
 *   override signedOn() {
 *     this.join("#twisted");
 *   }
 *   override privmsg(user: string, channel: string, message: string) {
 *     if (message === "!ping") this.say(channel, `${parsePrefix(user).nick}: pong`);
 *   }
 * }
 * const factory = new ClientFactory();
 * factory.protocol = Bot;
 * reactor.connectTCP("irc.example.org", 6667, factory);
 * ```
 */
export class IRCClient extends IRCClientBatches {
  /** The MOTD lines being received. */
  motd: string[] | null = null;
  /** Client name for CTCP VERSION replies (`null`: no reply). */
  versionName: string | null = "twisted-ts";
  /** Client version for CTCP VERSION replies. */
  versionNum: string | null = null;
  /** Client environment for CTCP VERSION replies. */
  versionEnv: string | null = null;
  /** CTCP SOURCE reply, or `null`. */
  sourceURL: string | null = "https://github.com/twisted/twisted";
  /** CTCP USERINFO reply, or `null`. */
  userinfo: string | null = null;
  /** CTCP FINGER reply, or `null`. */
  fingerReply: string | null = null;

  override connectionMade(): void {
    super.connectionMade();
    if (this.performLogin) this.register(this.nickname);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    for (const { waiters } of this._whois.values()) for (const d of waiters) d.errback(reason);
    this._whois.clear();
  }

  // Callbacks: override them ------------------------------------------------------------------

  /** Registration is complete: the server welcomed us. */
  signedOn(): void {}
  /** `003`: when the server was created. */
  created(when: string): void {}
  /** `002`: the server's host and version. */
  yourHost(info: string): void {}
  /** `004`: server name, version, user modes and channel modes. */
  myInfo(
    servername: string | null,
    version: string | null,
    umodes: string | null,
    cmodes: string | null,
  ): void {}
  /** `010`: the server sends us elsewhere. */
  bounce(info: string): void {}
  /** `005`: features, as tokens (also parsed into `supported`). */
  isupport(options: string[]): void {}
  /** `251`: users and servers. */
  luserClient(info: string): void {}
  /** `252`: operators online. */
  luserOp(ops: number): void {}
  /** `254`: channels formed. */
  luserChannels(channels: number): void {}
  /** `255`: clients and servers of this server. */
  luserMe(info: string): void {}
  /** We joined `channel`. */
  joined(channel: string): void {}
  /** We left `channel`. */
  left(channel: string): void {}
  /** We were kicked from `channel` by `kicker` (a nick). */
  kickedFrom(channel: string, kicker: string, message: string): void {}
  /** Our nick changed to `nick`: keeps `nickname` up to date (call `super` when overriding). */
  nickChanged(nick: string): void {
    this.nickname = nick;
  }
  /** A message to a channel, or to us (`channel` is then our nick). `user` is `nick!user@host`. */
  privmsg(user: string, channel: string, message: string, context?: MessageContext): void {}
  /** A notice (same arguments as `privmsg`). */
  noticed(user: string, channel: string, message: string, context?: MessageContext): void {}
  /** An action (`/me`; CTCP ACTION). */
  action(user: string, channel: string, data: string, context?: MessageContext): void {}
  /** Modes were set (`set`) or unset on `channel` (or our nick) by `user`; `args` in order. */
  modeChanged(
    user: string,
    channel: string,
    set: boolean,
    modes: string,
    args: (string | null)[],
  ): void {}
  /** Someone (`user`, a nick) joined `channel`. */
  userJoined(user: string, channel: string): void {}
  /** Someone left `channel`. */
  userLeft(user: string, channel: string): void {}
  /** Someone quit IRC. */
  userQuit(user: string, quitMessage: string): void {}
  /** `kickee` was kicked from `channel` by `kicker`. */
  userKicked(kickee: string, channel: string, kicker: string, message: string): void {}
  /** `oldname` is now `newname`. */
  userRenamed(oldname: string, newname: string): void {}
  /** The topic of `channel` is `newTopic` (set by `user`, or told by the server). */
  topicUpdated(user: string, channel: string, newTopic: string): void {}
  /** The MOTD, line by line. */
  receivedMOTD(motd: string[]): void {}
  /** The answer to our CTCP PING of `user`, after `secs` seconds. */
  pong(user: string, secs: number): void {}
  /** `away-notify`: `nick` went away (`message`) or came back (`null`). */
  userAway(nick: string, message: string | null): void {}
  /** `account-notify`: `nick` logged in to `account`, or out (`null`). */
  userAccountChanged(nick: string, account: string | null): void {}

  // Registration --------------------------------------------------------------------------------

  /** Changes a nick that is in use (433): appends `_`. */
  alterCollidedNick(nickname: string): string {
    return `${nickname}_`;
  }

  irc_ERR_NICKNAMEINUSE(prefix: Prefix, params: Params): void {
    const taken = this._attemptedNick || this.nickname;
    let next = `${taken}_`;
    // A failing override must not leave registration stuck: the default is used instead.
    this._callUser("alterCollidedNick", () => {
      next = this.alterCollidedNick(taken);
    });
    this.setNick(next);
  }

  irc_ERR_ERRONEUSNICKNAME(prefix: Prefix, params: Params): void {
    if (!this._registered) this.setNick(this.erroneousNickFallback);
  }

  irc_ERR_PASSWDMISMATCH(prefix: Prefix, params: Params): void {
    this.badMessage(null, "Password incorrect");
  }

  irc_RPL_WELCOME(prefix: Prefix, params: Params): void {
    this.hostname = prefix;
    this._registered = true;
    this.nickname = params[0] ?? this._attemptedNick;
    if (this.capabilityState !== "none") this.capabilityState = "done";
    this._callUser("signedOn", () => this.signedOn());
    this.startHeartbeat();
  }

  irc_RPL_YOURHOST(prefix: Prefix, params: Params): void {
    this.yourHost(params[1] ?? "");
  }

  irc_RPL_CREATED(prefix: Prefix, params: Params): void {
    this.created(params[1] ?? "");
  }

  irc_RPL_MYINFO(prefix: Prefix, params: Params): void {
    const info = params.slice(1, 5);
    this.myInfo(info[0] ?? null, info[1] ?? null, info[2] ?? null, info[3] ?? null);
  }

  irc_RPL_BOUNCE(prefix: Prefix, params: Params): void {
    this.bounce(params[1] ?? "");
  }

  irc_RPL_ISUPPORT(prefix: Prefix, params: Params): void {
    const args = params.slice(1, -1);
    this.supported.parse(args);
    this.isupport(args);
  }

  irc_RPL_LUSERCLIENT(prefix: Prefix, params: Params): void {
    this.luserClient(params[1] ?? "");
  }

  irc_RPL_LUSEROP(prefix: Prefix, params: Params): void {
    this.luserOp(Number.parseInt(params[1] ?? "0", 10) || 0);
  }

  irc_RPL_LUSERCHANNELS(prefix: Prefix, params: Params): void {
    this.luserChannels(Number.parseInt(params[1] ?? "0", 10) || 0);
  }

  irc_RPL_LUSERME(prefix: Prefix, params: Params): void {
    this.luserMe(params[1] ?? "");
  }

  irc_RPL_MOTDSTART(prefix: Prefix, params: Params): void {
    this.motd = [stripMotd(params[params.length - 1] ?? "")];
  }

  irc_RPL_MOTD(prefix: Prefix, params: Params): void {
    this.motd ??= [];
    this.motd.push(stripMotd(params[params.length - 1] ?? ""));
  }

  irc_RPL_ENDOFMOTD(prefix: Prefix, params: Params): void {
    const motd = this.motd ?? [];
    this.motd = null;
    this.receivedMOTD(motd);
  }

  irc_ERROR(prefix: Prefix, params: Params): void {
    this.badMessage(null, `Server error: ${params[0] ?? ""}`);
  }

  // Channels and users ---------------------------------------------------------------------------

  irc_JOIN(prefix: Prefix, params: Params): void {
    const nick = nickOf(prefix);
    // With extended-join the channel is followed by account and real name: it comes first.
    const channel = params[0] ?? "";
    if (this.isMe(nick)) this.joined(channel);
    else this.userJoined(nick, channel);
  }

  irc_PART(prefix: Prefix, params: Params): void {
    const nick = nickOf(prefix);
    const channel = params[0] ?? "";
    if (this.isMe(nick)) this.left(channel);
    else this.userLeft(nick, channel);
  }

  irc_QUIT(prefix: Prefix, params: Params): void {
    this.userQuit(nickOf(prefix), params[0] ?? "");
  }

  irc_NICK(prefix: Prefix, params: Params): void {
    const nick = nickOf(prefix);
    const newNick = params[0] ?? "";
    if (this.isMe(nick)) this.nickChanged(newNick);
    else this.userRenamed(nick, newNick);
  }

  irc_KICK(prefix: Prefix, params: Params): void {
    const kicker = nickOf(prefix);
    const channel = params[0] ?? "";
    const kicked = params[1] ?? "";
    const message = params[2] ?? "";
    if (this.isMe(kicked)) this.kickedFrom(channel, kicker, message);
    else this.userKicked(kicked, channel, kicker, message);
  }

  irc_TOPIC(prefix: Prefix, params: Params): void {
    this.topicUpdated(nickOf(prefix), params[0] ?? "", params[1] ?? "");
  }

  irc_RPL_TOPIC(prefix: Prefix, params: Params): void {
    this.topicUpdated(nickOf(prefix), params[1] ?? "", params[2] ?? "");
  }

  irc_RPL_NOTOPIC(prefix: Prefix, params: Params): void {
    this.topicUpdated(nickOf(prefix), params[1] ?? "", "");
  }

  /** The modes that take a parameter in a user mode change (none by default). */
  getUserModeParams(): [string, string] {
    return ["", ""];
  }

  /** The modes that take a parameter in a channel mode change, from ISUPPORT. */
  getChannelModeParams(): [string, string] {
    return paramModesOf(this.supported);
  }

  irc_MODE(prefix: Prefix, params: Params): void {
    const [channel = "", modesIn = "", ...args] = params;
    const modes = modesIn[0] === "+" || modesIn[0] === "-" ? modesIn : `+${modesIn}`;
    const paramModes = this.isMe(channel) ? this.getUserModeParams() : this.getChannelModeParams();
    let parsed: ReturnType<typeof parseModes>;
    try {
      parsed = parseModes(modes, args, paramModes);
    } catch (e) {
      this.badMessage(null, e instanceof Error ? e.message : String(e));
      return;
    }
    const user = prefix ?? "";
    const [added, removed] = parsed;
    for (const [set, changes] of [
      [true, added],
      [false, removed],
    ] as const) {
      if (changes.length === 0) continue;
      const modes = changes.map(([m]) => m).join("");
      const modeArgs = changes.map(([, a]) => a);
      this._callUser("modeChanged", () => this.modeChanged(user, channel, set, modes, modeArgs));
    }
  }

  irc_AWAY(prefix: Prefix, params: Params): void {
    this.userAway(nickOf(prefix), params.length > 0 ? (params[0] ?? "") : null);
  }

  irc_ACCOUNT(prefix: Prefix, params: Params): void {
    const account = params[0] ?? "*";
    this.userAccountChanged(nickOf(prefix), account === "*" ? null : account);
  }

  // Messages and CTCP ---------------------------------------------------------------------------

  irc_PRIVMSG(prefix: Prefix, params: Params): void {
    const user = prefix ?? "";
    const channel = params[0] ?? "";
    let message = params[params.length - 1] ?? "";
    if (params.length < 2 || message === "") return;
    const context = this.messageContext() ?? undefined;
    if (message[0] === X_DELIM) {
      const m = ctcpExtract(message);
      if (m.extended.length > 0) this.ctcpQuery(user, channel, m.extended, context);
      if (m.normal.length === 0) return;
      message = m.normal.join(" ");
    }
    this.privmsg(user, channel, message, context);
  }

  irc_NOTICE(prefix: Prefix, params: Params): void {
    const user = prefix ?? "";
    const channel = params[0] ?? "";
    let message = params[params.length - 1] ?? "";
    if (params.length < 2) return;
    const context = this.messageContext() ?? undefined;
    if (message[0] === X_DELIM) {
      const m = ctcpExtract(message);
      if (m.extended.length > 0) this.ctcpReply(user, channel, m.extended);
      if (m.normal.length === 0) return;
      message = m.normal.join(" ");
    }
    this.noticed(user, channel, message, context);
  }

  /** CTCP queries: calls `ctcpQuery_<TAG>(user, channel, data)` or `ctcpUnknownQuery`. */
  ctcpQuery(
    user: string,
    channel: string,
    messages: CTCPMessage[],
    context?: MessageContext,
  ): void {
    const self = this as unknown as Record<string, unknown>;
    // One failing query handler does not keep the others of the message from running.
    for (const [tag, data] of messages) {
      const method = self[`ctcpQuery_${tag}`];
      this._callUser(`ctcpQuery_${tag}`, () => {
        if (typeof method === "function") method.call(this, user, channel, data, context);
        else this.ctcpUnknownQuery(user, channel, tag, data);
      });
    }
  }

  /** An unknown CTCP query. Override it. */
  ctcpUnknownQuery(user: string, channel: string, tag: string, data: string | null): void {}

  ctcpQuery_ACTION(
    user: string,
    channel: string,
    data: string | null,
    context?: MessageContext,
  ): void {
    this.action(user, channel, data ?? "", context);
  }

  ctcpQuery_PING(user: string, channel: string, data: string | null): void {
    const reply: CTCPMessage[] = [["PING", data]];
    // The reply echoes the query: not sent if it would be over 512 bytes.
    if (!this._replyFits("NOTICE", [nickOf(user), ctcpStringify(reply)])) return;
    this.ctcpMakeReply(nickOf(user), reply);
  }

  ctcpQuery_VERSION(user: string, channel: string, data: string | null): void {
    if (this.versionName === null) return;
    const version = `${this.versionName}:${this.versionNum ?? ""}:${this.versionEnv ?? ""}`;
    this.ctcpMakeReply(nickOf(user), [["VERSION", version]]);
  }

  ctcpQuery_TIME(user: string, channel: string, data: string | null): void {
    this.ctcpMakeReply(nickOf(user), [
      ["TIME", `${new Date(this._clock.seconds() * 1000).toUTCString()}`],
    ]);
  }

  ctcpQuery_CLIENTINFO(user: string, channel: string, data: string | null): void {
    const tags = ["ACTION", "CLIENTINFO", "PING", "TIME", "VERSION"];
    if (this.sourceURL !== null) tags.push("SOURCE");
    if (this.userinfo !== null) tags.push("USERINFO");
    if (this.fingerReply !== null) tags.push("FINGER");
    this.ctcpMakeReply(nickOf(user), [["CLIENTINFO", tags.sort().join(" ")]]);
  }

  ctcpQuery_SOURCE(user: string, channel: string, data: string | null): void {
    if (this.sourceURL !== null) this.ctcpMakeReply(nickOf(user), [["SOURCE", this.sourceURL]]);
  }

  ctcpQuery_USERINFO(user: string, channel: string, data: string | null): void {
    if (this.userinfo !== null) this.ctcpMakeReply(nickOf(user), [["USERINFO", this.userinfo]]);
  }

  ctcpQuery_FINGER(user: string, channel: string, data: string | null): void {
    if (this.fingerReply !== null) this.ctcpMakeReply(nickOf(user), [["FINGER", this.fingerReply]]);
  }

  /** CTCP replies: calls `ctcpReply_<TAG>(user, channel, data)` or `ctcpUnknownReply`. */
  ctcpReply(user: string, channel: string, messages: CTCPMessage[]): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [tag, data] of messages) {
      const method = self[`ctcpReply_${tag}`];
      this._callUser(`ctcpReply_${tag}`, () => {
        if (typeof method === "function") method.call(this, user, channel, data);
        else this.ctcpUnknownReply(user, channel, tag, data);
      });
    }
  }

  /** An unknown CTCP reply. Override it. */
  ctcpUnknownReply(user: string, channel: string, tag: string, data: string | null): void {}

  ctcpReply_PING(user: string, channel: string, data: string | null): void {
    const key = `${this.fold(nickOf(user))} ${data ?? ""}`;
    const sent = this._pings.get(key);
    if (sent === undefined) {
      this.badMessage(null, `Bogus PING reply from ${user}: ${data ?? ""}`);
      return;
    }
    this._pings.delete(key);
    this.pong(user, this._clock.seconds() - sent);
  }

  // WHOIS ---------------------------------------------------------------------------------------

  private whoisEntry(params: Params) {
    return this._whois.get(this.fold(params[1] ?? ""))?.info;
  }

  irc_RPL_WHOISUSER(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info === undefined) return;
    info.nick = params[1] ?? info.nick;
    info.user = params[2] ?? null;
    info.host = params[3] ?? null;
    info.realname = params[5] ?? params[params.length - 1] ?? null;
  }

  irc_RPL_WHOISSERVER(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info !== undefined) info.server = params[2] ?? null;
  }

  irc_RPL_WHOISOPERATOR(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info !== undefined) info.operator = true;
  }

  irc_RPL_WHOISIDLE(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info === undefined) return;
    info.idleSeconds = Number.parseInt(params[2] ?? "", 10);
    const signon = Number.parseInt(params[3] ?? "", 10);
    info.signon = Number.isNaN(signon) ? null : signon;
  }

  irc_RPL_WHOISCHANNELS(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info !== undefined)
      info.channels.push(...(params[2] ?? "").split(" ").filter((c) => c !== ""));
  }

  irc_RPL_WHOISACCOUNT(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info !== undefined) info.account = params[2] ?? null;
  }

  irc_RPL_AWAY(prefix: Prefix, params: Params): void {
    const info = this.whoisEntry(params);
    if (info !== undefined) info.away = params[2] ?? "";
  }

  irc_ERR_NOSUCHNICK(prefix: Prefix, params: Params): void {
    const entry = this._whois.get(this.fold(params[1] ?? ""));
    if (entry !== undefined) entry.info.user = null;
  }

  irc_RPL_ENDOFWHOIS(prefix: Prefix, params: Params): void {
    const key = this.fold(params[1] ?? "");
    const entry = this._whois.get(key);
    if (entry === undefined) return;
    this._whois.delete(key);
    const result = entry.info.user === null ? null : entry.info;
    for (const d of entry.waiters) d.callback(result);
  }
}

function stripMotd(line: string): string {
  return line.startsWith("- ") ? line.slice(2) : line;
}
