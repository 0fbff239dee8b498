// Test helpers for SOCKS: building requests byte by byte.

/** Concatenates byte arrays, latin1 strings and Buffers. */
export const bytes = (...parts: (number[] | string | Buffer)[]): Buffer =>
  Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))),
  );

/** A port number as its two bytes, network order. */
export const port = (n: number): number[] => [n >> 8, n & 0xff];

/** A SOCKS5 CONNECT request to an address of type `atyp`. */
export const v5Connect = (atyp: number, addr: number[] | Buffer, p: number): Buffer =>
  bytes([5, 1, 0, atyp], Buffer.from(addr), port(p));

/** A SOCKS5 CONNECT request to a host name. */
export const v5Domain = (name: string, p: number): Buffer =>
  bytes([5, 1, 0, 3, name.length], name, port(p));
