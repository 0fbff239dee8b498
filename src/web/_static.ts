// static.File: files and directories from disk — MIME types, index files, listings, ranges, caching.

import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, realpathSync, type Stats, statSync } from "node:fs";
import { basename, extname, join, resolve, sep } from "node:path";
import { contentType as mimeContentType } from "mime-types";
import { CACHED, type Request } from "./_request.js";
import { datetimeToString, stringToDatetime } from "./_request_util.js";
import {
  escapeHTML,
  ForbiddenResource,
  type IResource,
  NOT_DONE_YET,
  NoResource,
  type RenderResult,
  Resource,
} from "./_resource.js";
import { type FilePart, FileStreamer } from "./_static_stream.js";
import { redirectTo } from "./_util.js";

/** Options of {@link File}. */
export interface FileOptions {
  /** The type of files whose extension is unknown. Default `application/octet-stream`. */
  defaultType?: string;
  /** Files served for a directory, first found wins. Default `index.html`, `index.htm`. */
  indexNames?: string[];
  /** Extra or overriding types by extension (with the dot): `{ ".log": "text/plain" }`. */
  contentTypes?: Record<string, string>;
  /** List directories that have no index file. Default true. */
  listDirectories?: boolean;
  /** The most ranges honoured in one request (more: the whole file is sent). Default 16. */
  maxRanges?: number;
}

type Range = { start: number; end: number };

/**
 * Parses a `Range` header for a file of `size` bytes: the ranges to send, `"unsatisfiable"`
 * (416), or `null` to ignore the header (bad syntax, other units).
 */
export function parseRange(header: string, size: number): Range[] | "unsatisfiable" | null {
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (m === null) return null;
  const ranges: Range[] = [];
  for (const raw of (m[1] as string).split(",")) {
    const spec = raw.trim();
    if (spec === "") continue;
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (r === null || (r[1] === "" && r[2] === "")) return null;
    if (r[1] === "") {
      const n = Number(r[2]);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    if (r[2] !== "" && Number(r[2]) < start) return null;
    const end = r[2] === "" ? size - 1 : Number(r[2]);
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  return ranges.length === 0 ? "unsatisfiable" : ranges;
}

function formatSize(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ["K", "M", "G", "T"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)}${units[i]}`;
}

/**
 * Serves a file or a directory tree from disk (Twisted's `static.File`).
 *
 * Files get their type from the `mime-types` table (override with `contentTypes`), `ETag` and
 * `Last-Modified` (answering `If-None-Match`/`If-Modified-Since` with 304), `Accept-Ranges`
 * and single or multiple byte ranges (206, `multipart/byteranges`, 416), and are streamed in
 * 64 KiB chunks with back-pressure. Directories serve an index file or an escaped HTML
 * listing. Path segments that could leave the root — `..`, `.`, anything holding `/`, `\` or
 * NUL (also when percent-encoded) — get 404, and resolved paths are checked to stay inside;
 * a symbolic link is followed only when its target is inside the root too.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8080, new Site(new File("/srv/www")));
 * ```
 */
export class File extends Resource {
  /** The file or directory served. */
  readonly path: string;
  readonly options: Required<FileOptions>;
  private readonly root: string;

  constructor(path: string, options: FileOptions = {}, root?: string) {
    super();
    this.path = resolve(path);
    this.root = root ?? this.path;
    this.options = {
      defaultType: options.defaultType ?? "application/octet-stream",
      indexNames: options.indexNames ?? ["index.html", "index.htm"],
      contentTypes: options.contentTypes ?? {},
      listDirectories: options.listDirectories ?? true,
      maxRanges: options.maxRanges ?? 16,
    };
  }

  /** A `File` for a path below this one, with the same options and root. */
  createSimilarFile(path: string): File {
    return new File(path, this.options, this.root);
  }

  /** The child file for one path segment, or 404 for a segment that could escape the root. */
  override getChild(name: string, request: Request): IResource {
    if (name === "") return this;
    if (name === "." || name === ".." || /[/\\\0]/.test(name)) return new NoResource();
    const child = join(this.path, name);
    if (
      child !== this.root &&
      !child.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep)
    ) {
      return new NoResource();
    }
    return this.createSimilarFile(child);
  }

  /** The `Content-Type` for `path`. */
  contentTypeFor(path: string): string {
    const ext = extname(path).toLowerCase();
    const own = this.options.contentTypes[ext];
    if (own !== undefined) return own;
    return mimeContentType(basename(path)) || this.options.defaultType;
  }

  render_HEAD(request: Request): RenderResult {
    return this.render_GET(request);
  }

  /**
   * The real path of `path` (symbolic links resolved) if it is inside the root's real path,
   * else `null`: a link must not lead out of the tree being served.
   */
  private realPathInside(path: string): string | null {
    let real: string;
    let realRoot: string;
    try {
      real = realpathSync.native(path);
      realRoot = realpathSync.native(this.root);
    } catch {
      return null;
    }
    const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
    return real === realRoot || real.startsWith(prefix) ? real : null;
  }

  render_GET(request: Request): RenderResult {
    const real = this.realPathInside(this.path);
    if (real === null) return new NoResource().render(request);
    let st: Stats;
    try {
      st = statSync(real);
    } catch {
      return new NoResource().render(request);
    }
    if (st.isDirectory()) return this.renderDirectory(request);
    if (!st.isFile()) return new ForbiddenResource().render(request);
    return this.renderFile(request, real, st, this.path);
  }

  private renderDirectory(request: Request): RenderResult {
    if (!request.path.endsWith("/")) {
      const q = request.uri.indexOf("?");
      return redirectTo(`${request.path}/${q < 0 ? "" : request.uri.slice(q)}`, request, 301);
    }
    for (const name of this.options.indexNames) {
      const asked = join(this.path, name);
      const index = this.realPathInside(asked);
      if (index === null) continue;
      try {
        const st = statSync(index);
        if (st.isFile()) return this.renderFile(request, index, st, asked);
      } catch {
        // not this one
      }
    }
    if (!this.options.listDirectories) return new ForbiddenResource().render(request);
    request.setHeader("Content-Type", "text/html; charset=utf-8");
    return this.listing(request);
  }

  /** The HTML listing of this directory: escaped names, sizes, types and dates. */
  listing(request: Request): string {
    let names: string[];
    try {
      names = readdirSync(this.path).sort();
    } catch {
      return new ForbiddenResource().render(request) as string;
    }
    const rows: string[] = [];
    names.forEach((name, i) => {
      const real = this.realPathInside(join(this.path, name));
      if (real === null) return;
      let st: Stats;
      try {
        st = statSync(real);
      } catch {
        return;
      }
      const dir = st.isDirectory();
      const href = encodeURIComponent(name) + (dir ? "/" : "");
      const type = dir ? "[Directory]" : this.contentTypeFor(name);
      rows.push(
        `<tr class="${i % 2 ? "even" : "odd"}"><td><a href="${escapeHTML(href)}">${escapeHTML(name)}${dir ? "/" : ""}</a></td><td>${dir ? "" : formatSize(st.size)}</td><td>${escapeHTML(type)}</td><td>${datetimeToString(st.mtimeMs / 1000)}</td></tr>`,
      );
    });
    let shown: string;
    try {
      shown = decodeURIComponent(request.path);
    } catch {
      shown = request.path;
    }
    const title = `Directory listing for ${escapeHTML(shown)}`;
    return `<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n<style>th, td { padding: 0 1em; text-align: left; } tr.odd { background: #eee; }</style>\n</head>\n<body>\n<h1>${title}</h1>\n<table>\n<thead><tr><th>Filename</th><th>Size</th><th>Content type</th><th>Last modified</th></tr></thead>\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table>\n</body>\n</html>\n`;
  }

  /** Serves the file at `path`, typed by the name it was asked for (`asked`). */
  private renderFile(request: Request, path: string, st: Stats, asked: string): RenderResult {
    const size = st.size;
    const mtime = Math.floor(st.mtimeMs / 1000);
    const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const type = this.contentTypeFor(asked);
    request.setHeader("Accept-Ranges", "bytes");
    if (request.setETag(etag) === CACHED || request.setLastModified(mtime) === CACHED) {
      return "";
    }
    if (request.code === 412) return "";
    let ranges: Range[] | "unsatisfiable" | null = null;
    const rangeHeader = request.getHeader("range");
    if (rangeHeader !== null && this.ifRangeMatches(request, etag, mtime)) {
      ranges = parseRange(rangeHeader, size);
      if (Array.isArray(ranges) && ranges.length > this.options.maxRanges) ranges = null;
    }
    if (ranges === "unsatisfiable") {
      request.setResponseCode(416);
      request.setHeader("Content-Range", `bytes */${size}`);
      request.setHeader("Content-Type", "text/plain; charset=utf-8");
      return "Requested range not satisfiable\n";
    }
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return new ForbiddenResource().render(request);
    }
    let parts: FilePart[];
    let length: number;
    if (ranges === null) {
      request.setHeader("Content-Type", type);
      parts = [{ start: 0, end: size - 1 }];
      length = size;
    } else if (ranges.length === 1) {
      const r = ranges[0] as Range;
      request.setResponseCode(206);
      request.setHeader("Content-Type", type);
      request.setHeader("Content-Range", `bytes ${r.start}-${r.end}/${size}`);
      parts = [r];
      length = r.end - r.start + 1;
    } else {
      const boundary = randomBytes(12).toString("hex");
      request.setResponseCode(206);
      request.setHeader("Content-Type", `multipart/byteranges; boundary=${boundary}`);
      parts = [];
      length = 0;
      for (const r of ranges) {
        const head = Buffer.from(
          `\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
          "latin1",
        );
        parts.push({ bytes: head }, r);
        length += head.length + r.end - r.start + 1;
      }
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`, "latin1");
      parts.push({ bytes: tail });
      length += tail.length;
    }
    request.setHeader("Content-Length", String(length));
    if (request.method === "HEAD" || length === 0) {
      closeSync(fd);
      return "";
    }
    new FileStreamer(request, fd, parts).start();
    return NOT_DONE_YET;
  }

  private ifRangeMatches(request: Request, etag: string, mtime: number): boolean {
    const ifRange = request.getHeader("if-range");
    if (ifRange === null) return true;
    // An entity tag must match exactly (weak tags never do, RFC 9110 §13.1.5).
    if (ifRange.startsWith('"') || ifRange.startsWith("W/")) return ifRange === etag;
    const when = stringToDatetime(ifRange);
    return when !== null && when === mtime;
  }
}
