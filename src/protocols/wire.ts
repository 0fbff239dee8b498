// The simple Internet services (twisted.protocols.wire): echo, discard, chargen, daytime, qotd, time.

import { _globalReactor } from "../internet/_global.js";
import type { Failure } from "../internet/failure.js";
import type { IDelayedCall, IReactorTime, ITCPTransport } from "../internet/interfaces.js";
import { Factory, Protocol } from "../internet/protocol.js";

/**
 * Echo (RFC 862): writes back everything it receives.
 *
 * @example
 * ```ts
 * reactor.listenTCP(7, Factory.forProtocol(Echo));
 * ```
 */
export class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.tx.write(data);
  }
}

/** Discard (RFC 863): reads and drops everything. */
export class Discard extends Protocol {
  override dataReceived(data: Buffer): void {}
}

/** The 95 printable ASCII characters, in the order RFC 864 rotates them. */
const PRINTABLE = Buffer.from(
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join(""),
  "latin1",
);

/** One full period of RFC 864 output: 95 lines of 72 characters, each shifted by one. */
const CHARGEN_PERIOD: Buffer = (() => {
  const out = Buffer.alloc(95 * 74);
  for (let line = 0; line < 95; line++) {
    const base = line * 74;
    for (let i = 0; i < 72; i++) out[base + i] = PRINTABLE[(line + i) % 95] as number;
    out[base + 72] = 0x0d;
    out[base + 73] = 0x0a;
  }
  return out;
})();

/**
 * Character generator (RFC 864): sends the rotating 72-character lines for as long as the
 * connection lasts, and ignores what it receives. It is a streaming producer of its
 * transport: it writes until the transport pauses it (its peer reads slower than it writes),
 * and goes on when resumed. Between bursts it yields to the event loop through `clock`
 * (`callLater(0)`; on a test `Clock`, `advance()` thus runs bursts until it is paused).
 *
 * @example
 * ```ts
 * reactor.listenTCP(19, chargenFactory());
 * ```
 */
export class Chargen extends Protocol {
  /** Bytes written per burst before yielding to the event loop. */
  burstSize = 64 * 1024;
  /** The clock bursts are scheduled on (`null`: the global reactor). */
  clock: IReactorTime | null = null;
  private paused = false;
  private stopped = false;
  private next: IDelayedCall | null = null;

  override connectionMade(): void {
    (this.tx as ITCPTransport).registerProducer(this, true);
    this.burst();
  }

  override dataReceived(data: Buffer): void {}

  /** Stops writing until resumed. */
  pauseProducing(): void {
    this.paused = true;
    this.cancelNext();
  }

  /** Writes again. */
  resumeProducing(): void {
    if (this.stopped) return;
    this.paused = false;
    this.schedule();
  }

  /** Stops for good (the connection is going away). */
  stopProducing(): void {
    this.stopped = true;
    this.cancelNext();
  }

  override connectionLost(reason: Failure): void {
    this.stopProducing();
    super.connectionLost(reason);
  }

  private burst(): void {
    this.next = null;
    let written = 0;
    while (!this.paused && !this.stopped && this.connected && written < this.burstSize) {
      this.tx.write(CHARGEN_PERIOD);
      written += CHARGEN_PERIOD.length;
    }
    if (!this.paused) this.schedule();
  }

  private schedule(): void {
    if (this.next !== null || this.stopped || !this.connected) return;
    const clock = this.clock ?? _globalReactor<IReactorTime>();
    this.next = clock.callLater(0, () => this.burst());
  }

  private cancelNext(): void {
    if (this.next?.active()) this.next.cancel();
    this.next = null;
  }
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `seconds` since the epoch as C's `asctime` shows it, in UTC: `Thu Jan  1 00:00:00 1970`. */
function asctime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The current time in seconds since the epoch: the clock's if one is set, else the system's. */
function now(clock: IReactorTime | null): number {
  return clock === null ? Date.now() / 1000 : clock.seconds();
}

/**
 * Daytime (RFC 867): writes the date and time (UTC, `asctime` format, then CRLF) and closes.
 * Set `clock` to take the time from a reactor or `Clock` instead of the system.
 */
export class Daytime extends Protocol {
  /** Where the time comes from (`null`: the system clock). */
  clock: IReactorTime | null = null;

  override connectionMade(): void {
    this.tx.write(`${asctime(now(this.clock))}\r\n`);
    this.tx.loseConnection();
  }
}

/** Seconds from 1900-01-01 to 1970-01-01 (RFC 868's epoch to Unix's). */
const RFC868_OFFSET = 2208988800;

/** Time (RFC 868): writes the time as a 32-bit big-endian count of seconds since 1900, and closes. */
export class Time extends Protocol {
  /** Where the time comes from (`null`: the system clock). */
  clock: IReactorTime | null = null;

  override connectionMade(): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((Math.floor(now(this.clock)) + RFC868_OFFSET) % 2 ** 32);
    this.tx.write(b);
    this.tx.loseConnection();
  }
}

/** Quote of the day (RFC 865): writes a quote and closes. Override `getQuote`. */
export class QOTD extends Protocol {
  override connectionMade(): void {
    this.tx.write(this.getQuote());
    this.tx.loseConnection();
  }

  /** The quote sent, with its line end. */
  getQuote(): string {
    return "An apple a day keeps the doctor away.\r\n";
  }
}

/** A factory of `Echo`. */
export function echoFactory(): Factory<Echo> {
  return Factory.forProtocol(Echo);
}

/** A factory of `Discard`. */
export function discardFactory(): Factory<Discard> {
  return Factory.forProtocol(Discard);
}

/** A factory of `QOTD`. */
export function qotdFactory(): Factory<QOTD> {
  return Factory.forProtocol(QOTD);
}

/** A factory whose protocols get `clock` (Chargen, Daytime, Time). */
class ClockedFactory<P extends Protocol & { clock: IReactorTime | null }> extends Factory<P> {
  constructor(
    protocolClass: new () => P,
    private readonly clock: IReactorTime | null,
  ) {
    super();
    this.protocol = protocolClass;
  }

  override buildProtocol(addr: Parameters<Factory<P>["buildProtocol"]>[0]): P | null {
    const p = super.buildProtocol(addr);
    if (p !== null) p.clock = this.clock;
    return p;
  }
}

/** A factory of `Chargen`; its protocols schedule their bursts on `clock` (default: the global reactor). */
export function chargenFactory(clock: IReactorTime | null = null): Factory<Chargen> {
  return new ClockedFactory(Chargen, clock);
}

/** A factory of `Daytime`; its protocols read the time from `clock` (default: the system). */
export function daytimeFactory(clock: IReactorTime | null = null): Factory<Daytime> {
  return new ClockedFactory(Daytime, clock);
}

/** A factory of `Time`; its protocols read the time from `clock` (default: the system). */
export function timeFactory(clock: IReactorTime | null = null): Factory<Time> {
  return new ClockedFactory(Time, clock);
}
