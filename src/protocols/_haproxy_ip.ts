// IP address text ⇄ bytes (IPv4 dotted quads, IPv6 per RFC 4291/5952), for PROXY and SOCKS headers.

/** Parses a dotted-quad IPv4 address (no leading zeros) into 4 bytes, or gives `null`. */
export function parseIPv4(text: string): Buffer | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Formats 4 bytes as a dotted quad. */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === "") return true;
  for (const g of text.split(":")) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return false;
    out.push(Number.parseInt(g, 16));
  }
  return true;
}

/**
 * Parses an IPv6 address (with `::` and an optional dotted-quad tail; no zone) into 16 bytes,
 * or gives `null`.
 */
export function parseIPv6(text: string): Buffer | null {
  if (text.length === 0 || text.length > 45) return null;
  let body = text;
  let tail: Buffer | null = null;
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".", lastColon)) {
    tail = parseIPv4(body.slice(lastColon + 1));
    if (tail === null) return null;
    // Keep a trailing ":" only when it is part of "::".
    body = body.slice(0, body.endsWith("::", lastColon + 1) ? lastColon + 1 : lastColon);
  }
  const wanted = tail === null ? 8 : 6;
  const head: number[] = [];
  const rest: number[] = [];
  const gap = body.indexOf("::");
  if (gap >= 0) {
    if (body.indexOf("::", gap + 1) >= 0) return null;
    if (!parseGroups(body.slice(0, gap), head) || !parseGroups(body.slice(gap + 2), rest)) {
      return null;
    }
    if (head.length + rest.length >= wanted) return null;
  } else {
    if (!parseGroups(body, head) || head.length !== wanted) return null;
  }
  const groups = [
    ...head,
    ...new Array<number>(wanted - head.length - rest.length).fill(0),
    ...rest,
  ];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i]!, i * 2);
  if (tail !== null) tail.copy(out, 12);
  return out;
}

/**
 * Formats 16 bytes as an IPv6 address the way RFC 5952 recommends: lower case, no leading
 * zeros, the longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:1.2.3.4`.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(b.subarray(12))}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
