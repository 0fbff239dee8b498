// Test helper: the ways of splitting a byte stream that framing tests feed to protocols.

/** A small deterministic PRNG (mulberry32), so that failures can be reproduced. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `data` split in several ways: whole, one byte at a time, and in random pieces (three seeds).
 * Each entry is `[name, chunks]`; chunks are fresh copies so that a protocol keeping a
 * reference cannot be confused by reuse.
 */
export function splits(data: Buffer | string): [string, Buffer[]][] {
  const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  const out: [string, Buffer[]][] = [["whole", [Buffer.from(b)]]];
  const bytes: Buffer[] = [];
  for (let i = 0; i < b.length; i++) bytes.push(Buffer.from(b.subarray(i, i + 1)));
  out.push(["one byte at a time", bytes]);
  for (const seed of [1, 2, 3]) {
    const rnd = prng(seed);
    const chunks: Buffer[] = [];
    let i = 0;
    while (i < b.length) {
      const n = 1 + Math.floor(rnd() * Math.min(17, b.length - i));
      chunks.push(Buffer.from(b.subarray(i, i + n)));
      i += n;
    }
    out.push([`random split (seed ${seed})`, chunks]);
  }
  return out;
}
