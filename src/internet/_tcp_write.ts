// The write side of TCPTransport: small writes made during one callback leave together once it
// returns (as Twisted's transports buffer until the reactor gets to them), big ones at once.
//
// Without this, a protocol writing a reply line by line sends a segment per line, and Nagle's
// algorithm holds the second one back until the peer's delayed ACK of the first: 40 ms per reply.

import { Logger } from "../logger/index.js";
import { _bufferFull, _schedulePull } from "./_tcp_producer.js";
import { STREAMING } from "./_tcp_state.js";
import type { TCPTransport } from "./_tcp_transport.js";
import { Failure } from "./failure.js";

const log = new Logger("twisted-ts.internet.tcp");

/**
 * Writes below this many bytes wait for the end of the current callback; larger ones, and a
 * buffer that reaches it, are written at once.
 */
export const COALESCE_LIMIT = 16 * 1024;

/** Transports with small writes waiting. */
let dirty: TCPTransport[] = [];

function flushDirty(): void {
  const list = dirty;
  dirty = [];
  for (const t of list) {
    try {
      _flushPending(t);
    } catch (e) {
      log.failure("Cannot write to {peer}", Failure.from(e), undefined, {
        peer: String(t.getPeer()),
      });
    }
  }
}

/** Flushes `transport` once the current callback returns, with every other one written to. @internal */
export function _flushLater(transport: TCPTransport): void {
  if (dirty.push(transport) === 1) process.nextTick(flushDirty);
}

/** Writes the transport's buffered small writes: one system call (cork/uncork for several). @internal */
export function _flushPending(transport: TCPTransport): void {
  const pending = transport._pending;
  if (pending === null) return;
  transport._pending = null;
  transport._pendingBytes = 0;
  if (!Array.isArray(pending)) {
    _send(transport, pending);
    return;
  }
  const socket = transport.socket;
  if (socket.destroyed) return;
  let ok = true;
  socket.cork();
  for (const chunk of pending) ok = socket.write(chunk) && ok;
  socket.uncork();
  written(transport, ok);
}

/** Writes `data` to the socket now. @internal */
export function _send(transport: TCPTransport, data: Uint8Array | string): void {
  const socket = transport.socket;
  if (!socket.destroyed) written(transport, socket.write(data));
}

/** After a write: pauses a push producer if the socket's buffer is full, or pulls the next chunk. */
function written(transport: TCPTransport, ok: boolean): void {
  if (!ok) {
    _bufferFull(transport);
    return;
  }
  const x = transport._x;
  if (x !== null && x.producer !== null && (transport._flags & STREAMING) === 0) {
    _schedulePull(transport, x);
  }
}
