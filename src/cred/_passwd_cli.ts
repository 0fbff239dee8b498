// Writing password files: setPasswordInFile, removeUserFromFile, and `twist passwd FILE USER`.

import { randomBytes } from "node:crypto";
import { chmod, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { checkUsername, isIgnoredLine } from "./_password_file.js";
import { type HashPasswordOptions, hashPassword } from "./_scrypt.js";

const HEADER = [
  "# twisted-ts password file: one user per line, username:$scrypt$N=…,r=…,p=…$<salt>$<hash>",
  "# Edit with: twist passwd FILE USER",
];

/** Options of {@link setPasswordInFile}. */
export interface SetPasswordOptions extends HashPasswordOptions {
  /** Permissions of a new file (default `0o600`: only the owner can read the hashes). */
  mode?: number;
}

async function readLines(path: string): Promise<{ lines: string[]; mode: number | null }> {
  try {
    const [text, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return { lines, mode: st.mode & 0o7777 };
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return { lines: [], mode: null };
    throw e;
  }
}

function lineUser(line: string): string | null {
  if (isIgnoredLine(line)) return null;
  const colon = line.indexOf(":");
  return colon < 0 ? null : line.slice(0, colon);
}

/** Writes `lines` to `path` through a temporary file and a rename, so readers never see half. */
async function writeLines(path: string, lines: string[], mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, lines.map((l) => `${l}\n`).join(""), { mode, flag: "wx" });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

function checkedUsername(username: string): string {
  const bad = checkUsername(username);
  if (bad !== null) throw new TypeError(`Invalid user name: ${bad}`);
  return username;
}

/**
 * Sets `username`'s password in the password file at `path`: replaces their line (and drops
 * repeated ones) or appends one, keeping comments and other lines as they are. Creates the file
 * (mode `0o600`) if needed. The file is replaced atomically; two writers at once may lose one
 * update. Gives whether the user was `"added"` or `"updated"`.
 *
 * @example
 * ```ts
 * await setPasswordInFile("/etc/twist/users", "alice", "correct horse battery staple");
 * ```
 */
export async function setPasswordInFile(
  path: string,
  username: string,
  password: string | Uint8Array,
  options: SetPasswordOptions = {},
): Promise<"added" | "updated"> {
  checkedUsername(username);
  const { mode: newMode, ...hashOptions } = options;
  const entry = `${username}:${await hashPassword(password, hashOptions)}`;
  const { lines, mode } = await readLines(path);
  let found = false;
  const out: string[] = lines.length === 0 ? [...HEADER] : [];
  for (const line of lines) {
    if (lineUser(line.replace(/\r$/, "")) !== username) out.push(line);
    else if (!found) {
      found = true;
      out.push(entry);
    }
  }
  if (!found) out.push(entry);
  await writeLines(path, out, mode ?? newMode ?? 0o600);
  return found ? "updated" : "added";
}

/** Removes `username`'s line(s) from the password file at `path`; gives whether there were any. */
export async function removeUserFromFile(path: string, username: string): Promise<boolean> {
  const { lines, mode } = await readLines(path);
  const out = lines.filter((line) => lineUser(line.replace(/\r$/, "")) !== username);
  if (out.length === lines.length) return false;
  await writeLines(path, out, mode ?? 0o600);
  return true;
}

/** A readable stream as `passwdMain` needs it (a TTY one has `isTTY` and `setRawMode`). */
export interface PasswdInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** Where `passwdMain` reads and writes (default: the process's standard streams). */
export interface PasswdIO {
  stdin?: PasswdInput;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  /** Hash options (tests use a small `N`). */
  hashOptions?: HashPasswordOptions;
}

/** Help of `twist passwd`. */
export const PASSWD_USAGE = `Usage: twist passwd [options] FILE USER

Sets USER's password in the password file FILE (created if missing), for --auth file:FILE.
The password is read from standard input: typed twice without echo on a terminal, else the
first line.

Options:
  --password PW   take the password from the command line (visible to other local users)
  --delete        remove USER from FILE instead
  -h, --help      show this help`;

class Aborted extends Error {}

/** Reads a line typed on a terminal without echoing it. */
function readHidden(stdin: PasswdInput, out: { write(text: string): unknown }, prompt: string) {
  return new Promise<string>((resolve, reject) => {
    out.write(prompt);
    let typed = "";
    stdin.setRawMode!(true);
    stdin.resume();
    const finish = (error: Error | null) => {
      stdin.removeListener("data", onData);
      stdin.setRawMode!(false);
      stdin.pause();
      out.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003") return finish(new Aborted("Interrupted"));
        if (ch === "\u0004") {
          if (typed === "") return finish(new Aborted("No password given"));
          return finish(null);
        }
        if (ch === "\u007f" || ch === "\b") typed = [...typed].slice(0, -1).join("");
        else typed += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** Reads the first line of a stream that is not a terminal. */
function readFirstLine(stdin: PasswdInput): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | null) => {
      stdin.removeListener("data", onData);
      stdin.removeListener("end", onEnd);
      stdin.removeListener("error", done);
      stdin.pause();
      if (error) return reject(error);
      const text = Buffer.concat(chunks).toString("utf8");
      const nl = text.indexOf("\n");
      resolve((nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, ""));
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      size += b.length;
      if (b.includes(10) || size > 64 * 1024) done(null);
    };
    const onEnd = () => done(null);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", done);
    stdin.resume();
  });
}

async function readPassword(io: PasswdIO, stdin: PasswdInput): Promise<string> {
  const out = io.stdout ?? process.stdout;
  if (stdin.isTTY === true && typeof stdin.setRawMode === "function") {
    const first = await readHidden(stdin, out, "Password: ");
    const again = await readHidden(stdin, out, "Retype password: ");
    if (first !== again) throw new Aborted("Passwords do not match");
    return first;
  }
  return readFirstLine(stdin);
}

/**
 * The `twist passwd FILE USER` command: `argv` is what follows `passwd`. Gives the exit code
 * (0 done, 1 failed, 64 bad command line) and never exits the process itself.
 *
 * @example
 * ```ts
 * process.exitCode = await passwdMain(["--password", "secret", "users.txt", "alice"]);
 * ```
 */
export async function passwdMain(argv: readonly string[], io: PasswdIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let parsed: ReturnType<typeof parseArgsFor>;
  try {
    parsed = parseArgsFor(argv);
  } catch (e) {
    stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${PASSWD_USAGE}\n`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    stdout.write(`${PASSWD_USAGE}\n`);
    return 0;
  }
  const [file, user] = positionals;
  const usage = (message: string) => {
    stderr.write(`${message}\n\n${PASSWD_USAGE}\n`);
    return 64;
  };
  if (file === undefined || user === undefined) return usage("Missing argument: FILE and USER");
  if (positionals.length > 2) return usage(`Unexpected argument: ${positionals[2]}`);
  const bad = checkUsername(user);
  if (bad !== null) return usage(`Invalid user name: ${bad}`);
  try {
    if (values.delete === true) {
      if (values.password !== undefined) return usage("--delete takes no --password");
      const removed = await removeUserFromFile(file, user);
      if (!removed) {
        stderr.write(`No user ${user} in ${file}\n`);
        return 1;
      }
      stdout.write(`Removed user ${user} from ${file}\n`);
      return 0;
    }
    const password = values.password ?? (await readPassword(io, io.stdin ?? process.stdin));
    if (password === "") {
      stderr.write("Empty password: nothing changed\n");
      return 1;
    }
    const how = await setPasswordInFile(file, user, password, io.hashOptions ?? {});
    stdout.write(
      how === "added"
        ? `Added user ${user} to ${file}\n`
        : `Changed password of ${user} in ${file}\n`,
    );
    return 0;
  } catch (e) {
    stderr.write(`twist passwd: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function parseArgsFor(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      password: { type: "string" },
      delete: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
