// Tests of IRCClient's IRCv3 batch and labeled-response with StringTransport and Clock:
// batches handed to batchReceived, limits and fallbacks, sendLabeled and its failures.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, ConnectionLost, TimeoutError } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import {
  assertNoResult,
  Clock,
  failureResultOf,
  LogCapture,
  StringTransport,
  successResultOf,
} from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import type { IRCBatch } from "../../src/words/_irc_batch.js";
import { LocalProtocolError } from "../../src/words/_irc_message.js";
import { connectClient } from "./_client.js";

/** Records callbacks, and which batch each message came in. */
class BatchRecorder extends IRCClient {
  calls: string[] = [];
  batches: IRCBatch[] = [];
  /** Batch types handled whole instead of message by message. */
  wholeTypes = new Set<string>();

  override privmsg(user: string, channel: string, message: string): void {
    const inBatch = this.currentBatch === null ? "" : ` [${this.currentBatch.type}]`;
    this.calls.push(`privmsg ${channel} ${message}${inBatch}`);
  }
  override userQuit(user: string, message: string): void {
    this.calls.push(`userQuit ${user} ${message}`);
  }
  override irc_unknown(prefix: string | null, command: string, params: string[]): void {
    this.calls.push(`unknown ${command} ${params.join(" ")}`);
  }
  override batchReceived(batch: IRCBatch): void {
    this.batches.push(batch);
    if (this.wholeTypes.has(batch.type)) this.calls.push(`whole ${batch.type}`);
    else super.batchReceived(batch);
  }
}

const ALL = "batch labeled-response message-tags";

function connect(caps: string | null = ALL) {
  const connected = connectClient(new BatchRecorder(), (c) => {
    c.heartbeatInterval = null;
  });
  const { feed, sent } = connected;
  if (caps !== null) {
    feed(`:s CAP * LS :${caps}`);
    feed(`:s CAP * ACK :${caps}`);
  }
  feed(":s 001 me :Welcome");
  sent();
  return connected;
}

describe("IRCClient batches", () => {
  it("asks for batch and labeled-response by default when offered", () => {
    const client = new BatchRecorder();
    client.clock = new Clock();
    const t = new StringTransport();
    client.makeConnection(t);
    client.dataReceived(Buffer.from(":s CAP * LS :batch labeled-response message-tags other\r\n"));
    assert.match(t.value().toString(), /CAP REQ :message-tags batch labeled-response\r\n/);
  });

  it("hands a batch whole to batchReceived, whose default runs the usual callbacks", () => {
    const { client, feed } = connect();
    feed(
      ":s BATCH +n1 netsplit hub leaf",
      "@batch=n1 :a!u@h QUIT :hub leaf",
      ":x!u@h PRIVMSG #c :outside",
      "@batch=n1 :b!u@h QUIT :hub leaf",
    );
    assert.deepEqual(client.calls, ["privmsg #c outside"]);
    feed(":s BATCH -n1");
    assert.deepEqual(client.calls, [
      "privmsg #c outside",
      "userQuit a hub leaf",
      "userQuit b hub leaf",
    ]);
    assert.equal(client.batches.length, 1);
    assert.deepEqual(client.batches[0]!.params, ["hub", "leaf"]);
    assert.equal(client.currentBatch, null);
  });

  it("gives nested batches to batchReceived too, and lets an override take a type whole", () => {
    const { client, feed } = connect();
    client.wholeTypes.add("example/whole");
    feed(
      ":s BATCH +o chathistory #c",
      "@batch=o :a!u@h PRIVMSG #c :one",
      "@batch=o :s BATCH +i example/whole",
      "@batch=i :a!u@h PRIVMSG #c :hidden",
      "@batch=o :s BATCH -i",
      "@batch=o :s BATCH +j example/inner",
      "@batch=j :a!u@h PRIVMSG #c :two",
      "@batch=o :s BATCH -j",
      ":s BATCH -o",
    );
    assert.deepEqual(client.calls, [
      "privmsg #c one [chathistory]",
      "whole example/whole",
      "privmsg #c two [example/inner]",
    ]);
    assert.deepEqual(
      client.batches.map((b) => b.type),
      ["chathistory", "example/whole", "example/inner"],
    );
  });

  it("handles a batch's messages one by one when it grows past maxBatchMessages", () => {
    const { client, feed } = connect();
    client.maxBatchMessages = 2;
    feed(":s BATCH +big chathistory #c");
    feed("@batch=big :a!u@h PRIVMSG #c :1", "@batch=big :a!u@h PRIVMSG #c :2");
    assert.deepEqual(client.calls, []);
    const logs = new LogCapture({ exclusive: true });
    try {
      feed("@batch=big :a!u@h PRIVMSG #c :3");
    } finally {
      logs.stop();
    }
    assert.deepEqual(logs.messages(), [
      "Batch big given up, its messages handled one by one: Batch holds too many messages (over 2)",
    ]);
    assert.deepEqual(client.calls, ["privmsg #c 1", "privmsg #c 2", "privmsg #c 3"]);
    feed("@batch=big :a!u@h PRIVMSG #c :4", ":s BATCH -big");
    assert.equal(client.calls.length, 4);
    assert.equal(client.batches.length, 0);
  });

  it("handles messages at once past maxOpenBatches, and ignores an unknown BATCH -ref", () => {
    const { client, feed } = connect();
    client.maxOpenBatches = 1;
    feed(":s BATCH +a t", ":s BATCH +b t", "@batch=b :a!u@h PRIVMSG #c :b1");
    assert.deepEqual(client.calls, ["privmsg #c b1"]);
    const logs = new LogCapture({ exclusive: true });
    try {
      feed(":s BATCH -b", ":s BATCH -zzz", ":s BATCH -a");
    } finally {
      logs.stop();
    }
    assert.deepEqual(logs.messages(), ["BATCH line ignored: Batch zzz is not open"]);
    assert.deepEqual(client.calls, ["privmsg #c b1"]);
    assert.equal(client.batches.length, 1);
    assert.ok(client.connected);
  });

  it("without the batch capability, BATCH lines are unknown commands and nothing is held", () => {
    const { client, feed } = connect(null);
    feed(":s BATCH +a t", "@batch=a :a!u@h PRIVMSG #c :now", ":s BATCH -a");
    assert.deepEqual(client.calls, ["unknown BATCH +a t", "privmsg #c now", "unknown BATCH -a"]);
  });

  it("CAP DEL batch with a batch open handles what it held at once", () => {
    const { client, feed } = connect();
    feed(":s BATCH +a t", "@batch=a :a!u@h PRIVMSG #c :held");
    assert.deepEqual(client.calls, []);
    feed(":s CAP me DEL :batch");
    assert.deepEqual(client.calls, ["privmsg #c held"]);
  });

  it("logs an error thrown by batchReceived and goes on", () => {
    const { client, feed } = connect();
    client.batchReceived = () => {
      throw new Error("boom");
    };
    const logs = new LogCapture({ exclusive: true });
    try {
      feed(":s BATCH +a t", ":s BATCH -a", ":a!u@h PRIVMSG #c :still here");
    } finally {
      logs.stop();
    }
    assert.match(logs.messages()[0] ?? "", /^Error handling batch a \(t\)/);
    assert.equal(logs.flushFailures(Error).length, 1);
    assert.deepEqual(client.calls, ["privmsg #c still here"]);
  });
});

describe("IRCClient.sendLabeled", () => {
  it("fails at once when the capabilities are missing", () => {
    const { client, sent } = connect("batch message-tags");
    const f = failureResultOf(client.sendLabeled("PING", ["x"]), LocalProtocolError);
    assert.match(f.getErrorMessage(), /not acknowledged by the server: labeled-response$/);
    assert.deepEqual(sent(), []);
  });

  it("fails at once for a command that cannot be sent, leaving nothing pending", () => {
    const { client } = connect();
    failureResultOf(client.sendLabeled("PRIVMSG", ["#c", "a\r\nQUIT"]), LocalProtocolError);
    assert.equal(client.pendingLabels, 0);
  });

  it("sends a unique label and fires with the one labeled message, after its handler ran", () => {
    const { client, sent, feed } = connect();
    const d1 = client.sendLabeled("PRIVMSG", ["#c", "hi"], { tags: { "+draft/x": "1" } });
    const d2 = client.sendLabeled("PRIVMSG", ["#c", "again"]);
    const [l1, l2] = sent();
    assert.match(l1!, /^@\+draft\/x=1;label=tl1 PRIVMSG #c hi$/);
    assert.match(l2!, /^@label=tl2 PRIVMSG #c again$/);
    assertNoResult(d1);
    feed("@label=tl2 :me!u@h PRIVMSG #c again");
    const r2 = successResultOf(d2);
    assert.deepEqual(client.calls, ["privmsg #c again"]);
    assert.equal(r2.label, "tl2");
    assert.equal(r2.ack, false);
    assert.equal(r2.batch, null);
    assert.deepEqual(r2.messages[0]!.params, ["#c", "again"]);
    assertNoResult(d1);
    assert.equal(client.pendingLabels, 1);
  });

  it("fires with no messages on ACK", () => {
    const { client, feed } = connect();
    const d = client.sendLabeled("PONG", ["x"]);
    feed("@label=tl1 :s ACK");
    const r = successResultOf(d);
    assert.equal(r.ack, true);
    assert.deepEqual(r.messages, []);
    assert.deepEqual(client.calls, []);
  });

  it("fires with the messages of a labeled batch, nested ones flattened", () => {
    const { client, feed } = connect();
    const d = client.sendLabeled("WHOIS", ["bob"]);
    feed(
      "@label=tl1 :s BATCH +r labeled-response",
      "@batch=r :s 311 me bob u h * :Bob",
      "@batch=r :s BATCH +n example/x",
      "@batch=n :s 319 me bob :#c",
      "@batch=r :s BATCH -n",
    );
    assertNoResult(d);
    feed("@batch=r :s 318 me bob :End of /WHOIS list", ":s BATCH -r");
    const r = successResultOf(d);
    assert.deepEqual(
      r.messages.map((m) => m.command),
      ["311", "319", "318"],
    );
    assert.equal(r.batch?.type, "labeled-response");
    assert.equal(client.pendingLabels, 0);
  });

  it("fails with TimeoutError when no response comes in time; a late one is handled as usual", () => {
    const { client, clock, feed } = connect();
    client.labelTimeout = 5;
    const d = client.sendLabeled("PRIVMSG", ["#c", "hi"]);
    clock.advance(4.9);
    assertNoResult(d);
    clock.advance(0.1);
    const f = failureResultOf(d, TimeoutError);
    assert.match(f.getErrorMessage(), /No response to labeled PRIVMSG within 5 seconds/);
    assert.equal(client.pendingLabels, 0);
    feed("@label=tl1 :me!u@h PRIVMSG #c hi");
    assert.deepEqual(client.calls, ["privmsg #c hi"]);
  });

  it("a cancel forgets the label and its timer", () => {
    const { client, clock } = connect();
    const d = client.sendLabeled("PING", ["x"], { timeout: 10 });
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(client.pendingLabels, 0);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("fails pending labels with the reason when the connection is lost", () => {
    const { client, clock } = connect();
    const d = client.sendLabeled("WHOIS", ["bob"]);
    client.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(d, ConnectionLost);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  it("fails the label when its batch is given up for size, handling the messages anyway", () => {
    const { client, feed } = connect();
    client.maxBatchMessages = 1;
    const d = client.sendLabeled("NAMES", ["#c"]);
    feed(
      "@label=tl1 :s BATCH +r labeled-response",
      "@batch=r :a!u@h PRIVMSG #c :1",
      "@batch=r :a!u@h PRIVMSG #c :2",
      ":s BATCH -r",
    );
    const f = failureResultOf(d);
    assert.match(f.getErrorMessage(), /Labeled response given up: Batch holds too many messages/);
    assert.deepEqual(client.calls, ["privmsg #c 1", "privmsg #c 2"]);
  });

  it("is paced by lineRate like any other command", () => {
    const { client, clock, sent } = connect();
    client.lineRate = 1;
    client.sendLabeled("PING", ["a"]);
    client.sendLabeled("PING", ["b"]);
    assert.deepEqual(sent(), ["@label=tl1 PING a"]);
    clock.advance(1);
    assert.deepEqual(sent(), ["@label=tl2 PING b"]);
  });
});
