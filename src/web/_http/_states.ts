// The state machine of one HTTP/1.1 connection, per side, with its transitions as a table.

import { LocalProtocolError } from "./_errors.js";

/** Which side of the connection we are. */
export type Role = "client" | "server";

/** The state of one side (h11's names). */
export type State =
  | "IDLE"
  | "SEND_RESPONSE"
  | "SEND_BODY"
  | "DONE"
  | "MUST_CLOSE"
  | "CLOSED"
  | "MIGHT_SWITCH_PROTOCOL"
  | "SWITCHED_PROTOCOL"
  | "ERROR";

/** What a side did: sent (or was seen sending) one part of a message. */
export type Step =
  | "Request"
  | "InformationalResponse"
  | "Response"
  | "SwitchAccepted"
  | "Data"
  | "EndOfMessage"
  | "ConnectionClosed";

type Table = Readonly<Record<Role, Readonly<Partial<Record<State, Partial<Record<Step, State>>>>>>>;

/** The transitions a side's own steps cause; a pair missing here is an error. */
export const TRANSITIONS: Table = {
  client: {
    IDLE: { Request: "SEND_BODY", ConnectionClosed: "CLOSED" },
    SEND_BODY: { Data: "SEND_BODY", EndOfMessage: "DONE" },
    DONE: { ConnectionClosed: "CLOSED" },
    MUST_CLOSE: { ConnectionClosed: "CLOSED" },
    CLOSED: { ConnectionClosed: "CLOSED" },
  },
  server: {
    // A response from IDLE is only allowed when the client broke the protocol (an error page).
    IDLE: { ConnectionClosed: "CLOSED", Response: "SEND_BODY" },
    SEND_RESPONSE: {
      InformationalResponse: "SEND_RESPONSE",
      Response: "SEND_BODY",
      SwitchAccepted: "SWITCHED_PROTOCOL",
    },
    SEND_BODY: { Data: "SEND_BODY", EndOfMessage: "DONE" },
    DONE: { ConnectionClosed: "CLOSED" },
    MUST_CLOSE: { ConnectionClosed: "CLOSED" },
    CLOSED: { ConnectionClosed: "CLOSED" },
  },
};

const CLIENT = TRANSITIONS.client;
const SERVER = TRANSITIONS.server;

/**
 * Both sides' states, moved by steps (through `TRANSITIONS`) and by the rules that tie the sides
 * together: keep-alive off turns `DONE` into `MUST_CLOSE`, a proposed protocol switch turns the
 * client's `DONE` into `MIGHT_SWITCH_PROTOCOL`, and a closed side makes an idle peer close too.
 */
export class ConnectionState {
  /** The state of each side. */
  readonly states: Record<Role, State> = { client: "IDLE", server: "IDLE" };
  /** False once either side asked to close after this message. */
  keepAlive = true;
  /** The client proposed to switch protocols (`Upgrade` or `CONNECT`) in this cycle. */
  pendingSwitch: "upgrade" | "connect" | null = null;

  /** Applies `role`'s `step`; raises `LocalProtocolError` if the table does not allow it. */
  process(role: Role, step: Step): void {
    const s = this.states;
    const client = role === "client";
    const from = client ? s.client : s.server;
    const to = (client ? CLIENT : SERVER)[from]?.[step];
    if (to === undefined) {
      throw new LocalProtocolError(`Cannot ${step} in state ${from} (${role})`);
    }
    if (client) {
      s.client = to;
      if (step === "Request" && s.server === "IDLE") s.server = "SEND_RESPONSE";
    } else {
      s.server = to;
      if (step === "SwitchAccepted") s.client = "SWITCHED_PROTOCOL";
      else if (step === "Response") this.pendingSwitch = null;
    }
    // The usual keep-alive cycle needs none of the rules that tie the sides together.
    if (this.keepAlive && this.pendingSwitch === null && (to === "SEND_BODY" || to === "DONE")) {
      const other = client ? s.server : s.client;
      if (
        other === "IDLE" ||
        other === "SEND_RESPONSE" ||
        other === "SEND_BODY" ||
        other === "DONE"
      )
        return;
    }
    this.settle();
  }

  /** Marks `role` as broken: nothing more can be sent or received for it. */
  error(role: Role): void {
    this.states[role] = "ERROR";
    this.settle();
  }

  /** Turns keep-alive off for this connection. */
  disableKeepAlive(): void {
    this.keepAlive = false;
    this.settle();
  }

  /** Starts the next request/response cycle; both sides must be `DONE`. */
  startNextCycle(): void {
    if (this.states.client !== "DONE" || this.states.server !== "DONE") {
      throw new LocalProtocolError(
        `Cannot start the next cycle in states ${this.states.client}/${this.states.server}`,
      );
    }
    this.states.client = "IDLE";
    this.states.server = "IDLE";
    this.pendingSwitch = null;
  }

  private settle(): void {
    const s = this.states;
    if (this.pendingSwitch !== null && s.client === "DONE") s.client = "MIGHT_SWITCH_PROTOCOL";
    if (this.pendingSwitch === null && s.client === "MIGHT_SWITCH_PROTOCOL") s.client = "DONE";
    if (!this.keepAlive) {
      if (s.client === "DONE") s.client = "MUST_CLOSE";
      if (s.server === "DONE") s.server = "MUST_CLOSE";
    }
    // A closing side makes an idle or done peer close too (client first, then server).
    if (
      (s.server === "MUST_CLOSE" || s.server === "CLOSED") &&
      (s.client === "IDLE" || s.client === "DONE")
    )
      s.client = "MUST_CLOSE";
    if (
      (s.client === "MUST_CLOSE" || s.client === "CLOSED") &&
      (s.server === "IDLE" || s.server === "DONE")
    )
      s.server = "MUST_CLOSE";
  }
}
