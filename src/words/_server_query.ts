// The IRC server's user commands: messages (PRIVMSG, NOTICE, TAGMSG), queries, AWAY, OPER, KILL.

import { type IRCMessage, truncateUtf8 } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import {
  CHANNEL_TYPES,
  type IRCChannel,
  type IRCUser,
  isBanned,
  matchMask,
} from "./_server_state.js";

/** Sends the MOTD (375, 372…, 376) or 422. */
export function motd(server: IRCServer, user: IRCUser): void {
  const lines = server.motd;
  if (lines === null) {
    server.numeric(user, "422", "MOTD File is missing");
    return;
  }
  server.numeric(user, "375", `- ${server.hostname} Message of the day - `);
  for (const line of lines) server.numeric(user, "372", `- ${line}`);
  server.numeric(user, "376", "End of /MOTD command.");
}

/** Sends the ISUPPORT replies (005), 13 tokens a line. */
export function isupport(server: IRCServer, user: IRCUser): void {
  const tokens = server.isupportTokens();
  for (let i = 0; i < tokens.length; i += 13) {
    server.numeric(user, "005", ...tokens.slice(i, i + 13), "are supported by this server");
  }
}

/** Sends the LUSERS replies (251–255, 265, 266). */
export function lusers(server: IRCServer, user: IRCUser): void {
  let visible = 0;
  let invisible = 0;
  let opers = 0;
  let unknown = 0;
  for (const u of server.connections) {
    if (!u.registered) unknown++;
    else if (u.modes.has("i")) invisible++;
    else visible++;
    if (u.registered && u.isOper) opers++;
  }
  const total = visible + invisible;
  server.numeric(user, "251", `There are ${visible} users and ${invisible} invisible on 1 servers`);
  server.numeric(user, "252", String(opers), "operator(s) online");
  server.numeric(user, "253", String(unknown), "unknown connection(s)");
  server.numeric(user, "254", String(server.channels.size), "channels formed");
  server.numeric(user, "255", `I have ${total} clients and 0 servers`);
  server.numeric(
    user,
    "265",
    String(total),
    String(total),
    `Current local users ${total}, max ${total}`,
  );
  server.numeric(
    user,
    "266",
    String(total),
    String(total),
    `Current global users ${total}, max ${total}`,
  );
}

/** True when `user` may speak in `channel`: `n`, `m` and bans respected; 404 otherwise. */
function maySpeak(server: IRCServer, user: IRCUser, channel: IRCChannel): boolean {
  const member = channel.members.has(user);
  const voiced = channel.has(user, "o") || channel.has(user, "v");
  if (
    (!member && channel.modes.has("n")) ||
    (channel.modes.has("m") && !voiced) ||
    (!voiced && isBanned(channel, user, server.caseMapping))
  ) {
    return false;
  }
  return true;
}

/** PRIVMSG, NOTICE and TAGMSG: to nicks and channels (`@#chan`/`+#chan` for ops/voices). */
function message(server: IRCServer, user: IRCUser, m: IRCMessage, command: string): void {
  const notice = command === "NOTICE";
  const tagOnly = command === "TAGMSG";
  const targets = m.params[0];
  if (targets === undefined || targets === "") {
    if (!notice) server.numeric(user, "411", `No recipient given (${command})`);
    return;
  }
  const text = m.params[1];
  if (!tagOnly && (text === undefined || text === "")) {
    if (!notice) server.numeric(user, "412", "No text to send");
    return;
  }
  // Relay the very bytes received, even those that are not UTF-8.
  const body = m.rawParams?.[1] ?? text ?? "";
  const clientTags = m.tags.size > 0 ? m.tags : null;
  const seen = new Set<string>();
  let count = 0;
  for (const target of targets.split(",")) {
    if (target === "" || seen.has(server.fold(target))) continue;
    seen.add(server.fold(target));
    if (++count > server.limits.targets) {
      if (!notice) server.numeric(user, "407", target, "Too many recipients");
      continue;
    }
    const status = target[0] === "@" || target[0] === "+" ? target[0] : "";
    const name = target.slice(status.length);
    const params = tagOnly ? [target] : [target, body];
    if (CHANNEL_TYPES.includes(name[0] ?? "")) {
      const channel = server.channels.get(name);
      if (channel === undefined) {
        if (!notice) server.numeric(user, "401", name, "No such nick/channel");
        continue;
      }
      if (!maySpeak(server, user, channel)) {
        if (!notice) server.numeric(user, "404", channel.name, "Cannot send to channel");
        continue;
      }
      if (server.callHook("messageSent", user, channel.name, text ?? "", command) === false) {
        continue;
      }
      const recipients: IRCUser[] = [];
      for (const member of channel.members.keys()) {
        if (member === user && !user.caps.has("echo-message")) continue;
        if (status === "@" && !channel.has(member, "o")) continue;
        if (status === "+" && !channel.has(member, "o") && !channel.has(member, "v")) continue;
        if (tagOnly && !member.caps.has("message-tags")) continue;
        recipients.push(member);
      }
      server.deliver(recipients, user.prefix, command, params, clientTags);
      continue;
    }
    const to = server.users.get(target);
    if (to === undefined || !to.registered) {
      if (!notice) server.numeric(user, "401", target, "No such nick/channel");
      continue;
    }
    if (server.callHook("messageSent", user, to.nick!, text ?? "", command) === false) {
      continue;
    }
    const recipients = [to];
    if (user.caps.has("echo-message") && to !== user) recipients.push(user);
    server.deliver(
      recipients.filter((r) => !tagOnly || r.caps.has("message-tags")),
      user.prefix,
      command,
      params,
      clientTags,
    );
    if (command === "PRIVMSG" && to.away !== null) server.numeric(user, "301", to.nick!, to.away);
  }
}

/** PRIVMSG. */
export function privmsg(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  message(server, user, m, "PRIVMSG");
}

/** NOTICE (never answered with an error). */
export function notice(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  message(server, user, m, "NOTICE");
}

/** TAGMSG (IRCv3 message-tags): tags only, to clients that take them. */
export function tagmsg(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  if (!user.caps.has("message-tags")) return;
  message(server, user, m, "TAGMSG");
}

function sharesChannel(a: IRCUser, b: IRCUser): boolean {
  for (const c of a.channels) if (c.members.has(b)) return true;
  return false;
}

function whoReply(server: IRCServer, asker: IRCUser, u: IRCUser, channel: IRCChannel | null): void {
  let flags = u.away === null ? "H" : "G";
  if (u.isOper) flags += "*";
  if (channel !== null) flags += channel.prefixOf(u, asker.caps.has("multi-prefix"));
  server.numeric(
    asker,
    "352",
    channel?.name ?? "*",
    u.username ?? "*",
    u.host,
    server.hostname,
    u.nick!,
    flags,
    `0 ${u.realname}`,
  );
}

/** WHO: `WHO #chan`, or `WHO mask [o]`. */
export function who(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const mask = m.params[0] ?? "*";
  const opersOnly = (m.params[1] ?? "").includes("o");
  const channel = CHANNEL_TYPES.includes(mask[0] ?? "") ? server.channels.get(mask) : undefined;
  if (channel !== undefined) {
    const member = channel.members.has(user);
    if (member || !channel.secret) {
      for (const u of channel.members.keys()) {
        if (!member && u.modes.has("i")) continue;
        if (opersOnly && !u.isOper) continue;
        whoReply(server, user, u, channel);
      }
    }
  } else if (!CHANNEL_TYPES.includes(mask[0] ?? "")) {
    const map = server.caseMapping;
    for (const u of server.users.values()) {
      if (!u.registered || (opersOnly && !u.isOper)) continue;
      if (u !== user && u.modes.has("i") && !sharesChannel(user, u)) continue;
      const matches =
        matchMask(mask, u.nick!, map) ||
        matchMask(mask, u.username ?? "", map) ||
        matchMask(mask, u.host, map) ||
        matchMask(mask, u.realname, map);
      if (matches) whoReply(server, user, u, null);
    }
  }
  server.numeric(user, "315", mask, "End of /WHO list");
}

/** WHOIS: `WHOIS [server] nick`. */
export function whois(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const nick = m.params[m.params.length - 1];
  if (nick === undefined || nick === "") {
    server.numeric(user, "431", "No nickname given");
    return;
  }
  const u = server.users.get(nick);
  if (u === undefined || !u.registered) {
    server.numeric(user, "401", nick, "No such nick/channel");
    server.numeric(user, "318", nick, "End of /WHOIS list");
    return;
  }
  const n = u.nick!;
  server.numeric(user, "311", n, u.username ?? "*", u.host, "*", u.realname);
  const multi = user.caps.has("multi-prefix");
  const channels = [...u.channels]
    .filter((c) => !c.secret || c.members.has(user))
    .map((c) => c.prefixOf(u, multi) + c.name);
  if (channels.length > 0) server.numeric(user, "319", n, channels.join(" "));
  server.numeric(user, "312", n, server.hostname, server.network);
  if (u.away !== null) server.numeric(user, "301", n, u.away);
  if (u.isOper) server.numeric(user, "313", n, "is an IRC operator");
  if (u.account !== null) server.numeric(user, "330", n, u.account, "is logged in as");
  const idle = Math.max(0, Math.floor(server.now() - u.lastActive));
  server.numeric(
    user,
    "317",
    n,
    String(idle),
    String(Math.floor(u.signon)),
    "seconds idle, signon time",
  );
  server.numeric(user, "318", n, "End of /WHOIS list");
}

/** WHOWAS: `WHOWAS nick [count]`. */
export function whowas(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const nick = m.params[0];
  if (nick === undefined || nick === "") {
    server.numeric(user, "431", "No nickname given");
    return;
  }
  const count = Number.parseInt(m.params[1] ?? "", 10);
  const entries = (server.whowas.get(nick) ?? []).slice(0, count > 0 ? count : undefined);
  if (entries.length === 0) server.numeric(user, "406", nick, "There was no such nickname");
  for (const e of entries) {
    server.numeric(user, "314", e.nick, e.username, e.host, "*", e.realname);
    server.numeric(user, "312", e.nick, server.hostname, new Date(e.time * 1000).toUTCString());
  }
  server.numeric(user, "369", nick, "End of WHOWAS");
}

/** AWAY: `AWAY :message` marks away, `AWAY` marks back; away-notify watchers are told. */
export function away(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const text = m.params[0] ?? "";
  user.away = text === "" ? null : truncateUtf8(Buffer.from(text), server.limits.away).toString();
  if (user.away === null) server.numeric(user, "305", "You are no longer marked as being away");
  else server.numeric(user, "306", "You have been marked as being away");
  const watchers = [...server.neighbours(user)].filter((u) => u.caps.has("away-notify"));
  server.deliver(watchers, user.prefix, "AWAY", user.away === null ? [] : [user.away]);
}

/** USERHOST: up to 5 nicks. */
export function userhost(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const replies: string[] = [];
  for (const nick of m.params.slice(0, 5)) {
    const u = server.users.get(nick);
    if (u === undefined || !u.registered) continue;
    replies.push(
      `${u.nick}${u.isOper ? "*" : ""}=${u.away === null ? "+" : "-"}${u.username}@${u.host}`,
    );
  }
  server.numeric(user, "302", replies.join(" "));
}

/** ISON: which of the nicks are online. */
export function ison(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const online: string[] = [];
  for (const nick of m.params.join(" ").split(" ")) {
    const u = nick === "" ? undefined : server.users.get(nick);
    if (u?.registered) online.push(u.nick!);
  }
  server.numeric(user, "303", online.join(" "));
}

/** VERSION: the version, then the ISUPPORT lines. */
export function version(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  server.numeric(user, "351", server.version, server.hostname, "twisted-ts words IRC server");
  isupport(server, user);
}

/** TIME: the server's time. */
export function time(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  server.numeric(user, "391", server.hostname, new Date(server.now() * 1000).toUTCString());
}

/** OPER: `OPER name password`, against the configured operators. */
export function oper(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const [name, password] = m.params as [string, string];
  const expected = server.opers.get(name);
  if (expected === undefined || expected !== password) {
    server.numeric(user, "464", "Password incorrect");
    return;
  }
  if (!user.isOper) {
    user.modes.add("o");
    server.send(user, "MODE", [user.nick!, "+o"], user.prefix);
  }
  server.numeric(user, "381", "You are now an IRC operator");
}

/** KILL: `KILL nick :reason` (operators only). */
export function kill(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  if (!user.isOper) {
    server.numeric(user, "481", "Permission Denied- You're not an IRC operator");
    return;
  }
  const target = server.users.get(m.params[0]!);
  if (target === undefined || !target.registered) {
    server.numeric(user, "401", m.params[0]!, "No such nick/channel");
    return;
  }
  const reason = m.params[1] ?? "No reason";
  server.send(target, "KILL", [target.nick!, reason], user.prefix);
  server.quit(target, `Killed (${user.nick} (${reason}))`);
}

/** MODE for a nick: `MODE nick` shows, `MODE nick +i-w` changes (`+o` only through OPER). */
export function userMode(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const nick = m.params[0]!;
  const target = server.users.get(nick);
  if (target === undefined || !target.registered) {
    server.numeric(user, "401", nick, "No such nick/channel");
    return;
  }
  if (target !== user) {
    server.numeric(user, "502", "Can't change mode for other users");
    return;
  }
  const modes = m.params[1];
  if (modes === undefined) {
    server.numeric(user, "221", `+${[...user.modes].sort().join("")}`);
    return;
  }
  let adding = true;
  let unknown = false;
  let changed = "";
  let sign = "";
  for (const c of modes) {
    if (c === "+" || c === "-") {
      adding = c === "+";
      continue;
    }
    if (c !== "i" && c !== "w" && c !== "o") {
      unknown = true;
      continue;
    }
    if ((c === "o" && adding) || adding === user.modes.has(c)) continue;
    if (adding) user.modes.add(c);
    else user.modes.delete(c);
    const s = adding ? "+" : "-";
    if (s !== sign) changed += s;
    sign = s;
    changed += c;
  }
  if (unknown) server.numeric(user, "501", "Unknown MODE flag");
  if (changed !== "") server.send(user, "MODE", [user.nick!, changed], user.prefix);
}
