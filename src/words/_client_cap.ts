// IRCClient's IRCv3 layer: capability negotiation (CAP LS 302, REQ, ACK/NAK, NEW/DEL) and SASL PLAIN.

import { Logger } from "../logger/index.js";
import { IRCClientCommands } from "./_client_commands.js";

const log = new Logger("twisted-ts.words.client");

/** The capabilities `IRCClient` asks for by default, when the server offers them. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "multi-prefix",
  "server-time",
  "message-tags",
  "cap-notify",
  "away-notify",
  "account-notify",
  "extended-join",
  "batch",
  "labeled-response",
];

/** Where capability negotiation stands. */
export type CapabilityState = "none" | "listing" | "requesting" | "authenticating" | "done";

/**
 * The IRCv3 layer of `IRCClient`. At connection it sends `CAP LS 302` before registering, asks
 * for the wanted `capabilities` that the server offers (and `sasl` when `saslUsername` is set),
 * authenticates with SASL PLAIN, then ends negotiation (`CAP END`) — after `903` (success) or
 * `904`/`905`… (failure), never on `900` alone. A server without CAP just registers us.
 */
export class IRCClientCapabilities extends IRCClientCommands {
  /** The capabilities to ask for when offered; empty: no negotiation at all. */
  capabilities: string[] = [...DEFAULT_CAPABILITIES];
  /** What the server offers: name → value (`null` without value). */
  readonly serverCapabilities = new Map<string, string | null>();
  /** Where negotiation stands. */
  capabilityState: CapabilityState = "none";
  /** The account to authenticate as with SASL PLAIN; `null`: no SASL. */
  saslUsername: string | null = null;
  /** The SASL password. */
  saslPassword: string | null = null;
  /** Quit when SASL fails, instead of going on unauthenticated. */
  saslRequired = false;
  /** The account we are logged in as (`900`), or `null`. */
  account: string | null = null;
  private lsBuffer: string[] = [];

  override register(nickname: string): void {
    const wanted = this.capabilities.length > 0 || this.saslUsername !== null;
    if (wanted && this.capabilityState === "none") {
      this.capabilityState = "listing";
      this.sendCommand("CAP", ["LS", "302"]);
    }
    super.register(nickname);
  }

  /** Asks for more capabilities after registration (they go in effect on `ACK`). */
  requestCapabilities(names: readonly string[]): void {
    if (names.length > 0) this.sendCommand("CAP", ["REQ", names.join(" ")]);
  }

  /** Ends negotiation (`CAP END`) if it is under way. */
  endCapabilityNegotiation(): void {
    if (this.capabilityState === "none" || this.capabilityState === "done") return;
    this.capabilityState = "done";
    this.sendCommand("CAP", ["END"]);
  }

  /** Called when the server acknowledges capabilities (`-name` for one turned off). Override it. */
  capabilitiesAcknowledged(names: string[]): void {}

  /** Called when the server refuses a capability request. Override it. */
  capabilitiesDenied(names: string[]): void {}

  /** Called when the server offers new capabilities (`CAP NEW`). Override it. */
  capabilitiesAdded(names: string[]): void {}

  /** Called when the server withdraws capabilities (`CAP DEL`). Override it. */
  capabilitiesRemoved(names: string[]): void {}

  /** Called once SASL succeeded (`903`), `account` being set. Override it. */
  saslSucceeded(account: string | null): void {}

  /** Called when SASL failed, with the numeric and the server's text. Override it. */
  saslFailed(numeric: string, message: string): void {}

  private wantedFrom(offered: Iterable<string>): string[] {
    const offer = new Set(offered);
    const want = this.capabilities.filter((c) => offer.has(c) && !this.enabledCapabilities.has(c));
    if (this.saslUsername !== null && offer.has("sasl") && !this.enabledCapabilities.has("sasl")) {
      const mechs = this.serverCapabilities.get("sasl");
      if (mechs === null || mechs === undefined || mechs.split(",").includes("PLAIN"))
        want.push("sasl");
    }
    return want;
  }

  private static parseCaps(text: string): [string, string | null][] {
    return text
      .split(" ")
      .filter((c) => c !== "")
      .map((c) => {
        const eq = c.indexOf("=");
        return eq < 0 ? [c, null] : [c.slice(0, eq), c.slice(eq + 1)];
      });
  }

  /** CAP: LS, ACK, NAK, NEW, DEL, LIST. */
  irc_CAP(prefix: string | null, params: string[]): void {
    const sub = (params[1] ?? "").toUpperCase();
    const more = params.length > 3 && params[2] === "*";
    const text = params[params.length - 1] ?? "";
    switch (sub) {
      case "LS": {
        this.lsBuffer.push(text);
        if (more) return;
        const caps = IRCClientCapabilities.parseCaps(this.lsBuffer.join(" "));
        this.lsBuffer = [];
        for (const [k, v] of caps) this.serverCapabilities.set(k, v);
        if (this.capabilityState !== "listing") return;
        const want = this.wantedFrom(caps.map(([k]) => k));
        if (want.length === 0) {
          this.endCapabilityNegotiation();
        } else {
          this.capabilityState = "requesting";
          this.requestCapabilities(want);
        }
        return;
      }
      case "ACK": {
        const names = text.split(" ").filter((c) => c !== "");
        for (const n of names) {
          if (n[0] === "-") this.enabledCapabilities.delete(n.slice(1));
          else this.enabledCapabilities.add(n);
        }
        this._callUser("capabilitiesAcknowledged", () => this.capabilitiesAcknowledged(names));
        if (this.capabilityState === "requesting") {
          if (names.includes("sasl") && this.saslUsername !== null) this.startSASL();
          else this.endCapabilityNegotiation();
        }
        return;
      }
      case "NAK": {
        const names = text.split(" ").filter((c) => c !== "");
        this._callUser("capabilitiesDenied", () => this.capabilitiesDenied(names));
        if (this.capabilityState === "requesting") this.endCapabilityNegotiation();
        return;
      }
      case "NEW": {
        const caps = IRCClientCapabilities.parseCaps(text);
        for (const [k, v] of caps) this.serverCapabilities.set(k, v);
        this._callUser("capabilitiesAdded", () => this.capabilitiesAdded(caps.map(([k]) => k)));
        const want = this.wantedFrom(caps.map(([k]) => k)).filter((c) => c !== "sasl");
        this.requestCapabilities(want);
        return;
      }
      case "DEL": {
        const names = text.split(" ").filter((c) => c !== "");
        for (const n of names) {
          this.serverCapabilities.delete(n);
          this.enabledCapabilities.delete(n);
        }
        this.capabilitiesRemoved(names);
        return;
      }
      case "LIST": {
        if (!more) this.enabledCapabilities.clear();
        for (const n of text.split(" ")) if (n !== "") this.enabledCapabilities.add(n);
        return;
      }
      default:
        this.irc_unknown(prefix, "CAP", params);
    }
  }

  private startSASL(): void {
    this.capabilityState = "authenticating";
    this.sendCommand("AUTHENTICATE", ["PLAIN"]);
  }

  /** AUTHENTICATE `+`: the server waits for our SASL PLAIN response. */
  irc_AUTHENTICATE(prefix: string | null, params: string[]): void {
    if (this.capabilityState !== "authenticating" || params[0] !== "+") return;
    const user = this.saslUsername ?? "";
    const payload = Buffer.from(`${user}\0${user}\0${this.saslPassword ?? ""}`, "utf8").toString(
      "base64",
    );
    // Sent in pieces of 400 bytes; a final piece of exactly 400 is followed by "+".
    for (let i = 0; i < payload.length; i += 400) {
      this.sendCommand("AUTHENTICATE", [payload.slice(i, i + 400)]);
    }
    if (payload.length % 400 === 0) this.sendCommand("AUTHENTICATE", ["+"]);
  }

  /** 900: logged in as an account. */
  irc_RPL_LOGGEDIN(prefix: string | null, params: string[]): void {
    this.account = params[2] ?? null;
  }

  /** 901: logged out. */
  irc_RPL_LOGGEDOUT(prefix: string | null, params: string[]): void {
    this.account = null;
  }

  /** 903: SASL succeeded; negotiation ends. */
  irc_RPL_SASLSUCCESS(prefix: string | null, params: string[]): void {
    const account = this.account;
    this._callUser("saslSucceeded", () => this.saslSucceeded(account));
    if (this.capabilityState === "authenticating") this.endCapabilityNegotiation();
  }

  private saslFailure(numeric: string, params: string[]): void {
    if (this.capabilityState !== "authenticating") return;
    const message = params[params.length - 1] ?? "";
    log.warn("SASL failed ({numeric}): {message}", { numeric, message });
    this._callUser("saslFailed", () => this.saslFailed(numeric, message));
    if (this.saslRequired) {
      this.capabilityState = "done";
      this.sendNow("QUIT", ["SASL authentication failed"]);
      this.transport?.loseConnection();
      return;
    }
    this.endCapabilityNegotiation();
  }

  /** 902: the account is locked. */
  irc_ERR_NICKLOCKED(prefix: string | null, params: string[]): void {
    this.saslFailure("902", params);
  }

  /** 904: SASL failed. */
  irc_ERR_SASLFAIL(prefix: string | null, params: string[]): void {
    this.saslFailure("904", params);
  }

  /** 905: SASL message too long. */
  irc_ERR_SASLTOOLONG(prefix: string | null, params: string[]): void {
    this.saslFailure("905", params);
  }

  /** 906: SASL aborted. */
  irc_ERR_SASLABORTED(prefix: string | null, params: string[]): void {
    this.saslFailure("906", params);
  }

  /** 907: already authenticated. */
  irc_ERR_SASLALREADY(prefix: string | null, params: string[]): void {
    if (this.capabilityState === "authenticating") this.endCapabilityNegotiation();
  }

  /** 908: the mechanisms the server offers (a failure numeric follows). */
  irc_RPL_SASLMECHS(prefix: string | null, params: string[]): void {}

  /** 421 for CAP: the server has no capability negotiation; registration goes on. */
  irc_ERR_UNKNOWNCOMMAND(prefix: string | null, params: string[]): void {
    if ((params[1] ?? "").toUpperCase() === "CAP" && this.capabilityState !== "done") {
      this.capabilityState = "done";
    }
  }
}
