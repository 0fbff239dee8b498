// Tests of ContentDecoderAgent: Accept-Encoding, gzip/deflate (zlib and raw) decoding as the body streams.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { Failure } from "../../../src/internet/failure.js";
import { successResultOf } from "../../../src/testing/index.js";
import {
  ContentDecoderAgent,
  Headers,
  ResponseDone,
  ResponseFailed,
  readBody,
  UNKNOWN_LENGTH,
} from "../../../src/web/client/index.js";
import { BodyRecorder, connected, FakeAgent, makeRequest, StubResponse } from "./_helpers.js";

const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(200);

describe("ContentDecoderAgent", () => {
  it("asks for gzip and deflate, keeping the other headers", () => {
    const fake = new FakeAgent();
    new ContentDecoderAgent(fake).request("GET", "http://example.com/", new Headers({ A: ["b"] }));
    const sent = fake.requests[0]?.headers;
    assert.deepEqual(sent?.getRawHeaders("accept-encoding"), ["gzip, deflate"]);
    assert.deepEqual(sent?.getRawHeaders("a"), ["b"]);
  });

  for (const [coding, label, encode] of [
    ["gzip", "gzip", gzipSync],
    ["x-gzip", "gzip", gzipSync],
    ["deflate", "zlib-wrapped", deflateSync],
    ["deflate", "raw, as some servers send", deflateRawSync],
  ] as const) {
    it(`decodes ${coding} (${label}) and adjusts the headers`, async () => {
      const fake = new FakeAgent();
      const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
      fake.answer(200, { "Content-Encoding": [coding], "Content-Length": ["1"], ETag: ["x"] }, "");
      const response = successResultOf(d);
      assert.equal(response.length, UNKNOWN_LENGTH);
      assert.equal(response.headers.hasHeader("content-encoding"), false);
      assert.equal(response.headers.hasHeader("content-length"), false);
      assert.deepEqual(response.headers.getRawHeaders("etag"), ["x"]);
      // Deliver a real compressed body through a fresh response.
      const fake2 = new FakeAgent();
      const d2 = new ContentDecoderAgent(fake2).request("GET", "http://example.com/");
      fake2.requests[0]?.deferred.callback(
        new StubResponse(200, { "Content-Encoding": [coding] }, encode(Buffer.from(TEXT))),
      );
      const body = await readBody(successResultOf(d2));
      assert.equal(body.toString(), TEXT);
    });
  }

  it("undoes stacked codings from the last applied", async () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const twice = gzipSync(deflateSync(Buffer.from(TEXT)));
    fake.requests[0]?.deferred.callback(
      new StubResponse(200, { "Content-Encoding": ["deflate, gzip"] }, twice),
    );
    assert.equal((await readBody(successResultOf(d))).toString(), TEXT);
  });

  it("leaves a body with an unknown coding as it is", () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const r = fake.answer(200, { "Content-Encoding": ["br"] }, "raw");
    assert.equal(successResultOf(d), r);
  });

  it("a plain response passes through", () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const r = fake.answer(200, {}, "plain");
    assert.equal(successResultOf(d), r);
  });

  it("an empty encoded body (HEAD, 204) ends cleanly", async () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("HEAD", "http://example.com/");
    fake.answer(200, { "Content-Encoding": ["gzip"] }, "");
    assert.equal((await readBody(successResultOf(d))).length, 0);
  });

  it("a corrupt body fails with ResponseFailed", async () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    fake.answer(200, { "Content-Encoding": ["gzip"] }, "this is not gzip at all");
    await assert.rejects(readBody(successResultOf(d)).asPromise(), ResponseFailed);
  });

  it("a truncated gzip body fails with ResponseFailed", async () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const whole = gzipSync(Buffer.from(TEXT));
    fake.requests[0]?.deferred.callback(
      new StubResponse(200, { "Content-Encoding": ["gzip"] }, whole.subarray(0, whole.length - 20)),
    );
    await assert.rejects(readBody(successResultOf(d)).asPromise(), ResponseFailed);
  });

  it("a failed body is reported as it is", async () => {
    const fake = new FakeAgent();
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const stub = new StubResponse(
      200,
      { "Content-Encoding": ["gzip"] },
      gzipSync(Buffer.from("x")),
    );
    stub.bodyFailure = new Failure(new ResponseFailed([new Error("cut")]));
    fake.requests[0]?.deferred.callback(stub);
    await assert.rejects(readBody(successResultOf(d)).asPromise(), /cut/);
  });

  it("streams through a real connection byte by byte, with the reader's flow control", async () => {
    const c = connected();
    const fake = { request: () => c.proto.request(makeRequest("GET", "http://example.com/")) };
    const d = new ContentDecoderAgent(fake).request("GET", "http://example.com/");
    const gz = gzipSync(Buffer.from(TEXT));
    c.feed(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`);
    const body = new BodyRecorder();
    const ended = new Promise<void>((resolve) => {
      body.connectionLost = (reason) => {
        body.reason = reason;
        resolve();
      };
    });
    successResultOf(d).deliverBody(body);
    for (const byte of gz) c.feed(Buffer.from([byte]));
    await ended;
    assert.equal(body.body, TEXT);
    assert.ok(body.reason?.check(ResponseDone));
  });
});
