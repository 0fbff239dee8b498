// Loopback tests of TLS: listenSSL/connectSSL with certificates made at test time, and STARTTLS.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PeerCertificate } from "node:tls";
import type { TCPTransport } from "../../src/internet/_tcp.js";
import { ConnectionDone, SSLError } from "../../src/internet/error.js";
import type { ServerTLSOptions } from "../../src/internet/interfaces.js";
import { LogLevel } from "../../src/logger/index.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import {
  capturingLogs,
  loopbackSuite,
  portOf,
  Recorder,
  RecordingClientFactory,
  RecordingFactory,
  signal,
  tx,
  within,
} from "../_helpers/tcp.js";

const { reactor, ports, protocols } = loopbackSuite();
let certs: TestCertificates;

before(async () => {
  certs = await makeTestCertificates();
});

/** Records the TLS handshake, and whether the connection was made before it. */
class TLSRecorder extends Recorder {
  readonly handshake = signal();
  madeBeforeHandshake = false;
  override connectionMade(): void {
    this.madeBeforeHandshake = !this.handshake.fired;
    super.connectionMade();
  }
  handshakeCompleted(): void {
    this.handshake.resolve();
  }
}

class TLSEcho extends TLSRecorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
}

class HalfCloseTLS extends TLSRecorder {
  readConnectionLost(): void {
    this.readLost.resolve();
  }
  writeConnectionLost(): void {
    this.writeLost.resolve();
  }
}

function listen(options: Partial<ServerTLSOptions> = {}) {
  const factory = new RecordingFactory(TLSEcho);
  const port = reactor.listenSSL(
    0,
    factory,
    { key: certs.serverKey, cert: certs.serverCert, ...options },
    50,
    "127.0.0.1",
  );
  ports.push(port);
  return { factory, port: portOf(port.getHost()) };
}

describe("listenSSL and connectSSL", () => {
  test("a client that trusts the CA verifies the server and echoes over TLS", async () => {
    const { factory, port } = listen();
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("localhost", port, clientFactory, { ca: certs.caCert });
    const client = await within("connection", clientFactory.connected.promise);
    const server = await factory.nth(0);
    protocols.push(client, server);
    await within("client handshakeCompleted", client.handshake.promise);
    await within("server handshakeCompleted", server.handshake.promise);
    assert.ok(
      client.madeBeforeHandshake,
      "connectionMade runs once secure, then handshakeCompleted",
    );
    assert.ok(tx(client).TLS && tx(server).TLS);
    const cert = tx(client).getPeerCertificate() as PeerCertificate;
    assert.equal(cert.subject.CN, "localhost");
    assert.equal(tx(server).getPeerCertificate(), null);

    tx(client).write("secret");
    await client.waitForBytes(6);
    assert.equal(client.received.toString(), "secret");
    tx(client).loseConnection();
    assert.ok((await within("server lost", server.lost.promise)).check(ConnectionDone));
    assert.ok((await within("client lost", clientFactory.lost.promise)).check(ConnectionDone));
  });

  test("a client connecting to an IP address verifies it against the certificate's IP names", async () => {
    const { port } = listen();
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("127.0.0.1", port, clientFactory, { ca: certs.caCert });
    const client = await within("connection", clientFactory.connected.promise);
    protocols.push(client);
    assert.ok(tx(client).TLS);
  });

  test("a client without the CA fails to connect with SSLError", async () => {
    const { port } = listen();
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("localhost", port, clientFactory);
    const reason = await within("clientConnectionFailed", clientFactory.failed.promise);
    assert.ok(reason.check(SSLError), String(reason));
    assert.equal(clientFactory.built.length, 0);
    assert.deepEqual(clientFactory.events.slice(-2), ["clientConnectionFailed", "stopFactory"]);
  });

  test("a failed handshake on the server is logged at debug level and the socket dropped", async () => {
    const { factory, port } = listen();
    await capturingLogs(async (events) => {
      const plain = new RecordingClientFactory(Recorder);
      reactor.connectTCP("127.0.0.1", port, plain);
      const client = await within("connection", plain.connected.promise);
      protocols.push(client);
      tx(client).write("GET / HTTP/1.0\r\n\r\n");
      await within("client lost", client.lost.promise);
      const event = events.find((e) => /TLS handshake/.test(String(e.log_format)));
      assert.ok(event, "a log event about the handshake");
      assert.equal(event.log_level, LogLevel.debug);
    });
    assert.equal(factory.built.length, 0);
  });

  test("a certificate for another name fails verification with SSLError", async () => {
    const { port } = listen();
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("127.0.0.1", port, clientFactory, {
      ca: certs.caCert,
      servername: "example.com",
    });
    const reason = await within("clientConnectionFailed", clientFactory.failed.promise);
    assert.ok(reason.check(SSLError), String(reason));
  });

  test("a half-close over TLS reaches the peer, which can still answer", async () => {
    const factory = new RecordingFactory(HalfCloseTLS);
    const port = reactor.listenSSL(
      0,
      factory,
      { key: certs.serverKey, cert: certs.serverCert },
      50,
      "127.0.0.1",
    );
    ports.push(port);
    const clientFactory = new RecordingClientFactory(HalfCloseTLS);
    reactor.connectSSL("localhost", portOf(port.getHost()), clientFactory, { ca: certs.caCert });
    const client = await within("connection", clientFactory.connected.promise);
    const server = await factory.nth(0);
    protocols.push(client, server);
    tx(client).write("question");
    tx(client).loseWriteConnection();
    await within("server readConnectionLost", server.readLost.promise);
    await within("client writeConnectionLost", client.writeLost.promise);
    assert.equal(server.received.toString(), "question");
    tx(server).write("answer");
    tx(server).loseConnection();
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
    assert.equal(client.received.toString(), "answer");
  });

  test("ALPN settles on a protocol both sides offer", async () => {
    const { factory, port } = listen({ ALPNProtocols: ["h2", "http/1.1"] });
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("localhost", port, clientFactory, {
      ca: certs.caCert,
      ALPNProtocols: ["http/1.1"],
    });
    const client = await within("connection", clientFactory.connected.promise);
    const server = await factory.nth(0);
    protocols.push(client, server);
    assert.equal(tx(client).negotiatedProtocol, "http/1.1");
    assert.equal(tx(server).negotiatedProtocol, "http/1.1");
  });

  test("a server that requires client certificates accepts one signed by its CA", async () => {
    const { factory, port } = listen({
      requestCert: true,
      rejectUnauthorized: true,
      ca: certs.caCert,
      minVersion: "TLSv1.2",
    });
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectSSL("localhost", port, clientFactory, {
      ca: certs.caCert,
      key: certs.clientKey,
      cert: certs.clientCert,
    });
    const client = await within("connection", clientFactory.connected.promise);
    const server = await factory.nth(0);
    protocols.push(client, server);
    const cert = tx(server).getPeerCertificate() as PeerCertificate;
    assert.equal(cert.subject.CN, "test client");
  });
});

describe("startTLS", () => {
  const clearText = `GO ${"x".repeat(8 * 1024 * 1024)}\r\n`;

  /**
   * Answers STARTTLS with a clear-text line too large for the socket to take at once (so TLS
   * must wait for it to flush), then switches to TLS and greets.
   */
  class StartTLSServer extends TLSEcho {
    private tls = false;
    override dataReceived(data: Buffer): void {
      if (this.tls) {
        super.dataReceived(data);
        return;
      }
      this.chunks.push(data);
      if (this.received.toString() === "STARTTLS\r\n") {
        this.chunks.length = 0;
        this.tls = true;
        const t = this.transport as TCPTransport;
        t.write(clearText);
        t.startTLS({ key: certs.serverKey, cert: certs.serverCert });
        t.write("welcome ");
      }
    }
  }

  /** Asks for STARTTLS, reads the clear-text answer, then upgrades as the client. */
  class StartTLSClient extends TLSRecorder {
    readonly clear = signal<string>();
    private tls = false;
    override connectionMade(): void {
      super.connectionMade();
      this.transport!.write("STARTTLS\r\n");
    }
    override dataReceived(data: Buffer): void {
      if (this.tls) {
        super.dataReceived(data);
        return;
      }
      this.chunks.push(data);
      if (this.size >= clearText.length) {
        const text = this.received.toString();
        this.chunks.length = 0;
        this.tls = true;
        (this.transport as TCPTransport).startTLS({ ca: certs.caCert });
        this.clear.resolve(text);
      }
    }
  }

  test("a live connection switches to TLS after a clear-text exchange", async () => {
    const serverFactory = new RecordingFactory(StartTLSServer);
    const port = reactor.listenTCP(0, serverFactory, 50, "127.0.0.1");
    ports.push(port);
    const clientFactory = new RecordingClientFactory(StartTLSClient);
    reactor.connectTCP("localhost", portOf(port.getHost()), clientFactory);
    const client = await within("connection", clientFactory.connected.promise);
    const server = await serverFactory.nth(0);
    protocols.push(client, server);
    assert.equal(tx(client).TLS, false);

    assert.equal(await within("clear text", client.clear.promise), clearText);
    await within("client handshakeCompleted", client.handshake.promise);
    await within("server handshakeCompleted", server.handshake.promise);
    assert.ok(tx(client).TLS && tx(server).TLS);
    assert.equal((tx(client).getPeerCertificate() as PeerCertificate).subject.CN, "localhost");

    tx(client).write("encrypted");
    await client.waitForBytes("welcome encrypted".length);
    assert.equal(client.received.toString(), "welcome encrypted");
    tx(server).loseConnection();
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
    assert.ok((await within("server lost", server.lost.promise)).check(ConnectionDone));
  });

  test("startTLS with an invalid key raises at once and leaves the connection in clear text", async () => {
    const serverFactory = new RecordingFactory(TLSEcho);
    const port = reactor.listenTCP(0, serverFactory, 50, "127.0.0.1");
    ports.push(port);
    const clientFactory = new RecordingClientFactory(TLSRecorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), clientFactory);
    const client = await within("connection", clientFactory.connected.promise);
    protocols.push(client);
    assert.throws(() => tx(client).startTLS({ key: "not a key", cert: certs.serverCert }));
    assert.equal(tx(client).TLS, false);
    tx(client).write("still clear");
    await client.waitForBytes(11);
    assert.equal(client.received.toString(), "still clear");
  });

  test("a client that does not trust the server's certificate loses the connection", async () => {
    class Untrusting extends StartTLSClient {
      override dataReceived(data: Buffer): void {
        if (this.size + data.length >= clearText.length && !this.handshake.fired) {
          this.chunks.length = 0;
          (this.transport as TCPTransport).startTLS({});
          return;
        }
        this.chunks.push(data);
      }
    }
    const serverFactory = new RecordingFactory(StartTLSServer);
    const port = reactor.listenTCP(0, serverFactory, 50, "127.0.0.1");
    ports.push(port);
    const clientFactory = new RecordingClientFactory(Untrusting);
    reactor.connectTCP("localhost", portOf(port.getHost()), clientFactory);
    const client = await within("connection", clientFactory.connected.promise);
    protocols.push(client);
    const reason = await within("client lost", client.lost.promise);
    assert.equal(client.handshake.fired, false);
    assert.match(reason.getErrorMessage(), /certificate/i);
  });
});
