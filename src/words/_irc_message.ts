// The IRC message engine, sans I/O: bytes in → messages out, messages in → bytes out.

import { isUtf8 } from "node:buffer";

/** Longest message body in bytes, `\r\n` included (RFC 1459). */
export const MAX_BODY_BYTES = 512;
/** Longest tags section in bytes, the leading `@` and the trailing space included (IRCv3). */
export const MAX_TAG_BYTES = 8191;

/**
 * One IRC message: IRCv3 tags, the prefix (source), the command (a word in upper case or a
 * 3-digit numeric) and the parameters (the trailing one without its `:`).
 */
export interface IRCMessage {
  /** Tags by key, unescaped; a tag sent without a value maps to `""`. */
  readonly tags: ReadonlyMap<string, string>;
  /** The source (`nick!user@host` or a server name) without its `:`, or `null`. */
  readonly prefix: string | null;
  /** The command in upper case, or a 3-digit numeric. */
  readonly command: string;
  /** The parameters, decoded as UTF-8 (latin-1 for a parameter that is not valid UTF-8). */
  readonly params: readonly string[];
  /**
   * The parameters' bytes, present only when some parameter was not valid UTF-8 (so that a
   * relay can send the very bytes it received).
   */
  readonly rawParams?: readonly Buffer[];
}

/** What `formatMessage` takes: an `IRCMessage`, or parts of one. */
export interface IRCMessageInput {
  tags?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null;
  prefix?: string | null;
  command: string;
  params?: readonly (string | Uint8Array)[];
}

/** The caller misused the engine (an unsendable message); `code` is `ERR_IRC_LOCAL`. */
export class LocalProtocolError extends Error {
  readonly code = "ERR_IRC_LOCAL";
  constructor(message: string) {
    super(message);
    this.name = "LocalProtocolError";
  }
}

/**
 * The peer sent something that is not IRC; `numeric` is the reply a server answers with
 * (`417` for a line too long), or `null` when the line is just dropped.
 */
export class RemoteProtocolError extends Error {
  readonly code = "ERR_IRC_REMOTE";
  constructor(
    message: string,
    readonly numeric: string | null = null,
  ) {
    super(message);
    this.name = "RemoteProtocolError";
  }
}

/** A complete message arrived. */
export interface MessageReceived {
  readonly type: "MessageReceived";
  readonly message: IRCMessage;
}

/**
 * A line over the limits was dropped: `part` says which limit (`"tags"`, `"body"`, or `"line"`
 * for a line that grew past both limits without ending; the rest of it is skipped).
 */
export interface LineTooLong {
  readonly type: "LineTooLong";
  readonly part: "tags" | "body" | "line";
  /** Bytes of the part (for `"line"`: one more than both limits together). */
  readonly length: number;
}

/** A line that is not an IRC message was dropped. */
export interface LineMalformed {
  readonly type: "LineMalformed";
  readonly reason: string;
  readonly line: Buffer;
}

/** What `IRCMessageParser.receiveData` gives. */
export type IRCParseEvent = MessageReceived | LineTooLong | LineMalformed;

/** Options of `IRCMessageParser`. */
export interface IRCMessageParserOptions {
  /** Longest body, `\r\n` included (default 512). */
  maxBodyBytes?: number;
  /** Longest tags section (default 8191). */
  maxTagBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COMMAND = /^(?:[A-Za-z]+|\d{3})$/;

const UNESCAPES: Readonly<Record<string, string>> = {
  ":": ";",
  s: " ",
  "\\": "\\",
  r: "\r",
  n: "\n",
};

/**
 * Unescapes an IRCv3 tag value: `\:` → `;`, `\s` → space, `\\` → `\`, `\r`, `\n`; any other
 * escaped character stands for itself and a lone trailing `\` is dropped.
 */
export function unescapeTagValue(value: string): string {
  if (!value.includes("\\")) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break;
    out += UNESCAPES[next] ?? next;
  }
  return out;
}

/** Escapes a tag value for sending (the inverse of `unescapeTagValue`). */
export function escapeTagValue(value: string): string {
  return value.replace(/[;\\ \r\n]/g, (c) =>
    c === ";" ? "\\:" : c === " " ? "\\s" : c === "\\" ? "\\\\" : c === "\r" ? "\\r" : "\\n",
  );
}

function decode(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString("utf8") : bytes.toString("latin1");
}

function parseTags(section: Buffer): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of decode(section).split(";")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === "" || key === "+") continue;
    tags.set(key, eq < 0 ? "" : unescapeTagValue(item.slice(eq + 1)));
  }
  return tags;
}

/** Splits a body, decoded one byte per character, into prefix, command and parameters. */
function splitBody(text: string): { prefix: string | null; command: string; params: string[] } {
  let i = 0;
  const n = text.length;
  let prefix: string | null = null;
  if (text[0] === ":") {
    const sp = text.indexOf(" ");
    if (sp < 0) throw new RemoteProtocolError("Cannot parse message: prefix without command");
    prefix = text.slice(1, sp);
    i = sp;
  }
  while (text[i] === " ") i++;
  let end = text.indexOf(" ", i);
  if (end < 0) end = n;
  const command = text.slice(i, end);
  if (!COMMAND.test(command)) {
    throw new RemoteProtocolError(
      command === "" ? "Cannot parse message: no command" : "Cannot parse message: bad command",
    );
  }
  const params: string[] = [];
  i = end;
  while (i < n) {
    while (text[i] === " ") i++;
    if (i >= n) break;
    if (text[i] === ":") {
      params.push(text.slice(i + 1));
      break;
    }
    end = text.indexOf(" ", i);
    if (end < 0) end = n;
    params.push(text.slice(i, end));
    i = end;
  }
  return { prefix, command: command.toUpperCase(), params };
}

/**
 * Parses one line (without its line ending; a trailing `\r` is ignored) into a message,
 * without limits. Raises `RemoteProtocolError` for a line that is not an IRC message.
 *
 * @example
 * ```ts
 * const m = parseMessage("@time=2024-01-01T00:00:00Z :nick!u@h PRIVMSG #c :hi there");
 * m.command; // "PRIVMSG"
 * m.params; // ["#c", "hi there"]
 * ```
 */
export function parseMessage(line: Buffer | string): IRCMessage {
  let bytes = typeof line === "string" ? Buffer.from(line, "utf8") : line;
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === CR || bytes[end - 1] === LF)) end--;
  bytes = bytes.subarray(0, end);
  let tags: Map<string, string> = EMPTY_TAGS;
  let start = 0;
  if (bytes[0] === 0x40 /* @ */) {
    const sp = bytes.indexOf(0x20);
    if (sp < 0) throw new RemoteProtocolError("Cannot parse message: tags without command");
    tags = parseTags(bytes.subarray(1, sp));
    start = sp + 1;
  }
  const body = bytes.subarray(start);
  if (isUtf8(body)) {
    return { tags, ...splitBody(body.toString("utf8")) };
  }
  // Some bytes are not UTF-8: split on bytes, then decode each part on its own.
  const parts = splitBody(body.toString("latin1"));
  const rawParams = parts.params.map((p) => Buffer.from(p, "latin1"));
  return {
    tags,
    prefix: parts.prefix === null ? null : decode(Buffer.from(parts.prefix, "latin1")),
    command: parts.command,
    params: rawParams.map(decode),
    rawParams,
  };
}

const EMPTY_TAGS: Map<string, string> = new Map();

function paramBytes(p: string | Uint8Array): Buffer {
  return typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p);
}

function hasForbidden(b: Buffer): boolean {
  return b.includes(0) || b.includes(CR) || b.includes(LF);
}

/** Cuts `b` to at most `max` bytes without splitting a UTF-8 sequence. */
export function truncateUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let cut = Math.max(0, max);
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--;
  return b.subarray(0, cut);
}

function formatTags(tags: IRCMessageInput["tags"]): string {
  if (tags === null || tags === undefined) return "";
  const entries = tags instanceof Map ? [...tags] : Object.entries(tags);
  if (entries.length === 0) return "";
  const items: string[] = [];
  for (const [key, value] of entries) {
    if (!/^\+?(?:[A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/.test(key)) {
      throw new LocalProtocolError(`Cannot send tag: bad key: ${JSON.stringify(key)}`);
    }
    items.push(value === "" ? key : `${key}=${escapeTagValue(value)}`);
  }
  return `@${items.join(";")} `;
}

/** Options of `formatMessage`. */
export interface FormatMessageOptions {
  /**
   * Cut the last parameter (at a UTF-8 boundary) so that the body, `\r\n` included, fits in
   * this many bytes. Without it, no limit is applied.
   */
  maxBodyBytes?: number;
}

/**
 * Turns a message into the bytes of one line, `\r\n` included. The last parameter gets a `:`
 * when it needs one. Raises `LocalProtocolError` for a message that cannot be sent: a bad
 * command, a parameter holding NUL, CR or LF, or a middle parameter that is empty, holds a
 * space or starts with `:`.
 *
 * @example
 * ```ts
 * formatMessage({ command: "PRIVMSG", params: ["#c", "hello world"] });
 * // <Buffer "PRIVMSG #c :hello world\r\n">
 * ```
 */
export function formatMessage(msg: IRCMessageInput, options: FormatMessageOptions = {}): Buffer {
  if (!COMMAND.test(msg.command)) {
    throw new LocalProtocolError(
      `Cannot send message: bad command: ${JSON.stringify(msg.command)}`,
    );
  }
  const tagSection = formatTags(msg.tags);
  let head = tagSection;
  if (msg.prefix !== null && msg.prefix !== undefined) {
    if (msg.prefix === "" || /[\s\0]/.test(msg.prefix)) {
      throw new LocalProtocolError("Cannot send message: bad prefix");
    }
    head += `:${msg.prefix} `;
  }
  const tagLength = Buffer.byteLength(tagSection);
  head += msg.command;
  const params = msg.params ?? [];
  const parts: Buffer[] = [Buffer.from(head, "utf8")];
  for (let i = 0; i < params.length; i++) {
    const b = paramBytes(params[i]!);
    if (hasForbidden(b)) {
      throw new LocalProtocolError("Cannot send message: parameter holds NUL, CR or LF");
    }
    const last = i === params.length - 1;
    const needsColon = b.length === 0 || b[0] === 0x3a || b.includes(0x20);
    if (needsColon && !last) {
      throw new LocalProtocolError(
        "Cannot send message: only the last parameter may be empty, hold spaces or start with ':'",
      );
    }
    if (last && options.maxBodyBytes !== undefined) {
      const used = parts.reduce((a, p) => a + p.length, 0) - tagLength;
      const room = options.maxBodyBytes - 2 - used - 2;
      if (room < 0) throw new LocalProtocolError("Cannot send message: too long");
      const cut = truncateUtf8(b, room);
      const colon = cut.length === 0 || cut[0] === 0x3a || cut.includes(0x20);
      parts.push(Buffer.from(colon ? " :" : " "), cut);
    } else {
      parts.push(Buffer.from(needsColon ? " :" : " "), b);
    }
  }
  parts.push(Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

/** The parts of a `nick!user@host` source; missing parts are `null`. */
export interface ParsedPrefix {
  nick: string;
  user: string | null;
  host: string | null;
}

/**
 * Splits a source into nick, user and host.
 *
 * @example
 * ```ts
 * parsePrefix("alice!al@example.org"); // { nick: "alice", user: "al", host: "example.org" }
 * ```
 */
export function parsePrefix(prefix: string): ParsedPrefix {
  const bang = prefix.indexOf("!");
  const at = prefix.indexOf("@", Math.max(bang, 0));
  const nickEnd = bang >= 0 ? bang : at >= 0 ? at : prefix.length;
  return {
    nick: prefix.slice(0, nickEnd),
    user: bang >= 0 ? prefix.slice(bang + 1, at >= 0 ? at : prefix.length) : null,
    host: at >= 0 ? prefix.slice(at + 1) : null,
  };
}

/**
 * The sans-I/O reader of an IRC byte stream: feed it bytes in any split with `receiveData`, get
 * events. Lines end with `\r\n` or `\n` alone; empty lines are skipped. A tags section over
 * `maxTagBytes` or a body over `maxBodyBytes` (line ending included) gives `LineTooLong`, and a
 * line that outgrows both without ending is skipped to its end without being buffered, so the
 * memory held stays bounded. It never throws on input.
 *
 * @example
 * ```ts
 * const parser = new IRCMessageParser();
 * for (const ev of parser.receiveData(Buffer.from("PING :x\r\nPRIV"))) {
 *   if (ev.type === "MessageReceived") console.log(ev.message.command); // PING
 * }
 * ```
 */
export class IRCMessageParser {
  readonly maxBodyBytes: number;
  readonly maxTagBytes: number;
  private partial: Buffer[] = [];
  private partialLength = 0;
  /** Skipping the rest of a line that was too long. */
  private discarding = false;

  constructor(options: IRCMessageParserOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.maxTagBytes = options.maxTagBytes ?? MAX_TAG_BYTES;
  }

  /** Bytes held of an unfinished line. */
  get bufferedBytes(): number {
    return this.partialLength;
  }

  /** Parses `data` and returns the events of every line it completes. */
  receiveData(data: Buffer): IRCParseEvent[] {
    const events: IRCParseEvent[] = [];
    let off = 0;
    for (;;) {
      const nl = data.indexOf(LF, off);
      if (nl < 0) break;
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partialLength === 0) {
        this.lineReceived(data.subarray(off, nl), events);
      } else {
        this.partial.push(data.subarray(off, nl));
        const line = Buffer.concat(this.partial);
        this.partial = [];
        this.partialLength = 0;
        this.lineReceived(line, events);
      }
      off = nl + 1;
    }
    if (off < data.length && !this.discarding) {
      // Copy: the caller may reuse its buffer.
      const rest = Buffer.from(data.subarray(off));
      this.partial.push(rest);
      this.partialLength += rest.length;
      if (this.partialLength > this.maxBodyBytes + this.maxTagBytes) {
        events.push(this.tooLong());
        this.partial = [];
        this.partialLength = 0;
        this.discarding = true;
      }
    }
    return events;
  }

  /** The event for a line that grew past both limits (the same whatever the split). */
  private tooLong(): LineTooLong {
    return { type: "LineTooLong", part: "line", length: this.maxBodyBytes + this.maxTagBytes + 1 };
  }

  private lineReceived(line: Buffer, events: IRCParseEvent[]): void {
    if (line.length > this.maxBodyBytes + this.maxTagBytes) {
      events.push(this.tooLong());
      return;
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end === 0) return;
    line = line.subarray(0, end);
    let bodyStart = 0;
    if (line[0] === 0x40 /* @ */) {
      const sp = line.indexOf(0x20);
      const tagBytes = sp < 0 ? line.length : sp + 1;
      if (tagBytes > this.maxTagBytes) {
        events.push({ type: "LineTooLong", part: "tags", length: tagBytes });
        return;
      }
      bodyStart = sp < 0 ? line.length : sp + 1;
    }
    const bodyLength = line.length - bodyStart + 2;
    if (bodyLength > this.maxBodyBytes) {
      events.push({ type: "LineTooLong", part: "body", length: bodyLength });
      return;
    }
    try {
      events.push({ type: "MessageReceived", message: parseMessage(line) });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      events.push({ type: "LineMalformed", reason, line: Buffer.from(line) });
    }
  }
}
