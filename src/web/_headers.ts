// Headers: a case-insensitive, multi-valued collection of HTTP header fields (twisted.web.http_headers).

/** Names whose canonical form is not plain "Capitalised-Words". */
const SPECIAL_NAMES: Record<string, string> = {
  "content-md5": "Content-MD5",
  dnt: "DNT",
  etag: "ETag",
  p3p: "P3P",
  te: "TE",
  "www-authenticate": "WWW-Authenticate",
  "x-xss-protection": "X-XSS-Protection",
  "x-forwarded-for": "X-Forwarded-For",
  "content-security-policy": "Content-Security-Policy",
};

const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_MAX = 512;

/**
 * The canonical spelling of a header name, as it goes on the wire: `content-type` →
 * `Content-Type`, `etag` → `ETag`.
 */
export function canonicalHeaderName(name: string): string {
  return canonicalOfLower(name.toLowerCase());
}

/** `canonicalHeaderName` of a name already in lower case. */
function canonicalOfLower(lower: string): string {
  const cached = canonicalCache.get(lower);
  if (cached !== undefined) return cached;
  const canonical =
    SPECIAL_NAMES[lower] ??
    lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  if (canonicalCache.size < CANONICAL_CACHE_MAX) canonicalCache.set(lower, canonical);
  return canonical;
}

/** A header name or value as the API takes it: a string (bytes as latin1) or bytes. */
export type HeaderText = string | Uint8Array;

function text(v: HeaderText): string {
  return typeof v === "string" ? v : Buffer.from(v).toString("latin1");
}

function checkValue(name: string, value: string): string {
  // A CR or LF in a value would let a caller inject header lines (response splitting).
  if (/[\r\n\0]/.test(value)) {
    throw new Error(`Invalid header value for ${name}: it contains CR, LF or NUL`);
  }
  return value;
}

/** Names already checked, as given → lower case (most programs use a few names, over and over). */
const checkedNames = new Map<string, string>();
const CHECKED_NAMES_MAX = 512;

/** Checks that `name` is a token and returns it in lower case (the key it is stored under). */
function nameKey(name: string): string {
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new Error(`Invalid header name: ${JSON.stringify(name)}`);
  }
  const key = name.toLowerCase();
  if (checkedNames.size < CHECKED_NAMES_MAX) checkedNames.set(name, key);
  return key;
}

/**
 * HTTP header fields: names are case-insensitive, each name has a list of values in the
 * order they were added. Strings hold bytes as latin1 (as on the wire); bytes are accepted too.
 * Values with CR, LF or NUL are refused, so that no caller can split a message.
 *
 * @example
 * ```ts
 * const h = new Headers({ "Content-Type": ["text/html"] });
 * h.addRawHeader("Set-Cookie", "a=1");
 * h.addRawHeader("set-cookie", "b=2");
 * h.getRawHeaders("SET-COOKIE"); // ["a=1", "b=2"]
 * ```
 */
export class Headers implements Iterable<[string, string[]]> {
  /** Lower-cased name → values. */
  private readonly raw = new Map<string, string[]>();

  /** @param rawHeaders initial headers: name → list of values (or a single value). */
  constructor(rawHeaders?: Record<string, HeaderText | readonly HeaderText[]> | Headers) {
    if (rawHeaders instanceof Headers) {
      for (const [k, v] of rawHeaders.raw) this.raw.set(k, [...v]);
    } else if (rawHeaders !== undefined) {
      for (const [name, values] of Object.entries(rawHeaders)) {
        this.setRawHeaders(name, Array.isArray(values) ? values : [values as HeaderText]);
      }
    }
  }

  /** True if a header `name` is present (with at least one value). */
  hasHeader(name: HeaderText): boolean {
    return this.raw.has(text(name).toLowerCase());
  }

  /** Removes every value of `name`. */
  removeHeader(name: HeaderText): void {
    this.raw.delete(text(name).toLowerCase());
  }

  /** Replaces the values of `name` with `values` (an empty list removes the header). */
  setRawHeaders(name: HeaderText, values: readonly HeaderText[]): void {
    const n = text(name);
    const key = nameKey(n);
    if (values.length === 0) {
      this.raw.delete(key);
      return;
    }
    if (values.length === 1) {
      this.raw.set(key, [checkValue(n, text(values[0] as HeaderText))]);
      return;
    }
    this.raw.set(
      key,
      values.map((v) => checkValue(n, text(v))),
    );
  }

  /** Adds one value to the values of `name`. */
  addRawHeader(name: HeaderText, value: HeaderText): void {
    const n = text(name);
    const key = nameKey(n);
    const v = checkValue(n, text(value));
    const values = this.raw.get(key);
    if (values === undefined) this.raw.set(key, [v]);
    else values.push(v);
  }

  /** The values of `name` (a copy), or `defaultValue` (`undefined` unless given) if absent. */
  getRawHeaders(name: HeaderText): string[] | undefined;
  getRawHeaders<D>(name: HeaderText, defaultValue: D): string[] | D;
  getRawHeaders<D>(name: HeaderText, defaultValue?: D): string[] | D | undefined {
    const values = this.raw.get(text(name).toLowerCase());
    return values === undefined ? defaultValue : [...values];
  }

  /** The last value of `name`, or `null` (Twisted's `request.getHeader`). */
  getHeader(name: HeaderText): string | null {
    const values = this.raw.get(text(name).toLowerCase());
    return values === undefined ? null : (values[values.length - 1] ?? null);
  }

  /** Every header as `[canonical name, values]`, in the order first added. */
  *getAllRawHeaders(): Generator<[string, string[]]> {
    for (const [k, v] of this.raw) yield [canonicalOfLower(k), [...v]];
  }

  /** The same as `getAllRawHeaders()`. */
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.getAllRawHeaders();
  }

  /** How many distinct names are present. */
  get size(): number {
    return this.raw.size;
  }

  /** An independent copy. */
  copy(): Headers {
    return new Headers(this);
  }

  /** `Headers({...})` with the lower-cased names, for messages and debugging. */
  toString(): string {
    const parts = [...this.raw].map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    return `Headers({${parts.join(", ")}})`;
  }

  /**
   * Adds a value without checking it (the engine has validated it already).
   * @internal
   */
  _addTrusted(lowerName: string, value: string): void {
    const values = this.raw.get(lowerName);
    if (values === undefined) this.raw.set(lowerName, [value]);
    else values.push(value);
  }

  /**
   * Replaces the values of a lower-cased name with one value, without checking them (the
   * caller made them).
   * @internal
   */
  _setTrusted(lowerName: string, value: string): void {
    this.raw.set(lowerName, [value]);
  }

  /**
   * The stored values of a lower-cased name, not copied (read only).
   * @internal
   */
  _get(lowerName: string): readonly string[] | undefined {
    return this.raw.get(lowerName);
  }

  /**
   * The `Name: value\r\n` lines, in latin1.
   * @internal
   */
  _serialize(): string {
    let out = "";
    for (const [k, values] of this.raw) {
      const name = canonicalOfLower(k);
      for (const v of values) out += `${name}: ${v}\r\n`;
    }
    return out;
  }
}
