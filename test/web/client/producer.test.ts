// Tests of FileBodyProducer: in-memory bodies in pieces with flow control, streams, stopping.

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { IConsumer } from "../../../src/internet/interfaces.js";
import { assertNoResult, successResultOf } from "../../../src/testing/index.js";
import { FileBodyProducer, UNKNOWN_LENGTH } from "../../../src/web/client/index.js";

/** A consumer recording writes; `onWrite` may pause the producer like a full socket. */
function recorder(onWrite?: (n: number) => void): IConsumer & { chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return {
    chunks,
    write(data) {
      chunks.push(Buffer.from(data));
      onWrite?.(chunks.length);
    },
    registerProducer() {},
    unregisterProducer() {},
  };
}

describe("FileBodyProducer", () => {
  it("an in-memory body knows its length and is written in readSize pieces", () => {
    const producer = new FileBodyProducer(Buffer.from("abcdefghij"), { readSize: 4 });
    assert.equal(producer.length, 10);
    const consumer = recorder();
    successResultOf(producer.startProducing(consumer));
    assert.deepEqual(
      consumer.chunks.map((c) => c.toString()),
      ["abcd", "efgh", "ij"],
    );
  });

  it("a string body is UTF-8", () => {
    assert.equal(new FileBodyProducer("é").length, 2);
  });

  it("pausing stops the writes; resuming goes on and finishes", () => {
    const producer = new FileBodyProducer(Buffer.alloc(10, 1), { readSize: 2 });
    const consumer = recorder((n) => {
      if (n === 2) producer.pauseProducing();
    });
    const done = producer.startProducing(consumer);
    assert.equal(consumer.chunks.length, 2);
    assertNoResult(done);
    producer.resumeProducing();
    assert.equal(consumer.chunks.length, 5);
    successResultOf(done);
  });

  it("stopProducing ends the writes and the Deferred never fires", () => {
    const producer = new FileBodyProducer(Buffer.alloc(10, 1), { readSize: 2 });
    const consumer = recorder((n) => {
      if (n === 1) producer.stopProducing();
    });
    const done = producer.startProducing(consumer);
    producer.resumeProducing();
    assert.equal(consumer.chunks.length, 1);
    assertNoResult(done);
  });

  it("a stream has an unknown length unless given, and is written as it flows", async () => {
    const stream = new PassThrough();
    const producer = new FileBodyProducer(stream);
    assert.equal(producer.length, UNKNOWN_LENGTH);
    assert.equal(new FileBodyProducer(new PassThrough(), { length: 5 }).length, 5);
    const consumer = recorder();
    const done = producer.startProducing(consumer);
    stream.write("ab");
    stream.end("cd");
    await done;
    assert.equal(Buffer.concat(consumer.chunks).toString(), "abcd");
  });

  it("pausing pauses the stream; stopping destroys it", async () => {
    const stream = new PassThrough();
    const producer = new FileBodyProducer(stream);
    const consumer = recorder();
    const done = producer.startProducing(consumer);
    producer.pauseProducing();
    assert.equal(stream.isPaused(), true);
    producer.resumeProducing();
    assert.equal(stream.isPaused(), false);
    producer.stopProducing();
    assert.equal(stream.destroyed, true);
    await new Promise((r) => setImmediate(r));
    assertNoResult(done);
  });

  it("a stream error fails the Deferred", async () => {
    const stream = new PassThrough();
    const done = new FileBodyProducer(stream).startProducing(recorder());
    stream.destroy(new Error("read error"));
    await assert.rejects(done.asPromise(), /read error/);
  });
});
