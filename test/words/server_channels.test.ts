// Server tests over iosim with several clients: channel life cycle, topics, modes, bans, kicks
// and invites, each error with its numeric.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matchMask, normalizeMask } from "../../src/words/_server_state.js";
import { Net, type RawClient } from "./_net.js";

/** A net with alice (op of #c, created first) and bob in #c, their buffers emptied. */
function channel(options = {}) {
  const net = new Net(options);
  const alice = net.user("alice");
  const bob = net.user("bob");
  alice.send("JOIN #c");
  net.flush();
  bob.send("JOIN #c");
  net.flush();
  alice.take();
  bob.take();
  return { net, alice, bob };
}

function run(net: Net, c: RawClient, ...lines: string[]): string[] {
  c.send(...lines);
  net.flush();
  return c.take();
}

describe("IRC server channel life cycle", () => {
  it("JOIN creates the channel with the creator as operator, then sends NAMES", () => {
    const net = new Net();
    const alice = net.user("alice");
    assert.deepEqual(run(net, alice, "JOIN #Room"), [
      ":alice!~alice@192.168.1.1 JOIN #Room",
      ":irc.test 353 alice = #Room @alice",
      ":irc.test 366 alice #Room :End of /NAMES list",
    ]);
    const bob = net.user("bob");
    assert.deepEqual(run(net, bob, "JOIN #room"), [
      ":bob!~bob@192.168.1.2 JOIN #Room",
      ":irc.test 353 bob = #Room :@alice bob",
      ":irc.test 366 bob #Room :End of /NAMES list",
    ]);
    assert.deepEqual(alice.take(), [":bob!~bob@192.168.1.2 JOIN #Room"]);
    assert.equal(net.server.channels.size, 1);
  });

  it("PART tells the members, and the last PART removes the channel", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, bob, "PART #c :see you"), [":bob!~bob@192.168.1.2 PART #c :see you"]);
    assert.deepEqual(alice.take(), [":bob!~bob@192.168.1.2 PART #c :see you"]);
    assert.deepEqual(run(net, bob, "PART #c", "PART #nowhere"), [
      ":irc.test 442 bob #c :You're not on that channel",
      ":irc.test 403 bob #nowhere :No such channel",
    ]);
    run(net, alice, "PART #c");
    assert.equal(net.server.channels.size, 0);
    assert.deepEqual(run(net, bob, "JOIN #c").slice(1, 2), [":irc.test 353 bob = #c @bob"]);
  });

  it("JOIN 0 leaves every channel; several channels and keys join at once", () => {
    const net = new Net();
    const a = net.user("a");
    run(net, a, "JOIN #x,#y,&z");
    assert.deepEqual([...net.server.channels.keys()], ["#x", "#y", "&z"]);
    assert.deepEqual(
      run(net, a, "JOIN 0").map((l) => l.split(" ").slice(1, 3).join(" ")),
      ["PART #x", "PART #y", "PART &z"],
    );
    assert.equal(net.server.channels.size, 0);
  });

  it("refuses bad channel names (403) and too many channels (405)", () => {
    const net = new Net({ maxChannels: 2 });
    const a = net.user("a");
    const lines = run(net, a, "JOIN nochan", "JOIN #a\x07b", "JOIN #1,#2,#3");
    assert.ok(lines.includes(":irc.test 403 a nochan :No such channel"));
    assert.ok(lines.includes(":irc.test 403 a #a\x07b :No such channel"));
    assert.ok(lines.includes(":irc.test 405 a #3 :You have joined too many channels"));
  });

  it("TOPIC sets, shows and protects the topic (+t)", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, bob, "TOPIC #c"), [":irc.test 331 bob #c :No topic is set"]);
    assert.deepEqual(run(net, bob, "TOPIC #c :new"), [
      ":irc.test 482 bob #c :You're not channel operator",
    ]);
    assert.deepEqual(run(net, alice, "TOPIC #c :Hello world"), [
      ":alice!~alice@192.168.1.1 TOPIC #c :Hello world",
    ]);
    assert.deepEqual(bob.take(), [":alice!~alice@192.168.1.1 TOPIC #c :Hello world"]);
    assert.deepEqual(run(net, bob, "TOPIC #c"), [
      ":irc.test 332 bob #c :Hello world",
      ":irc.test 333 bob #c alice!~alice@192.168.1.1 0",
    ]);
    run(net, alice, "MODE #c -t");
    bob.take();
    assert.deepEqual(run(net, bob, "TOPIC #c :by bob"), [":bob!~bob@192.168.1.2 TOPIC #c :by bob"]);
    const carol = net.user("carol");
    assert.ok(run(net, carol, "JOIN #c").includes(":irc.test 332 carol #c :by bob"));
    assert.deepEqual(run(net, carol, "TOPIC #none"), [
      ":irc.test 403 carol #none :No such channel",
    ]);
  });

  it("NAMES and LIST show channels, hiding secret ones from outsiders", () => {
    const { net, alice } = channel();
    run(net, alice, "TOPIC #c :chat here", "JOIN #hidden", "MODE #hidden +s");
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "LIST"), [
      ":irc.test 321 carol Channel :Users  Name",
      ":irc.test 322 carol #c 2 :[+nt] chat here",
      ":irc.test 323 carol :End of /LIST",
    ]);
    assert.deepEqual(run(net, carol, "NAMES #c,#hidden"), [
      ":irc.test 353 carol = #c :@alice bob",
      ":irc.test 366 carol #c :End of /NAMES list",
      ":irc.test 366 carol #hidden :End of /NAMES list",
    ]);
    assert.ok(run(net, alice, "LIST").some((l) => l.includes(" 322 alice #hidden 1 ")));
  });
});

describe("IRC server channel modes", () => {
  it("MODE #c shows modes and creation time; ops change them, others get 482", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, bob, "MODE #c"), [
      ":irc.test 324 bob #c +nt",
      ":irc.test 329 bob #c 0",
    ]);
    assert.deepEqual(run(net, bob, "MODE #c +m"), [
      ":irc.test 482 bob #c :You're not channel operator",
    ]);
    assert.deepEqual(run(net, alice, "MODE #c +mi-n+lk 5 sesame"), [
      ":alice!~alice@192.168.1.1 MODE #c +mi-n+lk 5 sesame",
    ]);
    assert.deepEqual(bob.take(), [":alice!~alice@192.168.1.1 MODE #c +mi-n+lk 5 sesame"]);
    assert.deepEqual(run(net, bob, "MODE #c"), [
      ":irc.test 324 bob #c +imtlk 5 sesame",
      ":irc.test 329 bob #c 0",
    ]);
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "MODE #c"), [
      ":irc.test 324 carol #c +imtlk 5 *",
      ":irc.test 329 carol #c 0",
    ]);
    assert.deepEqual(run(net, alice, "MODE #c +Z"), [
      ":irc.test 472 alice Z :is unknown mode char to me",
    ]);
  });

  it("+o and +v give status; 441 and 401 for nicks not there", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, alice, "MODE #c +ov bob bob"), [
      ":alice!~alice@192.168.1.1 MODE #c +ov bob bob",
    ]);
    bob.take();
    net.user("carol");
    assert.deepEqual(run(net, alice, "MODE #c +o carol", "MODE #c +v ghost"), [
      ":irc.test 441 alice carol #c :They aren't on that channel",
      ":irc.test 401 alice ghost :No such nick/channel",
    ]);
    assert.deepEqual(run(net, bob, "MODE #c -o alice"), [":bob!~bob@192.168.1.2 MODE #c -o alice"]);
    assert.deepEqual(run(net, alice, "MODE #c +t"), [
      ":bob!~bob@192.168.1.2 MODE #c -o alice",
      ":irc.test 482 alice #c :You're not channel operator",
    ]);
    const names = run(net, bob, "NAMES #c");
    assert.equal(names[0], ":irc.test 353 bob = #c :alice @bob");
  });

  it("+m lets only voiced members speak and +n keeps outsiders out (404)", () => {
    const { net, alice, bob } = channel();
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "PRIVMSG #c :from outside"), [
      ":irc.test 404 carol #c :Cannot send to channel",
    ]);
    run(net, alice, "MODE #c +m");
    bob.take();
    assert.deepEqual(run(net, bob, "PRIVMSG #c :muted"), [
      ":irc.test 404 bob #c :Cannot send to channel",
    ]);
    run(net, alice, "MODE #c +v bob");
    bob.take();
    run(net, bob, "PRIVMSG #c :voiced");
    assert.deepEqual(alice.take(), [":bob!~bob@192.168.1.2 PRIVMSG #c voiced"]);
  });

  it("+k needs the key (475) and +l caps the members (471)", () => {
    const { net, alice } = channel();
    run(net, alice, "MODE #c +kl sesame 3");
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "JOIN #c"), [
      ":irc.test 475 carol #c :Cannot join channel (+k)",
    ]);
    assert.equal(run(net, carol, "JOIN #c sesame")[0], ":carol!~carol@192.168.1.3 JOIN #c");
    const dave = net.user("dave");
    assert.deepEqual(run(net, dave, "JOIN #c sesame"), [
      ":irc.test 471 dave #c :Cannot join channel (+l)",
    ]);
    run(net, alice, "MODE #c -lk *");
    assert.equal(run(net, dave, "JOIN #c")[0], ":dave!~dave@192.168.1.4 JOIN #c");
  });

  it("user modes: +i hides from WHO, +o only through OPER, 502 for others, 501 for unknown flags", () => {
    const net = new Net();
    const a = net.user("a");
    const b = net.user("b");
    assert.deepEqual(run(net, a, "MODE a +iow"), [":a!~a@192.168.1.1 MODE a +iw"]);
    assert.deepEqual(run(net, a, "MODE a"), [":irc.test 221 a +iw"]);
    assert.deepEqual(run(net, a, "MODE b +i"), [
      ":irc.test 502 a :Can't change mode for other users",
    ]);
    assert.deepEqual(run(net, a, "MODE a +x"), [":irc.test 501 a :Unknown MODE flag"]);
    assert.deepEqual(run(net, b, "WHO *"), [
      ":irc.test 352 b * ~b 192.168.1.2 irc.test b H :0 Real b",
      ":irc.test 315 b * :End of /WHO list",
    ]);
  });
});

describe("IRC server bans, kicks and invites", () => {
  it("bans keep matching users out (474) and silence banned members; -b lifts them", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, alice, "MODE #c +b bob"), [
      ":alice!~alice@192.168.1.1 MODE #c +b bob!*@*",
    ]);
    bob.take();
    assert.deepEqual(run(net, bob, "PRIVMSG #c :hi"), [
      ":irc.test 404 bob #c :Cannot send to channel",
    ]);
    run(net, alice, "MODE #c +b *!*@192.168.1.3");
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "JOIN #c"), [
      ":irc.test 474 carol #c :Cannot join channel (+b)",
    ]);
    assert.deepEqual(run(net, carol, "MODE #c b"), [
      ":irc.test 367 carol #c bob!*@* alice!~alice@192.168.1.1 0",
      ":irc.test 367 carol #c *!*@192.168.1.3 alice!~alice@192.168.1.1 0",
      ":irc.test 368 carol #c :End of channel ban list",
    ]);
    run(net, alice, "MODE #c -b *!*@192.168.1.3");
    assert.equal(run(net, carol, "JOIN #c")[0], ":carol!~carol@192.168.1.3 JOIN #c");
  });

  it("ban masks complete and match by case mapping", () => {
    assert.equal(normalizeMask("nick"), "nick!*@*");
    assert.equal(normalizeMask("u@h"), "*!u@h");
    assert.equal(normalizeMask("n!u"), "n!u@*");
    assert.ok(matchMask("NICK[1]!*@*", "nick{1}!~u@host", "rfc1459"));
    assert.ok(matchMask("*!*@10.0.?.1", "x!y@10.0.5.1", "rfc1459"));
    assert.ok(!matchMask("a.b", "axb", "rfc1459"));
    assert.ok(matchMask("a*b*c", "aXbYc", "rfc1459"));
    assert.ok(!matchMask("a*b*c", "aXbYcd", "rfc1459"));
    assert.ok(!matchMask("?", "", "rfc1459"));
  });

  it("a mask of many stars is matched in polynomial time (a client's ban or WHO cannot stall the server)", () => {
    // As a regular expression of ".*a" groups this backtracked for seconds at only 8 stars.
    const mask = `${"*a".repeat(200)}*!*@*x`;
    assert.ok(!matchMask(mask, `${"a".repeat(300)}!~aaaaaaaaa@127.0.0.1`, "rfc1459"));
  });

  it("KICK removes a member and tells the channel; 482, 441 and 442 otherwise", () => {
    const { net, alice, bob } = channel();
    assert.deepEqual(run(net, bob, "KICK #c alice"), [
      ":irc.test 482 bob #c :You're not channel operator",
    ]);
    assert.deepEqual(run(net, alice, "KICK #c ghost"), [
      ":irc.test 441 alice ghost #c :They aren't on that channel",
    ]);
    assert.deepEqual(run(net, alice, "KICK #c bob :behave"), [
      ":alice!~alice@192.168.1.1 KICK #c bob behave",
    ]);
    assert.deepEqual(bob.take(), [":alice!~alice@192.168.1.1 KICK #c bob behave"]);
    assert.deepEqual(run(net, bob, "KICK #c alice"), [
      ":irc.test 442 bob #c :You're not on that channel",
    ]);
    assert.deepEqual(run(net, bob, "PRIVMSG #c :let me in"), [
      ":irc.test 404 bob #c :Cannot send to channel",
    ]);
  });

  it("INVITE lets a user past +i (473 without); 341, 443, 401, 442 and 482", () => {
    const { net, alice, bob } = channel();
    run(net, alice, "MODE #c +i");
    bob.take();
    const carol = net.user("carol");
    assert.deepEqual(run(net, carol, "JOIN #c"), [
      ":irc.test 473 carol #c :Cannot join channel (+i)",
    ]);
    assert.deepEqual(run(net, carol, "INVITE bob #c"), [
      ":irc.test 442 carol #c :You're not on that channel",
    ]);
    assert.deepEqual(run(net, bob, "INVITE carol #c"), [
      ":irc.test 482 bob #c :You're not channel operator",
    ]);
    assert.deepEqual(run(net, alice, "INVITE bob #c", "INVITE ghost #c"), [
      ":irc.test 443 alice bob #c :is already on channel",
      ":irc.test 401 alice ghost :No such nick/channel",
    ]);
    assert.deepEqual(run(net, alice, "INVITE carol #c"), [":irc.test 341 alice carol #c"]);
    assert.deepEqual(carol.take(), [":alice!~alice@192.168.1.1 INVITE carol #c"]);
    assert.equal(run(net, carol, "JOIN #c")[0], ":carol!~carol@192.168.1.3 JOIN #c");
    run(net, carol, "PART #c");
    assert.deepEqual(run(net, carol, "JOIN #c"), [
      ":irc.test 473 carol #c :Cannot join channel (+i)",
    ]);
  });
});
