// Fuzz tests of IRC (src/words): the message parser (split-invariant, bounded, round trip through
// formatMessage), the client fed mutated server lines, and the server fed mutated client lines by
// one bad client among others who must keep chatting — nothing may escape dataReceived or a
// clock tick, and every line written stays within the limits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { Clock, LogCapture, StringTransport } from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import {
  formatMessage,
  IRCMessageParser,
  type IRCParseEvent,
  LocalProtocolError,
  MAX_BODY_BYTES,
  MAX_TAG_BYTES,
  parseMessage,
} from "../../src/words/_irc_message.js";
import { Net, type RawClient } from "../words/_net.js";
import { guardProcess, mutateMany, type Rand, runCases, split } from "./_gen.js";

guardProcess();

const CLIENT_LINES = [
  "NICK bad",
  "USER bad 0 * :Real Bad",
  "JOIN #c",
  "JOIN #c,#d,&e key1,key2",
  "PART #c :bye",
  "PRIVMSG #c :hello there",
  "PRIVMSG alice :\x01ACTION waves\x01",
  "PRIVMSG #c :\x01VERSION\x01",
  "PRIVMSG #c :\x01\x01\x01PING 1 2\x01",
  "NOTICE bob :\x01PING 12345\x01",
  "@+draft/reply=1;label=abc;+typing=active TAGMSG #c",
  "@label=x PRIVMSG #c :labeled",
  "@a=b\\sc\\:d\\ TAGMSG alice",
  "MODE #c +ntk-l key",
  "MODE #c +o alice",
  "MODE #c +b *!*@*",
  "MODE bad +iw",
  "TOPIC #c :new topic",
  "KICK #c alice :out",
  "INVITE alice #d",
  "WHO #c",
  "WHOIS alice",
  "WHOWAS nobody",
  "LIST",
  "NAMES #c",
  "AWAY :gone",
  "AWAY",
  "PING :x",
  "PONG :irc.test",
  "CAP LS 302",
  "CAP REQ :message-tags batch labeled-response sasl",
  "CAP END",
  "AUTHENTICATE PLAIN",
  "AUTHENTICATE +",
  "ISON alice bob",
  "USERHOST alice",
  "MOTD",
  "LUSERS",
  "VERSION",
  "TIME",
  "KILL alice :no",
  "OPER a b",
  "FOOBAR x y z",
  ":bad PRIVMSG #c :with prefix",
  ":alice!x@y PRIVMSG #c :spoofed prefix",
  "BATCH +ref chathistory #c",
  "QUIT :leaving",
];

const SERVER_LINES = [
  ":irc.test 001 me :Welcome to TestNet me!u@h",
  ":irc.test 005 me CHANTYPES=#& PREFIX=(ov)@+ CHANMODES=b,k,l,imnt NICKLEN=30 CASEMAPPING=rfc1459 NETWORK=TestNet :are supported",
  ":irc.test 005 me PREFIX=(qaohv)~&@%+ CASEMAPPING=ascii TARGMAX=PRIVMSG:4,NOTICE: :ok",
  ":irc.test 433 * me :Nickname is already in use",
  ":irc.test CAP * LS :multi-prefix sasl=PLAIN,EXTERNAL batch labeled-response",
  ":irc.test CAP me ACK :sasl batch",
  ":irc.test CAP me NAK :foo",
  ":irc.test CAP me NEW :away-notify",
  ":irc.test CAP me DEL :batch",
  "AUTHENTICATE +",
  ":irc.test 903 me :SASL authentication successful",
  ":irc.test 904 me :SASL authentication failed",
  ":irc.test 353 me = #c :@alice +bob me",
  ":irc.test 366 me #c :End of /NAMES list.",
  ":irc.test 332 me #c :the topic",
  ":irc.test 311 me alice u h * :Alice",
  ":irc.test 318 me alice :End of WHOIS",
  ":irc.test 375 me :- MOTD -",
  ":irc.test 372 me :- hello",
  ":irc.test 376 me :End of MOTD",
  ":alice!u@h PRIVMSG #c :hi me",
  ":alice!u@h PRIVMSG me :\x01VERSION\x01",
  ":alice!u@h PRIVMSG me :\x01PING 123\x01",
  ":alice!u@h PRIVMSG me :\x01DCC SEND file 3232235777 5000 100\x01",
  ":alice!u@h NOTICE me :\x01VERSION thing 1.0\x01",
  ":alice!u@h PRIVMSG #c :\x01ACTION dances\x01 and \x01UNKNOWN\x01",
  ":alice!u@h JOIN #c",
  ":alice!u@h PART #c :bye",
  ":alice!u@h KICK #c me :out",
  ":alice!u@h MODE #c +ov-b me bob *!*@*",
  ":alice!u@h MODE me +i",
  ":alice!u@h NICK alice2",
  ":alice!u@h QUIT :gone",
  ":alice!u@h TOPIC #c :new",
  ":alice!u@h INVITE me #d",
  "PING :irc.test",
  ":irc.test PONG irc.test :LAG1234",
  "@batch=b1;time=2024-01-01T00:00:00.000Z :alice!u@h PRIVMSG #c :in batch",
  ":irc.test BATCH +b1 chathistory #c",
  ":irc.test BATCH -b1",
  "@label=l1 :irc.test ACK",
  "ERROR :Closing link",
  ":irc.test 999 me weird :numeric",
  ":irc.test FROB me",
];

/** Builds the bytes of some lines, each mutated with probability `p`, with CRLF (or LF) ends. */
function linesOf(r: Rand, corpus: readonly string[], count: number, p = 0.6): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let line: Buffer = Buffer.from(r.pick(corpus), "utf8");
    if (r.chance(p)) line = mutateMany(r, line);
    if (r.chance(0.03)) line = Buffer.concat([Buffer.from(`@${"k=v;".repeat(2100)} `), line]);
    if (r.chance(0.03)) line = Buffer.concat([line, Buffer.alloc(r.pick([600, 9000]), 0x78)]);
    out.push(line, Buffer.from(r.chance(0.9) ? "\r\n" : "\n"));
  }
  return Buffer.concat(out);
}

/** Every line in `data` is within the IRC limits and free of NUL and bare CR. */
function assertWellFormedOutput(data: Buffer, who: string): void {
  const text = data.toString("latin1");
  assert.ok(text === "" || text.endsWith("\r\n"), `${who} left a partial line`);
  for (const line of text.split("\r\n").slice(0, -1)) {
    const bytes = Buffer.from(line, "latin1");
    assert.ok(
      !bytes.includes(0) && !bytes.includes(0x0d) && !bytes.includes(0x0a),
      `${who} wrote ${JSON.stringify(line)}`,
    );
    let body = bytes;
    if (bytes[0] === 0x40) {
      const sp = bytes.indexOf(0x20);
      assert.ok(sp + 1 <= MAX_TAG_BYTES, `${who} wrote tags of ${sp + 1} bytes`);
      body = bytes.subarray(sp + 1);
    }
    assert.ok(
      body.length + 2 <= MAX_BODY_BYTES,
      `${who} wrote a ${body.length + 2}-byte line: ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
}

function describeEvents(events: IRCParseEvent[]): string {
  return JSON.stringify(
    events.map((e) =>
      e.type === "MessageReceived"
        ? { ...e.message, tags: [...e.message.tags] }
        : e.type === "LineMalformed"
          ? { type: e.type, reason: e.reason, line: e.line.toString("latin1") }
          : e,
    ),
  );
}

describe("fuzz: IRC message parser", () => {
  it("mutated lines give the same events in any split, bounded, and round-trip through formatMessage", () => {
    runCases(31, 800, (r) => {
      const input = linesOf(r, [...CLIENT_LINES, ...SERVER_LINES], r.range(1, 6));
      const whole = new IRCMessageParser().receiveData(input);
      const parser = new IRCMessageParser();
      const pieces: IRCParseEvent[] = [];
      for (const c of split(r, input)) {
        pieces.push(...parser.receiveData(c));
        assert.ok(parser.bufferedBytes <= MAX_BODY_BYTES + MAX_TAG_BYTES);
      }
      assert.equal(describeEvents(pieces), describeEvents(whole));
      for (const e of whole) {
        if (e.type !== "MessageReceived") continue;
        const m = e.message;
        let bytes: Buffer;
        try {
          bytes = formatMessage({
            tags: m.tags,
            prefix: m.prefix,
            command: m.command,
            params: m.rawParams ?? m.params,
          });
        } catch (err) {
          // Some received messages cannot be sent back as they are (e.g. a middle parameter
          // starting with ':' after decoding): that must be a LocalProtocolError.
          assert.ok(err instanceof LocalProtocolError, String(err));
          continue;
        }
        const again = parseMessage(bytes);
        assert.equal(again.command, m.command);
        assert.deepEqual(again.params, m.params);
        assert.deepEqual([...again.tags], [...m.tags]);
        assert.equal(again.prefix, m.prefix);
      }
    });
  });
});

/** A client as the tests make it, on a StringTransport and a Clock. */
function client(): { c: IRCClient; t: StringTransport; clock: Clock } {
  const c = new IRCClient();
  const clock = new Clock();
  c.clock = clock;
  c.nickname = "me";
  c.capabilities = ["sasl", "batch", "labeled-response", "multi-prefix"];
  c.heartbeatInterval = 30;
  const t = new StringTransport();
  c.makeConnection(t);
  return { c, t, clock };
}

describe("fuzz: IRCClient", () => {
  it("mutated server lines never escape dataReceived or the clock, and what it writes stays valid", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(32, 300, (r) => {
        const { c, t, clock } = client();
        const input = linesOf(r, SERVER_LINES, r.range(5, 40), 0.5);
        for (const chunk of split(r, input, 1500)) {
          if (t.disconnecting) break;
          c.dataReceived(chunk);
          if (r.chance(0.1)) clock.advance(r.pick([1, 10, 31, 61]));
        }
        clock.advance(100);
        assertWellFormedOutput(t.value(), "the client");
        c.connectionLost(new Failure(new ConnectionLost()));
        clock.advance(1000);
      });
    } finally {
      logs.stop();
    }
  });
});

function room(options = {}): { net: Net; alice: RawClient; bob: RawClient; bad: RawClient } {
  const net = new Net(options);
  const alice = net.user("alice");
  const bob = net.user("bob");
  const bad = net.user("bad");
  for (const u of [alice, bob, bad]) u.send("JOIN #c");
  net.flush();
  for (const u of [alice, bob, bad]) u.take();
  return { net, alice, bob, bad };
}

function stillChatting(net: Net, alice: RawClient, bob: RawClient, text: string): void {
  alice.take();
  bob.take();
  alice.send(`PRIVMSG bob :${text}`);
  net.flush();
  const got = bob.take();
  assert.ok(
    got.some((l) => l.endsWith(`PRIVMSG bob :${text}`)),
    `alice and bob can no longer talk; alice got ${JSON.stringify(alice.take().slice(-5))}, bob ${JSON.stringify(got.slice(-5))}, lost ${alice.lost} ${bob.lost}`,
  );
}

describe("fuzz: IRCServer", () => {
  it("a client sending mutated lines never breaks the server; the others keep chatting", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(33, 60, (r, i) => {
        const { net, alice, bob, bad } = room();
        const input = linesOf(r, CLIENT_LINES, r.range(10, 60));
        const collected: Buffer[] = [];
        const record = bad.dataReceived.bind(bad);
        bad.dataReceived = (d: Buffer) => {
          collected.push(Buffer.from(d));
          record(d);
        };
        for (const chunk of split(r, input, 800)) {
          if (bad.lost !== null) break;
          bad.transport?.write(chunk);
          if (r.chance(0.2)) net.flush();
        }
        net.flush();
        net.advance(r.pick([1, 30, 100]));
        assertWellFormedOutput(Buffer.concat(collected), "the server");
        stillChatting(net, alice, bob, `case ${i}`);
      });
    } finally {
      logs.stop();
    }
  });

  it("a flood of random lines under the default flood limits: the flooder is throttled or dropped, the others chat", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(34, 3, (r, i) => {
        const { net, alice, bob, bad } = room({ flood: undefined });
        const input = linesOf(r, CLIENT_LINES, 2000, 0.3);
        for (const chunk of split(r, input, 0)) {
          if (bad.lost !== null) break;
          bad.transport?.write(chunk);
        }
        net.flush();
        stillChatting(net, alice, bob, `flood ${i}`);
        for (let k = 0; k < 20; k++) {
          // alice and bob keep talking, so that the server's PINGs do not drop them.
          alice.send("PONG :irc.test");
          bob.send("PONG :irc.test");
          net.advance(10);
        }
        stillChatting(net, alice, bob, `after flood ${i}`);
      });
    } finally {
      logs.stop();
    }
  });
});
