// FTP replies: codes (RFC 959 §4.2), formatting of single- and multi-line replies, and parsing.

import { BadResponse } from "./_errors.js";

/**
 * The reply codes the server uses, by Twisted's names (`twisted.protocols.ftp`), with RFC 959
 * numbering. Texts are chosen where the reply is sent.
 */
export const REPLY = Object.freeze({
  RESTART_MARKER_REPLY: 110,
  SERVICE_READY_IN_N_MINUTES: 120,
  DATA_CNX_ALREADY_OPEN_START_XFR: 125,
  FILE_STATUS_OK_OPEN_DATA_CNX: 150,
  CMD_OK: 200,
  CMD_NOT_IMPLMNTD_SUPERFLUOUS: 202,
  SYS_STATUS_OR_HELP_REPLY: 211,
  DIR_STATUS: 212,
  FILE_STATUS: 213,
  HELP_MSG: 214,
  NAME_SYS_TYPE: 215,
  SVC_READY_FOR_NEW_USER: 220,
  SVC_CLOSING_CTRL_CNX: 221,
  DATA_CNX_OPEN_NO_XFR_IN_PROGRESS: 225,
  CLOSING_DATA_CNX: 226,
  ENTERING_PASV_MODE: 227,
  ENTERING_EPSV_MODE: 229,
  USR_LOGGED_IN_PROCEED: 230,
  AUTH_OK: 234,
  REQ_FILE_ACTN_COMPLETED_OK: 250,
  PWD_REPLY: 257,
  USR_NAME_OK_NEED_PASS: 331,
  NEED_ACCT_FOR_LOGIN: 332,
  REQ_FILE_ACTN_PENDING_FURTHER_INFO: 350,
  SVC_NOT_AVAIL_CLOSING_CTRL_CNX: 421,
  CANT_OPEN_DATA_CNX: 425,
  CNX_CLOSED_TXFR_ABORTED: 426,
  REQ_ACTN_ABRTD_FILE_UNAVAIL: 450,
  REQ_ACTN_ABRTD_LOCAL_ERR: 451,
  REQ_ACTN_ABRTD_INSUFF_STORAGE: 452,
  SYNTAX_ERR: 500,
  SYNTAX_ERR_IN_ARGS: 501,
  CMD_NOT_IMPLMNTD: 502,
  BAD_CMD_SEQ: 503,
  CMD_NOT_IMPLMNTD_FOR_PARAM: 504,
  NOT_LOGGED_IN: 530,
  POLICY_REFUSED: 534,
  PROT_LEVEL_NOT_SUPPORTED: 536,
  FILE_NOT_FOUND: 550,
  PAGE_TYPE_UNK: 551,
  EXCEEDED_STORAGE_ALLOC: 552,
  FILENAME_NOT_ALLOWED: 553,
} as const);

/** A reply of the server: its three-digit code and its lines, without the code prefixes. */
export interface FTPReply {
  /** The reply code, e.g. 226. */
  readonly code: number;
  /** The text of each line with the `"226 "`/`"226-"` prefix removed (one entry for a single-line reply). */
  readonly lines: readonly string[];
  /** The reply exactly as received, line by line (prefixes included). */
  readonly raw: readonly string[];
}

/** C0 control characters other than TAB, CR and LF, and DEL. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const CONTROLS = new RegExp(CONTROL.source, "g");

/**
 * Makes `text` safe as one reply line: a client's control bytes (NUL, ESC…) echoed in a reply
 * could drive the user's terminal, so they become `?`; CR and LF inside a name are sent as NUL
 * (RFC 959 encodes an LF in a path name so).
 */
function oneLine(text: string): string {
  let line = CONTROL.test(text) ? text.replace(CONTROLS, "?") : text;
  if (/[\r\n]/.test(line)) line = line.replace(/\r\n|[\r\n]/g, "\0");
  return line;
}

/**
 * Formats a reply. A single line is `CODE text`; several lines (an array, or text with line
 * breaks) become a multi-line reply: `CODE-first`, middle lines indented by a space (so that
 * none can be mistaken for the last), and `CODE last`. CR and LF never survive inside a line
 * (they are sent as NUL), nor do other control characters (sent as `?`).
 *
 * @example
 * ```ts
 * formatReply(211, ["Features:", "EPSV", "End"]); // "211-Features:\r\n EPSV\r\n211 End\r\n"
 * ```
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  if (!Number.isInteger(code) || code < 100 || code > 599) {
    throw new RangeError(`Invalid FTP reply code: ${code}`);
  }
  const lines = typeof text === "string" ? text.split(/\r\n|\n/) : text;
  if (lines.length <= 1) return `${code} ${oneLine(lines[0] ?? "")}\r\n`;
  const out = [`${code}-${oneLine(lines[0]!)}\r\n`];
  for (let i = 1; i < lines.length - 1; i++) out.push(` ${oneLine(lines[i]!)}\r\n`);
  out.push(`${code} ${oneLine(lines[lines.length - 1]!)}\r\n`);
  return out.join("");
}

/** Limits of a {@link ReplyParser}. */
export interface ReplyParserOptions {
  /** The longest line accepted, in bytes. Default 8192. */
  maxLineLength?: number;
  /** The most lines in one multi-line reply. Default 100000 (long STAT and HELP replies). */
  maxLines?: number;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * The sans-I/O reader of server replies (the client side of the control connection): bytes in,
 * complete replies out. Lines end in CRLF (a bare LF is accepted); a multi-line reply starts
 * with `CODE-` and ends with the first line starting with the same `CODE ` (RFC 959 §4.2).
 * Raises `BadResponse` for a line that does not start a reply, or that exceeds the limits.
 *
 * @example
 * ```ts
 * const parser = new ReplyParser();
 * parser.receiveData(Buffer.from("220-Hello\r\n220 Ready\r\n")); // [{ code: 220, lines: ["Hello", "Ready"], … }]
 * ```
 */
export class ReplyParser {
  private readonly maxLineLength: number;
  private readonly maxLines: number;
  private partial: Buffer[] = [];
  private partialLength = 0;
  private current: { code: number; lines: string[]; raw: string[] } | null = null;

  constructor(options: ReplyParserOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? 8192;
    this.maxLines = options.maxLines ?? 100000;
  }

  /** True while part of a reply has been received. */
  get pending(): boolean {
    return this.partialLength > 0 || this.current !== null;
  }

  /** Feeds bytes; returns the replies they complete, in order. */
  receiveData(data: Uint8Array): FTPReply[] {
    const replies: FTPReply[] = [];
    const chunk = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length);
    let off = 0;
    while (off < chunk.length) {
      const i = chunk.indexOf(LF, off);
      if (i < 0) {
        this.partial.push(chunk.subarray(off));
        this.partialLength += chunk.length - off;
        if (this.partialLength > this.maxLineLength) {
          throw new BadResponse(`Reply line longer than ${this.maxLineLength} bytes`);
        }
        break;
      }
      let line = chunk.subarray(off, i);
      off = i + 1;
      if (this.partialLength > 0) {
        line = Buffer.concat([...this.partial, line]);
        this.partial = [];
        this.partialLength = 0;
      }
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length > this.maxLineLength) {
        throw new BadResponse(`Reply line longer than ${this.maxLineLength} bytes`);
      }
      const reply = this.lineReceived(line.toString("utf8"));
      if (reply !== null) replies.push(reply);
    }
    return replies;
  }

  private lineReceived(line: string): FTPReply | null {
    const m = /^([1-5]\d\d)([ -]|$)/.exec(line);
    const current = this.current;
    if (current === null) {
      if (m === null)
        throw new BadResponse(`Cannot parse reply: ${JSON.stringify(line.slice(0, 80))}`);
      const code = Number(m[1]);
      const text = line.slice(4);
      if (m[2] === "-") {
        this.current = { code, lines: [text], raw: [line] };
        return null;
      }
      return { code, lines: [text], raw: [line] };
    }
    current.raw.push(line);
    if (m !== null && Number(m[1]) === current.code && m[2] !== "-") {
      current.lines.push(line.slice(4));
      this.current = null;
      return current;
    }
    if (current.raw.length >= this.maxLines) {
      throw new BadResponse(`Multi-line reply longer than ${this.maxLines} lines`);
    }
    // Middle lines: "CODE-text" (a common style) loses its prefix; others keep their text.
    current.lines.push(m !== null && Number(m[1]) === current.code ? line.slice(4) : line);
    return null;
  }
}

/** The kind of a reply code: 1 preliminary, 2 completion, 3 intermediate, 4 transient, 5 permanent. */
export function replyKind(code: number): 1 | 2 | 3 | 4 | 5 {
  return Math.floor(code / 100) as 1 | 2 | 3 | 4 | 5;
}
