// The resource tree: Resource (putChild, getChild, render dispatch), traversal, and error pages.

import { reasonPhrase } from "./_http/_status.js";

/**
 * Returned by a render method that will write the response later (with `request.write()` and
 * `request.finish()`), as in Twisted.
 */
export const NOT_DONE_YET: unique symbol = Symbol("NOT_DONE_YET");

/** A response body as a render method gives it. */
export type Body = string | Uint8Array;

/**
 * What a render method returns: the body (a string is sent as UTF-8), `NOT_DONE_YET`, or —
 * beyond Twisted — a Deferred or Promise of either.
 */
export type RenderResult = Body | typeof NOT_DONE_YET | PromiseLike<Body | typeof NOT_DONE_YET>;

/**
 * The part of a request that resources use; `Request` implements it. Declared here so that
 * resources do not depend on the request's module.
 */
export interface IRenderRequest {
  /** `GET`, `POST`, … */
  method: string;
  /** Path segments already traversed. */
  prepath: string[];
  /** Path segments still to traverse. */
  postpath: string[];
  setResponseCode(code: number, message?: string): void;
  setHeader(name: string, value: string): void;
  getHeader(name: string): string | null;
}

/**
 * A web resource: a node of the URL tree that can render a response and find children.
 * `Site` traverses from its root with `getChildWithDefault` until the path is used up or it
 * reaches a leaf, then calls `render`.
 */
export interface IResource {
  /** A leaf's children are not looked up: it gets the rest of the path in `postpath`. */
  isLeaf: boolean;
  /** The child for one path segment. */
  getChildWithDefault(name: string, request: any): IResource;
  /** Adds a static child. */
  putChild(name: string, child: IResource): void;
  /** Produces the response. */
  render(request: any): RenderResult;
  /** The largest request body this resource (and those below it) accepts, in bytes. */
  maxRequestBodySize?: number;
}

type RenderMethod = (request: any) => RenderResult;

const renderNames = new Map<string, string>();

/** `render_<METHOD>`, without building the string again for every request. */
function renderMethodName(method: string): string {
  let name = renderNames.get(method);
  if (name === undefined) {
    name = `render_${method}`;
    if (renderNames.size < 64) renderNames.set(method, name);
  }
  return name;
}

/**
 * The base of resources, with Twisted's contract: static children with `putChild`, dynamic ones
 * by overriding `getChild`, and `render` dispatching on the method to `render_GET`,
 * `render_POST`, … (HEAD uses `render_GET` when there is no `render_HEAD`; an unknown method
 * gets 405 with an `Allow` header).
 *
 * @example
 * ```ts
 * class Hello extends Resource {
 *   override isLeaf = true;
 *   render_GET(request: Request) {
 *     request.setHeader("Content-Type", "text/plain");
 *     return "hello world";
 *   }
 * }
 * const root = new Resource();
 * root.putChild("hello", new Hello());
 * reactor.listenTCP(8080, new Site(root));
 * ```
 */
export class Resource implements IResource {
  /** True for resources that handle the whole rest of the path themselves. */
  isLeaf = false;
  /** Static children, by path segment. */
  readonly children = new Map<string, IResource>();
  /** The methods `render` allows, when set (otherwise those with a `render_X` method). */
  allowedMethods?: string[];
  /** The largest request body accepted here and below (413 beyond); defaults to the site's. */
  maxRequestBodySize?: number;

  /** Adds a static child for the path segment `name` (`""` is the child for a trailing `/`). */
  putChild(name: string, child: IResource): void {
    this.children.set(name, child);
  }

  /** The static child for `name`, or `undefined`. */
  getStaticChild(name: string): IResource | undefined {
    return this.children.get(name);
  }

  /** The static child for `name` if there is one, else `getChild(name, request)`. */
  getChildWithDefault(name: string, request: any): IResource {
    return this.children.get(name) ?? this.getChild(name, request);
  }

  /** The dynamic child for `name`; the default is a 404 page. Override it. */
  getChild(name: string, request: any): IResource {
    return new NoResource();
  }

  /** The methods this resource answers, for `Allow` in a 405 response. */
  computeAllowedMethods(): string[] {
    if (this.allowedMethods !== undefined) return this.allowedMethods;
    const out = new Set<string>();
    for (
      let o: object | null = this;
      o !== null && o !== Object.prototype;
      o = Object.getPrototypeOf(o)
    ) {
      for (const k of Object.getOwnPropertyNames(o)) {
        if (k.startsWith("render_") && typeof (this as any)[k] === "function") out.add(k.slice(7));
      }
    }
    if (out.has("GET")) out.add("HEAD");
    return [...out].sort();
  }

  /** Dispatches to `render_<METHOD>`. */
  render(request: IRenderRequest): RenderResult {
    const self = this as unknown as Record<string, RenderMethod | undefined>;
    let m = self[renderMethodName(request.method)];
    if (m === undefined && request.method === "HEAD") m = self.render_GET;
    if (typeof m !== "function") {
      const allowed = this.computeAllowedMethods();
      request.setResponseCode(405);
      request.setHeader("Allow", allowed.join(", "));
      request.setHeader("Content-Type", "text/html; charset=utf-8");
      return errorPageHTML(
        405,
        reasonPhrase(405),
        `Your browser approached me (at a URL) with the method "${request.method}". I only allow the method${allowed.length === 1 ? "" : "s"} ${allowed.join(", ")} here.`,
      );
    }
    return m.call(this, request);
  }
}

/**
 * Walks from `resource` along `request.postpath`, moving segments to `request.prepath`, until
 * the path is used up or a leaf is reached; returns the resource found.
 */
export function getChildForRequest(resource: IResource, request: IRenderRequest): IResource {
  while (request.postpath.length > 0 && !resource.isLeaf) {
    const name = request.postpath.shift() as string;
    request.prepath.push(name);
    resource = resource.getChildWithDefault(name, request);
  }
  return resource;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

/** The HTML of an error page (title and detail are escaped). */
export function errorPageHTML(status: number, brief: string, detail: string): string {
  const title = `${status} ${escapeHTML(brief)}`;
  return `<html>\n  <head><title>${title}</title></head>\n  <body>\n    <h1>${escapeHTML(brief)}</h1>\n    <p>${escapeHTML(detail)}</p>\n  </body>\n</html>\n`;
}

/**
 * A resource that answers every request (and every child path) with an error page.
 *
 * @example
 * ```ts
 * root.putChild("gone", new ErrorPage(410, "Gone", "This page was removed."));
 * ```
 */
export class ErrorPage extends Resource {
  constructor(
    /** The status code. */
    readonly code: number,
    /** A short title. */
    readonly brief: string,
    /** A longer explanation. */
    readonly detail: string,
  ) {
    super();
  }

  override render(request: IRenderRequest): RenderResult {
    request.setResponseCode(this.code);
    request.setHeader("Content-Type", "text/html; charset=utf-8");
    return errorPageHTML(this.code, this.brief, this.detail);
  }

  override getChild(name: string, request: any): IResource {
    return this;
  }
}

/** 404 Not Found. */
export class NoResource extends ErrorPage {
  constructor(message = "Sorry. No luck finding that resource.") {
    super(404, "No Such Resource", message);
  }
}

/** 403 Forbidden. */
export class ForbiddenResource extends ErrorPage {
  constructor(message = "Sorry, resource is forbidden.") {
    super(403, "Forbidden Resource", message);
  }
}
