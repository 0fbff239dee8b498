// IRCClient's bottom layer: reading messages, dispatching them, paced output, heartbeat PINGs.

import { _globalReactor } from "../internet/_global.js";
import { Failure } from "../internet/failure.js";
import type { IDelayedCall, IReactorTime } from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import { ircLower } from "./_casemap.js";
import {
  formatMessage,
  type IRCMessage,
  type IRCMessageInput,
  IRCMessageParser,
  MAX_BODY_BYTES,
  parsePrefix,
} from "./_irc_message.js";
import { ServerSupportedFeatures } from "./_isupport.js";
import { numericName } from "./_numerics.js";

const log = new Logger("twisted-ts.words.client");
const CRLF = Buffer.from("\r\n");

/** What the callbacks about a message can learn beyond Twisted's arguments (IRCv3 tags). */
export interface MessageContext {
  /** The message itself. */
  readonly message: IRCMessage;
  /** Its tags (empty without `message-tags`/`server-time`). */
  readonly tags: ReadonlyMap<string, string>;
  /** When it was sent: the `time` tag (`server-time`), or when it was received. */
  readonly time: Date;
  /** The sender's account (`account` tag), or `null`. */
  readonly account: string | null;
  /** True when it is our own message, echoed back by the server (`echo-message`). */
  readonly echo: boolean;
}

/** Cancels a pending call, if any. */
function cancelCall(call: IDelayedCall | null): void {
  if (call?.active()) call.cancel();
}

type Handler = (prefix: string | null, params: string[]) => void;

/**
 * The transport-facing layer of `IRCClient`: it parses what the server sends and calls
 * `irc_<COMMAND>` (numerics by their symbolic name, `irc_RPL_WELCOME` for `001`) or
 * `irc_unknown`; it paces output by `lineRate` and sends heartbeat PINGs. Subclass
 * `IRCClient`, not this.
 */
export class IRCClientBase extends Protocol {
  /** The nick we use (updated when the server confirms a change). */
  nickname = "irc";
  /** The nick we last asked for. */
  _attemptedNick = "";
  /**
   * Seconds between two lines sent (flood control): lines are queued and sent one per
   * `lineRate` seconds, the first at once. `null` sends every line at once.
   */
  lineRate: number | null = null;
  /** Seconds between heartbeat PINGs once registered; `null` turns the heartbeat off. */
  heartbeatInterval: number | null = 120;
  /**
   * Seconds to wait, after a heartbeat PING, for anything from the server; after that the
   * connection is taken for dead and dropped (`heartbeatTimedOut`).
   */
  heartbeatTimeout = 60;
  /** The last lag measured by a heartbeat, in seconds (`null` before the first answer). */
  lag: number | null = null;
  /** The clock for pacing and heartbeats (default: the global reactor). */
  clock: IReactorTime | null = null;
  /** What the server supports (its `005` replies). */
  supported = new ServerSupportedFeatures();
  /** The server's name, from its welcome. */
  hostname: string | null = null;
  /** The message being handled, while a handler runs. */
  currentMessage: IRCMessage | null = null;
  /** The IRCv3 capabilities in effect (negotiated by `IRCClient`'s CAP layer). */
  readonly enabledCapabilities = new Set<string>();
  /** Options of the parser of incoming lines (servers may exceed 512 bytes: be tolerant). */
  protected readonly parser = new IRCMessageParser({ maxBodyBytes: 8192 });
  private queue: Buffer[] = [];
  private queueCall: IDelayedCall | null = null;
  private heartbeatCall: IDelayedCall | null = null;
  private deadCall: IDelayedCall | null = null;
  private pingSentAt = new Map<string, number>();

  /** The clock in use. */
  protected get _clock(): IReactorTime {
    this.clock ??= _globalReactor<IReactorTime>();
    return this.clock;
  }

  override dataReceived(data: Buffer): void {
    if (this.deadCall !== null) {
      this.deadCall.cancel();
      this.deadCall = null;
    }
    for (const event of this.parser.receiveData(data)) {
      if (!this.connected) return;
      if (event.type === "MessageReceived") {
        const message = event.message;
        this._callUser("messageReceived", () => this.messageReceived(message));
      } else if (event.type === "LineTooLong") {
        const reason = `Line too long (${event.part})`;
        this._callUser("badMessage", () => this.badMessage(null, reason));
      } else {
        const { line, reason } = event;
        this._callUser("badMessage", () => this.badMessage(line, reason));
      }
    }
  }

  /**
   * Runs `call`, which calls the overridable callback `name` from a timer or while handling
   * what the server sent: an error it throws is logged (with the callback's name) and the
   * protocol goes on, with the connection open, instead of escaping into the reactor (or a
   * test's `Clock.advance`).
   */
  protected _callUser(name: string, call: () => void): void {
    try {
      call();
    } catch (e) {
      log.failure("Error in {callback} of {protocol}", Failure.from(e), undefined, {
        callback: name,
        protocol: this.constructor.name,
      });
    }
  }

  /** Called with each message received; dispatches it with `handleCommand`. */
  messageReceived(message: IRCMessage): void {
    this.currentMessage = message;
    try {
      this.handleCommand(message.command, message.prefix, [...message.params]);
    } finally {
      this.currentMessage = null;
    }
  }

  /**
   * Calls `irc_<command>` (a numeric by its symbolic name, or `irc_<numeric>`), or
   * `irc_unknown`. An error thrown by the handler is logged, not raised.
   */
  handleCommand(command: string, prefix: string | null, params: string[]): void {
    const name = numericName(command) ?? command;
    const self = this as unknown as Record<string, unknown>;
    const method = (self[`irc_${name}`] ?? self[`irc_${command}`]) as Handler | undefined;
    try {
      if (typeof method === "function") method.call(this, prefix, params);
      else this.irc_unknown(prefix, command, params);
    } catch (e) {
      log.failure("Error handling {command}", Failure.from(e), undefined, { command });
    }
  }

  /** Called for a command without handler. Override it. */
  irc_unknown(prefix: string | null, command: string, params: string[]): void {}

  /** Called for a line that could not be parsed (`line` is `null` when it was too long). */
  badMessage(line: Buffer | null, reason: string): void {
    log.warn("Bad message from the server: {reason}", { reason });
  }

  /** The context of the message being handled (its tags, server time, echo…). */
  messageContext(): MessageContext | null {
    const message = this.currentMessage;
    if (message === null) return null;
    const tags = message.tags;
    const stamp = tags.get("time");
    const parsed = stamp === undefined ? Number.NaN : Date.parse(stamp);
    const time = new Date(Number.isNaN(parsed) ? this._clock.seconds() * 1000 : parsed);
    const sender = message.prefix === null ? "" : parsePrefix(message.prefix).nick;
    const echo =
      (message.command === "PRIVMSG" || message.command === "NOTICE") &&
      this.isMe(sender) &&
      this.enabledCapabilities.has("echo-message");
    return { message, tags, time, account: tags.get("account") ?? null, echo };
  }

  /** True when `nick` is ours (by the server's case mapping). */
  isMe(nick: string): boolean {
    const map = this.supported.caseMapping;
    return ircLower(nick, map) === ircLower(this.nickname, map);
  }

  /**
   * Sends a raw line (the line ending is added), paced by `lineRate`.
   *
   * @example
   * ```ts
   * client.sendLine("PRIVMSG #twisted :hello");
   * ```
   */
  sendLine(line: string | Uint8Array): void {
    // Buffer.concat copies: the caller's bytes need no copy of their own first.
    const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : line;
    this.queueBytes(Buffer.concat([bytes, CRLF]));
  }

  /**
   * Sends a command, paced by `lineRate` (Twisted's `sendCommand`): the parameters are
   * checked and the last one gets a `:` if it needs one.
   */
  sendCommand(
    command: string,
    params: readonly (string | Uint8Array)[] = [],
    prefix: string | null = null,
    tags: IRCMessageInput["tags"] = null,
  ): void {
    this.queueBytes(formatMessage({ command, params, prefix, tags }));
  }

  /** Sends a command at once, ahead of lines queued by `lineRate` (PONG, QUIT). */
  protected sendNow(command: string, params: readonly string[] = []): void {
    this.transport?.write(formatMessage({ command, params }));
  }

  private queueBytes(bytes: Buffer): void {
    if (this.transport === null) return;
    if (this.lineRate === null || this.lineRate <= 0) {
      if (this.queue.length === 0) {
        this.transport.write(bytes);
        return;
      }
    }
    this.queue.push(bytes);
    if (this.queueCall === null) this.sendQueued();
  }

  private sendQueued(): void {
    this.queueCall = null;
    const next = this.queue.shift();
    if (next === undefined || this.transport === null) return;
    this.transport.write(next);
    // The next line waits a full period, even one queued after this one went out.
    const rate = this.lineRate ?? 0;
    if (rate > 0 || this.queue.length > 0) {
      this.queueCall = this._clock.callLater(Math.max(rate, 0), () =>
        this._callUser("sendQueued", () => this.sendQueued()),
      );
    }
  }

  /** Lines waiting to be sent by `lineRate`. */
  get queuedLines(): number {
    return this.queue.length;
  }

  /** Starts the heartbeat: a PING every `heartbeatInterval` seconds. */
  startHeartbeat(): void {
    this.stopHeartbeat();
    const interval = this.heartbeatInterval;
    if (interval === null || interval <= 0) return;
    this.heartbeatCall = this._clock.callLater(interval, () => this.heartbeatDue());
  }

  /** The heartbeat timer fired: `_sendHeartbeat` (overridable) is guarded. */
  private heartbeatDue(): void {
    this.heartbeatCall = null;
    this._callUser("_sendHeartbeat", () => this._sendHeartbeat());
  }

  /** Stops the heartbeat. */
  stopHeartbeat(): void {
    cancelCall(this.heartbeatCall);
    this.heartbeatCall = null;
    cancelCall(this.deadCall);
    this.deadCall = null;
  }

  /** Sends one heartbeat PING (whose PONG measures the lag) and schedules the next. */
  _sendHeartbeat(): void {
    const now = this._clock.seconds();
    const token = `LAG${Math.round(now * 1000)}`;
    this.pingSentAt.clear();
    this.pingSentAt.set(token, now);
    this.sendNow("PING", [token]);
    if (this.deadCall === null && this.heartbeatTimeout > 0) {
      this.deadCall = this._clock.callLater(this.heartbeatTimeout, () => {
        this.deadCall = null;
        this._callUser("heartbeatTimedOut", () => this.heartbeatTimedOut());
      });
    }
    const interval = this.heartbeatInterval;
    if (interval !== null && interval > 0) {
      this.heartbeatCall = this._clock.callLater(interval, () => this.heartbeatDue());
    }
  }

  /**
   * The server said nothing for `heartbeatTimeout` seconds after a PING: drops the connection.
   * An override that throws is logged; the connection then stays, and the next heartbeat
   * PING (if `heartbeatInterval` is set) starts the wait again.
   */
  heartbeatTimedOut(): void {
    log.warn("No answer from the server to a heartbeat PING: dropping the connection");
    const t = this.transport as { abortConnection?: () => void } | null;
    if (typeof t?.abortConnection === "function") t.abortConnection();
    else this.transport?.loseConnection();
  }

  /** Called with each lag measured by a heartbeat, in seconds. Override it. */
  lagMeasured(seconds: number): void {}

  /** PONG: measures the lag when it answers a heartbeat. */
  irc_PONG(prefix: string | null, params: string[]): void {
    const token = params[params.length - 1] ?? "";
    const sent = this.pingSentAt.get(token);
    if (sent === undefined) return;
    this.pingSentAt.delete(token);
    const lag = this._clock.seconds() - sent;
    this.lag = lag;
    this._callUser("lagMeasured", () => this.lagMeasured(lag));
  }

  /**
   * Whether an automatic reply that echoes the peer's data (PONG, CTCP PING) fits in a
   * 512-byte line; if not, it is logged and should not be sent. We read lines longer than 512
   * bytes from tolerance, but must not send them: a strict server refuses them (417).
   */
  protected _replyFits(command: string, params: readonly string[]): boolean {
    const length = formatMessage({ command, params }).length;
    if (length <= MAX_BODY_BYTES) return true;
    log.warn("Not answering {command}: the reply would be {length} bytes, over 512", {
      command,
      length,
    });
    return false;
  }

  /** PING from the server: answered at once, ahead of queued lines (unless too long to echo). */
  irc_PING(prefix: string | null, params: string[]): void {
    const reply = [params[params.length - 1] ?? ""];
    if (this._replyFits("PONG", reply)) this.sendNow("PONG", reply);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.stopHeartbeat();
    cancelCall(this.queueCall);
    this.queueCall = null;
    this.queue = [];
  }
}
