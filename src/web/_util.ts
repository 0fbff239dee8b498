// Small resources: Data, Redirect, redirectTo, and the error pages (defined beside Resource).

import { escapeHTML, type IRenderRequest, Resource } from "./_resource.js";

export {
  ErrorPage,
  errorPageHTML,
  escapeHTML,
  ForbiddenResource,
  NoResource,
} from "./_resource.js";

/**
 * A fixed document (Twisted's `static.Data`): the same bytes and type for every GET.
 *
 * @example
 * ```ts
 * root.putChild("robots.txt", new Data("User-agent: *\nDisallow:\n", "text/plain"));
 * ```
 */
export class Data extends Resource {
  override isLeaf = true;
  /** The body. */
  readonly data: Buffer;

  constructor(
    data: string | Uint8Array,
    /** The `Content-Type`. */
    readonly type: string,
  ) {
    super();
    this.data = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  }

  render_GET(request: IRenderRequest): Buffer {
    request.setHeader("Content-Type", this.type);
    return this.data;
  }
}

/**
 * Sets a redirect to `url` on `request` (302, or `code`) and returns a small HTML page linking
 * to it, to return from `render`.
 */
export function redirectTo(
  url: string,
  request: IRenderRequest & { redirect(url: string, code?: number): void },
  code = 302,
): string {
  request.redirect(url, code);
  request.setHeader("Content-Type", "text/html; charset=utf-8");
  const u = escapeHTML(url);
  return `<!DOCTYPE html>\n<html>\n  <head><meta http-equiv="refresh" content="0;URL=${u}"></head>\n  <body bgcolor="#FFFFFF" text="#000000">\n    <a href="${u}">click here</a>\n  </body>\n</html>\n`;
}

/**
 * Redirects every request to `url` (relative URLs are resolved by the client against the
 * request's URL).
 *
 * @example
 * ```ts
 * root.putChild("old", new Redirect("/new", 301));
 * ```
 */
export class Redirect extends Resource {
  override isLeaf = true;

  constructor(
    readonly url: string,
    readonly code = 302,
  ) {
    super();
  }

  override render(
    request: IRenderRequest & { redirect(url: string, code?: number): void },
  ): string {
    return redirectTo(this.url, request, this.code);
  }
}
