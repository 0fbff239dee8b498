// Request bodies: the IBodyProducer contract, UNKNOWN_LENGTH, and FileBodyProducer over bytes or a stream.

import type { Readable } from "node:stream";
import { Deferred } from "../../internet/defer.js";
import type { IConsumer, IPushProducer } from "../../internet/interfaces.js";

/**
 * The `length` of a body producer that does not know how long its body is: the request is
 * then sent with `Transfer-Encoding: chunked` (twisted.web.iweb.UNKNOWN_LENGTH).
 */
export const UNKNOWN_LENGTH: unique symbol = Symbol.for("twisted.web.iweb.UNKNOWN_LENGTH");

/** A body length: a number of bytes, or `UNKNOWN_LENGTH`. */
export type BodyLength = number | typeof UNKNOWN_LENGTH;

/**
 * Produces a request body (twisted.web.iweb.IBodyProducer). The agent calls
 * `startProducing(consumer)` once the request head is written; the producer writes the body to
 * the consumer and fires the returned Deferred (or Promise) when it is done — or fails it, which
 * aborts the request. It is registered as a streaming producer: `pauseProducing` when the
 * connection's send buffer is full, `resumeProducing` when it drained, `stopProducing` when the
 * request is given up (the Deferred then need not fire).
 */
export interface IBodyProducer extends IPushProducer {
  /** How many bytes will be written, or `UNKNOWN_LENGTH` (chunked upload). */
  readonly length: BodyLength;
  /** Starts writing the body to `consumer`; the result fires once everything is written. */
  startProducing(consumer: IConsumer): PromiseLike<unknown>;
}

/** Options of `FileBodyProducer`. */
export interface FileBodyProducerOptions {
  /** Bytes per write for an in-memory body. Default 64 KiB. */
  readSize?: number;
  /** The body's length, for a stream whose length is known (default `UNKNOWN_LENGTH`). */
  length?: BodyLength;
}

/**
 * A body producer over bytes (a Buffer or string, written in `readSize` pieces) or a Node
 * `Readable` (e.g. `fs.createReadStream`), with flow control: pausing stops writing (and
 * pauses the stream), resuming goes on, stopping destroys the stream. An in-memory body knows
 * its length; a stream is sent chunked unless `length` is given.
 *
 * @example
 * ```ts
 * const body = new FileBodyProducer(Buffer.from(JSON.stringify({ a: 1 })));
 * const response = await agent.request("POST", url,
 *   new Headers({ "Content-Type": ["application/json"] }), body);
 *
 * const upload = new FileBodyProducer(createReadStream("big.iso"), { length: statSync("big.iso").size });
 * ```
 */
export class FileBodyProducer implements IBodyProducer {
  readonly length: BodyLength;
  private readonly bytes: Buffer | null;
  private readonly stream: Readable | null;
  private readonly readSize: number;
  private offset = 0;
  private consumer: IConsumer | null = null;
  private finished: Deferred<void> | null = null;
  private paused = false;
  private stopped = false;
  private writing = false;

  constructor(input: Readable | Uint8Array | string, options: FileBodyProducerOptions = {}) {
    this.readSize = options.readSize ?? 64 * 1024;
    if (typeof input === "string" || input instanceof Uint8Array) {
      const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : Buffer.from(input);
      this.bytes = bytes;
      this.stream = null;
      this.length = bytes.length;
    } else {
      this.bytes = null;
      this.stream = input;
      this.length = options.length ?? UNKNOWN_LENGTH;
    }
  }

  /**
   * Writes the body to `consumer`; fires once all of it is written, fails if the stream
   * errors. After `stopProducing` it never fires. Cancelling it does not stop the writes (use
   * `stopProducing`).
   */
  startProducing(consumer: IConsumer): Deferred<void> {
    if (this.finished !== null) throw new Error("Cannot start a FileBodyProducer twice");
    this.consumer = consumer;
    const finished = new Deferred<void>();
    this.finished = finished;
    if (this.stream !== null) this.startStream(this.stream, consumer, finished);
    else this.writeBytes();
    return finished;
  }

  private startStream(stream: Readable, consumer: IConsumer, finished: Deferred<void>): void {
    stream.on("data", (chunk: Buffer | string) => {
      if (this.stopped) return;
      consumer.write(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
    });
    stream.once("end", () => {
      if (!this.stopped && !finished.called) finished.callback(undefined);
    });
    stream.once("error", (err) => {
      if (!this.stopped && !finished.called) finished.errback(err);
    });
    if (this.paused) stream.pause();
    else stream.resume();
  }

  /** Writes pieces of an in-memory body until done or paused. */
  private writeBytes(): void {
    const bytes = this.bytes as Buffer;
    if (this.writing) return; // a write that paused and resumed us synchronously: the loop goes on
    this.writing = true;
    try {
      while (!this.paused && !this.stopped && this.offset < bytes.length) {
        const end = Math.min(bytes.length, this.offset + this.readSize);
        const piece = bytes.subarray(this.offset, end);
        this.offset = end;
        this.consumer?.write(piece);
      }
    } finally {
      this.writing = false;
    }
    const finished = this.finished;
    if (!this.stopped && !this.paused && this.offset >= bytes.length && finished !== null) {
      if (!finished.called) finished.callback(undefined);
    }
  }

  /** Stops writing until `resumeProducing`. */
  pauseProducing(): void {
    if (this.stopped) return;
    this.paused = true;
    this.stream?.pause();
  }

  /** Goes on writing after `pauseProducing`. */
  resumeProducing(): void {
    if (this.stopped || this.finished === null) return;
    this.paused = false;
    if (this.stream !== null) this.stream.resume();
    else this.writeBytes();
  }

  /** Stops for good: no more writes, the stream is destroyed, the Deferred never fires. */
  stopProducing(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stream?.destroy();
  }
}
