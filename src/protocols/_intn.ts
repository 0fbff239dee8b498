// Length-prefixed framing: Int8/Int16/Int32StringReceiver, and the StatefulStringProtocol mixin.

import { TwistedError } from "../internet/error.js";
import type { ITransport } from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import { _isDisconnecting, _join, _QueuedReceiver } from "./_framing.js";

const log = new Logger("twisted-ts.protocols.basic");

/** `sendString` was given a string too long for the length prefix. */
export class StringTooLongError extends TwistedError {
  override readonly code: string = "ERR_STRING_TOO_LONG";
}

/**
 * The base of protocols whose strings are prefixed by their length as a big-endian unsigned
 * integer of `prefixLength` bytes. Each string goes to `stringReceived`; a length over
 * `MAX_LENGTH` goes to `lengthLimitExceeded` (which drops the connection by default) and the
 * data buffered is discarded. Pausable as an `IPushProducer`; once `loseConnection` has been
 * called, no further string is delivered.
 *
 * Use `Int8StringReceiver`, `Int16StringReceiver` or `Int32StringReceiver`.
 */
export abstract class IntNStringReceiver extends _QueuedReceiver {
  /** Size of the length prefix, in bytes. */
  abstract readonly prefixLength: number;
  /** The longest string accepted, in bytes. */
  MAX_LENGTH = 99999;
  /** Length of the string being received, or -1 while reading a prefix. */
  private _length = -1;
  private _parts: Buffer[] = [];
  private _partsLength = 0;

  /** Called with each string received. Override it. */
  stringReceived(string: Buffer): void {
    throw new Error("IntNStringReceiver.stringReceived is not implemented: override it");
  }

  /** Called when a prefix announces more than `MAX_LENGTH` bytes. Drops the connection. */
  lengthLimitExceeded(length: number): void {
    this.transport?.loseConnection();
  }

  /**
   * Sends `string` with its length prefix. Raises `StringTooLongError` when its length does
   * not fit in the prefix.
   */
  sendString(string: Uint8Array | string): void {
    const data = typeof string === "string" ? Buffer.from(string) : string;
    const n = this.prefixLength;
    if (data.length >= 2 ** (8 * n)) {
      throw new StringTooLongError(
        `Cannot send string: ${data.length} bytes do not fit in a ${n}-byte length prefix`,
      );
    }
    const prefix = Buffer.allocUnsafe(n);
    prefix.writeUIntBE(data.length, 0, n);
    this.tx.writeSequence([prefix, data]);
  }

  protected override _parseQueued(): void {
    const n = this.prefixLength;
    while (!this.paused && !_isDisconnecting(this.transport)) {
      if (this._length < 0) {
        if (!this._gather(n)) return;
        const length = this._take().readUIntBE(0, n);
        if (length > this.MAX_LENGTH) {
          this._queue = [];
          this._queueOffset = 0;
          this.lengthLimitExceeded(length);
          return;
        }
        this._length = length;
      }
      if (!this._gather(this._length)) return;
      const string = this._take();
      this._length = -1;
      this.stringReceived(string);
    }
  }

  /** Moves queued bytes to `_parts` until it holds `n`; false if there are not enough. */
  private _gather(n: number): boolean {
    while (this._partsLength < n) {
      const piece = this._takeChunk(n - this._partsLength);
      if (piece === null) return false;
      this._parts.push(piece);
      this._partsLength += piece.length;
    }
    return true;
  }

  private _take(): Buffer {
    const b = _join(this._parts, this._partsLength);
    this._parts = [];
    this._partsLength = 0;
    return b;
  }
}

/**
 * Strings prefixed by a 1-byte length (at most 255 bytes).
 *
 * @example
 * ```ts
 * class Echo8 extends Int8StringReceiver {
 *   override stringReceived(s: Buffer) { this.sendString(s); }
 * }
 * ```
 */
export class Int8StringReceiver extends IntNStringReceiver {
  /** One byte. */
  readonly prefixLength = 1;
}

/** Strings prefixed by a 2-byte big-endian length (at most 65535 bytes). */
export class Int16StringReceiver extends IntNStringReceiver {
  /** Two bytes. */
  readonly prefixLength = 2;
}

/**
 * Strings prefixed by a 4-byte big-endian length.
 *
 * @example
 * ```ts
 * class Rpc extends Int32StringReceiver {
 *   override MAX_LENGTH = 1 << 20;
 *   override stringReceived(s: Buffer) { this.sendString(handle(s)); }
 * }
 * ```
 */
export class Int32StringReceiver extends IntNStringReceiver {
  /** Four bytes. */
  readonly prefixLength = 4;
}

/** A class whose instances receive strings (an IntN or netstring receiver). */
type StringReceiverClass = abstract new (
  ...args: any[]
) => {
  stringReceived(string: Buffer): void;
  transport: ITransport | null;
};

/**
 * Adds a state machine to a string receiver: each string goes to the method
 * `proto_<state>(string)`, which returns the next state (`"init"` first). Returning `"done"`,
 * or nothing, drops the connection.
 *
 * @example
 * ```ts
 * class Login extends StatefulStringProtocol(Int16StringReceiver) {
 *   proto_init(user: Buffer) { this.user = user; return "password"; }
 *   proto_password(pw: Buffer) { check(this.user, pw); return "done"; }
 * }
 * ```
 */
export function StatefulStringProtocol<T extends StringReceiverClass>(Base: T) {
  abstract class StatefulStringReceiver extends Base {
    /** The current state: strings go to `proto_<state>`. */
    state = "init";

    override stringReceived(string: Buffer): void {
      const handler = (this as unknown as Record<string, unknown>)[`proto_${this.state}`];
      if (typeof handler !== "function") {
        log.warn("No handler for state {state}: define proto_{state}", { state: this.state });
        return;
      }
      const next: unknown = handler.call(this, string);
      this.state = typeof next === "string" ? next : "done";
      if (this.state === "done") this.transport?.loseConnection();
    }
  }
  return StatefulStringReceiver;
}
