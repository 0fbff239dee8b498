// Runs the IRC examples as a user would (npx tsx examples/irc-*.ts) against our server.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { IRCServer } from "../../src/words/_server.js";
import { IRCServerFactory } from "../../src/words/_server_protocol.js";
import { run, start, TSX } from "../_helpers/proc.js";
import { RawSocket } from "./_live.js";

describe("IRC examples", () => {
  let reactor: NodeReactor;
  let listening: IListeningPort;
  let port: number;
  const sockets: RawSocket[] = [];

  before(() => {
    reactor = new NodeReactor();
    const server = new IRCServer({ hostname: "irc.examples", clock: reactor });
    listening = reactor.listenTCP(0, new IRCServerFactory(server), 50, "127.0.0.1");
    port = (listening.getHost() as { port: number }).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await listening.stopListening();
  });

  function watcher(nick: string, channel: string): RawSocket {
    const s = new RawSocket(port);
    sockets.push(s);
    s.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`, `JOIN ${channel}`);
    return s;
  }

  it("irc-bot joins its channel, answers !ping and logs messages", async () => {
    const bot = start(TSX[0], [
      "examples/irc-bot.ts",
      "127.0.0.1",
      String(port),
      "#bots",
      "pingbot",
    ]);
    try {
      await bot.waitFor(/Joined #bots/, 20_000);
      const user = watcher("carol", "#bots");
      await user.waitLine(/ 366 carol #bots /);
      user.send("PRIVMSG #bots :!ping", "PRIVMSG pingbot :!ping");
      await user.waitLine(/^:pingbot!\S+ PRIVMSG #bots :carol: pong$/);
      await user.waitLine(/^:pingbot!\S+ PRIVMSG carol :carol: pong$/);
      await bot.waitFor(/\[#bots\] <carol> !ping/);
      await bot.waitFor(/\[pingbot\] <carol> !ping/);
    } finally {
      const exit = await bot.stop("SIGTERM");
      assert.equal(exit.code, 0, bot.output());
    }
  });

  it("irc-relay sends each line of its input to the channel and quits at the end", async () => {
    const user = watcher("dave", "#relay");
    await user.waitLine(/ 366 dave #relay /);
    const r = await run(
      TSX[0],
      ["examples/irc-relay.ts", "127.0.0.1", String(port), "#relay", "relay"],
      {
        input: "first line\nsecond line \u2713\n\nthird\n",
        timeoutMs: 30_000,
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await user.waitLine(/^:relay!\S+ QUIT :Quit: End of input$/);
    const said = user.lines
      .filter((l) => l.includes(" PRIVMSG #relay "))
      .map((l) => Buffer.from(l.replace(/^.* PRIVMSG #relay :?/, ""), "latin1").toString("utf8"));
    assert.deepEqual(said, ["first line", "second line \u2713", "third"]);
  });
});
