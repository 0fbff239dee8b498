// The IRC server's command table: each command's handler, minimum parameters and rules.

import type { IRCMessage } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import * as channel from "./_server_channel.js";
import * as query from "./_server_query.js";
import * as register from "./_server_register.js";
import type { IRCUser } from "./_server_state.js";

/** How the server runs one command. */
export interface IRCCommandSpec {
  /** Runs the command (parameters are already counted). */
  handler(server: IRCServer, user: IRCUser, message: IRCMessage): void;
  /** Fewer parameters get 461 ERR_NEEDMOREPARAMS. */
  minParams: number;
  /** Allowed before registration (otherwise 451 ERR_NOTREGISTERED). */
  beforeRegistration?: boolean;
  /** `false` for commands that do not reset the WHOIS idle time (PING, PONG…). */
  idle?: boolean;
}

/** The commands the server knows, by name. */
export const COMMANDS: Readonly<Record<string, IRCCommandSpec>> = {
  PASS: { handler: register.pass, minParams: 1, beforeRegistration: true, idle: false },
  NICK: { handler: register.nick, minParams: 0, beforeRegistration: true },
  USER: { handler: register.user, minParams: 4, beforeRegistration: true, idle: false },
  CAP: { handler: register.cap, minParams: 1, beforeRegistration: true, idle: false },
  AUTHENTICATE: {
    handler: register.authenticate,
    minParams: 1,
    beforeRegistration: true,
    idle: false,
  },
  PING: { handler: register.ping, minParams: 0, beforeRegistration: true, idle: false },
  PONG: { handler: register.pong, minParams: 0, beforeRegistration: true, idle: false },
  QUIT: { handler: register.quit, minParams: 0, beforeRegistration: true, idle: false },
  JOIN: { handler: channel.join, minParams: 1 },
  PART: { handler: channel.part, minParams: 1 },
  TOPIC: { handler: channel.topic, minParams: 1 },
  NAMES: { handler: channel.names, minParams: 0 },
  LIST: { handler: channel.list, minParams: 0 },
  KICK: { handler: channel.kick, minParams: 2 },
  INVITE: { handler: channel.invite, minParams: 2 },
  MODE: { handler: channel.mode, minParams: 1 },
  PRIVMSG: { handler: query.privmsg, minParams: 0 },
  NOTICE: { handler: query.notice, minParams: 0 },
  TAGMSG: { handler: query.tagmsg, minParams: 1 },
  WHO: { handler: query.who, minParams: 0, idle: false },
  WHOIS: { handler: query.whois, minParams: 0, idle: false },
  WHOWAS: { handler: query.whowas, minParams: 0, idle: false },
  AWAY: { handler: query.away, minParams: 0, idle: false },
  USERHOST: { handler: query.userhost, minParams: 1, idle: false },
  ISON: { handler: query.ison, minParams: 1, idle: false },
  VERSION: { handler: query.version, minParams: 0, idle: false },
  TIME: { handler: query.time, minParams: 0, idle: false },
  MOTD: { handler: query.motd, minParams: 0, idle: false },
  LUSERS: { handler: query.lusers, minParams: 0, idle: false },
  OPER: { handler: query.oper, minParams: 2, idle: false },
  KILL: { handler: query.kill, minParams: 1 },
};
