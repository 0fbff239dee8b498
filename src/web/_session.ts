// Session: per-client state found by a cookie, expiring after a period without use.

import { randomBytes } from "node:crypto";
import type { IDelayedCall, IReactorTime } from "../internet/interfaces.js";

/**
 * A client's session (Twisted's `server.Session`): made by `request.getSession()`, kept by the
 * site under a random 256-bit id sent as a cookie, and expired after `sessionTimeout` seconds
 * without a request using it. Store what you need with `set`/`get`.
 *
 * @example
 * ```ts
 * render_GET(request: Request) {
 *   const s = request.getSession();
 *   const n = ((s.get("visits") as number | undefined) ?? 0) + 1;
 *   s.set("visits", n);
 *   return `visit ${n}`;
 * }
 * ```
 */
export class Session {
  /** The session id (the cookie's value). */
  readonly uid: string;
  /** Seconds without use after which the session expires. */
  sessionTimeout: number;
  /** The last time (reactor seconds) a request used the session. */
  lastModified: number;
  private readonly values = new Map<string, unknown>();
  private readonly expireCallbacks: (() => void)[] = [];
  private timer: IDelayedCall | null = null;
  private expired = false;

  constructor(
    private readonly sessions: Map<string, Session>,
    private readonly reactor: IReactorTime,
    options: { uid?: string; sessionTimeout?: number } = {},
  ) {
    this.uid = options.uid ?? randomBytes(32).toString("hex");
    this.sessionTimeout = options.sessionTimeout ?? 900;
    this.lastModified = reactor.seconds();
    this.sessions.set(this.uid, this);
    this.timer = reactor.callLater(this.sessionTimeout, () => this.expire());
  }

  /** A value stored in the session. */
  get(key: string): unknown {
    return this.values.get(key);
  }

  /** Stores a value in the session. */
  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }

  /** Removes a stored value. */
  delete(key: string): boolean {
    return this.values.delete(key);
  }

  /** Marks the session as used now: its expiry starts again. */
  touch(): void {
    if (this.expired) return;
    this.lastModified = this.reactor.seconds();
    this.timer?.reset(this.sessionTimeout);
  }

  /** Calls `callback` when the session expires. */
  notifyOnExpire(callback: () => void): void {
    this.expireCallbacks.push(callback);
  }

  /** Ends the session now: the site forgets it and the expiry callbacks run. */
  expire(): void {
    if (this.expired) return;
    this.expired = true;
    if (this.timer?.active()) this.timer.cancel();
    this.timer = null;
    this.sessions.delete(this.uid);
    for (const cb of this.expireCallbacks.splice(0)) cb();
  }
}
