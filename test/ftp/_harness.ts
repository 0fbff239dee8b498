// Test helpers for the FTP server: an FTP protocol on a StringTransport with an in-memory shell.

import {
  AllowAnonymousAccess,
  ANONYMOUS,
  InMemoryUsernamePasswordDatabase,
  Portal,
  SimpleRealm,
} from "../../src/cred/index.js";
import { IPv4Address } from "../../src/internet/address.js";
import type { IProtocol } from "../../src/internet/interfaces.js";
import { Protocol } from "../../src/internet/protocol.js";
import {
  FTPFactory,
  type FTPFactoryOptions,
  InMemoryShell,
  MemoryDirectory,
  type MemoryTree,
} from "../../src/protocols/ftp/index.js";
import {
  type MemoryListeningPort,
  MemoryReactorClock,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";

/** Lets pending Promise work (shell calls, logins) run: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export const SERVER = new IPv4Address("TCP", "10.0.0.1", 21);
export const CLIENT = new IPv4Address("TCP", "192.168.1.1", 4321);

/** An FTP server protocol over a StringTransport, with a MemoryReactorClock and an in-memory tree. */
export class ServerHarness {
  readonly reactor = new MemoryReactorClock();
  readonly root: MemoryDirectory;
  readonly factory: FTPFactory;
  readonly transport: StringTransportWithDisconnection;
  readonly protocol: IProtocol;

  constructor(tree: MemoryTree = {}, options: Partial<FTPFactoryOptions> = {}) {
    this.root = MemoryDirectory.fromObject(tree);
    const realm = new SimpleRealm(
      (id) =>
        new InMemoryShell({
          root: this.root,
          readOnly: id === ANONYMOUS,
          now: () => this.reactor.seconds(),
        }),
    );
    const portal = new Portal(realm, [
      new InMemoryUsernamePasswordDatabase({ alice: "secret" }),
      new AllowAnonymousAccess(),
    ]);
    this.factory = new FTPFactory(portal, {
      reactor: this.reactor,
      allowAnonymous: true,
      ...options,
    });
    this.transport = new StringTransportWithDisconnection(SERVER, CLIENT);
    this.protocol = this.factory.buildProtocol(CLIENT);
    this.transport.protocol = this.protocol;
    this.protocol.makeConnection(this.transport);
  }

  /** The reply lines written since the last call. */
  replies(): string[] {
    const out = this.transport.value().toString("utf8");
    this.transport.clear();
    return out === "" ? [] : out.replace(/\r\n$/, "").split("\r\n");
  }

  /** Sends a command line (bytes as given), lets it run, and returns the replies. */
  async send(line: string | Buffer): Promise<string[]> {
    const data = typeof line === "string" ? Buffer.from(`${line}\r\n`, "utf8") : line;
    this.protocol.dataReceived(data);
    await settle();
    return this.replies();
  }

  /** Logs in as alice (or anonymous). */
  async login(user = "alice", password = "secret"): Promise<void> {
    this.replies();
    await this.send(`USER ${user}`);
    const r = await this.send(`PASS ${password}`);
    if (!r[0]?.startsWith("230")) throw new Error(`Login failed: ${r.join(" | ")}`);
  }

  /** The passive port listened on last. */
  lastPort(): MemoryListeningPort {
    const port = this.reactor.ports.at(-1);
    if (port === undefined) throw new Error("No port listened on");
    return port as MemoryListeningPort;
  }

  /** Accepts a data connection on the last passive port, from `peer` (default: the client). */
  acceptData(peer = new IPv4Address("TCP", CLIENT.host, 5555)): {
    transport: StringTransportWithDisconnection;
    protocol: IProtocol | null;
  } {
    const port = this.lastPort();
    const transport = new StringTransportWithDisconnection(port.address, peer);
    transport.protocol = new Protocol(); // told about a refusal
    const protocol = port.acceptConnection({ peer, transport });
    if (protocol !== null) transport.protocol = protocol;
    return { transport, protocol };
  }
}
