// URI: an absolute http(s) URL split into the parts a request needs (twisted.web.client.URI).

import { SchemeNotSupported } from "./_errors.js";

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/**
 * An absolute `http:` or `https:` URI, parsed with the WHATWG URL rules (so the host is
 * lower-cased and IDNA-encoded, and the path percent-encoded, as they go on the wire).
 *
 * @example
 * ```ts
 * const uri = URI.fromString("https://user:pw@Example.com:8443/a b?q=1#top");
 * uri.host;         // "example.com"
 * uri.port;         // 8443
 * uri.originForm;   // "/a%20b?q=1"
 * uri.hostHeader;   // "example.com:8443"
 * ```
 */
export class URI {
  /** `"http"` or `"https"`. */
  readonly scheme: "http" | "https";
  /** The host name or IP address, without brackets for IPv6. */
  readonly host: string;
  /** The port (the scheme's default when the URI has none). */
  readonly port: number;
  /** The path, percent-encoded, at least `/`. */
  readonly path: string;
  /** The query with its `?`, or `""`. */
  readonly query: string;
  /** The fragment with its `#`, or `""` (never sent). */
  readonly fragment: string;
  /** The user name of the userinfo part (decoded), or `""`. */
  readonly username: string;
  /** The password of the userinfo part (decoded), or `""`. */
  readonly password: string;
  private readonly url: URL;

  private constructor(url: URL) {
    const scheme = url.protocol.slice(0, -1);
    if (scheme !== "http" && scheme !== "https") {
      throw new SchemeNotSupported(`Unsupported scheme: ${scheme}`);
    }
    if (url.hostname === "") throw new TypeError(`URI has no host: ${url.href}`);
    this.url = url;
    this.scheme = scheme;
    this.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = url.port === "" ? (DEFAULT_PORTS[scheme] as number) : Number(url.port);
    this.path = url.pathname === "" ? "/" : url.pathname;
    this.query = url.search;
    this.fragment = url.hash;
    this.username = decodeURIComponent(url.username);
    this.password = decodeURIComponent(url.password);
  }

  /**
   * Parses an absolute URI (a string, or bytes as latin1/UTF-8). Raises `SchemeNotSupported`
   * for schemes other than `http`/`https`, and `TypeError` for what is not a URI.
   */
  static fromString(uri: string | Uint8Array): URI {
    const text = typeof uri === "string" ? uri : Buffer.from(uri).toString("utf8");
    let url: URL;
    try {
      url = new URL(text);
    } catch (e) {
      throw new TypeError(`Invalid URI: ${text}`, { cause: e });
    }
    return new URI(url);
  }

  /** Twisted's name for `fromString`. */
  static fromBytes(uri: string | Uint8Array): URI {
    return URI.fromString(uri);
  }

  /** Resolves `reference` (e.g. a `Location` header) against this URI. */
  resolve(reference: string): URI {
    let url: URL;
    try {
      url = new URL(reference, this.url);
    } catch (e) {
      throw new TypeError(`Invalid URI reference: ${reference}`, { cause: e });
    }
    return new URI(url);
  }

  /** The request target in origin form: path and query (`/a?b=c`). */
  get originForm(): string {
    return this.path + this.query;
  }

  /** The request target in absolute form, for proxies: the URI without userinfo or fragment. */
  get absoluteForm(): string {
    return `${this.scheme}://${this.authority}${this.originForm}`;
  }

  /** `host[:port]` as the `Host` header has it: brackets for IPv6, no default port. */
  get hostHeader(): string {
    return this.authority;
  }

  private get authority(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return this.port === DEFAULT_PORTS[this.scheme] ? host : `${host}:${this.port}`;
  }

  /** `scheme://host:port`: what two URIs share when they are the same origin. */
  get origin(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `${this.scheme}://${host}:${this.port}`;
  }

  /** The whole URI as parsed, userinfo and fragment included. */
  get href(): string {
    return this.url.href;
  }

  /** The whole URI without userinfo (fragment included). */
  toString(): string {
    return this.absoluteForm + this.fragment;
  }

  /** The whole URI as bytes (Twisted's `toBytes`). */
  toBytes(): Buffer {
    return Buffer.from(this.toString(), "latin1");
  }
}
