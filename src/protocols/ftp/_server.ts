// FTP: the server protocol — a thin adapter from the control connection engine to shell and data.

import { Anonymous, type ICredentials, UsernamePassword } from "../../cred/index.js";
import { maybeDeferred } from "../../internet/defer.js";
import { ConnectionDone } from "../../internet/error.js";
import type { Failure } from "../../internet/failure.js";
import type {
  IConsumer,
  IDelayedCall,
  IReactorTime,
  ITLSTransport,
  TLSContextOptions,
} from "../../internet/interfaces.js";
import { Protocol } from "../../internet/protocol.js";
import { Logger } from "../../logger/index.js";
import { toSegments, unmapHost } from "./_commands.js";
import {
  AsciiReceivingConsumer,
  AsciiSendingConsumer,
  DataChannel,
  type DataReactor,
  type DTP,
} from "./_dtp.js";
import { FTPCmdError, PortConnectionError } from "./_errors.js";
import { REPLY } from "./_replies.js";
import { HANDLERS } from "./_server_commands.js";
import { FTPServerConnection, type FTPServerEvent } from "./_server_engine.js";
import { IFTPShell, type IReadFile, type IWriteFile } from "./_shell.js";

const log = new Logger("twisted-ts.protocols.ftp");

/** What the `FTP` protocol needs from its factory (`FTPFactory` provides it). */
export interface FTPServerSettings {
  /** Logs users in: asked for `IFTPShell` avatars. */
  portal: {
    login(
      credentials: ICredentials,
      mind: unknown,
      ...interfaces: (symbol | string)[]
    ): PromiseLike<[unknown, unknown, () => void]>;
  };
  /** The reactor for data connections and timers. */
  reactor: DataReactor;
  /** Whether anonymous logins are offered. */
  allowAnonymous: boolean;
  /** TLS certificate and key for `AUTH TLS` and `PROT P`, or `null`. */
  tlsOptions: TLSContextOptions | null;
  /** Refuse logins before TLS. */
  requireTLS: boolean;
  /** Passive port range, or `null` for any. */
  passivePorts: readonly [number, number] | null;
  /** The address announced in `PASV` replies (NAT), or `null` for the control connection's. */
  passiveHost: string | null;
  /** Seconds to wait for a data connection. */
  dataTimeout: number;
  /** Idle timeout of the control connection, in seconds (`null`: none). */
  timeOut: number | null;
  /** The greeting text. */
  welcomeMessage: string;
  /** The longest command line. */
  maxLineLength: number;
  /** Failed logins before the connection is closed. */
  maxLoginAttempts: number;
}

/**
 * The FTP server protocol (Twisted's `FTP`): reads commands through an `FTPServerConnection`,
 * runs file commands on the user's `IFTPShell`, and moves data over `DataChannel`
 * connections made through the reactor. Build it with `FTPFactory`.
 */
export class FTP extends Protocol {
  /** The settings (the factory). */
  settings!: FTPServerSettings;
  /** The control connection state (set when the connection is made). */
  conn!: FTPServerConnection;
  /** The logged-in user's shell. */
  shell: IFTPShell | null = null;
  /** The working directory, as segments under the user's root. */
  workingDirectory: string[] = [];
  /** The data connection of the next transfer. */
  dataChannel!: DataChannel;
  private logout: (() => void) | null = null;
  private idle: IDelayedCall | null = null;
  /** The transfer in progress: its data connection and whether ABOR was asked. */
  private transfer: { dtp: DTP | null; aborted: boolean } | null = null;
  private paused = false;

  /** The clock of timeouts and listing dates. */
  get clock(): IReactorTime {
    return this.settings.reactor;
  }

  override connectionMade(): void {
    const t = this.transport as ITLSTransport;
    const peer = t.getPeer() as { host?: string };
    const host = t.getHost() as { host?: string };
    const s = this.settings;
    this.conn = new FTPServerConnection({
      peerHost: peer.host ?? "",
      tlsAvailable: s.tlsOptions !== null,
      implicitTLS: t.TLS === true,
      requireTLS: s.requireTLS,
      allowAnonymous: s.allowAnonymous,
      maxLineLength: s.maxLineLength,
      maxLoginAttempts: s.maxLoginAttempts,
    });
    this.dataChannel = new DataChannel({
      reactor: s.reactor,
      passivePorts: s.passivePorts,
      timeout: s.dataTimeout,
      localHost: unmapHost(host.host ?? ""),
      peerHost: peer.host ?? "",
      secure: () => (this.conn.protectData ? dataTLSOptions(s.tlsOptions) : null),
    });
    this.conn.greet(s.welcomeMessage);
    this.flush();
    this.resetIdle();
  }

  override dataReceived(data: Buffer): void {
    this.resetIdle();
    this.conn.receiveData(data);
    this.pump();
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    if (this.idle?.active()) this.idle.cancel();
    this.idle = null;
    this.dataChannel?.reset(new PortConnectionError("Control connection closed"));
    const transfer = this.transfer;
    if (transfer !== null) {
      transfer.aborted = true;
      (transfer.dtp?.transport as ITLSTransport | null)?.abortConnection();
    }
    const logout = this.logout;
    this.logout = null;
    this.shell = null;
    logout?.();
  }

  private resetIdle(): void {
    const timeOut = this.settings.timeOut;
    if (timeOut === null) return;
    if (this.idle?.active()) this.idle.reset(timeOut);
    else this.idle = this.clock.callLater(timeOut, this.timedOut);
  }

  private readonly timedOut = (): void => {
    this.idle = null;
    if (this.transfer !== null) {
      this.resetIdle(); // a transfer in progress is activity
      return;
    }
    this.conn.shutDown("Timeout: closing control connection");
    this.flush();
  };

  /** Sends pending replies; closes when the engine says so; pauses reading when it is full. */
  private flush(): void {
    const out = this.conn.dataToSend();
    if (out.length > 0) this.transport?.write(out);
    if (this.conn.closing && this.transfer === null) {
      this.dataChannel.reset();
      this.transport?.loseConnection();
    }
  }

  private pump(): void {
    for (let ev = this.conn.nextEvent(); ev !== null; ev = this.conn.nextEvent()) this.handle(ev);
    this.flush();
    const t = this.transport as ITLSTransport | null;
    if (!this.conn.wantsData && !this.paused) {
      this.paused = true;
      t?.pauseProducing();
    } else if (this.conn.wantsData && this.paused) {
      this.paused = false;
      t?.resumeProducing();
    }
  }

  private handle(ev: FTPServerEvent): void {
    switch (ev.type) {
      case "TLSRequested":
        this.flush();
        (this.transport as ITLSTransport).startTLS({ ...this.settings.tlsOptions, isServer: true });
        return;
      case "LoginRequested":
        this.login(ev.username, ev.password);
        return;
      case "CommandReceived": {
        if (ev.verb === "ABOR") {
          this.abort();
          return;
        }
        const handler = HANDLERS[ev.verb];
        const run =
          handler === undefined
            ? () => this.conn.reply(REPLY.CMD_NOT_IMPLMNTD, `${ev.verb} not implemented`)
            : () => handler.call(this, ev);
        maybeDeferred(run)
          .addErrback((f: Failure) => {
            if (!(f.value instanceof FTPCmdError))
              log.failure("Unexpected error in {verb}", f, undefined, { verb: ev.verb });
            this.conn.replyError(f.value);
          })
          .addBoth(() => {
            this.conn.commandDone();
            if (this.connected) this.pump();
          });
      }
    }
  }

  private login(username: string, password: string): void {
    const anonymous = this.conn.isAnonymousName(username);
    const credentials = anonymous ? new Anonymous() : new UsernamePassword(username, password);
    maybeDeferred(() => this.settings.portal.login(credentials, null, IFTPShell)).addCallbacks(
      ([, avatar, logout]) => {
        if (!this.connected) {
          logout();
          return;
        }
        this.shell = avatar as IFTPShell;
        this.logout = () => {
          logout();
          (avatar as IFTPShell).logout?.();
        };
        this.conn.loginSucceeded(anonymous);
        this.pump();
      },
      (f: Failure) => {
        log.info("Failed login for {user}: {reason}", {
          user: username,
          reason: f.getErrorMessage(),
        });
        if (!this.connected) return;
        this.conn.loginFailed();
        this.pump();
      },
    );
  }

  /** The shell, once logged in (the engine sends no file command before). */
  get fs(): IFTPShell {
    if (this.shell === null) throw new FTPCmdError("Not logged in");
    return this.shell;
  }

  /** Resolves an FTP path against the working directory. */
  path(arg: string): string[] {
    return toSegments(this.workingDirectory, arg);
  }

  private abort(): void {
    const transfer = this.transfer;
    if (transfer === null) {
      this.dataChannel.reset();
      this.conn.reply(REPLY.DATA_CNX_OPEN_NO_XFR_IN_PROGRESS, "No transfer to ABOR");
      return;
    }
    transfer.aborted = true;
    if (transfer.dtp !== null) (transfer.dtp.transport as ITLSTransport).abortConnection();
    else this.dataChannel.reset(new PortConnectionError("Transfer aborted"));
  }

  // Transfers --------------------------------------------------------------------------------

  /**
   * Runs a transfer: replies 150/125, opens the data connection, runs `move` on it, and replies
   * 226 or 426 (then 226 for an ABOR). `cleanup` runs whatever happens (closing the file).
   */
  async runTransfer(
    opening: string,
    move: (dtp: DTP) => Promise<void>,
    done = "Transfer complete",
  ): Promise<void> {
    if (!this.dataChannel.configured) {
      this.conn.reply(REPLY.CANT_OPEN_DATA_CNX, "Use PORT or PASV first");
      return;
    }
    const transfer: { dtp: DTP | null; aborted: boolean } = { dtp: null, aborted: false };
    this.transfer = transfer;
    const already = this.dataChannel.isConnected;
    this.conn.reply(
      already ? REPLY.DATA_CNX_ALREADY_OPEN_START_XFR : REPLY.FILE_STATUS_OK_OPEN_DATA_CNX,
      opening,
    );
    this.flush();
    let ok = false;
    try {
      let dtp: DTP;
      try {
        dtp = await this.dataChannel.open();
      } catch (e) {
        if (transfer.aborted) throw e;
        this.conn.reply(
          REPLY.CANT_OPEN_DATA_CNX,
          e instanceof FTPCmdError ? e.message : "Can't open data connection",
        );
        return;
      }
      transfer.dtp = dtp;
      if (transfer.aborted) (dtp.transport as ITLSTransport).abortConnection();
      await move(dtp);
      ok = !transfer.aborted;
    } catch (e) {
      if (!transfer.aborted && !(e instanceof TransferFailed)) {
        log.warn("Transfer failed: {error}", { error: String(e) });
      }
    } finally {
      this.transfer = null;
    }
    if (ok) {
      this.conn.reply(REPLY.CLOSING_DATA_CNX, done);
    } else {
      this.conn.reply(REPLY.CNX_CLOSED_TXFR_ABORTED, "Connection closed; transfer aborted");
      if (transfer.aborted) this.conn.reply(REPLY.CLOSING_DATA_CNX, "ABOR command successful");
    }
  }

  /** Writes `file` (or text) to the data connection, closes it and waits until it is closed. */
  async sendOver(dtp: DTP, source: IReadFile | string, ascii: boolean): Promise<void> {
    const transport = dtp.tcp;
    const sink: IConsumer = ascii ? new AsciiSendingConsumer(transport) : transport;
    if (typeof source === "string") {
      transport.write(source);
    } else {
      try {
        await source.send(sink);
      } catch (e) {
        throw new TransferFailed("Sending failed", { cause: e });
      }
    }
    transport.loseConnection();
    const reason = await dtp.whenClosed;
    if (!reason.check(ConnectionDone) && typeof source === "string")
      throw new TransferFailed(reason.getErrorMessage());
  }

  /** Receives the data connection into `file` until the client closes it. */
  async receiveOver(dtp: DTP, file: IWriteFile, ascii: boolean): Promise<void> {
    const consumer = await file.receive();
    const ascii_ = ascii ? new AsciiReceivingConsumer(consumer) : consumer;
    dtp.receiveInto(ascii_);
    const reason = await dtp.whenClosed;
    if (ascii_ instanceof AsciiReceivingConsumer) ascii_.flush();
    await file.close();
    if (!reason.check(ConnectionDone)) throw new TransferFailed(reason.getErrorMessage());
  }
}

/**
 * The TLS options of data connections: the server's, capped at TLS 1.2 unless versions were
 * chosen. A TLS 1.3 server sends session tickets after the handshake; a client that uploads
 * never reads them, and closing with them unread makes its kernel send a reset, which can
 * throw away the end of the upload before the server has read it. TLS 1.2 sends its ticket
 * inside the handshake.
 */
function dataTLSOptions(options: TLSContextOptions | null): TLSContextOptions | null {
  if (options === null || options.maxVersion !== undefined || options.minVersion === "TLSv1.3") {
    return options;
  }
  return { ...options, maxVersion: "TLSv1.2" };
}

/** A transfer's data connection failed (answered 426). */
class TransferFailed extends Error {}
