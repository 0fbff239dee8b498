// Shared set-up of the IRCClient tests: a client on a StringTransport with a Clock, nick "me".

import { Clock, StringTransport } from "../../src/testing/index.js";
import type { IRCClient } from "../../src/words/_client.js";

/** A client connected to a `StringTransport`, with helpers to read what it sent and feed it lines. */
export interface ConnectedClient<C extends IRCClient> {
  client: C;
  clock: Clock;
  t: StringTransport;
  /** The lines sent since the last call (without `\r\n`); clears the transport. */
  sent: () => string[];
  /** Feeds lines from the server (each gets `\r\n`), all in one `dataReceived`. */
  feed: (...lines: string[]) => void;
}

/**
 * Gives `client` a `Clock` and the nick `me`, lets `configure` adjust it, then connects it to a
 * `StringTransport` (so `connectionMade` sees the configuration).
 */
export function connectClient<C extends IRCClient>(
  client: C,
  configure: (c: C) => void = () => {},
): ConnectedClient<C> {
  const clock = new Clock();
  client.clock = clock;
  client.nickname = "me";
  configure(client);
  const t = new StringTransport();
  client.makeConnection(t);
  const sent = (): string[] => {
    const lines = t
      .value()
      .toString()
      .split("\r\n")
      .filter((l) => l !== "");
    t.clear();
    return lines;
  };
  const feed = (...lines: string[]) =>
    client.dataReceived(Buffer.from(lines.map((l) => `${l}\r\n`).join("")));
  return { client, clock, t, sent, feed };
}
