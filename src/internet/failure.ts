// Failure: a thrown value wrapped with its type and traceback, as Deferred errbacks receive it.

type ErrorClass = abstract new (...args: any[]) => unknown;

/**
 * A wrapped error, as passed to errbacks and to `connectionLost`. Any thrown value can be
 * wrapped; non-`Error` values are kept as they are in `value`.
 *
 * @example
 * ```ts
 * d.addErrback((f: Failure) => {
 *   f.trap(ConnectionRefusedError); // re-throws anything else
 *   console.log("refused:", f.getErrorMessage());
 * });
 * ```
 */
export class Failure {
  /** The wrapped value (usually an `Error`). */
  readonly value: unknown;
  /** @internal set once an errback or `Deferred` consumer has seen this failure */
  _handled = false;

  constructor(value?: unknown) {
    if (value instanceof Failure) {
      this.value = value.value;
    } else if (value === undefined) {
      this.value = new Error("Failure created without a value");
    } else {
      this.value = value;
    }
  }

  /** Wraps `value` unless it is already a `Failure`. */
  static from(value: unknown): Failure {
    return value instanceof Failure ? value : new Failure(value);
  }

  /** The class (constructor) of the wrapped value. */
  get type(): Function {
    const v = this.value;
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      return (v as { constructor: Function }).constructor;
    }
    return Object(v).constructor as Function;
  }

  /** The stack trace of the wrapped error, or a one-line description for non-errors. */
  get stack(): string {
    const v = this.value;
    if (v instanceof Error && v.stack) return v.stack;
    return `${this.type.name}: ${this.getErrorMessage()}`;
  }

  /**
   * Returns the first of `types` that the wrapped value is an instance of (or whose `name`
   * matches, for string arguments), or `null`.
   */
  check(...types: (ErrorClass | string)[]): ErrorClass | string | null {
    for (const t of types) {
      if (typeof t === "string") {
        if (this.value instanceof Error && this.value.name === t) return t;
      } else if (this.value instanceof t) {
        return t;
      }
    }
    return null;
  }

  /**
   * Like `check`, but re-throws this failure when none of `types` matches: the idiom for
   * errbacks that handle only some errors.
   */
  trap(...types: (ErrorClass | string)[]): ErrorClass | string {
    const t = this.check(...types);
    if (t === null) throw this;
    return t;
  }

  /** The error's message, or the value's string form. */
  getErrorMessage(): string {
    const v = this.value;
    if (v instanceof Error) return v.message;
    if (typeof v === "string") return v;
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  }

  /** A readable traceback: the stack, plus the chain of `cause`s. */
  getTraceback(): string {
    const lines = [this.stack];
    let cause = this.value instanceof Error ? this.value.cause : undefined;
    let depth = 0;
    while (cause !== undefined && depth < 8) {
      lines.push(
        `Caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
      );
      cause = cause instanceof Error ? cause.cause : undefined;
      depth++;
    }
    return lines.join("\n");
  }

  /** Throws the wrapped value. */
  raiseException(): never {
    throw this.value;
  }

  /** A short description: `[Failure instance: Traceback: <type>: <message>]`. */
  toString(): string {
    return `[Failure instance: ${this.type.name}: ${this.getErrorMessage()}]`;
  }
}
