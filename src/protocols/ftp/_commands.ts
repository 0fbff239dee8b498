// FTP commands: control-line framing (Telnet IAC removed), the command table, argument parsers.

import { isIPv4, isIPv6 } from "node:net";
import { BadResponse, CmdArgSyntaxError, InvalidPath } from "./_errors.js";

/** A command line from the client: the verb (upper-cased) and the argument (maybe empty). */
export interface FTPCommand {
  /** The command verb, upper-cased: `"RETR"`. */
  readonly verb: string;
  /** Everything after the first space, as sent (file names may contain spaces). */
  readonly arg: string;
}

/** What a {@link CommandLineParser} gives: a line, or the news that one was too long. */
export type ParsedLine =
  | { readonly type: "LineReceived"; readonly line: Buffer }
  | { readonly type: "LineTooLong" };

const IAC = 0xff;
const DONT = 0xfe;
const WILL = 0xfb;
const SB = 0xfa;
const SE = 0xf0;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits the control connection's bytes into lines (CRLF, or a bare LF) and removes Telnet
 * commands (RFC 854): `IAC IAC` stands for the byte 255, option negotiation (`IAC WILL/WONT/
 * DO/DONT x`) and sub-negotiation are dropped, as are `IAC IP`, `IAC DM` and the other
 * two-byte commands that clients send before `ABOR`. A line longer than `maxLineLength` bytes
 * is reported once (`LineTooLong`) and skipped up to its end, never buffered.
 *
 * @example
 * ```ts
 * const parser = new CommandLineParser();
 * parser.receiveData(Buffer.from("\xff\xf4\xff\xf2ABOR\r\n", "latin1")); // [{ type: "LineReceived", line: <ABOR> }]
 * ```
 */
export class CommandLineParser {
  /** The longest line accepted, in bytes (without its end). */
  readonly maxLineLength: number;
  private line: Buffer;
  private length = 0;
  /** 0: data; 1: after IAC; 2: after IAC WILL/WONT/DO/DONT; 3: in SB; 4: IAC in SB. */
  private telnet = 0;
  private overflow = false;

  constructor(maxLineLength = 4096) {
    this.maxLineLength = maxLineLength;
    this.line = Buffer.allocUnsafe(Math.min(maxLineLength + 1, 512));
  }

  /** Feeds bytes; returns the lines (and overflows) they complete. */
  receiveData(data: Uint8Array): ParsedLine[] {
    const out: ParsedLine[] = [];
    // The common case — no Telnet bytes, a whole line in one chunk — is scanned with indexOf.
    let off = 0;
    const n = data.length;
    while (off < n) {
      if (this.telnet === 0 && !this.overflow) {
        const lf = data.indexOf(LF, off);
        const end = lf < 0 ? n : lf;
        const iac = data.indexOf(IAC, off);
        if (iac < 0 || iac >= end) {
          this.append(data, off, end);
          if (lf < 0) return out;
          this.finishLine(out);
          off = lf + 1;
          continue;
        }
        this.append(data, off, iac);
        this.telnet = 1;
        off = iac + 1;
        continue;
      }
      if (this.overflow && this.telnet === 0) {
        // Skipping the rest of an over-long line: Telnet bytes in it do not matter.
        const lf = data.indexOf(LF, off);
        if (lf < 0) return out;
        this.finishLine(out);
        off = lf + 1;
        continue;
      }
      const b = data[off++]!;
      switch (this.telnet) {
        case 1:
          if (b === IAC) {
            this.telnet = 0;
            if (!this.overflow) this.append(Buffer.of(IAC), 0, 1);
          } else if (b >= WILL && b <= DONT) {
            this.telnet = 2;
          } else if (b === SB) {
            this.telnet = 3;
          } else {
            this.telnet = 0;
          }
          break;
        case 2:
          this.telnet = 0;
          break;
        case 3:
          if (b === IAC) this.telnet = 4;
          break;
        default:
          this.telnet = b === SE ? 0 : 3;
      }
    }
    return out;
  }

  private append(data: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (len <= 0 || this.overflow) return;
    if (this.length + len > this.maxLineLength + 1) {
      // +1: the CR of a line of exactly maxLineLength bytes may arrive before its LF.
      this.overflow = true;
      this.length = 0;
      return;
    }
    if (this.length + len > this.line.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxLineLength + 1, (this.length + len) * 2));
      this.line.copy(bigger, 0, 0, this.length);
      this.line = bigger;
    }
    this.line.set(data.subarray(start, end), this.length);
    this.length += len;
  }

  private finishLine(out: ParsedLine[]): void {
    if (this.overflow) {
      this.overflow = false;
      this.length = 0;
      out.push({ type: "LineTooLong" });
      return;
    }
    let len = this.length;
    if (len > 0 && this.line[len - 1] === CR) len--;
    this.length = 0;
    if (len > this.maxLineLength) {
      out.push({ type: "LineTooLong" });
      return;
    }
    out.push({ type: "LineReceived", line: Buffer.from(this.line.subarray(0, len)) });
  }

  /** Forgets a partial line and any Telnet state (after `AUTH TLS`: nothing sent in clear survives). */
  reset(): void {
    this.length = 0;
    this.telnet = 0;
    this.overflow = false;
  }
}

/**
 * Splits a command line into verb and argument. The verb is upper-cased; the argument is what
 * follows the first space (kept as sent). Lines are UTF-8 (RFC 2640).
 */
export function parseCommandLine(line: Buffer | string): FTPCommand {
  const text = typeof line === "string" ? line : line.toString("utf8");
  const sp = text.indexOf(" ");
  if (sp < 0) return { verb: text.toUpperCase(), arg: "" };
  return { verb: text.slice(0, sp).toUpperCase(), arg: text.slice(sp + 1) };
}

/** How a command takes its argument. */
export type ArgumentRule = "none" | "required" | "optional";

/** What the server knows of a command. */
export interface CommandSpec {
  /** Whether the user must be logged in first. */
  readonly login: boolean;
  /** Whether the command takes an argument. */
  readonly arg: ArgumentRule;
  /** The `HELP` text: the command's syntax. */
  readonly help: string;
}

const spec = (login: boolean, arg: ArgumentRule, help: string): CommandSpec => ({
  login,
  arg,
  help,
});

/** Every command the server implements (RFC 959, 2228, 2389, 2428, 3659, 4217). */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = Object.freeze({
  USER: spec(false, "required", "USER <sp> username"),
  PASS: spec(false, "optional", "PASS <sp> password"),
  ACCT: spec(false, "required", "ACCT <sp> account"),
  AUTH: spec(false, "required", "AUTH <sp> TLS"),
  PBSZ: spec(false, "required", "PBSZ <sp> 0"),
  PROT: spec(false, "required", "PROT <sp> C|P"),
  CCC: spec(false, "none", "CCC (refused)"),
  FEAT: spec(false, "none", "FEAT"),
  OPTS: spec(false, "required", "OPTS <sp> UTF8 ON"),
  SYST: spec(false, "none", "SYST"),
  HELP: spec(false, "optional", "HELP [<sp> command]"),
  NOOP: spec(false, "none", "NOOP"),
  QUIT: spec(false, "none", "QUIT"),
  TYPE: spec(true, "required", "TYPE <sp> A|I"),
  MODE: spec(true, "required", "MODE <sp> S"),
  STRU: spec(true, "required", "STRU <sp> F"),
  PWD: spec(true, "none", "PWD"),
  XPWD: spec(true, "none", "XPWD"),
  CWD: spec(true, "required", "CWD <sp> pathname"),
  XCWD: spec(true, "required", "XCWD <sp> pathname"),
  CDUP: spec(true, "none", "CDUP"),
  XCUP: spec(true, "none", "XCUP"),
  MKD: spec(true, "required", "MKD <sp> pathname"),
  XMKD: spec(true, "required", "XMKD <sp> pathname"),
  RMD: spec(true, "required", "RMD <sp> pathname"),
  XRMD: spec(true, "required", "XRMD <sp> pathname"),
  DELE: spec(true, "required", "DELE <sp> pathname"),
  RNFR: spec(true, "required", "RNFR <sp> pathname"),
  RNTO: spec(true, "required", "RNTO <sp> pathname"),
  PASV: spec(true, "none", "PASV"),
  EPSV: spec(true, "optional", "EPSV [<sp> 1|2|ALL]"),
  PORT: spec(true, "required", "PORT <sp> h1,h2,h3,h4,p1,p2"),
  EPRT: spec(true, "required", "EPRT <sp> |proto|addr|port|"),
  LIST: spec(true, "optional", "LIST [<sp> pathname]"),
  NLST: spec(true, "optional", "NLST [<sp> pathname]"),
  MLSD: spec(true, "optional", "MLSD [<sp> pathname]"),
  MLST: spec(true, "optional", "MLST [<sp> pathname]"),
  SIZE: spec(true, "required", "SIZE <sp> pathname"),
  MDTM: spec(true, "required", "MDTM <sp> pathname"),
  REST: spec(true, "required", "REST <sp> offset"),
  RETR: spec(true, "required", "RETR <sp> pathname"),
  STOR: spec(true, "required", "STOR <sp> pathname"),
  APPE: spec(true, "required", "APPE <sp> pathname"),
  STOU: spec(true, "optional", "STOU [<sp> pathname]"),
  ALLO: spec(true, "required", "ALLO <sp> size"),
  ABOR: spec(false, "none", "ABOR"),
  STAT: spec(false, "optional", "STAT [<sp> pathname]"),
  SITE: spec(true, "required", "SITE <sp> CHMOD mode pathname | HELP"),
});

/** Commands of RFC 959 that the server knows but does not implement (answered 502). */
export const NOT_IMPLEMENTED: ReadonlySet<string> = new Set(["SMNT", "REIN"]);

// Data connection addresses ----------------------------------------------------------------------

/** A host and port of a data connection. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

function parsePortNumber(s: string): number {
  if (!/^\d{1,5}$/.test(s)) throw new CmdArgSyntaxError(`Invalid port: ${s}`);
  const port = Number(s);
  if (port < 1 || port > 65535) throw new CmdArgSyntaxError(`Invalid port: ${s}`);
  return port;
}

/** Parses the argument of `PORT` (`h1,h2,h3,h4,p1,p2`); raises `CmdArgSyntaxError` (501). */
export function parsePortArgument(arg: string): HostPort {
  const parts = arg.trim().split(",");
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new CmdArgSyntaxError(`Invalid PORT argument: ${arg}`);
  }
  const n = parts.map(Number);
  const port = n[4]! * 256 + n[5]!;
  if (port === 0) throw new CmdArgSyntaxError(`Invalid PORT argument: ${arg}`);
  return { host: n.slice(0, 4).join("."), port };
}

/** Parses the argument of `EPRT` (`|1|1.2.3.4|6275|` or `|2|::1|6275|`, RFC 2428). */
export function parseEprtArgument(arg: string): HostPort {
  const d = arg[0];
  if (d === undefined || d.charCodeAt(0) < 33 || d.charCodeAt(0) > 126) {
    throw new CmdArgSyntaxError(`Invalid EPRT argument: ${arg}`);
  }
  const parts = arg.split(d);
  if (parts.length !== 5 || parts[0] !== "" || parts[4] !== "") {
    throw new CmdArgSyntaxError(`Invalid EPRT argument: ${arg}`);
  }
  const [, proto, host, port] = parts as [string, string, string, string, string];
  if (proto === "1" && isIPv4(host)) return { host, port: parsePortNumber(port) };
  if (proto === "2" && isIPv6(host)) return { host, port: parsePortNumber(port) };
  if (proto !== "1" && proto !== "2") {
    throw new CmdArgSyntaxError(`Network protocol not supported, use (1,2): ${proto}`);
  }
  throw new CmdArgSyntaxError(`Invalid EPRT address: ${host}`);
}

/** `PORT`'s argument for an IPv4 `host` and `port`: `h1,h2,h3,h4,p1,p2`. */
export function encodeHostPort(host: string, port: number): string {
  return [...host.split("."), port >> 8, port & 0xff].join(",");
}

/** `EPRT`'s argument: `|1|host|port|` (IPv4) or `|2|host|port|` (IPv6). */
export function encodeExtendedAddress(host: string, port: number): string {
  return `|${isIPv6(host) ? 2 : 1}|${host}|${port}|`;
}

/** Parses a `227` reply text (`Entering Passive Mode (h1,h2,h3,h4,p1,p2)`); raises `BadResponse`. */
export function parsePasvReply(text: string): HostPort {
  const m = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(text);
  if (m === null) throw new BadResponse(`Cannot parse PASV reply: ${text}`);
  const n = m.slice(1).map(Number);
  if (n.some((x) => x > 255)) throw new BadResponse(`Cannot parse PASV reply: ${text}`);
  return { host: n.slice(0, 4).join("."), port: n[4]! * 256 + n[5]! };
}

/** Parses the port out of a `229` reply text (`Entering Extended Passive Mode (|||6446|)`). */
export function parseEpsvReply(text: string): number {
  const m = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new BadResponse(`Cannot parse EPSV reply: ${text}`);
  return port;
}

/** The IPv4 form of an IPv4-mapped IPv6 address (`::ffff:1.2.3.4` → `1.2.3.4`). */
export function unmapHost(host: string): string {
  return host.toLowerCase().startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}

// Paths ------------------------------------------------------------------------------------------

/**
 * Resolves `path` against the working directory `cwd` (both as segments under the user's root):
 * an absolute path starts from the root, `.` is dropped, `..` goes up. Going above the root,
 * or a segment with a NUL byte, raises `InvalidPath` (550), so no FTP path names anything
 * outside the root (Twisted's `toSegments`).
 *
 * @example
 * ```ts
 * toSegments(["pub"], "../etc/motd"); // ["etc", "motd"]
 * toSegments([], "../../etc/passwd"); // throws InvalidPath
 * ```
 */
export function toSegments(cwd: readonly string[], path: string): string[] {
  const segs = path.startsWith("/") ? [] : [...cwd];
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s.includes("\0")) throw new InvalidPath(path);
    if (s === "..") {
      if (segs.length === 0) throw new InvalidPath(path);
      segs.pop();
    } else {
      segs.push(s);
    }
  }
  return segs;
}

/** The FTP path (`/a/b`) of segments. */
export function segmentsToPath(segments: readonly string[]): string {
  return `/${segments.join("/")}`;
}

/** A path quoted for a `257` reply: enclosed in double quotes, inner quotes doubled (RFC 959). */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}

/** Extracts the path of a `257` reply text (`"/a ""b"" c" is current directory`). */
export function unquotePath(text: string): string {
  const m = /^"((?:[^"]|"")*)"/.exec(text.trimStart());
  if (m === null) throw new BadResponse(`Cannot parse path in reply: ${text}`);
  return m[1]!.replace(/""/g, '"');
}
