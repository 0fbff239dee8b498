// Helpers of the HTTP/1.1 engine tests (http-engine*.test.ts): drive a connection with chunks,
// in every split, and compare its events as plain data.

import {
  HTTP11Connection,
  type HTTPEvent,
  type HTTPLimits,
  NEED_DATA,
  PAUSED,
  RemoteProtocolError,
  type Role,
} from "../../src/web/_http/index.js";
import { splits } from "../protocols/_splits.js";

/** An event with body data joined, for comparison. */
export type Seen = Record<string, unknown>;

/** What {@link drive} saw: the events, the error that stopped it, the connection. */
export interface Driven {
  events: Seen[];
  error: RemoteProtocolError | null;
  conn: HTTP11Connection;
  last: string;
}

/** An event as plain data: headers as objects, body data as latin1 text. */
export function simplify(e: HTTPEvent): Seen {
  const out: Seen = { ...e };
  if ("headers" in e) out.headers = Object.fromEntries(e.headers);
  if (e.type === "MessageEnded")
    out.trailers = e.trailers === null ? null : Object.fromEntries(e.trailers);
  if (e.type === "DataReceived") out.data = e.data.toString("latin1");
  return out;
}

/** Feeds `chunks` (then EOF if asked) and collects events, merging adjacent data events. */
export function drive(
  role: Role,
  chunks: Buffer[],
  options: { eof?: boolean; limits?: Partial<HTTPLimits>; conn?: HTTP11Connection } = {},
): Driven {
  const conn = options.conn ?? new HTTP11Connection(role, options.limits);
  const events: Seen[] = [];
  let last = "";
  const pull = (): boolean => {
    for (;;) {
      let ev: ReturnType<HTTP11Connection["nextEvent"]>;
      try {
        ev = conn.nextEvent();
      } catch (e) {
        if (e instanceof RemoteProtocolError) return false;
        throw e;
      }
      if (ev === NEED_DATA || ev === PAUSED) {
        last = ev;
        return true;
      }
      const s = simplify(ev);
      const prev = events[events.length - 1];
      if (s.type === "DataReceived" && prev?.type === "DataReceived") {
        prev.data = (prev.data as string) + (s.data as string);
      } else events.push(s);
      if (ev.type === "ConnectionClosed") {
        last = "closed";
        return true;
      }
    }
  };
  let error: RemoteProtocolError | null = null;
  const catchErr = () => {
    try {
      conn.nextEvent();
    } catch (e) {
      if (e instanceof RemoteProtocolError) error = e;
    }
  };
  if (!pull()) {
    catchErr();
    return { events, error, conn, last };
  }
  for (const c of chunks) {
    conn.receiveData(c);
    if (!pull()) {
      catchErr();
      return { events, error, conn, last };
    }
  }
  if (options.eof) {
    conn.receiveData(Buffer.alloc(0));
    if (!pull()) catchErr();
  }
  return { events, error, conn, last };
}

/** Runs `check` for every split of `data`. */
export function eachSplit(
  data: string | Buffer,
  check: (chunks: Buffer[], name: string) => void,
): void {
  for (const [name, chunks] of splits(data)) check(chunks, name);
}

/** A plain GET request. */
export const GET = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

/** Output chunks joined, as latin1 text. */
export function bytes(chunks: readonly Uint8Array[]): string {
  return Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("latin1");
}
