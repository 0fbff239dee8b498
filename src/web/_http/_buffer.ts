// ReceiveBuffer: the bytes received and not yet parsed, grown by doubling, handed out without copies.

const EMPTY = Buffer.alloc(0);

/**
 * A FIFO of received bytes. `append` copies only when earlier bytes are still waiting (a chunk
 * arriving on an empty buffer is kept as it is); `take` returns views that stay valid, because
 * bytes already handed out are never overwritten (growing allocates a new store).
 */
export class ReceiveBuffer {
  private store: Buffer = EMPTY;
  private start = 0;
  private end = 0;

  /** How many bytes are waiting. */
  get length(): number {
    return this.end - this.start;
  }

  /** Adds received bytes at the end. */
  append(data: Buffer): void {
    const n = data.length;
    if (n === 0) return;
    if (this.start === this.end) {
      // Nothing waiting: keep the chunk itself (its spare room, if any, is not ours).
      this.store = data;
      this.foreign = true;
      this.start = 0;
      this.end = n;
      return;
    }
    if (this.foreign || this.end + n > this.store.length) {
      const live = this.end - this.start;
      const grown = Buffer.allocUnsafe(Math.max(4096, 2 * (live + n)));
      this.store.copy(grown, 0, this.start, this.end);
      this.store = grown;
      this.foreign = false;
      this.start = 0;
      this.end = live;
    }
    data.copy(this.store, this.end);
    this.end += n;
  }

  /** True while `store` is a chunk we were given rather than one we allocated. */
  private foreign = false;

  /** Index (from the first waiting byte) of `byte` at or after `from`, or -1. */
  indexOf(byte: number, from = 0): number {
    const i = this.store.indexOf(byte, this.start + from);
    return i < 0 || i >= this.end ? -1 : i - this.start;
  }

  /** The byte at `offset` from the first waiting byte (undefined past the end). */
  at(offset: number): number | undefined {
    const i = this.start + offset;
    return i < this.end ? this.store[i] : undefined;
  }

  /** A view of the waiting bytes `[from, to)`, without consuming them. */
  peek(from: number, to: number): Buffer {
    return this.store.subarray(this.start + from, Math.min(this.start + to, this.end));
  }

  /** Removes and returns the first `n` waiting bytes (a view). */
  take(n: number): Buffer {
    const m = Math.min(n, this.end - this.start);
    const out = this.store.subarray(this.start, this.start + m);
    this.start += m;
    if (this.start === this.end) {
      this.store = EMPTY;
      this.start = 0;
      this.end = 0;
    }
    return out;
  }

  /** Drops the first `n` waiting bytes. */
  skip(n: number): void {
    this.start += Math.min(n, this.end - this.start);
    if (this.start === this.end) {
      this.store = EMPTY;
      this.start = 0;
      this.end = 0;
    }
  }

  /** Removes and returns everything waiting. */
  takeAll(): Buffer {
    return this.take(this.end - this.start);
  }
}
