// Address classes: IPv4Address, IPv6Address, UNIXAddress (twisted.internet.address).

import type { IAddress } from "./interfaces.js";

/**
 * An IPv4 socket endpoint.
 *
 * @example
 * ```ts
 * const peer = transport.getPeer() as IPv4Address;
 * console.log(`${peer.host}:${peer.port}`);
 * ```
 */
export class IPv4Address implements IAddress {
  constructor(
    readonly type: "TCP" | "UDP",
    readonly host: string,
    readonly port: number,
  ) {}

  /** True when `other` names the same endpoint. */
  equals(other: unknown): boolean {
    return (
      other instanceof IPv4Address &&
      other.type === this.type &&
      other.host === this.host &&
      other.port === this.port
    );
  }

  toString(): string {
    return `IPv4Address(type='${this.type}', host='${this.host}', port=${this.port})`;
  }
}

/** An IPv6 socket endpoint. */
export class IPv6Address implements IAddress {
  constructor(
    readonly type: "TCP" | "UDP",
    readonly host: string,
    readonly port: number,
    readonly flowInfo = 0,
    readonly scopeID: string | number = 0,
  ) {}

  /** True when `other` names the same endpoint. */
  equals(other: unknown): boolean {
    return (
      other instanceof IPv6Address &&
      other.type === this.type &&
      other.host === this.host &&
      other.port === this.port
    );
  }

  toString(): string {
    return `IPv6Address(type='${this.type}', host='${this.host}', port=${this.port})`;
  }
}

/** A Unix socket endpoint; `name` is the path, or `null` for an unnamed socket. */
export class UNIXAddress implements IAddress {
  constructor(readonly name: string | null) {}

  /** True when `other` names the same path. */
  equals(other: unknown): boolean {
    return other instanceof UNIXAddress && other.name === this.name;
  }

  toString(): string {
    return `UNIXAddress(${this.name === null ? "None" : `'${this.name}'`})`;
  }
}

/** An IPv4 or IPv6 address: what `getPeer()`/`getHost()` of IP transports return. */
export type IPAddress = IPv4Address | IPv6Address;

/**
 * Builds an IP address from what Node reports (`family` is `"IPv4"`/`"IPv6"`, or 4/6 in some
 * Node versions). IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are reported as IPv4.
 */
export function ipAddress(
  type: "TCP" | "UDP",
  host: string | undefined,
  port: number | undefined,
  family?: string | number,
): IPAddress {
  const h = host ?? "0.0.0.0";
  const p = port ?? 0;
  if (family === "IPv6" || family === 6 || (family === undefined && h.includes(":"))) {
    if (h.startsWith("::ffff:") && h.includes(".")) return new IPv4Address(type, h.slice(7), p);
    const pct = h.indexOf("%");
    if (pct >= 0) return new IPv6Address(type, h.slice(0, pct), p, 0, h.slice(pct + 1));
    return new IPv6Address(type, h, p);
  }
  return new IPv4Address(type, h, p);
}
