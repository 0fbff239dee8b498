// Errors of twisted-ts/cred: failed logins, bad --auth strings, bad password files and hashes.

import { TwistedError, UsageError } from "../internet/error.js";

/**
 * Base class of the ways a login can fail (Twisted's `twisted.cred.error.LoginFailed`).
 *
 * @example
 * ```ts
 * portal.login(creds, null, IMyAvatar).addErrback((f) => {
 *   f.trap(LoginFailed);
 *   transport.write("NO login failed\r\n");
 * });
 * ```
 */
export class LoginFailed extends TwistedError {
  override readonly code: string = "ERR_LOGIN_FAILED";
  constructor(message = "Login failed", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The credentials were not accepted. Checkers raise it for an unknown user and for a wrong
 * password alike, with the same message, so that a client cannot tell which it was.
 */
export class UnauthorizedLogin extends LoginFailed {
  override readonly code: string = "ERR_UNAUTHORIZED_LOGIN";
  constructor(message = "Invalid username or password", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No checker registered with the portal handles this kind of credentials. */
export class UnhandledCredentials extends UnauthorizedLogin {
  override readonly code: string = "ERR_UNHANDLED_CREDENTIALS";
  constructor(message = "No checker for these credentials", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The realm refused a login whose credentials were valid (e.g. an unsupported interface). */
export class LoginDenied extends LoginFailed {
  override readonly code: string = "ERR_LOGIN_DENIED";
  constructor(message = "Login denied", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A malformed `--auth` string: a `UsageError` (code `ERR_USAGE`), so `twist` prints it with the
 * usage and exits with code 64.
 */
export class AuthStringError extends UsageError {}

/** A password hash entry (`$scrypt$…`) that cannot be parsed, or has out-of-range parameters. */
export class InvalidPasswordHash extends TwistedError {
  override readonly code: string = "ERR_INVALID_PASSWORD_HASH";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One bad line of a password file: where it is and what is wrong with it. */
export interface PasswordFileProblem {
  /** The file's path (or `"<string>"` when parsing text). */
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;
  /** What is wrong, e.g. `"Missing ':' after the user name"`. */
  readonly message: string;
}

/** A password file that cannot be read or (with `strict`) has bad lines. */
export class PasswordFileError extends TwistedError {
  override readonly code: string = "ERR_PASSWORD_FILE";
  /** The bad lines, when that is why. */
  readonly problems: readonly PasswordFileProblem[];
  constructor(
    message: string,
    problems: readonly PasswordFileProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.problems = problems;
  }
}
