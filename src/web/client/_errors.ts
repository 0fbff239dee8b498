// Errors of the HTTP client, with twisted.web's names: how a request or its response failed.

import { ConnectError, TwistedError } from "../../internet/error.js";
import { Failure } from "../../internet/failure.js";
import type { Headers } from "../_headers.js";
import type { IResponse } from "./_response.js";

/** Anything that can be wrapped in a `Failure` (an error, or a `Failure` already). */
type Reason = Failure | unknown;

function toFailures(reasons: readonly Reason[]): Failure[] {
  return reasons.map((r) => Failure.from(r));
}

function describe(failures: readonly Failure[]): string {
  return failures.map((f) => `${f.type.name}: ${f.getErrorMessage()}`).join("; ");
}

/**
 * Base of the errors that wrap other failures (Twisted's `_WrapperException`): `reasons` lists
 * why, in the order things went wrong (e.g. the connection loss, then the parse error).
 */
export class WrapperError extends TwistedError {
  override readonly code: string = "ERR_HTTP_CLIENT";
  /** The underlying failures. */
  readonly reasons: readonly Failure[];

  constructor(what: string, reasons: readonly Reason[]) {
    const failures = toFailures(reasons);
    super(failures.length > 0 ? `${what}: ${describe(failures)}` : what, {
      cause: failures[0]?.value,
    });
    this.reasons = failures;
  }

  /** True if one of `reasons` is an instance of `type`. */
  hasReason(type: abstract new (...args: any[]) => unknown): boolean {
    return this.reasons.some((f) => f.check(type) !== null);
  }
}

/** The response body was received completely (the reason given to a body protocol). */
export class ResponseDone extends TwistedError {
  override readonly code: string = "ERR_RESPONSE_DONE";
  constructor(message = "Response body fully received") {
    super(message);
  }
}

/**
 * The response body ended with the connection and had no length: it may be complete, or may
 * have been cut short (the reason given to a body protocol for close-delimited bodies).
 */
export class PotentialDataLoss extends TwistedError {
  override readonly code: string = "ERR_POTENTIAL_DATA_LOSS";
  constructor(
    message = "Response body ended with the connection: it may be incomplete (no length given)",
  ) {
    super(message);
  }
}

/**
 * The response could not be received completely: the connection was lost, the peer broke the
 * protocol, or the body was aborted. `response` is the response whose body failed, if the
 * head had arrived.
 */
export class ResponseFailed extends WrapperError {
  override readonly code: string = "ERR_RESPONSE_FAILED";
  /** The response whose body failed, or `null` when it failed before the head. */
  readonly response: IResponse | null;

  constructor(reasons: readonly Reason[], response: IResponse | null = null) {
    super("Response failed", reasons);
    this.response = response;
  }
}

/** The connection ended (or the request was given up) before any byte of a response arrived. */
export class ResponseNeverReceived extends ResponseFailed {
  override readonly code: string = "ERR_RESPONSE_NEVER_RECEIVED";
  constructor(reasons: readonly Reason[]) {
    super(reasons);
    this.message = this.message.replace("Response failed", "Response never received");
  }
}

/** The request was not sent at all: the connection was busy or already closed. */
export class RequestNotSent extends TwistedError {
  override readonly code: string = "ERR_REQUEST_NOT_SENT";
  constructor(message = "Request not sent: the connection is busy or closed") {
    super(message);
  }
}

/** The connection was lost while the request was being sent. */
export class RequestTransmissionFailed extends WrapperError {
  override readonly code: string = "ERR_REQUEST_TRANSMISSION_FAILED";
  constructor(reasons: readonly Reason[]) {
    super("Request transmission failed", reasons);
  }
}

/** The request could not be generated: its body producer failed or broke its length. */
export class RequestGenerationFailed extends WrapperError {
  override readonly code: string = "ERR_REQUEST_GENERATION_FAILED";
  constructor(reasons: readonly Reason[]) {
    super("Request generation failed", reasons);
  }
}

/** A body producer wrote more or fewer bytes than the `length` it announced. */
export class WrongBodyLength extends TwistedError {
  override readonly code: string = "ERR_WRONG_BODY_LENGTH";
}

/** The URI's scheme is not one the agent speaks (only `http` and `https`). */
export class SchemeNotSupported extends TwistedError {
  override readonly code: string = "ERR_SCHEME_NOT_SUPPORTED";
}

/**
 * An HTTP error page: the server answered with status `status` (≥ 400, or a redirect that was
 * not followed — see `PageRedirect`). Twisted's `twisted.web.error.Error`; also exported as
 * `Error` for Twisted users.
 */
export class WebError extends TwistedError {
  override readonly code: string = "ERR_HTTP_STATUS";
  /** The HTTP status code. */
  readonly status: number;
  /** The reason phrase the server sent. */
  readonly phrase: string;
  /** The body of the error page, if it was read. */
  readonly response: Buffer | null;

  constructor(status: number, phrase = "", response: Buffer | null = null) {
    super(`${status} ${phrase}`.trim());
    this.status = status;
    this.phrase = phrase;
    this.response = response;
  }
}

/** A redirect (3xx) that was not followed; `location` is where it pointed. */
export class PageRedirect extends WebError {
  override readonly code: string = "ERR_HTTP_REDIRECT";
  /** The `Location` of the redirect (absolute), or `null` if there was none. */
  readonly location: string | null;

  constructor(
    status: number,
    phrase = "",
    response: Buffer | null = null,
    location: string | null = null,
  ) {
    super(status, phrase, response);
    this.location = location;
    if (location !== null) this.message = `${this.message} to ${location}`;
  }
}

/** More redirects than the limit were met (`redirectLimit`); `location` is the next one. */
export class InfiniteRedirection extends PageRedirect {
  override readonly code: string = "ERR_HTTP_INFINITE_REDIRECTION";
  /** The last redirect response (with `previousResponse` links to the earlier ones). */
  redirectResponse: IResponse | null = null;

  constructor(status: number, phrase: string, location: string | null, limit: number) {
    super(status, phrase, null, location);
    this.message = `Infinite redirection detected: more than ${limit} redirects (last: ${status} to ${location})`;
  }
}

/** A redirect status arrived without a `Location` header. */
export class RedirectWithNoLocation extends WebError {
  override readonly code: string = "ERR_HTTP_REDIRECT_NO_LOCATION";
  /** The URI that answered with the redirect. */
  readonly uri: string;

  constructor(status: number, phrase: string, uri: string) {
    super(status, phrase);
    this.uri = uri;
    this.message = `${status} redirect from ${uri} has no Location header`;
  }
}

/**
 * `readBody` read a body that ended with the connection and had no length: `response` holds
 * what was read (probably all of it).
 */
export class PartialDownloadError extends WebError {
  override readonly code: string = "ERR_PARTIAL_DOWNLOAD";
}

/** What a `TunnelError` knows of the proxy's answer. */
export interface TunnelErrorInit {
  /** The status the proxy answered `CONNECT` with (e.g. 407), if it answered. */
  status?: number | null;
  /** Its reason phrase. */
  phrase?: string;
  /** Its headers (e.g. `Proxy-Authenticate`). */
  headers?: Headers | null;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A proxy did not open the `CONNECT` tunnel asked for: it answered with a status other than
 * 2xx (`status`, e.g. 407 with its `Proxy-Authenticate` in `headers`), broke the protocol, or
 * closed the connection first (`status` is then `null`). A `ConnectError`: the connection to
 * the target was never made.
 */
export class TunnelError extends ConnectError {
  override readonly code: string = "ERR_TUNNEL";
  /** The status of the proxy's answer, or `null` if it gave none. */
  readonly status: number | null;
  /** The reason phrase of the proxy's answer (empty without one). */
  readonly phrase: string;
  /** The headers of the proxy's answer, or `null`. */
  readonly headers: Headers | null;

  constructor(message: string, init: TunnelErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status ?? null;
    this.phrase = init.phrase ?? "";
    this.headers = init.headers ?? null;
  }
}
