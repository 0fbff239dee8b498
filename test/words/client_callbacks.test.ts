// IRCClient and user callbacks that throw: from a timer (heartbeat, lag) or while handling data
// (signedOn, CAP, SASL, nick collisions, bad lines, modes, CTCP), the error is logged and the
// client goes on — nothing escapes Clock.advance() or dataReceived, the connection stays open and
// the protocol steps after the callback still happen.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { globalLogPublisher, type LogEvent } from "../../src/logger/index.js";
import { IRCClient } from "../../src/words/_client.js";
import type { IRCMessage } from "../../src/words/_irc_message.js";
import { connectClient } from "./_client.js";

class Broken extends Error {}

/** A client whose callbacks named in `failing` throw `Broken`. */
class Failing extends IRCClient {
  failing = new Set<string>();
  seen: unknown[][] = [];
  private maybeFail(name: string, ...args: unknown[]): void {
    this.seen.push([name, ...args]);
    if (this.failing.has(name)) throw new Broken(`${name} broke`);
  }
  override heartbeatTimedOut() {
    this.maybeFail("heartbeatTimedOut");
    super.heartbeatTimedOut();
  }
  override _sendHeartbeat() {
    this.maybeFail("_sendHeartbeat");
    super._sendHeartbeat();
  }
  override lagMeasured(seconds: number) {
    this.maybeFail("lagMeasured", seconds);
  }
  override signedOn() {
    this.maybeFail("signedOn");
  }
  override capabilitiesAcknowledged(names: string[]) {
    this.maybeFail("capabilitiesAcknowledged", names);
  }
  override capabilitiesDenied(names: string[]) {
    this.maybeFail("capabilitiesDenied", names);
  }
  override saslSucceeded(account: string | null) {
    this.maybeFail("saslSucceeded", account);
  }
  override saslFailed(numeric: string, message: string) {
    this.maybeFail("saslFailed", numeric);
  }
  override alterCollidedNick(nickname: string): string {
    this.maybeFail("alterCollidedNick", nickname);
    return `${nickname}-2`;
  }
  override badMessage(line: Buffer | null, reason: string) {
    this.maybeFail("badMessage", reason);
  }
  override messageReceived(message: IRCMessage) {
    this.maybeFail(`messageReceived ${message.command}`);
    super.messageReceived(message);
  }
  override privmsg(user: string, channel: string, message: string) {
    this.maybeFail("privmsg", message);
  }
  override modeChanged(user: string, channel: string, set: boolean, modes: string) {
    this.maybeFail(`modeChanged ${set ? "+" : "-"}`, modes);
  }
  override ctcpUnknownQuery(user: string, channel: string, tag: string) {
    this.maybeFail(`ctcpUnknownQuery ${tag}`);
  }
}

let events: LogEvent[] = [];
const observer = (e: LogEvent) => events.push(e);
beforeEach(() => {
  events = [];
  globalLogPublisher.addObserver(observer);
});
afterEach(() => globalLogPublisher.removeObserver(observer));

/** The callbacks whose errors were logged, in order. */
function loggedCallbacks(): string[] {
  return events
    .filter((e) => e.log_failure?.value instanceof Broken)
    .map((e) =>
      String((e as { callback?: unknown }).callback ?? (e as { command?: unknown }).command),
    );
}

function setup(failing: string[], configure: (c: Failing) => void = () => {}) {
  return connectClient(new Failing(), (c) => {
    c.capabilities = [];
    c.failing = new Set(failing);
    configure(c);
  });
}

describe("IRCClient: callbacks that throw from timers", () => {
  it("a throwing heartbeatTimedOut is logged, Clock.advance does not throw, the client goes on", () => {
    const { client, clock, t, sent, feed } = setup(["heartbeatTimedOut", "signedOn"], (c) => {
      c.heartbeatInterval = 30;
      c.heartbeatTimeout = 10;
    });
    feed(":irc.test 001 me :Welcome");
    sent();
    clock.advance(30);
    assert.match(sent()[0] ?? "", /^PING LAG/);
    assert.doesNotThrow(() => clock.advance(10));
    assert.deepEqual(loggedCallbacks(), ["signedOn", "heartbeatTimedOut"]);
    const logged = events.find(
      (e) => (e as { callback?: unknown }).callback === "heartbeatTimedOut",
    );
    assert.equal(
      (logged?.log_failure?.value as Error | undefined)?.message,
      "heartbeatTimedOut broke",
    );
    assert.equal(logged?.log_namespace, "twisted-ts.words.client");
    // The override failed before dropping the connection: it stays, and so does the heartbeat.
    assert.ok(!t.disconnecting);
    feed(":irc.test PRIVMSG me :still here");
    assert.deepEqual(client.seen.at(-1), ["privmsg", "still here"]);
    clock.advance(20);
    assert.match(sent()[0] ?? "", /^PING LAG/);
    client.failing.clear();
    clock.advance(10);
    assert.ok(t.disconnecting, "a working heartbeatTimedOut still drops the connection");
  });

  it("a throwing _sendHeartbeat or lagMeasured is logged and Clock.advance does not throw", () => {
    const { client, clock, sent, feed } = setup(["lagMeasured"], (c) => {
      c.heartbeatInterval = 30;
      c.heartbeatTimeout = 0;
    });
    feed(":irc.test 001 me :Welcome");
    sent();
    clock.advance(30);
    const [ping] = sent();
    feed(`:irc.test PONG irc.test :${ping!.slice(5)}`);
    assert.equal(client.lag, 0);
    client.failing.add("_sendHeartbeat");
    assert.doesNotThrow(() => clock.advance(30));
    assert.deepEqual(loggedCallbacks(), ["lagMeasured", "_sendHeartbeat"]);
    assert.deepEqual(sent(), []);
  });
});

describe("IRCClient: callbacks that throw while handling data", () => {
  it("signedOn throwing still starts the heartbeat", () => {
    const { clock, sent, feed } = setup(["signedOn"], (c) => {
      c.heartbeatInterval = 30;
    });
    sent();
    assert.doesNotThrow(() => feed(":irc.test 001 me :Welcome"));
    clock.advance(30);
    assert.match(sent()[0] ?? "", /^PING LAG/);
    assert.deepEqual(loggedCallbacks(), ["signedOn"]);
  });

  it("capabilitiesAcknowledged, capabilitiesDenied and saslSucceeded throwing still end CAP", () => {
    let s = setup(["capabilitiesAcknowledged"], (c) => {
      c.capabilities = ["server-time"];
    });
    s.sent();
    s.feed(":irc.test CAP * LS :server-time", ":irc.test CAP * ACK :server-time");
    assert.deepEqual(s.sent(), ["CAP REQ server-time", "CAP END"]);
    s = setup(["capabilitiesDenied"], (c) => {
      c.capabilities = ["server-time"];
    });
    s.sent();
    s.feed(":irc.test CAP * LS :server-time", ":irc.test CAP * NAK :server-time");
    assert.deepEqual(s.sent(), ["CAP REQ server-time", "CAP END"]);
    s = setup(["saslSucceeded", "saslFailed"], (c) => {
      c.saslUsername = "me";
      c.saslPassword = "pw";
    });
    s.sent();
    s.feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +");
    s.sent();
    s.feed(":irc.test 903 me :SASL authentication successful");
    assert.deepEqual(s.sent(), ["CAP END"]);
    assert.deepEqual(loggedCallbacks(), [
      "capabilitiesAcknowledged",
      "capabilitiesDenied",
      "saslSucceeded",
    ]);
  });

  it("a throwing saslFailed still goes on unauthenticated", () => {
    const { sent, feed } = setup(["saslFailed"], (c) => {
      c.saslUsername = "me";
      c.saslPassword = "pw";
    });
    sent();
    feed(":irc.test CAP * LS :sasl", ":irc.test CAP * ACK :sasl", "AUTHENTICATE +");
    sent();
    feed(":irc.test 904 me :SASL authentication failed");
    assert.deepEqual(sent(), ["CAP END"]);
    assert.deepEqual(loggedCallbacks(), ["saslFailed"]);
  });

  it("a throwing alterCollidedNick falls back to appending _", () => {
    const { sent, feed } = setup(["alterCollidedNick"]);
    sent();
    feed(":irc.test 433 * me :Nickname is already in use");
    assert.deepEqual(sent(), ["NICK me_"]);
    assert.deepEqual(loggedCallbacks(), ["alterCollidedNick"]);
  });

  it("throwing badMessage and messageReceived do not stop the next messages", () => {
    const { client, feed } = setup(["badMessage", "messageReceived NOTICE"]);
    const long = `:irc.test PRIVMSG me :${"x".repeat(9000)}`;
    assert.doesNotThrow(() =>
      feed(long, ":irc.test NOTICE me :skipped", ":irc.test PRIVMSG me :after"),
    );
    assert.deepEqual(client.seen.at(-1), ["privmsg", "after"]);
    assert.deepEqual(loggedCallbacks(), ["badMessage", "messageReceived"]);
  });

  it("a throwing modeChanged or CTCP handler does not hide the rest of the message", () => {
    const { client, feed } = setup(["modeChanged +", "ctcpUnknownQuery FOO"]);
    feed(":op!u@h MODE #c +n-t", ":bob!u@h PRIVMSG me :\x01FOO\x01\x01BAR\x01");
    const names = client.seen.map((c) => c[0]);
    assert.ok(names.includes("modeChanged -"), names.join());
    assert.ok(names.includes("ctcpUnknownQuery BAR"), names.join());
    assert.deepEqual(loggedCallbacks(), ["modeChanged", "ctcpQuery_FOO"]);
  });
});
