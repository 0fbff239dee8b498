// Tests of FTP command framing (Telnet IAC, line limits) and argument parsers.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CommandLineParser,
  encodeExtendedAddress,
  encodeHostPort,
  type ParsedLine,
  parseCommandLine,
  parseEprtArgument,
  parseEpsvReply,
  parsePasvReply,
  parsePortArgument,
  quotePath,
  toSegments,
  unquotePath,
} from "../../src/protocols/ftp/_commands.js";
import { BadResponse, CmdArgSyntaxError, InvalidPath } from "../../src/protocols/ftp/_errors.js";
import { splits } from "../protocols/_splits.js";

function lines(parsed: ParsedLine[]): string[] {
  return parsed.map((p) => (p.type === "LineReceived" ? p.line.toString("latin1") : "<too long>"));
}

function feed(parser: CommandLineParser, chunks: Buffer[]): string[] {
  return chunks.flatMap((c) => lines(parser.receiveData(c)));
}

describe("CommandLineParser", () => {
  const IAC = "\xff";
  const stream =
    "USER alice\r\n" +
    `${IAC}\xf4${IAC}\xf2ABOR\r\n` + // IAC IP, IAC DM before ABOR
    `${IAC}\xfb\x01NOOP\r\n` + // IAC WILL ECHO
    `${IAC}\xfa\x18\x01${IAC}\xf0STAT\r\n` + // sub-negotiation
    `RETR a${IAC}${IAC}b\r\n` + // IAC IAC is a data byte 255
    "PWD\n" + // bare LF
    "RETR name with  spaces \r\n";
  for (const [name, chunks] of splits(stream)) {
    it(`splits lines and drops Telnet commands (${name})`, () => {
      assert.deepEqual(feed(new CommandLineParser(), chunks), [
        "USER alice",
        "ABOR",
        "NOOP",
        "STAT",
        "RETR a\xffb",
        "PWD",
        "RETR name with  spaces ",
      ]);
    });
  }

  const long = `RETR ${"x".repeat(60)}\r\nNOOP\r\n`;
  for (const [name, chunks] of splits(long)) {
    it(`reports an over-long line once and goes on with the next (${name})`, () => {
      assert.deepEqual(feed(new CommandLineParser(32), chunks), ["<too long>", "NOOP"]);
    });
  }

  it("accepts a line of exactly maxLineLength bytes", () => {
    const line = "x".repeat(16);
    assert.deepEqual(feed(new CommandLineParser(16), [Buffer.from(`${line}\r\n`)]), [line]);
    assert.deepEqual(feed(new CommandLineParser(16), [Buffer.from(`${line}y\r\n`)]), [
      "<too long>",
    ]);
  });

  it("never buffers more than maxLineLength bytes of a line without end", () => {
    const parser = new CommandLineParser(64);
    for (let i = 0; i < 1000; i++) parser.receiveData(Buffer.alloc(1024, 0x61));
    assert.deepEqual(feed(parser, [Buffer.from("\r\nNOOP\r\n")]), ["<too long>", "NOOP"]);
  });

  it("forgets a partial line on reset", () => {
    const parser = new CommandLineParser();
    parser.receiveData(Buffer.from("USER ev"));
    parser.reset();
    assert.deepEqual(feed(parser, [Buffer.from("NOOP\r\n")]), ["NOOP"]);
  });
});

describe("parseCommandLine", () => {
  it("upper-cases the verb and keeps the argument as sent", () => {
    assert.deepEqual(parseCommandLine("retr My File.txt"), { verb: "RETR", arg: "My File.txt" });
    assert.deepEqual(parseCommandLine("pwd"), { verb: "PWD", arg: "" });
  });

  it("decodes UTF-8 arguments", () => {
    assert.equal(parseCommandLine(Buffer.from("STOR héllo.txt")).arg, "héllo.txt");
  });
});

describe("data connection addresses", () => {
  it("parses PORT arguments", () => {
    assert.deepEqual(parsePortArgument("127,0,0,1,4,1"), { host: "127.0.0.1", port: 1025 });
    for (const bad of ["127,0,0,1,4", "256,0,0,1,4,1", "a,b,c,d,e,f", "127,0,0,1,0,0"]) {
      assert.throws(() => parsePortArgument(bad), CmdArgSyntaxError, bad);
    }
  });

  it("parses EPRT arguments for IPv4 and IPv6, with any delimiter", () => {
    assert.deepEqual(parseEprtArgument("|1|132.235.1.2|6275|"), {
      host: "132.235.1.2",
      port: 6275,
    });
    assert.deepEqual(parseEprtArgument("!2!::1!5282!"), { host: "::1", port: 5282 });
    for (const bad of [
      "|3|1.2.3.4|5|",
      "|1|::1|5|",
      "|2|1.2.3.4|5|",
      "|1|1.2.3.4|99999|",
      "1|1.2.3.4|5|",
      "",
    ]) {
      assert.throws(() => parseEprtArgument(bad), CmdArgSyntaxError, bad);
    }
  });

  it("encodes PORT and EPRT arguments", () => {
    assert.equal(encodeHostPort("10.0.0.1", 1025), "10,0,0,1,4,1");
    assert.equal(encodeExtendedAddress("10.0.0.1", 21), "|1|10.0.0.1|21|");
    assert.equal(encodeExtendedAddress("::1", 21), "|2|::1|21|");
  });

  it("parses PASV and EPSV replies", () => {
    assert.deepEqual(parsePasvReply("Entering Passive Mode (127,0,0,1,195,80)."), {
      host: "127.0.0.1",
      port: 50000,
    });
    assert.deepEqual(parsePasvReply("=127,0,0,1,0,21"), { host: "127.0.0.1", port: 21 });
    assert.equal(parseEpsvReply("Entering Extended Passive Mode (|||6446|)"), 6446);
    assert.throws(() => parsePasvReply("Entering Passive Mode"), BadResponse);
    assert.throws(() => parseEpsvReply("Entering Extended Passive Mode (|||0|)"), BadResponse);
    assert.throws(() => parseEpsvReply("(|||6446!)"), BadResponse);
  });
});

describe("paths", () => {
  it("resolves relative and absolute paths under the root", () => {
    assert.deepEqual(toSegments(["a", "b"], "c/./d"), ["a", "b", "c", "d"]);
    assert.deepEqual(toSegments(["a", "b"], "../c"), ["a", "c"]);
    assert.deepEqual(toSegments(["a", "b"], "/x//y/"), ["x", "y"]);
    assert.deepEqual(toSegments(["a"], ".."), []);
  });

  it("refuses paths that go above the root, in every form", () => {
    for (const p of ["../../etc/passwd", "..", "/../etc/passwd", "a/../../b", "/.."]) {
      assert.throws(() => toSegments([], p), InvalidPath, p);
    }
    assert.throws(() => toSegments(["a"], "../.."), InvalidPath);
  });

  it("keeps encoded and backslash forms as plain names (they name nothing outside)", () => {
    assert.deepEqual(toSegments([], "%2e%2e/%2e%2e/etc/passwd"), [
      "%2e%2e",
      "%2e%2e",
      "etc",
      "passwd",
    ]);
    assert.deepEqual(toSegments([], "..\\..\\etc"), ["..\\..\\etc"]);
  });

  it("refuses NUL bytes", () => {
    assert.throws(() => toSegments([], "a\0b"), InvalidPath);
  });

  it("quotes and unquotes 257 paths with doubled quotes", () => {
    assert.equal(quotePath('/a "b"'), '"/a ""b"""');
    assert.equal(unquotePath('"/a ""b""" is the current directory'), '/a "b"');
    assert.throws(() => unquotePath("no quotes"), BadResponse);
  });
});
