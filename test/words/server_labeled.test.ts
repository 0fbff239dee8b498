// Tests of the server's IRCv3 batch and labeled-response, with in-memory clients (iosim): the
// label on a single response, ACK, labeled-response batches, refused labels, logins, QUIT.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AvatarId, ICredentials, ICredentialsChecker } from "../../src/cred/index.js";
import { IUsernamePassword, Portal } from "../../src/cred/index.js";
import { Deferred } from "../../src/internet/defer.js";
import { prependTags } from "../../src/words/_server_labeled.js";
import { ircRealm } from "../../src/words/_server_register.js";
import { Net, type RawClient } from "./_net.js";

const LABELS = "CAP REQ :batch labeled-response message-tags";

function run(net: Net, c: RawClient, ...lines: string[]): string[] {
  c.send(...lines);
  net.flush();
  return c.take();
}

/** A checker whose answers the test gives by hand (a slow password database). */
class SlowChecker implements ICredentialsChecker {
  readonly credentialInterfaces = [IUsernamePassword];
  readonly waiting: [ICredentials, Deferred<AvatarId>][] = [];
  requestAvatarId(credentials: ICredentials): Deferred<AvatarId> {
    const d = new Deferred<AvatarId>();
    this.waiting.push([credentials, d]);
    return d;
  }
}

describe("IRC server labeled-response", () => {
  it("offers batch and labeled-response", () => {
    const net = new Net();
    const [c] = net.connect();
    const ls = run(net, c, "CAP LS 302");
    assert.match(ls[0]!, /\bbatch\b/);
    assert.match(ls[0]!, /\blabeled-response\b/);
    assert.match(ls[0]!, /\bmessage-tags\b/);
  });

  it("labels a single response, ACKs a command without one, and escapes the label", () => {
    const net = new Net();
    const a = net.user("a", LABELS);
    net.user("b");
    assert.deepEqual(run(net, a, "@label=p1 PING :tok"), ["@label=p1 :irc.test PONG irc.test tok"]);
    assert.deepEqual(run(net, a, "@label=m1 PRIVMSG b :hi"), ["@label=m1 :irc.test ACK"]);
    assert.deepEqual(run(net, a, "@label=e1 PRIVMSG ghost :hi"), [
      "@label=e1 :irc.test 401 a ghost :No such nick/channel",
    ]);
    assert.deepEqual(run(net, a, "@label=a\\:b\\sc PING x"), [
      "@label=a\\:b\\sc :irc.test PONG irc.test x",
    ]);
    // Unlabeled commands are answered as before.
    assert.deepEqual(run(net, a, "PING y"), [":irc.test PONG irc.test y"]);
  });

  it("wraps a response of several lines in a labeled-response batch", () => {
    const net = new Net();
    const a = net.user("a", LABELS);
    net.user("bob");
    const lines = run(net, a, "@label=w1 WHOIS bob");
    assert.ok(lines.length >= 4, lines.join("\n"));
    const start = lines[0]!.match(/^@label=w1 :irc\.test BATCH \+(\S+) labeled-response$/);
    assert.ok(start, lines[0]);
    const ref = start[1]!;
    assert.match(ref, /^[A-Za-z0-9-]+$/);
    for (const l of lines.slice(1, -1)) assert.match(l, new RegExp(`^@batch=${ref} :irc\\.test `));
    assert.match(lines[1]!, / 311 a bob ~bob /);
    assert.match(lines[lines.length - 2]!, / 318 a bob :End of \/WHOIS list/);
    assert.equal(lines[lines.length - 1], `:irc.test BATCH -${ref}`);
    // A second labeled batch gets another reference.
    const again = run(net, a, "@label=j1 JOIN #c");
    assert.equal(
      again[0],
      `@label=j1 :irc.test BATCH +lr${Number(ref.slice(2)) + 1} labeled-response`,
    );
    assert.match(again[1]!, /^@batch=\S+ :a!~a@\S+ JOIN #c$/);
    assert.ok(again.some((l) => / 366 a #c /.test(l)));
  });

  it("puts server-time's time tag after the label and on the batch lines", () => {
    const net = new Net();
    const a = net.user("a", `${LABELS} server-time`);
    net.clock.advance(2);
    assert.deepEqual(run(net, a, "@label=t1 PING z"), [
      "@label=t1;time=1970-01-01T00:00:02.000Z :irc.test PONG irc.test z",
    ]);
    assert.deepEqual(run(net, a, "@label=t2 AWAY"), [
      "@label=t2;time=1970-01-01T00:00:02.000Z :irc.test 305 a :You are no longer marked as being away",
    ]);
    const names = run(net, a, "@label=t3 NAMES #none");
    assert.equal(names.length, 1);
    const list = run(net, a, "@label=t4 LIST");
    assert.match(list[0]!, /^@label=t4;time=\S+ :irc\.test BATCH \+\S+ labeled-response$/);
    assert.match(list[list.length - 1]!, /^@time=\S+ :irc\.test BATCH -\S+$/);
  });

  it("labels the echo of an echo-message client's message", () => {
    const net = new Net();
    const a = net.user("a", `${LABELS} echo-message`);
    const b = net.user("b");
    run(net, a, "JOIN #e");
    run(net, b, "JOIN #e");
    a.take();
    assert.deepEqual(run(net, a, "@label=x PRIVMSG #e :hello"), [
      "@label=x :a!~a@192.168.1.1 PRIVMSG #e hello",
    ]);
    // Others get the message without the label.
    assert.deepEqual(b.take(), [":a!~a@192.168.1.1 PRIVMSG #e hello"]);
  });

  it("refuses a label over 64 bytes, or empty, with FAIL and does not run the command", () => {
    const net = new Net();
    const a = net.user("a", LABELS);
    const long = "x".repeat(65);
    assert.deepEqual(run(net, a, `@label=${long} JOIN #no`), [
      ":irc.test FAIL JOIN INVALID_LABEL :Label is longer than 64 bytes",
    ]);
    assert.equal(net.server.channels.has("#no"), false);
    assert.deepEqual(run(net, a, "@label= PING x"), [
      ":irc.test FAIL PING INVALID_LABEL :Label is empty",
    ]);
    // 64 bytes (in UTF-8) is fine.
    const ok = "é".repeat(32);
    // (RawClient reads latin-1: compare bytes.)
    assert.deepEqual(run(net, a, `@label=${ok} PING x`), [
      Buffer.from(`@label=${ok} :irc.test PONG irc.test x`).toString("latin1"),
    ]);
    assert.match(run(net, a, `@label=${ok}x PING x`)[0]!, / FAIL PING INVALID_LABEL /);
  });

  it("ignores labels from a client without labeled-response and batch", () => {
    const net = new Net();
    const plain = net.user("p");
    assert.deepEqual(run(net, plain, "@label=z PING x"), [":irc.test PONG irc.test x"]);
    assert.deepEqual(run(net, plain, `@label=${"y".repeat(100)} PING x`), [
      ":irc.test PONG irc.test x",
    ]);
    const half = net.user("h", "CAP REQ :labeled-response message-tags");
    assert.deepEqual(run(net, half, "@label=z PING x"), [":irc.test PONG irc.test x"]);
  });

  it("labels commands before registration, and the welcome burst of the one that completes it", () => {
    const net = new Net();
    const [c] = net.connect();
    run(net, c, "CAP LS 302", LABELS);
    assert.deepEqual(run(net, c, "@label=n NICK lab"), ["@label=n :irc.test ACK"]);
    assert.deepEqual(run(net, c, "@label=u USER lab 0 * :L"), ["@label=u :irc.test ACK"]);
    const burst = run(net, c, "@label=end CAP END");
    assert.match(burst[0]!, /^@label=end :irc\.test BATCH \+\S+ labeled-response$/);
    assert.match(burst[1]!, /^@batch=\S+ :irc\.test 001 lab /);
    assert.match(burst[burst.length - 1]!, /^:irc\.test BATCH -\S+$/);
  });

  it("answers a labeled AUTHENTICATE once a slow login is checked", () => {
    const checker = new SlowChecker();
    const net = new Net({ portal: new Portal(ircRealm(), [checker]) });
    const [c] = net.connect();
    run(net, c, "CAP LS 302", `CAP REQ :sasl ${LABELS.slice(9)}`, "NICK sl", "USER sl 0 * :S");
    assert.deepEqual(run(net, c, "@label=s1 AUTHENTICATE PLAIN"), ["@label=s1 AUTHENTICATE +"]);
    const payload = Buffer.from("\0ann\0pw").toString("base64");
    assert.deepEqual(run(net, c, `@label=s2 AUTHENTICATE ${payload}`, "@label=p PING q"), []);
    assert.equal(checker.waiting.length, 1);
    checker.waiting[0]![1].callback("ann");
    net.flush();
    const lines = c.take();
    assert.match(lines[0]!, /^@label=s2 :irc\.test BATCH \+(\S+) labeled-response$/);
    assert.match(lines[1]!, / 900 sl /);
    assert.match(lines[2]!, / 903 sl /);
    assert.match(lines[3]!, /^:irc\.test BATCH -\S+$/);
    // The command held meanwhile is answered, with its own label, after.
    assert.deepEqual(lines.slice(4), ["@label=p :irc.test PONG irc.test q"]);
  });

  it("sends what a labeled QUIT produced before the ERROR, without an ACK", () => {
    const net = new Net();
    const a = net.user("a", LABELS);
    const lines = run(net, a, "@label=q QUIT :bye");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^ERROR :Closing Link/);
  });
});

describe("prependTags", () => {
  it("puts tags before a line's own, or adds a tags section", () => {
    const plain = Buffer.from(":s PING x\r\n");
    assert.equal(prependTags(plain, [["label", "a b"]]).toString(), "@label=a\\sb :s PING x\r\n");
    const tagged = Buffer.from("@time=t :s PING x\r\n");
    assert.equal(
      prependTags(tagged, [["batch", "r1"]]).toString(),
      "@batch=r1;time=t :s PING x\r\n",
    );
  });
});
