// The SOCKS server protocol: negotiation, login through a portal, connecting, relaying.

import { maybeDeferred } from "../internet/defer.js";
import type { Failure } from "../internet/failure.js";
import type { IConnector, IDelayedCall } from "../internet/interfaces.js";
import { Protocol } from "../internet/protocol.js";
import { Logger } from "../logger/index.js";
import {
  IAnonymousTag,
  ISOCKSUser,
  SOCKS_ANONYMOUS,
  SOCKSUsernamePassword,
} from "./_socks_auth.js";
import {
  canProduce,
  closeRelayed,
  halfClose,
  SOCKSConnectFactory,
  type SOCKSOutgoing,
  type SOCKSRelayPeer,
  socks5ReplyForFailure,
} from "./_socks_relay.js";
import type { SOCKSConnectContext, SOCKSServerOptions, SOCKSState } from "./_socks_types.js";
import {
  type Parsed,
  parseSOCKS4Request,
  parseSOCKS5Credentials,
  parseSOCKS5Greeting,
  parseSOCKS5Request,
  SOCKS4Reply,
  SOCKS5Method,
  SOCKS5Reply,
  SOCKSCommand,
  SOCKSProtocolError,
  type SOCKSRequest,
  socks4Reply,
  socks5AuthReply,
  socks5MethodReply,
  socks5Reply,
} from "./_socks_wire.js";

const log = new Logger("twisted-ts.protocols.socks");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A SOCKS server connection: reads the version from the first byte (4 or 5), negotiates,
 * authenticates through the portal (if any), connects to the destination with
 * `reactor.connectTCP` and then relays both ways, each transport being the other's streaming
 * producer so that a slow side slows the other. Only CONNECT is served: BIND and UDP ASSOCIATE
 * get "command not supported". Every input buffer is bounded; bad input gets the version's
 * error reply, then the connection is closed.
 *
 * @example
 * ```ts
 * reactor.listenTCP(1080, new SOCKSFactory({ reactor }), 50, "127.0.0.1");
 * // curl --socks5-hostname 127.0.0.1:1080 http://example.com/
 * ```
 */
export class SOCKSServer extends Protocol implements SOCKSRelayPeer {
  /** Most bytes buffered while negotiating. */
  static MAX_HANDSHAKE_BUFFER = 1024;
  /** Most bytes a client may send after its request, before the connection is made. */
  static MAX_EARLY_DATA = 64 * 1024;

  /** Where the connection is in its life. */
  state: SOCKSState = "version";
  /** The client's SOCKS version, once known. */
  version: 4 | 5 | null = null;
  /** The user who logged in (RFC 1929), or `null`. */
  username: string | null = null;
  /** The avatar the portal gave, or `null`. */
  avatar: unknown = null;
  /** The CONNECT request, once received. */
  request: SOCKSRequest | null = null;
  /** The protocol of the connection to the destination, once made. */
  outgoing: SOCKSOutgoing | null = null;
  protected readonly options: SOCKSServerOptions;
  protected readonly versions: readonly (4 | 5)[];
  private buffer: Buffer = Buffer.alloc(0);
  private early: Buffer[] = [];
  private earlySize = 0;
  private connector: IConnector | null = null;
  private logout: (() => void) | null = null;
  private timer: IDelayedCall | null = null;
  private readingPaused = false;
  private clientEOF = false;
  private outgoingEOF = false;

  constructor(options: SOCKSServerOptions) {
    super();
    this.options = options;
    this.versions = options.versions ?? [4, 5];
  }

  override connectionMade(): void {
    const timeout = this.options.handshakeTimeout ?? 30;
    const callLater = this.options.reactor.callLater;
    if (timeout > 0 && typeof callLater === "function") {
      this.timer = callLater.call(this.options.reactor, timeout, () => {
        this.timer = null;
        this.fail(null, `No complete request within ${timeout} seconds`);
      });
    }
  }

  override dataReceived(data: Buffer): void {
    switch (this.state) {
      case "relaying":
        this.outgoing?.transport?.write(data);
        return;
      case "closed":
        return;
      case "checking":
      case "connecting":
        this.early.push(data);
        this.earlySize += data.length;
        if (this.earlySize > SOCKSServer.MAX_EARLY_DATA) {
          this.fail(
            this.failureReply(SOCKS5Reply.GENERAL_FAILURE),
            "Too much data before connecting",
          );
        }
        return;
    }
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    this.process();
    if (
      (this.state as SOCKSState) !== "closed" &&
      this.buffer.length > SOCKSServer.MAX_HANDSHAKE_BUFFER
    ) {
      this.fail(this.failureReply(SOCKS5Reply.GENERAL_FAILURE), "Handshake too long");
    }
  }

  /** Runs the negotiation on the buffered bytes as far as they go. */
  private process(): void {
    for (;;) {
      switch (this.state) {
        case "version": {
          const v = this.buffer[0];
          if (v === undefined) return;
          if (v === 4 && this.versions.includes(4)) {
            this.version = 4;
            this.state = "v4-request";
          } else if (v === 5 && this.versions.includes(5)) {
            this.version = 5;
            this.state = "v5-greeting";
          } else {
            this.fail(null, `Unsupported SOCKS version: ${v}`);
            return;
          }
          break;
        }
        case "v4-request": {
          const request = this.parse(parseSOCKS4Request);
          if (request === null) return;
          this.socks4RequestReceived(request);
          break;
        }
        case "v5-greeting": {
          const methods = this.parse(parseSOCKS5Greeting);
          if (methods === null) return;
          this.greetingReceived(methods);
          break;
        }
        case "v5-auth": {
          const creds = this.parse(parseSOCKS5Credentials);
          if (creds === null) return;
          this.credentialsReceived(creds.username, creds.password);
          break;
        }
        case "v5-request": {
          const request = this.parse(parseSOCKS5Request);
          if (request === null) return;
          this.socks5RequestReceived(request);
          break;
        }
        default:
          return;
      }
    }
  }

  /** Applies a wire parser to the buffer: the value (bytes consumed), or `null` (need more, or failed). */
  private parse<T>(parser: (buf: Buffer) => Parsed<T>): T | null {
    let result: Parsed<T>;
    try {
      result = parser(this.buffer);
    } catch (e) {
      if (!(e instanceof SOCKSProtocolError)) throw e;
      const reply =
        this.version === 4
          ? socks4Reply(SOCKS4Reply.REJECTED)
          : e.reply !== null
            ? socks5Reply(e.reply)
            : null;
      this.fail(reply, e.message);
      return null;
    }
    if (result === null) return null;
    this.buffer = this.buffer.subarray(result.consumed);
    return result.value;
  }

  /** The reply for a failure: SOCKS4 "rejected", or the SOCKS5 reply `code` once past the greeting. */
  private failureReply(code: number): Buffer | null {
    if (this.version === 4) return socks4Reply(SOCKS4Reply.REJECTED);
    if (this.version === 5 && ["v5-request", "checking", "connecting"].includes(this.state)) {
      return socks5Reply(code);
    }
    return null;
  }

  private get portalAllowsAnonymous(): boolean {
    return this.options.portal?.listCredentialsInterfaces().includes(IAnonymousTag) ?? false;
  }

  private socks4RequestReceived(request: SOCKSRequest): void {
    if (request.command !== SOCKSCommand.CONNECT) {
      this.fail(
        socks4Reply(SOCKS4Reply.REJECTED),
        `Unsupported SOCKS4 command: ${request.command}`,
      );
      return;
    }
    this.request = request;
    if (this.options.portal === undefined) {
      this.startConnecting();
    } else if (this.portalAllowsAnonymous) {
      this.login(
        SOCKS_ANONYMOUS,
        null,
        () => this.startConnecting(),
        socks4Reply(SOCKS4Reply.REJECTED),
      );
    } else {
      this.fail(socks4Reply(SOCKS4Reply.REJECTED), "SOCKS4 has no passwords: login required");
    }
  }

  private greetingReceived(methods: number[]): void {
    const portal = this.options.portal;
    let method: number = SOCKS5Method.NO_ACCEPTABLE;
    if (portal !== undefined && methods.includes(SOCKS5Method.USERNAME_PASSWORD)) {
      method = SOCKS5Method.USERNAME_PASSWORD;
    } else if (
      methods.includes(SOCKS5Method.NO_AUTH) &&
      (portal === undefined || this.portalAllowsAnonymous)
    ) {
      method = SOCKS5Method.NO_AUTH;
    }
    this.tx.write(socks5MethodReply(method));
    if (method === SOCKS5Method.NO_ACCEPTABLE) {
      this.fail(null, "No acceptable authentication method offered");
    } else if (method === SOCKS5Method.USERNAME_PASSWORD) {
      this.state = "v5-auth";
    } else if (portal !== undefined) {
      this.login(SOCKS_ANONYMOUS, null, () => this.negotiated(), null);
    } else {
      this.state = "v5-request";
    }
  }

  private negotiated(): void {
    this.state = "v5-request";
    this.process();
  }

  private credentialsReceived(rawUsername: Buffer, password: Buffer): void {
    let username: string;
    try {
      username = utf8.decode(rawUsername);
    } catch {
      username = "";
    }
    const refused = socks5AuthReply(1);
    if (username === "") {
      this.fail(refused, "Invalid user name");
      return;
    }
    const creds = new SOCKSUsernamePassword(username, password);
    this.login(
      creds,
      username,
      () => {
        this.tx.write(socks5AuthReply(0));
        this.negotiated();
      },
      refused,
    );
  }

  /** Logs in through the portal; on failure, replies `refused` (if any) and closes. */
  private login(
    credentials: { readonly credentialInterfaces: readonly (symbol | string)[] },
    username: string | null,
    succeeded: () => void,
    refused: Buffer | null,
  ): void {
    const portal = this.options.portal!;
    this.state = "authenticating";
    maybeDeferred(() => portal.login(credentials, null, ISOCKSUser))
      .addCallbacks(
        ([, avatar, logout]) => {
          if (this.state === "closed") {
            logout();
            return;
          }
          this.avatar = avatar;
          this.logout = logout;
          this.username = username;
          succeeded();
        },
        (f: Failure) => {
          if (this.state === "closed") return;
          this.fail(refused, `Login failed: ${f.getErrorMessage()}`);
        },
      )
      .addErrback((f: Failure) => {
        log.failure("Error in SOCKS server after login", f);
        this.fail(null, "Internal error");
      });
  }

  private socks5RequestReceived(request: SOCKSRequest): void {
    if (request.command !== SOCKSCommand.CONNECT) {
      this.fail(
        socks5Reply(SOCKS5Reply.COMMAND_NOT_SUPPORTED),
        `Unsupported SOCKS5 command: ${request.command}`,
      );
      return;
    }
    this.request = request;
    this.startConnecting();
  }

  /** The request is complete: check the policy, then connect. */
  private startConnecting(): void {
    this.cancelTimer();
    this.state = "checking";
    if (this.buffer.length > 0) {
      this.early.push(this.buffer);
      this.earlySize += this.buffer.length;
      this.buffer = Buffer.alloc(0);
      // Bytes that came with the request count against the limit as later ones do.
      if (this.earlySize > SOCKSServer.MAX_EARLY_DATA) {
        this.fail(
          this.failureReply(SOCKS5Reply.GENERAL_FAILURE),
          "Too much data before connecting",
        );
        return;
      }
    }
    this.pauseReading();
    const allow = this.options.allowConnect;
    if (allow === undefined) {
      this.connect();
      return;
    }
    const { host, port } = this.request!;
    const context: SOCKSConnectContext = {
      version: this.version!,
      username: this.username,
      avatar: this.avatar,
      peer: this.tx.getPeer(),
    };
    maybeDeferred(() => allow(host, port, context)).addCallbacks(
      (allowed) => {
        if (this.state !== "checking") return;
        if (allowed === true) this.connect();
        else this.fail(this.failureReply(SOCKS5Reply.NOT_ALLOWED), `Not allowed: ${host}:${port}`);
      },
      (f: Failure) => {
        if (this.state !== "checking") return;
        log.failure("Error in allowConnect", f);
        this.fail(this.failureReply(SOCKS5Reply.GENERAL_FAILURE), "Error in allowConnect");
      },
    );
  }

  private connect(): void {
    const { host, port } = this.request!;
    this.state = "connecting";
    const timeout = this.options.connectTimeout ?? 30;
    try {
      this.connector = this.options.reactor.connectTCP(
        host,
        port,
        new SOCKSConnectFactory(this),
        timeout,
      );
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.fail(
        this.failureReply(SOCKS5Reply.GENERAL_FAILURE),
        `Cannot connect to ${host}:${port}: ${why}`,
      );
    }
  }

  /** @internal The outgoing connection is up: reply, then relay. */
  outgoingConnected(outgoing: SOCKSOutgoing): void {
    const remote = outgoing.transport!;
    if (this.state !== "connecting") {
      remote.loseConnection();
      return;
    }
    this.connector = null;
    this.outgoing = outgoing;
    this.state = "relaying";
    const bound = remote.getHost() as { host?: unknown; port?: unknown };
    const host = typeof bound.host === "string" ? bound.host : "0.0.0.0";
    const port = typeof bound.port === "number" ? bound.port : 0;
    const client = this.tx;
    client.write(
      this.version === 4
        ? socks4Reply(SOCKS4Reply.GRANTED, host, port)
        : socks5Reply(SOCKS5Reply.SUCCEEDED, host, port),
    );
    log.debug("SOCKS{version} {peer} connected to {host}:{port}", {
      version: this.version,
      peer: String(client.getPeer()),
      host: this.request!.host,
      port: this.request!.port,
    });
    this.resumeReading();
    // Each side is the other's streaming producer: a full send buffer pauses the other's reading.
    if (canProduce(client) && canProduce(remote)) {
      remote.registerProducer(client, true);
      client.registerProducer(remote, true);
    }
    const early = this.early;
    this.early = [];
    this.earlySize = 0;
    if (early.length > 0) remote.writeSequence(early);
    if (this.clientEOF) halfClose(remote);
  }

  /** @internal The outgoing connection could not be made: reply with why, and close. */
  outgoingFailed(reason: Failure): void {
    if (this.state !== "connecting") return;
    this.connector = null;
    const { host, port } = this.request!;
    this.fail(
      this.failureReply(socks5ReplyForFailure(reason)),
      `Cannot connect to ${host}:${port}: ${reason.getErrorMessage()}`,
    );
  }

  /** @internal */
  outgoingDataReceived(data: Buffer): void {
    this.transport?.write(data);
  }

  /** @internal The destination half-closed: half-close towards the client too. */
  outgoingReadLost(): void {
    this.outgoingEOF = true;
    if (this.transport === null) return;
    if (this.clientEOF) closeRelayed(this.transport);
    else halfClose(this.transport);
  }

  /** @internal The outgoing connection is gone: close the client's. */
  outgoingLost(reason: Failure): void {
    if (this.state !== "relaying") return;
    this.state = "closed";
    if (this.transport !== null) closeRelayed(this.transport);
  }

  /** The client half-closed: pass it on (once connected), or give up while negotiating. */
  readConnectionLost(): void {
    this.clientEOF = true;
    if (this.state === "relaying") {
      const remote = this.outgoing?.transport;
      if (remote == null) return;
      if (this.outgoingEOF) closeRelayed(remote);
      else halfClose(remote);
    } else if (this.state !== "checking" && this.state !== "connecting") {
      this.transport?.loseConnection();
    }
  }

  writeConnectionLost(): void {}

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.state = "closed";
    this.cleanUp();
  }

  /** Replies `reply` (if any), closes the connection and forgets what it was doing. */
  private fail(reply: Buffer | null, why: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    log.info("SOCKS connection from {peer} closed: {why}", {
      peer: String(this.transport?.getPeer()),
      why,
    });
    this.cleanUp();
    if (this.transport !== null) {
      if (reply !== null) this.transport.write(reply);
      this.transport.loseConnection();
    }
  }

  private cleanUp(): void {
    this.cancelTimer();
    this.buffer = Buffer.alloc(0);
    this.early = [];
    this.earlySize = 0;
    const connector = this.connector;
    this.connector = null;
    if (connector !== null) {
      try {
        connector.stopConnecting();
      } catch {
        // It connected or failed meanwhile; outgoingConnected/outgoingFailed handle that.
      }
    }
    const remote = this.outgoing?.transport;
    if (remote != null) closeRelayed(remote);
    const logout = this.logout;
    this.logout = null;
    logout?.();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      if (this.timer.active()) this.timer.cancel();
      this.timer = null;
    }
  }

  private pauseReading(): void {
    const t = this.transport;
    if (this.readingPaused || !canProduce(t) || t.disconnecting === true) return;
    this.readingPaused = true;
    t.pauseProducing();
  }

  private resumeReading(): void {
    const t = this.transport;
    if (!this.readingPaused) return;
    this.readingPaused = false;
    if (canProduce(t) && t.disconnecting !== true) t.resumeProducing();
  }
}
