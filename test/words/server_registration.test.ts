// Server tests over iosim: registration (NICK/USER/PASS), welcome burst, numerics for bad
// registration, CAP negotiation and SASL PLAIN through cred.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AllowAnonymousAccess } from "../../src/cred/_checkers.js";
import { InMemoryUsernamePasswordDatabase, Portal } from "../../src/cred/index.js";
import { ircRealm } from "../../src/words/_server_register.js";
import { Net } from "./_net.js";

function portal(anonymous = false) {
  const checkers = [new InMemoryUsernamePasswordDatabase({ alice: "secret", bob: "hunter2" })];
  return new Portal(ircRealm(), anonymous ? [...checkers, new AllowAnonymousAccess()] : checkers);
}

describe("IRC server registration", () => {
  it("welcomes a client with 001-005, LUSERS and the MOTD", () => {
    const net = new Net({ motd: "Hello\nWorld" });
    const [c] = net.connect();
    c.send("NICK alice", "USER al 0 * :Alice Liddell");
    net.flush();
    const lines = c.take();
    assert.equal(
      lines[0],
      ":irc.test 001 alice :Welcome to the TestNet Internet Relay Chat Network alice!~al@192.168.1.1",
    );
    assert.match(lines[1]!, /^:irc\.test 002 alice :Your host is irc\.test, running version /);
    assert.match(lines[3]!, /^:irc\.test 004 alice irc\.test \S+ iow biklmnostv bklov$/);
    const isupport = lines.filter((l) => l.includes(" 005 ")).join(" ");
    for (const t of [
      "CASEMAPPING=rfc1459",
      "CHANMODES=b,k,l,imnst",
      "PREFIX=(ov)@+",
      "NICKLEN=30",
      "NETWORK=TestNet",
    ]) {
      assert.ok(isupport.includes(t), t);
    }
    const codes = lines.map((l) => l.split(" ")[1]);
    for (const code of ["251", "252", "253", "254", "255", "375", "372", "376"])
      assert.ok(codes.includes(code), code);
    assert.ok(lines.includes(":irc.test 372 alice :- World"));
  });

  it("sends 422 without MOTD, answers PING, and refuses commands before registration with 451", () => {
    const net = new Net();
    const [c] = net.connect();
    c.send("JOIN #c", "PRIVMSG x :hi", "FOO", "PING :tok");
    net.flush();
    assert.deepEqual(c.take(), [
      ":irc.test 451 * :You have not registered",
      ":irc.test 451 * :You have not registered",
      ":irc.test 451 * :You have not registered",
      ":irc.test PONG irc.test tok",
    ]);
    c.send("NICK a", "USER a 0 * :A");
    net.flush();
    assert.ok(c.take().includes(":irc.test 422 a :MOTD File is missing"));
  });

  it("answers bad NICK/USER with 431, 432, 461 and 462, and unknown commands with 421", () => {
    const net = new Net({ nickLength: 9 });
    const [c] = net.connect();
    c.send(
      "NICK",
      "NICK 1abc",
      "NICK toolongnick",
      "NICK a,b",
      "USER x",
      "NICK ok",
      "USER u 0 * :R",
      "USER u 0 * :R",
      "BOGUS x",
    );
    net.flush();
    const lines = c.take();
    assert.deepEqual(
      lines.filter((l) => /^:irc\.test (4\d\d) /.test(l)),
      [
        ":irc.test 431 * :No nickname given",
        ":irc.test 432 * 1abc :Erroneous nickname",
        ":irc.test 432 * toolongnick :Erroneous nickname",
        ":irc.test 432 * a,b :Erroneous nickname",
        ":irc.test 461 * USER :Not enough parameters",
        ":irc.test 422 ok :MOTD File is missing",
        ":irc.test 462 ok :You may not reregister",
        ":irc.test 421 ok BOGUS :Unknown command",
      ],
    );
  });

  it("gives 433 on a nick collision, by case mapping, even between unregistered clients", () => {
    const net = new Net();
    net.user("Nick[1]");
    const [c] = net.connect();
    c.send("NICK nick{1}");
    const [d] = net.connect();
    d.send("NICK other");
    net.flush();
    assert.deepEqual(c.take(), [":irc.test 433 * nick{1} :Nickname is already in use"]);
    const [e] = net.connect();
    e.send("NICK OTHER");
    net.flush();
    assert.deepEqual(e.take(), [":irc.test 433 * OTHER :Nickname is already in use"]);
    c.send("NICK fine", "USER f 0 * :F");
    net.flush();
    assert.ok(c.take().some((l) => l.includes(" 001 fine ")));
  });

  it("lets a registered user change nick, telling their channels, and frees the old nick", () => {
    const net = new Net();
    const a = net.user("alice");
    const b = net.user("bob");
    a.send("JOIN #c");
    b.send("JOIN #c");
    net.flush();
    a.take();
    b.take();
    a.send("NICK Alicia");
    net.flush();
    assert.deepEqual(a.take(), [":alice!~alice@192.168.1.1 NICK Alicia"]);
    assert.deepEqual(b.take(), [":alice!~alice@192.168.1.1 NICK Alicia"]);
    net.user("alice");
  });

  it("drops a connection that does not register in time", () => {
    const net = new Net({ registrationTimeout: 30 });
    const [c] = net.connect();
    c.send("NICK slow");
    net.advance(29);
    assert.equal(c.lost, null);
    net.advance(1);
    assert.deepEqual(c.take(), ["ERROR :Closing Link: 192.168.1.1 (Registration timed out)"]);
    assert.ok(c.lost !== null);
    assert.equal(net.server.users.size, 0);
  });

  it("requires a login when the server has a portal: PASS user:password, PASS for the nick, or 464", () => {
    const net = new Net({ portal: portal() });
    const [a] = net.connect();
    a.send("PASS alice:secret", "NICK al", "USER al 0 * :A");
    const [b] = net.connect();
    b.send("PASS hunter2", "NICK bob", "USER b 0 * :B");
    const [c] = net.connect();
    c.send("PASS alice:wrong", "NICK eve", "USER e 0 * :E");
    const [d] = net.connect();
    d.send("NICK anon", "USER a 0 * :A");
    net.flush();
    assert.ok(a.take().some((l) => l.includes(" 001 al ")));
    assert.ok(b.take().some((l) => l.includes(" 001 bob ")));
    assert.deepEqual(c.take(), [
      ":irc.test 464 eve :Password incorrect",
      "ERROR :Closing Link: 192.168.1.3 (Bad password)",
    ]);
    assert.ok(c.lost !== null);
    assert.equal(d.take()[0], ":irc.test 464 anon :Password incorrect");
    assert.equal(net.server.users.get("al")!.account, "alice");
  });

  it("lets anonymous users in when the portal allows it", () => {
    const net = new Net({ portal: portal(true) });
    const c = net.user("guest");
    assert.ok(c.lost === null);
    assert.equal(net.server.users.get("guest")!.account, null);
  });
  it("with anonymous logins only, ignores PASS and offers no SASL", () => {
    const net = new Net({ portal: new Portal(ircRealm(), [new AllowAnonymousAccess()]) });
    const c = net.user("guest", "PASS serverpassword");
    assert.equal(c.lost, null);
    c.send("CAP LS 302");
    net.flush();
    assert.ok(!c.take()[0]!.includes("sasl"));
  });
});

describe("IRC server capability negotiation and SASL", () => {
  it("holds registration until CAP END and lists capabilities with values for 302", () => {
    const net = new Net({ portal: portal(true) });
    const [c] = net.connect();
    c.send("CAP LS 302", "NICK a", "USER a 0 * :A");
    net.flush();
    const ls = c.take();
    assert.equal(ls.length, 1);
    assert.match(ls[0]!, /^:irc\.test CAP \* LS :.*\bsasl=PLAIN\b/);
    for (const cap of [
      "cap-notify",
      "multi-prefix",
      "message-tags",
      "server-time",
      "echo-message",
      "away-notify",
      "account-notify",
      "extended-join",
    ]) {
      assert.ok(ls[0]!.includes(cap), cap);
    }
    c.send(
      "CAP REQ :server-time multi-prefix",
      "CAP REQ :nonsense server-time",
      "CAP LIST",
      "CAP BOGUS",
    );
    net.flush();
    assert.deepEqual(c.take(), [
      ":irc.test CAP a ACK :server-time multi-prefix",
      "@time=1970-01-01T00:00:00.000Z :irc.test CAP a NAK :nonsense server-time",
      "@time=1970-01-01T00:00:00.000Z :irc.test CAP a LIST :cap-notify server-time multi-prefix",
      "@time=1970-01-01T00:00:00.000Z :irc.test 410 a BOGUS :Invalid CAP command",
    ]);
    c.send("CAP END");
    net.flush();
    assert.match(c.take()[0]!, /^@time=\S+ :irc\.test 001 a /);
  });

  it("logs in with SASL PLAIN (900, 903) and registers with the account", () => {
    const net = new Net({ portal: portal() });
    const [c] = net.connect();
    c.send("CAP LS 302", "NICK al", "USER al 0 * :A", "CAP REQ sasl", "AUTHENTICATE PLAIN");
    net.flush();
    assert.deepEqual(c.take().slice(1), [":irc.test CAP al ACK sasl", "AUTHENTICATE +"]);
    c.send(`AUTHENTICATE ${Buffer.from("\0alice\0secret").toString("base64")}`);
    net.flush();
    assert.deepEqual(c.take(), [
      ":irc.test 900 al al!~al@192.168.1.1 alice :You are now logged in as alice",
      ":irc.test 903 al :SASL authentication successful",
    ]);
    c.send("CAP END");
    net.flush();
    assert.ok(c.take().some((l) => l.includes(" 001 al ")));
    const b = net.user("bob", "PASS bob:hunter2");
    b.send("WHOIS al");
    net.flush();
    assert.ok(b.take().includes(":irc.test 330 bob al alice :is logged in as"));
  });

  it("answers SASL failures with 904, 905, 906 and 908, and then refuses registration", () => {
    const net = new Net({ portal: portal() });
    const [c] = net.connect();
    c.send(
      "CAP LS",
      "CAP REQ :sasl",
      "AUTHENTICATE EXTERNAL",
      "AUTHENTICATE PLAIN",
      "AUTHENTICATE *",
    );
    c.send("AUTHENTICATE PLAIN", `AUTHENTICATE ${"A".repeat(401)}`);
    c.send(
      "AUTHENTICATE PLAIN",
      `AUTHENTICATE ${Buffer.from("alice\0alice\0nope").toString("base64")}`,
    );
    net.flush();
    const codes = c.codes();
    assert.deepEqual(codes, [
      "CAP",
      "CAP",
      "908",
      "904",
      "AUTHENTICATE",
      "906",
      "AUTHENTICATE",
      "905",
      "AUTHENTICATE",
      "904",
    ]);
    c.send("NICK x", "USER x 0 * :X", "CAP END");
    net.advance(5);
    assert.deepEqual(c.codes(), ["464", "ERROR"]);
  });
});
