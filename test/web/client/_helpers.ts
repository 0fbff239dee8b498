// Test helpers of the HTTP client tests: a client protocol on a StringTransport, and body recorders.

import type { Deferred } from "../../../src/internet/defer.js";
import type { Failure } from "../../../src/internet/failure.js";
import type { IProtocol, ITransport } from "../../../src/internet/interfaces.js";
import { Clock, StringTransportWithDisconnection } from "../../../src/testing/index.js";
import { Headers } from "../../../src/web/_headers.js";
import {
  HTTP11ClientProtocol,
  type HTTP11ClientProtocolOptions,
  type IBodyProducer,
  Request,
  URI,
} from "../../../src/web/client/index.js";

/** A client protocol connected to an in-memory transport. */
export interface Connected {
  proto: HTTP11ClientProtocol;
  tr: StringTransportWithDisconnection;
  clock: Clock;
  /** Feeds bytes (a latin1 string or a Buffer) to the protocol. */
  feed(data: string | Buffer): void;
  /** What the protocol wrote, as latin1. */
  written(): string;
}

/** Connects a fresh `HTTP11ClientProtocol` (with a `Clock`) to a `StringTransportWithDisconnection`. */
export function connected(options: Omit<HTTP11ClientProtocolOptions, "clock"> = {}): Connected {
  const clock = new Clock();
  const proto = new HTTP11ClientProtocol({ clock, ...options });
  const tr = new StringTransportWithDisconnection();
  tr.protocol = proto;
  proto.makeConnection(tr);
  return {
    proto,
    tr,
    clock,
    feed: (data) =>
      proto.dataReceived(typeof data === "string" ? Buffer.from(data, "latin1") : data),
    written: () => tr.value().toString("latin1"),
  };
}

/** A request for `uri`. */
export function makeRequest(
  method: string,
  uri: string,
  options: {
    headers?: Record<string, string[]>;
    body?: IBodyProducer | null;
    persistent?: boolean;
  } = {},
): Request {
  return new Request(
    method,
    URI.fromString(uri),
    new Headers(options.headers ?? {}),
    options.body ?? null,
    { persistent: options.persistent ?? false },
  );
}

/** Records what a body protocol receives. */
export class BodyRecorder implements IProtocol {
  transport: ITransport | null = null;
  chunks: Buffer[] = [];
  reason: Failure | null = null;
  lostCount = 0;
  /** Called with each chunk (to pause or stop from inside `dataReceived`). */
  onData: ((data: Buffer, self: BodyRecorder) => void) | null = null;

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }
  connectionMade(): void {}
  dataReceived(data: Buffer): void {
    this.chunks.push(Buffer.from(data));
    this.onData?.(data, this);
  }
  connectionLost(reason: Failure): void {
    this.reason = reason;
    this.lostCount++;
  }
  get body(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

/** A body producer under the test's control. */
export class ControlledProducer implements IBodyProducer {
  consumer: { write(data: Uint8Array | string): void } | null = null;
  finished: Deferred<void> | null = null;
  state: "idle" | "producing" | "paused" | "stopped" = "idle";
  stopCount = 0;

  constructor(
    readonly length: IBodyProducer["length"],
    private readonly make: () => Deferred<void>,
  ) {}

  startProducing(consumer: { write(data: Uint8Array | string): void }): Deferred<void> {
    this.consumer = consumer;
    this.state = "producing";
    this.finished = this.make();
    return this.finished;
  }
  pauseProducing(): void {
    this.state = "paused";
  }
  resumeProducing(): void {
    this.state = "producing";
  }
  stopProducing(): void {
    this.state = "stopped";
    this.stopCount++;
  }
}
