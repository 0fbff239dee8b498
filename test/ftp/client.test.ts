// Tests of FTPClient on a StringTransport with MemoryReactorClock: queueing, replies, data
// connections (EPSV→PASV, EPRT→PORT), transfers, ABOR on cancel, FTPS, failures.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import { CancelledError, ConnectionDone, ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type { IProtocol } from "../../src/internet/interfaces.js";
import {
  BadResponse,
  BufferingProtocol,
  CommandFailed,
  type DataPortProtocol,
  FTPClient,
  type FTPClientOptions,
  FTPClientUsageError,
} from "../../src/protocols/ftp/index.js";
import {
  failureResultOf,
  type MemoryListeningPort,
  MemoryReactorClock,
  StringTransport,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";
import { settle } from "./_harness.js";

const SERVER = new IPv4Address("TCP", "192.0.2.10", 21);
const LOCAL = new IPv4Address("TCP", "10.0.0.5", 40000);

class ClientHarness {
  readonly reactor = new MemoryReactorClock();
  readonly transport = new StringTransportWithDisconnection(LOCAL, SERVER);
  readonly client: FTPClient;

  constructor(options: FTPClientOptions = {}, greet = true) {
    this.client = new FTPClient({ reactor: this.reactor, ...options });
    this.transport.protocol = this.client;
    this.client.makeConnection(this.transport);
    if (greet) this.client.dataReceived(Buffer.from("220 Welcome\r\n"));
  }

  /** The command lines sent since the last call. */
  sent(): string[] {
    const out = this.transport.value().toString("utf8");
    this.transport.clear();
    return out === "" ? [] : out.replace(/\r\n$/, "").split("\r\n");
  }

  async reply(text: string): Promise<string[]> {
    this.client.dataReceived(Buffer.from(text.replace(/\n/g, "\r\n")));
    await settle();
    return this.sent();
  }

  /** Completes the last data connection attempt: its protocol and transport. */
  completeData(): { dtp: DataPortProtocol; transport: StringTransportWithDisconnection } {
    const transport = new StringTransportWithDisconnection(LOCAL, SERVER);
    const dtp = this.reactor.completeConnection<DataPortProtocol>(-1, transport)!;
    transport.protocol = dtp;
    return { dtp, transport };
  }
}

describe("FTPClient: control connection", () => {
  it("waits for the greeting, then sends queued commands one at a time", async () => {
    const h = new ClientHarness({}, false);
    const pwd = h.client.pwd();
    const cwd = h.client.cwd("pub");
    await settle();
    assert.deepEqual(h.sent(), []);
    assert.deepEqual(await h.reply("220 Hi\n"), ["PWD"]);
    assert.deepEqual(await h.reply('257 "/a ""b""" is current\n'), ["CWD pub"]);
    assert.equal(await pwd, '/a "b"');
    await h.reply("250 OK\n");
    assert.equal((await cwd).code, 250);
  });

  it("logs in with USER and PASS, or USER alone when the server says 230", async () => {
    const h = new ClientHarness();
    const d = h.client.login("alice", "secret");
    await settle();
    assert.deepEqual(h.sent(), ["USER alice"]);
    assert.deepEqual(await h.reply("331 Password\n"), ["PASS secret"]);
    await h.reply("230 OK\n");
    assert.equal((await d).code, 230);
    const h2 = new ClientHarness();
    const d2 = h2.client.login("anonymous", "x");
    await settle();
    await h2.reply("230 Logged in\n");
    assert.equal((await d2).code, 230);
  });

  it("logs in by itself when given a username", async () => {
    const h = new ClientHarness({ username: "bob", password: "pw" }, false);
    assert.deepEqual(await h.reply("220 Hi\n"), ["USER bob"]);
    assert.deepEqual(await h.reply("331 Password\n"), ["PASS pw"]);
  });

  it("fails a command with CommandFailed for 4xx/5xx and goes on with the next", async () => {
    const h = new ClientHarness();
    const bad = h.client.removeFile("x");
    const next = h.client.noop();
    await settle();
    assert.deepEqual(h.sent(), ["DELE x"]);
    assert.deepEqual(await h.reply("550-No such file\n550 really\n"), ["NOOP"]);
    const f = failureResultOf(bad, CommandFailed);
    assert.deepEqual((f.value as CommandFailed).reply.lines, ["No such file", "really"]);
    await h.reply("200 ok\n");
    assert.equal((await next).code, 200);
  });

  it("gives the lines of a multi-line reply to queueStringCommand and parses FEAT", async () => {
    const h = new ClientHarness();
    const lines = h.client.queueStringCommand("HELP");
    const feat = h.client.feat();
    await settle();
    await h.reply("214-Commands:\n USER PASS\n214 End\n");
    assert.deepEqual(await lines, ["Commands:", " USER PASS", "End"]);
    await h.reply("211-Features:\n EPSV\n UTF8\n211 End\n");
    assert.deepEqual(await feat, ["EPSV", "UTF8"]);
  });

  it("parses SIZE, MDTM and MLST replies", async () => {
    const h = new ClientHarness();
    const size = h.client.size("f");
    const mdtm = h.client.modificationTime("f");
    const mlst = h.client.mlst("f");
    await settle();
    assert.deepEqual(h.sent(), ["TYPE I"]);
    assert.deepEqual(await h.reply("200 Type set\n"), ["SIZE f"]);
    await h.reply("213 1234\n");
    await h.reply("213 20231114221320\n");
    await h.reply("250-Listing f\n type=file;size=3; /f\n250 End\n");
    assert.equal(await size, 1234);
    assert.equal((await mdtm).getTime(), 1700000000000);
    assert.deepEqual(await mlst, { name: "/f", facts: { type: "file", size: "3" } });
  });

  it("refuses to send a command containing CR or LF (no command injection)", async () => {
    const h = new ClientHarness();
    const d = h.client.cwd("x\r\nDELE y");
    await settle();
    failureResultOf(d, FTPClientUsageError);
    assert.deepEqual(h.sent(), []);
  });

  it("fails pending commands with ConnectionLost when the connection goes", async () => {
    const h = new ClientHarness();
    const a = h.client.noop();
    const b = h.client.pwd();
    await settle();
    h.client.connectionLost(new Failure(new ConnectionLost()));
    await settle();
    failureResultOf(a, ConnectionLost);
    failureResultOf(b, ConnectionLost);
  });

  it("drops the connection on a reply it cannot parse", async () => {
    const h = new ClientHarness();
    const a = h.client.noop();
    await settle();
    h.client.dataReceived(Buffer.from("garbage\r\n"));
    await settle();
    failureResultOf(a, BadResponse);
    assert.equal(h.transport.aborted, true);
  });

  it("starts TLS after AUTH TLS, then protects data with PBSZ and PROT", async () => {
    const h = new ClientHarness(
      { tls: "explicit", tlsOptions: { servername: "ftp.example" } },
      false,
    );
    assert.deepEqual(await h.reply("220 Hi\n"), ["AUTH TLS"]);
    assert.deepEqual(await h.reply("234 Go\n"), []);
    assert.equal(h.transport.TLS, true);
    assert.equal(h.transport.tlsOptions?.isServer, false);
    assert.equal(h.transport.tlsOptions?.servername, "ftp.example");
    h.client.handshakeCompleted();
    await settle();
    assert.deepEqual(h.sent(), ["PBSZ 0"]);
    assert.deepEqual(await h.reply("200 PBSZ=0\n"), ["PROT P"]);
    await h.reply("200 Protection set\n");
    assert.equal(h.client.protectData, true);
  });
});

describe("FTPClient: transfers", () => {
  it("downloads over EPSV, connecting to the control connection's host", async () => {
    const h = new ClientHarness();
    const sink = new BufferingProtocol();
    const d = h.client.retrieveFile("a b.bin", sink);
    await settle();
    assert.deepEqual(h.sent(), ["TYPE I"]);
    assert.deepEqual(await h.reply("200 ok\n"), ["EPSV"]);
    assert.deepEqual(await h.reply("229 Entering Extended Passive Mode (|||5001|)\n"), [
      "RETR a b.bin",
    ]);
    assert.deepEqual(h.reactor.tcpClients.at(-1)!.slice(0, 2), [SERVER.host, 5001]);
    const { dtp } = h.completeData();
    await h.reply("150 Opening\n");
    dtp.dataReceived(Buffer.from("hello "));
    dtp.dataReceived(Buffer.from("world"));
    await h.reply("226 Done\n");
    assert.equal(d.called, false, "not done before the data connection is closed");
    dtp.connectionLost(new Failure(new ConnectionDone()));
    assert.equal((await d).code, 226);
    assert.equal(sink.value.toString(), "hello world");
  });

  it("falls back to PASV when EPSV is refused, and ignores the address PASV announces", async () => {
    const h = new ClientHarness();
    const d = h.client.list("", new BufferingProtocol());
    await settle();
    assert.deepEqual(h.sent(), ["EPSV"]);
    assert.deepEqual(await h.reply("500 What?\n"), ["PASV"]);
    assert.deepEqual(await h.reply("227 Entering Passive Mode (203,0,113,66,19,137)\n"), ["LIST"]);
    assert.deepEqual(h.reactor.tcpClients.at(-1)!.slice(0, 2), [SERVER.host, 5001]);
    assert.equal(h.client.epsvUnsupported, true);
    const { dtp } = h.completeData();
    await h.reply("150 Here\n");
    dtp.connectionLost(new Failure(new ConnectionDone()));
    await h.reply("226 Done\n");
    assert.equal((await d).code, 226);
  });

  it("resumes a download with REST", async () => {
    const h = new ClientHarness();
    void h.client.retrieveFile("f", new BufferingProtocol(), 100);
    await settle();
    await h.reply("200 ok\n");
    assert.deepEqual(await h.reply("229 (|||5001|)\n"), ["REST 100"]);
    assert.deepEqual(await h.reply("350 Restarting\n"), ["RETR f"]);
  });

  it("uploads through the consumer and half-closes the data connection to finish", async () => {
    const h = new ClientHarness();
    const [consumer, done] = h.client.storeFile("up.bin");
    await settle();
    await h.reply("200 ok\n");
    await h.reply("229 (|||5001|)\n");
    const { dtp, transport } = h.completeData();
    await h.reply("150 Ok to send\n");
    const c = await consumer;
    c.write(Buffer.from("payload"));
    c.finish();
    assert.equal(transport.value().toString(), "payload");
    assert.equal(transport.writeDisconnecting, true, "EOF sent, still reading");
    assert.equal(transport.disconnecting, false);
    dtp.readConnectionLost();
    assert.equal(transport.disconnecting, true, "closed once the server has closed");
    await h.reply("226 Stored\n");
    assert.equal((await done).code, 226);
  });

  it("fails both Deferreds of an upload refused by the server", async () => {
    const h = new ClientHarness();
    const [consumer, done] = h.client.append("x");
    await settle();
    await h.reply("200 ok\n");
    assert.deepEqual(await h.reply("229 (|||5001|)\n"), ["APPE x"]);
    h.completeData();
    await h.reply("553 Not allowed\n");
    failureResultOf(consumer, CommandFailed);
    failureResultOf(done, CommandFailed);
  });

  it("uses EPRT for active mode, falling back to PORT, and accepts the server's connection only", async () => {
    const h = new ClientHarness({ passive: false });
    const d = h.client.nlst("", new BufferingProtocol());
    await settle();
    const port = h.reactor.ports.at(-1) as MemoryListeningPort;
    const n = (port.address as IPv4Address).port;
    assert.deepEqual(h.sent(), [`EPRT |1|${LOCAL.host}|${n}|`]);
    assert.deepEqual(await h.reply("502 No EPRT\n"), [`PORT 10,0,0,5,${n >> 8},${n & 255}`]);
    assert.deepEqual(await h.reply("200 PORT ok\n"), ["NLST"]);
    const stranger = new StringTransportWithDisconnection(
      port.address,
      new IPv4Address("TCP", "198.51.100.1", 20),
    );
    stranger.protocol = new BufferingProtocol();
    assert.equal(port.acceptConnection({ peer: stranger.peerAddress, transport: stranger }), null);
    const t = new StringTransportWithDisconnection(
      port.address,
      new IPv4Address("TCP", SERVER.host, 20),
    );
    const dtp = port.acceptConnection<IProtocol>({ peer: t.peerAddress, transport: t })!;
    t.protocol = dtp;
    assert.equal(port.disconnected, true, "the listening port closes once connected");
    await h.reply("150 Here\n");
    dtp.connectionLost(new Failure(new ConnectionDone()));
    await h.reply("226 Done\n");
    assert.equal((await d).code, 226);
  });

  it("aborts a transfer on cancel: ABOR, data connection dropped, both replies read", async () => {
    const h = new ClientHarness();
    const d = h.client.retrieveFile("big", new BufferingProtocol());
    const after = h.client.noop();
    await settle();
    await h.reply("200 ok\n");
    await h.reply("229 (|||5001|)\n");
    const { transport } = h.completeData();
    await h.reply("150 Opening\n");
    d.cancel();
    await settle();
    failureResultOf(d, CancelledError);
    assert.deepEqual(h.sent(), ["ABOR"]);
    assert.equal(transport.aborted, true);
    assert.deepEqual(await h.reply("426 Aborted\n"), []);
    assert.deepEqual(await h.reply("226 ABOR ok\n"), ["NOOP"]);
    await h.reply("200 ok\n");
    assert.equal((await after).code, 200);
  });

  it("drops a queued transfer cancelled before it starts, sending nothing for it", async () => {
    const h = new ClientHarness();
    const first = h.client.noop();
    const d = h.client.retrieveFile("f", new BufferingProtocol());
    const last = h.client.pwd();
    d.cancel();
    await settle();
    assert.deepEqual(h.sent(), ["NOOP"]);
    assert.deepEqual(await h.reply("200 ok\n"), ["PWD"]);
    await first;
    failureResultOf(d, CancelledError);
    await h.reply('257 "/"\n');
    assert.equal(await last, "/");
  });

  it("fails a transfer whose data connection cannot be made", async () => {
    const h = new ClientHarness();
    const d = h.client.retrieveFile("f", new BufferingProtocol());
    await settle();
    await h.reply("200 ok\n");
    await h.reply("229 (|||5001|)\n");
    h.reactor.failConnection(-1);
    await h.reply("150 Opening\n");
    await h.reply("425 No data connection\n");
    failureResultOf(d, FTPClientUsageError);
  });

  it("starts TLS on data connections after PROT P, resuming the control connection's session", async () => {
    const h = new ClientHarness({ tls: "implicit", tlsOptions: { ca: "CA" } });
    h.transport.TLS = true;
    await settle();
    await h.reply("200 PBSZ=0\n");
    await h.reply("200 PROT P\n");
    void h.client.retrieveFile("f", new BufferingProtocol());
    await settle();
    await h.reply("200 ok\n");
    await h.reply("229 (|||5001|)\n");
    const transport = new StringTransport(LOCAL, SERVER);
    h.reactor.completeConnection(-1, transport);
    assert.equal(transport.TLS, true);
    assert.equal(transport.tlsOptions?.isServer, false);
    assert.equal(transport.tlsOptions?.ca, "CA");
    assert.equal(transport.tlsOptions?.host, SERVER.host);
  });
});
