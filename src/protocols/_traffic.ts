// Traffic logging: TrafficLoggingFactory and SpewingFactory log what connections read and write.

import type { Failure } from "../internet/failure.js";
import type { IProtocol } from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import {
  ProtocolWrapper,
  type ProtocolWrapperClass,
  type WrappedFactory,
  WrappingFactory,
} from "./_wrapping.js";

/** Renders bytes for a log line: printable ASCII as is, the rest escaped, cut at `max` bytes. */
function render(data: Uint8Array | string, max: number): string {
  const b = typeof data === "string" ? Buffer.from(data) : data;
  let out = "";
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return b.length > max ? `${out}… (${b.length} bytes)` : out;
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.length;
}

/**
 * Logs everything a connection reads (`C`, client to us) and writes (`S`), its closing and its
 * end, through `factory.log`.
 */
export class TrafficLoggingProtocol extends ProtocolWrapper {
  /** The connection's number in its factory. */
  readonly connectionNumber: number;

  constructor(factory: WrappingFactory, wrappedProtocol: IProtocol) {
    super(factory, wrappedProtocol);
    this.connectionNumber = (factory as TrafficLoggingFactory).nextConnectionNumber();
  }

  private _log(direction: string, data: Uint8Array | string | null, text?: string): void {
    const f = this.factory as TrafficLoggingFactory;
    f.log.info("{prefix}-{connection} {direction} {bytes}: {data}", {
      prefix: f.logPrefixName,
      connection: this.connectionNumber,
      direction,
      bytes: data === null ? 0 : byteLength(data),
      data: text ?? (data === null ? "" : render(data, f.maxLoggedBytes)),
    });
  }

  override connectionMade(): void {
    this._log("connected", null, String(this.transport?.getPeer() ?? ""));
  }

  override dataReceived(data: Buffer): void {
    this._log("C", data);
    super.dataReceived(data);
  }

  override write(data: Uint8Array | string): void {
    this._log("S", data);
    super.write(data);
  }

  override writeSequence(data: readonly (Uint8Array | string)[]): void {
    for (const d of data) this._log("SV", d);
    super.writeSequence(data);
  }

  override loseConnection(): void {
    this._log("S", null, "*");
    super.loseConnection();
  }

  override connectionLost(reason: Failure): void {
    this._log("ConnectionLost", null, reason.getErrorMessage());
    super.connectionLost(reason);
  }
}

/**
 * Logs the traffic of every connection of a factory, through the logger (namespace
 * `twisted-ts.protocols.policies.traffic`, level info), each line tagged with `logPrefix` and
 * the connection's number.
 *
 * @example
 * ```ts
 * reactor.listenTCP(8000, new TrafficLoggingFactory(Factory.forProtocol(Echo), "echo"));
 * ```
 */
export class TrafficLoggingFactory extends WrappingFactory {
  override protocol: ProtocolWrapperClass = TrafficLoggingProtocol;
  /** Where the traffic goes. */
  log = new Logger("twisted-ts.protocols.policies.traffic");
  /** At most this many bytes of each chunk are rendered in a log line. */
  maxLoggedBytes = 1024;
  private _counter = 0;

  constructor(
    wrappedFactory: WrappedFactory,
    readonly logPrefixName: string,
  ) {
    super(wrappedFactory);
  }

  /** The number of the next connection (1, 2, …). */
  nextConnectionNumber(): number {
    return ++this._counter;
  }

  /** Numbers connections from 1 again. */
  resetCounter(): void {
    this._counter = 0;
  }
}

/** Logs every chunk a connection reads and writes ("Received"/"Sending"), for debugging. */
export class SpewingProtocol extends ProtocolWrapper {
  private static readonly log = new Logger("twisted-ts.protocols.policies.spew");

  override dataReceived(data: Buffer): void {
    SpewingProtocol.log.info("Received: {data}", { data: render(data, 4096) });
    super.dataReceived(data);
  }

  override write(data: Uint8Array | string): void {
    SpewingProtocol.log.info("Sending: {data}", { data: render(data, 4096) });
    super.write(data);
  }

  override writeSequence(data: readonly (Uint8Array | string)[]): void {
    for (const d of data) SpewingProtocol.log.info("Sending: {data}", { data: render(d, 4096) });
    super.writeSequence(data);
  }
}

/** Wraps a factory's protocols in `SpewingProtocol`. */
export class SpewingFactory extends WrappingFactory {
  override protocol: ProtocolWrapperClass = SpewingProtocol;
}
