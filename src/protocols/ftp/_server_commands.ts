// The FTP server's commands that need the shell or a data connection, as handlers of FTP.

import { quotePath, segmentsToPath, unmapHost } from "./_commands.js";
import { CmdArgSyntaxError, FileExistsError, FTPCmdError, IsADirectoryError } from "./_errors.js";
import { formatListLine, formatMlsxLine, formatTimeValue } from "./_list.js";
import { REPLY } from "./_replies.js";
import type { FTP } from "./_server.js";
import type { CommandReceived } from "./_server_engine.js";
import type { FTPFileInfo, FTPPath } from "./_shell.js";

/** Carries out one command on the connection `this`; its reply is queued on `this.conn`. */
type Handler = (this: FTP, command: CommandReceived) => PromiseLike<void> | void;

function listArgument(arg: string): string {
  // Clients send ls options ("LIST -la dir"): drop them, as other servers do.
  const words = arg.split(" ");
  while (words.length > 0 && /^-[a-zA-Z]*$/.test(words[0]!)) words.shift();
  return words.join(" ");
}

function nameOf(segments: FTPPath): string {
  return segments[segments.length - 1] ?? "/";
}

/** The handlers, by verb. */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  PWD() {
    this.conn.reply(
      REPLY.PWD_REPLY,
      `${quotePath(segmentsToPath(this.workingDirectory))} is the current directory`,
    );
  },
  async CWD({ arg }) {
    const segs = this.path(arg);
    await this.fs.access(segs);
    this.workingDirectory = segs;
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, "Directory successfully changed");
  },
  async CDUP() {
    const segs = this.workingDirectory.slice(0, -1);
    await this.fs.access(segs);
    this.workingDirectory = segs;
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, "Directory successfully changed");
  },
  async MKD({ arg }) {
    const segs = this.path(arg);
    await this.fs.makeDirectory(segs);
    this.conn.reply(REPLY.PWD_REPLY, `${quotePath(segmentsToPath(segs))} created`);
  },
  async RMD({ arg }) {
    await this.fs.removeDirectory(this.path(arg));
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, "Remove directory operation successful");
  },
  async DELE({ arg }) {
    await this.fs.removeFile(this.path(arg));
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, "Delete operation successful");
  },
  async RNFR({ arg }) {
    await this.fs.stat(this.path(arg));
    this.conn.acceptRenameFrom(arg);
    this.conn.reply(REPLY.REQ_FILE_ACTN_PENDING_FURTHER_INFO, "Ready for RNTO");
  },
  async RNTO({ arg, renameFrom }) {
    await this.fs.rename(this.path(renameFrom ?? ""), this.path(arg));
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, "Rename successful");
  },
  async SIZE({ arg }) {
    const info = await this.fs.stat(this.path(arg));
    if (info.type !== "file") throw new IsADirectoryError(segmentsToPath(this.path(arg)));
    this.conn.reply(REPLY.FILE_STATUS, String(info.size));
  },
  async MDTM({ arg }) {
    const info = await this.fs.stat(this.path(arg));
    this.conn.reply(REPLY.FILE_STATUS, formatTimeValue(info.modified));
  },
  async MLST({ arg }) {
    const segs = this.path(arg);
    const info = await this.fs.stat(segs);
    const entry = formatMlsxLine(
      { ...info, name: segmentsToPath(segs) },
      this.fs.writable !== false,
    );
    this.conn.reply(REPLY.REQ_FILE_ACTN_COMPLETED_OK, [
      `Listing ${segmentsToPath(segs)}`,
      entry,
      "End",
    ]);
  },
  async STAT({ arg }) {
    if (arg.trim() === "") {
      const c = this.conn;
      const who = c.authenticated
        ? `Logged in as ${c.anonymous ? "anonymous" : c.username}`
        : "Not logged in";
      this.conn.reply(REPLY.SYS_STATUS_OR_HELP_REPLY, [
        "FTP server status:",
        who,
        `TYPE: ${c.binary ? "BINARY" : "ASCII"}`,
        `Control connection: ${c.tls ? "TLS" : "clear text"}; data connections: ${c.protectData ? "TLS" : "clear text"}`,
        "End of status",
      ]);
      return;
    }
    if (!this.conn.authenticated) {
      this.conn.reply(REPLY.NOT_LOGGED_IN, "Please login with USER and PASS");
      return;
    }
    const entries = await this.fs.list(this.path(listArgument(arg)));
    const now = this.clock.seconds();
    this.conn.reply(REPLY.FILE_STATUS, [
      "Status follows:",
      ...entries.map((e) => formatListLine(e, now)),
      "End of status",
    ]);
  },
  async SITE({ arg }) {
    const [sub = "", ...rest] = arg.trim().split(" ");
    const what = sub.toUpperCase();
    if (what === "HELP") {
      this.conn.reply(REPLY.HELP_MSG, "SITE CHMOD mode path | SITE HELP");
    } else if (what === "CHMOD") {
      const mode = rest.shift() ?? "";
      if (!/^[0-7]{1,4}$/.test(mode) || rest.length === 0)
        throw new CmdArgSyntaxError("Usage: SITE CHMOD mode path");
      if (this.fs.setPermissions === undefined)
        throw new FTPCmdError("SITE CHMOD not supported here");
      await this.fs.setPermissions(this.path(rest.join(" ")), Number.parseInt(mode, 8));
      this.conn.reply(REPLY.CMD_OK, "SITE CHMOD command ok");
    } else {
      this.conn.reply(REPLY.SYNTAX_ERR, `Unknown SITE command: ${what.slice(0, 16)}`);
    }
  },
  PASV() {
    const local = unmapHost((this.transport!.getHost() as { host?: string }).host ?? "");
    const announced = this.settings.passiveHost ?? local;
    if (announced.includes(":")) {
      this.conn.reply(REPLY.CANT_OPEN_DATA_CNX, "PASV is IPv4 only: use EPSV");
      return;
    }
    const port = this.dataChannel.listen();
    this.conn.reply(
      REPLY.ENTERING_PASV_MODE,
      `Entering Passive Mode (${announced.split(".").join(",")},${port >> 8},${port & 0xff})`,
    );
  },
  EPSV() {
    const port = this.dataChannel.listen();
    this.conn.reply(REPLY.ENTERING_EPSV_MODE, `Entering Extended Passive Mode (|||${port}|)`);
  },
  PORT({ address }) {
    this.dataChannel.connectTo(address!);
    this.conn.reply(REPLY.CMD_OK, "PORT command successful");
  },
  EPRT({ address }) {
    this.dataChannel.connectTo(address!);
    this.conn.reply(REPLY.CMD_OK, "EPRT command successful");
  },
  async LIST({ arg }) {
    await listing(
      this,
      arg,
      (entries, now) => entries.map((e) => formatListLine(e, now)),
      "Here comes the directory listing",
    );
  },
  async NLST({ arg }) {
    await listing(
      this,
      arg,
      (entries) => entries.map((e) => e.name),
      "Here comes the directory listing",
    );
  },
  async MLSD({ arg }) {
    const segs = this.path(listArgument(arg));
    const info = await this.fs.stat(segs);
    if (info.type !== "dir") throw new FTPCmdError(`${segmentsToPath(segs)}: Not a directory`);
    const w = this.fs.writable !== false;
    await listing(
      this,
      arg,
      (entries) => entries.map((e) => formatMlsxLine(e, w)),
      "Here comes the directory listing",
    );
  },
  async RETR({ arg, offset }) {
    const segs = this.path(arg);
    const file = await this.fs.openForReading(segs, offset);
    const mode = this.conn.binary ? "BINARY" : "ASCII";
    const size = file.size === undefined ? "" : ` (${file.size} bytes)`;
    try {
      await this.runTransfer(
        `Opening ${mode} mode data connection for ${nameOf(segs)}${size}`,
        (dtp) => this.sendOver(dtp, file, !this.conn.binary),
      );
    } finally {
      await file.close();
    }
  },
  async STOR(command) {
    await store(this, command, { offset: command.offset });
  },
  async APPE(command) {
    await store(this, command, { append: true });
  },
  async STOU(command) {
    const base = command.arg.trim() === "" ? "ftp" : command.arg;
    // The name asked for if free, else the first free of name.1, name.2…
    for (let i = command.arg.trim() === "" ? 1 : 0; i < 1000; i++) {
      const name = i === 0 ? base : `${base}.${i}`;
      try {
        await store(this, { ...command, arg: name }, { exclusive: true }, true);
        return;
      } catch (e) {
        if (!(e instanceof FileExistsError)) throw e;
      }
    }
    throw new FileExistsError(base);
  },
};

async function listing(
  ftp: FTP,
  arg: string,
  format: (entries: FTPFileInfo[], now: number) => string[],
  opening: string,
): Promise<void> {
  const entries = await ftp.fs.list(ftp.path(listArgument(arg)));
  const lines = format(entries, ftp.settings.reactor.seconds());
  const text = lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
  await ftp.runTransfer(opening, (dtp) => ftp.sendOver(dtp, text, false), "Directory send OK");
}

async function store(
  ftp: FTP,
  command: CommandReceived,
  options: { offset?: number; append?: boolean; exclusive?: boolean },
  unique = false,
): Promise<void> {
  const segs = ftp.path(command.arg);
  // Opening for writing empties the file: refuse before that when no transfer can happen.
  if (!ftp.dataChannel.configured) {
    ftp.conn.reply(REPLY.CANT_OPEN_DATA_CNX, "Use PORT or PASV first");
    return;
  }
  const file = await ftp.fs.openForWriting(segs, options);
  const name = nameOf(segs);
  const opening = unique
    ? `FILE: ${name}`
    : `Opening ${ftp.conn.binary ? "BINARY" : "ASCII"} mode data connection for ${name}`;
  try {
    await ftp.runTransfer(
      opening,
      (dtp) => ftp.receiveOver(dtp, file, !ftp.conn.binary),
      unique ? `Transfer complete (unique file name: ${name})` : "Transfer complete",
    );
  } finally {
    await file.close();
  }
}
