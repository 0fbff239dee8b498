// Shared machinery of the framing receivers: a queue of unparsed chunks, re-entrancy and pausing.

import type { IPushProducer, ITransport } from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";

/** @internal An empty buffer, shared. */
export const _EMPTY: Buffer = Buffer.alloc(0);

/** @internal Joins `chunks` (of `total` bytes); a single chunk is returned as it is. */
export function _join(chunks: readonly Buffer[], total: number): Buffer {
  if (chunks.length === 1) return chunks[0] as Buffer;
  if (chunks.length === 0) return _EMPTY;
  return Buffer.concat(chunks, total);
}

/** @internal The last `n` bytes held in `chunks` (which hold at least `n`). */
export function _lastBytes(chunks: readonly Buffer[], n: number): Buffer {
  const last = chunks[chunks.length - 1];
  if (last === undefined || n === 0) return _EMPTY;
  if (last.length >= n) return last.subarray(last.length - n);
  const out = Buffer.allocUnsafe(n);
  let end = n;
  for (let i = chunks.length - 1; i >= 0 && end > 0; i--) {
    const c = chunks[i] as Buffer;
    const take = Math.min(c.length, end);
    c.copy(out, end - take, c.length - take);
    end -= take;
  }
  return out;
}

/** @internal True once `transport.loseConnection()` (or abort) has been called. */
export function _isDisconnecting(transport: ITransport | null): boolean {
  return transport !== null && (transport as { disconnecting?: boolean }).disconnecting === true;
}

/**
 * @internal The base of the framing receivers: chunks given to `dataReceived` are queued (never
 * copied) and parsed by `_parseQueued`, which is not re-entered: data received from inside a
 * callback is queued and parsed after it. Pausing (as an `IPushProducer`) stops the parsing and
 * the transport's reading; resuming parses what was queued meanwhile.
 */
export abstract class _QueuedReceiver extends Protocol implements IPushProducer {
  /** True while paused by `pauseProducing` (or stopped): no message is delivered. */
  paused = false;
  /** @internal Chunks received and not yet parsed. */
  protected _queue: Buffer[] = [];
  /** @internal How many bytes of `_queue[0]` are already parsed. */
  protected _queueOffset = 0;
  /** @internal True while `_parseQueued` runs. */
  protected _busyReceiving = false;

  /** Queues `data` and parses what can be parsed. */
  override dataReceived(data: Buffer): void {
    if (data.length > 0) this._queue.push(data);
    if (this._busyReceiving) return;
    this._busyReceiving = true;
    try {
      this._parseQueued();
    } finally {
      this._busyReceiving = false;
    }
  }

  /** @internal Parses queued chunks until paused, stopped, or out of data. */
  protected abstract _parseQueued(): void;

  /** @internal The next at most `max` queued bytes (without copying), or `null` if none. */
  protected _takeChunk(max: number): Buffer | null {
    const chunk = this._queue[0];
    if (chunk === undefined) return null;
    const off = this._queueOffset;
    const end = Math.min(chunk.length, off + max);
    if (end === chunk.length) {
      this._queue.shift();
      this._queueOffset = 0;
      return off === 0 ? chunk : chunk.subarray(off);
    }
    this._queueOffset = end;
    return chunk.subarray(off, end);
  }

  /** @internal Consumes `n` bytes of the first queued chunk (which holds at least `n`). */
  protected _advance(n: number): void {
    const chunk = this._queue[0];
    if (chunk === undefined) return;
    this._queueOffset += n;
    if (this._queueOffset >= chunk.length) {
      this._queue.shift();
      this._queueOffset = 0;
    }
  }

  /** @internal Puts `data` in front of the unparsed chunks. */
  protected _unshiftQueue(data: Buffer): void {
    const first = this._queue[0];
    if (first !== undefined && this._queueOffset > 0) {
      this._queue[0] = first.subarray(this._queueOffset);
      this._queueOffset = 0;
    }
    if (data.length > 0) this._queue.unshift(data);
  }

  /** @internal Removes and returns every unparsed byte. */
  protected _takeQueued(): Buffer {
    this._unshiftQueue(_EMPTY);
    const q = this._queue;
    this._queue = [];
    let total = 0;
    for (const c of q) total += c.length;
    return _join(q, total);
  }

  /** Stops delivering messages, and asks the transport to stop reading. */
  pauseProducing(): void {
    this.paused = true;
    (this.transport as Partial<IPushProducer> | null)?.pauseProducing?.();
  }

  /** Delivers the messages received while paused, and lets the transport read again. */
  resumeProducing(): void {
    this.paused = false;
    (this.transport as Partial<IPushProducer> | null)?.resumeProducing?.();
    this.dataReceived(_EMPTY);
  }

  /** Stops delivering messages for good, and tells the transport to stop. */
  stopProducing(): void {
    this.paused = true;
    (this.transport as Partial<IPushProducer> | null)?.stopProducing?.();
  }
}
