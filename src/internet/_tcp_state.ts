// The compact state of a TCPTransport: its booleans packed into one small integer, a side
// object, made on first use, for what an idle connection does not need, and the listeners that
// every socket shares (the socket points back at its transport).
//
// Ten thousand idle connections cost what their objects cost: a transport keeps as fields only
// what every connection uses (socket, protocol, addresses, these flags) and puts producers,
// TLS hand-over buffers, close reasons and the client's callbacks in `_TransportExtras`.

import type { Socket } from "node:net";
import type { TCPTransport } from "./_tcp_transport.js";
import type { Failure } from "./failure.js";
import type { IProducer } from "./interfaces.js";

/** `TCPTransport._flags`: from the moment the protocol is attached until the connection closes. */
export const CONNECTED = 1 << 0;
/** `loseConnection` or `abortConnection` was called, or the peer closed. */
export const DISCONNECTING = 1 << 1;
/** The connection is closed and `connectionLost` has run. */
export const DISCONNECTED = 1 << 2;
/** The registered producer is a push (streaming) producer. */
export const STREAMING = 1 << 3;
/** The streaming producer is paused because the socket's buffer is full. */
export const PRODUCER_PAUSED = 1 << 4;
/** `pauseProducing` stopped reading from the socket. */
export const READ_PAUSED = 1 << 5;
/** `socket.end()` was called (or is due once TLS is set up): no more writes. */
export const WRITE_SHUTDOWN = 1 << 6;
/** `loseWriteConnection()` was called. */
export const WRITE_DISCONNECTING = 1 << 7;
/** `TCP_NODELAY` was turned on. */
export const NO_DELAY = 1 << 8;
/** `SO_KEEPALIVE` was turned on. */
export const KEEP_ALIVE = 1 << 9;
/** The transport is on the accepting side (the default side of a `startTLS` handshake). */
export const IS_SERVER = 1 << 10;
/** The connection speaks TLS (from the `startTLS` call on). */
export const TLS_ON = 1 << 11;
/** The socket has the transport's `'drain'` listener (added once a producer registers). */
export const DRAIN_LISTENED = 1 << 12;
/** The socket has the transport's `'finish'` listener (added when the write side is shut). */
export const FINISH_LISTENED = 1 << 13;

/** The state of a transport that an idle connection does not need, made on first use. @internal */
export class _TransportExtras {
  /** The registered producer, if any. */
  producer: IProducer | null = null;
  /** The pull producer's next `resumeProducing`, when one is scheduled. */
  pullScheduled: NodeJS.Immediate | null = null;
  /** Why the connection is going down uncleanly, if it is. */
  reason: Failure | null = null;
  /** Writes made after `startTLS` while the clear-text buffer flushes; `null` otherwise. */
  tlsPending: (Uint8Array | string)[] | null = null;
  /** The host name that was connected to (clients): the default TLS server name. */
  hostname: string | undefined = undefined;
  /** Called after the protocol's `connectionLost` (connectors report `clientConnectionLost`). */
  onLost: ((reason: Failure) => void) | undefined = undefined;
}

// Socket listeners shared by every connection: Node calls them with the socket as `this`, and the
// socket points back at its transport. (A closure per connection and event cost ~300 bytes each.)

const kTransport = Symbol("twisted-ts.transport");

type SocketWithTransport = Socket & { [kTransport]: TCPTransport };

/**
 * Makes `transport` listen to `socket`: data, end, error and close always; drain once a producer
 * is registered and finish once the write side is shut (an idle connection needs neither).
 * @internal
 */
export function _attachSocket(transport: TCPTransport, socket: Socket): void {
  (socket as SocketWithTransport)[kTransport] = transport;
  socket.on("data", onSocketData);
  listenEnd(socket);
  socket.on("error", onSocketError);
  socket.on("close", onSocketClose);
  const flags = transport._flags;
  if ((flags & DRAIN_LISTENED) !== 0) socket.on("drain", onSocketDrain);
  if ((flags & FINISH_LISTENED) !== 0) socket.on("finish", onSocketFinish);
  if ((flags & READ_PAUSED) !== 0) socket.pause();
}

/** Stops listening to `socket` (before `startTLS` hands it over) but for errors and close. @internal */
export function _detachSocket(socket: Socket): void {
  socket.removeListener("data", onSocketData);
  unlistenEnd(socket);
  socket.removeListener("drain", onSocketDrain);
  socket.removeListener("finish", onSocketFinish);
}

/** Stops listening to the close of `socket` (a raw socket now under a TLS socket). @internal */
export function _forgetSocketClose(socket: Socket): void {
  socket.removeListener("close", onSocketClose);
}

/** Sends EOF after the pending writes; the transport's `_onFinish` runs once it is out. @internal */
export function _endSocket(transport: TCPTransport): void {
  if ((transport._flags & FINISH_LISTENED) === 0) {
    transport._flags |= FINISH_LISTENED;
    transport.socket.on("finish", onSocketFinish);
  }
  transport.socket.end();
}

/** `'data'` listener of every transport's socket. */
function onSocketData(this: Socket, data: Buffer): void {
  (this as SocketWithTransport)[kTransport]._onData(data);
}

/** `'end'` listener of every transport's socket. */
function onSocketEnd(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onEnd();
}

// Every net.Socket is made with one 'end' listener of Node's own; a second listener would turn
// the socket's 'end' entry into an array (64 bytes a connection). Instead the transport's listener
// takes the place of Node's and calls it first, as Node would have. Node's listener is recognised
// by its name on the first socket; if it ever changes, sockets simply get a second listener.
let nodeEndListener: ((this: Socket) => void) | null | undefined;

function onSocketEndAfterNode(this: Socket): void {
  nodeEndListener!.call(this);
  (this as SocketWithTransport)[kTransport]._onEnd();
}

/** Adds the transport's `'end'` listener to `socket`. */
function listenEnd(socket: Socket): void {
  if (socket.listenerCount("end") === 1) {
    const first = socket.listeners("end")[0] as (this: Socket) => void;
    if (nodeEndListener === undefined) {
      nodeEndListener = first.name === "onReadableStreamEnd" ? first : null;
    }
    if (first === nodeEndListener) {
      socket.removeListener("end", first);
      socket.on("end", onSocketEndAfterNode);
      return;
    }
  }
  socket.on("end", onSocketEnd);
}

/** Removes the transport's `'end'` listener from `socket`, giving Node's back. */
function unlistenEnd(socket: Socket): void {
  if (socket.listeners("end").includes(onSocketEndAfterNode)) {
    socket.removeListener("end", onSocketEndAfterNode);
    socket.on("end", nodeEndListener!);
  }
  socket.removeListener("end", onSocketEnd);
}

/** `'error'` listener of every transport's socket. */
function onSocketError(this: Socket, err: Error): void {
  (this as SocketWithTransport)[kTransport]._onError(err);
}

/** `'close'` listener of every transport's socket. */
function onSocketClose(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onClose();
}

/** `'drain'` listener of a transport's socket once a producer registered. @internal */
export function onSocketDrain(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onDrain();
}

/** `'finish'` listener of a transport's socket once its write side is shut. */
function onSocketFinish(this: Socket): void {
  (this as SocketWithTransport)[kTransport]._onFinish();
}

/** The class name of an object, for logs. @internal */
export function nameOf(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const ctor = (x as { constructor?: { name?: string } }).constructor;
  return ctor?.name || typeof x;
}
