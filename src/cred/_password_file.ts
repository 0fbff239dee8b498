// Password files (`user:$scrypt$…` lines) and PasswordFileChecker, which re-reads one when it changes.

import { readFile, stat } from "node:fs/promises";
import { Deferred } from "../internet/defer.js";
import {
  type ICredentials,
  type InterfaceTag,
  IUsernamePassword,
  type IUsernamePasswordCredentials,
  providedBy,
} from "./_credentials.js";
import {
  InvalidPasswordHash,
  PasswordFileError,
  type PasswordFileProblem,
  UnauthorizedLogin,
  UnhandledCredentials,
} from "./_errors.js";
import type { AvatarId, ICredentialsChecker } from "./_portal.js";
import {
  _verifyNobody,
  DEFAULT_SCRYPT_PARAMETERS,
  type ParsedPasswordHash,
  parsePasswordHash,
  type ScryptParameters,
  verifyPassword,
} from "./_scrypt.js";

/** The longest user name a password file accepts, in characters. */
export const MAX_USERNAME_LENGTH = 255;

/** One user of a password file. */
export interface PasswordFileEntry {
  readonly username: string;
  readonly hash: ParsedPasswordHash;
  /** 1-based line number. */
  readonly line: number;
}

/** A parsed password file: its users, and its bad lines. */
export interface ParsedPasswordFile {
  readonly entries: ReadonlyMap<string, PasswordFileEntry>;
  readonly problems: readonly PasswordFileProblem[];
}

/**
 * Says what is wrong with `username` as a password-file user name (empty, too long, a `:`,
 * white space or a control character), or `null` when it is fine.
 */
export function checkUsername(username: string): string | null {
  if (username.length === 0) return "Empty user name";
  if (username.length > MAX_USERNAME_LENGTH) {
    return `User name longer than ${MAX_USERNAME_LENGTH} characters`;
  }
  if (username.includes(":")) return "User name contains ':'";
  if (/[\s\p{Cc}]/u.test(username)) return "User name contains white space or a control character";
  return null;
}

/** True for lines that hold no user: blank lines and `#` comments. */
export function isIgnoredLine(line: string): boolean {
  const t = line.trim();
  return t === "" || t.startsWith("#");
}

/**
 * Parses the text of a password file: one `username:$scrypt$N=…,r=…,p=…$<salt>$<hash>` per line;
 * blank lines and lines starting with `#` are ignored. Bad lines (and repeated users: the first
 * line wins) are listed in `problems` with their line numbers; the other lines still count.
 *
 * @example
 * ```ts
 * const { entries, problems } = parsePasswordFile(text, "/etc/twist/users");
 * for (const p of problems) console.warn(`${p.path}:${p.line}: ${p.message}`);
 * ```
 */
export function parsePasswordFile(text: string, path = "<string>"): ParsedPasswordFile {
  const entries = new Map<string, PasswordFileEntry>();
  const problems: PasswordFileProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    if (isIgnoredLine(raw)) continue;
    const line = i + 1;
    const problem = (message: string) => problems.push({ path, line, message });
    const colon = raw.indexOf(":");
    if (colon < 0) {
      problem("Missing ':' between the user name and the password hash");
      continue;
    }
    const username = raw.slice(0, colon);
    const bad = checkUsername(username);
    if (bad !== null) {
      problem(bad);
      continue;
    }
    let hash: ParsedPasswordHash;
    try {
      hash = parsePasswordHash(raw.slice(colon + 1).trimEnd());
    } catch (e) {
      if (!(e instanceof InvalidPasswordHash)) throw e;
      problem(e.message);
      continue;
    }
    const earlier = entries.get(username);
    if (earlier !== undefined) {
      problem(`User ${username} already defined on line ${earlier.line}`);
      continue;
    }
    entries.set(username, { username, hash, line });
  }
  return { entries, problems };
}

/** Options of {@link PasswordFileChecker}. */
export interface PasswordFileCheckerOptions {
  /**
   * Told about bad lines (`path:line: message`) and unreadable files each time the file is
   * (re)loaded. Default: `process.emitWarning`.
   */
  onWarning?: (message: string) => void;
}

interface FileStamp {
  mtimeMs: number;
  ctimeMs: number;
  size: number;
  ino: number;
}

function sameStamp(a: FileStamp | null, b: FileStamp): boolean {
  return (
    a !== null &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    a.size === b.size &&
    a.ino === b.ino
  );
}

function defaultWarning(message: string): void {
  process.emitWarning(message, { code: "TWISTED_TS_PASSWORD_FILE" });
}

/**
 * Checks `IUsernamePassword` credentials against a password file of scrypt hashes (Twisted's
 * `FilePasswordDB`, with a safer format: see `docs/cred.md`). The file is read on first use
 * and again whenever its modification time, size or inode changes, so users can be added with
 * `twist passwd` while the server runs. Checking runs scrypt off the event loop; an unknown user
 * costs one scrypt too, so that the time a login takes does not tell whether a user exists.
 *
 * @example
 * ```ts
 * const portal = new Portal(realm, [new PasswordFileChecker("/etc/twist/users")]);
 * ```
 */
export class PasswordFileChecker implements ICredentialsChecker {
  readonly credentialInterfaces: readonly InterfaceTag[] = [IUsernamePassword];
  /** The bad lines found by the last load. */
  problems: readonly PasswordFileProblem[] = [];
  private entries: ReadonlyMap<string, PasswordFileEntry> = new Map();
  private stamp: FileStamp | null = null;
  private loading: Promise<void> | null = null;
  private dummy: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS;
  private dummyKeyLength = 32;
  private readonly onWarning: (message: string) => void;

  constructor(
    /** The password file's path. */
    readonly path: string,
    options: PasswordFileCheckerOptions = {},
  ) {
    this.onWarning = options.onWarning ?? defaultWarning;
  }

  /**
   * Reads the file if it changed since the last read (or was never read). Rejects with
   * `PasswordFileError` when it cannot be read; bad lines do not make it fail (see `problems`).
   */
  load(): Promise<void> {
    this.loading ??= this.refresh().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** The users currently known, as last read from the file. */
  usernames(): string[] {
    return [...this.entries.keys()];
  }

  private async refresh(): Promise<void> {
    let text: string;
    let stamp: FileStamp;
    try {
      const st = await stat(this.path);
      stamp = { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, size: st.size, ino: st.ino };
      if (sameStamp(this.stamp, stamp)) return;
      text = await readFile(this.path, "utf8");
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new PasswordFileError(`Cannot read password file ${this.path}: ${why}`, [], {
        cause: e,
      });
    }
    const parsed = parsePasswordFile(text, this.path);
    this.entries = parsed.entries;
    this.problems = parsed.problems;
    this.stamp = stamp;
    const first = parsed.entries.values().next();
    // Unknown users are checked with the parameters real users have, to take as long.
    this.dummy = first.done ? DEFAULT_SCRYPT_PARAMETERS : first.value.hash;
    this.dummyKeyLength = first.done ? 32 : first.value.hash.hash.length;
    for (const p of parsed.problems) this.onWarning(`${p.path}:${p.line}: ${p.message}`);
  }

  /**
   * Gives the username when the password matches its hash; fails with `UnauthorizedLogin`
   * otherwise (also when the file cannot be read: the reason is then the error's `cause`).
   * Cancelling does not stop a running scrypt; its outcome is then ignored.
   */
  requestAvatarId(credentials: ICredentials): Deferred<AvatarId> {
    if (!providedBy(IUsernamePassword, credentials)) {
      return Deferred.fromPromise(
        Promise.reject(new UnhandledCredentials("Credentials carry no username and password")),
      );
    }
    return Deferred.fromPromise(this.check(credentials as IUsernamePasswordCredentials));
  }

  private async check(creds: IUsernamePasswordCredentials): Promise<AvatarId> {
    try {
      await this.load();
    } catch (e) {
      this.onWarning(e instanceof Error ? e.message : String(e));
      throw new UnauthorizedLogin(undefined, { cause: e });
    }
    const entry = this.entries.get(creds.username);
    const matched =
      entry !== undefined
        ? await verifyPassword(creds.password, entry.hash)
        : await _verifyNobody(creds.password, this.dummy, this.dummyKeyLength);
    if (matched && entry !== undefined) return entry.username;
    throw new UnauthorizedLogin();
  }
}
