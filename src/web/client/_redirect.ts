// RedirectAgent and BrowserLikeRedirectAgent: follow 3xx responses, up to a limit, safely across origins.

import type { Deferred } from "../../internet/defer.js";
import { fail } from "../../internet/defer.js";
import { Headers } from "../_headers.js";
import type { IAgent } from "./_agent.js";
import { InfiniteRedirection, PageRedirect, RedirectWithNoLocation } from "./_errors.js";
import type { IBodyProducer } from "./_producer.js";
import { _discardBody, type IResponse } from "./_response.js";
import { URI } from "./_uri.js";

/** Request headers that carry credentials: never sent to another origin after a redirect. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "cookie2"];
/** Headers that describe a request body: dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "transfer-encoding"];

/** Basic credentials of a URI's userinfo, or `null`. */
function basicCredentials(uri: URI): string | null {
  if (uri.username === "" && uri.password === "") return null;
  return `Basic ${Buffer.from(`${uri.username}:${uri.password}`, "utf8").toString("base64")}`;
}

/**
 * Follows redirects (twisted.web.client.RedirectAgent): `301`, `302`, `307` and `308` are
 * followed with the same method for `GET` and `HEAD` (for other methods they fail with
 * `PageRedirect`: a body cannot be sent twice); `303` is followed with a `GET` without body.
 * After `redirectLimit` redirects the request fails with `InfiniteRedirection`; a redirect
 * without `Location` fails with `RedirectWithNoLocation`. The final response links to the
 * earlier ones through `previousResponse`. The bodies of redirect responses are read and
 * dropped, so that their connections can be reused.
 *
 * Across origins (scheme, host, port) the `Authorization`, `Proxy-Authorization` and `Cookie`
 * headers are not sent on, and userinfo credentials are not carried over.
 *
 * Cancel: cancelling cancels the request in flight (see the wrapped agent); no further
 * redirect is followed.
 *
 * @example
 * ```ts
 * const agent = new RedirectAgent(new Agent(reactor), 10);
 * const response = await agent.request("GET", "http://example.com/old");
 * console.log(response.request?.absoluteURI, response.previousResponse?.code);
 * ```
 */
export class RedirectAgent implements IAgent {
  /** Statuses followed with the same method (GET/HEAD only). */
  protected redirectResponses: readonly number[] = [301, 302, 307, 308];
  /** Statuses followed with a GET. */
  protected seeOtherResponses: readonly number[] = [303];

  constructor(
    /** The agent that makes each request. */
    readonly agent: IAgent,
    /** The most redirects followed. */
    readonly redirectLimit = 20,
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
    const given = headers == null ? new Headers() : headers.copy();
    return this.agent
      .request(method, uri, given, bodyProducer ?? null)
      .addCallback((response) => this.handleResponse(response, method, parsed, given, 0));
  }

  private handleResponse(
    response: IResponse,
    method: string,
    uri: URI,
    headers: Headers,
    count: number,
  ): IResponse | Deferred<IResponse> {
    if (this.seeOtherResponses.includes(response.code)) {
      const next = headers.copy();
      for (const name of BODY_HEADERS) next.removeHeader(name);
      const nextMethod = method === "HEAD" ? "HEAD" : "GET";
      return this.handleRedirect(response, nextMethod, uri, next, count);
    }
    if (this.redirectResponses.includes(response.code)) {
      if (method !== "GET" && method !== "HEAD") {
        _discardBody(response);
        throw new PageRedirect(response.code, response.phrase, null, this.location(response, uri));
      }
      return this.handleRedirect(response, method, uri, headers, count);
    }
    return response;
  }

  private location(response: IResponse, uri: URI): string | null {
    const value = response.headers.getHeader("location");
    if (value === null) return null;
    try {
      return uri.resolve(value).toString();
    } catch {
      return value;
    }
  }

  private handleRedirect(
    response: IResponse,
    method: string,
    uri: URI,
    headers: Headers,
    count: number,
  ): Deferred<IResponse> {
    const value = response.headers.getHeader("location");
    if (value === null) {
      _discardBody(response);
      throw new RedirectWithNoLocation(response.code, response.phrase, uri.toString());
    }
    const target = uri.resolve(value);
    if (count >= this.redirectLimit) {
      _discardBody(response);
      const error = new InfiniteRedirection(
        response.code,
        response.phrase,
        target.toString(),
        this.redirectLimit,
      );
      error.redirectResponse = response;
      throw error;
    }
    const next = headers.copy();
    if (target.origin !== uri.origin) {
      for (const name of CREDENTIAL_HEADERS) next.removeHeader(name);
    } else {
      const credentials = basicCredentials(uri);
      if (credentials !== null && basicCredentials(target) === null) {
        if (!next.hasHeader("authorization")) next.setRawHeaders("Authorization", [credentials]);
      }
    }
    _discardBody(response);
    return this.agent.request(method, target.href, next, null).addCallback((nextResponse) => {
      nextResponse.setPreviousResponse(response);
      return this.handleResponse(nextResponse, method, target, next, count + 1);
    });
  }
}

/**
 * A `RedirectAgent` that redirects as browsers do (twisted.web.client.BrowserLikeRedirectAgent):
 * `301`, `302` and `303` are followed with a `GET` (dropping the body), `307` and `308` with
 * the same method (for `GET`/`HEAD`; other methods fail with `PageRedirect`).
 *
 * Cancel: as for `RedirectAgent`.
 *
 * @example
 * ```ts
 * const agent = new BrowserLikeRedirectAgent(new Agent(reactor));
 * const response = await agent.request("POST", "http://example.com/form", headers, body);
 * ```
 */
export class BrowserLikeRedirectAgent extends RedirectAgent {
  protected override redirectResponses: readonly number[] = [307, 308];
  protected override seeOtherResponses: readonly number[] = [301, 302, 303];
}
