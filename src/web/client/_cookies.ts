// CookieJar (RFC 6265: Set-Cookie parsing, domain/path matching, expiry, Secure) and CookieAgent.

import { isIP } from "node:net";
import type { Deferred } from "../../internet/defer.js";
import { fail } from "../../internet/defer.js";
import { Headers } from "../_headers.js";
import type { IAgent } from "./_agent.js";
import type { IBodyProducer } from "./_producer.js";
import type { IResponse } from "./_response.js";
import { URI } from "./_uri.js";

/** One stored cookie. */
export interface Cookie {
  name: string;
  value: string;
  /** The domain (lower case, no leading dot). */
  domain: string;
  /** Sent only to `domain` itself, not its subdomains (no `Domain` attribute was given). */
  hostOnly: boolean;
  path: string;
  /** Sent only over HTTPS. */
  secure: boolean;
  httpOnly: boolean;
  /** `SameSite` as given (`"strict"`, `"lax"`, `"none"`), or `null`. */
  sameSite: string | null;
  /** Expiry in seconds since the epoch, or `null` for a session cookie. */
  expires: number | null;
  /** When it was first stored (seconds since the epoch). */
  creation: number;
}

/** Options of `CookieJar`. */
export interface CookieJarOptions {
  /** The clock (seconds since the epoch) that expiry is checked against; default the system's. */
  clock?: { seconds(): number };
  /** The most cookies kept per domain (oldest dropped first). Default 50. */
  maxPerDomain?: number;
  /** The most cookies kept in all. Default 3000. */
  maxCookies?: number;
}

const MAX_COOKIE_SIZE = 4096;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DELIMITER = /[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;

/** Parses a cookie date (RFC 6265 §5.1.1, lenient as browsers are); seconds since the epoch, or `null`. */
export function parseCookieDate(text: string): number | null {
  let time: [number, number, number] | null = null;
  let day: number | null = null;
  let month: number | null = null;
  let year: number | null = null;
  for (const token of text.split(DELIMITER)) {
    if (token === "") continue;
    const t = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?$/.exec(token);
    if (time === null && t !== null) {
      time = [Number(t[1]), Number(t[2]), Number(t[3])];
      continue;
    }
    const d = /^(\d{1,2})(?:\D.*)?$/.exec(token);
    if (day === null && d !== null) {
      day = Number(d[1]);
      continue;
    }
    const m = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    if (month === null && m >= 0) {
      month = m;
      continue;
    }
    const y = /^(\d{2,4})(?:\D.*)?$/.exec(token);
    if (year === null && y !== null) {
      year = Number(y[1]);
      if (year >= 70 && year <= 99) year += 1900;
      else if (year >= 0 && year <= 69) year += 2000;
    }
  }
  if (time === null || day === null || month === null || year === null) return null;
  const [hh, mm, ss] = time;
  if (day < 1 || day > 31 || year < 1601 || hh > 23 || mm > 59 || ss > 59) return null;
  const ms = Date.UTC(year, month, day, hh, mm, ss);
  if (new Date(ms).getUTCDate() !== day) return null; // e.g. 31 February
  return ms / 1000;
}

/** The default path of a request path (RFC 6265 §5.1.4). */
function defaultPath(path: string): string {
  if (!path.startsWith("/")) return "/";
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** True if `host` domain-matches `domain` (RFC 6265 §5.1.3). */
export function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  return isIP(host) === 0 && host.endsWith(`.${domain}`);
}

/** True if `requestPath` path-matches `cookiePath` (RFC 6265 §5.1.4). */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/**
 * Cookies received with `Set-Cookie` and sent back with `Cookie`, by the rules of RFC 6265 (as
 * browsers apply them): host-only cookies and `Domain` cookies (refused unless the host is in
 * that domain, and never for a bare top-level name), `Path`, `Expires`/`Max-Age` (on `clock`),
 * `Secure` (only set from and sent over HTTPS), the `__Secure-`/`__Host-` prefixes. Memory is
 * bounded: cookies over 4 KiB are refused, and the oldest are dropped past the limits.
 *
 * @example
 * ```ts
 * const jar = new CookieJar();
 * jar.setCookiesFromResponse("https://example.com/login", ["sid=abc; Path=/; Secure; HttpOnly"]);
 * jar.cookieHeaderFor("https://example.com/account"); // "sid=abc"
 * ```
 */
export class CookieJar implements Iterable<Cookie> {
  private readonly cookies: Cookie[] = [];
  private readonly clock: { seconds(): number };
  private readonly maxPerDomain: number;
  private readonly maxCookies: number;

  constructor(options: CookieJarOptions = {}) {
    this.clock = options.clock ?? { seconds: () => Date.now() / 1000 };
    this.maxPerDomain = options.maxPerDomain ?? 50;
    this.maxCookies = options.maxCookies ?? 3000;
  }

  /** Stores the cookies of `Set-Cookie` header values received from `uri`; invalid ones are ignored. */
  setCookiesFromResponse(uri: URI | string, setCookieValues: readonly string[]): void {
    const parsed = typeof uri === "string" ? URI.fromString(uri) : uri;
    for (const value of setCookieValues) this.setCookieFrom(parsed, value);
  }

  /** Stores one `Set-Cookie` value received from `uri`; returns whether it was kept. */
  setCookieFrom(uri: URI, setCookie: string): boolean {
    if (setCookie.length > MAX_COOKIE_SIZE) return false;
    const [pair = "", ...attributes] = setCookie.split(";");
    const eq = pair.indexOf("=");
    if (eq < 0) return false;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (name === "" || /[\x00-\x1f\x7f]/.test(name + value)) return false;
    const now = this.clock.seconds();
    const host = uri.host.toLowerCase();
    let expires: number | null = null;
    let maxAge: number | null = null;
    let domain = "";
    let path: string | null = null;
    let secure = false;
    let httpOnly = false;
    let sameSite: string | null = null;
    for (const attribute of attributes) {
      const i = attribute.indexOf("=");
      const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
      const arg = i < 0 ? "" : attribute.slice(i + 1).trim();
      if (key === "expires") {
        const when = parseCookieDate(arg);
        if (when !== null) expires = when;
      } else if (key === "max-age") {
        if (/^-?\d+$/.test(arg)) maxAge = Number(arg);
      } else if (key === "domain") {
        if (arg !== "") domain = arg.replace(/^\./, "").toLowerCase();
      } else if (key === "path") {
        path = arg.startsWith("/") ? arg : null;
      } else if (key === "secure") {
        secure = true;
      } else if (key === "httponly") {
        httpOnly = true;
      } else if (key === "samesite") {
        sameSite = arg.toLowerCase();
      }
    }
    if (maxAge !== null) expires = maxAge <= 0 ? Number.NEGATIVE_INFINITY : now + maxAge;
    const domainGiven = domain !== "";
    let hostOnly = true;
    if (domainGiven && domain !== host) {
      // A bare top-level name (no dot) is a public suffix: nobody may set cookies for it all.
      if (!domain.includes(".") || !domainMatch(host, domain)) return false;
      hostOnly = false;
    }
    if (domain === "") domain = host;
    const secureScheme = uri.scheme === "https";
    if (secure && !secureScheme) return false;
    if (name.startsWith("__Secure-") && !(secure && secureScheme)) return false;
    if (name.startsWith("__Host-") && !(secure && secureScheme && !domainGiven && path === "/")) {
      return false;
    }
    const cookiePath = path ?? defaultPath(uri.path);
    const existing = this.cookies.findIndex(
      (c) => c.name === name && c.domain === domain && c.path === cookiePath,
    );
    let creation = now;
    if (existing >= 0) {
      creation = (this.cookies[existing] as Cookie).creation;
      this.cookies.splice(existing, 1);
    }
    if (expires !== null && expires <= now) return false; // an expiry in the past deletes it
    this.cookies.push({
      name,
      value,
      domain,
      hostOnly,
      path: cookiePath,
      secure,
      httpOnly,
      sameSite,
      expires,
      creation,
    });
    this.evict(domain);
    return true;
  }

  private evict(domain: string): void {
    const now = this.clock.seconds();
    for (let i = this.cookies.length - 1; i >= 0; i--) {
      const c = this.cookies[i] as Cookie;
      if (c.expires !== null && c.expires <= now) this.cookies.splice(i, 1);
    }
    const sameDomain = this.cookies.filter((c) => c.domain === domain);
    for (let extra = sameDomain.length - this.maxPerDomain; extra > 0; extra--) {
      this.cookies.splice(this.cookies.indexOf(sameDomain.shift() as Cookie), 1);
    }
    while (this.cookies.length > this.maxCookies) this.cookies.shift();
  }

  /** The cookies to send to `uri`, most specific path first (RFC 6265 §5.4). */
  cookiesFor(uri: URI | string): Cookie[] {
    const parsed = typeof uri === "string" ? URI.fromString(uri) : uri;
    const host = parsed.host.toLowerCase();
    const now = this.clock.seconds();
    return this.cookies
      .filter(
        (c) =>
          (c.hostOnly ? host === c.domain : domainMatch(host, c.domain)) &&
          pathMatch(parsed.path, c.path) &&
          (!c.secure || parsed.scheme === "https") &&
          (c.expires === null || c.expires > now),
      )
      .sort((a, b) => b.path.length - a.path.length || a.creation - b.creation);
  }

  /** The `Cookie` header value for a request to `uri`, or `null` when there is none to send. */
  cookieHeaderFor(uri: URI | string): string | null {
    const cookies = this.cookiesFor(uri);
    if (cookies.length === 0) return null;
    return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  }

  /** Removes cookies: all, or those of `domain` (and `path`, and `name`). */
  clear(domain?: string, path?: string, name?: string): void {
    for (let i = this.cookies.length - 1; i >= 0; i--) {
      const c = this.cookies[i] as Cookie;
      if (domain !== undefined && c.domain !== domain) continue;
      if (path !== undefined && c.path !== path) continue;
      if (name !== undefined && c.name !== name) continue;
      this.cookies.splice(i, 1);
    }
  }

  /** Removes the session cookies (those without an expiry), as at the end of a browser session. */
  clearSessionCookies(): void {
    for (let i = this.cookies.length - 1; i >= 0; i--) {
      if ((this.cookies[i] as Cookie).expires === null) this.cookies.splice(i, 1);
    }
  }

  /** How many cookies are stored (expired ones included until the next change). */
  get size(): number {
    return this.cookies.length;
  }

  [Symbol.iterator](): Iterator<Cookie> {
    return this.cookies.map((c) => ({ ...c }))[Symbol.iterator]();
  }
}

/**
 * Sends the cookies of `cookieJar` with each request (unless a `Cookie` header is given) and
 * stores the ones each response sets (twisted.web.client.CookieAgent). Put it inside a
 * `RedirectAgent` — `new RedirectAgent(new CookieAgent(agent, jar))` — so that every hop of
 * a redirect gets and sets its own cookies.
 *
 * Cancel: as the wrapped agent.
 *
 * @example
 * ```ts
 * const jar = new CookieJar();
 * const agent = new CookieAgent(new Agent(reactor), jar);
 * await agent.request("POST", "https://example.com/login", headers, body);
 * await agent.request("GET", "https://example.com/account"); // sends the session cookie
 * ```
 */
export class CookieAgent implements IAgent {
  constructor(
    /** The agent that makes the requests. */
    readonly agent: IAgent,
    /** Where cookies are kept. */
    readonly cookieJar: CookieJar,
  ) {}

  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<IResponse> {
    let parsed: URI;
    try {
      parsed = URI.fromString(uri);
    } catch (e) {
      return fail(e);
    }
    const sent = headers == null ? new Headers() : headers.copy();
    if (!sent.hasHeader("cookie")) {
      const cookie = this.cookieJar.cookieHeaderFor(parsed);
      if (cookie !== null) sent.setRawHeaders("Cookie", [cookie]);
    }
    return this.agent.request(method, uri, sent, bodyProducer ?? null).addCallback((response) => {
      this.cookieJar.setCookiesFromResponse(
        parsed,
        response.headers.getRawHeaders("set-cookie", []),
      );
      return response;
    });
  }
}
