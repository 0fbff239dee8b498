// Loopback tests over real sockets on 127.0.0.1: our IRCClients through our IRCServer, bad
// clients handled while others keep chatting, and the `twist words` command.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { ClientService } from "../../src/application/_internet.js";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { clientFromString, serverFromString } from "../../src/internet/endpoints.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { ClientFactory } from "../../src/internet/protocol.js";
import { IRCServer, type IRCServerOptions } from "../../src/words/_server.js";
import { IRCServerFactory } from "../../src/words/_server_protocol.js";
import { makeTestCertificates } from "../_helpers/certs.js";
import { freePort, ROOT, start } from "../_helpers/proc.js";
import { connectBot, LiveBot, RawSocket, waitFor } from "./_live.js";

describe("IRC over loopback TCP", () => {
  let reactor: NodeReactor;
  const ports: IListeningPort[] = [];
  const cleanups: (() => void)[] = [];

  before(() => {
    reactor = new NodeReactor();
  });

  after(async () => {
    for (const c of cleanups) c();
    for (const p of ports) await p.stopListening();
  });

  function serve(options: IRCServerOptions = {}): { server: IRCServer; port: number } {
    const server = new IRCServer({ hostname: "irc.loop", clock: reactor, ...options });
    const port = reactor.listenTCP(0, new IRCServerFactory(server), 50, "127.0.0.1");
    ports.push(port);
    return { server, port: (port.getHost() as { port: number }).port };
  }

  function bot(port: number, nick: string, channels: string[] = ["#loop"]): LiveBot {
    const b = connectBot(reactor, "127.0.0.1", port, (b) => {
      b.nickname = nick;
      b.autoJoin = channels;
    });
    cleanups.push(() => b.transport?.loseConnection());
    return b;
  }

  it("two IRCClients register, join and talk through the server", async () => {
    const { port } = serve();
    const alice = bot(port, "alice");
    const bob = bot(port, "bob");
    await alice.waitEvent(/^joined #loop$/);
    await bob.waitEvent(/^joined #loop$/);
    await alice.waitEvent(/^userJoined bob #loop$|^signedOn$/);
    alice.say("#loop", "hello over TCP \u2713");
    await bob.waitEvent(/^privmsg alice #loop hello over TCP \u2713$/);
    bob.msg("alice", "private hi");
    await alice.waitEvent(/^privmsg bob alice private hi$/);
    assert.ok(alice.enabledCapabilities.has("server-time"));
    bob.quit("done");
    await alice.waitEvent(/^userQuit bob Quit: done$/);
  });

  it("handles an over-long line, garbage, a flooder and a silent client while others chat", async () => {
    const { server, port } = serve({ pingInterval: 0.4, pingTimeout: 0.4 });
    const alice = bot(port, "alice");
    const bob = bot(port, "bob");
    await alice.waitEvent(/^joined #loop$/);
    await bob.waitEvent(/^joined #loop$/);

    const long = new RawSocket(port);
    cleanups.push(() => long.destroy());
    long.send("NICK long", "USER l 0 * :L", `PRIVMSG #loop :${"x".repeat(1000)}`);
    await long.waitLine(/ 417 long :Input line was too long$/);

    const garbage = new RawSocket(port);
    cleanups.push(() => garbage.destroy());
    garbage.socket.write(Buffer.from([0xff, 0, 1, 13, 10, 0x3a, 13, 10]));
    garbage.send("NICK junk", "USER j 0 * :J");
    await garbage.waitLine(/ 001 junk /);

    const flooder = new RawSocket(port);
    cleanups.push(() => flooder.destroy());
    flooder.send("NICK flood", "USER f 0 * :F", "JOIN #loop");
    await flooder.waitLine(/ 366 flood #loop /);
    flooder.send(...Array.from({ length: 300 }, (_, i) => `PRIVMSG #loop :flood ${i}`));
    await flooder.waitLine(/^ERROR :Closing Link: 127\.0\.0\.1 \(Excess Flood\)$/);
    await flooder.waitClosed();
    await alice.waitEvent(/^userQuit flood Excess Flood$/);

    const silent = new RawSocket(port);
    cleanups.push(() => silent.destroy());
    silent.send("NICK silent", "USER s 0 * :S");
    await silent.waitLine(/^PING irc\.loop$/, 3000);
    await silent.waitLine(
      /^ERROR :Closing Link: 127\.0\.0\.1 \(Ping timeout: \d+ seconds\)$/,
      3000,
    );
    await silent.waitClosed();

    // Our clients answered the server's PINGs all along and still talk.
    alice.say("#loop", "still here");
    await bob.waitEvent(/^privmsg alice #loop still here$/);
    assert.equal(alice.lostReason, null);
    assert.ok(server.users.has("alice") && server.users.has("bob"));
    assert.ok(!server.users.has("flood") && !server.users.has("silent"));
  });
});

describe("IRC over TLS endpoints, with reconnection", () => {
  it("an IRCClient in a ClientService reaches the server over tls: and comes back after a KILL", async () => {
    const certs = await makeTestCertificates();
    const reactor = new NodeReactor();
    const server = new IRCServer({ hostname: "irc.tls", clock: reactor, opers: { root: "pw" } });
    const listening = await serverFromString(
      reactor,
      `ssl:0:privateKey=${certs.serverKeyPath}:certKey=${certs.serverCertPath}:interface=127.0.0.1`,
    ).listen(new IRCServerFactory(server));
    const port = (listening.getHost() as { port: number }).port;
    const bots: LiveBot[] = [];
    const factory = new ClientFactory();
    factory.buildProtocol = () => {
      const b = new LiveBot();
      b.nickname = "tlsbot";
      b.clock = reactor;
      b.autoJoin = ["#secure"];
      b.factory = factory;
      bots.push(b);
      return b;
    };
    const service = new ClientService(
      clientFromString(reactor, `tls:localhost:${port}:trustRoots=${certs.caCertPath}`),
      factory,
      { clock: reactor, retryPolicy: () => 0.1 },
    );
    service.startService();
    const admin = tlsConnect({
      host: "127.0.0.1",
      port,
      ca: certs.caCert,
      servername: "localhost",
    });
    try {
      const first = await waitFor("first connection", () => bots[0]);
      await first.waitEvent(/^joined #secure$/);
      let adminSaw = "";
      admin.on("data", (d) => {
        adminSaw += d.toString();
      });
      admin.write(
        "NICK admin\r\nUSER a 0 * :A\r\nOPER root pw\r\nKILL tlsbot :test reconnection\r\n",
      );
      await waitFor("the KILL", () => first.lostReason ?? undefined);
      const second = await waitFor("second connection", () => bots[1]);
      await second.waitEvent(/^joined #secure$/);
      assert.match(adminSaw, / 381 admin /);
      assert.ok(server.users.has("tlsbot"));
    } finally {
      admin.destroy();
      await service.stopService();
      await listening.stopListening();
    }
  });
});

describe("twist words", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "twist-words-"));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves IRC clients with a MOTD, operators and a client limit, and stops on SIGTERM", async () => {
    const { builtinPlugins } = await import("../../src/cli/_registry.js");
    const registered = builtinPlugins().some((p) => p.name === "words");
    const motd = join(dir, "motd.txt");
    await writeFile(motd, "Welcome to the test network\nBe nice\n");
    const port = await freePort();
    const args = [
      `${ROOT}bin/twist.js`,
      ...(registered ? [] : ["--plugin", `${ROOT}src/cli/plugins/words.ts`]),
      "words",
      "--listen",
      `tcp:${port}:interface=127.0.0.1`,
      "--hostname",
      "irc.twist",
      "--network",
      "TwistNet",
      "--motd",
      motd,
      "--oper",
      "root:toor",
      "--max-clients",
      "2",
    ];
    const proc = start(process.execPath, args);
    try {
      await proc.waitFor(/words listening on/, 15000);
      const a = new RawSocket(port);
      a.send("NICK alice", "USER a 0 * :Alice");
      await a.waitLine(/^:irc\.twist 001 alice :Welcome to the TwistNet /);
      await a.waitLine(/^:irc\.twist 372 alice :- Be nice$/);
      a.send("OPER root toor");
      await a.waitLine(/^:irc\.twist 381 alice /);
      const b = new RawSocket(port);
      b.send("NICK bob", "USER b 0 * :Bob");
      await b.waitLine(/ 001 bob /);
      const c = new RawSocket(port);
      await c.waitLine(/^ERROR :Closing Link: \(Too many connections\)$/);
      await c.waitClosed();
      a.destroy();
      b.destroy();
    } finally {
      const { code } = await proc.stop("SIGTERM");
      assert.equal(code, 0, proc.output());
    }
  });
});
