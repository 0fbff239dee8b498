// Test helpers of the web tests: a Site on a StringTransport and Clock, and a response parser.

import { IPv4Address } from "../../src/internet/address.js";
import { Clock, StringTransportWithDisconnection } from "../../src/testing/index.js";
import type { HTTPChannel } from "../../src/web/_channel.js";
import { type IResource, Site, type SiteOptions } from "../../src/web/index.js";

/** One parsed response. */
export interface ParsedResponse {
  status: number;
  reason: string;
  headers: Record<string, string[]>;
  body: Buffer;
  chunked: boolean;
  header(name: string): string | undefined;
}

/**
 * Parses the responses in `data`. `methods` lists the request methods in order (HEAD
 * responses have no body); a response without framing takes the rest.
 */
export function parseResponses(data: Buffer, methods: string[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const end = data.indexOf("\r\n\r\n", pos);
    if (end < 0) throw new Error(`Incomplete head: ${data.subarray(pos).toString("latin1")}`);
    const lines = data.subarray(pos, end).toString("latin1").split("\r\n");
    pos = end + 4;
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] as string);
    if (m === null) throw new Error(`Bad status line: ${lines[0]}`);
    const headers: Record<string, string[]> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      const k = l.slice(0, c).toLowerCase();
      (headers[k] ??= []).push(l.slice(c + 1).trim());
    }
    const status = Number(m[1]);
    let body: Buffer = Buffer.alloc(0);
    const chunked = headers["transfer-encoding"]?.[0] === "chunked";
    const method = status >= 200 ? methods[i++] : undefined;
    const noBody = status < 200 || status === 204 || status === 304 || method === "HEAD";
    if (noBody) {
      // nothing
    } else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const lf = data.indexOf("\r\n", pos);
        const size = Number.parseInt(data.subarray(pos, lf).toString("latin1"), 16);
        pos = lf + 2;
        if (size === 0) {
          const t = data.indexOf("\r\n", pos);
          pos = t + 2;
          break;
        }
        parts.push(data.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"][0]);
      body = Buffer.from(data.subarray(pos, pos + n));
      pos += n;
    } else {
      body = Buffer.from(data.subarray(pos));
      pos = data.length;
    }
    out.push({
      status,
      reason: m[2] as string,
      headers,
      body: Buffer.from(body),
      chunked,
      header: (name) => headers[name.toLowerCase()]?.[0],
    });
  }
  return out;
}

/** A site served over one in-memory connection. */
export interface Served {
  site: Site;
  clock: Clock;
  tr: StringTransportWithDisconnection;
  channel: HTTPChannel;
  /** Feeds bytes (latin1 string) to the channel. */
  send(data: string | Buffer): void;
  /** Feeds the bytes one at a time. */
  sendBytewise(data: string): void;
  /** Parses what was written so far. */
  responses(methods?: string[]): ParsedResponse[];
}

/** Serves `root` on a fresh in-memory connection, with a `Clock` as the reactor. */
export function serve(root: IResource, options: SiteOptions = {}, clock = new Clock()): Served {
  const site = new Site(root, { reactor: clock, ...options });
  return connectTo(site, clock);
}

/** Opens one more in-memory connection to `site`. */
export function connectTo(site: Site, clock: Clock): Served {
  const tr = new StringTransportWithDisconnection(
    new IPv4Address("TCP", "10.0.0.1", 8080),
    new IPv4Address("TCP", "192.0.2.7", 54321),
  );
  const channel = site.buildProtocol(tr.peerAddress);
  tr.protocol = channel;
  channel.makeConnection(tr);
  return {
    site,
    clock,
    tr,
    channel,
    send: (data) =>
      channel.dataReceived(typeof data === "string" ? Buffer.from(data, "latin1") : data),
    sendBytewise: (data) => {
      for (const c of Buffer.from(data, "latin1")) {
        if (tr.disconnecting) return;
        channel.dataReceived(Buffer.from([c]));
      }
    },
    responses: (methods) => parseResponses(tr.value(), methods),
  };
}
