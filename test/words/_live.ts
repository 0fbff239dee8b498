// Test helpers over real sockets: an IRCClient that records events and lets tests wait for
// them, and a raw line socket (node:net) for speaking IRC by hand.

import { connect as netConnect, type Socket } from "node:net";
import type { NodeReactor } from "../../src/internet/_reactor.js";
import type { Failure } from "../../src/internet/failure.js";
import { ClientFactory } from "../../src/internet/protocol.js";
import { IRCClient } from "../../src/words/_client.js";

/** Resolves when `check()` returns a value other than undefined; fails after `ms`. */
export function waitFor<T>(what: string, check: () => T | undefined, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const v = check();
      if (v !== undefined) resolve(v);
      else if (Date.now() - started > ms) reject(new Error(`Timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** An IRCClient that logs what happens as lines of text. */
export class LiveBot extends IRCClient {
  events: string[] = [];
  lostReason: Failure | null = null;
  autoJoin: string[] = [];

  override signedOn(): void {
    this.events.push("signedOn");
    for (const c of this.autoJoin) this.join(c);
  }
  override joined(channel: string): void {
    this.events.push(`joined ${channel}`);
  }
  override left(channel: string): void {
    this.events.push(`left ${channel}`);
  }
  override userJoined(user: string, channel: string): void {
    this.events.push(`userJoined ${user} ${channel}`);
  }
  override userLeft(user: string, channel: string): void {
    this.events.push(`userLeft ${user} ${channel}`);
  }
  override userQuit(user: string, message: string): void {
    this.events.push(`userQuit ${user} ${message}`);
  }
  override privmsg(user: string, channel: string, message: string): void {
    this.events.push(`privmsg ${user.split("!")[0]} ${channel} ${message}`);
  }
  override modeChanged(
    user: string,
    channel: string,
    set: boolean,
    modes: string,
    args: (string | null)[],
  ): void {
    this.events.push(
      `mode ${channel} ${set ? "+" : "-"}${modes} ${args.filter((a) => a !== null).join(" ")}`.trim(),
    );
  }
  override topicUpdated(user: string, channel: string, topic: string): void {
    this.events.push(`topic ${channel} ${topic}`);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lostReason = reason;
  }

  /** Waits for an event line matching `pattern`. */
  waitEvent(pattern: RegExp, ms?: number): Promise<string> {
    return waitFor(
      `${this.nickname}: ${pattern}`,
      () => this.events.find((e) => pattern.test(e)),
      ms,
    );
  }
}

/** Connects a `LiveBot` (configured by `setup`) to host:port on `reactor`. */
export function connectBot(
  reactor: NodeReactor,
  host: string,
  port: number,
  setup: (bot: LiveBot) => void,
): LiveBot {
  const bot = new LiveBot();
  bot.clock = reactor;
  setup(bot);
  const factory = new ClientFactory();
  factory.buildProtocol = () => {
    bot.factory = factory;
    return bot;
  };
  reactor.connectTCP(host, port, factory);
  return bot;
}

/** A plain TCP socket exchanging IRC lines. */
export class RawSocket {
  readonly lines: string[] = [];
  closed = false;
  private partial = "";
  readonly socket: Socket;

  constructor(port: number, host = "127.0.0.1") {
    this.socket = netConnect(port, host);
    this.socket.on("data", (d) => {
      const parts = (this.partial + d.toString("latin1")).split("\r\n");
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
    });
  }

  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => `${l}\r\n`).join(""));
  }

  waitLine(pattern: RegExp, ms?: number): Promise<string> {
    return waitFor(`raw line ${pattern}`, () => this.lines.find((l) => pattern.test(l)), ms);
  }

  waitClosed(ms?: number): Promise<true> {
    return waitFor("socket close", () => (this.closed ? true : undefined), ms);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
