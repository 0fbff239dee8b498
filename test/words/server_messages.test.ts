// Server tests over iosim: messages to users and channels, IRCv3 delivery (server-time,
// message-tags, echo-message, multi-prefix, extended-join, away-notify), queries, OPER/KILL,
// hooks and bots, and our IRCClient against our server.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Failure } from "../../src/internet/failure.js";
import { LogCapture, successResultOf } from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import type { IRCMessage } from "../../src/words/_irc_message.js";
import { Net, type RawClient } from "./_net.js";

function run(net: Net, c: RawClient, ...lines: string[]): string[] {
  c.send(...lines);
  net.flush();
  return c.take();
}

describe("IRC server messages", () => {
  it("delivers PRIVMSG and NOTICE to users and channels, with 401, 411, 412, 301", () => {
    const net = new Net();
    const a = net.user("alice");
    const b = net.user("bob");
    run(net, a, "JOIN #c");
    run(net, b, "JOIN #c");
    a.take();
    assert.deepEqual(
      run(net, a, "PRIVMSG bob :hi bob", "PRIVMSG #c :hi all", "NOTICE #c :note"),
      [],
    );
    assert.deepEqual(b.take(), [
      ":alice!~alice@192.168.1.1 PRIVMSG bob :hi bob",
      ":alice!~alice@192.168.1.1 PRIVMSG #c :hi all",
      ":alice!~alice@192.168.1.1 NOTICE #c note",
    ]);
    assert.deepEqual(
      run(net, a, "PRIVMSG ghost :x", "PRIVMSG", "PRIVMSG bob", "NOTICE ghost :x", "NOTICE"),
      [
        ":irc.test 401 alice ghost :No such nick/channel",
        ":irc.test 411 alice :No recipient given (PRIVMSG)",
        ":irc.test 412 alice :No text to send",
      ],
    );
    run(net, b, "AWAY :lunch");
    assert.deepEqual(run(net, a, "PRIVMSG bob :back?"), [":irc.test 301 alice bob lunch"]);
  });

  it("sends to several targets up to TARGMAX, and to ops only with @#chan", () => {
    const net = new Net({ maxTargets: 2 });
    const [a, b, c] = [net.user("a"), net.user("b"), net.user("c")];
    assert.deepEqual(run(net, a, "PRIVMSG b,c,a :multi"), [
      ":irc.test 407 a a :Too many recipients",
    ]);
    assert.equal(b.take().length, 1);
    assert.equal(c.take().length, 1);
    run(net, a, "JOIN #c");
    run(net, b, "JOIN #c");
    a.take();
    run(net, b, "PRIVMSG @#c :ops only");
    assert.deepEqual(a.take(), [":b!~b@192.168.1.2 PRIVMSG @#c :ops only"]);
  });

  it("relays bytes that are not UTF-8 exactly", () => {
    const net = new Net();
    const a = net.user("a");
    const b = net.user("b");
    a.send(Buffer.concat([Buffer.from("PRIVMSG b :caf"), Buffer.from([0xe9, 0xff])]));
    net.flush();
    assert.deepEqual(b.take(), [":a!~a@192.168.1.1 PRIVMSG b caf\u00e9\u00ff"]);
  });

  it("adds server-time, relays client tags to message-tags clients, and echoes with echo-message", () => {
    const net = new Net();
    const a = net.user("a", "CAP REQ :echo-message message-tags");
    const b = net.user("b", "CAP REQ :server-time message-tags");
    const c = net.user("c");
    for (const u of [a, b, c]) run(net, u, "JOIN #t");
    a.take();
    b.take();
    net.clock.advance(1.5);
    a.send("@+draft/react=x;bad=1 PRIVMSG #t :tagged", "@+typing=active TAGMSG #t");
    net.flush();
    assert.deepEqual(b.take(), [
      "@time=1970-01-01T00:00:01.500Z;+draft/react=x :a!~a@192.168.1.1 PRIVMSG #t tagged",
      "@time=1970-01-01T00:00:01.500Z;+typing=active :a!~a@192.168.1.1 TAGMSG #t",
    ]);
    assert.deepEqual(c.take(), [":a!~a@192.168.1.1 PRIVMSG #t tagged"]);
    assert.deepEqual(a.take(), [
      "@+draft/react=x :a!~a@192.168.1.1 PRIVMSG #t tagged",
      "@+typing=active :a!~a@192.168.1.1 TAGMSG #t",
    ]);
  });

  it("shows every prefix with multi-prefix and account and real name with extended-join", () => {
    const net = new Net();
    const a = net.user("a", "CAP REQ :multi-prefix extended-join");
    const b = net.user("b");
    run(net, b, "JOIN #m", "MODE #m +v b");
    assert.deepEqual(run(net, a, "JOIN #m").slice(1, 2), [":irc.test 353 a = #m :@+b a"]);
    run(net, a, "PART #m");
    b.take();
    run(net, b, "PART #m", "JOIN #m");
    assert.deepEqual(a.take(), []);
    run(net, a, "JOIN #m");
    run(net, b, "PART #m");
    a.take();
    run(net, b, "JOIN #m");
    assert.deepEqual(a.take(), [":b!~b@192.168.1.2 JOIN #m * :Real b"]);
  });

  it("tells away-notify clients when a channel neighbour goes away and comes back", () => {
    const net = new Net();
    const a = net.user("a", "CAP REQ away-notify");
    const b = net.user("b");
    run(net, a, "JOIN #x");
    run(net, b, "JOIN #x");
    a.take();
    assert.deepEqual(run(net, b, "AWAY :gone fishing", "AWAY"), [
      ":irc.test 306 b :You have been marked as being away",
      ":irc.test 305 b :You are no longer marked as being away",
    ]);
    assert.deepEqual(a.take(), [":b!~b@192.168.1.2 AWAY :gone fishing", ":b!~b@192.168.1.2 AWAY"]);
  });
});

describe("IRC server queries", () => {
  it("answers WHOIS, WHOWAS, WHO, USERHOST, ISON, TIME and VERSION", () => {
    const net = new Net();
    const a = net.user("alice");
    const b = net.user("bob");
    run(net, b, "JOIN #c", "AWAY :out");
    net.clock.advance(7);
    assert.deepEqual(run(net, a, "WHOIS BOB"), [
      ":irc.test 311 alice bob ~bob 192.168.1.2 * :Real bob",
      ":irc.test 319 alice bob @#c",
      ":irc.test 312 alice bob irc.test TestNet",
      ":irc.test 301 alice bob out",
      ":irc.test 317 alice bob 7 0 :seconds idle, signon time",
      ":irc.test 318 alice bob :End of /WHOIS list",
    ]);
    assert.deepEqual(run(net, a, "WHOIS ghost"), [
      ":irc.test 401 alice ghost :No such nick/channel",
      ":irc.test 318 alice ghost :End of /WHOIS list",
    ]);
    assert.deepEqual(run(net, a, "WHO #c"), [
      ":irc.test 352 alice #c ~bob 192.168.1.2 irc.test bob G@ :0 Real bob",
      ":irc.test 315 alice #c :End of /WHO list",
    ]);
    assert.deepEqual(run(net, a, "USERHOST bob alice ghost", "ISON ghost BOB alice"), [
      ":irc.test 302 alice :bob=-~bob@192.168.1.2 alice=+~alice@192.168.1.1",
      ":irc.test 303 alice :bob alice",
    ]);
    run(net, b, "QUIT :bye");
    assert.deepEqual(run(net, a, "WHOWAS bob", "WHOWAS nobody"), [
      ":irc.test 314 alice bob ~bob 192.168.1.2 * :Real bob",
      ":irc.test 312 alice bob irc.test :Thu, 01 Jan 1970 00:00:07 GMT",
      ":irc.test 369 alice bob :End of WHOWAS",
      ":irc.test 406 alice nobody :There was no such nickname",
      ":irc.test 369 alice nobody :End of WHOWAS",
    ]);
    assert.deepEqual(run(net, a, "TIME"), [
      ":irc.test 391 alice irc.test :Thu, 01 Jan 1970 00:00:07 GMT",
    ]);
    assert.match(run(net, a, "VERSION")[0]!, /^:irc\.test 351 alice \S+ irc\.test :/);
    assert.deepEqual(
      run(net, a, "LUSERS").map((l) => l.split(" ")[1]),
      ["251", "252", "253", "254", "255", "265", "266"],
    );
  });

  it("OPER makes an operator who may KILL; others get 464 and 481", () => {
    const net = new Net({ opers: { root: "toor" } });
    const a = net.user("a");
    const b = net.user("b");
    const c = net.user("c");
    run(net, b, "JOIN #k");
    run(net, c, "JOIN #k");
    b.take();
    assert.deepEqual(run(net, a, "KILL b :bye"), [
      ":irc.test 481 a :Permission Denied- You're not an IRC operator",
    ]);
    assert.deepEqual(run(net, a, "OPER root wrong"), [":irc.test 464 a :Password incorrect"]);
    assert.deepEqual(run(net, a, "OPER root toor"), [
      ":a!~a@192.168.1.1 MODE a +o",
      ":irc.test 381 a :You are now an IRC operator",
    ]);
    run(net, a, "KILL b :spamming");
    assert.deepEqual(b.take(), [
      ":a!~a@192.168.1.1 KILL b spamming",
      "ERROR :Closing Link: 192.168.1.2 (Killed (a (spamming)))",
    ]);
    assert.deepEqual(c.take(), [":b!~b@192.168.1.2 QUIT :Killed (a (spamming))"]);
    assert.ok(b.lost !== null);
  });

  it("QUIT tells the channels once and closes with ERROR", () => {
    const net = new Net();
    const a = net.user("a");
    const b = net.user("b");
    run(net, a, "JOIN #1,#2");
    run(net, b, "JOIN #1,#2");
    a.take();
    assert.deepEqual(run(net, b, "QUIT :done"), ["ERROR :Closing Link: 192.168.1.2 (Quit: done)"]);
    assert.deepEqual(a.take(), [":b!~b@192.168.1.2 QUIT :Quit: done"]);
    assert.ok(b.lost !== null);
  });
});

describe("IRC server hooks and bots", () => {
  it("a bot joins, sees messages and answers; hooks follow channels and can veto messages", () => {
    const events: string[] = [];
    const net = new Net({
      hooks: {
        userRegistered: (u) => events.push(`registered ${u.nick}`),
        channelCreated: (c) => events.push(`created ${c.name}`),
        channelDestroyed: (c) => events.push(`destroyed ${c.name}`),
        channelChanged: (c, what) => events.push(`changed ${c.name} ${what}`),
        messageSent: (u, target, text) => (text.includes("spam") ? false : undefined),
        userQuit: (u, reason) => events.push(`quit ${u.nick} ${reason}`),
        commandReceived: (u, m) => {
          if (m.command !== "HELLO") return false;
          net.server.send(u, "NOTICE", [u.nick!, "Hello to you"]);
          return true;
        },
      },
    });
    const seen: IRCMessage[] = [];
    const bot = net.server.addBot("echobot", {
      messageReceived(m, self) {
        seen.push(m);
        if (m.command === "PRIVMSG" && m.params[1] === "!ping") self.say(m.params[0]!, "pong");
      },
    });
    bot.join("#bots");
    const a = net.user("alice");
    run(net, a, "JOIN #bots");
    assert.deepEqual(run(net, a, "PRIVMSG #bots :!ping", "PRIVMSG #bots :buy spam", "HELLO"), [
      ":echobot!~echobot@irc.test PRIVMSG #bots pong",
      ":irc.test NOTICE alice :Hello to you",
    ]);
    assert.ok(seen.some((m) => m.params[1] === "!ping"));
    assert.ok(!seen.some((m) => m.params[1] === "buy spam"));
    run(net, a, "JOIN #mine", "TOPIC #mine :robots", "QUIT");
    bot.quit();
    assert.deepEqual(events, [
      "registered echobot",
      "created #bots",
      "registered alice",
      "created #mine",
      "changed #mine topic",
      "destroyed #mine",
      "quit alice Quit",
      "destroyed #bots",
      "quit echobot Quit: Bot leaving",
    ]);
  });

  it("logs a hook that throws, naming it, and goes on as if the hook were not set", () => {
    const net = new Net({
      hooks: {
        messageSent: () => {
          throw new Error("veto broke");
        },
        userQuit: () => {
          throw new Error("quit broke");
        },
      },
    });
    const a = net.user("alice");
    const b = net.user("bob");
    const logs = new LogCapture({ exclusive: true });
    try {
      run(net, a, "PRIVMSG bob :still delivered", "QUIT");
    } finally {
      logs.stop();
    }
    assert.deepEqual(b.take(), [":alice!~alice@192.168.1.1 PRIVMSG bob :still delivered"]);
    assert.ok(a.lost !== null);
    const failed = logs.messages().filter((m) => m.startsWith("IRC server hook"));
    assert.equal(failed.length, 2);
    assert.match(failed[0]!, /^IRC server hook messageSent failed: .*veto broke/);
    assert.match(failed[1]!, /^IRC server hook userQuit failed: .*quit broke/);
  });

  it("keeps a persistent channel made by createChannel when it empties", () => {
    const net = new Net();
    net.server.createChannel("#home", { topic: "Welcome home", modes: "nt", persistent: true });
    const a = net.user("a");
    const lines = run(net, a, "JOIN #home", "PART #home");
    assert.ok(lines.includes(":irc.test 332 a #home :Welcome home"));
    assert.ok(net.server.channels.has("#home"));
  });
});

describe("IRCClient against IRCServer", () => {
  class Bot extends IRCClient {
    got: string[] = [];
    override signedOn() {
      this.join("#room");
    }
    override privmsg(user: string, channel: string, message: string) {
      this.got.push(`${channel} <${user.split("!")[0]}> ${message}`);
    }
    override joined(channel: string) {
      this.got.push(`joined ${channel}`);
    }
    override topicUpdated(user: string, channel: string, topic: string) {
      this.got.push(`topic ${channel} ${topic}`);
    }
  }

  it("two IRCClients negotiate caps, join and talk; whois works across", () => {
    const net = new Net();
    const make = (nick: string) => () => {
      const b = new Bot();
      b.nickname = nick;
      b.clock = net.clock;
      return b;
    };
    const [alice] = net.connect(make("alice"));
    const [bob] = net.connect(make("bob"));
    net.flush();
    assert.ok(alice.enabledCapabilities.has("server-time"));
    assert.ok(alice.enabledCapabilities.has("multi-prefix"));
    alice.say("#room", "hello bob");
    alice.topic("#room", "greetings");
    net.flush();
    bob.msg("alice", "hi alice");
    const info = bob.whois("alice");
    net.flush();
    assert.deepEqual(alice.got, ["joined #room", "topic #room greetings", "alice <bob> hi alice"]);
    assert.deepEqual(bob.got, ["joined #room", "#room <alice> hello bob", "topic #room greetings"]);
    assert.deepEqual(successResultOf(info)!.channels, ["@#room"]);
    alice.quit("bye");
    net.flush();
    assert.ok(!alice.connected);
  });

  it("an IRCClient logs in with SASL PLAIN through the server's portal", async () => {
    const { InMemoryUsernamePasswordDatabase, Portal } = await import("../../src/cred/index.js");
    const { ircRealm } = await import("../../src/words/_server_register.js");
    const net = new Net({
      portal: new Portal(ircRealm(), [new InMemoryUsernamePasswordDatabase({ al: "pw" })]),
    });
    const [c] = net.connect(() => {
      const b = new Bot();
      b.nickname = "al";
      b.saslUsername = "al";
      b.saslPassword = "pw";
      b.clock = net.clock;
      return b;
    });
    net.flush();
    assert.equal(c.account, "al");
    assert.ok(c._registered);
    c.connectionLost(new Failure(new Error("test over")));
  });
});
