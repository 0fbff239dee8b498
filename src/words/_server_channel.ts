// The IRC server's channel commands: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE, MODE.

import { type IRCMessage, truncateUtf8 } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import { userMode } from "./_server_query.js";
import {
  CHANNEL_TYPES,
  type IRCChannel,
  type IRCUser,
  isBanned,
  normalizeMask,
  validChannel,
} from "./_server_state.js";

/** True when `user` may see `channel` (it is not secret, or they are in it). */
export function visible(channel: IRCChannel, user: IRCUser): boolean {
  return !channel.secret || channel.members.has(user) || user.isOper;
}

/** Sends NAMES replies (353, 366) for `channel` to `user`. */
export function sendNames(server: IRCServer, user: IRCUser, channel: IRCChannel): void {
  const member = channel.members.has(user);
  const multi = user.caps.has("multi-prefix");
  const symbol = channel.secret ? "@" : "=";
  const names: string[] = [];
  for (const m of channel.members.keys()) {
    if (!member && m.modes.has("i")) continue;
    names.push(channel.prefixOf(m, multi) + m.nick);
  }
  // Keep each reply well within 512 bytes, prefix included.
  let line: string[] = [];
  let size = 0;
  for (const name of names) {
    if (size + name.length + 1 > 350 && line.length > 0) {
      server.numeric(user, "353", symbol, channel.name, line.join(" "));
      line = [];
      size = 0;
    }
    line.push(name);
    size += name.length + 1;
  }
  if (line.length > 0) server.numeric(user, "353", symbol, channel.name, line.join(" "));
  server.numeric(user, "366", channel.name, "End of /NAMES list");
}

/** Sends the topic (332, 333) or 331 when there is none. */
function sendTopic(server: IRCServer, user: IRCUser, channel: IRCChannel, orNone: boolean): void {
  if (channel.topic === null || channel.topic === "") {
    if (orNone) server.numeric(user, "331", channel.name, "No topic is set");
    return;
  }
  server.numeric(user, "332", channel.name, channel.topic);
  server.numeric(
    user,
    "333",
    channel.name,
    channel.topicSetBy,
    String(Math.floor(channel.topicTime)),
  );
}

function joinOne(server: IRCServer, user: IRCUser, name: string, key: string | undefined): void {
  let channel = server.channels.get(name);
  if (channel?.members.has(user)) return;
  if (channel === undefined && !validChannel(name, CHANNEL_TYPES, server.limits.channel)) {
    server.numeric(user, "403", name, "No such channel");
    return;
  }
  if (user.channels.size >= server.limits.channels && !user.isOper) {
    server.numeric(user, "405", name, "You have joined too many channels");
    return;
  }
  if (channel !== undefined && channel.members.size > 0) {
    const invited = channel.invited.has(server.fold(user.nick!));
    if (channel.modes.has("i") && !invited) {
      server.numeric(user, "473", channel.name, "Cannot join channel (+i)");
      return;
    }
    if (isBanned(channel, user, server.caseMapping) && !invited) {
      server.numeric(user, "474", channel.name, "Cannot join channel (+b)");
      return;
    }
    if (channel.key !== null && channel.key !== key) {
      server.numeric(user, "475", channel.name, "Cannot join channel (+k)");
      return;
    }
    if (channel.limit !== null && channel.members.size >= channel.limit && !invited) {
      server.numeric(user, "471", channel.name, "Cannot join channel (+l)");
      return;
    }
  }
  const first = channel === undefined || channel.members.size === 0;
  channel ??= server.createChannel(name);
  channel.invited.delete(server.fold(user.nick!));
  channel.members.set(user, new Set(first ? ["o"] : []));
  user.channels.add(channel);
  const members = [...channel.members.keys()];
  const extended = members.filter((m) => m.caps.has("extended-join"));
  const plain = members.filter((m) => !m.caps.has("extended-join"));
  server.deliver(plain, user.prefix, "JOIN", [channel.name]);
  server.deliver(extended, user.prefix, "JOIN", [channel.name, user.account ?? "*", user.realname]);
  if (user.away !== null) {
    const watchers = members.filter((m) => m !== user && m.caps.has("away-notify"));
    server.deliver(watchers, user.prefix, "AWAY", [user.away]);
  }
  sendTopic(server, user, channel, false);
  sendNames(server, user, channel);
}

/** JOIN: `JOIN #a,#b key1,key2`, or `JOIN 0` to leave every channel. */
export function join(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const names = m.params[0]!;
  if (names === "0") {
    for (const channel of [...user.channels]) {
      server.deliver(channel.members.keys(), user.prefix, "PART", [
        channel.name,
        "Left all channels",
      ]);
      server.removeMember(channel, user);
    }
    return;
  }
  const keys = (m.params[1] ?? "").split(",");
  names.split(",").forEach((name, i) => {
    if (name !== "") joinOne(server, user, name, keys[i] || undefined);
  });
}

/** PART: `PART #a,#b [:reason]`. */
export function part(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const reason = m.params[1];
  for (const name of m.params[0]!.split(",")) {
    if (name === "") continue;
    const channel = server.channels.get(name);
    if (channel === undefined) {
      server.numeric(user, "403", name, "No such channel");
      continue;
    }
    if (!channel.members.has(user)) {
      server.numeric(user, "442", channel.name, "You're not on that channel");
      continue;
    }
    const params = reason === undefined ? [channel.name] : [channel.name, reason];
    server.deliver(channel.members.keys(), user.prefix, "PART", params);
    server.removeMember(channel, user);
  }
}

/** TOPIC: shows or sets a channel's topic. */
export function topic(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const name = m.params[0]!;
  const channel = server.channels.get(name);
  if (channel === undefined) {
    server.numeric(user, "403", name, "No such channel");
    return;
  }
  const member = channel.members.has(user);
  if (m.params.length < 2) {
    if (!member && channel.secret)
      server.numeric(user, "442", channel.name, "You're not on that channel");
    else sendTopic(server, user, channel, true);
    return;
  }
  if (!member) {
    server.numeric(user, "442", channel.name, "You're not on that channel");
    return;
  }
  if (channel.modes.has("t") && !channel.has(user, "o")) {
    server.numeric(user, "482", channel.name, "You're not channel operator");
    return;
  }
  const text = truncateUtf8(Buffer.from(m.params[1]!, "utf8"), server.limits.topic).toString(
    "utf8",
  );
  channel.topic = text;
  channel.topicSetBy = user.prefix;
  channel.topicTime = server.now();
  server.deliver(channel.members.keys(), user.prefix, "TOPIC", [channel.name, text]);
  server.callHook("channelChanged", channel, "topic");
}

/** NAMES: the members of channels. */
export function names(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const list = m.params[0];
  if (list === undefined || list === "") {
    server.numeric(user, "366", "*", "End of /NAMES list");
    return;
  }
  for (const name of list.split(",")) {
    const channel = server.channels.get(name);
    if (channel !== undefined && visible(channel, user)) sendNames(server, user, channel);
    else server.numeric(user, "366", name, "End of /NAMES list");
  }
}

/** LIST: channels with their member count and topic. */
export function list(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  server.numeric(user, "321", "Channel", "Users  Name");
  const wanted = m.params[0];
  const channels =
    wanted === undefined || wanted === ""
      ? [...server.channels.values()]
      : wanted.split(",").flatMap((n) => server.channels.get(n) ?? []);
  for (const channel of channels) {
    if (!visible(channel, user)) continue;
    const modes = channel.modeParams(false)[0];
    server.numeric(
      user,
      "322",
      channel.name,
      String(channel.members.size),
      `[${modes}] ${channel.topic ?? ""}`,
    );
  }
  server.numeric(user, "323", "End of /LIST");
}

/** Finds a channel the user is on, answering 403/442 otherwise. */
function memberChannel(server: IRCServer, user: IRCUser, name: string): IRCChannel | null {
  const channel = server.channels.get(name);
  if (channel === undefined) {
    server.numeric(user, "403", name, "No such channel");
    return null;
  }
  if (!channel.members.has(user)) {
    server.numeric(user, "442", channel.name, "You're not on that channel");
    return null;
  }
  return channel;
}

/** KICK: `KICK #chan nick[,nick] [:reason]`. */
export function kick(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const channel = memberChannel(server, user, m.params[0]!);
  if (channel === null) return;
  if (!channel.has(user, "o")) {
    server.numeric(user, "482", channel.name, "You're not channel operator");
    return;
  }
  const reason = (m.params[2] ?? user.nick!).slice(0, server.limits.kick);
  for (const nick of m.params[1]!.split(",")) {
    const target = server.users.get(nick);
    if (target === undefined || !channel.members.has(target)) {
      server.numeric(user, "441", nick, channel.name, "They aren't on that channel");
      continue;
    }
    server.deliver(channel.members.keys(), user.prefix, "KICK", [
      channel.name,
      target.nick!,
      reason,
    ]);
    server.removeMember(channel, target);
  }
}

/** INVITE: `INVITE nick #chan`. */
export function invite(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const [nick, name] = m.params as [string, string];
  const target = server.users.get(nick);
  if (target === undefined || !target.registered) {
    server.numeric(user, "401", nick, "No such nick/channel");
    return;
  }
  const channel = server.channels.get(name);
  if (channel !== undefined) {
    if (!channel.members.has(user)) {
      server.numeric(user, "442", channel.name, "You're not on that channel");
      return;
    }
    if (channel.members.has(target)) {
      server.numeric(user, "443", target.nick!, channel.name, "is already on channel");
      return;
    }
    if (channel.modes.has("i") && !channel.has(user, "o")) {
      server.numeric(user, "482", channel.name, "You're not channel operator");
      return;
    }
    channel.invited.add(server.fold(target.nick!));
  }
  server.numeric(user, "341", target.nick!, channel?.name ?? name);
  server.send(target, "INVITE", [target.nick!, channel?.name ?? name], user.prefix);
  if (target.away !== null) server.numeric(user, "301", target.nick!, target.away);
}

function sendBans(server: IRCServer, user: IRCUser, channel: IRCChannel): void {
  for (const ban of channel.bans) {
    server.numeric(user, "367", channel.name, ban.mask, ban.setBy, String(Math.floor(ban.time)));
  }
  server.numeric(user, "368", channel.name, "End of channel ban list");
}

/** MODE: a channel's modes, or (for a nick) user modes. */
export function mode(server: IRCServer, user: IRCUser, m: IRCMessage): void {
  const target = m.params[0]!;
  if (!CHANNEL_TYPES.includes(target[0] ?? "")) {
    userMode(server, user, m);
    return;
  }
  const channel = server.channels.get(target);
  if (channel === undefined) {
    server.numeric(user, "403", target, "No such channel");
    return;
  }
  const modes = m.params[1];
  if (modes === undefined) {
    const member = channel.members.has(user);
    server.numeric(user, "324", channel.name, ...channel.modeParams(member));
    server.numeric(user, "329", channel.name, String(Math.floor(channel.created)));
    return;
  }
  changeChannelModes(server, user, channel, modes, m.params.slice(2));
}

/** Applies a channel mode change from `user` and tells the members what changed. */
function changeChannelModes(
  server: IRCServer,
  user: IRCUser,
  channel: IRCChannel,
  modes: string,
  args: string[],
): void {
  const isOp = channel.has(user, "o") || user.isOper;
  let adding = true;
  let paramCount = 0;
  let deniedSent = false;
  let listed = false;
  const applied: [sign: "+" | "-", mode: string, param: string | null][] = [];
  const deny = (): boolean => {
    if (isOp) return false;
    if (!deniedSent) server.numeric(user, "482", channel.name, "You're not channel operator");
    deniedSent = true;
    return true;
  };
  for (const c of modes) {
    if (c === "+" || c === "-") {
      adding = c === "+";
      continue;
    }
    switch (c) {
      case "o":
      case "v": {
        const nick = args.shift();
        if (nick === undefined || paramCount++ >= server.limits.modes || deny()) break;
        const target = server.users.get(nick);
        if (target === undefined) server.numeric(user, "401", nick, "No such nick/channel");
        else if (!channel.members.has(target)) {
          server.numeric(user, "441", target.nick!, channel.name, "They aren't on that channel");
        } else {
          const status = channel.members.get(target)!;
          if (adding === status.has(c)) break;
          if (adding) status.add(c);
          else status.delete(c);
          applied.push([adding ? "+" : "-", c, target.nick]);
        }
        break;
      }
      case "b": {
        const raw = args.shift();
        if (raw === undefined) {
          if (!listed) sendBans(server, user, channel);
          listed = true;
          break;
        }
        if (paramCount++ >= server.limits.modes || deny()) break;
        const mask = normalizeMask(raw);
        const i = channel.bans.findIndex((b) => server.fold(b.mask) === server.fold(mask));
        if (adding && i < 0) {
          if (channel.bans.length >= server.limits.bans) {
            server.numeric(user, "478", channel.name, mask, "Channel list is full");
            break;
          }
          channel.bans.push({ mask, setBy: user.prefix, time: server.now() });
          applied.push(["+", "b", mask]);
        } else if (!adding && i >= 0) {
          channel.bans.splice(i, 1);
          applied.push(["-", "b", mask]);
        }
        break;
      }
      case "k": {
        const key = args.shift();
        if (deny()) break;
        if (adding) {
          if (key === undefined || key === "" || /[\s,]/.test(key)) break;
          paramCount++;
          channel.key = key;
          applied.push(["+", "k", key]);
        } else if (channel.key !== null) {
          channel.key = null;
          applied.push(["-", "k", "*"]);
        }
        break;
      }
      case "l": {
        if (adding) {
          const value = args.shift();
          const limit = Number.parseInt(value ?? "", 10);
          if (value === undefined || deny() || !(limit > 0)) break;
          paramCount++;
          channel.limit = limit;
          applied.push(["+", "l", String(limit)]);
        } else if (!deny() && channel.limit !== null) {
          channel.limit = null;
          applied.push(["-", "l", null]);
        }
        break;
      }
      case "i":
      case "m":
      case "n":
      case "s":
      case "t":
        if (deny()) break;
        if (adding === channel.modes.has(c)) break;
        if (adding) channel.modes.add(c);
        else channel.modes.delete(c);
        applied.push([adding ? "+" : "-", c, null]);
        break;
      default:
        server.numeric(user, "472", c, "is unknown mode char to me");
    }
  }
  if (applied.length === 0) return;
  let text = "";
  let sign = "";
  const params: string[] = [];
  for (const [s, c, p] of applied) {
    if (s !== sign) text += s;
    sign = s;
    text += c;
    if (p !== null) params.push(p);
  }
  server.deliver(channel.members.keys(), user.prefix, "MODE", [channel.name, text, ...params]);
  server.callHook("channelChanged", channel, "modes");
}
