// FTPClient: Twisted's FTP client API with EPSV/EPRT, REST, APPE, MLSD and FTPS.

import { _globalReactor } from "../../internet/_global.js";
import { Deferred } from "../../internet/defer.js";
import { CancelledError, ConnectionLost } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type { ITLSTransport, TLSContextOptions } from "../../internet/interfaces.js";
import { Protocol } from "../../internet/protocol.js";
import {
  type ClientDataReactor,
  connectPassive,
  type DataPortProtocol,
  type DownloadSink,
  dataTLSOptions,
  type IFinishableConsumer,
  listenActive,
  type PendingDataConnection,
  UploadConsumer,
} from "./_client_data.js";
import {
  encodeExtendedAddress,
  encodeHostPort,
  parseEpsvReply,
  parsePasvReply,
  unmapHost,
  unquotePath,
} from "./_commands.js";
import { BadResponse, CommandFailed, FTPClientUsageError } from "./_errors.js";
import { type MlsxEntry, parseMlsxLine, parseTimeValue } from "./_list.js";
import { type FTPReply, ReplyParser } from "./_replies.js";

/** Options of {@link FTPClient}. */
export interface FTPClientOptions {
  /** The reactor for data connections and timers (default: the global reactor). */
  reactor?: ClientDataReactor;
  /** Log in as soon as the server greets (Twisted's `FTPClient(username, password)`). */
  username?: string;
  /** The password of `username`. */
  password?: string;
  /** Passive data connections (EPSV, then PASV) rather than active ones (EPRT, then PORT). Default true. */
  passive?: boolean;
  /**
   * FTPS: `"explicit"` sends `AUTH TLS` after the greeting (before any login); `"implicit"`
   * means the control connection is TLS already (connect with `connectSSL`). Data
   * connections are then protected (`PBSZ 0`, `PROT P`) unless `protectData` is false.
   */
  tls?: "explicit" | "implicit" | false;
  /** TLS options: `ca`, `servername`, `rejectUnauthorized`… (certificates are verified by default). */
  tlsOptions?: TLSContextOptions;
  /** Protect data connections with TLS (`PROT P`) when the control connection is. Default true. */
  protectData?: boolean;
  /** Seconds to wait for a data connection, or for the server to close one. Default 30. */
  dataTimeout?: number;
}

/** Reply codes meaning "command not understood/implemented": try the older command. */
const UNSUPPORTED = new Set([500, 501, 502, 504, 522]);

type Waiter = { resolve: (r: FTPReply) => void; reject: (e: unknown) => void };

/** What a queued transfer knows while it runs, so that cancelling it can abort it. */
interface TransferState {
  aborted: boolean;
  started: boolean;
  data: PendingDataConnection | null;
}

/**
 * An FTP client (Twisted's `FTPClient`): commands are queued and sent one at a time, each
 * method returning a Deferred of its outcome; replies of 4xx/5xx fail it with
 * `CommandFailed`. Data connections are passive (EPSV, falling back to PASV) or active (EPRT,
 * falling back to PORT); with `tls` the control connection is protected (explicit `AUTH TLS`
 * or implicit) and so are data connections, which reuse the control connection's TLS session
 * (servers such as vsftpd with `require_ssl_reuse` demand it).
 *
 * @example
 * ```ts
 * const client = await new ClientCreator(reactor, FTPClient, { tls: "explicit" })
 *   .connectTCP("ftp.example.com", 21);
 * await client.login("alice", "secret");
 * const listing = new FTPFileListProtocol();
 * await client.list("pub", listing);
 * await client.retrieveFile("pub/a.bin", sink);
 * await client.quit();
 * ```
 */
export class FTPClient extends Protocol {
  /** Fires with the server's greeting (220). */
  readonly greeting = new Deferred<FTPReply>();
  /** Whether data connections are protected (`PROT P` accepted). */
  protectData = false;
  /** Whether EPSV was refused once (PASV is used from then on). */
  epsvUnsupported = false;
  /** Whether EPRT was refused once (PORT is used from then on). */
  eprtUnsupported = false;
  /** Passive (default) or active data connections. */
  passive: boolean;
  readonly options: FTPClientOptions;
  private readonly parser = new ReplyParser();
  private readonly early: FTPReply[] = [];
  private waiter: Waiter | null = null;
  private lost: Error | null = null;
  private tail: Promise<unknown>;
  private type: "A" | "I" | null = null;
  private handshake: Waiter | null = null;

  constructor(options: FTPClientOptions = {}) {
    super();
    this.options = options;
    this.passive = options.passive ?? true;
    this.tail = this.greeting.asPromise().catch(() => undefined);
    if (options.tls === "explicit") void this.authTLS().addErrback(() => undefined);
    if (options.tls === "implicit") void this.protect().addErrback(() => undefined);
    if (options.username !== undefined) {
      void this.login(options.username, options.password ?? "").addErrback(() => undefined);
    }
  }

  private get reactor(): ClientDataReactor {
    return this.options.reactor ?? _globalReactor<ClientDataReactor>();
  }

  private get dataTimeout(): number {
    return this.options.dataTimeout ?? 30;
  }

  // Control connection ----------------------------------------------------------------------

  override dataReceived(data: Buffer): void {
    let replies: FTPReply[];
    try {
      replies = this.parser.receiveData(data);
    } catch (e) {
      this.fail(e);
      (this.transport as ITLSTransport).abortConnection();
      return;
    }
    for (const reply of replies) this.replyReceived(reply);
  }

  private replyReceived(reply: FTPReply): void {
    if (!this.greeting.called) {
      if (reply.code === 120) return; // "ready in n minutes": wait for the 220
      if (reply.code === 220) this.greeting.callback(reply);
      else {
        this.greeting.errback(new CommandFailed(reply));
        this.transport?.loseConnection();
      }
      return;
    }
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) w.resolve(reply);
    else this.early.push(reply);
  }

  /** Called when a TLS handshake is over. */
  handshakeCompleted(): void {
    const waiting = this.handshake;
    this.handshake = null;
    waiting?.resolve(undefined as never);
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.fail(
      new ConnectionLost(`Control connection lost: ${reason.getErrorMessage()}`, {
        cause: reason.value,
      }),
    );
  }

  private fail(e: unknown): void {
    this.lost ??= e instanceof Error ? e : new BadResponse(String(e));
    if (!this.greeting.called) this.greeting.errback(this.lost);
    const w = this.waiter;
    this.waiter = null;
    w?.reject(this.lost);
    const h = this.handshake;
    this.handshake = null;
    h?.reject(this.lost);
  }

  private nextReply(): Promise<FTPReply> {
    const r = this.early.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.lost !== null) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The next reply that is not preliminary (1xx). */
  private async finalReply(): Promise<FTPReply> {
    let r = await this.nextReply();
    while (r.code < 200) r = await this.nextReply();
    return r;
  }

  private sendLine(line: string): void {
    if (/[\r\n]/.test(line))
      throw new FTPClientUsageError("Cannot send a command containing CR or LF");
    if (this.lost !== null) throw this.lost;
    this.transport!.write(`${line}\r\n`);
  }

  /** Sends `line` and waits for the final reply; fails with `CommandFailed` for 4xx/5xx. */
  private async command(line: string): Promise<FTPReply> {
    this.sendLine(line);
    const r = await this.finalReply();
    if (r.code >= 400) throw new CommandFailed(r);
    return r;
  }

  /** Runs `fn` once every command queued before it is done. */
  private enqueue<T>(fn: () => Promise<T>, canceller?: () => void): Deferred<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    const d = new Deferred<T>(canceller === undefined ? undefined : () => canceller());
    run.then(
      (v) => {
        if (!d.called) d.callback(v);
      },
      (e: unknown) => {
        if (!d.called) d.errback(e);
      },
    );
    return d;
  }

  /**
   * Queues a command line (Twisted's `queueStringCommand`): fires with the reply's lines, or
   * fails with `CommandFailed`. Cancelling only drops the result: the command is still sent.
   */
  queueStringCommand(command: string): Deferred<string[]> {
    return this.enqueue(async () => [...(await this.command(command)).lines]);
  }

  // Session ----------------------------------------------------------------------------------

  /** Logs in with `USER` and `PASS` (Twisted's `queueLogin`); fires with the 230 reply. */
  login(username: string, password: string): Deferred<FTPReply> {
    return this.enqueue(async () => {
      let r = await this.command(`USER ${username}`);
      if (r.code === 331) r = await this.command(`PASS ${password}`);
      if (r.code === 332) throw new CommandFailed(r); // ACCT is not supported
      return r;
    });
  }

  /**
   * Explicit FTPS: `AUTH TLS`, the TLS handshake (verifying the server's certificate), then
   * `PBSZ 0` and `PROT P` (unless `protectData` is false). Queue it before `login`.
   */
  authTLS(): Deferred<void> {
    return this.enqueue(async () => {
      await this.command("AUTH TLS");
      const done = new Promise<unknown>((resolve, reject) => {
        this.handshake = { resolve, reject };
      });
      const t = this.transport as ITLSTransport;
      t.startTLS({ ...this.options.tlsOptions, isServer: false });
      await done;
      await this.protectDataConnections();
    });
  }

  /** Implicit FTPS: protects data connections (`PBSZ 0`, `PROT P`). */
  private protect(): Deferred<void> {
    return this.enqueue(() => this.protectDataConnections());
  }

  private async protectDataConnections(): Promise<void> {
    if (this.options.protectData === false) return;
    await this.command("PBSZ 0");
    await this.command("PROT P");
    this.protectData = true;
  }

  /** Sends `QUIT`; fires with the 221 reply (the server then closes the connection). */
  quit(): Deferred<FTPReply> {
    return this.enqueue(() => this.command("QUIT"));
  }

  /** `NOOP`. */
  noop(): Deferred<FTPReply> {
    return this.enqueue(() => this.command("NOOP"));
  }

  /** The server's features (`FEAT`), one per entry, without the leading space. */
  feat(): Deferred<string[]> {
    return this.enqueue(async () => {
      const r = await this.command("FEAT");
      return r.lines
        .slice(1, -1)
        .map((l) => l.trim())
        .filter((l) => l !== "");
    });
  }

  // Directories and files ---------------------------------------------------------------------

  /** The working directory (`PWD`), parsed from the 257 reply. */
  pwd(): Deferred<string> {
    return this.enqueue(async () => unquotePath((await this.command("PWD")).lines[0] ?? ""));
  }

  /** Changes the working directory. */
  cwd(path: string): Deferred<FTPReply> {
    return this.enqueue(() => this.command(`CWD ${path}`));
  }

  /** Goes to the parent directory. */
  cdup(): Deferred<FTPReply> {
    return this.enqueue(() => this.command("CDUP"));
  }

  /** Creates a directory; fires with its path as the server reports it. */
  makeDirectory(path: string): Deferred<string> {
    return this.enqueue(async () => {
      const r = await this.command(`MKD ${path}`);
      try {
        return unquotePath(r.lines[0] ?? "");
      } catch {
        return path;
      }
    });
  }

  /** Removes a directory. */
  removeDirectory(path: string): Deferred<FTPReply> {
    return this.enqueue(() => this.command(`RMD ${path}`));
  }

  /** Removes a file. */
  removeFile(path: string): Deferred<FTPReply> {
    return this.enqueue(() => this.command(`DELE ${path}`));
  }

  /** Renames a file or directory (`RNFR` then `RNTO`). */
  rename(pathFrom: string, pathTo: string): Deferred<FTPReply> {
    return this.enqueue(async () => {
      await this.command(`RNFR ${pathFrom}`);
      return this.command(`RNTO ${pathTo}`);
    });
  }

  /** The size of a file in bytes (`SIZE`, in binary mode). */
  size(path: string): Deferred<number> {
    return this.enqueue(async () => {
      await this.setType("I");
      const r = await this.command(`SIZE ${path}`);
      const n = Number((r.lines[0] ?? "").trim());
      if (!Number.isSafeInteger(n) || n < 0)
        throw new BadResponse(`Cannot parse SIZE reply: ${r.lines[0]}`);
      return n;
    });
  }

  /** The modification time of a file (`MDTM`). */
  modificationTime(path: string): Deferred<Date> {
    return this.enqueue(async () => {
      const r = await this.command(`MDTM ${path}`);
      const t = parseTimeValue(r.lines[0] ?? "");
      if (t === null) throw new BadResponse(`Cannot parse MDTM reply: ${r.lines[0]}`);
      return new Date(t * 1000);
    });
  }

  /** The facts of one entry (`MLST`, RFC 3659). */
  mlst(path: string): Deferred<MlsxEntry> {
    return this.enqueue(async () => {
      const r = await this.command(`MLST ${path}`);
      const entry = r.lines
        .slice(1, -1)
        .map((l) => parseMlsxLine(l.trimStart()))
        .find((e) => e !== null);
      if (entry === undefined || entry === null) throw new BadResponse("Cannot parse MLST reply");
      return entry;
    });
  }

  private async setType(type: "A" | "I"): Promise<void> {
    if (this.type === type) return;
    await this.command(`TYPE ${type}`);
    this.type = type;
  }

  // Transfers ----------------------------------------------------------------------------------

  /**
   * Lists a directory (`LIST`) into `protocol` (e.g. an `FTPFileListProtocol`); fires with the
   * final reply once the listing is complete. Cancelling aborts it (`ABOR`).
   */
  list(path: string, protocol: DownloadSink): Deferred<FTPReply> {
    return this.download(path === "" ? "LIST" : `LIST ${path}`, protocol, 0, null);
  }

  /** Lists names only (`NLST`) into `protocol`. */
  nlst(path: string, protocol: DownloadSink): Deferred<FTPReply> {
    return this.download(path === "" ? "NLST" : `NLST ${path}`, protocol, 0, null);
  }

  /** Lists a directory with facts (`MLSD`, RFC 3659): the entries, `.` and `..` left out. */
  mlsd(path = ""): Deferred<MlsxEntry[]> {
    const chunks: Buffer[] = [];
    const d = this.download(
      path === "" ? "MLSD" : `MLSD ${path}`,
      { dataReceived: (b: Buffer) => chunks.push(b) },
      0,
      null,
    );
    return d.addCallback(() =>
      Buffer.concat(chunks)
        .toString("utf8")
        .split(/\r?\n/)
        .map((l) => parseMlsxLine(l))
        .filter(
          (e): e is MlsxEntry => e !== null && e.facts.type !== "cdir" && e.facts.type !== "pdir",
        ),
    );
  }

  /**
   * Downloads a file (`RETR`, binary) into `consumer` — a protocol (`dataReceived`) or an
   * `IConsumer`, which gets the data connection as its producer and may pause it. With
   * `offset`, the download resumes from that byte (`REST`). Fires with the 226 reply once every
   * byte has arrived. Cancelling aborts the transfer (`ABOR`) and closes the data connection;
   * what was received stays received.
   */
  retrieveFile(path: string, consumer: DownloadSink, offset = 0): Deferred<FTPReply> {
    return this.download(`RETR ${path}`, consumer, offset, "I");
  }

  /**
   * Uploads a file (`STOR`, binary); with `offset` the server keeps the first `offset` bytes
   * and writes from there (`REST`). Returns two Deferreds: the consumer to write the file to
   * (call its `finish()` at the end, or register a producer), and the final reply.
   * Cancelling the second aborts the transfer (`ABOR`).
   */
  storeFile(path: string, offset = 0): [Deferred<IFinishableConsumer>, Deferred<FTPReply>] {
    return this.upload(`STOR ${path}`, offset);
  }

  /** Appends to a file (`APPE`); like `storeFile`. */
  append(path: string): [Deferred<IFinishableConsumer>, Deferred<FTPReply>] {
    return this.upload(`APPE ${path}`, 0);
  }

  private download(
    command: string,
    sink: DownloadSink,
    offset: number,
    type: "A" | "I" | null,
  ): Deferred<FTPReply> {
    const state: TransferState = { aborted: false, started: false, data: null };
    return this.enqueue(
      () =>
        this.transfer(command, state, offset, type, (dtp) => {
          dtp.receiveInto(sink);
        }),
      () => this.abort(state),
    );
  }

  private upload(
    command: string,
    offset: number,
  ): [Deferred<IFinishableConsumer>, Deferred<FTPReply>] {
    const state: TransferState = { aborted: false, started: false, data: null };
    const consumer = new Deferred<IFinishableConsumer>(() => this.abort(state));
    const done = this.enqueue(
      () =>
        this.transfer(command, state, offset, "I", (dtp) => {
          consumer.callback(new UploadConsumer(dtp));
        }),
      () => this.abort(state),
    );
    done.addErrback((f: Failure) => {
      if (!consumer.called) consumer.errback(f);
      return f;
    });
    return [consumer, done];
  }

  /** Cancels a queued or running transfer. */
  private abort(state: TransferState): void {
    if (state.aborted) return;
    state.aborted = true;
    if (!state.started) return;
    state.data?.abort();
    if (this.connected && this.lost === null) this.transport!.write("ABOR\r\n");
  }

  private async openData(): Promise<PendingDataConnection> {
    const t = this.transport!;
    const peer = unmapHost((t.getPeer() as { host?: string }).host ?? "");
    const tls = this.protectData
      ? dataTLSOptions(t as ITLSTransport, this.options.tlsOptions)
      : null;
    if (this.passive) {
      let port: number | null = null;
      if (!this.epsvUnsupported) {
        this.sendLine("EPSV");
        const r = await this.finalReply();
        if (r.code === 229) port = parseEpsvReply(r.lines[0] ?? "");
        else if (UNSUPPORTED.has(r.code)) this.epsvUnsupported = true;
        else throw new CommandFailed(r);
      }
      if (port === null) {
        // The address in the reply is ignored: data goes to the server we are talking to.
        port = parsePasvReply((await this.command("PASV")).lines[0] ?? "").port;
      }
      return connectPassive(this.reactor, peer, port, this.dataTimeout, tls);
    }
    const local = unmapHost((t.getHost() as { host?: string }).host ?? "");
    const pending = listenActive(this.reactor, local, peer, this.dataTimeout, tls);
    try {
      let done = false;
      if (!this.eprtUnsupported) {
        this.sendLine(`EPRT ${encodeExtendedAddress(local, pending.port)}`);
        const r = await this.finalReply();
        if (r.code < 300) done = true;
        else if (UNSUPPORTED.has(r.code)) this.eprtUnsupported = true;
        else throw new CommandFailed(r);
      }
      if (!done) {
        if (local.includes(":"))
          throw new FTPClientUsageError("The server refuses EPRT: no active mode over IPv6");
        await this.command(`PORT ${encodeHostPort(local, pending.port)}`);
      }
    } catch (e) {
      pending.abort();
      throw e;
    }
    return pending;
  }

  private async transfer(
    command: string,
    state: TransferState,
    offset: number,
    type: "A" | "I" | null,
    start: (dtp: DataPortProtocol) => void,
  ): Promise<FTPReply> {
    if (state.aborted) throw new CancelledError("Transfer cancelled before it started");
    if (type !== null) await this.setType(type);
    const data = await this.openData();
    state.data = data;
    let finalSeen = false;
    let final: Promise<FTPReply> | null = null;
    try {
      if (offset > 0) await this.command(`REST ${offset}`);
      if (state.aborted) throw new CancelledError("Transfer cancelled before it started");
      this.sendLine(command);
      state.started = true;
      const first = await this.nextReply();
      if (first.code >= 200) {
        // Refused (4xx/5xx), or done at once without a data connection.
        finalSeen = true;
        data.abort();
        if (first.code >= 400) throw new CommandFailed(first);
        return first;
      }
      final = this.finalReply().then((r) => {
        finalSeen = true;
        return r;
      });
      final.catch(() => undefined);
      const dtp = await data.connected;
      start(dtp);
      const reply = await final;
      const timer = this.reactor.callLater(this.dataTimeout, () => dtp.tcp.abortConnection());
      await dtp.whenClosed;
      if (timer.active()) timer.cancel();
      if (state.aborted) throw new CancelledError("Transfer aborted");
      if (reply.code >= 400) throw new CommandFailed(reply);
      return reply;
    } catch (e) {
      data.abort();
      if (state.aborted && state.started && this.lost === null) {
        // Both replies must be read before the next command: the transfer's (426 or 226), then ABOR's.
        if (!finalSeen) await (final ?? this.finalReply()).catch(() => undefined);
        await this.nextReply().catch(() => undefined);
      }
      throw e;
    }
  }
}
