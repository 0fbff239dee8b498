// Test helper: an IRCServer on a Clock with several in-memory (iosim) clients speaking raw IRC.

import { IPv4Address } from "../../src/internet/address.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IProtocol } from "../../src/internet/interfaces.js";
import { Protocol } from "../../src/internet/protocol.js";
import { Clock, connectedServerAndClient, type IOPump } from "../../src/testing/index.js";
import { IRCServer, type IRCServerOptions } from "../../src/words/_server.js";
import { IRCServerFactory, type IRCServerProtocol } from "../../src/words/_server_protocol.js";

/** A client that sends raw lines and records the lines it receives. */
export class RawClient extends Protocol {
  received: string[] = [];
  lost: Failure | null = null;
  private partial = "";

  override dataReceived(data: Buffer): void {
    const text = this.partial + data.toString("latin1");
    const lines = text.split("\r\n");
    this.partial = lines.pop()!;
    this.received.push(...lines);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.lost = reason;
  }

  /** Sends lines (`\r\n` added); a string is sent as latin-1 so any byte can be written. */
  send(...lines: (string | Buffer)[]): void {
    for (const l of lines) {
      this.transport!.write(
        Buffer.concat([typeof l === "string" ? Buffer.from(l, "utf8") : l, Buffer.from("\r\n")]),
      );
    }
  }

  /** The lines received since the last call. */
  take(): string[] {
    const r = this.received;
    this.received = [];
    return r;
  }

  /** The commands (or numerics) of the lines received since the last call. */
  codes(): string[] {
    return this.take().map(
      (l) =>
        l
          .replace(/^@\S+ /, "")
          .replace(/^:\S+ /, "")
          .split(" ")[0]!,
    );
  }
}

/** A server and its in-memory clients. */
export class Net {
  readonly clock = new Clock();
  readonly server: IRCServer;
  readonly factory: IRCServerFactory;
  readonly pumps: IOPump[] = [];
  private hostCount = 1;

  constructor(options: IRCServerOptions = {}) {
    this.server = new IRCServer({
      hostname: "irc.test",
      network: "TestNet",
      clock: this.clock,
      // Tests send bursts: flood control is generous unless a test sets its own.
      flood: { burst: 1000 },
      ...options,
    });
    this.factory = new IRCServerFactory(this.server);
  }

  /** Connects a client of class `C` (a `RawClient` by default) from its own address. */
  connect<C extends IProtocol = RawClient>(
    make: () => C = () => new RawClient() as unknown as C,
    host = `192.168.1.${this.hostCount++}`,
  ): [C, IRCServerProtocol] {
    const [client, server, pump] = connectedServerAndClient<IRCServerProtocol, C>(
      this.factory,
      make,
      {
        clock: this.clock,
        clientTransport: { hostAddress: new IPv4Address("TCP", host, 40000 + this.hostCount) },
      },
    );
    this.pumps.push(pump);
    return [client, server];
  }

  /** Pumps every connection until nothing moves. */
  flush(): void {
    for (let i = 0; i < 100; i++) {
      let moved = false;
      for (const p of this.pumps) if (p.flush()) moved = true;
      if (!moved) return;
    }
    throw new Error("Net.flush: still moving");
  }

  /** Advances the clock, then flushes. */
  advance(seconds: number): void {
    this.clock.advance(seconds);
    this.flush();
  }

  /**
   * Connects and registers a raw client as `nick` (sending `extra` lines first, and `CAP END`
   * after a CAP line), discarding the welcome burst.
   */
  user(nick: string, ...extra: string[]): RawClient {
    const [c] = this.connect();
    const end = extra.some((l) => l.startsWith("CAP ")) ? ["CAP END"] : [];
    c.send(...extra, `NICK ${nick}`, `USER ${nick} 0 * :Real ${nick}`, ...end);
    this.flush();
    const got = c.take();
    if (!got.some((l) => l.includes(` 001 ${nick} `))) {
      throw new Error(`Registration of ${nick} failed: ${got.join(" | ")}`);
    }
    return c;
  }
}
