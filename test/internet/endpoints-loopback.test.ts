// Loopback tests of endpoints and description strings on a real reactor: TCP, TCP6, Unix, TLS, PROXY.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { IPv4Address, IPv6Address, UNIXAddress } from "../../src/internet/address.js";
import {
  clientFromString,
  HostnameEndpoint,
  registerServerParser,
  serverFromString,
  TCP4ClientEndpoint,
  wrapClientTLS,
  wrappingServerParser,
} from "../../src/internet/endpoints.js";
import {
  CannotListenError,
  ConnectingCancelledError,
  ConnectionRefusedError,
  SSLError,
} from "../../src/internet/error.js";
import type {
  IAddress,
  IListeningPort,
  IProtocol,
  ITCPTransport,
} from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import { makeSelfSignedCertificate, optionsForClientTLS } from "../../src/internet/ssl.js";
import { HAProxyWrappingFactory } from "../../src/protocols/haproxy.js";

const reactor = new NodeReactor();
const ports: IListeningPort[] = [];
const protocols: IProtocol[] = [];
const dir = mkdtempSync(join(tmpdir(), "twisted-endpoints-loop-"));

const pair = makeSelfSignedCertificate({ commonName: "localhost" });
const stranger = makeSelfSignedCertificate({ commonName: "localhost" });
const files = {
  both: join(dir, "both.pem"),
  cert: join(dir, "cert.pem"),
  stranger: join(dir, "stranger.pem"),
};
writeFileSync(files.both, pair.key + pair.cert);
writeFileSync(files.cert, pair.cert);
writeFileSync(files.stranger, stranger.cert);

afterEach(async () => {
  for (const p of protocols.splice(0)) abort(p);
  await Promise.all(ports.splice(0).map((p) => p.stopListening()));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function abort(p: IProtocol): void {
  ((p as Protocol).transport as ITCPTransport | null)?.abortConnection();
}

/** Rejects after `ms` so that a missing event fails the test instead of hanging it. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** Records the bytes it receives; `waitFor(text)` resolves once they contain `text`. */
class Recorder extends Protocol {
  received = "";
  private waiters: { text: string; resolve: () => void }[] = [];
  override connectionMade(): void {
    protocols.push(this);
  }
  override dataReceived(data: Buffer): void {
    this.received += data.toString("latin1");
    this.waiters = this.waiters.filter((w) => {
      if (!this.received.includes(w.text)) return true;
      w.resolve();
      return false;
    });
  }
  waitFor(text: string): Promise<void> {
    if (this.received.includes(text)) return Promise.resolve();
    return within(
      `"${text}"`,
      new Promise<void>((resolve) => this.waiters.push({ text, resolve })),
    );
  }
}

/** Echoes, and remembers the peer address its transport reports. */
class Echo extends Recorder {
  static peers: IAddress[] = [];
  override connectionMade(): void {
    super.connectionMade();
    Echo.peers.push(this.transport?.getPeer() as IAddress);
  }
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport?.write(data);
  }
}

function peerHost(p: Protocol): string | undefined {
  return (p.transport?.getPeer() as IPv4Address | IPv6Address | undefined)?.host;
}

function portOf(port: IListeningPort): number {
  return (port.getHost() as IPv4Address | IPv6Address).port;
}

async function listen(description: string): Promise<IListeningPort> {
  const port = await within(
    description,
    serverFromString(reactor, description).listen(Factory.forProtocol(Echo)),
  );
  ports.push(port);
  return port;
}

/** Connects `description`, sends "ping" and expects it echoed. */
async function echoThrough(description: string): Promise<Recorder> {
  const client = (await within(
    description,
    clientFromString(reactor, description).connect(Factory.forProtocol(Recorder)),
  )) as Recorder;
  client.transport?.write("ping");
  await client.waitFor("ping");
  return client;
}

describe("endpoints over loopback", () => {
  test("tcp: a server on 127.0.0.1 and a tcp: client exchange bytes", async () => {
    const port = await listen("tcp:0:interface=127.0.0.1");
    assert.ok(port.getHost() instanceof IPv4Address);
    const client = await echoThrough(`tcp:host=127.0.0.1:port=${portOf(port)}`);
    assert.equal(peerHost(client), "127.0.0.1");
  });

  test("tcp6: a server on ::1 and a tcp6: client exchange bytes", async () => {
    const port = await listen("tcp6:0:interface=\\:\\:1");
    assert.ok(port.getHost() instanceof IPv6Address);
    const client = await echoThrough(`tcp6:host=\\:\\:1:port=${portOf(port)}`);
    assert.equal(peerHost(client), "::1");
  });

  test("listening on a port in use fails with CannotListenError", async () => {
    const port = await listen("tcp:0:interface=127.0.0.1");
    const again = serverFromString(reactor, `tcp:${portOf(port)}:interface=127.0.0.1`).listen(
      new Factory(),
    );
    await assert.rejects(within("second listen", again), CannotListenError);
  });

  test("connecting to a closed port fails with ConnectionRefusedError", async () => {
    const port = await listen("tcp:0:interface=127.0.0.1");
    const number = portOf(port);
    await port.stopListening();
    const d = clientFromString(reactor, `tcp:127.0.0.1:${number}`).connect(
      Factory.forProtocol(Recorder),
    );
    await assert.rejects(within("refusal", d), ConnectionRefusedError);
  });

  test("cancelling a connection attempt fails it with ConnectingCancelledError", async () => {
    const port = await listen("tcp:0:interface=127.0.0.1");
    const factory = Factory.forProtocol(Recorder);
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", portOf(port)).connect(factory);
    d.cancel();
    await assert.rejects(within("cancel", d), ConnectingCancelledError);
    assert.equal(factory.numPorts, 0);
  });

  test("unix: a server with mode 600 and a unix: client exchange bytes", async () => {
    const path = join(dir, "echo.sock");
    const port = await listen(`unix:${path}:mode=600`);
    assert.ok(port.getHost() instanceof UNIXAddress);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await echoThrough(`unix:path=${path}`);
  });

  test("HostnameEndpoint reaches a server on 127.0.0.1 through the system resolver", async () => {
    const port = await listen("tcp:0:interface=127.0.0.1");
    const endpoint = new HostnameEndpoint(reactor, "localhost", portOf(port), { timeout: 5 });
    const client = (await within(
      "localhost",
      endpoint.connect(Factory.forProtocol(Recorder)),
    )) as Recorder;
    client.transport?.write("hi");
    await client.waitFor("hi");
  });
});

describe("TLS endpoints over loopback", () => {
  test("ssl: with a self-signed certificate and tls: trusting it exchange bytes", async () => {
    const port = await listen(`ssl:0:privateKey=${files.both}:interface=127.0.0.1`);
    const client = await echoThrough(
      `tls:host=localhost:port=${portOf(port)}:trustRoots=${files.cert}`,
    );
    assert.equal((client.transport as unknown as { TLS: boolean }).TLS, true);
  });

  test("tls: trusts every certificate of a trustRoots folder", async () => {
    const port = await listen(`ssl:0:privateKey=${files.both}:interface=127.0.0.1`);
    await echoThrough(`tls:host=127.0.0.1:port=${portOf(port)}:trustRoots=${dir}`);
  });

  test("tls: refuses a server whose certificate it does not trust", async () => {
    const port = await listen(`ssl:0:privateKey=${files.both}:interface=127.0.0.1`);
    const d = clientFromString(
      reactor,
      `tls:localhost:${portOf(port)}:trustRoots=${files.stranger}`,
    );
    await assert.rejects(within("untrusted", d.connect(Factory.forProtocol(Recorder))), SSLError);
  });

  test("a certificate for another name fails the hostname check", async () => {
    const port = await listen(`ssl:0:privateKey=${files.both}:interface=127.0.0.1`);
    const options = optionsForClientTLS("wrong.example", { trustRoot: pair.cert });
    const endpoint = wrapClientTLS(
      options,
      new TCP4ClientEndpoint(reactor, "127.0.0.1", portOf(port)),
    );
    const made: string[] = [];
    class Watcher extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        made.push("made");
      }
    }
    await assert.rejects(
      within("wrong name", endpoint.connect(Factory.forProtocol(Watcher))),
      (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.match(e.message, /wrong\.example|altnames/i);
        return true;
      },
    );
    assert.deepEqual(made, [], "the protocol must not be connected before the handshake");
  });
});

describe("haproxy: endpoints over loopback", () => {
  test("haproxy:tcp:0 reads a PROXY v1 header and reports the client it names", async () => {
    registerServerParser(wrappingServerParser("haproxy", (f) => new HAProxyWrappingFactory(f)));
    Echo.peers = [];
    const port = await listen("haproxy:tcp:0:interface=127.0.0.1");
    const socket = netConnect(portOf(port), "127.0.0.1");
    let echoed = "";
    const done = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        echoed += chunk.toString();
        if (echoed.includes("hello")) resolve();
      });
    });
    socket.write("PROXY TCP4 192.0.2.10 127.0.0.1 56324 443\r\nhello");
    await within("echo after the PROXY header", done);
    socket.destroy();
    assert.equal(echoed, "hello");
    const peer = Echo.peers[0] as IPv4Address;
    assert.deepEqual([peer.host, peer.port], ["192.0.2.10", 56324]);
  });
});
