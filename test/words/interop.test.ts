// Interoperability with independent IRC implementations: our IRCClient against ngircd (Debian),
// real Twisted's IRCClient (python3-twisted) against our server, and a plain-socket Python
// script speaking raw IRC to our server. A missing peer fails the test; it never skips.

import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { IRCServer } from "../../src/words/_server.js";
import { IRCServerFactory } from "../../src/words/_server_protocol.js";
import { freePort, PYTHON, requirePeer, run, type Started, start } from "../_helpers/proc.js";
import { connectBot, type LiveBot, waitFor } from "./_live.js";

const NGIRCD = "/usr/sbin/ngircd";
const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

function ngircdConfig(dir: string, port: number): string {
  return `[Global]
Name = irc.ngircd.test
Info = twisted-ts interop test
AdminInfo1 = twisted-ts tests
AdminInfo2 = loopback
AdminEMail = nobody@localhost
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = ngircd interop server
PidFile = ${dir}/ngircd.pid
ServerUID = irc
ServerGID = irc

[Limits]
MaxNickLength = 30
PingTimeout = 120
PongTimeout = 20

[Options]
PAM = no
Ident = no
DNS = no
`;
}

describe("our IRCClient against ngircd", () => {
  let dir: string;
  let ngircd: Started;
  let port: number;
  let reactor: NodeReactor;
  const bots: LiveBot[] = [];

  before(async () => {
    requirePeer(NGIRCD, "ngircd");
    dir = await mkdtemp(join(tmpdir(), "ngircd-"));
    // ngircd drops to user irc: it must read its configuration and write its PID file.
    await chmod(dir, 0o1777);
    port = await freePort();
    const config = join(dir, "ngircd.conf");
    await writeFile(config, ngircdConfig(dir, port), { mode: 0o644 });
    ngircd = start(NGIRCD, ["-n", "-f", config]);
    await ngircd.waitFor(/ready\./, 30_000);
    reactor = new NodeReactor();
  });

  after(async () => {
    for (const b of bots) b.transport?.loseConnection();
    if (ngircd !== undefined) await ngircd.stop("SIGTERM");
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("registers, joins, talks, sets a topic and a mode, and parts", async () => {
    const bot = (nick: string) => {
      const b = connectBot(reactor, "127.0.0.1", port, (b) => {
        b.nickname = nick;
        b.autoJoin = ["#interop"];
      });
      bots.push(b);
      return b;
    };
    const alice = bot("tsalice");
    await alice.waitEvent(/^joined #interop$/, 15_000);
    const bob = bot("tsbob");
    await bob.waitEvent(/^joined #interop$/, 15_000);
    await alice.waitEvent(/^userJoined tsbob #interop$/, 15_000);
    // ngircd's ISUPPORT reached our client and drives its parsing.
    assert.equal(alice.supported.caseMapping, "ascii");
    assert.deepEqual(alice.supported.prefixes.get("h"), ["%", 3]);
    assert.ok(alice.enabledCapabilities.has("multi-prefix"));

    alice.topic("#interop", "Twisted.ts meets ngircd");
    await bob.waitEvent(/^topic #interop Twisted\.ts meets ngircd$/, 15_000);
    alice.say("#interop", "hello bob \u2713");
    await bob.waitEvent(/^privmsg tsalice #interop hello bob \u2713$/, 15_000);
    bob.msg("tsalice", "hello alice");
    await alice.waitEvent(/^privmsg tsbob tsalice hello alice$/, 15_000);

    alice.mode("#interop", true, "v", undefined, "tsbob");
    await bob.waitEvent(/^mode #interop \+v tsbob$/, 15_000);
    const whois = await alice.whois("tsbob");
    assert.equal(whois?.nick, "tsbob");
    assert.deepEqual(whois?.channels, ["+#interop"]);

    bob.leave("#interop", "bye");
    await alice.waitEvent(/^userLeft tsbob #interop$/, 15_000);
    await bob.waitEvent(/^left #interop$/, 15_000);
  });
});

describe("real Twisted and raw sockets against our server", () => {
  let reactor: NodeReactor;
  let server: IRCServer;
  let listening: IListeningPort;
  let port: number;

  before(async () => {
    requirePeer(PYTHON, "python3-twisted");
    const check = await run(PYTHON, ["-c", "import twisted.words.protocols.irc"]);
    assert.equal(check.code, 0, `python3-twisted is required: ${check.stderr}`);
    reactor = new NodeReactor();
    server = new IRCServer({ hostname: "irc.ours", network: "Ours", clock: reactor, motd: "Hi" });
    listening = reactor.listenTCP(0, new IRCServerFactory(server), 50, "127.0.0.1");
    port = (listening.getHost() as { port: number }).port;
  });

  after(async () => {
    await listening?.stopListening();
  });

  it("two Twisted IRCClient bots exchange messages through a channel", async () => {
    const r = await run(
      PYTHON,
      [`${FIXTURES}twisted_irc_bots.py`, "127.0.0.1", String(port), "#twisted"],
      {
        timeoutMs: 30_000,
      },
    );
    const out = r.stdout;
    assert.equal(r.code, 0, `${out}\n${r.stderr}`);
    for (const line of [
      "alice joined #twisted",
      "bob joined #twisted",
      "alice saw bob join #twisted",
      "bob topic #twisted Twisted was here",
      "bob privmsg alice #twisted hello from alice",
      "alice privmsg bob #twisted hi alice, bob here",
      "alice privmsg bob alice psst alice",
      "bob action alice #twisted waves goodbye",
      "done",
    ]) {
      assert.ok(out.includes(`${line}\n`), `missing "${line}" in:\n${out}`);
    }
  });

  it("a plain-socket script speaking raw IRC gets the right numerics and relays", async () => {
    const r = await run(PYTHON, [`${FIXTURES}raw_irc.py`, "127.0.0.1", String(port)], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /ok {3}417 input too long/);
    assert.match(r.stdout, /ok {3}433 nick collision/);
    assert.match(r.stdout, /\ndone\n$/);
    // The script exits right after its last QUIT: the server may not have read it yet.
    await waitFor("every raw client gone", () => (server.users.size === 0 ? true : undefined));
  });
});
