// ContentDecoderAgent: asks for compressed responses and decodes gzip/deflate bodies as they stream in.

import type { Transform } from "node:stream";
import { createGunzip, createInflate, createInflateRaw } from "node:zlib";
import type { Deferred } from "../../internet/defer.js";
import { ConnectionAborted } from "../../internet/error.js";
import { Failure } from "../../internet/failure.js";
import type { IAddress, IProtocol, IPushProducer, ITransport } from "../../internet/interfaces.js";
import { Headers } from "../_headers.js";
import { fieldTokens } from "../_http/index.js";
import type { IAgent } from "./_agent.js";
import { PotentialDataLoss, ResponseDone, ResponseFailed } from "./_errors.js";
import { type BodyLength, type IBodyProducer, UNKNOWN_LENGTH } from "./_producer.js";
import {
  type _BodySource,
  type HTTPVersionTuple,
  type IClientRequest,
  type IResponse,
  ResponseBodyTransport,
} from "./_response.js";

/** Makes a decompressor for a body's first bytes. */
type DecompressorFactory = (first: Buffer) => Transform;

/**
 * Stands between a compressed body and the user's protocol: bytes go through a zlib stream
 * (Node's thread pool), the output goes to the protocol; back-pressure both ways. It is the
 * body source of the `ResponseBodyTransport` the user's protocol gets: pausing that transport
 * pauses the decoded output.
 */
class DecodingProtocol implements IProtocol, _BodySource {
  transport: ITransport | null = null;
  private z: Transform | null = null;
  private outputPaused = false;
  private inputPaused = false;
  private done = false;
  private stopped = false;

  constructor(
    private readonly wrapped: IProtocol,
    private readonly factory: DecompressorFactory,
  ) {}

  makeConnection(transport: ITransport): void {
    this.transport = transport;
    this.connectionMade();
  }

  connectionMade(): void {
    this.wrapped.makeConnection(new ResponseBodyTransport(this));
  }

  private start(first: Buffer): Transform {
    const z = this.factory(first);
    this.z = z;
    z.on("data", (chunk: Buffer) => {
      if (!this.done) this.wrapped.dataReceived(chunk);
    });
    z.on("drain", () => {
      if (this.inputPaused) {
        this.inputPaused = false;
        (this.transport as Partial<IPushProducer> | null)?.resumeProducing?.();
      }
    });
    z.on("error", (err) => this.finish(new Failure(new ResponseFailed([new Failure(err)]))));
    if (this.outputPaused) z.pause();
    return z;
  }

  dataReceived(data: Buffer): void {
    if (this.done || this.stopped) return;
    const z = this.z ?? this.start(data);
    // The body's bytes are views of the receive buffer, valid after this call: no copy needed.
    if (!z.write(data) && !this.inputPaused) {
      this.inputPaused = true;
      (this.transport as Partial<IPushProducer> | null)?.pauseProducing?.();
    }
  }

  connectionLost(reason: Failure): void {
    if (this.done) return;
    const complete = reason.check(ResponseDone, PotentialDataLoss) !== null;
    const z = this.z;
    if (!complete || z === null || this.stopped) {
      // A failure, or an empty body (HEAD, 204…): nothing to decode.
      z?.destroy();
      this.finish(reason);
      return;
    }
    z.once("end", () => this.finish(reason));
    z.end();
  }

  private finish(reason: Failure): void {
    if (this.done) return;
    this.done = true;
    this.z?.destroy();
    let given = reason;
    if (reason.value instanceof ResponseFailed && this.stopped) {
      given = new Failure(new ResponseFailed([new Failure(new ConnectionAborted())]));
    }
    this.wrapped.connectionLost(given);
  }

  pauseBody(): void {
    this.outputPaused = true;
    this.z?.pause();
  }

  resumeBody(): void {
    this.outputPaused = false;
    this.z?.resume();
  }

  bodyConsumerAttached(): void {}

  getPeer(): IAddress {
    return (this.transport as ITransport).getPeer();
  }

  getHost(): IAddress {
    return (this.transport as ITransport).getHost();
  }

  stopBody(): void {
    if (this.done || this.stopped) return;
    this.stopped = true;
    this.z?.destroy();
    (this.transport as Partial<IPushProducer> | null)?.stopProducing?.();
    // The body's end (a ResponseFailed) comes back through connectionLost.
    if (!this.done)
      this.finish(new Failure(new ResponseFailed([new Failure(new ConnectionAborted())])));
  }
}

/**
 * A response whose body is decoded (twisted.web.client's `_GzipDecoder` and friends): the
 * same status and headers, minus the decoded coding in `Content-Encoding` and without
 * `Content-Length`; `length` is `UNKNOWN_LENGTH`.
 */
export class DecodedResponse implements IResponse {
  readonly version: HTTPVersionTuple;
  readonly code: number;
  readonly phrase: string;
  readonly headers: Headers;
  readonly length: BodyLength = UNKNOWN_LENGTH;
  readonly request: IClientRequest | null;

  constructor(
    /** The response as received. */
    readonly original: IResponse,
    private readonly factory: DecompressorFactory,
  ) {
    this.version = original.version;
    this.code = original.code;
    this.phrase = original.phrase;
    this.request = original.request;
    const headers = original.headers.copy();
    const codings = codingsOf(headers);
    codings.pop();
    if (codings.length === 0) headers.removeHeader("content-encoding");
    else headers.setRawHeaders("Content-Encoding", [codings.join(", ")]);
    headers.removeHeader("content-length");
    this.headers = headers;
  }

  get previousResponse(): IResponse | null {
    return this.original.previousResponse;
  }

  setPreviousResponse(response: IResponse): void {
    this.original.setPreviousResponse(response);
  }

  /** Delivers the decoded body to `protocol`. */
  deliverBody(protocol: IProtocol): void {
    this.original.deliverBody(new DecodingProtocol(protocol, this.factory));
  }
}

/** Decodes `Content-Encoding: gzip` (and `x-gzip`) bodies. */
export class GzipDecoder extends DecodedResponse {
  constructor(response: IResponse) {
    super(response, () => createGunzip());
  }
}

/**
 * Decodes `Content-Encoding: deflate` bodies: zlib-wrapped as the RFC says, or raw deflate as
 * some servers send (told apart by the first two bytes).
 */
export class DeflateDecoder extends DecodedResponse {
  constructor(response: IResponse) {
    super(response, (first) => {
      const zlibHeader =
        first.length >= 2 &&
        ((first[0] as number) & 0x0f) === 8 &&
        (((first[0] as number) << 8) | (first[1] as number)) % 31 === 0;
      return zlibHeader ? createInflate() : createInflateRaw();
    });
  }
}

/** A decoder: makes the decoded response from a response. */
export type DecoderClass = new (response: IResponse) => IResponse;

/** The content codings of a response, in the order applied. */
function codingsOf(headers: Headers): string[] {
  return fieldTokens(headers, "content-encoding").filter((t) => t !== "identity");
}

/**
 * Asks for compressed responses (`Accept-Encoding`) and decodes them
 * (twisted.web.client.ContentDecoderAgent). `decoders` maps coding names to decoders, in order
 * of preference; by default gzip and deflate. Codings are undone from the last applied; a
 * coding it does not know stops the decoding there (and stays in `Content-Encoding`).
 * Decoding streams: the body is never held whole, and pausing the body's reader pauses the
 * connection.
 *
 * Cancel: as the wrapped agent.
 *
 * @example
 * ```ts
 * const agent = new ContentDecoderAgent(new Agent(reactor));
 * const body = await readBody(await agent.request("GET", "http://example.com/big.json"));
 * ```
 */
export class ContentDecoderAgent implements IAgent {
  private readonly decoders: Map<string, DecoderClass>;
  private readonly acceptEncoding: string;

  constructor(
    /** The agent that makes the requests. */
    readonly agent: IAgent,
    decoders: readonly (readonly [string, DecoderClass])[] = [
      ["gzip", GzipDecoder],
      ["deflate", DeflateDecoder],
    ],
  ) {
    this.decoders = new Map(decoders.map(([name, cls]) => [name.toLowerCase(), cls]));
    if (this.decoders.has("gzip") && !this.decoders.has("x-gzip")) {
      this.decoders.set("x-gzip", this.decoders.get("gzip") as DecoderClass);
    }
    this.acceptEncoding = decoders.map(([name]) => name.toLowerCase()).join(", ");
  }

  request(
    method: string,
    uri: string,
    headers?: Headers | null,
    bodyProducer?: IBodyProducer | null,
  ): Deferred<IResponse> {
    const sent = headers == null ? new Headers() : headers.copy();
    sent.setRawHeaders("Accept-Encoding", [this.acceptEncoding]);
    return this.agent
      .request(method, uri, sent, bodyProducer ?? null)
      .addCallback((response) => this.decode(response));
  }

  /** Wraps `response` in the decoders its `Content-Encoding` asks for. */
  private decode(response: IResponse): IResponse {
    const codings = codingsOf(response.headers);
    let current = response;
    while (codings.length > 0) {
      const decoder = this.decoders.get(codings[codings.length - 1] as string);
      if (decoder === undefined) break;
      codings.pop();
      current = new decoder(current);
    }
    return current;
  }
}
