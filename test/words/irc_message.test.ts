// Tests of the IRC message engine: tags and escaping, prefixes, numerics, limits, bad bytes,
// each stream case also fed one byte at a time and in random splits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  escapeTagValue,
  formatMessage,
  type IRCMessage,
  IRCMessageParser,
  type IRCParseEvent,
  LocalProtocolError,
  parseMessage,
  parsePrefix,
  RemoteProtocolError,
  truncateUtf8,
  unescapeTagValue,
} from "../../src/words/_irc_message.js";
import { splits } from "../protocols/_splits.js";

/** Feeds `data` to a new parser in every split; checks each gives the same events. */
function parseAll(data: Buffer | string, options = {}): IRCParseEvent[] {
  let first: IRCParseEvent[] | null = null;
  for (const [name, chunks] of splits(typeof data === "string" ? Buffer.from(data) : data)) {
    const p = new IRCMessageParser(options);
    const events = chunks.flatMap((c) => p.receiveData(c));
    if (first === null) first = events;
    else assert.deepEqual(events, first, `split "${name}" differs`);
  }
  return first!;
}

function messages(data: Buffer | string, options = {}): IRCMessage[] {
  return parseAll(data, options).map((e) => {
    assert.equal(e.type, "MessageReceived", JSON.stringify(e));
    return (e as { message: IRCMessage }).message;
  });
}

function plain(m: IRCMessage): unknown {
  return {
    tags: Object.fromEntries(m.tags),
    prefix: m.prefix,
    command: m.command,
    params: m.params,
  };
}

describe("IRC message parsing", () => {
  it("parses prefix, command and parameters with a trailing one", () => {
    const [m] = messages(":nick!user@host PRIVMSG #chan :hello there\r\n");
    assert.deepEqual(plain(m!), {
      tags: {},
      prefix: "nick!user@host",
      command: "PRIVMSG",
      params: ["#chan", "hello there"],
    });
  });

  it("parses a 3-digit numeric as the command", () => {
    const [m] = messages(":irc.example 001 alice :Welcome to IRC\r\n");
    assert.equal(m!.command, "001");
    assert.deepEqual(m!.params, ["alice", "Welcome to IRC"]);
  });

  it("upper-cases the command and keeps an empty trailing parameter", () => {
    const [m] = messages("privmsg #c :\r\n");
    assert.equal(m!.command, "PRIVMSG");
    assert.deepEqual(m!.params, ["#c", ""]);
  });

  it("tolerates several spaces between parts and a colon inside a middle parameter", () => {
    const [m] = messages("MODE   #c  +k   a:b \r\n");
    assert.deepEqual(m!.params, ["#c", "+k", "a:b"]);
  });

  it("accepts lines ended by \\n alone, and skips empty lines", () => {
    const ms = messages("PING a\n\r\n\nPING b\r\nPING c\n");
    assert.deepEqual(
      ms.map((m) => m.params[0]),
      ["a", "b", "c"],
    );
  });

  it("parses tags, with and without values, and unescapes values", () => {
    const [m] = messages(
      "@time=2024-05-01T10:00:00.000Z;+example.com/x=a\\sb\\:c\\\\d\\r\\n;flag;msgid= :n!u@h PRIVMSG #c :x\r\n",
    );
    assert.deepEqual(Object.fromEntries(m!.tags), {
      time: "2024-05-01T10:00:00.000Z",
      "+example.com/x": "a b;c\\d\r\n",
      flag: "",
      msgid: "",
    });
  });

  it("lets the last of duplicated tag keys win and drops invalid escapes' backslash", () => {
    const [m] = messages("@a=1;a=2;b=x\\yz\\ PING :p\r\n");
    assert.equal(m!.tags.get("a"), "2");
    assert.equal(m!.tags.get("b"), "xyz");
  });

  it("escapes and unescapes tag values as inverses", () => {
    for (const v of ["", "plain", "a b;c\\d\r\ne", "\\\\;;  "]) {
      assert.equal(unescapeTagValue(escapeTagValue(v)), v);
    }
    assert.equal(escapeTagValue("a b;c\\"), "a\\sb\\:c\\\\");
  });

  it("decodes UTF-8 and keeps bytes that are not UTF-8 as latin-1, per parameter", () => {
    const line = Buffer.concat([
      Buffer.from("PRIVMSG #caf\u00e9 :"),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff]),
      Buffer.from("\r\n"),
    ]);
    const [m] = messages(line);
    assert.deepEqual(m!.params, ["#café", "caf\u00e9\u00ff"]);
    assert.deepEqual(m!.rawParams![1], Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff]));
    const [u] = messages("PRIVMSG #c :h\u00e9llo \u2713\r\n");
    assert.equal(u!.params[1], "h\u00e9llo \u2713");
    assert.equal(u!.rawParams, undefined);
  });

  it("reports garbage lines as malformed and goes on", () => {
    const events = parseAll(":onlyprefix\r\n\x00\x01\x02 junk\r\n@tags-only\r\nPING ok\r\n");
    assert.deepEqual(
      events.map((e) => e.type),
      ["LineMalformed", "LineMalformed", "LineMalformed", "MessageReceived"],
    );
    assert.match((events[1] as { reason: string }).reason, /bad command/);
  });

  it("parseMessage raises RemoteProtocolError for a line that is not a message", () => {
    assert.throws(() => parseMessage(":x"), RemoteProtocolError);
    assert.throws(() => parseMessage("12 a"), RemoteProtocolError);
    assert.equal(parseMessage("PING x\r\n").command, "PING");
  });
});

describe("IRC message limits", () => {
  it("accepts a body of exactly 512 bytes with its line ending", () => {
    const body = `PRIVMSG #c :${"a".repeat(512 - 2 - 12)}`;
    assert.equal(Buffer.byteLength(body) + 2, 512);
    assert.equal(messages(`${body}\r\n`).length, 1);
  });

  it("drops a body of 513 bytes as too long, then parses the next line", () => {
    const body = `PRIVMSG #c :${"a".repeat(512 - 2 - 12 + 1)}`;
    const events = parseAll(`${body}\r\nPING x\r\n`);
    assert.deepEqual(events[0], { type: "LineTooLong", part: "body", length: 513 });
    assert.equal(events[1]!.type, "MessageReceived");
  });

  it("counts a body ended by \\n alone as if ended by \\r\\n", () => {
    const body = `PRIVMSG #c :${"a".repeat(498)}`;
    assert.equal(Buffer.byteLength(body), 510);
    assert.equal(messages(`${body}\n`).length, 1);
  });

  it("allows 8191 bytes of tags on top of the body, and refuses one more", () => {
    const tags = (n: number) => `@k=${"v".repeat(n - 5)} `; // "@k=" + value + " "
    assert.equal(Buffer.byteLength(tags(8191)), 8191 - 1);
    const ok = parseAll(`${tags(8192)}PING x\r\n`);
    assert.equal(ok[0]!.type, "MessageReceived");
    const bad = parseAll(`${tags(8193)}PING x\r\nPING y\r\n`);
    assert.deepEqual(bad[0], { type: "LineTooLong", part: "tags", length: 8192 });
    assert.equal(bad[1]!.type, "MessageReceived");
  });

  it("gives up an endless line without buffering it, once, then resumes", () => {
    const p = new IRCMessageParser();
    const events: IRCParseEvent[] = [];
    for (let i = 0; i < 100; i++) events.push(...p.receiveData(Buffer.alloc(1000, 0x61)));
    assert.ok(p.bufferedBytes <= 512 + 8191);
    events.push(...p.receiveData(Buffer.from("still the long line\r\nPING ok\r\n")));
    assert.equal(events.length, 2);
    assert.equal(events[0]!.type, "LineTooLong");
    assert.equal((events[0] as { part: string }).part, "line");
    assert.equal((events[1] as { message: IRCMessage }).message.params[0], "ok");
  });

  it("gives up an endless line in every split", () => {
    const data = `${"x".repeat(9000)}\r\nPING ok\r\n`;
    const events = parseAll(data);
    assert.deepEqual(
      events.map((e) => e.type),
      ["LineTooLong", "MessageReceived"],
    );
  });

  it("honours smaller limits given as options", () => {
    const events = parseAll("PRIVMSG #c :12345678\r\n", { maxBodyBytes: 20 });
    assert.equal(events[0]!.type, "LineTooLong");
  });
});

describe("IRC message formatting", () => {
  it("adds a colon to the last parameter only when needed, and ends with \\r\\n", () => {
    const f = (params: string[]) => formatMessage({ command: "PRIVMSG", params }).toString();
    assert.equal(f(["#c", "word"]), "PRIVMSG #c word\r\n");
    assert.equal(f(["#c", "two words"]), "PRIVMSG #c :two words\r\n");
    assert.equal(f(["#c", ""]), "PRIVMSG #c :\r\n");
    assert.equal(f(["#c", ":smile"]), "PRIVMSG #c ::smile\r\n");
  });

  it("writes tags (escaped) and the prefix", () => {
    const b = formatMessage({
      tags: new Map([
        ["time", "2024-01-01T00:00:00Z"],
        ["+draft/x", "a b;c"],
        ["flag", ""],
      ]),
      prefix: "n!u@h",
      command: "001",
      params: ["n", "Welcome"],
    });
    assert.equal(
      b.toString(),
      "@time=2024-01-01T00:00:00Z;+draft/x=a\\sb\\:c;flag :n!u@h 001 n Welcome\r\n",
    );
  });

  it("round-trips through the parser", () => {
    const input = {
      tags: { a: "x y", "+b": "" },
      prefix: "irc.example",
      command: "NOTICE",
      params: ["*", "hello :) \u2713"],
    };
    const m = parseMessage(formatMessage(input));
    assert.deepEqual(plain(m), { ...input, tags: { a: "x y", "+b": "" } });
  });

  it("sends parameter bytes as given", () => {
    const b = formatMessage({
      command: "PRIVMSG",
      params: ["#c", Buffer.from([0xe9, 0x20, 0xff])],
    });
    assert.deepEqual(
      b,
      Buffer.concat([Buffer.from("PRIVMSG #c :"), Buffer.from([0xe9, 0x20, 0xff, 13, 10])]),
    );
  });

  it("refuses unsendable messages with LocalProtocolError", () => {
    const bad: Parameters<typeof formatMessage>[0][] = [
      { command: "PRIV MSG" },
      { command: "12" },
      { command: "PRIVMSG", params: ["#c", "a\r\nQUIT"] },
      { command: "PRIVMSG", params: ["a b", "x"] },
      { command: "PRIVMSG", params: ["", "x"] },
      { command: "PRIVMSG", params: [":x", "x"] },
      { command: "PING", params: ["x\0"] },
      { command: "PING", tags: { "bad key": "v" } },
      { command: "PING", prefix: "has space" },
    ];
    for (const m of bad)
      assert.throws(() => formatMessage(m), LocalProtocolError, JSON.stringify(m));
  });

  it("cuts the last parameter to the body limit without splitting UTF-8", () => {
    const text = "\u00e9".repeat(600);
    const b = formatMessage(
      {
        tags: { t: "x".repeat(100) },
        prefix: "nick!user@host",
        command: "PRIVMSG",
        params: ["#c", text],
      },
      { maxBodyBytes: 512 },
    );
    const line = b.toString();
    const body = line.slice(line.indexOf(" ") + 1);
    assert.ok(Buffer.byteLength(body) <= 512);
    assert.ok(Buffer.byteLength(body) >= 511);
    assert.ok(!line.includes("\ufffd"));
    assert.equal(parseMessage(b).params[1]!.replace(/\u00e9/g, ""), "");
  });

  it("truncateUtf8 steps back to a character boundary", () => {
    const b = Buffer.from("a\u2713b");
    assert.deepEqual(truncateUtf8(b, 3), Buffer.from("a"));
    assert.deepEqual(truncateUtf8(b, 4), Buffer.from("a\u2713"));
    assert.deepEqual(truncateUtf8(b, 10), b);
  });
});

describe("IRC prefixes", () => {
  it("splits nick!user@host, nick@host and a server name", () => {
    assert.deepEqual(parsePrefix("a!b@c.d"), { nick: "a", user: "b", host: "c.d" });
    assert.deepEqual(parsePrefix("a@c"), { nick: "a", user: null, host: "c" });
    assert.deepEqual(parsePrefix("irc.example"), { nick: "irc.example", user: null, host: null });
  });
});
