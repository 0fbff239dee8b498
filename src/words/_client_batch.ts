// IRCClient's IRCv3 batch and labeled-response layer: batches gathered, labeled commands answered.

import { Deferred, fail } from "../internet/defer.js";
import { TimeoutError } from "../internet/error.js";
import { Failure } from "../internet/failure.js";
import type { IDelayedCall } from "../internet/interfaces.js";
import { Logger } from "../logger/index.js";
import { IRCClientCapabilities } from "./_client_cap.js";
import {
  batchMessages,
  type IRCBatch,
  type IRCBatchEvent,
  IRCBatchReader,
  isIRCBatch,
  MAX_BATCH_MESSAGES,
  MAX_OPEN_BATCHES,
} from "./_irc_batch.js";
import { type IRCMessage, type IRCMessageInput, LocalProtocolError } from "./_irc_message.js";

const log = new Logger("twisted-ts.words.client");

/** The capabilities `sendLabeled` needs the server to have acknowledged. */
const LABEL_CAPABILITIES = ["labeled-response", "batch", "message-tags"] as const;

/** What `sendLabeled` gives: the server's response to one labeled command. */
export interface LabeledResponse {
  /** The label the command was sent with. */
  readonly label: string;
  /**
   * The response's messages in order: the one labeled message, the messages of the labeled
   * batch (nested batches flattened, BATCH lines left out), or none for an `ACK`.
   */
  readonly messages: readonly IRCMessage[];
  /** The batch the response came in, or `null` for a single message or an `ACK`. */
  readonly batch: IRCBatch | null;
  /** True when the server answered `ACK` (the command produces no response). */
  readonly ack: boolean;
}

/** Options of `sendLabeled`. */
export interface SendLabeledOptions {
  /** Seconds to wait for the response (default: `labelTimeout`); 0 waits for ever. */
  timeout?: number;
  /** More tags to send with the command (client-only tags start with `+`). */
  tags?: Readonly<Record<string, string>>;
}

interface PendingLabel {
  readonly deferred: Deferred<LabeledResponse>;
  readonly call: IDelayedCall | null;
}

/**
 * The IRCv3 `batch` and `labeled-response` layer of `IRCClient`. Once `batch` is in effect,
 * messages tagged `batch=<ref>` are held from `BATCH +ref` to `BATCH -ref` and handed to
 * `batchReceived` whole (nested batches inside); its default handles each message as if it had
 * come alone, so handlers written without batches keep working. `sendLabeled` sends a command
 * with a `label` tag and gives its response.
 */
export class IRCClientBatches extends IRCClientCapabilities {
  /** Open batches at once, nested ones included; past it a batch is handled unbatched. */
  maxOpenBatches = MAX_OPEN_BATCHES;
  /** Messages one outermost batch may hold; past it the batch is handled unbatched. */
  maxBatchMessages = MAX_BATCH_MESSAGES;
  /** Seconds `sendLabeled` waits for a response by default. */
  labelTimeout = 30;
  /** The batch whose messages are being handled, while `batchReceived`'s default runs. */
  currentBatch: IRCBatch | null = null;
  private batchReader: IRCBatchReader | null = null;
  private readonly labels = new Map<string, PendingLabel>();
  private labelCount = 0;

  /**
   * Called with each message received. With `batch` in effect it goes through the batch
   * reader first: a message of an open batch is held, and a batch that ends goes to
   * `batchReceived`. A message carrying the `label` of a pending `sendLabeled` also fires it,
   * after the message was handled.
   */
  override messageReceived(message: IRCMessage): void {
    const batched =
      this.enabledCapabilities.has("batch") &&
      (message.command === "BATCH" || message.tags.has("batch"));
    if (batched) {
      this.batchReader ??= new IRCBatchReader();
      this.batchReader.maxOpenBatches = this.maxOpenBatches;
      this.batchReader.maxBatchMessages = this.maxBatchMessages;
      this.batchEvents(this.batchReader.messageReceived(message));
    } else {
      this.messageReleased(message);
    }
    if (this.batchReader !== null && !this.enabledCapabilities.has("batch")) {
      // `CAP DEL batch` with batches open: what they held is handled now, one by one.
      const held = this.batchReader.flush();
      this.batchReader = null;
      this.batchEvents(held);
    }
  }

  /**
   * Called with each batch that ended (an outermost one: nested batches are in its
   * `messages`). The default handles every message in order as if it had come alone (a
   * nested batch through `batchReceived` again), with `currentBatch` set. Override it to
   * handle a batch type as a whole (a `netsplit` as one line, a `chathistory` replay…) and
   * call `super.batchReceived(batch)` for the others.
   */
  batchReceived(batch: IRCBatch): void {
    const outer = this.currentBatch;
    try {
      for (const entry of batch.messages) {
        if (!this.connected) return;
        this.currentBatch = batch;
        if (isIRCBatch(entry)) this.batchReceived(entry);
        else super.messageReceived(entry);
      }
    } finally {
      this.currentBatch = outer;
    }
  }

  /** `ACK`: the answer to a labeled command that produces no response (see `sendLabeled`). */
  irc_ACK(prefix: string | null, params: string[]): void {}

  /**
   * Sends a command with a unique `label` tag (IRCv3 `labeled-response`) and gives the
   * server's response: the one message it labeled, the `ACK` it sends when the command has no
   * response, or the messages of the batch it labeled. The response is also handled as usual
   * (handlers and callbacks run first). The command is paced by `lineRate` like any other.
   *
   * Fails at once with `LocalProtocolError` unless `labeled-response`, `batch` and
   * `message-tags` are in effect (ask for them in `capabilities`; `IRCClient` does by default),
   * or when the command cannot be sent; fails with `TimeoutError` after `timeout` seconds
   * (`labelTimeout`, 30) on the client's `clock`, with the reason when the connection is lost,
   * and with an `Error` when the labeled batch outgrows `maxBatchMessages`.
   *
   * Cancel: cancelling the Deferred forgets the label (the command is sent all the same, and a
   * response that comes later is handled as an unlabeled one).
   *
   * @example
   * ```ts
   * const response = await client.sendLabeled("WHOIS", ["alice"]);
   * for (const m of response.messages) console.log(m.command, m.params.join(" "));
   * ```
   */
  sendLabeled(
    command: string,
    params: readonly (string | Uint8Array)[] = [],
    options: SendLabeledOptions = {},
  ): Deferred<LabeledResponse> {
    const missing = LABEL_CAPABILITIES.filter((c) => !this.enabledCapabilities.has(c));
    if (missing.length > 0) {
      return fail(
        new LocalProtocolError(
          `Cannot send a labeled command: capabilities not acknowledged by the server: ${missing.join(", ")}`,
        ),
      );
    }
    if (this.transport === null || !this.connected) {
      return fail(new LocalProtocolError("Cannot send a labeled command: not connected"));
    }
    const label = this.nextLabel();
    const deferred = new Deferred<LabeledResponse>(() => this.forgetLabel(label));
    const timeout = options.timeout ?? this.labelTimeout;
    const call =
      timeout > 0
        ? this._clock.callLater(timeout, () => {
            if (this.labels.get(label)?.deferred !== deferred) return;
            this.labels.delete(label);
            deferred.errback(
              new TimeoutError(`No response to labeled ${command} within ${timeout} seconds`),
            );
          })
        : null;
    this.labels.set(label, { deferred, call });
    const tags: IRCMessageInput["tags"] = { ...options.tags, label };
    try {
      this.sendCommand(command, params, null, tags);
    } catch (e) {
      this.forgetLabel(label);
      deferred.errback(new Failure(e));
    }
    return deferred;
  }

  /** Labels of `sendLabeled` commands still waiting for their response. */
  get pendingLabels(): number {
    return this.labels.size;
  }

  /** A label unique on this connection (at most 64 bytes, as the specification requires). */
  protected nextLabel(): string {
    this.labelCount++;
    return `tl${this.labelCount.toString(36)}`;
  }

  private forgetLabel(label: string): void {
    const pending = this.labels.get(label);
    if (pending === undefined) return;
    this.labels.delete(label);
    if (pending.call?.active()) pending.call.cancel();
  }

  /** Takes the pending label a response carries (on its message or its batch's start). */
  private takeLabel(message: IRCMessage): Deferred<LabeledResponse> | null {
    const label = message.tags.get("label");
    if (label === undefined) return null;
    const pending = this.labels.get(label);
    if (pending === undefined) return null;
    this.forgetLabel(label);
    return pending.deferred;
  }

  /** A message outside any batch: handled now (and answers its label). */
  private messageReleased(message: IRCMessage): void {
    const waiter = this.takeLabel(message);
    super.messageReceived(message);
    if (waiter === null) return;
    const label = message.tags.get("label")!;
    const ack = message.command === "ACK";
    waiter.callback({ label, messages: ack ? [] : [message], batch: null, ack });
  }

  private batchEvents(events: IRCBatchEvent[]): void {
    for (const event of events) {
      if (!this.connected) return;
      switch (event.type) {
        case "MessageReleased":
          this.messageReleased(event.message);
          break;
        case "BatchCompleted":
          this.batchCompleted(event.batch);
          break;
        case "BatchOverflowed": {
          log.warn("Batch {ref} given up, its messages handled one by one: {reason}", {
            ref: event.ref,
            reason: event.reason,
          });
          const waiter = this.takeLabel(event.start);
          waiter?.errback(new Error(`Labeled response given up: ${event.reason}`));
          break;
        }
        case "BatchIgnored":
          log.warn("BATCH line ignored: {reason}", { reason: event.reason });
          break;
      }
    }
  }

  private batchCompleted(batch: IRCBatch): void {
    const waiter = this.takeLabel(batch.start);
    try {
      this.batchReceived(batch);
    } catch (e) {
      log.failure("Error handling batch {ref} ({type})", new Failure(e), undefined, {
        ref: batch.ref,
        type: batch.type,
      });
    }
    if (waiter === null) return;
    const label = batch.start.tags.get("label")!;
    waiter.callback({ label, messages: batchMessages(batch), batch, ack: false });
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.batchReader = null;
    this.currentBatch = null;
    const pending = [...this.labels.values()];
    this.labels.clear();
    for (const p of pending) {
      if (p.call?.active()) p.call.cancel();
      p.deferred.errback(reason);
    }
  }
}
