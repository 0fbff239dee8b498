// The IRCv3 `batch` reader, sans I/O: messages in → messages to handle now, or whole batches.

import type { IRCMessage } from "./_irc_message.js";

/** Open batches at once, nested ones included (beyond: `BatchOverflowed`). */
export const MAX_OPEN_BATCHES = 16;
/** Messages held by one outermost batch, nested batches' messages included. */
export const MAX_BATCH_MESSAGES = 1000;

/** References remembered as given up (their `BATCH -ref` is dropped quietly). */
const MAX_ABANDONED = 256;

/** A reference tag: ASCII letters, digits and hyphens (IRCv3 `batch`). */
const REF = /^[A-Za-z0-9-]+$/;

/**
 * A batch of related messages (IRCv3 `batch`): the `BATCH +ref type params…` line that opened
 * it, and what came tagged `batch=ref` before `BATCH -ref`, in order — a nested batch in the
 * place where it ended.
 */
export interface IRCBatch {
  /** The reference tag (opaque; unique among the open batches of a connection). */
  readonly ref: string;
  /** The batch type (`labeled-response`, `netsplit`, `chathistory`…), an opaque name. */
  readonly type: string;
  /** The parameters after the type. */
  readonly params: readonly string[];
  /** The `BATCH +ref` line itself (its tags carry the `label` of a labeled response). */
  readonly start: IRCMessage;
  /** The messages of the batch, and its nested batches, in the order they completed. */
  readonly messages: readonly (IRCMessage | IRCBatch)[];
}

/** True when an entry of `IRCBatch.messages` is a nested batch. */
export function isIRCBatch(entry: IRCMessage | IRCBatch): entry is IRCBatch {
  return !("command" in entry);
}

/** The messages of a batch and of its nested batches, in order, without the BATCH lines. */
export function batchMessages(batch: IRCBatch): IRCMessage[] {
  const out: IRCMessage[] = [];
  const walk = (b: IRCBatch) => {
    for (const entry of b.messages) {
      if (isIRCBatch(entry)) walk(entry);
      else out.push(entry);
    }
  };
  walk(batch);
  return out;
}

/** A message that belongs to no open batch: handle it now. */
export interface MessageReleased {
  readonly type: "MessageReleased";
  readonly message: IRCMessage;
}

/** An outermost batch ended: handle its messages. */
export interface BatchCompleted {
  readonly type: "BatchCompleted";
  readonly batch: IRCBatch;
}

/**
 * A limit was reached: `ref`'s outermost batch is given up — what it held follows as
 * `MessageReleased` events, and its later messages are released as they come.
 */
export interface BatchOverflowed {
  readonly type: "BatchOverflowed";
  /** The batch that hit the limit. */
  readonly ref: string;
  /** The `BATCH +` line of the outermost batch given up (for its `label` tag). */
  readonly start: IRCMessage;
  readonly reason: string;
}

/** A `BATCH` line was dropped: an unknown `-ref`, a reused `+ref`, or a malformed line. */
export interface BatchIgnored {
  readonly type: "BatchIgnored";
  readonly message: IRCMessage;
  readonly reason: string;
}

/** What `IRCBatchReader.messageReceived` gives. */
export type IRCBatchEvent = MessageReleased | BatchCompleted | BatchOverflowed | BatchIgnored;

/** Options of `IRCBatchReader`. */
export interface IRCBatchReaderOptions {
  /** Open batches at once, nested ones included (default 16). */
  maxOpenBatches?: number;
  /** Messages one outermost batch may hold, nested batches' included (default 1000). */
  maxBatchMessages?: number;
}

interface OpenBatch {
  ref: string;
  type: string;
  params: string[];
  start: IRCMessage;
  messages: (IRCMessage | IRCBatch)[];
  parent: OpenBatch | null;
  /** The outermost batch of this one's tree (itself when outermost). */
  root: OpenBatch;
  /** Messages held in the tree (kept on the root). */
  held: number;
  /** Open children, so that ending a parent ends them too. */
  children: Set<OpenBatch>;
}

/**
 * Gathers the messages of IRCv3 batches: feed it every message received once `batch` is in
 * effect; it returns what to handle now. A message tagged with an open batch's reference is
 * held until that batch ends; an outermost batch that ends comes out whole (`BatchCompleted`),
 * nested batches inside it. Held input is bounded: past `maxOpenBatches` open batches or
 * `maxBatchMessages` held by one outermost batch, that batch is given up (`BatchOverflowed`)
 * and its messages come out one by one, so nothing is lost and memory stays bounded. A message
 * tagged with a reference that is not open is released at once; `BATCH -ref` for a batch that
 * is not open is ignored (`BatchIgnored`). It never throws on input.
 *
 * @example
 * ```ts
 * const reader = new IRCBatchReader();
 * reader.messageReceived(parseMessage(":s BATCH +r1 netsplit a b")); // []
 * reader.messageReceived(parseMessage("@batch=r1 :n!u@h QUIT :a b")); // []
 * reader.messageReceived(parseMessage(":s BATCH -r1")); // [{ type: "BatchCompleted", … }]
 * ```
 */
export class IRCBatchReader {
  /** Open batches at once (may be changed between messages). */
  maxOpenBatches: number;
  /** Messages one outermost batch may hold (may be changed between messages). */
  maxBatchMessages: number;
  private readonly open = new Map<string, OpenBatch>();
  /** References given up after an overflow: their messages are released, their end dropped. */
  private readonly abandoned = new Set<string>();
  /** Arrival order of held messages, so that a tree given up releases them as they came. */
  private readonly order = new WeakMap<IRCMessage, number>();
  private arrivals = 0;

  constructor(options: IRCBatchReaderOptions = {}) {
    this.maxOpenBatches = options.maxOpenBatches ?? MAX_OPEN_BATCHES;
    this.maxBatchMessages = options.maxBatchMessages ?? MAX_BATCH_MESSAGES;
  }

  /** Batches open now (nested ones included). */
  get openBatches(): number {
    return this.open.size;
  }

  /** Messages held now by open batches. */
  get heldMessages(): number {
    let n = 0;
    for (const b of this.open.values()) if (b.parent === null) n += b.held;
    return n;
  }

  /** Takes one message; returns the events it gives, in the order to handle them. */
  messageReceived(message: IRCMessage): IRCBatchEvent[] {
    const events: IRCBatchEvent[] = [];
    if (message.command === "BATCH") this.batchLine(message, events);
    else this.add(message, this.parentOf(message), events);
    return events;
  }

  /** Gives up every open batch: what they held comes out as `MessageReleased` events. */
  flush(): IRCBatchEvent[] {
    const events: IRCBatchEvent[] = [];
    const roots = [...this.open.values()].filter((b) => b.parent === null);
    this.release(roots, events);
    return events;
  }

  /** Forgets everything held (the connection is gone). */
  reset(): void {
    this.open.clear();
    this.abandoned.clear();
  }

  private parentOf(message: IRCMessage): OpenBatch | null {
    const ref = message.tags.get("batch");
    return ref === undefined ? null : (this.open.get(ref) ?? null);
  }

  private batchLine(message: IRCMessage, events: IRCBatchEvent[]): void {
    const first = message.params[0] ?? "";
    const sign = first[0];
    const ref = first.slice(1);
    if ((sign !== "+" && sign !== "-") || !REF.test(ref)) {
      events.push({ type: "BatchIgnored", message, reason: "Bad BATCH reference" });
      return;
    }
    if (sign === "-") {
      this.end(ref, message, events);
      return;
    }
    const type = message.params[1];
    if (type === undefined || type === "") {
      events.push({ type: "BatchIgnored", message, reason: "BATCH without a type" });
      return;
    }
    if (this.open.has(ref) || this.abandoned.has(ref)) {
      events.push({ type: "BatchIgnored", message, reason: `Batch ${ref} is already open` });
      return;
    }
    const parent = this.parentOf(message);
    if (this.open.size >= this.maxOpenBatches) {
      // Too many open: this batch is not gathered (its lines are released as they come), and
      // the tree it would join is given up too so that order is kept.
      this.abandon(ref);
      if (parent !== null) {
        const reason = `Too many open batches (over ${this.maxOpenBatches})`;
        this.overflow(parent.root, ref, reason, events);
      } else {
        events.push({
          type: "BatchOverflowed",
          ref,
          start: message,
          reason: `Too many open batches (over ${this.maxOpenBatches})`,
        });
      }
      return;
    }
    const batch: OpenBatch = {
      ref,
      type,
      params: message.params.slice(2),
      start: message,
      messages: [],
      parent,
      root: null as unknown as OpenBatch,
      held: 0,
      children: new Set(),
    };
    batch.root = parent === null ? batch : parent.root;
    parent?.children.add(batch);
    this.open.set(ref, batch);
  }

  private end(ref: string, message: IRCMessage, events: IRCBatchEvent[]): void {
    if (this.abandoned.delete(ref)) return;
    const batch = this.open.get(ref);
    if (batch === undefined) {
      events.push({ type: "BatchIgnored", message, reason: `Batch ${ref} is not open` });
      return;
    }
    const done = this.close(batch);
    if (batch.parent === null) events.push({ type: "BatchCompleted", batch: done });
    else {
      batch.parent.children.delete(batch);
      batch.parent.messages.push(done);
    }
  }

  /** Closes `batch` and its still-open children (a server that forgot to end them). */
  private close(batch: OpenBatch): IRCBatch {
    for (const child of [...batch.children]) batch.messages.push(this.close(child));
    batch.children.clear();
    this.open.delete(batch.ref);
    return {
      ref: batch.ref,
      type: batch.type,
      params: batch.params,
      start: batch.start,
      messages: batch.messages,
    };
  }

  private add(message: IRCMessage, batch: OpenBatch | null, events: IRCBatchEvent[]): void {
    if (batch === null) {
      events.push({ type: "MessageReleased", message });
      return;
    }
    const root = batch.root;
    if (root.held >= this.maxBatchMessages) {
      const reason = `Batch holds too many messages (over ${this.maxBatchMessages})`;
      this.overflow(root, batch.ref, reason, events);
      events.push({ type: "MessageReleased", message });
      return;
    }
    root.held++;
    this.order.set(message, this.arrivals++);
    batch.messages.push(message);
  }

  private overflow(root: OpenBatch, ref: string, reason: string, events: IRCBatchEvent[]): void {
    events.push({ type: "BatchOverflowed", ref, start: root.start, reason });
    this.release([root], events);
  }

  private abandon(ref: string): void {
    this.abandoned.add(ref);
    if (this.abandoned.size > MAX_ABANDONED) {
      this.abandoned.delete(this.abandoned.values().next().value!);
    }
  }

  /** Gives up open trees: their messages come out in arrival order; their references abandoned. */
  private release(roots: OpenBatch[], events: IRCBatchEvent[]): void {
    const held: IRCMessage[] = [];
    const gather = (batch: OpenBatch) => {
      this.open.delete(batch.ref);
      this.abandon(batch.ref);
      for (const entry of batch.messages) {
        if (isIRCBatch(entry)) held.push(...batchMessages(entry));
        else held.push(entry);
      }
      for (const child of batch.children) gather(child);
    };
    for (const root of roots) gather(root);
    held.sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    for (const message of held) events.push({ type: "MessageReleased", message });
  }
}
