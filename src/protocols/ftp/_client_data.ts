// Client data connections: the data port protocol, passive (connect) and active (listen) setup.

import type { Failure } from "../../internet/failure.js";
import type {
  IAddress,
  IConnector,
  IConsumer,
  IDelayedCall,
  IHalfCloseableProtocol,
  IListeningPort,
  IProducer,
  IProtocol,
  IReactorTCP,
  IReactorTime,
  ITLSTransport,
  TLSContextOptions,
} from "../../internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../internet/protocol.js";
import { unmapHost } from "./_commands.js";
import { FTPClientUsageError } from "./_errors.js";

/** Where a download goes: a protocol (`dataReceived`, as in Twisted) or a consumer (`write`). */
export type DownloadSink = Pick<IProtocol, "dataReceived"> | IConsumer;

/** The reactor the client needs for data connections. */
export type ClientDataReactor = IReactorTCP & IReactorTime;

/**
 * The protocol of a client data connection. Downloads go to `sink`; uploads are written with
 * the consumer methods. It half-closes to finish an upload and waits for the server to close
 * (after a TLS close_notify), so that nothing the server sent — TLS session tickets — is left
 * unread, which would make the kernel reset the connection and lose the end of the upload.
 */
export class DataPortProtocol extends Protocol implements IHalfCloseableProtocol {
  /** Settles with the `connectionLost` reason. */
  readonly whenClosed: Promise<Failure>;
  /** Settles once connected (and TLS started, if asked). */
  readonly whenConnected: Promise<DataPortProtocol>;
  private closed!: (reason: Failure) => void;
  private connectedNow!: (p: DataPortProtocol) => void;
  private sink: DownloadSink | null = null;
  private early: Buffer[] = [];
  private finishing = false;

  constructor(private readonly tls: TLSContextOptions | null) {
    super();
    this.whenClosed = new Promise((resolve) => {
      this.closed = resolve;
    });
    this.whenConnected = new Promise((resolve) => {
      this.connectedNow = resolve;
    });
  }

  /** The transport with its TCP/TLS methods. */
  get tcp(): ITLSTransport {
    return this.transport as ITLSTransport;
  }

  override connectionMade(): void {
    if (this.tls !== null) this.tcp.startTLS({ ...this.tls, isServer: false });
    this.connectedNow(this);
  }

  /** Sends what arrives to `sink`; a consumer gets the transport as its streaming producer. */
  receiveInto(sink: DownloadSink): void {
    this.sink = sink;
    for (const chunk of this.early.splice(0)) deliver(sink, chunk);
    if ("registerProducer" in sink && this.connected) sink.registerProducer(this.tcp, true);
  }

  override dataReceived(data: Buffer): void {
    if (this.finishing) return; // after an upload: TLS records nobody reads
    if (this.sink === null) this.early.push(data);
    else deliver(this.sink, data);
  }

  /** Ends an upload: sends EOF (after TLS close_notify) and lets the server close. */
  finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    if (this.connected) this.tcp.loseWriteConnection();
  }

  readConnectionLost(): void {
    this.tcp.loseConnection();
  }

  writeConnectionLost(): void {}

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    const sink = this.sink;
    this.sink = null;
    if (sink !== null && "unregisterProducer" in sink) sink.unregisterProducer();
    this.closed(reason);
  }
}

function deliver(sink: DownloadSink, data: Buffer): void {
  if ("write" in sink) sink.write(data);
  else sink.dataReceived(data);
}

/**
 * The consumer `storeFile` gives: what is written goes to the data connection; `finish()`
 * ends the upload (Twisted's `IFinishableConsumer`).
 */
export interface IFinishableConsumer extends IConsumer {
  /** Ends the upload: the server then stores the file and replies. */
  finish(): void;
}

/** The upload consumer over a data connection. */
export class UploadConsumer implements IFinishableConsumer {
  constructor(private readonly dtp: DataPortProtocol) {}
  registerProducer(producer: IProducer, streaming: boolean): void {
    this.dtp.tcp.registerProducer(producer, streaming);
  }
  unregisterProducer(): void {
    this.dtp.tcp.unregisterProducer();
  }
  write(data: Uint8Array | string): void {
    this.dtp.tcp.write(data);
  }
  finish(): void {
    this.dtp.finish();
  }
}

/** A data connection being set up: connected later, or given up. */
export interface PendingDataConnection {
  /** Fires with the connected protocol; fails on refusal or timeout. */
  readonly connected: Promise<DataPortProtocol>;
  /** Gives up: stops connecting or listening, aborts the connection. */
  abort(): void;
}

/**
 * The TLS options of a data connection: the client's, plus the control connection's TLS
 * session (to be resumed: servers such as vsftpd with `require_ssl_reuse` insist) and the name
 * its certificate was checked against. The session comes from the transport's `getSession()`
 * (or its socket's, for transports without it).
 */
export function dataTLSOptions(
  control: ITLSTransport,
  tlsOptions: TLSContextOptions | undefined,
): TLSContextOptions {
  const t = control as ITLSTransport & { getHandle?: () => unknown };
  const socket = t.getHandle?.() as
    | { getSession?: () => Buffer | undefined; servername?: string | false }
    | undefined;
  const session = control.getSession?.() ?? socket?.getSession?.();
  const peer = (t.getPeer() as { host?: string }).host;
  const options: TLSContextOptions = { ...tlsOptions, isServer: false };
  if (session !== undefined) options.session = session;
  if (options.servername === undefined && typeof socket?.servername === "string") {
    options.servername = socket.servername;
  }
  if (options.servername === undefined && peer !== undefined) options.host = unmapHost(peer);
  return options;
}

/** Connects to a passive port of the server. */
export function connectPassive(
  reactor: ClientDataReactor,
  host: string,
  port: number,
  timeout: number,
  tls: TLSContextOptions | null,
): PendingDataConnection {
  const dtp = new DataPortProtocol(tls);
  let connector: IConnector | null = null;
  let failed!: (e: unknown) => void;
  const connected = new Promise<DataPortProtocol>((resolve, reject) => {
    failed = reject;
    void dtp.whenConnected.then(resolve);
  });
  const factory = new (class extends ClientFactory {
    override noisy = false;
    override buildProtocol(): IProtocol {
      return dtp;
    }
    override clientConnectionFailed(c: IConnector, reason: Failure): void {
      failed(new FTPClientUsageError(`Cannot open data connection: ${reason.getErrorMessage()}`));
    }
  })();
  connected.catch(() => {}); // awaited by the transfer, or given up
  connector = reactor.connectTCP(host, port, factory, timeout);
  return {
    connected,
    abort() {
      if (connector?.state === "connecting") connector.stopConnecting();
      (dtp.transport as ITLSTransport | null)?.abortConnection();
    },
  };
}

/** Listens for the server's active connection (`PORT`/`EPRT`): one, from the server's address. */
export function listenActive(
  reactor: ClientDataReactor,
  localHost: string,
  serverHost: string,
  timeout: number,
  tls: TLSContextOptions | null,
): PendingDataConnection & { readonly port: number } {
  const dtp = new DataPortProtocol(tls);
  let listening: IListeningPort | null = null;
  let timer: IDelayedCall | null = null;
  let settle!: { resolve: (p: DataPortProtocol) => void; reject: (e: unknown) => void };
  const connected = new Promise<DataPortProtocol>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const stop = (): void => {
    if (timer?.active()) timer.cancel();
    timer = null;
    const p = listening;
    listening = null;
    if (p !== null) void p.stopListening();
  };
  const factory = new (class extends Factory {
    override noisy = false;
    override buildProtocol(addr: IAddress): IProtocol | null {
      const host = (addr as { host?: string }).host;
      if (listening === null || host === undefined || unmapHost(host) !== unmapHost(serverHost))
        return null;
      stop();
      void dtp.whenConnected.then(settle.resolve);
      return dtp;
    }
  })();
  connected.catch(() => {}); // awaited by the transfer, or given up
  listening = reactor.listenTCP(0, factory, 1, localHost);
  timer = reactor.callLater(timeout, () => {
    timer = null;
    stop();
    settle.reject(new FTPClientUsageError("The server did not open the data connection in time"));
  });
  const port = (listening.getHost() as IAddress & { port: number }).port;
  return {
    port,
    connected,
    abort() {
      stop();
      settle.reject(new FTPClientUsageError("Data connection given up"));
      (dtp.transport as ITLSTransport | null)?.abortConnection();
    },
  };
}

/** Writes a Buffer to an upload consumer and finishes it. */
export function writeAndFinish(consumer: IFinishableConsumer, data: Uint8Array | string): void {
  consumer.write(data);
  consumer.finish();
}

/** A protocol that collects a download in memory (for small files and tests). */
export class BufferingProtocol extends Protocol {
  private readonly chunks: Buffer[] = [];
  override dataReceived(data: Buffer): void {
    this.chunks.push(data);
  }
  /** Everything received. */
  get value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
