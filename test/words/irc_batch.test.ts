// Engine tests of IRCBatchReader (IRCv3 batch): bytes in through IRCMessageParser, events out —
// whole, one byte at a time and in random splits; nesting, interleaving and the limits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  batchMessages,
  type IRCBatch,
  type IRCBatchEvent,
  IRCBatchReader,
  type IRCBatchReaderOptions,
  isIRCBatch,
} from "../../src/words/_irc_batch.js";
import { type IRCMessage, IRCMessageParser } from "../../src/words/_irc_message.js";

/** A batch as text: "type(params) [entries…]", a message as its last parameter. */
function show(entry: IRCMessage | IRCBatch): string {
  if (!isIRCBatch(entry)) return entry.params[entry.params.length - 1] ?? entry.command;
  const params = entry.params.length > 0 ? `(${entry.params.join(",")})` : "";
  return `${entry.type}${params}[${entry.messages.map(show).join(" ")}]`;
}

/** The events as short strings. */
function describeEvents(events: IRCBatchEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case "MessageReleased":
        return `msg ${show(e.message)}`;
      case "BatchCompleted":
        return `batch ${show(e.batch)}`;
      case "BatchOverflowed":
        return `overflow ${e.ref} (${e.start.params[0]})`;
      default:
        return `ignored ${e.message.params[0] ?? ""}: ${e.reason}`;
    }
  });
}

/** Feeds `text` in the given pieces through a parser and a reader; returns the events. */
function read(pieces: Buffer[], options?: IRCBatchReaderOptions): string[] {
  const parser = new IRCMessageParser();
  const reader = new IRCBatchReader(options);
  const events: IRCBatchEvent[] = [];
  for (const piece of pieces) {
    for (const ev of parser.receiveData(piece)) {
      assert.equal(ev.type, "MessageReceived");
      if (ev.type === "MessageReceived") events.push(...reader.messageReceived(ev.message));
    }
  }
  return describeEvents(events);
}

/** Checks that `lines` give `expected` whole, byte by byte and in random splits. */
function check(lines: string[], expected: string[], options?: IRCBatchReaderOptions): void {
  const bytes = Buffer.from(lines.map((l) => `${l}\r\n`).join(""));
  assert.deepEqual(read([bytes], options), expected, "whole");
  const single = [...bytes].map((b) => Buffer.from([b]));
  assert.deepEqual(read(single, options), expected, "one byte at a time");
  let seed = 7;
  for (let round = 0; round < 5; round++) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const n = 1 + (seed % 23);
      pieces.push(bytes.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(read(pieces, options), expected, `random split ${round}`);
  }
}

describe("IRCBatchReader", () => {
  it("holds a batch's messages until it ends, releasing others at once", () => {
    check(
      [
        ":irc.host BATCH +yXNAbvnRHTRBv netsplit irc.hub other.host",
        "@batch=yXNAbvnRHTRBv :aji!a@a QUIT :q1",
        "@batch=yXNAbvnRHTRBv :nenolod!a@a QUIT :q2",
        ":nick!user@host PRIVMSG #channel :not in batch",
        "@batch=yXNAbvnRHTRBv :jilles!a@a QUIT :q3",
        ":irc.host BATCH -yXNAbvnRHTRBv",
        "PING :after",
      ],
      ["msg not in batch", "batch netsplit(irc.hub,other.host)[q1 q2 q3]", "msg after"],
    );
  });

  it("keeps interleaved batches apart, each completing at its own end", () => {
    check(
      [
        ":irc.host BATCH +1 example.com/foo",
        "@batch=1 :n!u@h PRIVMSG #c :m1",
        ":irc.host BATCH +2 example.com/foo",
        "@batch=1 :n!u@h PRIVMSG #c :m2",
        "@batch=2 :n!u@h PRIVMSG #c :m4",
        "@batch=1 :n!u@h PRIVMSG #c :m3",
        ":irc.host BATCH -1",
        "@batch=2 :n!u@h PRIVMSG #c :m5",
        ":irc.host BATCH -2",
      ],
      ["batch example.com/foo[m1 m2 m3]", "batch example.com/foo[m4 m5]"],
    );
  });

  it("puts a nested batch inside its parent, in the place where it ended", () => {
    check(
      [
        ":irc.host BATCH +outer example.com/foo",
        "@batch=outer :n!u@h PRIVMSG #c :before",
        "@batch=outer :irc.host BATCH +inner example.com/bar p",
        "@batch=inner :n!u@h PRIVMSG #c :Hi",
        "@batch=outer :n!u@h PRIVMSG #c :between",
        "@batch=outer :irc.host BATCH -inner",
        "@batch=outer :n!u@h PRIVMSG #c :after",
        ":irc.host BATCH -outer",
      ],
      ["batch example.com/foo[before between example.com/bar(p)[Hi] after]"],
    );
  });

  it("gives the start line, with its tags, and flattens nested batches on demand", () => {
    const reader = new IRCBatchReader();
    const parser = new IRCMessageParser();
    const lines = [
      "@label=abc :s BATCH +o labeled-response",
      "@batch=o :s BATCH +i x",
      "@batch=i :s 311 me bob u h * :Bob",
      "@batch=o :s BATCH -i",
      "@batch=o :s 318 me bob :End",
      ":s BATCH -o",
    ];
    const events = parser
      .receiveData(Buffer.from(lines.map((l) => `${l}\r\n`).join("")))
      .flatMap((e) => (e.type === "MessageReceived" ? reader.messageReceived(e.message) : []));
    assert.equal(events.length, 1);
    const ev = events[0]!;
    assert.equal(ev.type, "BatchCompleted");
    if (ev.type !== "BatchCompleted") return;
    assert.equal(ev.batch.start.tags.get("label"), "abc");
    assert.equal(ev.batch.ref, "o");
    assert.deepEqual(
      batchMessages(ev.batch).map((m) => m.command),
      ["311", "318"],
    );
    assert.equal(reader.openBatches, 0);
    assert.equal(reader.heldMessages, 0);
  });

  it("releases a message tagged with a batch that is not open, and ignores unknown ends", () => {
    check(
      ["@batch=nope :n!u@h PRIVMSG #c :orphan", ":s BATCH -nope", ":s BATCH +ok t", ":s BATCH -ok"],
      ["msg orphan", "ignored -nope: Batch nope is not open", "batch t[]"],
    );
  });

  it("ignores malformed BATCH lines and a reference opened twice", () => {
    check(
      [
        ":s BATCH",
        ":s BATCH *x t",
        ":s BATCH +bad_ref t",
        ":s BATCH +noType",
        ":s BATCH +a t",
        ":s BATCH +a t",
        "@batch=a :n!u@h PRIVMSG #c :in a",
        ":s BATCH -a",
      ],
      [
        "ignored : Bad BATCH reference",
        "ignored *x: Bad BATCH reference",
        "ignored +bad_ref: Bad BATCH reference",
        "ignored +noType: BATCH without a type",
        "ignored +a: Batch a is already open",
        "batch t[in a]",
      ],
    );
  });

  it("ends still-open nested batches with their parent", () => {
    check(
      [
        ":s BATCH +o t",
        "@batch=o :s BATCH +i u",
        "@batch=i :n!u@h PRIVMSG #c :inner",
        ":s BATCH -o",
        "@batch=o :s BATCH -i",
      ],
      ["batch t[u[inner]]", "ignored -i: Batch i is not open"],
    );
  });

  it("past maxBatchMessages gives the batch up and releases its messages in order", () => {
    check(
      [
        ":s BATCH +o t",
        "@batch=o :n!u@h PRIVMSG #c :1",
        "@batch=o :s BATCH +i u",
        "@batch=i :n!u@h PRIVMSG #c :2",
        "@batch=o :n!u@h PRIVMSG #c :3",
        "@batch=i :n!u@h PRIVMSG #c :4",
        "@batch=o :n!u@h PRIVMSG #c :5",
        "@batch=i :n!u@h PRIVMSG #c :6",
        "@batch=o :s BATCH -i",
        ":s BATCH -o",
        "@batch=o :n!u@h PRIVMSG #c :late",
        ":s BATCH +o t",
        "@batch=o :n!u@h PRIVMSG #c :reused",
        ":s BATCH -o",
      ],
      [
        "overflow o (+o)",
        "msg 1",
        "msg 2",
        "msg 3",
        "msg 4",
        "msg 5",
        "msg 6",
        "msg late",
        "batch t[reused]",
      ],
      { maxBatchMessages: 4 },
    );
  });

  it("past maxOpenBatches releases the new batch's messages as they come", () => {
    check(
      [
        ":s BATCH +a t",
        ":s BATCH +b t",
        ":s BATCH +c t",
        "@batch=c :n!u@h PRIVMSG #c :c1",
        "@batch=a :n!u@h PRIVMSG #c :a1",
        ":s BATCH -c",
        ":s BATCH -b",
        ":s BATCH -a",
      ],
      ["overflow c (+c)", "msg c1", "batch t[]", "batch t[a1]"],
      { maxOpenBatches: 2 },
    );
  });

  it("past maxOpenBatches in a nested batch gives up the whole tree", () => {
    check(
      [
        ":s BATCH +a t",
        "@batch=a :n!u@h PRIVMSG #c :a1",
        "@batch=a :s BATCH +b t",
        "@batch=b :n!u@h PRIVMSG #c :b1",
        "@batch=b :n!u@h PRIVMSG #c :b2",
        "@batch=a :s BATCH -b",
        ":s BATCH -a",
      ],
      ["overflow b (+a)", "msg a1", "msg b1", "msg b2"],
      { maxOpenBatches: 1 },
    );
  });

  it("keeps memory bounded against a server that opens batches and never ends them", () => {
    const reader = new IRCBatchReader({ maxOpenBatches: 4, maxBatchMessages: 10 });
    const parser = new IRCMessageParser();
    let released = 0;
    for (let i = 0; i < 2000; i++) {
      const text = `:s BATCH +b${i} t\r\n@batch=b${i} :n!u@h PRIVMSG #c :${i}\r\n`;
      for (const ev of parser.receiveData(Buffer.from(text))) {
        if (ev.type !== "MessageReceived") continue;
        for (const out of reader.messageReceived(ev.message))
          if (out.type === "MessageReleased") released++;
      }
      assert.ok(reader.openBatches <= 4);
      assert.ok(reader.heldMessages <= 4);
    }
    assert.equal(released, 1996);
  });

  it("flush releases everything held, in arrival order", () => {
    const reader = new IRCBatchReader();
    const parser = new IRCMessageParser();
    const lines = [
      ":s BATCH +a t",
      "@batch=a :n!u@h PRIVMSG #c :1",
      ":s BATCH +b t",
      "@batch=b :n!u@h PRIVMSG #c :2",
      "@batch=a :n!u@h PRIVMSG #c :3",
    ];
    for (const ev of parser.receiveData(Buffer.from(lines.map((l) => `${l}\r\n`).join("")))) {
      if (ev.type === "MessageReceived") assert.deepEqual(reader.messageReceived(ev.message), []);
    }
    assert.deepEqual(describeEvents(reader.flush()), ["msg 1", "msg 2", "msg 3"]);
    assert.equal(reader.openBatches, 0);
  });
});
