// Listings: LIST lines (ls -l style), their parser, MLSD/MLST facts (RFC 3659), MDTM times.

import type { Failure } from "../../internet/failure.js";
import { Protocol } from "../../internet/protocol.js";
import type { FTPFileInfo } from "./_shell.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function permissionString(info: FTPFileInfo): string {
  const kind =
    info.type === "dir" ? "d" : info.type === "link" ? "l" : info.type === "other" ? "?" : "-";
  const p = info.permissions;
  let s = kind;
  for (const shift of [6, 3, 0]) {
    const bits = (p >> shift) & 7;
    s += (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") + (bits & 1 ? "x" : "-");
  }
  return s;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/**
 * One line of a `LIST` reply, as `ls -l` prints it: permissions, links, owner, group, size, date
 * (`Mon DD HH:MM` within six months of `now`, `Mon DD  YYYY` otherwise, in UTC) and name
 * (`name -> target` for a link).
 *
 * @example
 * ```ts
 * formatListLine({ name: "a.txt", type: "file", size: 5, modified: 0, permissions: 0o644,
 *   hardlinks: 1, owner: "ftp", group: "ftp" }, 1e9);
 * // "-rw-r--r--    1 ftp      ftp             5 Jan 01  1970 a.txt"
 * ```
 */
export function formatListLine(info: FTPFileInfo, now: number): string {
  const d = new Date(info.modified * 1000);
  const recent = Math.abs(now - info.modified) < 180 * 86400;
  const when = recent
    ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`
    : ` ${d.getUTCFullYear()}`;
  const date = `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${when}`;
  const name =
    info.type === "link" && info.target !== undefined
      ? `${info.name} -> ${info.target}`
      : info.name;
  return [
    permissionString(info),
    String(info.hardlinks).padStart(4),
    info.owner.padEnd(8),
    info.group.padEnd(8),
    String(info.size).padStart(8),
    date,
    name,
  ].join(" ");
}

/** A time in seconds as `YYYYMMDDHHMMSS` (UTC), the form of `MDTM` replies and `modify` facts. */
export function formatTimeValue(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  return (
    String(d.getUTCFullYear()).padStart(4, "0") +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

/** Parses `YYYYMMDDHHMMSS[.sss]` (UTC) into seconds since the epoch; `null` if malformed. */
export function parseTimeValue(value: string): number | null {
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?$/.exec(value.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(ms) ? null : ms / 1000 + (frac === undefined ? 0 : Number(frac));
}

/** The `perm` fact of an entry (RFC 3659 §7.5.5). */
function permFact(info: FTPFileInfo, writable: boolean): string {
  if (info.type === "dir") return writable ? "flcdmpe" : "el";
  return writable ? "adfrw" : "r";
}

/**
 * The facts and name of an `MLSD` line or `MLST` entry: `type=file;size=5;modify=…;perm=r;
 * unix.mode=0644; name`.
 */
export function formatMlsxLine(info: FTPFileInfo, writable: boolean, type?: string): string {
  const facts = [
    `type=${type ?? (info.type === "dir" || info.type === "file" ? info.type : `OS.unix=${info.type}`)}`,
    `size=${info.size}`,
    `modify=${formatTimeValue(info.modified)}`,
    `perm=${permFact(info, writable)}`,
    `unix.mode=0${(info.permissions & 0o7777).toString(8)}`,
  ];
  return `${facts.join(";")}; ${info.name}`;
}

/** An entry of an `MLSD` listing: its name and facts (fact names lower-cased). */
export interface MlsxEntry {
  readonly name: string;
  readonly facts: Readonly<Record<string, string>>;
}

/** Parses one `MLSD` line (or `MLST` entry): `fact=value;…; name`. Returns `null` if malformed. */
export function parseMlsxLine(line: string): MlsxEntry | null {
  const text = line.replace(/\r$/, "").replace(/^ /, "");
  const sp = text.indexOf(" ");
  if (sp < 0) return null;
  const facts: Record<string, string> = {};
  for (const fact of text.slice(0, sp).split(";")) {
    if (fact === "") continue;
    const eq = fact.indexOf("=");
    if (eq <= 0) return null;
    facts[fact.slice(0, eq).toLowerCase()] = fact.slice(eq + 1);
  }
  return { name: text.slice(sp + 1), facts };
}

/** An entry of a Unix-style `LIST` listing, as `FTPFileListProtocol` parses it. */
export interface UnixListEntry {
  /** `d`, `-`, `l`, … */
  readonly filetype: string;
  /** The nine permission characters, e.g. `rw-r--r--`. */
  readonly perms: string;
  readonly nlinks: number;
  readonly owner: string;
  readonly group: string;
  readonly size: number;
  /** The date as listed (`Jan 01 12:00` or `Jan 01  2020`). */
  readonly date: string;
  readonly filename: string;
  /** For links: the target. */
  readonly linktarget?: string;
}

const LIST_LINE =
  /^(.)([-rwxsStTl]{9})[.+@]?\s+(\d*)\s*(\S+)\s+(\S+)\s+(\d+)\s+(\S{3}\s+\d{1,2}\s+(?:\d{1,2}:\d\d|\d{4}))\s(.+?)(?: -> (.*))?$/;

/**
 * Parses one line of a Unix-style listing (`ls -l` output, as most servers send); `null` for
 * lines that are not entries (`total 12`, blank lines).
 *
 * @example
 * ```ts
 * parseUnixListLine("-rw-r--r--   1 ftp ftp  5 Jan 01  2020 a b.txt")?.filename; // "a b.txt"
 * ```
 */
export function parseUnixListLine(line: string): UnixListEntry | null {
  const m = LIST_LINE.exec(line.replace(/\r$/, ""));
  if (m === null) return null;
  const [, filetype, perms, nlinks, owner, group, size, date, name, target] =
    m as unknown as string[];
  const entry = {
    filetype: filetype!,
    perms: perms!,
    nlinks: nlinks === "" ? 0 : Number(nlinks),
    owner: owner!,
    group: group!,
    size: Number(size),
    date: date!,
    filename: name!,
  };
  return target !== undefined && filetype === "l" ? { ...entry, linktarget: target } : entry;
}

/**
 * A protocol for a `LIST` data connection that parses the listing (Twisted's
 * `FTPFileListProtocol`): `files` holds the entries, `unknownLine` gets the rest.
 *
 * @example
 * ```ts
 * const listing = new FTPFileListProtocol();
 * await client.list("pub", listing);
 * for (const f of listing.files) console.log(f.filename, f.size);
 * ```
 */
export class FTPFileListProtocol extends Protocol {
  /** The entries parsed so far. */
  readonly files: UnixListEntry[] = [];
  private buffer = "";
  private readonly decoder = new TextDecoder("utf-8");

  override dataReceived(data: Buffer): void {
    this.buffer += this.decoder.decode(data, { stream: true });
    let nl = this.buffer.indexOf("\n");
    while (nl >= 0) {
      this.lineReceived(this.buffer.slice(0, nl).replace(/\r$/, ""));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf("\n");
    }
  }

  /** Parses one line of the listing. */
  lineReceived(line: string): void {
    const entry = parseUnixListLine(line);
    if (entry === null) this.unknownLine(line);
    else this.addFile(entry);
  }

  /** Called with each entry; adds it to `files`. */
  addFile(entry: UnixListEntry): void {
    this.files.push(entry);
  }

  /** Called with each line that is not an entry (`total 8`…). Ignores it by default. */
  unknownLine(line: string): void {}

  override connectionLost(reason: Failure): void {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    if (rest !== "") this.lineReceived(rest.replace(/\r$/, ""));
    super.connectionLost(reason);
  }
}
