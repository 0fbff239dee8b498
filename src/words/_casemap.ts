// IRC case mapping (ISUPPORT CASEMAPPING) and maps keyed by nick or channel name.

/** The case mappings of ISUPPORT `CASEMAPPING`. */
export type CaseMapping = "ascii" | "rfc1459" | "strict-rfc1459";

const UPPER_RFC1459 = /[A-Z[\]\\~]/g;
const UPPER_STRICT = /[A-Z[\]\\]/g;
const UPPER_ASCII = /[A-Z]/g;

const LOWER: Readonly<Record<string, string>> = { "[": "{", "]": "}", "\\": "|", "~": "^" };

function lowerChar(c: string): string {
  return LOWER[c] ?? String.fromCharCode(c.charCodeAt(0) + 32);
}

/**
 * Folds `name` to lower case by `mapping`: `ascii` folds A–Z; `rfc1459` (IRC's default) also
 * folds `[]\~` to `{}|^`; `strict-rfc1459` folds `[]\` but not `~`. Any other mapping name is
 * treated as `rfc1459`.
 *
 * @example
 * ```ts
 * ircLower("Nick[away]", "rfc1459"); // "nick{away}"
 * ```
 */
export function ircLower(name: string, mapping: string = "rfc1459"): string {
  const re =
    mapping === "ascii" ? UPPER_ASCII : mapping === "strict-rfc1459" ? UPPER_STRICT : UPPER_RFC1459;
  return name.replace(re, lowerChar);
}

/** True when `a` and `b` are the same name under `mapping`. */
export function ircEquals(a: string, b: string, mapping: string = "rfc1459"): boolean {
  return a === b || ircLower(a, mapping) === ircLower(b, mapping);
}

/**
 * A `Map` whose string keys compare by IRC case mapping (nicks, channels): `get("NICK")` finds
 * what `set("nick", …)` stored. `keys()` gives the names as last stored.
 *
 * @example
 * ```ts
 * const users = new IRCMap<number>("rfc1459");
 * users.set("Alice[1]", 1);
 * users.get("alice{1}"); // 1
 * ```
 */
export class IRCMap<V> implements Iterable<[string, V]> {
  private readonly entries = new Map<string, [string, V]>();

  constructor(public mapping: string = "rfc1459") {}

  /** The folded form of `key`. */
  fold(key: string): string {
    return ircLower(key, this.mapping);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(this.fold(key))?.[1];
  }

  has(key: string): boolean {
    return this.entries.has(this.fold(key));
  }

  set(key: string, value: V): this {
    this.entries.set(this.fold(key), [key, value]);
    return this;
  }

  delete(key: string): boolean {
    return this.entries.delete(this.fold(key));
  }

  clear(): void {
    this.entries.clear();
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries.values()) yield k;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries.values()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries.values();
  }
}
