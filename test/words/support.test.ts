// Tests of case mapping, ISUPPORT parsing, mode parsing and CTCP quoting.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IRCMap, ircEquals, ircLower } from "../../src/words/_casemap.js";
import { ctcpDequote, ctcpExtract, ctcpQuote, ctcpStringify } from "../../src/words/_ctcp.js";
import { paramModesOf, parseModes, ServerSupportedFeatures } from "../../src/words/_isupport.js";
import { NUMERICS, numericName } from "../../src/words/_numerics.js";

describe("case mapping", () => {
  it("rfc1459 folds []\\~ to {}|^, strict-rfc1459 leaves ~, ascii only letters", () => {
    assert.equal(ircLower("AB[]\\~", "rfc1459"), "ab{}|^");
    assert.equal(ircLower("AB[]\\~", "strict-rfc1459"), "ab{}|~");
    assert.equal(ircLower("AB[]\\~", "ascii"), "ab[]\\~");
    assert.equal(ircLower("\u00c9T\u00c9"), "\u00c9t\u00c9");
    assert.ok(ircEquals("Nick[1]", "nick{1}"));
    assert.ok(!ircEquals("Nick[1]", "nick{1}", "ascii"));
  });

  it("IRCMap finds keys by case mapping and keeps the last spelling", () => {
    const m = new IRCMap<number>();
    m.set("Alice[x]", 1);
    assert.equal(m.get("ALICE{X}"), 1);
    assert.ok(m.has("alice{x}"));
    m.set("ALICE[X]", 2);
    assert.equal(m.size, 1);
    assert.deepEqual([...m.keys()], ["ALICE[X]"]);
    assert.ok(m.delete("alice{x}"));
    assert.equal(m.size, 0);
  });
});

describe("ISUPPORT", () => {
  it("has RFC 1459 defaults before any 005", () => {
    const s = new ServerSupportedFeatures();
    assert.equal(s.channelTypes, "#&");
    assert.deepEqual(
      [...s.prefixes],
      [
        ["o", ["@", 0]],
        ["v", ["+", 1]],
      ],
    );
    assert.equal(s.nickLength, 9);
    assert.equal(s.caseMapping, "rfc1459");
  });

  it("parses features, escapes and withdrawals", () => {
    const s = new ServerSupportedFeatures();
    s.parse([
      "PREFIX=(qaohv)~&@%+",
      "CHANMODES=beI,k,l,imnst",
      "NICKLEN=30",
      "TARGMAX=PRIVMSG:4,NOTICE:,JOIN:",
      "NETWORK=Test\\x20Net",
      "CASEMAPPING=ascii",
      "EXCEPTS",
      "-EXCEPTS",
      "CHANTYPES=#",
    ]);
    assert.deepEqual(s.prefixes.get("h"), ["%", 3]);
    assert.deepEqual(s.channelModes, {
      addressModes: "beI",
      param: "k",
      setParam: "l",
      noParam: "imnst",
    });
    assert.equal(s.nickLength, 30);
    assert.deepEqual(
      [...s.targetMax],
      [
        ["PRIVMSG", 4],
        ["NOTICE", null],
        ["JOIN", null],
      ],
    );
    assert.equal(s.network, "Test Net");
    assert.equal(s.caseMapping, "ascii");
    assert.ok(!s.hasFeature("EXCEPTS"));
    assert.equal(s.channelTypes, "#");
    assert.deepEqual(paramModesOf(s), ["beIklqaohv", "beIkqaohv"]);
  });

  it("parseModes splits a mode change by the modes that take parameters", () => {
    assert.deepEqual(parseModes("+ov-l+k", ["a", "b", "key"], ["ovlk", "ovk"]), [
      [
        ["o", "a"],
        ["v", "b"],
        ["k", "key"],
      ],
      [["l", null]],
    ]);
    assert.throws(() => parseModes("+o", [], ["o", "o"]), /no parameter/);
    assert.throws(() => parseModes("o", ["a"], ["o", "o"]), /must start/);
    assert.throws(() => parseModes("+i", ["x"], ["o", "o"]), /too many/);
  });
});

describe("CTCP", () => {
  it("extracts extended and normal parts, with or without the final delimiter", () => {
    assert.deepEqual(ctcpExtract("\x01ACTION waves\x01"), {
      extended: [["ACTION", "waves"]],
      normal: [],
    });
    assert.deepEqual(ctcpExtract("\x01VERSION"), { extended: [["VERSION", null]], normal: [] });
    assert.deepEqual(ctcpExtract("hi \x01PING 1\x01 there"), {
      extended: [["PING", "1"]],
      normal: ["hi ", " there"],
    });
  });

  it("quotes and dequotes the delimiter and the backslash", () => {
    const text = "a\x01b\\c";
    assert.equal(ctcpQuote(text), "a\\ab\\\\c");
    assert.equal(ctcpDequote(ctcpQuote(text)), text);
    assert.equal(
      ctcpStringify([
        ["PING", "1 2"],
        ["VERSION", null],
      ]),
      "\x01PING 1 2\x01\x01VERSION\x01",
    );
  });
});

describe("numerics", () => {
  it("maps names to codes and back", () => {
    assert.equal(NUMERICS.RPL_WELCOME, "001");
    assert.equal(numericName("433"), "ERR_NICKNAMEINUSE");
    assert.equal(numericName("999"), undefined);
  });
});
