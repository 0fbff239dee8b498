// The IRC server's IRCv3 labeled-response: the lines answering one labeled command, labeled.

import { escapeTagValue, formatMessage, type IRCMessage } from "./_irc_message.js";
import type { IRCServer } from "./_server.js";
import type { IRCUser } from "./_server_state.js";

/** The longest label a client may send, in bytes (IRCv3 `labeled-response`). */
export const MAX_LABEL_BYTES = 64;

const AT = 0x40;

/**
 * Puts tags at the front of a formatted line (before the tags it has). The keys are the
 * server's own (`label`, `batch`) and the values are escaped.
 */
export function prependTags(line: Buffer, tags: readonly (readonly [string, string])[]): Buffer {
  const text = tags.map(([k, v]) => `${k}=${escapeTagValue(v)}`).join(";");
  if (line[0] === AT) {
    return Buffer.concat([Buffer.from(`@${text};`, "utf8"), line.subarray(1)]);
  }
  return Buffer.concat([Buffer.from(`@${text} `, "utf8"), line]);
}

/**
 * The response to one labeled command, as the server sends it: it holds the first line, so
 * that a response of one line goes out with the `label` tag; from the second line on it opens a
 * `labeled-response` batch (labeled) and sends every line at once, tagged with the batch; a
 * command without response gets a labeled `ACK`. At most one line is held, whatever the size
 * of the response.
 */
export class LabeledReply {
  private held: Buffer | null = null;
  private count = 0;

  constructor(
    private readonly server: IRCServer,
    private readonly user: IRCUser,
    /** The client's label. */
    readonly label: string,
    /** The reference of the batch, should the response need one. */
    private readonly ref: string,
    private readonly write: (line: Buffer) => void,
  ) {}

  /** Lines of the response so far. */
  get lines(): number {
    return this.count;
  }

  /** A line of the response, on its way to the client. */
  lineSent(line: Buffer): void {
    this.count++;
    if (this.count === 1) {
      this.held = line;
      return;
    }
    if (this.count === 2) {
      this.write(this.serverLine("BATCH", [`+${this.ref}`, "labeled-response"], true));
      this.write(prependTags(this.held!, [["batch", this.ref]]));
      this.held = null;
    }
    this.write(prependTags(line, [["batch", this.ref]]));
  }

  /** The command is done: sends the held line labeled, the `ACK`, or the end of the batch. */
  end(): void {
    if (this.count === 0) this.write(this.serverLine("ACK", [], true));
    else if (this.count === 1) this.write(prependTags(this.held!, [["label", this.label]]));
    else this.write(this.serverLine("BATCH", [`-${this.ref}`], false));
    this.held = null;
  }

  private serverLine(command: string, params: string[], labeled: boolean): Buffer {
    const tags = new Map<string, string>();
    if (labeled) tags.set("label", this.label);
    if (this.user.caps.has("server-time")) {
      tags.set("time", new Date(this.server.now() * 1000).toISOString());
    }
    return formatMessage({ tags, prefix: this.server.hostname, command, params });
  }
}

/**
 * Starts the labeled response to `message` when it carries a `label` and `user` has
 * `labeled-response` and `batch` in effect: `null` when there is nothing to label, `false`
 * when the label is empty or longer than 64 bytes (the command is then refused with
 * `FAIL <command> INVALID_LABEL` and must not run).
 */
export function startLabeledReply(
  server: IRCServer,
  user: IRCUser,
  message: IRCMessage,
  ref: string,
  write: (line: Buffer) => void,
): LabeledReply | null | false {
  const label = message.tags.get("label");
  if (label === undefined || !user.caps.has("labeled-response") || !user.caps.has("batch")) {
    return null;
  }
  const bytes = Buffer.byteLength(label);
  if (bytes === 0 || bytes > MAX_LABEL_BYTES) {
    const why = bytes === 0 ? "Label is empty" : `Label is longer than ${MAX_LABEL_BYTES} bytes`;
    server.send(user, "FAIL", [message.command, "INVALID_LABEL", why]);
    return false;
  }
  return new LabeledReply(server, user, label, ref, write);
}
