// Tests of FTP replies: formatting (single and multi-line) and the client's reply parser.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadResponse } from "../../src/protocols/ftp/_errors.js";
import { type FTPReply, formatReply, ReplyParser } from "../../src/protocols/ftp/_replies.js";
import { splits } from "../protocols/_splits.js";

function parseAll(chunks: Buffer[]): FTPReply[] {
  const parser = new ReplyParser();
  return chunks.flatMap((c) => parser.receiveData(c));
}

describe("formatReply", () => {
  it("formats a single-line reply as CODE text CRLF", () => {
    assert.equal(formatReply(200, "Command okay"), "200 Command okay\r\n");
  });

  it("formats several lines as a multi-line reply whose middle lines start with a space", () => {
    assert.equal(
      formatReply(211, ["Features:", "EPSV", "UTF8", "End"]),
      "211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n",
    );
  });

  it("splits text with line breaks into a multi-line reply", () => {
    assert.equal(formatReply(214, "a\nb"), "214-a\r\n214 b\r\n");
  });

  it("sends a client's control bytes back as ? (no terminal escapes), keeping TAB", () => {
    assert.equal(
      formatReply(550, "a\x1b[2Jb\x07\tc\x7f: Invalid path"),
      "550 a?[2Jb?\tc?: Invalid path\r\n",
    );
    assert.equal(formatReply(550, ["x\x00y", "z\x01"]), "550-x?y\r\n550 z?\r\n");
  });

  it("never lets CR or LF inside a line start a new reply (a file name cannot inject one)", () => {
    const out = formatReply(257, ['"/a\rb" created']);
    assert.equal(out, '257 "/a\0b" created\r\n');
  });

  it("rejects a reply code outside 100-599", () => {
    assert.throws(() => formatReply(99, "x"), RangeError);
    assert.throws(() => formatReply(600, "x"), RangeError);
  });
});

describe("ReplyParser", () => {
  const stream =
    "220 Ready\r\n" +
    "211-Features:\r\n EPSV\r\n 211 not the end\r\n211-still not\r\n211 End\r\n" +
    "230\r\n" +
    "150 Opening\n";
  for (const [name, chunks] of splits(stream)) {
    it(`parses single and multi-line replies (${name})`, () => {
      const replies = parseAll(chunks);
      assert.deepEqual(
        replies.map((r) => [r.code, r.lines]),
        [
          [220, ["Ready"]],
          [211, ["Features:", " EPSV", " 211 not the end", "still not", "End"]],
          [230, [""]],
          [150, ["Opening"]],
        ],
      );
      assert.equal(replies[1]!.raw.length, 5);
    });
  }

  it("raises BadResponse for a line that does not start with a reply code", () => {
    assert.throws(() => new ReplyParser().receiveData(Buffer.from("hello\r\n")), BadResponse);
  });

  it("raises BadResponse for a line longer than maxLineLength, without buffering it", () => {
    const parser = new ReplyParser({ maxLineLength: 10 });
    assert.throws(() => parser.receiveData(Buffer.from("220 0123456789abc")), BadResponse);
  });

  it("raises BadResponse for a multi-line reply longer than maxLines", () => {
    const parser = new ReplyParser({ maxLines: 3 });
    assert.throws(() => parser.receiveData(Buffer.from("211-a\r\nb\r\nc\r\nd\r\n")), BadResponse);
  });

  it("reports a partial reply as pending", () => {
    const parser = new ReplyParser();
    parser.receiveData(Buffer.from("211-a\r\n"));
    assert.equal(parser.pending, true);
    parser.receiveData(Buffer.from("211 b\r\n"));
    assert.equal(parser.pending, false);
  });
});
