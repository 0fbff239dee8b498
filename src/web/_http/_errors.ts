// The two error kinds of the HTTP/1.1 engine: our caller misused it, or the peer misbehaved.

/**
 * The caller asked the engine for something HTTP/1.1 does not allow (sending a body on a
 * request without framing, writing more than `Content-Length`, sending in the wrong state).
 * The connection's state is then `ERROR` on our side.
 */
export class LocalProtocolError extends Error {
  readonly code = "ERR_HTTP_LOCAL_PROTOCOL";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalProtocolError";
  }
}

/**
 * The peer sent something that is not valid HTTP/1.1 (or that exceeds a limit). `status` is
 * the response a server should answer with before closing (400, 408, 413, 414, 431, 501, 505).
 *
 * @example
 * ```ts
 * try { conn.receiveData(data); } catch (e) {
 *   if (e instanceof RemoteProtocolError) sendErrorPage(e.status);
 * }
 * ```
 */
export class RemoteProtocolError extends Error {
  readonly code = "ERR_HTTP_REMOTE_PROTOCOL";
  /** The HTTP status to answer with. */
  readonly status: number;
  constructor(message: string, status = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RemoteProtocolError";
    this.status = status;
  }
}
