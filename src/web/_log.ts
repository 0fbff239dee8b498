// Access logs: the combined log format, and a log file writer.

import { createWriteStream, type WriteStream } from "node:fs";

/** What a log formatter reads from a request (`Request` has all of it). */
export interface LoggedRequest {
  method: string;
  uri: string;
  clientproto: string;
  code: number;
  sentLength: number;
  getHeader(name: string): string | null;
  getClientAddress(): { toString(): string; host?: unknown } | { host?: unknown };
  getUser?(): string;
}

/** Makes one access-log line (without the newline) for a request finished at `timestamp`. */
export type LogFormatter = (timestamp: string, request: LoggedRequest) => string;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `[10/Oct/2000:13:55:36 +0000]`, the time stamp of the common and combined formats. */
export function logTimestamp(seconds: number): string {
  const d = new Date(Math.floor(seconds) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

function quote(s: string): string {
  // Escape what would let a client forge log lines or fields.
  return s
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function clientHost(request: LoggedRequest): string {
  try {
    const a = request.getClientAddress() as { host?: unknown };
    return typeof a.host === "string" ? a.host : "-";
  } catch {
    return "-";
  }
}

/**
 * The NCSA combined log format (Apache's `combined`):
 * `host - user [time] "request line" status bytes "referer" "user-agent"`.
 *
 * @example
 * ```ts
 * new Site(root, { logPath: "access.log", logFormatter: combinedLogFormatter });
 * ```
 */
export const combinedLogFormatter: LogFormatter = (timestamp, request) => {
  const user = request.getUser?.() || "-";
  const line = `${request.method} ${request.uri} ${request.clientproto}`;
  const bytes = request.sentLength > 0 ? String(request.sentLength) : "-";
  const referer = request.getHeader("referer") ?? "-";
  const agent = request.getHeader("user-agent") ?? "-";
  return `${clientHost(request)} - ${quote(user)} ${timestamp} "${quote(line)}" ${request.code} ${bytes} "${quote(referer)}" "${quote(agent)}"`;
};

/** Where access-log lines go. */
export interface IAccessLog {
  /** Writes one line (a newline is added). */
  writeLine(line: string): void;
  /** Flushes and closes. */
  close(): void;
}

/**
 * An access log appended to a file (`"-"` for standard output).
 */
export class AccessLogFile implements IAccessLog {
  private readonly stream: WriteStream | NodeJS.WriteStream;

  constructor(readonly path: string) {
    this.stream = path === "-" ? process.stdout : createWriteStream(path, { flags: "a" });
  }

  writeLine(line: string): void {
    this.stream.write(`${line}\n`);
  }

  close(): void {
    if (this.stream !== process.stdout) (this.stream as WriteStream).end();
  }
}
