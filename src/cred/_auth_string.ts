// The `--auth` strings every server plugin takes: memory:user:pw…, file:PATH, anonymous.

import { statSync } from "node:fs";
import { AllowAnonymousAccess, InMemoryUsernamePasswordDatabase } from "./_checkers.js";
import { AuthStringError } from "./_errors.js";
import { PasswordFileChecker, type PasswordFileCheckerOptions } from "./_password_file.js";
import type { ICredentialsChecker } from "./_portal.js";

/** Help text for an `--auth` option, for plugins' `--help`. */
export const AUTH_HELP = [
  "--auth memory:USER:PASSWORD[:USER:PASSWORD…]  users and passwords given inline (tests only)",
  "--auth file:PATH   users and scrypt hashes in a password file (see `twist passwd`)",
  "--auth anonymous   let anyone in without credentials",
].join("\n");

/** Options of {@link parseAuthString}. */
export interface ParseAuthStringOptions {
  /** Options for the checker made by `file:PATH`. */
  passwordFile?: PasswordFileCheckerOptions;
}

function parseMemory(rest: string[]): ICredentialsChecker {
  if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) {
    throw new AuthStringError(
      "Invalid --auth memory: expected user:password pairs, as in memory:alice:secret",
    );
  }
  if (rest.length % 2 !== 0) {
    // Name no field: with a colon inside a password, any field could be part of a password,
    // and --auth strings end up in logs and error reports.
    throw new AuthStringError(
      `Invalid --auth memory: odd number of fields (expected user:password pairs; ${rest.length} fields given, and passwords cannot contain ":")`,
    );
  }
  const checker = new InMemoryUsernamePasswordDatabase();
  for (let i = 0; i < rest.length; i += 2) {
    const user = rest[i]!;
    if (user === "") {
      throw new AuthStringError(`Invalid --auth memory: empty user name in pair ${i / 2 + 1}`);
    }
    if (checker.users.has(user)) {
      throw new AuthStringError(`Invalid --auth memory: user ${user} given twice`);
    }
    checker.addUser(user, rest[i + 1]!);
  }
  return checker;
}

function parseFile(path: string, options: ParseAuthStringOptions): ICredentialsChecker {
  if (path === "") {
    throw new AuthStringError("Invalid --auth file: missing path (expected file:PATH)");
  }
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    const why = (e as { code?: string }).code === "ENOENT" ? "no such file" : "cannot read";
    throw new AuthStringError(`Invalid --auth file: ${why}: ${path}`, { cause: e });
  }
  if (!isFile) throw new AuthStringError(`Invalid --auth file: not a regular file: ${path}`);
  return new PasswordFileChecker(path, options.passwordFile ?? {});
}

/**
 * Turns one `--auth` string into the checkers it names:
 * - `memory:alice:secret[:bob:hunter2…]`: an in-memory user database (for tests and demos);
 * - `file:PATH`: a password file of scrypt hashes, re-read when it changes;
 * - `anonymous`: lets anyone in as `ANONYMOUS`.
 *
 * Raises `AuthStringError` (code `ERR_USAGE`) naming the bad part; its message never contains
 * a password. Register each checker with a `Portal`; two checkers for the same credentials
 * interface do not combine (the later one wins).
 *
 * @example
 * ```ts
 * const portal = new Portal(realm, parseAuthString("memory:alice:secret:bob:hunter2"));
 * ```
 */
export function parseAuthString(
  description: string,
  options: ParseAuthStringOptions = {},
): ICredentialsChecker[] {
  if (description === "") throw new AuthStringError("Empty --auth string");
  const colon = description.indexOf(":");
  const kind = colon < 0 ? description : description.slice(0, colon);
  const arg = colon < 0 ? null : description.slice(colon + 1);
  switch (kind) {
    case "memory":
      return [parseMemory(arg === null ? [] : arg.split(":"))];
    case "file":
      return [parseFile(arg ?? "", options)];
    case "anonymous":
      if (arg !== null) throw new AuthStringError("Invalid --auth anonymous: takes no arguments");
      return [new AllowAnonymousAccess()];
    default:
      throw new AuthStringError(
        `Unknown --auth kind: ${kind || "(empty)"} (expected memory, file or anonymous)`,
      );
  }
}
