// The consumer side of TCPTransport: a registered producer is paused while the socket's buffer
// is full and resumed on 'drain' (streaming), or asked for more each time there is room (pull).

import {
  type _TransportExtras,
  DISCONNECTED,
  DISCONNECTING,
  DRAIN_LISTENED,
  nameOf,
  onSocketDrain,
  PRODUCER_PAUSED,
  STREAMING,
  WRITE_DISCONNECTING,
} from "./_tcp_state.js";
import type { TCPTransport } from "./_tcp_transport.js";
import type { IProducer, IPushProducer } from "./interfaces.js";

/** `TCPTransport.registerProducer`. @internal */
export function _registerProducer(
  transport: TCPTransport,
  producer: IProducer,
  streaming: boolean,
): void {
  const current = transport.producer;
  if (current !== null) {
    throw new Error(
      `Cannot register producer ${nameOf(producer)}: producer ${nameOf(current)} was never unregistered`,
    );
  }
  if (transport.disconnected) {
    producer.stopProducing();
    return;
  }
  const x = transport._extras();
  x.producer = producer;
  let flags = transport._flags & ~(STREAMING | PRODUCER_PAUSED);
  if (streaming) flags |= STREAMING;
  if ((flags & DRAIN_LISTENED) === 0) {
    // Only a producer needs 'drain': an idle connection goes without the listener.
    flags |= DRAIN_LISTENED;
    // While STARTTLS hands the socket over, _attachSocket adds it to the TLS socket.
    if (x.tlsPending === null) transport.socket.on("drain", onSocketDrain);
  }
  transport._flags = flags;
  if (!streaming) {
    (producer as IPushProducer).resumeProducing();
  } else if (transport.socket.writableNeedDrain) {
    transport._flags |= PRODUCER_PAUSED;
    (producer as IPushProducer).pauseProducing();
  }
}

/** `TCPTransport.unregisterProducer`. @internal */
export function _unregisterProducer(transport: TCPTransport): void {
  const x = transport._x;
  if (x !== null) {
    x.producer = null;
    if (x.pullScheduled !== null) clearImmediate(x.pullScheduled);
    x.pullScheduled = null;
  }
  const flags = transport._flags & ~PRODUCER_PAUSED;
  transport._flags = flags;
  if ((flags & DISCONNECTED) !== 0) return;
  if ((flags & (DISCONNECTING | WRITE_DISCONNECTING)) !== 0) transport._shutdownWrite();
}

/** The socket's buffer is full: pauses a streaming producer. @internal */
export function _bufferFull(transport: TCPTransport): void {
  const producer = transport.producer;
  const flags = transport._flags;
  if (producer !== null && (flags & (STREAMING | PRODUCER_PAUSED)) === STREAMING) {
    transport._flags = flags | PRODUCER_PAUSED;
    _callProducer(transport, producer, "pauseProducing");
  }
}

/** A write went through with a pull producer registered: ask it for more on the next turn. @internal */
export function _schedulePull(transport: TCPTransport, x: _TransportExtras): void {
  if (x.pullScheduled === null) x.pullScheduled = setImmediate(pullTick, transport);
}

/** The socket's buffer drained: resumes the producer. @internal */
export function _drained(transport: TCPTransport): void {
  const producer = transport.producer;
  if (producer === null || transport.disconnected) return;
  const flags = transport._flags;
  if ((flags & STREAMING) === 0) {
    _callProducer(transport, producer, "resumeProducing");
  } else if ((flags & PRODUCER_PAUSED) !== 0) {
    transport._flags = flags & ~PRODUCER_PAUSED;
    _callProducer(transport, producer, "resumeProducing");
  }
}

function pullTick(transport: TCPTransport): void {
  const x = transport._x;
  if (x === null) return;
  x.pullScheduled = null;
  const producer = x.producer;
  if (producer === null || (transport._flags & (STREAMING | DISCONNECTED)) !== 0) return;
  if (transport.socket.writableNeedDrain) return; // 'drain' will ask
  _callProducer(transport, producer, "resumeProducing");
}

/** Calls a producer method; an exception drops the connection. @internal */
export function _callProducer(
  transport: TCPTransport,
  producer: IProducer,
  method: keyof IPushProducer,
): void {
  try {
    (producer as IPushProducer)[method]();
  } catch (e) {
    transport._protocolFailed(`the producer's ${method}`, e);
  }
}
