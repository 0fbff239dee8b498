// IRCServer: the state and rules of a single-server IRC daemon, its hooks, bots and output.

import { IUsernamePassword, type Portal } from "../cred/index.js";
import { _globalReactor } from "../internet/_global.js";
import type { IReactorTime } from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import { IRCMap, ircLower } from "./_casemap.js";
import { formatMessage, type IRCMessage, parseMessage } from "./_irc_message.js";
import { COMMANDS } from "./_server_commands.js";
import { CHANNEL_TYPES, IRCChannel, IRCUser, type IRCUserConnection } from "./_server_state.js";

const log = new Logger("twisted-ts.words.server");

/** Flood protection: a penalty per command, a burst allowance and a queue limit. */
export interface IRCFloodOptions {
  /** Seconds a client may run ahead of real time before its commands wait (default 10). */
  burst?: number;
  /** Seconds each command costs (default 1). */
  penalty?: number;
  /** Bytes of waiting input beyond which the client is dropped, "Excess Flood" (default 4096). */
  queueBytes?: number;
}

/**
 * Hooks through which an embedding program follows and shapes the server: persisting
 * channels, vetoing messages, adding commands. Every hook is optional.
 */
export interface IRCServerHooks {
  /** A user was welcomed. */
  userRegistered?(user: IRCUser): void;
  /** A registered user left (QUIT, lost connection, KILL, flood…). */
  userQuit?(user: IRCUser, reason: string): void;
  /** A user changed nick. */
  nickChanged?(user: IRCUser, oldNick: string): void;
  /** A channel came into being (first JOIN, or `createChannel`). */
  channelCreated?(channel: IRCChannel): void;
  /** A channel emptied and was removed. */
  channelDestroyed?(channel: IRCChannel): void;
  /** A channel's topic or modes (bans included) changed. */
  channelChanged?(channel: IRCChannel, what: "topic" | "modes"): void;
  /** A PRIVMSG or NOTICE is about to be delivered; return `false` to drop it silently. */
  messageSent?(sender: IRCUser, target: string, text: string, command: string): boolean | undefined;
  /** Any command from a user, before the server's own handling; return `true` if handled. */
  commandReceived?(user: IRCUser, message: IRCMessage): boolean | undefined;
}

/** Options of `IRCServer`. */
export interface IRCServerOptions {
  /** The server's name (default `"localhost"`). */
  hostname?: string;
  /** The network's name in ISUPPORT `NETWORK` (default `"TwistedTS"`). */
  network?: string;
  /** The message of the day, as text or lines (default: none, 422). */
  motd?: string | readonly string[] | null;
  /**
   * Authenticates users: SASL PLAIN, or `PASS [user:]password` at registration. When set,
   * registration requires a login; a client without credentials is tried as `Anonymous`.
   */
  portal?: Portal | null;
  /** IRC operators: name → password (for `OPER`). */
  opers?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** The clock for timers and timestamps (default: the global reactor). */
  clock?: IReactorTime;
  /** Seconds of silence before the server PINGs a client (default 120). */
  pingInterval?: number;
  /** Seconds to wait for any answer to that PING before dropping (default 60). */
  pingTimeout?: number;
  /** Seconds a connection may take to register (default 60). */
  registrationTimeout?: number;
  /** Flood protection (see `IRCFloodOptions`); `false` turns it off. */
  flood?: IRCFloodOptions | false;
  /** Bytes of output waiting for a client that does not read before it is dropped (1 MiB). */
  sendQBytes?: number;
  /** `rfc1459` (default) or `ascii`. */
  caseMapping?: "rfc1459" | "ascii";
  /** Longest nick (default 30). */
  nickLength?: number;
  /** Longest channel name (default 50). */
  channelLength?: number;
  /** Longest topic (default 390). */
  topicLength?: number;
  /** Channels one user may join (default 50). */
  maxChannels?: number;
  /** Targets of one PRIVMSG/NOTICE (default 4). */
  maxTargets?: number;
  /** Bans per channel (default 100). */
  maxBans?: number;
  /** Modes with a parameter in one MODE (default 4). */
  maxModes?: number;
  /** Modes of new channels (default `"nt"`). */
  defaultChannelModes?: string;
  /** Hooks of the embedding program. */
  hooks?: IRCServerHooks;
  /** The version string (default `"twisted-ts-words-0.1"`). */
  version?: string;
}

/** A WHOWAS entry. */
export interface WhowasEntry {
  nick: string;
  username: string;
  host: string;
  realname: string;
  time: number;
}

/** Options of `IRCServer.addBot`. */
export interface IRCBotOptions {
  username?: string;
  realname?: string;
  /** Called with each message the server sends the bot. */
  messageReceived?(message: IRCMessage, bot: IRCBot): void;
}

/** A user living inside the server (an embedding program's bot): it acts through commands. */
export class IRCBot implements IRCUserConnection {
  /** The bot's user. */
  user!: IRCUser;

  constructor(
    readonly server: IRCServer,
    private readonly onMessage: ((message: IRCMessage, bot: IRCBot) => void) | undefined,
  ) {}

  /** Runs a command as the bot, as if a client had sent it. */
  command(command: string, ...params: string[]): void {
    this.server.dispatch(this.user, { tags: new Map(), prefix: null, command, params });
  }

  /** Joins a channel. */
  join(channel: string): void {
    this.command("JOIN", channel);
  }

  /** Sends a PRIVMSG to a user or channel. */
  say(target: string, text: string): void {
    this.command("PRIVMSG", target, text);
  }

  /** Leaves the server. */
  quit(reason = "Bot leaving"): void {
    this.command("QUIT", reason);
  }

  sendLine(line: Buffer): void {
    if (this.onMessage === undefined) return;
    try {
      this.onMessage(parseMessage(line), this);
    } catch (e) {
      log.error("Bot {nick} failed on a message: {error}", { nick: this.user.nick, error: e });
    }
  }

  close(reason: string): void {}
}

/** What delivery needs to know of each recipient's capabilities. */
type Profile = 0 | 1 | 2 | 3;

/**
 * A single-server IRC daemon's state and rules, shared by its connections (built by
 * `IRCServerFactory`). It knows users and channels, answers commands (RFC 1459/2812 and
 * Modern IRC numerics, IRCv3 capabilities), authenticates through a cred `Portal`, and
 * exposes hooks and bots to an embedding program.
 *
 * @example
 * ```ts
 * const server = new IRCServer({ hostname: "irc.example", network: "Example", motd: "Hi!" });
 * server.addBot("echo", { messageReceived: (m, bot) => {
 *   if (m.command === "PRIVMSG") bot.say(parsePrefix(m.prefix!).nick, m.params[1]!);
 * } });
 * reactor.listenTCP(6667, new IRCServerFactory(server));
 * ```
 */
export class IRCServer {
  readonly hostname: string;
  readonly network: string;
  readonly version: string;
  /** When the server started, in seconds. */
  readonly created: number;
  motd: string[] | null;
  readonly portal: Portal | null;
  readonly opers: ReadonlyMap<string, string>;
  readonly caseMapping: string;
  readonly limits: {
    nick: number;
    channel: number;
    topic: number;
    channels: number;
    targets: number;
    bans: number;
    modes: number;
    away: number;
    kick: number;
  };
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly registrationTimeout: number;
  readonly flood: Required<IRCFloodOptions> | null;
  readonly sendQBytes: number;
  readonly defaultChannelModes: string;
  hooks: IRCServerHooks;
  /** Users by nick (registering ones holding a nick included). */
  readonly users: IRCMap<IRCUser>;
  /** Channels by name. */
  readonly channels: IRCMap<IRCChannel>;
  /** Every user, registered or not. */
  readonly connections = new Set<IRCUser>();
  /** Users who left or changed nick, by nick, newest first. */
  readonly whowas: IRCMap<WhowasEntry[]>;
  private readonly clockOption: IReactorTime | undefined;

  constructor(options: IRCServerOptions = {}) {
    this.hostname = options.hostname ?? "localhost";
    this.network = options.network ?? "TwistedTS";
    this.version = options.version ?? "twisted-ts-words-0.1";
    this.clockOption = options.clock;
    this.created = this.now();
    const motd = options.motd ?? null;
    this.motd = motd === null ? null : typeof motd === "string" ? motd.split(/\r?\n/) : [...motd];
    this.portal = options.portal ?? null;
    const opers = options.opers ?? {};
    this.opers = opers instanceof Map ? new Map(opers) : new Map(Object.entries(opers));
    this.caseMapping = options.caseMapping ?? "rfc1459";
    this.limits = {
      nick: options.nickLength ?? 30,
      channel: options.channelLength ?? 50,
      topic: options.topicLength ?? 390,
      channels: options.maxChannels ?? 50,
      targets: options.maxTargets ?? 4,
      bans: options.maxBans ?? 100,
      modes: options.maxModes ?? 4,
      away: 200,
      kick: 255,
    };
    this.pingInterval = options.pingInterval ?? 120;
    this.pingTimeout = options.pingTimeout ?? 60;
    this.registrationTimeout = options.registrationTimeout ?? 60;
    this.flood =
      options.flood === false
        ? null
        : { burst: 10, penalty: 1, queueBytes: 4096, ...(options.flood ?? {}) };
    this.sendQBytes = options.sendQBytes ?? 1024 * 1024;
    this.defaultChannelModes = options.defaultChannelModes ?? "nt";
    this.hooks = options.hooks ?? {};
    this.users = new IRCMap(this.caseMapping);
    this.channels = new IRCMap(this.caseMapping);
    this.whowas = new IRCMap(this.caseMapping);
  }

  /** The clock (the option, else the global reactor). */
  get clock(): IReactorTime {
    return this.clockOption ?? _globalReactor<IReactorTime>();
  }

  /** The current time in seconds. */
  now(): number {
    return this.clock.seconds();
  }

  /** Folds a nick or channel name by the case mapping. */
  fold(name: string): string {
    return ircLower(name, this.caseMapping);
  }

  /** The IRCv3 capabilities offered: name → value (for CAP LS 302). */
  capabilities(): Map<string, string | null> {
    const caps = new Map<string, string | null>([
      ["account-notify", null],
      ["away-notify", null],
      ["batch", null],
      ["cap-notify", null],
      ["echo-message", null],
      ["extended-join", null],
      ["labeled-response", null],
      ["message-tags", null],
      ["multi-prefix", null],
      ["server-time", null],
    ]);
    if (this.acceptsPasswords()) caps.set("sasl", "PLAIN");
    return caps;
  }

  /** True when the portal can check user names and passwords (SASL PLAIN, `PASS`). */
  acceptsPasswords(): boolean {
    return this.portal?.listCredentialsInterfaces().includes(IUsernamePassword) === true;
  }

  /** The ISUPPORT (005) tokens. */
  isupportTokens(): string[] {
    const l = this.limits;
    return [
      `AWAYLEN=${l.away}`,
      `CASEMAPPING=${this.caseMapping}`,
      `CHANLIMIT=${CHANNEL_TYPES}:${l.channels}`,
      "CHANMODES=b,k,l,imnst",
      `CHANNELLEN=${l.channel}`,
      `CHANTYPES=${CHANNEL_TYPES}`,
      "ELIST=",
      `KICKLEN=${l.kick}`,
      `MAXLIST=b:${l.bans}`,
      `MODES=${l.modes}`,
      `NETWORK=${this.network.replace(/ /g, "\\x20")}`,
      `NICKLEN=${l.nick}`,
      "PREFIX=(ov)@+",
      "STATUSMSG=@+",
      `TARGMAX=PRIVMSG:${l.targets},NOTICE:${l.targets},TAGMSG:${l.targets},JOIN:,PART:,KICK:1,WHOIS:1,NAMES:1,LIST:`,
      `TOPICLEN=${l.topic}`,
    ];
  }

  // Output -------------------------------------------------------------------------------------

  private line(
    profile: Profile,
    source: string | null,
    command: string,
    params: readonly (string | Uint8Array)[],
    clientTags: ReadonlyMap<string, string> | null,
    time: string,
  ): Buffer {
    let tags: Map<string, string> | null = null;
    if (profile & 1) tags = new Map([["time", time]]);
    if (profile & 2 && clientTags !== null) {
      tags ??= new Map();
      for (const [k, v] of clientTags) if (k[0] === "+") tags.set(k, v);
    }
    return formatMessage({ tags, prefix: source, command, params }, { maxBodyBytes: 512 });
  }

  private static profile(user: IRCUser): Profile {
    return ((user.caps.has("server-time") ? 1 : 0) |
      (user.caps.has("message-tags") ? 2 : 0)) as Profile;
  }

  private timestamp(): string {
    return new Date(this.now() * 1000).toISOString();
  }

  /** Sends a message to one user, from the server unless `source` is given. */
  send(
    user: IRCUser,
    command: string,
    params: readonly (string | Uint8Array)[],
    source: string | null = this.hostname,
    clientTags: ReadonlyMap<string, string> | null = null,
  ): void {
    if (user.gone) return;
    const line = this.line(
      IRCServer.profile(user),
      source,
      command,
      params,
      clientTags,
      this.timestamp(),
    );
    user.connection.sendLine(line);
  }

  /** Sends a numeric reply: `:server CODE nick params…`. */
  numeric(user: IRCUser, code: string, ...params: string[]): void {
    this.send(user, code, [user.target, ...params]);
  }

  /**
   * Sends one message to many users, formatting it once per kind of recipient (with or
   * without `server-time`, with or without client tags).
   */
  deliver(
    recipients: Iterable<IRCUser>,
    source: string,
    command: string,
    params: readonly (string | Uint8Array)[],
    clientTags: ReadonlyMap<string, string> | null = null,
  ): void {
    const lines: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
    const time = this.timestamp();
    for (const user of recipients) {
      if (user.gone) continue;
      const p = IRCServer.profile(user);
      const line = (lines[p] ??= this.line(p, source, command, params, clientTags, time));
      user.connection.sendLine(line);
    }
  }

  /** The users who share a channel with `user` (not `user` itself). */
  neighbours(user: IRCUser): Set<IRCUser> {
    const out = new Set<IRCUser>();
    for (const channel of user.channels)
      for (const member of channel.members.keys()) out.add(member);
    out.delete(user);
    return out;
  }

  // Users --------------------------------------------------------------------------------------

  /** A new connection: makes its (unregistered) user. */
  userConnected(connection: IRCUserConnection, host: string): IRCUser {
    const user = new IRCUser(host, connection, this.now());
    this.connections.add(user);
    return user;
  }

  /** Records a nick for WHOWAS. */
  rememberNick(user: IRCUser): void {
    if (user.nick === null || !user.registered) return;
    const entry: WhowasEntry = {
      nick: user.nick,
      username: user.username ?? "",
      host: user.host,
      realname: user.realname,
      time: this.now(),
    };
    const list = this.whowas.get(user.nick) ?? [];
    list.unshift(entry);
    list.length = Math.min(list.length, 5);
    this.whowas.set(user.nick, list);
    if (this.whowas.size > 2000) this.whowas.delete(this.whowas.keys().next().value!);
  }

  /**
   * Removes `user` from the server: parts every channel telling the members (`QUIT :reason`),
   * forgets the nick and closes the connection with `ERROR :Closing Link`.
   */
  quit(user: IRCUser, reason: string): void {
    if (user.gone) return;
    const neighbours = this.neighbours(user);
    if (user.registered) this.deliver(neighbours, user.prefix, "QUIT", [reason]);
    for (const channel of [...user.channels]) this.removeMember(channel, user);
    this.rememberNick(user);
    if (user.nick !== null && this.users.get(user.nick) === user) this.users.delete(user.nick);
    this.connections.delete(user);
    user.gone = true;
    if (user.registered) this.callHook("userQuit", user, reason);
    user.logout?.();
    user.logout = null;
    user.connection.close(reason);
  }

  // Channels -----------------------------------------------------------------------------------

  /**
   * Makes a channel ahead of any JOIN (e.g. restored from storage). A `persistent` channel stays
   * when it empties.
   */
  createChannel(
    name: string,
    options: {
      topic?: string;
      modes?: string;
      key?: string;
      limit?: number;
      persistent?: boolean;
    } = {},
  ): IRCChannel {
    const existing = this.channels.get(name);
    if (existing !== undefined) return existing;
    const channel = new IRCChannel(name, this.now());
    for (const m of options.modes ?? this.defaultChannelModes)
      if ("imnst".includes(m)) channel.modes.add(m);
    if (options.topic !== undefined) {
      channel.topic = options.topic;
      channel.topicSetBy = this.hostname;
      channel.topicTime = this.now();
    }
    channel.key = options.key ?? null;
    channel.limit = options.limit ?? null;
    channel.persistent = options.persistent ?? false;
    this.channels.set(name, channel);
    this.callHook("channelCreated", channel);
    return channel;
  }

  /** Takes `user` out of `channel`, removing the channel once empty (unless persistent). */
  removeMember(channel: IRCChannel, user: IRCUser): void {
    channel.members.delete(user);
    user.channels.delete(channel);
    if (channel.members.size === 0 && !channel.persistent) {
      this.channels.delete(channel.name);
      this.callHook("channelDestroyed", channel);
    }
  }

  /** Calls the hook `name` if it is set, logging (not raising) its error; gives its result. */
  callHook<K extends keyof IRCServerHooks>(
    name: K,
    ...args: Parameters<NonNullable<IRCServerHooks[K]>>
  ): ReturnType<NonNullable<IRCServerHooks[K]>> | undefined {
    const hook = this.hooks[name] as ((...a: typeof args) => unknown) | undefined;
    if (hook === undefined) return undefined;
    try {
      return hook.apply(this.hooks, args) as ReturnType<NonNullable<IRCServerHooks[K]>>;
    } catch (e) {
      log.error("IRC server hook {hook} failed: {error}", { hook: name, error: e });
      return undefined;
    }
  }

  // Commands and bots -----------------------------------------------------------------------------

  /**
   * Runs one command from `user`: the `commandReceived` hook, then the command table (451
   * before registration, 461 when parameters are missing, 421 for an unknown command).
   */
  dispatch(user: IRCUser, message: IRCMessage): void {
    if (user.gone) return;
    if (this.callHook("commandReceived", user, message) === true) return;
    const spec = COMMANDS[message.command];
    if (spec === undefined) {
      if (user.registered) this.numeric(user, "421", message.command, "Unknown command");
      else this.numeric(user, "451", "You have not registered");
      return;
    }
    if (!user.registered && !spec.beforeRegistration) {
      this.numeric(user, "451", "You have not registered");
      return;
    }
    if (message.params.length < spec.minParams) {
      this.numeric(user, "461", message.command, "Not enough parameters");
      return;
    }
    if (spec.idle !== false) user.lastActive = this.now();
    spec.handler(this, user, message);
  }

  /**
   * Adds a bot: a user inside the server, registered at once, acting through commands
   * (`bot.join`, `bot.say`, `bot.command`) and seeing what is sent to it.
   */
  addBot(nick: string, options: IRCBotOptions = {}): IRCBot {
    const bot = new IRCBot(this, options.messageReceived);
    const user = this.userConnected(bot, this.hostname);
    user.authenticated = true;
    bot.user = user;
    this.dispatch(user, { tags: new Map(), prefix: null, command: "NICK", params: [nick] });
    if (user.nick === null) {
      this.quit(user, "Bad nick");
      throw new Error(`Cannot add bot: nick ${nick} is invalid or in use`);
    }
    this.dispatch(user, {
      tags: new Map(),
      prefix: null,
      command: "USER",
      params: [options.username ?? nick, "0", "*", options.realname ?? nick],
    });
    return bot;
  }
}
