// Netstring framing (D. J. Bernstein's `<length>:<bytes>,`): NetstringReceiver.

import { TwistedError } from "../internet/error.js";
import { _isDisconnecting, _join, _QueuedReceiver } from "./_framing.js";

/** A peer sent something that is not a netstring (bad length, too long, missing comma). */
export class NetstringParseError extends TwistedError {
  override readonly code: string = "ERR_NETSTRING_PARSE";
}

const COLON = 0x3a;
const COMMA = 0x2c;

/** Parser states: reading the length, the data, then the comma. */
type State = 0 | 1 | 2;
const State = { Length: 0, Data: 1, Comma: 2 } as const;

/**
 * A protocol that receives netstrings (`12:hello world!,`): each string goes to
 * `stringReceived`. A malformed netstring — a length that is not a decimal number without
 * leading zeros, a length over `MAX_LENGTH`, a missing `,` — goes to `handleParseError` as a
 * `NetstringParseError`, which drops the connection and ignores anything received after.
 *
 * Pausable as an `IPushProducer`; once `loseConnection` has been called, no further string is
 * delivered.
 *
 * @example
 * ```ts
 * class Upper extends NetstringReceiver {
 *   override stringReceived(s: Buffer) {
 *     this.sendString(s.toString().toUpperCase());
 *   }
 * }
 * ```
 */
export class NetstringReceiver extends _QueuedReceiver {
  /** The longest string accepted, in bytes. */
  MAX_LENGTH = 99999;
  /** True once the peer sent a malformed netstring: data is then ignored. */
  brokenPeer = false;
  private _state: State = State.Length;
  private _digits = "";
  private _length = 0;
  private _parts: Buffer[] = [];
  private _partsLength = 0;

  /** Called with each string received. Override it. */
  stringReceived(string: Buffer): void {
    throw new Error("NetstringReceiver.stringReceived is not implemented: override it");
  }

  /** Sends `string` as a netstring. */
  sendString(string: Uint8Array | string): void {
    const data = typeof string === "string" ? Buffer.from(string) : string;
    this.tx.writeSequence([`${data.length}:`, data, ","]);
  }

  /**
   * Called when the peer sent a malformed netstring. The default marks the peer as broken (the
   * rest of its data is ignored) and drops the connection.
   */
  handleParseError(error: NetstringParseError): void {
    this.brokenPeer = true;
    this.transport?.loseConnection();
  }

  protected override _parseQueued(): void {
    while (!this.paused && !this.brokenPeer && !_isDisconnecting(this.transport)) {
      if (this._state === State.Length) {
        if (!this._parseLength()) return;
      } else if (this._state === State.Data) {
        while (this._partsLength < this._length) {
          const piece = this._takeChunk(this._length - this._partsLength);
          if (piece === null) return;
          this._parts.push(piece);
          this._partsLength += piece.length;
        }
        this._state = State.Comma;
      } else {
        const c = this._takeChunk(1);
        if (c === null) return;
        if (c[0] !== COMMA) {
          this._fail("Cannot parse netstring: missing comma after the data");
          return;
        }
        const string = _join(this._parts, this._partsLength);
        this._parts = [];
        this._partsLength = 0;
        this._state = State.Length;
        this.stringReceived(string);
      }
    }
  }

  /** Reads length digits up to the colon; false when more data is needed or it failed. */
  private _parseLength(): boolean {
    const chunk = this._queue[0];
    if (chunk === undefined) return false;
    const maxDigits = String(this.MAX_LENGTH).length;
    const start = this._queueOffset;
    // The length is a few bytes: scanning them one by one is cheap and bounded.
    const end = Math.min(chunk.length, start + maxDigits + 1 - this._digits.length);
    let i = start;
    for (; i < end; i++) {
      const c = chunk[i] as number;
      if (c === COLON) break;
      if (c < 0x30 || c > 0x39) {
        this._fail("Cannot parse netstring: the length is not a decimal number");
        return false;
      }
    }
    this._digits += chunk.toString("latin1", start, i);
    if (i === end) {
      this._advance(i - start);
      if (this._digits.length > maxDigits) {
        this._fail(`Cannot parse netstring: the length exceeds MAX_LENGTH (${this.MAX_LENGTH})`);
        return false;
      }
      return true;
    }
    this._advance(i + 1 - start);
    const digits = this._digits;
    this._digits = "";
    if (digits === "") {
      this._fail("Cannot parse netstring: no length before the colon");
      return false;
    }
    if (digits.length > 1 && digits[0] === "0") {
      this._fail("Cannot parse netstring: the length has a leading zero");
      return false;
    }
    const length = Number(digits);
    if (length > this.MAX_LENGTH) {
      this._fail(
        `Cannot parse netstring: length ${length} exceeds MAX_LENGTH (${this.MAX_LENGTH})`,
      );
      return false;
    }
    this._length = length;
    this._state = State.Data;
    return true;
  }

  private _fail(message: string): void {
    this._queue = [];
    this._queueOffset = 0;
    this._parts = [];
    this._partsLength = 0;
    this.handleParseError(new NetstringParseError(message));
  }
}
