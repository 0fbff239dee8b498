// Request bodies: kept in memory while small, spilled to an unlinked temporary file when large.

import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A request body as a file-like object (Twisted's `request.content`): written while the body
 * arrives, then read by resources with `read()`, `seek()` and `tell()`.
 */
export interface IRequestContent {
  /** Appends received bytes. */
  write(data: Uint8Array): void;
  /** Reads up to `size` bytes (all the rest by default) from the current position. */
  read(size?: number): Buffer;
  /** Moves the position: from the start (`whence` 0), the current position (1) or the end (2). */
  seek(offset: number, whence?: 0 | 1 | 2): number;
  /** The current position. */
  tell(): number;
  /** The body's length so far. */
  readonly length: number;
  /** Frees what the content holds (a temporary file). */
  close(): void;
}

/** Makes the content object of each request (inject your own through `Site`). */
export interface IContentStore {
  /** A new, empty content for a body of `expectedLength` bytes (`null` if unknown). */
  create(expectedLength: number | null): IRequestContent;
}

/**
 * A body kept in memory up to `memoryLimit` bytes, then in a temporary file that is unlinked
 * as soon as it is opened (nothing is left behind, even after a crash), so that large uploads
 * take constant memory.
 */
export class SpooledContent implements IRequestContent {
  private chunks: Buffer[] = [];
  private memory: Buffer | null = null;
  private fd: number | null = null;
  private size = 0;
  private pos = 0;
  private closed = false;

  constructor(
    private readonly memoryLimit: number,
    private readonly dir: string,
  ) {}

  get length(): number {
    return this.size;
  }

  /** True once the body went to a temporary file. */
  get spilled(): boolean {
    return this.fd !== null;
  }

  write(data: Uint8Array): void {
    if (this.closed) throw new Error("Cannot write to closed request content");
    if (data.length === 0) return;
    if (this.fd === null && this.size + data.length > this.memoryLimit) this.spill();
    if (this.fd !== null) {
      let off = 0;
      while (off < data.length)
        off += writeSync(this.fd, data, off, data.length - off, this.size + off);
    } else {
      this.chunks.push(Buffer.from(data));
      this.memory = null;
    }
    this.size += data.length;
  }

  private spill(): void {
    const path = join(this.dir, `twisted-ts-body-${randomBytes(12).toString("hex")}`);
    const fd = openSync(path, "wx+", 0o600);
    unlinkSync(path);
    this.fd = fd;
    const held = Buffer.concat(this.chunks);
    let off = 0;
    while (off < held.length) off += writeSync(fd, held, off, held.length - off, off);
    this.chunks = [];
    this.memory = null;
  }

  read(size?: number): Buffer {
    if (this.closed) throw new Error("Cannot read closed request content");
    const n = Math.max(0, Math.min(size ?? this.size - this.pos, this.size - this.pos));
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (this.fd !== null) {
      out = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const r = readSync(this.fd, out, got, n - got, this.pos + got);
        if (r === 0) break;
        got += r;
      }
      out = out.subarray(0, got);
    } else {
      if (this.memory === null) {
        this.memory = Buffer.concat(this.chunks);
        this.chunks = [this.memory];
      }
      out = this.memory.subarray(this.pos, this.pos + n);
    }
    this.pos += out.length;
    return out;
  }

  seek(offset: number, whence: 0 | 1 | 2 = 0): number {
    const base = whence === 0 ? 0 : whence === 1 ? this.pos : this.size;
    this.pos = Math.max(0, base + offset);
    return this.pos;
  }

  tell(): number {
    return this.pos;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.memory = null;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/**
 * The default content store: bodies up to `memoryLimit` bytes (default 1 MiB; a body announced
 * larger goes to disk from the start) stay in memory, larger ones go to a temporary file in
 * `dir` (default the OS's temporary directory).
 */
export class TempFileContentStore implements IContentStore {
  readonly memoryLimit: number;
  readonly dir: string;

  constructor(options: { memoryLimit?: number; dir?: string } = {}) {
    this.memoryLimit = options.memoryLimit ?? 1024 * 1024;
    this.dir = options.dir ?? tmpdir();
  }

  create(expectedLength: number | null): IRequestContent {
    const limit =
      expectedLength !== null && expectedLength > this.memoryLimit ? 0 : this.memoryLimit;
    return new SpooledContent(limit, this.dir);
  }
}
