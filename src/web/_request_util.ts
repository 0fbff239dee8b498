// Helpers of requests: HTTP dates, query strings, cookies, path segments.

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Seconds since the epoch as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`). */
export function datetimeToString(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}

/**
 * Parses an HTTP date (IMF-fixdate, RFC 850 or asctime form) to seconds since the epoch;
 * `null` if it is not one.
 */
export function stringToDatetime(value: string): number | null {
  const s = value.trim();
  let m = /^[A-Za-z]{3}, (\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/.exec(s);
  let day: string, month: string, year: number, time: string[];
  if (m !== null) {
    day = m[1] as string;
    month = m[2] as string;
    year = Number(m[3]);
    time = [m[4] as string, m[5] as string, m[6] as string];
  } else if (
    (m = /^[A-Za-z]+, (\d\d)-([A-Za-z]{3})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/.exec(s)) !== null
  ) {
    day = m[1] as string;
    month = m[2] as string;
    const yy = Number(m[3]);
    year = yy < 70 ? 2000 + yy : 1900 + yy;
    time = [m[4] as string, m[5] as string, m[6] as string];
  } else if (
    (m = /^[A-Za-z]{3} ([A-Za-z]{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})$/.exec(s)) !== null
  ) {
    month = m[1] as string;
    day = m[2] as string;
    time = [m[3] as string, m[4] as string, m[5] as string];
    year = Number(m[6]);
  } else {
    return null;
  }
  const mi = MONTHS.findIndex((x) => x.toLowerCase() === month.toLowerCase());
  if (mi < 0) return null;
  const t = Date.UTC(year, mi, Number(day), Number(time[0]), Number(time[1]), Number(time[2]));
  return Number.isNaN(t) ? null : t / 1000;
}

/** Percent-decodes `s` as UTF-8 (`+` as a space when `plus`); bad escapes are kept as they are. */
export function unquote(s: string, plus = false): string {
  const t = plus ? s.replace(/\+/g, " ") : s;
  if (!t.includes("%")) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    // Malformed UTF-8 or escapes: decode byte-wise as latin1 rather than fail the request.
    return t.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) =>
      String.fromCharCode(Number.parseInt(h, 16)),
    );
  }
}

/** Parses a query string (or a form body) into name → values, keeping blank values. */
export function parseQS(
  qs: string,
  into: Record<string, string[]> = Object.create(null),
): Record<string, string[]> {
  if (qs === "") return into;
  for (const part of qs.split(/[&;]/)) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = unquote(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? "" : unquote(part.slice(eq + 1), true);
    const list = into[name];
    if (list === undefined) into[name] = [value];
    else list.push(value);
  }
  return into;
}

/** Parses `Cookie` header values into name → value (the first of each name wins). */
export function parseCookies(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const v of values) {
    for (const part of v.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      let value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.slice(1, -1);
      if (name !== "" && !(name in out)) out[name] = value;
    }
  }
  return out;
}

/** Attributes of a cookie set with `request.addCookie`. */
export interface CookieOptions {
  /** An expiry date (a Date, or an HTTP date string). */
  expires?: Date | string;
  domain?: string;
  path?: string;
  /** Lifetime in seconds. */
  maxAge?: number;
  comment?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: "Strict" | "Lax" | "None";
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const ATTRIBUTE = /^[^\x00-\x1f\x7f;]*$/;

/** A `Set-Cookie` value; refuses names, values and attributes that would break the header. */
export function formatCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!COOKIE_NAME.test(name)) throw new Error(`Invalid cookie name: ${JSON.stringify(name)}`);
  if (!COOKIE_VALUE.test(value)) throw new Error(`Invalid cookie value for ${name}`);
  let out = `${name}=${value}`;
  const attr = (k: string, v: string) => {
    if (!ATTRIBUTE.test(v)) throw new Error(`Invalid cookie attribute ${k} for ${name}`);
    out += `; ${k}=${v}`;
  };
  if (options.expires !== undefined) {
    attr(
      "Expires",
      options.expires instanceof Date
        ? datetimeToString(options.expires.getTime() / 1000)
        : options.expires,
    );
  }
  if (options.domain !== undefined) attr("Domain", options.domain);
  if (options.path !== undefined) attr("Path", options.path);
  if (options.maxAge !== undefined) attr("Max-Age", String(Math.floor(options.maxAge)));
  if (options.comment !== undefined) attr("Comment", options.comment);
  if (options.sameSite !== undefined) attr("SameSite", options.sameSite);
  if (options.secure) out += "; Secure";
  if (options.httpOnly) out += "; HttpOnly";
  return out;
}
