// One IRC server connection: input limits, flood control, ping timeout, send queue; and its factory.

import type { Failure } from "../internet/failure.js";
import type {
  IAddress,
  IDelayedCall,
  IPushProducer,
  ITCPTransport,
} from "../internet/interfaces.js";
import { Protocol, ServerFactory } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import { formatMessage, IRCMessageParser, type IRCParseEvent } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import { type LabeledReply, startLabeledReply } from "./_server_labeled.js";
import type { IRCUser, IRCUserConnection } from "./_server_state.js";

const log = new Logger("twisted-ts.words.server");

/** Bytes of input held during a login when flood protection is off (then "Excess Flood"). */
const HELD_WITHOUT_FLOOD_BYTES = 64 * 1024;

function cancelCall(call: IDelayedCall | null): void {
  if (call?.active()) call.cancel();
}

/** Roughly the bytes a held event took on the wire (what the flood queue limit counts). */
function sizeOf(event: IRCParseEvent): number {
  if (event.type !== "MessageReceived") return 512;
  const m = event.message;
  let n = m.command.length + 2;
  for (const p of m.params) n += p.length + 2;
  return n;
}

function hostOf(addr: IAddress): string {
  const a = addr as { host?: unknown; name?: unknown };
  if (typeof a.host === "string") return a.host.includes(":") ? `[${a.host}]` : a.host;
  return "localhost";
}

/**
 * The server side of one IRC connection. It turns bytes into commands for its `IRCServer`
 * (417 for over-long lines, garbage skipped), holds a client that runs ahead of its flood
 * allowance and drops it ("Excess Flood") once too much waits, PINGs a silent client and drops
 * it when it stays silent ("Ping timeout"), drops one that does not register in time, and
 * queues output only up to `sendQBytes` for a client that does not read ("Max SendQ exceeded").
 */
export class IRCServerProtocol extends Protocol implements IRCUserConnection, IPushProducer {
  /** The server this connection belongs to (set by the factory). */
  server!: IRCServer;
  /** This connection's user. */
  user: IRCUser | null = null;
  private readonly parser = new IRCMessageParser();
  /** Input waiting for the flood allowance (or a login). */
  private pending: IRCParseEvent[] = [];
  private pendingBytes = 0;
  /** The time up to which the client has used its allowance (the penalty clock). */
  private penaltyUntil = 0;
  private drainCall: IDelayedCall | null = null;
  private pingCall: IDelayedCall | null = null;
  private registrationCall: IDelayedCall | null = null;
  private lastInput = 0;
  private pingSent: number | null = null;
  private writePaused = false;
  private sendQ: Buffer[] = [];
  private sendQLength = 0;
  private closing = false;
  private producerRegistered = false;
  /** The labeled response under way (IRCv3 `labeled-response`): lines sent go through it. */
  private reply: LabeledReply | null = null;
  private replyRefs = 0;

  override connectionMade(): void {
    super.connectionMade();
    this.server ??= (this.factory as IRCServerFactory).server;
    const server = this.server;
    const transport = this.transport!;
    this.user = server.userConnected(this, hostOf(transport.getPeer()));
    const now = server.now();
    this.lastInput = now;
    this.penaltyUntil = now;
    const consumer = transport as Partial<ITCPTransport>;
    if (typeof consumer.registerProducer === "function") {
      consumer.registerProducer(this, true);
      this.producerRegistered = true;
    }
    this.registrationCall = server.clock.callLater(server.registrationTimeout, () => {
      this.registrationCall = null;
      if (this.user !== null && !this.user.registered)
        server.quit(this.user, "Registration timed out");
    });
    this.schedulePing(server.pingInterval);
  }

  override dataReceived(data: Buffer): void {
    const user = this.user;
    if (user === null || user.gone) return;
    this.lastInput = this.server.now();
    for (const event of this.parser.receiveData(data)) {
      if (user.gone) return;
      if (this.pending.length > 0 || !this.mayProcess()) {
        this.hold(event);
        continue;
      }
      this.process(event);
    }
  }

  /** True when the next command may run now: within the flood allowance, no login pending. */
  private mayProcess(): boolean {
    const user = this.user!;
    if (user.authPending) return false;
    const flood = this.server.flood;
    if (flood === null || user.isOper) return true;
    const now = this.server.now();
    if (this.penaltyUntil < now) this.penaltyUntil = now;
    return this.penaltyUntil - now <= flood.burst;
  }

  private hold(event: IRCParseEvent): void {
    const size = sizeOf(event);
    this.pending.push(event);
    this.pendingBytes += size;
    const flood = this.server.flood;
    // Without flood protection input is held only while a login is pending: bound it all the same.
    const limit = flood === null ? HELD_WITHOUT_FLOOD_BYTES : flood.queueBytes;
    if (this.pendingBytes > limit && !this.user!.isOper) {
      this.server.quit(this.user!, "Excess Flood");
      return;
    }
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainCall !== null || this.user!.authPending) return;
    const flood = this.server.flood;
    const wait =
      flood === null ? 0 : Math.max(0, this.penaltyUntil - this.server.now() - flood.burst);
    this.drainCall = this.server.clock.callLater(wait, () => {
      this.drainCall = null;
      this.resume();
    });
  }

  /** Runs held commands while the allowance lasts (also called when a login completes). */
  resume(): void {
    const user = this.user;
    if (user === null || user.gone) return;
    // A labeled command that waited for a login (SASL, PASS) is answered now.
    if (!user.authPending) this.endReply();
    while (this.pending.length > 0 && this.mayProcess()) {
      const event = this.pending.shift()!;
      this.pendingBytes -= sizeOf(event);
      this.process(event);
      if (user.gone) return;
    }
    if (this.pending.length > 0) this.scheduleDrain();
  }

  private process(event: IRCParseEvent): void {
    const server = this.server;
    const user = this.user!;
    if (server.flood !== null) this.penaltyUntil += server.flood.penalty;
    if (event.type === "LineTooLong") {
      server.numeric(user, "417", "Input line was too long");
      return;
    }
    if (event.type === "LineMalformed") {
      log.debug("Dropped a malformed line from {user}: {reason}", {
        user: user.prefix,
        reason: event.reason,
      });
      return;
    }
    const reply = startLabeledReply(server, user, event.message, `lr${++this.replyRefs}`, (l) =>
      this.writeLine(l),
    );
    if (reply === false) return;
    this.reply = reply;
    try {
      server.dispatch(user, event.message);
    } catch (e) {
      log.error("Error handling {command} from {user}: {error}", {
        command: event.message.command,
        user: user.prefix,
        error: e,
      });
    }
    // Its response is complete, unless it waits for a login (then `resume` ends it).
    if (!user.authPending) this.endReply();
    if (user.registered && this.registrationCall !== null) {
      cancelCall(this.registrationCall);
      this.registrationCall = null;
    }
  }

  private schedulePing(delay: number): void {
    cancelCall(this.pingCall);
    this.pingCall = this.server.clock.callLater(delay, () => this.pingDue());
  }

  private pingDue(): void {
    this.pingCall = null;
    const user = this.user;
    if (user === null || user.gone) return;
    const server = this.server;
    const now = server.now();
    if (this.pingSent !== null) {
      if (this.lastInput >= this.pingSent) {
        this.pingSent = null;
      } else {
        const silent = Math.round(now - this.lastInput);
        server.quit(user, `Ping timeout: ${silent} seconds`);
        return;
      }
    }
    const idle = now - this.lastInput;
    if (idle < server.pingInterval) {
      this.schedulePing(server.pingInterval - idle);
      return;
    }
    this.pingSent = now;
    server.send(user, "PING", [server.hostname], null);
    this.schedulePing(server.pingTimeout);
  }

  // IRCUserConnection ----------------------------------------------------------------------------

  /** Sends a line: through the labeled response under way, if any. */
  sendLine(line: Buffer): void {
    if (this.reply !== null) this.reply.lineSent(line);
    else this.writeLine(line);
  }

  private endReply(): void {
    const reply = this.reply;
    if (reply === null) return;
    this.reply = null;
    reply.end();
  }

  /** Writes a line, or queues it while the transport's buffer is full. */
  private writeLine(line: Buffer): void {
    const transport = this.transport;
    if (transport === null || this.closing) return;
    if (!this.writePaused) {
      transport.write(line);
      return;
    }
    this.sendQ.push(line);
    this.sendQLength += line.length;
    if (this.sendQLength > this.server.sendQBytes && this.user !== null) {
      this.sendQ = [];
      this.sendQLength = 0;
      this.server.quit(this.user, "Max SendQ exceeded");
    }
  }

  /** Sends `ERROR :Closing Link` and closes the connection. */
  close(reason: string): void {
    const transport = this.transport;
    if (transport === null || this.closing) return;
    // What a labeled command (QUIT, KILL…) produced goes out before the ERROR; no ACK for none.
    if (this.reply !== null && this.reply.lines > 0) this.endReply();
    this.reply = null;
    const stuck = this.sendQLength > 0 || reason === "Max SendQ exceeded";
    this.closing = true;
    this.stopTimers();
    const host = this.user?.host ?? "*";
    transport.write(
      formatMessage({ command: "ERROR", params: [`Closing Link: ${host} (${reason})`] }),
    );
    const t = transport as Partial<ITCPTransport>;
    // A registered producer would hold loseConnection back (Twisted's rule): we are done.
    if (this.producerRegistered) {
      this.producerRegistered = false;
      t.unregisterProducer?.();
    }
    if (stuck && typeof t.abortConnection === "function") t.abortConnection();
    else transport.loseConnection();
  }

  // IPushProducer: the transport says when its buffer is full -----------------------------------

  pauseProducing(): void {
    this.writePaused = true;
  }

  resumeProducing(): void {
    this.writePaused = false;
    const queued = this.sendQ;
    this.sendQ = [];
    this.sendQLength = 0;
    for (const line of queued) this.transport?.write(line);
  }

  stopProducing(): void {}

  private stopTimers(): void {
    cancelCall(this.drainCall);
    cancelCall(this.pingCall);
    cancelCall(this.registrationCall);
    this.drainCall = this.pingCall = this.registrationCall = null;
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.stopTimers();
    this.pending = [];
    const user = this.user;
    if (user !== null && !user.gone) {
      this.closing = true;
      this.server.quit(user, "Connection closed");
    }
  }
}

/**
 * Builds an `IRCServerProtocol` per connection for one `IRCServer`.
 *
 * @example
 * ```ts
 * reactor.listenTCP(6667, new IRCServerFactory(new IRCServer({ hostname: "irc.example" })));
 * ```
 */
export class IRCServerFactory extends ServerFactory<IRCServerProtocol> {
  override protocol = IRCServerProtocol;

  constructor(readonly server: IRCServer) {
    super();
  }

  override buildProtocol(addr: IAddress): IRCServerProtocol {
    const p = new IRCServerProtocol();
    p.factory = this;
    p.server = this.server;
    return p;
  }
}
