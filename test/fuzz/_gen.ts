// Fuzz test helpers: a seeded PRNG, byte mutations of valid messages, random splits, and a
// guard that fails a test file on any uncaught exception or unhandled rejection.

import assert from "node:assert/strict";
import { after } from "node:test";
import { prng } from "../protocols/_splits.js";

/** A seeded random source with the helpers fuzz cases need. */
export class Rand {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = prng(seed);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Bytes that break parsers most often: line ends, NUL, space, separators, non-ASCII. */
const NASTY = [0x00, 0x0a, 0x0d, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x7f, 0x80, 0xff, 0x25, 0x40];

/** Strings worth inserting into text protocols. */
const NASTY_STRINGS = [
  "\r\n",
  "\n",
  "\r",
  "\0",
  "\r\n\r\n",
  " ",
  ":",
  "%",
  "-1",
  "ffffffffffffffffffff",
  "99999999999999999999",
  "\xff\xfe",
  "é",
  "0x10",
  "..",
  "/../",
];

/** Splits `data` into lines, keeping each line end with its line. */
function linesOf(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const lf = data.indexOf(0x0a, start);
    if (lf < 0) break;
    out.push(data.subarray(start, lf + 1));
    start = lf + 1;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

/**
 * One random mutation of `data`: a byte flip, a nasty byte or string inserted, a truncation,
 * a line duplicated, dropped or swapped, a huge line, or a run of random bytes.
 */
export function mutate(r: Rand, data: Buffer): Buffer {
  const n = data.length;
  const at = r.int(n + 1);
  switch (r.int(10)) {
    case 0: {
      if (n === 0) return Buffer.from([r.int(256)]);
      const b = Buffer.from(data);
      b[r.int(n)] = r.int(256);
      return b;
    }
    case 1: {
      if (n === 0) return data;
      const b = Buffer.from(data);
      b[r.int(n)] = r.pick(NASTY);
      return b;
    }
    case 2:
      return Buffer.concat([
        data.subarray(0, at),
        Buffer.from(r.pick(NASTY_STRINGS), "latin1"),
        data.subarray(at),
      ]);
    case 3:
      return data.subarray(0, at);
    case 4: {
      const lines = linesOf(data);
      if (lines.length === 0) return data;
      const i = r.int(lines.length);
      lines.splice(i, 0, lines[i] as Buffer);
      return Buffer.concat(lines);
    }
    case 5: {
      const lines = linesOf(data);
      if (lines.length < 2) return data;
      lines.splice(r.int(lines.length), 1);
      return Buffer.concat(lines);
    }
    case 6: {
      const lines = linesOf(data);
      if (lines.length < 2) return data;
      const i = r.int(lines.length);
      const j = r.int(lines.length);
      [lines[i], lines[j]] = [lines[j] as Buffer, lines[i] as Buffer];
      return Buffer.concat(lines);
    }
    case 7: {
      const size = r.pick([300, 513, 4097, 8193, 16385, 70000]);
      const fill = Buffer.alloc(size, r.pick([0x41, 0x20, 0x30, 0x3b, 0x00]));
      return Buffer.concat([data.subarray(0, at), fill, data.subarray(at)]);
    }
    case 8:
      return Buffer.concat([data.subarray(0, at), r.bytes(r.range(1, 16)), data.subarray(at)]);
    default: {
      // Delete a random span.
      const len = r.int(Math.min(16, n - at) + 1);
      return Buffer.concat([data.subarray(0, at), data.subarray(at + len)]);
    }
  }
}

/** `data` mutated 1 to `max` times. */
export function mutateMany(r: Rand, data: Buffer, max = 3): Buffer {
  let out = data;
  const k = r.range(1, max);
  for (let i = 0; i < k; i++) out = mutate(r, out);
  return out;
}

/**
 * `data` cut into pieces: whole, one byte at a time (only if short enough), or in random
 * sizes — chosen at random.
 */
export function split(r: Rand, data: Buffer, byteLimit = 4096): Buffer[] {
  const mode = r.int(4);
  if (mode === 0 || data.length === 0) return [Buffer.from(data)];
  if (mode === 1 && data.length <= byteLimit) {
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; i++) out.push(Buffer.from(data.subarray(i, i + 1)));
    return out;
  }
  const out: Buffer[] = [];
  let i = 0;
  const most = r.pick([3, 17, 200, 5000]);
  while (i < data.length) {
    const k = 1 + r.int(Math.min(most, data.length - i));
    out.push(Buffer.from(data.subarray(i, i + k)));
    i += k;
  }
  return out;
}

/** Describes a failing case so that it can be replayed: seed, case and the input (escaped). */
export function describeCase(seed: number, index: number, input: Buffer): string {
  const shown = input.length > 300 ? input.subarray(0, 300) : input;
  return `seed ${seed} case ${index} (${input.length} bytes): ${JSON.stringify(shown.toString("latin1"))}`;
}

/** Multiplies every case count (`FUZZ_SCALE=20` for a longer local run; default 1). */
const SCALE = Number(process.env.FUZZ_SCALE ?? "1") || 1;
/** Shifts every seed (`FUZZ_SEED=7` explores other cases; default 0: the committed ones). */
const SEED_SHIFT = Number(process.env.FUZZ_SEED ?? "0") || 0;

/**
 * Runs `cases` seeded cases of `body` (times `FUZZ_SCALE`), each with its own `Rand`; a
 * failure's message starts with its seed and case number.
 */
export function runCases(
  baseSeed: number,
  cases: number,
  body: (r: Rand, index: number) => void,
): void {
  const total = Math.max(1, Math.round(cases * SCALE));
  for (let i = 0; i < total; i++) {
    const seed = ((baseSeed + SEED_SHIFT * 7919) * 1000003 + i) >>> 0;
    const r = new Rand(seed);
    try {
      body(r, i);
    } catch (e) {
      if (e instanceof Error) e.message = `[fuzz seed ${seed}, case ${i}] ${e.message}`;
      throw e;
    }
  }
}

const escaped: unknown[] = [];

/**
 * Records every uncaught exception and unhandled rejection during the file's tests, and fails
 * (in an `after` hook) if there was any. Call once at the top of each fuzz file.
 */
export function guardProcess(): void {
  const onError = (e: unknown) => {
    escaped.push(e);
  };
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  after(async () => {
    // Let pending rejections surface before checking.
    await new Promise((resolve) => setImmediate(resolve));
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
    assert.deepEqual(escaped, [], "uncaught exceptions or unhandled rejections");
  });
}
