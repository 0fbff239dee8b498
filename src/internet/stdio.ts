// StandardIO: a Protocol connected to this process's standard input and output (twisted.internet.stdio).

import type { Readable, Writable } from "node:stream";
import { _globalReactor } from "./_global.js";
import { _PipeWriter } from "./_process.js";
import { ConnectionDone, ConnectionLost } from "./error.js";
import { Failure } from "./failure.js";
import type {
  IAddress,
  IConsumer,
  IProducer,
  IProtocol,
  IPushProducer,
  ITransport,
} from "./interfaces.js";
import { _callSafely } from "./protocol.js";

/** The address of either end of standard I/O: a pipe has no network address. */
export class PipeAddress implements IAddress {
  /** Not an IP address: no `type`. */
  declare readonly type?: never;

  equals(other: unknown): boolean {
    return other instanceof PipeAddress;
  }

  toString(): string {
    return "PipeAddress()";
  }
}

/** What `StandardIO` needs of a reactor: registration for closing at shutdown. */
export interface StandardIOReactor {
  _track(resource: { _shutdown(): void }): void;
  _untrack(resource: { _shutdown(): void }): void;
}

/** Options of `StandardIO`. */
export interface StandardIOOptions {
  /** Where input comes from (default `process.stdin`). */
  stdin?: Readable;
  /** Where output goes (default `process.stdout`). */
  stdout?: Writable;
  /** The reactor whose `stop()` stops reading (default: the global reactor, if loaded). */
  reactor?: StandardIOReactor;
}

type HalfCloseable = { readConnectionLost?: () => void; writeConnectionLost?: () => void };

function defaultReactor(): StandardIOReactor | null {
  try {
    const r = _globalReactor<Partial<StandardIOReactor>>();
    return typeof r._track === "function" ? (r as StandardIOReactor) : null;
  } catch {
    return null;
  }
}

/**
 * Connects a `Protocol` to standard input and output, as a transport: bytes read from stdin go
 * to `dataReceived`, `transport.write()` writes to stdout (with flow control for a registered
 * producer), and `pauseProducing()` stops reading stdin.
 *
 * - End of input: a protocol with `readConnectionLost()` (a half-closeable one) gets it and
 *   may keep writing until it calls `loseConnection()`; any other protocol gets
 *   `connectionLost(ConnectionDone)` at once. Output is not ended then, so that `console.log`
 *   keeps working.
 * - `loseConnection()` stops reading, ends the output after pending data, then calls
 *   `connectionLost(ConnectionDone)`. `loseWriteConnection()` ends only the output
 *   (a half-closeable protocol gets `writeConnectionLost()`).
 * - Output that breaks (the reader went away) loses the connection with `ConnectionLost`.
 * - `reactor.stop()` stops reading input.
 *
 * @example
 * ```ts
 * class Shout extends LineReceiver {
 *   override lineReceived(line: Buffer) {
 *     this.sendLine(Buffer.from(line.toString().toUpperCase()));
 *   }
 * }
 * new StandardIO(new Shout());
 * reactor.run();
 * ```
 */
export class StandardIO implements ITransport, IConsumer, IPushProducer {
  /** True once `loseConnection` was called. */
  disconnecting = false;
  /** True once the protocol's `connectionLost` was called. */
  disconnected = false;
  /** The connected protocol (`null` after `connectionLost`). */
  protocol: IProtocol | null;
  private reader: Readable | null;
  private readonly writer: _PipeWriter;
  private readonly reactor: StandardIOReactor | null;
  private readEOF = false;

  constructor(protocol: IProtocol, options: StandardIOOptions = {}) {
    this.protocol = protocol;
    const stdin = options.stdin ?? process.stdin;
    const stdout = options.stdout ?? process.stdout;
    this.reactor = options.reactor ?? defaultReactor();
    this.writer = new _PipeWriter(stdout, (error) => this.writeLost(error));
    this.reader = stdin;
    stdin.on("end", this.onEnd);
    stdin.on("error", this.onReadError);
    stdin.on("close", this.onReadClose);
    this.reactor?._track(this);
    _callSafely("makeConnection", () => protocol.makeConnection(this));
    // Added after connectionMade, so that a pauseProducing() there is kept.
    if (this.reader === stdin) stdin.on("data", this.onData);
  }

  private readonly onData = (data: Buffer | string): void => {
    const p = this.protocol;
    if (p === null || this.disconnecting) return;
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const f = _callSafely("dataReceived", () => p.dataReceived(bytes));
    if (f !== null) this.connectionLost(f);
  };

  private readonly onEnd = (): void => {
    this.readLost(new Failure(new ConnectionDone()));
  };

  private readonly onReadError = (err: Error): void => {
    this.readLost(
      new Failure(new ConnectionLost(`Standard input failed: ${err.message}`, { cause: err })),
    );
  };

  private readonly onReadClose = (): void => {
    this.readLost(new Failure(new ConnectionLost("Standard input was closed")));
  };

  private stopReading(): void {
    const r = this.reader;
    if (r === null) return;
    this.reader = null;
    r.pause();
    r.removeListener("data", this.onData);
    r.removeListener("end", this.onEnd);
    r.removeListener("close", this.onReadClose);
    // The error listener stays: an error on a stream nobody listens to would crash the process.
  }

  /** End of input (or an input error): tell a half-closeable protocol, else lose the connection. */
  private readLost(reason: Failure): void {
    if (this.reader === null) return;
    this.stopReading();
    this.readEOF = true;
    if (this.disconnected) return;
    if (this.disconnecting) return; // connectionLost follows when the output is done
    const p = this.protocol as (IProtocol & HalfCloseable) | null;
    if (reason.check(ConnectionDone) && typeof p?.readConnectionLost === "function") {
      const f = _callSafely("readConnectionLost", () => p.readConnectionLost?.());
      if (f !== null) this.connectionLost(f);
      // Both halves closed: the connection is gone.
      else if (this.writer.disconnected) this.connectionLost(reason);
      return;
    }
    this.connectionLost(reason);
  }

  /** The output is finished (after loseConnection/loseWriteConnection) or broke. */
  private writeLost(error: Error | null): void {
    if (this.disconnected) return;
    const reason = new Failure(
      error === null
        ? new ConnectionDone()
        : new ConnectionLost(`Standard output failed: ${error.message}`, { cause: error }),
    );
    if (this.disconnecting || this.readEOF || error !== null) {
      this.connectionLost(reason);
      return;
    }
    const p = this.protocol as (IProtocol & HalfCloseable) | null;
    if (typeof p?.writeConnectionLost === "function") {
      const f = _callSafely("writeConnectionLost", () => p.writeConnectionLost?.());
      if (f !== null) this.connectionLost(f);
    }
  }

  private connectionLost(reason: Failure): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.stopReading();
    this.reactor?._untrack(this);
    const p = this.protocol;
    this.protocol = null;
    if (p !== null) _callSafely("connectionLost", () => p.connectionLost(reason));
  }

  /** Writes to standard output; dropped once the output is closing or closed. */
  write(data: Uint8Array | string): void {
    if (!this.disconnected) this.writer.write(data);
  }

  /** Writes several chunks to standard output at once. */
  writeSequence(data: readonly (Uint8Array | string)[]): void {
    if (!this.disconnected) this.writer.writeSequence(data);
  }

  /**
   * Stops reading input, ends the output after pending data (and once a registered producer is
   * unregistered), then calls the protocol's `connectionLost(ConnectionDone)`.
   */
  loseConnection(): void {
    if (this.disconnecting || this.disconnected) return;
    this.disconnecting = true;
    this.stopReading();
    if (this.writer.disconnected) this.connectionLost(new Failure(new ConnectionDone()));
    else this.writer.loseConnection();
  }

  /** Ends the output after pending data, and keeps reading input. */
  loseWriteConnection(): void {
    if (!this.disconnected) this.writer.loseConnection();
  }

  /** A `PipeAddress`. */
  getPeer(): PipeAddress {
    return new PipeAddress();
  }

  /** A `PipeAddress`. */
  getHost(): PipeAddress {
    return new PipeAddress();
  }

  /** Registers a producer writing to standard output (see `IConsumer`). */
  registerProducer(producer: IProducer, streaming: boolean): void {
    this.writer.registerProducer(producer, streaming);
  }

  /** Unregisters the producer; a pending `loseConnection` then proceeds. */
  unregisterProducer(): void {
    this.writer.unregisterProducer();
  }

  /** Stops reading standard input until `resumeProducing`. */
  pauseProducing(): void {
    this.reader?.pause();
  }

  /** Resumes reading standard input. */
  resumeProducing(): void {
    this.reader?.resume();
  }

  /** Loses the connection (as `loseConnection`). */
  stopProducing(): void {
    this.loseConnection();
  }

  /** @internal the reactor stops: stop reading input so that the process can exit */
  _shutdown(): void {
    this.stopReading();
    this.reactor?._untrack(this);
  }

  toString(): string {
    return "<StandardIO>";
  }
}
