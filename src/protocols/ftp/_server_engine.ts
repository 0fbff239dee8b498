// The sans-I/O FTP server control connection: bytes in, events out, replies to send.

import {
  COMMANDS,
  CommandLineParser,
  type FTPCommand,
  type HostPort,
  NOT_IMPLEMENTED,
  parseCommandLine,
  parseEprtArgument,
  parsePortArgument,
  unmapHost,
} from "./_commands.js";
import { CmdArgSyntaxError, FTPCmdError } from "./_errors.js";
import { formatReply, REPLY } from "./_replies.js";

/** Options of an {@link FTPServerConnection}. */
export interface FTPServerConnectionOptions {
  /** The client's IP address: `PORT`/`EPRT` may only name it (no FTP bounce). */
  peerHost: string;
  /** Whether `AUTH TLS` is offered (the server has a certificate). Default false. */
  tlsAvailable?: boolean;
  /** The control connection is TLS from the start (implicit FTPS). Default false. */
  implicitTLS?: boolean;
  /** Refuse `USER` until the control connection is protected. Default false. */
  requireTLS?: boolean;
  /** Whether `anonymous`/`ftp` logins are offered. Default false. */
  allowAnonymous?: boolean;
  /** The longest command line, in bytes. Default 4096. */
  maxLineLength?: number;
  /** Commands read ahead while one is being handled; beyond, `wantsData` turns false. Default 32. */
  maxQueuedCommands?: number;
  /** Failed logins before the connection is closed. Default 3. */
  maxLoginAttempts?: number;
  /** Let `PORT`/`EPRT` name ports below 1024. Default false (RFC 2577). */
  allowPrivilegedPorts?: boolean;
}

/** A command for the protocol to carry out (the engine has checked login state and syntax). */
export interface CommandReceived {
  readonly type: "CommandReceived";
  /** The verb, upper-cased and with `X` aliases (`XPWD`…) mapped to their RFC 959 names. */
  readonly verb: string;
  /** The argument as sent. */
  readonly arg: string;
  /** `RETR`/`STOR`/`APPE`: the offset a preceding `REST` asked for (0 without one). */
  readonly offset: number;
  /** `PORT`/`EPRT`: the address to connect to, already checked to be the client's own. */
  readonly address?: HostPort;
  /** `RNTO`: the argument of the accepted `RNFR`. */
  readonly renameFrom?: string;
}

/**
 * What the protocol must act on. After `CommandReceived` and `LoginRequested` the engine waits
 * (holding later commands, except `ABOR`) until `commandDone()`/`loginSucceeded()`/
 * `loginFailed()`; `TLSRequested` means: send the pending reply, then start TLS.
 */
export type FTPServerEvent =
  | CommandReceived
  | { readonly type: "LoginRequested"; readonly username: string; readonly password: string }
  | { readonly type: "TLSRequested" };

const ALIASES: Readonly<Record<string, string>> = {
  XPWD: "PWD",
  XCWD: "CWD",
  XCUP: "CDUP",
  XMKD: "MKD",
  XRMD: "RMD",
};

/** Commands after which a `REST` offset is still waiting for its transfer command. */
const KEEPS_RESTART = new Set([
  "REST",
  "PASV",
  "EPSV",
  "PORT",
  "EPRT",
  "TYPE",
  "NOOP",
  "MODE",
  "STRU",
]);

const ANONYMOUS_NAMES = new Set(["anonymous", "ftp"]);

/**
 * The control connection of an FTP server as a state machine without I/O: feed it bytes with
 * `receiveData()`, take events with `nextEvent()` until it returns `null`, send what
 * `dataToSend()` gives. It answers by itself everything that needs neither the file system nor
 * the network (`USER`, `SYST`, `FEAT`, `TYPE`, `REST`, `PBSZ`, `PROT`, `HELP`, bad syntax,
 * commands before login, over-long lines…) and hands the rest over as events. Replies for
 * those are sent with `reply()`.
 *
 * @example
 * ```ts
 * const conn = new FTPServerConnection({ peerHost: "127.0.0.1" });
 * conn.receiveData(Buffer.from("SYST\r\nPWD\r\n"));
 * conn.nextEvent(); // null: PWD needs login; "215 UNIX Type: L8" and a 530 are queued
 * conn.dataToSend().toString();
 * ```
 */
export class FTPServerConnection {
  /** Whether the user has logged in. */
  authenticated = false;
  /** Whether the logged-in user is anonymous. */
  anonymous = false;
  /** The user name given with `USER` (kept after login). */
  username: string | null = null;
  /** Binary (`TYPE I`) rather than ASCII transfers. */
  binary = false;
  /** Whether the control connection is protected by TLS (or about to be, after `AUTH TLS`). */
  tls: boolean;
  /** Whether `PBSZ` was accepted. */
  protectionBufferSet = false;
  /** Whether data connections are protected (`PROT P`). */
  protectData = false;
  /** Whether `EPSV ALL` was sent: only `EPSV` may set up data connections from then on. */
  epsvAll = false;
  /** True once the connection should close after its pending replies (`QUIT`, too many failures). */
  closing = false;

  private readonly options: Required<FTPServerConnectionOptions>;
  private readonly parser: CommandLineParser;
  /** Lines waiting to be handled; `null` stands for a line that was too long. */
  private readonly queue: (Buffer | null)[] = [];
  private output: string[] = [];
  private busy = false;
  private restartOffset = 0;
  private renameFrom: string | null = null;
  private loginFailures = 0;

  constructor(options: FTPServerConnectionOptions) {
    this.options = {
      tlsAvailable: false,
      implicitTLS: false,
      requireTLS: false,
      allowAnonymous: false,
      maxLineLength: 4096,
      maxQueuedCommands: 32,
      maxLoginAttempts: 3,
      allowPrivilegedPorts: false,
      ...options,
    };
    this.tls = this.options.implicitTLS;
    this.parser = new CommandLineParser(this.options.maxLineLength);
  }

  // Input and output -----------------------------------------------------------------------------

  /** Feeds bytes received on the control connection. */
  receiveData(data: Uint8Array): void {
    if (this.closing) return;
    for (const parsed of this.parser.receiveData(data)) {
      this.queue.push(parsed.type === "LineReceived" ? parsed.line : null);
    }
  }

  /** False while enough commands wait: the protocol should stop reading until it turns true. */
  get wantsData(): boolean {
    return this.queue.length < this.options.maxQueuedCommands;
  }

  /** Whether a command handed over as an event has not been finished yet. */
  get waiting(): boolean {
    return this.busy;
  }

  /** Queues a reply (see `formatReply`). */
  reply(code: number, text: string | readonly string[]): void {
    this.output.push(formatReply(code, text));
  }

  /** Queues the reply for a failed command: an `FTPCmdError`'s code and text, 451 otherwise. */
  replyError(error: unknown): void {
    if (error instanceof FTPCmdError) {
      this.reply(error.replyCode, error.response());
    } else {
      this.reply(
        REPLY.REQ_ACTN_ABRTD_LOCAL_ERR,
        "Requested action aborted: local error in processing",
      );
    }
  }

  /** The bytes of the replies queued since the last call (empty when there are none). */
  dataToSend(): Buffer {
    if (this.output.length === 0) return Buffer.alloc(0);
    const out = Buffer.from(this.output.join(""), "utf8");
    this.output = [];
    return out;
  }

  /** Queues the greeting (`220`). */
  greet(text = "Twisted.ts FTP server ready"): void {
    this.reply(REPLY.SVC_READY_FOR_NEW_USER, text);
  }

  // Events ---------------------------------------------------------------------------------------

  /**
   * The next event, or `null` when more data is needed or a handed-over command is still in
   * progress. Replies the engine makes by itself are queued on the way.
   */
  nextEvent(): FTPServerEvent | null {
    while (!this.closing && this.queue.length > 0) {
      if (this.busy) {
        // Only ABOR overtakes a command in progress (RFC 959 §4.1.3).
        const head = this.queue[0];
        if (head == null || parseCommandLine(head).verb !== "ABOR") return null;
        this.queue.shift();
        return { type: "CommandReceived", verb: "ABOR", arg: "", offset: 0 };
      }
      const line = this.queue.shift()!;
      if (line === null) {
        this.reply(REPLY.SYNTAX_ERR, "Command line too long");
        continue;
      }
      const event = this.lineReceived(parseCommandLine(line));
      if (event !== null) return event;
    }
    return null;
  }

  /** The command handed over last is finished (its reply queued): the next may start. */
  commandDone(): void {
    this.busy = false;
  }

  /** `RNFR` succeeded: the next command may be `RNTO` (and anything else cancels the rename). */
  acceptRenameFrom(path: string): void {
    this.renameFrom = path;
  }

  /** The login of `LoginRequested` succeeded: replies 230. */
  loginSucceeded(anonymous = false): void {
    this.authenticated = true;
    this.anonymous = anonymous;
    this.busy = false;
    this.reply(
      REPLY.USR_LOGGED_IN_PROCEED,
      anonymous ? "Anonymous login ok, access restrictions apply" : "User logged in, proceed",
    );
  }

  /** The login of `LoginRequested` failed: replies 530, and closes after too many failures. */
  loginFailed(): void {
    this.busy = false;
    this.username = null;
    this.loginFailures++;
    this.reply(REPLY.NOT_LOGGED_IN, "Login incorrect");
    if (this.loginFailures >= this.options.maxLoginAttempts) {
      this.reply(
        REPLY.SVC_NOT_AVAIL_CLOSING_CTRL_CNX,
        "Too many failed logins, closing control connection",
      );
      this.closing = true;
    }
  }

  /** Closes after the pending replies, with a 421 reply (idle timeout, shutdown). */
  shutDown(text: string): void {
    if (this.closing) return;
    this.reply(REPLY.SVC_NOT_AVAIL_CLOSING_CTRL_CNX, text);
    this.closing = true;
  }

  private handOver(command: FTPCommand, extra: Partial<CommandReceived> = {}): CommandReceived {
    this.busy = true;
    return { type: "CommandReceived", verb: command.verb, arg: command.arg, offset: 0, ...extra };
  }

  private lineReceived(raw: FTPCommand): FTPServerEvent | null {
    const command = { verb: ALIASES[raw.verb] ?? raw.verb, arg: raw.arg };
    const { verb, arg } = command;
    const spec = COMMANDS[raw.verb];
    if (spec === undefined) {
      const shown = verb.slice(0, 16).replace(/[^\x21-\x7e]/g, "?");
      if (NOT_IMPLEMENTED.has(verb)) this.reply(REPLY.CMD_NOT_IMPLMNTD, `${shown} not implemented`);
      else if (verb === "") this.reply(REPLY.SYNTAX_ERR, "Syntax error: empty command");
      else this.reply(REPLY.SYNTAX_ERR, `Syntax error, command unrecognized: ${shown}`);
      return null;
    }
    if (!KEEPS_RESTART.has(verb) && verb !== "RETR" && verb !== "STOR" && verb !== "APPE") {
      this.restartOffset = 0;
    }
    const renameFrom = this.renameFrom;
    this.renameFrom = null;
    if (spec.login && !this.authenticated) {
      this.reply(REPLY.NOT_LOGGED_IN, "Please login with USER and PASS");
      return null;
    }
    if (spec.arg === "required" && arg.trim() === "") {
      this.reply(
        REPLY.SYNTAX_ERR_IN_ARGS,
        `Syntax error in parameters or arguments: ${verb} needs an argument`,
      );
      return null;
    }
    try {
      return this.dispatch(verb, arg, command, renameFrom);
    } catch (e) {
      this.replyError(e);
      return null;
    }
  }

  private dispatch(
    verb: string,
    arg: string,
    command: FTPCommand,
    renameFrom: string | null,
  ): FTPServerEvent | null {
    switch (verb) {
      case "USER":
        return this.user(arg);
      case "PASS":
        return this.pass(arg);
      case "ACCT":
        if (this.authenticated) this.reply(REPLY.CMD_NOT_IMPLMNTD_SUPERFLUOUS, "ACCT not needed");
        else this.reply(REPLY.BAD_CMD_SEQ, "Login with USER and PASS first");
        return null;
      case "AUTH":
        return this.auth(arg);
      case "PBSZ":
        if (!this.tls)
          return this.sequence("PBSZ needs a protected control connection: send AUTH TLS first");
        if (!/^\d+$/.test(arg.trim())) throw new CmdArgSyntaxError(`Invalid PBSZ argument: ${arg}`);
        this.protectionBufferSet = true;
        this.reply(REPLY.CMD_OK, "PBSZ=0");
        return null;
      case "PROT":
        return this.prot(arg);
      case "CCC":
        this.reply(REPLY.POLICY_REFUSED, "CCC refused: the control connection stays protected");
        return null;
      case "FEAT":
        this.reply(REPLY.SYS_STATUS_OR_HELP_REPLY, ["Features:", ...this.features(), "End"]);
        return null;
      case "OPTS":
        return this.opts(arg);
      case "SYST":
        this.reply(REPLY.NAME_SYS_TYPE, "UNIX Type: L8");
        return null;
      case "HELP":
        return this.help(arg);
      case "NOOP":
        this.reply(REPLY.CMD_OK, "NOOP ok");
        return null;
      case "QUIT":
        this.reply(REPLY.SVC_CLOSING_CTRL_CNX, "Goodbye");
        this.closing = true;
        return null;
      case "TYPE":
        return this.type(arg);
      case "MODE":
        return this.fixedParameter(arg, "S", "BC", "Mode set to S");
      case "STRU":
        return this.fixedParameter(arg, "F", "RP", "Structure set to F");
      case "ALLO":
        this.reply(REPLY.CMD_NOT_IMPLMNTD_SUPERFLUOUS, "No storage allocation necessary");
        return null;
      case "REST": {
        const s = arg.trim();
        if (!/^\d{1,15}$/.test(s)) throw new CmdArgSyntaxError(`Invalid restart offset: ${arg}`);
        this.restartOffset = Number(s);
        this.reply(
          REPLY.REQ_FILE_ACTN_PENDING_FURTHER_INFO,
          `Restarting at ${s}. Send STORE or RETRIEVE to initiate transfer`,
        );
        return null;
      }
      case "RETR":
      case "STOR":
      case "APPE": {
        const offset = this.restartOffset;
        this.restartOffset = 0;
        return this.handOver(command, { offset });
      }
      case "RNTO":
        if (renameFrom === null) return this.sequence("RNFR required first");
        return this.handOver(command, { renameFrom });
      case "PASV":
        if (this.epsvAll) return this.sequence("PASV not allowed after EPSV ALL");
        return this.handOver(command);
      case "EPSV": {
        const a = arg.trim().toUpperCase();
        if (a === "ALL") {
          this.epsvAll = true;
          this.reply(REPLY.CMD_OK, "EPSV ALL ok");
          return null;
        }
        if (a !== "" && a !== "1" && a !== "2") {
          this.reply(522, "Network protocol not supported, use (1,2)");
          return null;
        }
        return this.handOver(command);
      }
      case "PORT":
      case "EPRT": {
        if (this.epsvAll) return this.sequence(`${verb} not allowed after EPSV ALL`);
        const address = verb === "PORT" ? parsePortArgument(arg) : parseEprtArgument(arg);
        if (unmapHost(address.host) !== unmapHost(this.options.peerHost)) {
          this.reply(
            REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM,
            `Illegal ${verb} command: data connections go to the client's own address only`,
          );
          return null;
        }
        if (address.port < 1024 && !this.options.allowPrivilegedPorts) {
          this.reply(
            REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM,
            `Illegal ${verb} command: privileged port ${address.port}`,
          );
          return null;
        }
        return this.handOver(command, { address });
      }
      default:
        return this.handOver(command);
    }
  }

  private sequence(text: string): null {
    this.reply(REPLY.BAD_CMD_SEQ, text);
    return null;
  }

  private user(arg: string): FTPServerEvent | null {
    if (this.authenticated) {
      this.reply(REPLY.NOT_LOGGED_IN, "Cannot change to another user");
      return null;
    }
    if (this.options.requireTLS && !this.tls) {
      this.reply(REPLY.NOT_LOGGED_IN, "TLS required: send AUTH TLS before logging in");
      return null;
    }
    this.username = arg;
    if (this.options.allowAnonymous && ANONYMOUS_NAMES.has(arg.toLowerCase())) {
      this.reply(
        REPLY.USR_NAME_OK_NEED_PASS,
        "Guest login ok, type your email address as password",
      );
    } else {
      this.reply(REPLY.USR_NAME_OK_NEED_PASS, `Password required for ${arg.slice(0, 64)}`);
    }
    return null;
  }

  private pass(arg: string): FTPServerEvent | null {
    if (this.authenticated) {
      this.reply(REPLY.USR_LOGGED_IN_PROCEED, "Already logged in");
      return null;
    }
    if (this.username === null) return this.sequence("Login with USER first");
    this.busy = true;
    return { type: "LoginRequested", username: this.username, password: arg };
  }

  /** Whether `USER name` asks for the anonymous login. */
  isAnonymousName(name: string): boolean {
    return this.options.allowAnonymous && ANONYMOUS_NAMES.has(name.toLowerCase());
  }

  private auth(arg: string): FTPServerEvent | null {
    const mech = arg.trim().toUpperCase();
    if (mech !== "TLS" && mech !== "TLS-C" && mech !== "SSL") {
      this.reply(REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM, `Unrecognized AUTH type: ${mech.slice(0, 16)}`);
      return null;
    }
    if (!this.options.tlsAvailable) {
      this.reply(REPLY.CMD_NOT_IMPLMNTD, "AUTH TLS not available: the server has no certificate");
      return null;
    }
    if (this.tls) return this.sequence("Already using TLS");
    if (this.authenticated) return this.sequence("AUTH TLS must come before login");
    this.tls = true;
    this.username = null;
    this.reply(REPLY.AUTH_OK, "AUTH TLS successful");
    // Commands sent in clear after AUTH must not be run as if protected (STARTTLS injection).
    this.queue.length = 0;
    this.parser.reset();
    return { type: "TLSRequested" };
  }

  private prot(arg: string): null {
    if (!this.tls)
      return this.sequence("PROT needs a protected control connection: send AUTH TLS first");
    if (!this.protectionBufferSet) return this.sequence("PBSZ required first");
    const level = arg.trim().toUpperCase();
    if (level === "P" && !this.options.tlsAvailable) {
      // Implicit TLS without a certificate for data connections: they cannot be protected.
      this.reply(
        REPLY.PROT_LEVEL_NOT_SUPPORTED,
        "PROT P not available: no certificate for data connections",
      );
    } else if (level === "C" || level === "P") {
      this.protectData = level === "P";
      this.reply(REPLY.CMD_OK, `Protection level set to ${level}`);
    } else if (level === "S" || level === "E") {
      this.reply(REPLY.PROT_LEVEL_NOT_SUPPORTED, `Protection level ${level} not supported`);
    } else {
      this.reply(
        REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM,
        `Unknown protection level: ${level.slice(0, 16)}`,
      );
    }
    return null;
  }

  /** The feature lines of `FEAT` (RFC 2389), each with its leading space added by the reply. */
  features(): string[] {
    const f: string[] = [];
    if (this.options.tlsAvailable) f.push("AUTH TLS", "PBSZ", "PROT");
    f.push(
      "EPRT",
      "EPSV",
      "MDTM",
      "MLST type*;size*;modify*;perm*;unix.mode*;",
      "PASV",
      "REST STREAM",
      "SIZE",
      "TVFS",
      "UTF8",
    );
    return f;
  }

  private opts(arg: string): null {
    const [name = "", ...rest] = arg.trim().split(/\s+/);
    const option = name.toUpperCase();
    const value = rest.join(" ").toUpperCase();
    if (option === "UTF8" || option === "UTF-8") {
      if (value === "ON" || value === "") this.reply(REPLY.CMD_OK, "Always in UTF8 mode");
      else this.reply(REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM, "UTF8 cannot be turned off");
    } else if (option === "MLST") {
      this.reply(REPLY.CMD_OK, "MLST OPTS type;size;modify;perm;unix.mode;");
    } else {
      this.reply(REPLY.SYNTAX_ERR_IN_ARGS, `Unknown option: ${option.slice(0, 16)}`);
    }
    return null;
  }

  private help(arg: string): null {
    const name = arg.trim().toUpperCase();
    if (name === "") {
      const names = Object.keys(COMMANDS);
      const rows: string[] = [];
      for (let i = 0; i < names.length; i += 8) rows.push(names.slice(i, i + 8).join(" "));
      this.reply(REPLY.HELP_MSG, ["The following commands are recognized:", ...rows, "Help OK"]);
      return null;
    }
    const spec = COMMANDS[name];
    if (spec === undefined)
      this.reply(REPLY.SYNTAX_ERR_IN_ARGS, `Unknown command: ${name.slice(0, 16)}`);
    else this.reply(REPLY.HELP_MSG, `Syntax: ${spec.help}`);
    return null;
  }

  private type(arg: string): null {
    const t = arg.trim().toUpperCase().split(/\s+/);
    const [kind = "", form] = t;
    if (kind === "I" && form === undefined) {
      this.binary = true;
      this.reply(REPLY.CMD_OK, "Type set to I");
    } else if (kind === "L" && form === "8") {
      this.binary = true;
      this.reply(REPLY.CMD_OK, "Type set to L 8");
    } else if (kind === "A" && (form === undefined || form === "N")) {
      this.binary = false;
      this.reply(REPLY.CMD_OK, "Type set to A");
    } else if (kind === "E" || kind === "L" || kind === "A") {
      this.reply(REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM, `Type not implemented: ${arg.slice(0, 16)}`);
    } else {
      this.reply(REPLY.SYNTAX_ERR_IN_ARGS, `Unknown type: ${arg.slice(0, 16)}`);
    }
    return null;
  }

  private fixedParameter(arg: string, ok: string, known: string, text: string): null {
    const p = arg.trim().toUpperCase();
    if (p === ok) this.reply(REPLY.CMD_OK, text);
    else if (p.length === 1 && known.includes(p))
      this.reply(REPLY.CMD_NOT_IMPLMNTD_FOR_PARAM, `Unsupported parameter: ${p}`);
    else this.reply(REPLY.SYNTAX_ERR_IN_ARGS, `Invalid parameter: ${p.slice(0, 16)}`);
    return null;
  }
}
