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

/** One part of a `multipart/form-data` body. */
export interface FormPart {
  /** The field name. */
  name: string;
  /** The file name, for file fields. */
  filename: string | null;
  /** The part's `Content-Type`, if given. */
  contentType: string | null;
  /** The part's bytes. */
  data: Buffer;
}

/** The `boundary` parameter of a `multipart/form-data` content type, or `null`. */
export function multipartBoundary(contentType: string): string | null {
  const m = /^\s*multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(
    contentType,
  );
  return m === null ? null : ((m[1] ?? m[2]) as string);
}

/**
 * Splits a `multipart/form-data` body (RFC 7578) into its parts; parts without a
 * `Content-Disposition: form-data; name=…` are skipped. Returns `null` if the body is not
 * delimited by `boundary`.
 */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | null {
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  let pos = body.indexOf(delimiter);
  if (pos < 0) return null;
  const parts: FormPart[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    const headStart = body.indexOf("\r\n", pos);
    if (headStart < 0) return null;
    const headEnd = body.indexOf("\r\n\r\n", headStart);
    if (headEnd < 0) return null;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`, "latin1"), headEnd + 4);
    if (next < 0) return null;
    const head = body.subarray(headStart + 2, headEnd).toString("utf8");
    let name: string | null = null;
    let filename: string | null = null;
    let contentType: string | null = null;
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      const field = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (field === "content-type") contentType = value;
      if (field === "content-disposition" && /^form-data\b/i.test(value)) {
        name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? /\bname=([^;\s]+)/i.exec(value)?.[1] ?? null;
        filename = /\bfilename="([^"]*)"/i.exec(value)?.[1] ?? null;
      }
    }
    if (name !== null)
      parts.push({ name, filename, contentType, data: body.subarray(headEnd + 4, next) });
    pos = next + 2;
  }
}

let dateSecond = -1;
let dateString = "";

/** The `Date` header for `seconds`, formatted once per second. */
export function httpDate(seconds: number): string {
  const s = Math.floor(seconds);
  if (s !== dateSecond) {
    dateSecond = s;
    dateString = datetimeToString(s);
  }
  return dateString;
}

/** What `parseFormBody` reads a body from (a request's `content`). */
interface ReadableContent {
  readonly length: number;
  read(): Buffer;
  seek(offset: number): number;
}

/**
 * Adds the fields of an urlencoded or `multipart/form-data` body (up to 16 MiB) to `args`, and
 * multipart file parts to `files`. Text fields are UTF-8; file contents keep their bytes
 * (as latin1 in `args`).
 */
export function parseFormBody(
  content: ReadableContent,
  mediaType: string,
  contentType: string,
  args: Record<string, string[]>,
  files: Record<string, FormPart[]>,
): void {
  if (content.length > 16 * 1024 * 1024) return;
  if (mediaType === "application/x-www-form-urlencoded") {
    parseQS(content.read().toString("latin1"), args);
    content.seek(0);
  } else if (mediaType === "multipart/form-data") {
    const boundary = multipartBoundary(contentType);
    const parts = boundary === null ? null : parseMultipart(content.read(), boundary);
    content.seek(0);
    for (const part of parts ?? []) {
      (args[part.name] ??= []).push(part.data.toString(part.filename === null ? "utf8" : "latin1"));
      if (part.filename !== null) (files[part.name] ??= []).push(part);
    }
  }
}

/** The user and password of an HTTP Basic `Authorization` value, or `null`. */
export function parseBasicAuth(
  authorization: string | null,
): { user: string; password: string } | null {
  const m = authorization === null ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (m === null) return null;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when an `If-None-Match` value matches `etag` (weak comparison, or `*`). */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const weak = (t: string) => t.trim().replace(/^W\//, "");
  const tags = ifNoneMatch.split(",").map(weak);
  return tags.includes("*") || tags.includes(weak(etag));
}
