// Server tests over iosim for bad input: over-long lines, garbage bytes, a flooder, a client
// that never answers PING, one that never reads — each handled with the right numeric or
// disconnect while the others keep chatting.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Net, type RawClient } from "./_net.js";

/** alice and bob in #c, plus the bad client (registered as `bad`) in #c too. */
function room(options = {}) {
  const net = new Net(options);
  const alice = net.user("alice");
  const bob = net.user("bob");
  const bad = net.user("bad");
  for (const c of [alice, bob, bad]) c.send("JOIN #c");
  net.flush();
  for (const c of [alice, bob, bad]) c.take();
  return { net, alice, bob, bad };
}

/** alice says something in #c; returns whether bob got it. */
function stillChatting(net: Net, alice: RawClient, bob: RawClient, text = "still here"): boolean {
  alice.send(`PRIVMSG #c :${text}`);
  net.flush();
  return bob.take().includes(`:alice!~alice@192.168.1.1 PRIVMSG #c :${text}`);
}

describe("IRC server against bad input", () => {
  it("answers an over-long line with 417 and keeps the connection", () => {
    const { net, alice, bob, bad } = room();
    bad.send(`PRIVMSG #c :${"x".repeat(600)}`, "PRIVMSG #c :short");
    net.flush();
    assert.deepEqual(bad.take(), [":irc.test 417 bad :Input line was too long"]);
    assert.deepEqual(alice.take(), [":bad!~bad@192.168.1.3 PRIVMSG #c short"]);
    assert.ok(stillChatting(net, alice, bob));
  });

  it("skips an endless line without buffering it, then goes on", () => {
    const { net, alice, bob, bad } = room();
    for (let i = 0; i < 50; i++) bad.transport!.write(Buffer.alloc(1000, 0x41));
    bad.send("", "PRIVMSG #c :after");
    net.flush();
    assert.deepEqual(bad.take(), [":irc.test 417 bad :Input line was too long"]);
    assert.deepEqual(bob.take(), [":bad!~bad@192.168.1.3 PRIVMSG #c after"]);
    assert.ok(stillChatting(net, alice, bob));
  });

  it("skips garbage bytes and malformed lines without answering", () => {
    const { net, alice, bob, bad } = room();
    bad.transport!.write(
      Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 0x3a, 0x78, 13, 10, 0x40, 13, 10, 32, 32, 13, 10]),
    );
    bad.send("\x1b[31mRED", "PRIVMSG #c :ok");
    net.flush();
    assert.deepEqual(bad.take(), []);
    assert.equal(bad.lost, null);
    assert.deepEqual(alice.take(), [":bad!~bad@192.168.1.3 PRIVMSG #c ok"]);
    assert.ok(stillChatting(net, alice, bob));
  });

  it("throttles a client past its burst and runs its commands later, paced by the clock", () => {
    const { net, alice, bad } = room({ flood: { burst: 5, penalty: 1, queueBytes: 8192 } });
    net.clock.advance(100);
    for (let i = 1; i <= 9; i++) bad.send(`PRIVMSG #c :${i}`);
    net.flush();
    const texts = () => alice.take().map((l) => l.split(" ").at(-1));
    assert.deepEqual(texts(), ["1", "2", "3", "4", "5", "6"]);
    net.advance(1);
    assert.deepEqual(texts(), ["7"]);
    net.advance(2);
    assert.deepEqual(texts(), ["8", "9"]);
    assert.equal(bad.lost, null);
  });

  it("drops a flooder with Excess Flood; the others see its QUIT and keep chatting", () => {
    const { net, alice, bob, bad } = room({ flood: { burst: 10, penalty: 1, queueBytes: 4096 } });
    for (let i = 0; i < 200; i++) bad.send(`PRIVMSG #c :flood ${i}`);
    net.flush();
    const got = alice.take();
    assert.ok(got.length <= 12, `${got.length} lines got through`);
    assert.equal(got.at(-1), ":bad!~bad@192.168.1.3 QUIT :Excess Flood");
    assert.equal(bad.take().at(-1), "ERROR :Closing Link: 192.168.1.3 (Excess Flood)");
    assert.ok(bad.lost !== null);
    assert.ok(!net.server.users.has("bad"));
    assert.ok(stillChatting(net, alice, bob));
  });

  it("PINGs a silent client and drops it after the timeout; a client that answers stays", () => {
    const { net, alice, bob, bad } = room({ pingInterval: 60, pingTimeout: 30 });
    net.advance(59);
    assert.deepEqual(bad.take(), []);
    net.advance(1);
    assert.deepEqual(bad.take(), ["PING irc.test"]);
    for (const c of [alice, bob]) assert.deepEqual(c.take(), ["PING irc.test"]);
    alice.send("PONG irc.test");
    bob.send("PONG :irc.test");
    net.flush();
    net.advance(30);
    assert.deepEqual(bad.take(), ["ERROR :Closing Link: 192.168.1.3 (Ping timeout: 90 seconds)"]);
    assert.ok(bad.lost !== null);
    assert.deepEqual(alice.take(), [":bad!~bad@192.168.1.3 QUIT :Ping timeout: 90 seconds"]);
    bob.take();
    assert.ok(stillChatting(net, alice, bob));
    net.advance(60);
    assert.deepEqual(alice.take(), ["PING irc.test"]);
  });

  it("does not PING a client that keeps talking", () => {
    const { net, alice, bob } = room({ pingInterval: 60, pingTimeout: 30 });
    for (let i = 0; i < 5; i++) {
      net.advance(40);
      alice.send(`PRIVMSG #c :tick ${i}`);
      net.flush();
    }
    assert.ok(!alice.take().includes("PING irc.test"));
    assert.ok(bob.take().includes("PING irc.test"));
  });

  it("drops a client that stops reading once its send queue is full", () => {
    const reasons: string[] = [];
    const net = new Net({
      sendQBytes: 4096,
      hooks: { userQuit: (u, r) => reasons.push(`${u.nick}: ${r}`) },
    });
    const alice = net.user("alice");
    const [reader] = net.connect();
    reader.send("NICK slow", "USER s 0 * :S", "JOIN #c");
    net.flush();
    alice.send("JOIN #c");
    net.flush();
    const slowIO = net.pumps.at(-1)!.serverIO;
    slowIO.bufferSize = 1024;
    // Nothing is pumped to the slow reader: its transport fills up and pauses the server.
    for (let i = 0; i < 100; i++) {
      net.server.dispatch(net.server.users.get("alice")!, {
        tags: new Map(),
        prefix: null,
        command: "PRIVMSG",
        params: ["#c", `message number ${i} ${"x".repeat(80)}`],
      });
    }
    assert.ok(!net.server.users.has("slow"));
    assert.deepEqual(reasons, ["slow: Max SendQ exceeded"]);
    net.flush();
    alice.take();
    assert.ok(reader.lost !== null);
  });
});
