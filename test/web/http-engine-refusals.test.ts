// Tests of the sans-I/O HTTP/1.1 engine: smuggling vectors and malformed input refused, and the
// limits on request lines, headers and bodies, in every split.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HTTP11Connection,
  type HTTPEvent,
  RemoteProtocolError,
} from "../../src/web/_http/index.js";
import { drive, eachSplit } from "./_http_engine.js";

describe("HTTP11Connection: smuggling vectors and malformed input are refused", () => {
  const head = (h: string, body = "") => `POST / HTTP/1.1\r\nHost: h\r\n${h}\r\n${body}`;
  const vectors: [string, string, number][] = [
    [
      "Content-Length and Transfer-Encoding",
      head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
      400,
    ],
    [
      "differing duplicate Content-Length",
      head("Content-Length: 5\r\nContent-Length: 6\r\n", "hello"),
      400,
    ],
    ["differing Content-Length list", head("Content-Length: 5, 6\r\n", "hello"), 400],
    ["signed Content-Length", head("Content-Length: +5\r\n", "hello"), 400],
    ["negative Content-Length", head("Content-Length: -1\r\n"), 400],
    ["hex Content-Length", head("Content-Length: 0x5\r\n"), 400],
    ["huge Content-Length", head("Content-Length: 99999999999999999999\r\n"), 400],
    [
      "chunk size with 0x",
      head("Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with sign",
      head("Transfer-Encoding: chunked\r\n", "+5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with leading space",
      head("Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "chunk size with trailing space",
      head("Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    ["empty chunk size", head("Transfer-Encoding: chunked\r\n", "\r\nhello\r\n0\r\n\r\n"), 400],
    ["chunk size too large", head("Transfer-Encoding: chunked\r\n", "fffffffffffffffff\r\n"), 400],
    [
      "bare LF after chunk size",
      head("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"),
      400,
    ],
    [
      "no CRLF after chunk data",
      head("Transfer-Encoding: chunked\r\n", "5\r\nhelloX\r\n0\r\n\r\n"),
      400,
    ],
    [
      "bare CR in chunk extension",
      head("Transfer-Encoding: chunked\r\n", "5;a\rb\r\nhello\r\n0\r\n\r\n"),
      400,
    ],
    ["chunked not last", head("Transfer-Encoding: chunked, gzip\r\n"), 400],
    ["chunked twice", head("Transfer-Encoding: chunked, chunked\r\n"), 400],
    ["unknown transfer coding", head("Transfer-Encoding: xchunked\r\n"), 400],
    ["unsupported transfer coding", head("Transfer-Encoding: gzip, chunked\r\n"), 501],
    [
      "Transfer-Encoding in HTTP/1.0",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
    ["obsolete line folding", head("X-A: a\r\n b\r\n"), 400],
    ["obsolete line folding after the request line", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400],
    ["whitespace before colon", head("Content-Length : 5\r\n", "hello"), 400],
    ["tab before colon", head("Transfer-Encoding\t: chunked\r\n"), 400],
    ["bare CR in a header", head("X-A: a\rb\r\n"), 400],
    ["bare CR ending a header", head("X-A: a\r\rX-B: b\r\n"), 400],
    ["NUL in a header value", head("X-A: a\0b\r\n"), 400],
    ["no colon", head("X-A a\r\n"), 400],
    ["empty header name", head(": a\r\n"), 400],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["double space in request line", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["HTTP/0.9 request line", "GET /\r\n\r\n", 400],
    ["bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["control character in target", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["non-ASCII target", "GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ["lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505],
    ["bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400],
  ];
  for (const [name, data, status] of vectors) {
    it(`${name} → ${status}`, () => {
      eachSplit(Buffer.from(data, "latin1"), (chunks, split) => {
        const { error, conn } = drive("server", chunks);
        assert.ok(error, `${split}: no error`);
        assert.equal(error.status, status, `${split}: ${error.message}`);
        assert.equal(conn.theirState, "ERROR", split);
        assert.throws(() => conn.nextEvent(), RemoteProtocolError);
      });
    });
  }
});

describe("HTTP11Connection: limits", () => {
  it("refuses a request line over 8 KiB with 414 before its end arrives", () => {
    const line = `GET /${"a".repeat(9000)}`;
    eachSplit(line, (chunks, name) => {
      const { error } = drive("server", chunks);
      assert.equal(error?.status, 414, name);
    });
  });

  it("accepts a request line of exactly the limit", () => {
    const target = `/${"a".repeat(8 * 1024 - "GET  HTTP/1.1".length - 1)}`;
    const req = `GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const { error, events } = drive("server", [Buffer.from(req)]);
    assert.equal(error, null);
    assert.equal(events[0]?.target, target);
  });

  it("refuses a header block over 16 KiB with 431", () => {
    const req = `GET / HTTP/1.1\r\nHost: h\r\n${"X-Big: abcdefghijklmnopqrstuvwxyz\r\n".repeat(600)}`;
    eachSplit(req, (chunks, name) => {
      assert.equal(drive("server", chunks).error?.status, 431, name);
    });
  });

  it("refuses more than 100 header fields with 431, and the limits are configurable", () => {
    const many = (n: number) => `GET / HTTP/1.1\r\nHost: h\r\n${"X: y\r\n".repeat(n)}\r\n`;
    assert.equal(drive("server", [Buffer.from(many(99))]).error, null);
    assert.equal(drive("server", [Buffer.from(many(100))]).error?.status, 431);
    assert.equal(
      drive("server", [Buffer.from(many(5))], { limits: { maxHeaderCount: 5 } }).error?.status,
      431,
    );
    assert.equal(
      drive("server", [Buffer.from(many(4))], { limits: { maxHeaderCount: 5 } }).error,
      null,
    );
  });

  it("refuses a Content-Length over the body limit with 413 before reading the body", () => {
    const conn = new HTTP11Connection("server");
    conn.receiveData(Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n"));
    assert.equal((conn.nextEvent() as HTTPEvent).type, "RequestReceived");
    conn.setMaxBodySize(999);
    assert.throws(
      () => conn.nextEvent(),
      (e: RemoteProtocolError) => e.status === 413,
    );
  });

  it("refuses a chunked body that grows over the limit with 413", () => {
    const req = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${"a\r\n0123456789\r\n".repeat(20)}0\r\n\r\n`;
    eachSplit(req, (chunks, name) => {
      assert.equal(
        drive("server", chunks, { limits: { maxBodySize: 150 } }).error?.status,
        413,
        name,
      );
      assert.equal(drive("server", chunks, { limits: { maxBodySize: 200 } }).error, null, name);
    });
  });

  it("refuses an endless chunk extension and an endless trailer block", () => {
    const ext = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;${"x".repeat(5000)}`;
    assert.equal(drive("server", [Buffer.from(ext)]).error?.status, 400);
    const trailers = `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"X-T: v\r\n".repeat(3000)}`;
    assert.equal(drive("server", [Buffer.from(trailers)]).error?.status, 400);
  });
});
