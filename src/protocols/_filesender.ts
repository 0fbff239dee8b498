// FileSender: a producer that streams a file (FileHandle or Readable) to a consumer.

import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { Deferred } from "../internet/defer.js";
import type { IConsumer, IPushProducer } from "../internet/interfaces.js";
import { _EMPTY } from "./_framing.js";

/** What `FileSender` reads: an open `FileHandle` (read from its current position) or a stream. */
export type FileSenderSource = FileHandle | Readable;

/**
 * Sends a file to a consumer (a transport, usually) chunk by chunk, as a streaming producer:
 * it stops reading while the consumer has paused it, so a slow peer never makes the file pile
 * up in memory. The file is not closed at the end: that is the caller's job.
 *
 * @example
 * ```ts
 * const fh = await fs.promises.open("big.iso");
 * const lastByte = await new FileSender().beginFileTransfer(fh, protocol.transport);
 * await fh.close();
 * ```
 */
export class FileSender implements IPushProducer {
  /** Bytes read per chunk from a `FileHandle`. */
  CHUNK_SIZE = 65536;
  /** The last byte sent (empty before anything was sent). */
  lastSent: Buffer = _EMPTY;
  /** The Deferred returned by `beginFileTransfer`, until it fires. */
  deferred: Deferred<Buffer> | null = null;
  private _file: FileSenderSource | null = null;
  private _consumer: IConsumer | null = null;
  private _transform: ((data: Buffer) => Buffer) | null = null;
  private _paused = false;
  private _done = false;
  private _reading = false;
  private _detach: (() => void) | null = null;

  /**
   * Starts sending `file` to `consumer`, registered as its streaming producer; `transform`, if
   * given, rewrites each chunk before it is written.
   *
   * @returns a Deferred fired with the last byte sent (an empty Buffer for an empty file) once
   *   the whole file is written and the producer unregistered; it fails if reading fails or if
   *   the consumer calls `stopProducing`. Cancelling it stops reading and unregisters the
   *   producer; the chunks already written stay written.
   */
  beginFileTransfer(
    file: FileSenderSource,
    consumer: IConsumer,
    transform?: (data: Buffer) => Buffer,
  ): Deferred<Buffer> {
    if (this._file !== null) throw new Error("FileSender is already sending a file");
    this._file = file;
    this._consumer = consumer;
    this._transform = transform ?? null;
    const d = new Deferred<Buffer>(() => {
      if (this._done) return;
      this._done = true;
      this.deferred = null;
      this._cleanUp();
      this._consumer?.unregisterProducer();
    });
    this.deferred = d;
    consumer.registerProducer(this, true);
    if (isStream(file)) this._attach(file);
    else void this._pump(file);
    return d;
  }

  /** Stops reading until `resumeProducing`. */
  pauseProducing(): void {
    this._paused = true;
    const f = this._file;
    if (f !== null && isStream(f)) f.pause();
  }

  /** Reads and sends again. */
  resumeProducing(): void {
    this._paused = false;
    const f = this._file;
    if (f === null || this._done) return;
    if (isStream(f)) f.resume();
    else void this._pump(f);
  }

  /** Stops for good: the transfer's Deferred fails. */
  stopProducing(): void {
    if (this._done) return;
    this._done = true;
    this._cleanUp();
    const d = this.deferred;
    this.deferred = null;
    d?.errback(new Error("Consumer asked us to stop producing"));
  }

  private _send(chunk: Buffer): void {
    const data = this._transform === null ? chunk : this._transform(chunk);
    if (data.length === 0) return;
    this._consumer?.write(data);
    this.lastSent = data.subarray(data.length - 1);
  }

  private async _pump(fh: FileHandle): Promise<void> {
    if (this._reading) return;
    this._reading = true;
    try {
      while (!this._paused && !this._done) {
        const buf = Buffer.allocUnsafe(this.CHUNK_SIZE);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (this._done) return;
        if (bytesRead === 0) {
          this._finish(null);
          return;
        }
        this._send(buf.subarray(0, bytesRead));
      }
    } catch (e) {
      this._finish(e);
    } finally {
      this._reading = false;
    }
  }

  private _attach(stream: Readable): void {
    const onData = (chunk: Buffer | string): void => {
      if (this._done) return;
      try {
        this._send(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      } catch (e) {
        this._finish(e);
      }
    };
    const onEnd = (): void => this._finish(null);
    const onError = (e: unknown): void => this._finish(e);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    this._detach = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.pause();
    };
    if (this._paused) stream.pause();
    else stream.resume();
  }

  private _cleanUp(): void {
    this._detach?.();
    this._detach = null;
  }

  /** Ends the transfer: success when `error` is null. */
  private _finish(error: unknown): void {
    if (this._done) return;
    this._done = true;
    this._cleanUp();
    this._consumer?.unregisterProducer();
    const d = this.deferred;
    this.deferred = null;
    if (d === null) return;
    if (error === null) d.callback(this.lastSent);
    else d.errback(error);
  }
}

function isStream(file: FileSenderSource): file is Readable {
  return typeof (file as Readable).pipe === "function";
}
