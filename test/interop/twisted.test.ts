// Interoperability with real Twisted (Debian's python3-twisted): their client against our
// server and our client against their server, over TCP and TLS.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { Deferred } from "../../src/internet/defer.js";
import type { Failure } from "../../src/internet/failure.js";
import type { IConnector, IListeningPort } from "../../src/internet/interfaces.js";
import { ClientFactory, Factory, Protocol } from "../../src/internet/protocol.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { PYTHON, requirePeer, run, start } from "../_helpers/proc.js";

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

/** Sends a message, collects the echo, and fires `done` with it once the peer closes. */
class Sender extends Protocol {
  received = "";
  constructor(
    private readonly message: string,
    readonly done: Deferred<string>,
  ) {
    super();
  }
  override connectionMade(): void {
    this.transport!.write(this.message);
  }
  override dataReceived(data: Buffer): void {
    this.received += data.toString("utf8");
    if (Buffer.byteLength(this.received) >= Buffer.byteLength(this.message)) {
      this.transport!.loseConnection();
    }
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.done.callback(this.received);
  }
}

class SenderFactory extends ClientFactory {
  readonly done = new Deferred<string>();
  constructor(private readonly message: string) {
    super();
  }
  override buildProtocol(): Sender {
    return new Sender(this.message, this.done);
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.done.errback(reason);
  }
}

const twistedClient = "test/interop/fixtures/twisted_echo_client.py";
const twistedServer = "test/interop/fixtures/twisted_echo_server.py";

describe("interop with real Twisted", () => {
  let reactor: NodeReactor;
  let certs: TestCertificates;
  const ports: IListeningPort[] = [];

  before(async () => {
    requirePeer(PYTHON, "python3-twisted");
    const check = await run(PYTHON, ["-c", "import twisted, OpenSSL, service_identity"]);
    assert.equal(check.code, 0, `python3-twisted with TLS support is required: ${check.stderr}`);
    reactor = new NodeReactor();
    certs = await makeTestCertificates();
  });

  after(async () => {
    for (const p of ports) await p.stopListening();
  });

  it("a Twisted client talks to our TCP server", async () => {
    const port = reactor.listenTCP(0, Factory.forProtocol(Echo), 50, "127.0.0.1");
    ports.push(port);
    const { port: n } = port.getHost() as { port: number };
    const r = await run(PYTHON, [twistedClient, "127.0.0.1", String(n), "hello from twisted ✓"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ECHO:hello from twisted ✓");
  });

  it("a Twisted client talks to our TLS server, verifying our certificate", async () => {
    const port = reactor.listenSSL(
      0,
      Factory.forProtocol(Echo),
      { key: certs.serverKey, cert: certs.serverCert },
      50,
      "127.0.0.1",
    );
    ports.push(port);
    const { port: n } = port.getHost() as { port: number };
    const r = await run(PYTHON, [
      twistedClient,
      "127.0.0.1",
      String(n),
      "over TLS",
      certs.caCertPath,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ECHO:over TLS");
  });

  it("our client talks to a Twisted TCP server", async () => {
    const server = start(PYTHON, [twistedServer]);
    try {
      const [, portText] = await server.waitFor(/PORT (\d+)/);
      const factory = new SenderFactory("hello from twisted-ts");
      reactor.connectTCP("127.0.0.1", Number(portText), factory);
      assert.equal(await factory.done, "hello from twisted-ts");
    } finally {
      await server.stop();
    }
  });

  it("our TLS client verifies and talks to a Twisted TLS server", async () => {
    const server = start(PYTHON, [twistedServer, certs.serverCertPath, certs.serverKeyPath]);
    try {
      const [, portText] = await server.waitFor(/PORT (\d+)/);
      const factory = new SenderFactory("secret handshake");
      reactor.connectSSL("localhost", Number(portText), factory, { ca: certs.caCert });
      assert.equal(await factory.done, "secret handshake");
    } finally {
      await server.stop();
    }
  });
});
