// IRCv3 batch and labeled-response end to end: our IRCClient with our IRCServer (in memory and
// over loopback TCP), and our IRCClient against a plain-socket Python server playing batches.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { TimeoutError } from "../../src/internet/error.js";
import type { IListeningPort } from "../../src/internet/interfaces.js";
import { ClientFactory } from "../../src/internet/protocol.js";
import { successResultOf } from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import type { IRCBatch } from "../../src/words/_irc_batch.js";
import { IRCServer } from "../../src/words/_server.js";
import { IRCServerFactory } from "../../src/words/_server_protocol.js";
import { PYTHON, requirePeer, type Started, start } from "../_helpers/proc.js";
import { waitFor } from "./_live.js";
import { Net } from "./_net.js";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** Records what happens, with the batch each message came in. */
class Recorder extends IRCClient {
  events: string[] = [];
  private tag(): string {
    return this.currentBatch === null ? "" : ` [${this.currentBatch.type}]`;
  }
  override signedOn(): void {
    this.events.push("signedOn");
  }
  override joined(channel: string): void {
    this.events.push(`joined ${channel}`);
  }
  override privmsg(user: string, channel: string, message: string): void {
    this.events.push(`privmsg ${user.split("!")[0]} ${channel} ${message}${this.tag()}`);
  }
  override userQuit(user: string, message: string): void {
    this.events.push(`userQuit ${user}${this.tag()}`);
  }
  override batchReceived(batch: IRCBatch): void {
    this.events.push(`batch ${batch.type} ${batch.params.join(" ")}`.trim());
    super.batchReceived(batch);
  }
}

function connect(reactor: NodeReactor, port: number, nick: string): Recorder {
  const client = new Recorder();
  client.nickname = nick;
  client.clock = reactor;
  const factory = new ClientFactory();
  factory.buildProtocol = () => {
    client.factory = factory;
    return client;
  };
  reactor.connectTCP("127.0.0.1", port, factory);
  return client;
}

describe("our IRCClient with our IRCServer: labeled responses", () => {
  it("in memory: a labeled WHOIS, JOIN, PRIVMSG and PING get a batch, an ACK, a message", () => {
    const net = new Net();
    const make = (nick: string) => () =>
      Object.assign(new Recorder(), { nickname: nick, clock: net.clock });
    const [ann] = net.connect(make("ann"));
    const [bob] = net.connect(make("bob"));
    net.flush();
    for (const cap of ["batch", "labeled-response", "message-tags"]) {
      assert.ok(ann.enabledCapabilities.has(cap), cap);
    }
    const whois = ann.sendLabeled("WHOIS", ["bob"]);
    const join = ann.sendLabeled("JOIN", ["#lab"]);
    net.flush();
    const w = successResultOf(whois);
    assert.equal(w.batch?.type, "labeled-response");
    assert.deepEqual(
      w.messages.map((m) => m.command),
      ["311", "312", "317", "318"],
    );
    const j = successResultOf(join);
    assert.equal(j.messages[0]!.command, "JOIN");
    assert.ok(j.messages.some((m) => m.command === "366"));
    // The usual callbacks ran too, inside the batch.
    assert.ok(ann.events.includes("joined #lab"));
    bob.join("#lab");
    net.flush();
    const said = ann.sendLabeled("PRIVMSG", ["#lab", "hello"]);
    const ping = ann.sendLabeled("PING", ["tok"]);
    net.flush();
    assert.equal(successResultOf(said).ack, true);
    assert.deepEqual(successResultOf(ping).messages[0]!.params, ["irc.test", "tok"]);
    assert.ok(bob.events.includes("privmsg ann #lab hello"));
    assert.equal(ann.pendingLabels, 0);
  });

  describe("over loopback TCP", () => {
    let reactor: NodeReactor;
    let listening: IListeningPort;
    let port: number;
    const clients: Recorder[] = [];

    before(() => {
      reactor = new NodeReactor();
      const server = new IRCServer({ hostname: "irc.loop", clock: reactor, motd: "hi" });
      listening = reactor.listenTCP(0, new IRCServerFactory(server), 50, "127.0.0.1");
      port = (listening.getHost() as { port: number }).port;
    });

    after(async () => {
      for (const c of clients) c.transport?.loseConnection();
      await listening?.stopListening();
    });

    it("awaits labeled responses from our server", async () => {
      const ann = connect(reactor, port, "ann");
      const bob = connect(reactor, port, "bob");
      clients.push(ann, bob);
      await waitFor("both signed on", () =>
        ann.events.includes("signedOn") && bob.events.includes("signedOn") ? true : undefined,
      );
      const whois = await ann.sendLabeled("WHOIS", ["bob"]);
      assert.equal(whois.messages[0]!.command, "311");
      assert.equal(whois.messages[whois.messages.length - 1]!.command, "318");
      const motd = await ann.sendLabeled("MOTD");
      assert.deepEqual(
        motd.messages.map((m) => m.command),
        ["375", "372", "376"],
      );
      const ack = await bob.sendLabeled("PRIVMSG", ["ann", "psst"]);
      assert.equal(ack.ack, true);
      await waitFor("ann got the message", () =>
        ann.events.find((e) => e === "privmsg bob ann psst"),
      );
    });
  });
});

describe("our IRCClient against a Python server playing batches", () => {
  let fixture: Started;
  let port: number;
  let reactor: NodeReactor;

  before(async () => {
    requirePeer(PYTHON, "python3");
    fixture = start(PYTHON, [`${FIXTURES}batch_server.py`]);
    const m = await fixture.waitFor(/listening (\d+)/);
    port = Number(m[1]);
    reactor = new NodeReactor();
  });

  after(async () => {
    if (fixture !== undefined && fixture.child.exitCode === null) await fixture.stop("SIGTERM");
  });

  it("gathers batches, answers labels, gives up an over-long one and times out", async () => {
    const client = connect(reactor, port, "tsbatch");
    client.maxBatchMessages = 10;
    await waitFor("the end of the batches", () =>
      client.events.find((e) => e.endsWith("end of batches")),
    );
    assert.deepEqual(client.events, [
      "signedOn",
      "privmsg bob tsbatch not batched",
      "batch netsplit hub.example leaf.example",
      "userQuit ann [netsplit]",
      "userQuit cid [netsplit]",
      "batch chathistory #py",
      "privmsg ann #py history one [chathistory]",
      "batch example.org/thread",
      "privmsg bob #py in thread [example.org/thread]",
      "privmsg ann #py history two [chathistory]",
      "privmsg ann #py orphan",
      "privmsg bob tsbatch end of batches",
    ]);
    client.events = [];

    const pong = await client.sendLabeled("PING", ["abc"]);
    assert.deepEqual(pong.messages[0]!.params, ["py.batch", "abc"]);
    const whois = await client.sendLabeled("WHOIS", ["bob"]);
    assert.deepEqual(
      whois.messages.map((m) => m.command),
      ["311", "319", "318"],
    );
    assert.equal((await client.sendLabeled("PRIVMSG", ["#py", "hi"])).ack, true);
    await assert.rejects(
      client.sendLabeled("NAMES", ["#big"]).asPromise(),
      /Labeled response given up/,
    );
    await assert.rejects(
      client.sendLabeled("TIME", [], { timeout: 0.3 }).asPromise(),
      TimeoutError,
    );
    assert.equal(client.pendingLabels, 0);
    client.quit("bye");
    const exit = await fixture.exited(10_000);
    const out = fixture.output();
    assert.equal(exit.code, 0, out);
    assert.match(out, /\ndone\n$/);
    // Every command went out with its own label.
    const labels = [...out.matchAll(/^got @label=(\S+) /gm)].map((m) => m[1]);
    assert.equal(labels.length, 5);
    assert.equal(new Set(labels).size, 5);
  });
});
