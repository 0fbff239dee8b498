// Tests of IRCClient with StringTransport and Clock: registration, callbacks, commands, CTCP,
// ISUPPORT-driven modes, CAP/SASL, server-time, echo-message, flood control and heartbeats.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { successResultOf } from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import type { MessageContext } from "../../src/words/_client_base.js";
import { splitText } from "../../src/words/_client_commands.js";
import { connectClient } from "./_client.js";

/** Records every callback as [name, ...args]. */
class Recorder extends IRCClient {
  calls: unknown[][] = [];
  contexts: MessageContext[] = [];
  private rec(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
  }
  override signedOn() {
    this.rec("signedOn");
  }
  override joined(c: string) {
    this.rec("joined", c);
  }
  override left(c: string) {
    this.rec("left", c);
  }
  override privmsg(u: string, c: string, m: string, ctx?: MessageContext) {
    this.rec("privmsg", u, c, m);
    if (ctx) this.contexts.push(ctx);
  }
  override noticed(u: string, c: string, m: string) {
    this.rec("noticed", u, c, m);
  }
  override action(u: string, c: string, d: string) {
    this.rec("action", u, c, d);
  }
  override modeChanged(u: string, c: string, set: boolean, modes: string, args: (string | null)[]) {
    this.rec("modeChanged", u, c, set, modes, args);
  }
  override kickedFrom(c: string, k: string, m: string) {
    this.rec("kickedFrom", c, k, m);
  }
  override nickChanged(n: string) {
    super.nickChanged(n);
    this.rec("nickChanged", n);
  }
  override userJoined(u: string, c: string) {
    this.rec("userJoined", u, c);
  }
  override userLeft(u: string, c: string) {
    this.rec("userLeft", u, c);
  }
  override userQuit(u: string, m: string) {
    this.rec("userQuit", u, m);
  }
  override userKicked(k: string, c: string, by: string, m: string) {
    this.rec("userKicked", k, c, by, m);
  }
  override userRenamed(o: string, n: string) {
    this.rec("userRenamed", o, n);
  }
  override topicUpdated(u: string, c: string, t: string) {
    this.rec("topicUpdated", u, c, t);
  }
  override receivedMOTD(motd: string[]) {
    this.rec("receivedMOTD", motd);
  }
  override isupport(options: string[]) {
    this.rec("isupport", options);
  }
  override irc_unknown(prefix: string | null, command: string, params: string[]) {
    this.rec("irc_unknown", prefix, command, params);
  }
  override pong(u: string, secs: number) {
    this.rec("pong", u, secs);
  }
  override lagMeasured(secs: number) {
    this.rec("lag", secs);
  }
  override saslSucceeded(account: string | null) {
    this.rec("saslSucceeded", account);
  }
  override saslFailed(numeric: string, message: string) {
    this.rec("saslFailed", numeric, message);
  }
  override userAway(nick: string, message: string | null) {
    this.rec("userAway", nick, message);
  }
}

function setup(configure: (c: Recorder) => void = (c) => (c.capabilities = [])) {
  return connectClient(new Recorder(), configure);
}

function registered(configure?: (c: Recorder) => void) {
  const s = setup(configure);
  s.feed(":irc.test 001 me :Welcome");
  s.sent();
  s.client.calls = [];
  return s;
}

describe("IRCClient registration", () => {
  it("sends PASS, NICK and USER on connection, and signs on at 001", () => {
    const { client, sent, feed } = setup((c) => {
      c.capabilities = [];
      c.password = "pw";
      c.realname = "Real Name";
      c.username = "usr";
    });
    assert.deepEqual(sent(), ["PASS pw", "NICK me", "USER usr 0 * :Real Name"]);
    feed(":irc.test 001 me :Welcome", ":irc.test 002 me :Your host is irc.test");
    assert.deepEqual(client.calls, [["signedOn"]]);
    assert.equal(client.hostname, "irc.test");
    assert.ok(client._registered);
  });

  it("tries another nick on 433 and the fallback on 432", () => {
    const { client, sent, feed } = setup();
    sent();
    feed(":irc.test 433 * me :Nickname is already in use");
    assert.deepEqual(sent(), ["NICK me_"]);
    feed(":irc.test 433 * me_ :Nickname is already in use");
    assert.deepEqual(sent(), ["NICK me__"]);
    feed(":irc.test 432 * me__ :Erroneous nickname");
    assert.deepEqual(sent(), ["NICK defaultnick"]);
    feed(":irc.test 001 defaultnick :Welcome");
    assert.equal(client.nickname, "defaultnick");
  });

  it("collects the MOTD and parses ISUPPORT", () => {
    const { client, feed } = registered();
    feed(
      ":irc.test 005 me PREFIX=(qov)~@+ CHANMODES=b,k,l,imnst NICKLEN=20 :are supported",
      ":irc.test 375 me :- irc.test Message of the day -",
      ":irc.test 372 me :- line one",
      ":irc.test 372 me :- line two",
      ":irc.test 376 me :End of MOTD",
    );
    assert.deepEqual(client.calls, [
      ["isupport", ["PREFIX=(qov)~@+", "CHANMODES=b,k,l,imnst", "NICKLEN=20"]],
      ["receivedMOTD", ["irc.test Message of the day -", "line one", "line two"]],
    ]);
    assert.equal(client.supported.nickLength, 20);
  });
});

describe("IRCClient callbacks", () => {
  it("tells joins, parts, quits, kicks, nicks and topics apart from our own", () => {
    const { client, feed } = registered();
    feed(
      ":me!u@h JOIN #c",
      ":bob!u@h JOIN #c",
      ":bob!u@h JOIN #c acct :Bob Real",
      ":bob!u@h PART #c :bye",
      ":bob!u@h QUIT :gone",
      ":op!u@h KICK #c bob :out",
      ":op!u@h KICK #c me :you too",
      ":bob!u@h NICK bobby",
      ":ME!u@h NICK me2",
      ":bob!u@h TOPIC #c :new topic",
      ":irc.test 332 me2 #c :old topic",
      ":irc.test 331 me2 #d :No topic is set",
      ":me2!u@h PART #c",
    );
    assert.deepEqual(client.calls, [
      ["joined", "#c"],
      ["userJoined", "bob", "#c"],
      ["userJoined", "bob", "#c"],
      ["userLeft", "bob", "#c"],
      ["userQuit", "bob", "gone"],
      ["userKicked", "bob", "#c", "op", "out"],
      ["kickedFrom", "#c", "op", "you too"],
      ["userRenamed", "bob", "bobby"],
      ["nickChanged", "me2"],
      ["topicUpdated", "bob", "#c", "new topic"],
      ["topicUpdated", "irc.test", "#c", "old topic"],
      ["topicUpdated", "irc.test", "#d", ""],
      ["left", "#c"],
    ]);
  });

  it("gives messages, notices and actions, and hides CTCP from privmsg", () => {
    const { client, sent, feed } = registered();
    feed(
      ":bob!u@h PRIVMSG #c :hello",
      ":bob!u@h PRIVMSG me :private",
      ":bob!u@h NOTICE #c :a notice",
      ":bob!u@h PRIVMSG #c :\x01ACTION waves\x01",
      ":bob!u@h PRIVMSG me :\x01VERSION\x01",
      ":bob!u@h PRIVMSG me :\x01PING 123\x01",
      ":bob!u@h PRIVMSG me :\x01CLIENTINFO\x01",
    );
    assert.deepEqual(client.calls, [
      ["privmsg", "bob!u@h", "#c", "hello"],
      ["privmsg", "bob!u@h", "me", "private"],
      ["noticed", "bob!u@h", "#c", "a notice"],
      ["action", "bob!u@h", "#c", "waves"],
    ]);
    const out = sent();
    assert.match(out[0]!, /^NOTICE bob :\x01VERSION twisted-ts:.*\x01$/);
    assert.equal(out[1], "NOTICE bob :\x01PING 123\x01");
    assert.match(
      out[2]!,
      /^NOTICE bob :\x01CLIENTINFO ACTION CLIENTINFO PING SOURCE TIME VERSION\x01$/,
    );
  });

  it("parses mode changes by the server's CHANMODES and PREFIX", () => {
    const { client, feed } = registered();
    feed(
      ":irc.test 005 me PREFIX=(ohv)@%+ CHANMODES=beI,k,l,imnst :are supported",
      ":op!u@h MODE #c +oh-l+kI alice bob key *!*@x",
      ":op!u@h MODE #c -k key",
      ":me MODE me :+iw",
      ":op!u@h MODE #c +o",
    );
    assert.deepEqual(client.calls.slice(1), [
      ["modeChanged", "op!u@h", "#c", true, "ohkI", ["alice", "bob", "key", "*!*@x"]],
      ["modeChanged", "op!u@h", "#c", false, "l", [null]],
      ["modeChanged", "op!u@h", "#c", false, "k", ["key"]],
      ["modeChanged", "me", "me", true, "iw", [null, null]],
    ]);
  });

  it("passes unknown commands to irc_unknown and survives garbage", () => {
    const { client } = registered();
    client.dataReceived(Buffer.from("\xff\xfe garbage\r\n:s FOO a :b c\r\n", "latin1"));
    assert.deepEqual(client.calls, [["irc_unknown", "s", "FOO", ["a", "b c"]]]);
  });

  it("answers PING at once, ahead of lines paced by lineRate", () => {
    const { client, clock, sent, feed } = registered((c) => {
      c.capabilities = [];
      c.lineRate = 1;
    });
    clock.advance(1);
    assert.deepEqual(sent(), ["USER me 0 * me"]);
    clock.advance(1);
    client.say("#c", "one");
    client.say("#c", "two");
    feed("PING :token");
    assert.deepEqual(sent(), ["PRIVMSG #c one", "PONG token"]);
  });
});

describe("IRCClient commands", () => {
  it("sends Twisted's commands", () => {
    const { client, sent } = registered();
    client.join("chan");
    client.join("#k", "key");
    client.leave("#c", "bye now");
    client.kick("#c", "bob", "out");
    client.invite("bob", "#c");
    client.topic("#c");
    client.topic("#c", "new topic");
    client.mode("#c", true, "o", undefined, "bob");
    client.mode("#c", true, "l", 10);
    client.mode("#c", false, "b", undefined, undefined, "*!*@x");
    client.notice("bob", "hi there");
    client.describe("#c", "waves");
    client.away("lunch");
    client.back();
    client.setNick("other");
    client.quit("done");
    assert.deepEqual(sent(), [
      "JOIN #chan",
      "JOIN #k key",
      "PART #c :bye now",
      "KICK #c bob out",
      "INVITE bob #c",
      "TOPIC #c",
      "TOPIC #c :new topic",
      "MODE #c +o bob",
      "MODE #c +l 10",
      "MODE #c -b *!*@x",
      "NOTICE bob :hi there",
      "PRIVMSG #c :\x01ACTION waves\x01",
      "AWAY lunch",
      "AWAY",
      "NICK other",
      "QUIT done",
    ]);
  });

  it("splits long messages at the byte limit without breaking UTF-8", () => {
    const { client, sent } = registered();
    const text = `${"\u2713".repeat(300)} end\nsecond line`;
    client.msg("#c", text);
    const lines = sent();
    assert.ok(lines.length >= 4);
    for (const l of lines) {
      assert.ok(Buffer.byteLength(`${l}\r\n`) + 9 + 10 + 63 + 4 <= 512, "room for the prefix");
      assert.ok(!l.includes("\ufffd"));
    }
    const body = lines.map((l) => l.replace(/^PRIVMSG #c :?/, ""));
    assert.equal(body.slice(0, -1).join("").replace(/ end$/, ""), "\u2713".repeat(300));
    assert.equal(body.at(-1), "second line");
    assert.throws(() => client.msg("#c", "x", 5), RangeError);
  });

  it("splitText prefers spaces and drops empty lines", () => {
    assert.deepEqual(splitText("hello big world", 9), ["hello big", "world"]);
    assert.deepEqual(splitText("abcdefgh", 3), ["abc", "def", "gh"]);
    assert.deepEqual(splitText("a\n\nb\r\n", 10), ["a", "b"]);
  });

  it("whois gathers the replies into a Deferred, null for no such nick", () => {
    const { client, sent, feed } = registered();
    const d = client.whois("Bob");
    const missing = client.whois("ghost");
    assert.deepEqual(sent(), ["WHOIS Bob", "WHOIS ghost"]);
    feed(
      ":s 311 me bob b host * :Bob Real",
      ":s 319 me bob :@#a +#b",
      ":s 312 me bob s :info",
      ":s 301 me bob :lunch",
      ":s 317 me bob 42 1700000000 :seconds idle",
      ":s 330 me bob bobacct :is logged in as",
      ":s 318 me bob :End of WHOIS",
      ":s 401 me ghost :No such nick",
      ":s 318 me ghost :End of WHOIS",
    );
    assert.deepEqual(successResultOf(d), {
      nick: "bob",
      user: "b",
      host: "host",
      realname: "Bob Real",
      server: "s",
      channels: ["@#a", "+#b"],
      operator: false,
      account: "bobacct",
      away: "lunch",
      idleSeconds: 42,
      signon: 1700000000,
    });
    assert.equal(successResultOf(missing), null);
  });

  it("ping measures the CTCP round trip", () => {
    const { client, clock, sent, feed } = registered();
    client.ping("bob", "k1");
    assert.deepEqual(sent(), ["PRIVMSG bob :\x01PING k1\x01"]);
    clock.advance(1.5);
    feed(":bob!u@h NOTICE me :\x01PING k1\x01");
    assert.deepEqual(client.calls, [["pong", "bob!u@h", 1.5]]);
  });
});

describe("IRCClient flood control and heartbeat", () => {
  it("lineRate queues lines and sends one per period on the clock", () => {
    const { client, clock, sent } = registered((c) => {
      c.capabilities = [];
      c.lineRate = 2;
    });
    clock.advance(2);
    assert.deepEqual(sent(), ["USER me 0 * me"]);
    clock.advance(2);
    for (const n of ["a", "b", "c"]) client.say("#c", n);
    assert.deepEqual(sent(), ["PRIVMSG #c a"]);
    assert.equal(client.queuedLines, 2);
    clock.advance(1.9);
    assert.deepEqual(sent(), []);
    clock.advance(0.1);
    assert.deepEqual(sent(), ["PRIVMSG #c b"]);
    clock.advance(2);
    assert.deepEqual(sent(), ["PRIVMSG #c c"]);
    clock.advance(10);
    client.say("#c", "d");
    assert.deepEqual(sent(), ["PRIVMSG #c d"]);
  });

  it("sends heartbeat PINGs, measures the lag, and drops a silent connection", () => {
    const { client, clock, t, sent, feed } = registered((c) => {
      c.capabilities = [];
      c.heartbeatInterval = 30;
      c.heartbeatTimeout = 10;
    });
    clock.advance(30);
    const [ping] = sent();
    assert.match(ping!, /^PING LAG\d+$/);
    clock.advance(0.25);
    feed(`:irc.test PONG irc.test :${ping!.slice(5)}`);
    assert.deepEqual(client.calls, [["lag", 0.25]]);
    assert.equal(client.lag, 0.25);
    clock.advance(29.75);
    assert.equal(sent().length, 1);
    clock.advance(9.9);
    assert.ok(!t.disconnecting);
    clock.advance(0.1);
    assert.ok(t.disconnecting, "dropped after the timeout");
    client.connectionLost(new Failure(new ConnectionLost()));
    assert.equal(clock.getDelayedCalls().length, 0);
  });
});

describe("IRCClient IRCv3", () => {
  it("negotiates capabilities with CAP LS 302 before registering", () => {
    const { client, sent, feed } = setup((c) => {
      c.capabilities = ["server-time", "echo-message", "multi-prefix"];
    });
    assert.deepEqual(sent(), ["CAP LS 302", "NICK me", "USER me 0 * me"]);
    feed(
      ":irc.test CAP * LS * :server-time sasl=PLAIN,EXTERNAL",
      ":irc.test CAP * LS :echo-message other",
    );
    assert.deepEqual(sent(), ["CAP REQ :server-time echo-message"]);
    feed(":irc.test CAP * ACK :server-time echo-message");
    assert.deepEqual(sent(), ["CAP END"]);
    assert.deepEqual([...client.enabledCapabilities], ["server-time", "echo-message"]);
    assert.equal(client.serverCapabilities.get("sasl"), "PLAIN,EXTERNAL");
    feed(":irc.test CAP me NEW :multi-prefix", ":irc.test CAP me DEL :echo-message");
    assert.deepEqual(sent(), ["CAP REQ multi-prefix"]);
    assert.deepEqual([...client.enabledCapabilities], ["server-time"]);
  });

  it("ends negotiation after a NAK, and goes on when the server has no CAP", () => {
    const a = setup((c) => (c.capabilities = ["x"]));
    a.sent();
    a.feed(":s CAP * LS :x", ":s CAP * NAK :x");
    assert.deepEqual(a.sent(), ["CAP REQ x", "CAP END"]);
    const b = setup((c) => (c.capabilities = ["x"]));
    b.sent();
    b.feed(":s 421 me CAP :Unknown command", ":s 001 me :Welcome");
    assert.deepEqual(b.client.calls, [["signedOn"]]);
    assert.equal(b.client.capabilityState, "done");
  });

  it("authenticates with SASL PLAIN and ends negotiation on 903, not 900", () => {
    const { client, sent, feed } = setup((c) => {
      c.capabilities = [];
      c.saslUsername = "alice";
      c.saslPassword = "secret";
    });
    assert.equal(sent()[0], "CAP LS 302");
    feed(":s CAP * LS :sasl=PLAIN");
    assert.deepEqual(sent(), ["CAP REQ sasl"]);
    feed(":s CAP * ACK :sasl");
    assert.deepEqual(sent(), ["AUTHENTICATE PLAIN"]);
    feed("AUTHENTICATE +");
    assert.deepEqual(sent(), [
      `AUTHENTICATE ${Buffer.from("alice\0alice\0secret").toString("base64")}`,
    ]);
    feed(":s 900 * *!*@h alice :You are now logged in as alice");
    assert.deepEqual(sent(), []);
    feed(":s 903 * :SASL authentication successful");
    assert.deepEqual(sent(), ["CAP END"]);
    assert.equal(client.account, "alice");
    assert.deepEqual(client.calls, [["saslSucceeded", "alice"]]);
  });

  it("ends negotiation on 904, or quits when SASL is required", () => {
    const a = setup((c) => {
      c.capabilities = [];
      c.saslUsername = "alice";
    });
    a.feed(":s CAP * LS :sasl", ":s CAP * ACK :sasl", "AUTHENTICATE +");
    a.sent();
    a.feed(":s 904 * :SASL authentication failed");
    assert.deepEqual(a.sent(), ["CAP END"]);
    assert.deepEqual(a.client.calls, [["saslFailed", "904", "SASL authentication failed"]]);
    const b = setup((c) => {
      c.capabilities = [];
      c.saslUsername = "alice";
      c.saslRequired = true;
    });
    b.feed(":s CAP * LS :sasl", ":s CAP * ACK :sasl", "AUTHENTICATE +");
    b.sent();
    b.feed(":s 904 * :SASL authentication failed");
    assert.deepEqual(b.sent(), ["QUIT :SASL authentication failed"]);
    assert.ok(b.t.disconnecting);
  });

  it("exposes tags, server-time and echo-message to message callbacks", () => {
    const { client, clock, feed } = registered(
      (c) => (c.capabilities = ["server-time", "echo-message"]),
    );
    client.enabledCapabilities.add("echo-message");
    clock.advance(1000);
    feed(
      "@time=2024-05-01T10:00:00.000Z;account=bob;+x=y :bob!u@h PRIVMSG #c :hi",
      ":me!u@h PRIVMSG #c :mine",
    );
    const [a, b] = client.contexts;
    assert.equal(a!.time.toISOString(), "2024-05-01T10:00:00.000Z");
    assert.equal(a!.account, "bob");
    assert.equal(a!.tags.get("+x"), "y");
    assert.equal(a!.echo, false);
    assert.equal(b!.time.getTime(), 1_000_000);
    assert.equal(b!.echo, true);
  });

  it("reports away-notify changes", () => {
    const { client, feed } = registered();
    feed(":bob!u@h AWAY :lunch", ":bob!u@h AWAY");
    assert.deepEqual(client.calls, [
      ["userAway", "bob", "lunch"],
      ["userAway", "bob", null],
    ]);
  });
});
