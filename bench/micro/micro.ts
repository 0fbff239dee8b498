// In-process microbenchmarks of Twisted.ts against plain Node, printed as one JSON line.
//
// Usage: node --import tsx bench/micro/micro.ts deferred CHAINS ROUNDS
//          a chain of 10 callbacks on a Deferred fired synchronously, against the same chain of
//          native Promise `then`s; chains/s.
//        node --import tsx bench/micro/micro.ts lines LINES ROUNDS
//          LineReceiver parsing LINES short lines fed in random splits, against a bare
//          Buffer.indexOf splitter; lines/s.
// The two variants alternate (A B A B …) after one warm-up round each; the result holds each
// variant's rate per round and their median. bench/micro/twisted-micro.py is the same for Twisted.
import { Deferred } from "../../src/internet/defer.js";
import { LineReceiver } from "../../src/protocols/basic.js";
import { StringTransport } from "../../src/testing/index.js";

/** Each variant's rate in each round, and the median. */
export interface MicroVariantResult {
  perRound: number[];
  median: number;
}

/** The rates of each variant of a microbenchmark, by variant name. */
export type MicroResult = Record<string, MicroVariantResult>;

/** The median of `values` (which is not empty). */
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

let sink = 0;
const inc = (x: number): number => x + 1;
const accumulate = (x: number): number => {
  sink += x;
  return x;
};

/** Builds `n` Deferred chains of 10 callbacks and fires each one synchronously. */
function deferredChains(n: number): void {
  for (let i = 0; i < n; i++) {
    const d = new Deferred<number>();
    for (let k = 0; k < 9; k++) d.addCallback(inc);
    d.addCallback(accumulate);
    d.callback(i);
  }
}

/** Builds `n` Promise chains of 10 `then`s, resolves each, and waits for all of them to run. */
async function promiseChains(n: number): Promise<void> {
  const batch = 1000;
  for (let done = 0; done < n; done += batch) {
    let last: Promise<number> = Promise.resolve(0);
    for (let i = done; i < Math.min(n, done + batch); i++) {
      let resolve!: (v: number) => void;
      let p = new Promise<number>((r) => {
        resolve = r;
      });
      for (let k = 0; k < 9; k++) p = p.then(inc);
      last = p.then(accumulate);
      resolve(i);
    }
    await last;
  }
}

async function timed(run: () => void | Promise<void>, count: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run();
  return count / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function alternate(
  variants: Record<string, () => void | Promise<void>>,
  count: number,
  rounds: number,
): Promise<MicroResult> {
  const names = Object.keys(variants);
  const rates: Record<string, number[]> = {};
  for (const name of names) {
    rates[name] = [];
    await timed(variants[name]!, count); // warm-up: let the JIT settle
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of names) rates[name]!.push(await timed(variants[name]!, count));
  }
  const result: MicroResult = {};
  for (const name of names) result[name] = { perRound: rates[name]!, median: median(rates[name]!) };
  return result;
}

/** xorshift32, the same generator as in twisted-micro.py, so both parse identical splits. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `lines` short CRLF-terminated lines cut into chunks of 1 to 2,048 bytes (random, seeded). */
function lineChunks(lines: number): Buffer[] {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(`line ${i} hello\r\n`);
  const data = Buffer.from(parts.join(""), "latin1");
  const next = xorshift32(12345);
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; ) {
    const size = 1 + (next() % 2048);
    chunks.push(data.subarray(off, off + size));
    off += size;
  }
  return chunks;
}

class CountingReceiver extends LineReceiver {
  count = 0;
  override lineReceived(line: Buffer): void {
    this.count++;
  }
}

function parseWithLineReceiver(chunks: readonly Buffer[], lines: number): void {
  const p = new CountingReceiver();
  p.makeConnection(new StringTransport());
  for (const chunk of chunks) p.dataReceived(chunk);
  if (p.count !== lines) throw new Error(`LineReceiver parsed ${p.count} of ${lines} lines`);
}

const CRLF = Buffer.from("\r\n");

/** The least a program can do to split lines: indexOf, carrying the incomplete tail along. */
function parseBare(chunks: readonly Buffer[], lines: number): void {
  let count = 0;
  const onLine = (line: Buffer): void => {
    count += line.length >= 0 ? 1 : 0;
  };
  let carry: Buffer | null = null;
  for (const chunk of chunks) {
    const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    let off = 0;
    for (let i = buf.indexOf(CRLF, off); i >= 0; i = buf.indexOf(CRLF, off)) {
      onLine(buf.subarray(off, i));
      off = i + 2;
    }
    carry = off < buf.length ? buf.subarray(off) : null;
  }
  if (count !== lines) throw new Error(`The bare splitter found ${count} of ${lines} lines`);
}

async function main(argv: readonly string[]): Promise<void> {
  const [which, countArg, roundsArg] = argv;
  const count = Number(countArg);
  const rounds = Number(roundsArg ?? 5);
  if (!(count > 0 && rounds > 0)) throw new Error("Usage: micro.ts deferred|lines COUNT ROUNDS");
  let result: MicroResult;
  if (which === "deferred") {
    result = await alternate(
      { "twisted-ts": () => deferredChains(count), promise: () => promiseChains(count) },
      count,
      rounds,
    );
  } else if (which === "lines") {
    const chunks = lineChunks(count);
    result = await alternate(
      {
        "twisted-ts": () => parseWithLineReceiver(chunks, count),
        node: () => parseBare(chunks, count),
      },
      count,
      rounds,
    );
  } else {
    throw new Error(`Unknown microbenchmark: ${which}`);
  }
  process.stdout.write(`${JSON.stringify({ benchmark: which, count, rounds, result, sink })}\n`);
}

await main(process.argv.slice(2));
