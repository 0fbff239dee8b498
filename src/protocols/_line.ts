// Line framing: LineReceiver (lines and raw data, pausable) and LineOnlyReceiver (lines only).

import { Protocol } from "../internet/protocol.js";
import { _EMPTY, _isDisconnecting, _join, _lastBytes, _QueuedReceiver } from "./_framing.js";

const CRLF = Buffer.from("\r\n");

/**
 * How many bytes of a delimiter that starts in `partial` and ends in `chunk` (read from `off`)
 * lie in `partial`; 0 when no delimiter straddles the two.
 */
function straddlingBytes(
  partial: readonly Buffer[],
  partialLength: number,
  chunk: Buffer,
  off: number,
  delimiter: Buffer,
): number {
  const d = delimiter.length;
  if (d < 2) return 0;
  if (d === 2) {
    // The common case (CRLF), without allocating.
    const last = partial[partial.length - 1] as Buffer;
    return last[last.length - 1] === delimiter[0] && chunk[off] === delimiter[1] ? 1 : 0;
  }
  const k = Math.min(d - 1, partialLength);
  const probe = Buffer.concat([_lastBytes(partial, k), chunk.subarray(off, off + d - 1)]);
  const i = probe.indexOf(delimiter);
  return i >= 0 && i < k ? k - i : 0;
}

/**
 * True when `partial` (which holds no whole delimiter) already proves a line longer than
 * `max`: it holds more than `max` bytes, and the bytes past `max` cannot be the beginning of a
 * delimiter ending a line of exactly `max` bytes.
 */
function exceedsLimit(
  partial: readonly Buffer[],
  partialLength: number,
  max: number,
  delimiter: Buffer,
): boolean {
  const excess = partialLength - max;
  if (excess <= 0) return false;
  if (excess >= delimiter.length) return true;
  return !_lastBytes(partial, excess).equals(delimiter.subarray(0, excess));
}

/**
 * A protocol that receives lines and/or raw data, depending on its mode.
 *
 * In line mode (the default) each line, without its `delimiter`, goes to `lineReceived`; in raw
 * mode (`setRawMode()`) bytes go to `rawDataReceived` as they come. Modes may be switched from
 * inside either callback: the rest of the data is then delivered in the new mode. Changing
 * `delimiter` from `lineReceived` applies to the very next line.
 *
 * A line longer than `MAX_LENGTH` bytes is never buffered: as soon as the data received proves
 * it too long, `lineLengthExceeded` gets what was buffered (and the default drops the
 * connection). Once `loseConnection` has been called, no further line is delivered.
 *
 * As an `IPushProducer`, `pauseProducing()` stops line delivery (and the transport's reading)
 * until `resumeProducing()`.
 *
 * @example
 * ```ts
 * class Shout extends LineReceiver {
 *   override lineReceived(line: Buffer) {
 *     if (line.toString() === "quit") this.tx.loseConnection();
 *     else this.sendLine(line.toString().toUpperCase());
 *   }
 * }
 * reactor.listenTCP(8000, Factory.forProtocol(Shout));
 * ```
 */
export class LineReceiver extends _QueuedReceiver {
  /** The line separator: `\r\n` by default. */
  delimiter: Buffer = CRLF;
  /** The longest line accepted, in bytes (without the delimiter). */
  MAX_LENGTH = 16384;
  /** True in line mode, false in raw mode. */
  lineMode = true;
  /** Bytes of an incomplete line (holding no whole delimiter). */
  private _partial: Buffer[] = [];
  private _partialLength = 0;
  /** The delimiter `_partial` was scanned for. */
  private _partialDelimiter: Buffer = CRLF;

  /** Called with each line received, without its delimiter. Override it. */
  lineReceived(line: Buffer): void {
    throw new Error("LineReceiver.lineReceived is not implemented: override it");
  }

  /** Called with data received in raw mode. Override it to use `setRawMode()`. */
  rawDataReceived(data: Buffer): void {
    throw new Error("LineReceiver.rawDataReceived is not implemented: override it");
  }

  /**
   * Called when a line is longer than `MAX_LENGTH`, with the data buffered so far (the line, and
   * whatever followed it). The default drops the connection.
   */
  lineLengthExceeded(line: Buffer): void {
    this.transport?.loseConnection();
  }

  /** Writes `line` followed by the delimiter. */
  sendLine(line: Uint8Array | string): void {
    this.tx.writeSequence([line, this.delimiter]);
  }

  /** Switches to raw mode: from now on, data goes to `rawDataReceived`. */
  setRawMode(): void {
    this.lineMode = false;
    if (this._partialLength > 0) this._unshiftQueue(this._takePartial());
  }

  /**
   * Switches to line mode. `extra` is data to parse as lines before anything not yet delivered
   * (typically what `rawDataReceived` got beyond the end of its raw section).
   */
  setLineMode(extra?: Uint8Array): void {
    this.lineMode = true;
    if (extra !== undefined && extra.length > 0) {
      this._unshiftQueue(Buffer.isBuffer(extra) ? extra : Buffer.from(extra));
      if (!this._busyReceiving) this.dataReceived(_EMPTY);
    }
  }

  /** Removes and returns every byte received and not yet delivered. */
  clearLineBuffer(): Buffer {
    const partial = this._takePartial();
    const queued = this._takeQueued();
    if (partial.length === 0) return queued;
    if (queued.length === 0) return partial;
    return Buffer.concat([partial, queued]);
  }

  protected override _parseQueued(): void {
    while (!this.paused) {
      if (this.lineMode) {
        if (_isDisconnecting(this.transport) || !this._nextLine()) return;
      } else {
        const data = this._takeChunk(Number.POSITIVE_INFINITY);
        if (data === null) return;
        this.rawDataReceived(data);
      }
    }
  }

  private _takePartial(): Buffer {
    const p = _join(this._partial, this._partialLength);
    this._partial = [];
    this._partialLength = 0;
    return p;
  }

  /**
   * Reads the next line from the queue and delivers it. False when more data is needed or the
   * line was too long; true to go on.
   */
  private _nextLine(): boolean {
    const delimiter = this.delimiter;
    if (this._partialLength > 0 && this._partialDelimiter !== delimiter) {
      // The delimiter changed while part of a line was held: scan it again.
      this._unshiftQueue(this._takePartial());
    }
    const chunk = this._queue[0];
    if (chunk === undefined) return false;
    const off = this._queueOffset;
    if (this._partialLength > 0) {
      const inPartial = straddlingBytes(this._partial, this._partialLength, chunk, off, delimiter);
      if (inPartial > 0) {
        const lineLength = this._partialLength - inPartial;
        const line = this._takePartial().subarray(0, lineLength);
        this._advance(delimiter.length - inPartial);
        return this._deliver(line, delimiter);
      }
    }
    const i = chunk.indexOf(delimiter, off);
    if (i < 0) {
      const rest = this._takeChunk(Number.POSITIVE_INFINITY) as Buffer;
      this._partial.push(rest);
      this._partialLength += rest.length;
      this._partialDelimiter = delimiter;
      if (exceedsLimit(this._partial, this._partialLength, this.MAX_LENGTH, delimiter)) {
        this.lineLengthExceeded(this.clearLineBuffer());
        return false;
      }
      return true;
    }
    let line = chunk.subarray(off, i);
    if (this._partialLength > 0) {
      this._partial.push(line);
      this._partialLength += line.length;
      line = this._takePartial();
    }
    this._advance(i + delimiter.length - off);
    return this._deliver(line, delimiter);
  }

  private _deliver(line: Buffer, delimiter: Buffer): boolean {
    if (line.length > this.MAX_LENGTH) {
      this.lineLengthExceeded(Buffer.concat([line, delimiter, this.clearLineBuffer()]));
      return false;
    }
    this.lineReceived(line);
    return true;
  }
}

/**
 * A faster receiver of lines only: no raw mode, no pausing. Each line, without its `delimiter`,
 * goes to `lineReceived`; a line longer than `MAX_LENGTH` goes to `lineLengthExceeded` (which
 * drops the connection by default). Once `loseConnection` has been called, the lines still
 * buffered are dropped.
 *
 * @example
 * ```ts
 * class Log extends LineOnlyReceiver {
 *   override delimiter = Buffer.from("\n");
 *   override lineReceived(line: Buffer) {
 *     console.log(line.toString());
 *   }
 * }
 * ```
 */
export class LineOnlyReceiver extends Protocol {
  /** The line separator: `\r\n` by default. */
  delimiter: Buffer = CRLF;
  /** The longest line accepted, in bytes (without the delimiter). */
  MAX_LENGTH = 16384;
  private _partial: Buffer[] = [];
  private _partialLength = 0;
  private _partialDelimiter: Buffer = CRLF;

  /** Called with each line received, without its delimiter. Override it. */
  lineReceived(line: Buffer): void {
    throw new Error("LineOnlyReceiver.lineReceived is not implemented: override it");
  }

  /** Called with a line longer than `MAX_LENGTH`. The default drops the connection. */
  lineLengthExceeded(line: Buffer): void {
    this.transport?.loseConnection();
  }

  /** Writes `line` followed by the delimiter. */
  sendLine(line: Uint8Array | string): void {
    this.tx.writeSequence([line, this.delimiter]);
  }

  /** Splits the data received into lines. */
  override dataReceived(data: Buffer): void {
    const delimiter = this.delimiter;
    if (this._partialLength > 0 && this._partialDelimiter !== delimiter) {
      data = Buffer.concat([this._takePartial(), data]);
    }
    let off = 0;
    if (this._partialLength > 0) {
      const inPartial = straddlingBytes(this._partial, this._partialLength, data, 0, delimiter);
      let line: Buffer;
      if (inPartial > 0) {
        const lineLength = this._partialLength - inPartial;
        line = this._takePartial().subarray(0, lineLength);
        off = delimiter.length - inPartial;
      } else {
        const i = data.indexOf(delimiter);
        if (i < 0) {
          this._hold(data, delimiter);
          return;
        }
        this._partial.push(data.subarray(0, i));
        this._partialLength += i;
        line = this._takePartial();
        off = i + delimiter.length;
      }
      if (!this._deliver(line)) return;
    }
    for (;;) {
      const i = data.indexOf(delimiter, off);
      if (i < 0) break;
      const line = data.subarray(off, i);
      off = i + delimiter.length;
      if (!this._deliver(line)) return;
    }
    if (off < data.length) this._hold(off === 0 ? data : data.subarray(off), delimiter);
  }

  private _takePartial(): Buffer {
    const p = _join(this._partial, this._partialLength);
    this._partial = [];
    this._partialLength = 0;
    return p;
  }

  private _hold(rest: Buffer, delimiter: Buffer): void {
    this._partial.push(rest);
    this._partialLength += rest.length;
    this._partialDelimiter = delimiter;
    if (exceedsLimit(this._partial, this._partialLength, this.MAX_LENGTH, delimiter)) {
      this.lineLengthExceeded(this._takePartial());
    }
  }

  private _deliver(line: Buffer): boolean {
    if (_isDisconnecting(this.transport)) return false;
    if (line.length > this.MAX_LENGTH) {
      this.lineLengthExceeded(line);
      return false;
    }
    this.lineReceived(line);
    return true;
  }
}
