// Error classes of twisted-ts/internet, with Twisted's names and stable `code` strings.

/**
 * Base class of every error raised by Twisted.ts. Each subclass has a stable `code`
 * (for programs) and a `name` (for people); an underlying OS error is kept as `cause`.
 *
 * @example
 * ```ts
 * if (reason.check(ConnectionRefusedError)) console.log("nobody listens there");
 * ```
 */
export class TwistedError extends Error {
  /** A stable, machine-readable identifier of the error kind. */
  readonly code: string = "ERR_TWISTED";

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A bad command line or configuration string (`--listen`, `--auth`, plugin options): `twist`
 * prints the message with the usage and exits with code 64.
 */
export class UsageError extends TwistedError {
  override readonly code: string = "ERR_USAGE";
}

// Connection outcomes -------------------------------------------------------------------------

/** The connection was closed cleanly (`connectionLost` reason after `loseConnection`). */
export class ConnectionDone extends TwistedError {
  override readonly code: string = "ERR_CONNECTION_DONE";
  constructor(message = "Connection was closed cleanly", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The connection was closed uncleanly: reset, aborted or failed. */
export class ConnectionLost extends TwistedError {
  override readonly code: string = "ERR_CONNECTION_LOST";
  constructor(
    message = "Connection to the other side was lost in a non-clean fashion",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A connection was aborted locally with `abortConnection()`. */
export class ConnectionAborted extends ConnectionLost {
  override readonly code: string = "ERR_CONNECTION_ABORTED";
  constructor(message = "Connection was aborted locally", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Base class of the errors with which an outgoing connection attempt fails. */
export class ConnectError extends TwistedError {
  override readonly code: string = "ERR_CONNECT";
  constructor(message = "An error occurred while connecting", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The peer refused the connection (`ECONNREFUSED`). */
export class ConnectionRefusedError extends ConnectError {
  override readonly code: string = "ERR_CONNECTION_REFUSED";
  constructor(message = "Connection was refused by other side", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A TCP connection attempt timed out. */
export class TCPTimedOutError extends ConnectError {
  override readonly code: string = "ERR_TCP_TIMED_OUT";
  constructor(message = "TCP connection timed out", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A user-specified timeout expired (connect timeouts, `Deferred.addTimeout`). */
export class TimeoutError extends ConnectError {
  override readonly code: string = "ERR_TIMEOUT";
  constructor(message = "User timeout caused connection failure", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A host name could not be resolved. */
export class DNSLookupError extends ConnectError {
  override readonly code: string = "ERR_DNS_LOOKUP";
  constructor(message = "DNS lookup failed", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No route to the host, or the network is unreachable. */
export class NoRouteError extends ConnectError {
  override readonly code: string = "ERR_NO_ROUTE";
  constructor(message = "No route to host", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A connection attempt was cancelled before it completed. */
export class ConnectingCancelledError extends ConnectError {
  override readonly code: string = "ERR_CONNECTING_CANCELLED";
  /** The address that was being connected to, when known. */
  readonly address: unknown;
  constructor(address?: unknown, options?: { cause?: unknown }) {
    super("Connecting was cancelled", options);
    this.address = address;
  }
}

/** A TLS handshake or certificate verification failed. */
export class SSLError extends ConnectError {
  override readonly code: string = "ERR_SSL";
  constructor(message = "TLS error", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A port could not be listened on (in use, no permission, bad address). */
export class CannotListenError extends TwistedError {
  override readonly code: string = "ERR_CANNOT_LISTEN";
  readonly interface: string;
  readonly port: number | string;
  constructor(iface: string, port: number | string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`Couldn't listen on ${iface || "any"}:${port}${why}`, options);
    this.interface = iface;
    this.port = port;
  }
}

/** A write was attempted on a transport that is not connected. */
export class NotConnectingError extends TwistedError {
  override readonly code: string = "ERR_NOT_CONNECTING";
  constructor(message = "The connector is not connecting", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `reactor.stop()` was called on a reactor that is not running. */
export class ReactorNotRunning extends TwistedError {
  override readonly code: string = "ERR_REACTOR_NOT_RUNNING";
  constructor(message = "Can't stop reactor that isn't running", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `reactor.run()` was called on a reactor that is already running. */
export class ReactorAlreadyRunning extends TwistedError {
  override readonly code: string = "ERR_REACTOR_ALREADY_RUNNING";
  constructor(message = "Reactor is already running", options?: { cause?: unknown }) {
    super(message, options);
  }
}

// Delayed calls --------------------------------------------------------------------------------

/** A delayed call was already called: it cannot be cancelled, reset or delayed. */
export class AlreadyCalled extends TwistedError {
  override readonly code: string = "ERR_ALREADY_CALLED";
  constructor(message = "Tried to cancel an already-called event", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A delayed call was already cancelled: it cannot be cancelled, reset or delayed. */
export class AlreadyCancelled extends TwistedError {
  override readonly code: string = "ERR_ALREADY_CANCELLED";
  constructor(
    message = "Tried to cancel an already-cancelled event",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Deferreds ------------------------------------------------------------------------------------

/** `callback`/`errback` was called on a Deferred that already has a result. */
export class AlreadyCalledError extends TwistedError {
  override readonly code: string = "ERR_DEFERRED_ALREADY_CALLED";
  constructor(message = "Deferred was already called", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A Deferred was cancelled. */
export class CancelledError extends TwistedError {
  override readonly code: string = "ERR_CANCELLED";
  constructor(message = "Deferred was cancelled", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A Deferred from `DeferredList`/`gatherResults` failed: `subFailure` says why, `index` which. */
export class FirstError extends TwistedError {
  override readonly code: string = "ERR_FIRST_ERROR";
  readonly subFailure: unknown;
  readonly index: number;
  constructor(subFailure: unknown, index: number) {
    const inner = subFailure as { getErrorMessage?: () => string } | undefined;
    super(`FirstError[#${index}, ${inner?.getErrorMessage?.() ?? String(subFailure)}]`);
    this.subFailure = subFailure;
    this.index = index;
  }
}

// Processes ------------------------------------------------------------------------------------

/** A process ended with exit code 0. */
export class ProcessDone extends TwistedError {
  override readonly code: string = "ERR_PROCESS_DONE";
  readonly exitCode = 0;
  readonly signal: string | null = null;
  readonly status = 0;
  constructor(
    message = "A process has ended without apparent errors: process finished with exit code 0",
  ) {
    super(message);
  }
}

/** A process ended with a non-zero exit code or by a signal. */
export class ProcessTerminated extends TwistedError {
  override readonly code: string = "ERR_PROCESS_TERMINATED";
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(exitCode: number | null, signal: string | null = null) {
    const why =
      signal !== null
        ? `process ended by signal ${signal}`
        : `process ended with exit code ${exitCode}`;
    super(`A process has ended with a probable error condition: ${why}`);
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** Reading a process's output failed, or a process could not be started. */
export class ProcessExitedAlready extends TwistedError {
  override readonly code: string = "ERR_PROCESS_EXITED_ALREADY";
  constructor(message = "The process has already exited") {
    super(message);
  }
}

/**
 * Turns a Node.js socket/DNS error into the matching Twisted.ts connect error, keeping the
 * original as `cause`.
 */
export function connectErrorFromNode(err: unknown): ConnectError {
  const code = (err as { code?: unknown } | null)?.code;
  const msg = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "ECONNREFUSED":
      return new ConnectionRefusedError(`Connection was refused by other side: ${msg}`, {
        cause: err,
      });
    case "ETIMEDOUT":
      return new TCPTimedOutError(`TCP connection timed out: ${msg}`, { cause: err });
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
    case "EAI_NONAME":
    case "EAI_NODATA":
      return new DNSLookupError(`DNS lookup failed: ${msg}`, { cause: err });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new NoRouteError(`No route to host: ${msg}`, { cause: err });
    default:
      if (typeof code === "string" && code.startsWith("ERR_SSL")) {
        return new SSLError(`TLS error: ${msg}`, { cause: err });
      }
      if (typeof code === "string" && (code.startsWith("CERT_") || code.includes("CERT"))) {
        return new SSLError(`TLS certificate verification failed: ${msg}`, { cause: err });
      }
      return new ConnectError(`An error occurred while connecting: ${msg}`, { cause: err });
  }
}
