// Test helpers of the HTTP client tests: a client protocol on a StringTransport, and body recorders.

import { Deferred } from "../../../src/internet/defer.js";
import { Failure } from "../../../src/internet/failure.js";
import type { IProtocol, ITransport } from "../../../src/internet/interfaces.js";
import {
  Clock,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../../src/testing/index.js";
import { Headers } from "../../../src/web/_headers.js";
import {
  type BodyLength,
  HTTP11ClientProtocol,
  type HTTP11ClientProtocolOptions,
  type HTTPVersionTuple,
  type IAgent,
  type IBodyProducer,
  type IClientRequest,
  type IResponse,
  Request,
  ResponseDone,
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

/** A response with a canned body, delivered at once (for tests of agents that wrap agents). */
export class StubResponse implements IResponse {
  readonly version: HTTPVersionTuple = ["HTTP", 1, 1];
  readonly headers: Headers;
  readonly length: BodyLength;
  previousResponse: IResponse | null = null;
  delivered = false;
  /** Set to fail the body instead of ending it with ResponseDone. */
  bodyFailure: Failure | null = null;

  constructor(
    readonly code: number,
    headers: Record<string, string[]> = {},
    readonly body: Buffer | string = "",
    readonly request: IClientRequest | null = null,
    readonly phrase = "Phrase",
  ) {
    this.headers = new Headers(headers);
    this.length = Buffer.byteLength(body);
  }

  setPreviousResponse(response: IResponse): void {
    this.previousResponse = response;
  }

  deliverBody(protocol: IProtocol): void {
    this.delivered = true;
    protocol.makeConnection(new StringTransport());
    if (this.body.length > 0) protocol.dataReceived(Buffer.from(this.body));
    protocol.connectionLost(this.bodyFailure ?? new Failure(new ResponseDone()));
  }
}

/** One request made through a `FakeAgent`. */
export interface FakeRequest {
  method: string;
  uri: string;
  headers: Headers;
  bodyProducer: IBodyProducer | null;
  deferred: Deferred<IResponse>;
}

/** An agent that records requests; the test fires their Deferreds. */
export class FakeAgent implements IAgent {
  readonly requests: FakeRequest[] = [];

  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<IResponse> {
    const deferred = new Deferred<IResponse>();
    this.requests.push({
      method,
      uri,
      headers: headers ?? new Headers(),
      bodyProducer: bodyProducer ?? null,
      deferred,
    });
    return deferred;
  }

  /** Answers the last request with `response` (its `request` set from the request made). */
  answer(code: number, headers: Record<string, string[]> = {}, body = ""): StubResponse {
    const last = this.requests[this.requests.length - 1] as FakeRequest;
    const response = new StubResponse(code, headers, body, {
      method: last.method,
      absoluteURI: last.uri,
      headers: last.headers,
    });
    last.deferred.callback(response);
    return response;
  }
}
