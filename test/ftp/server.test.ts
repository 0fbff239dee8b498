// Tests of the FTP server protocol with an in-memory shell and MemoryReactorClock (no sockets, no time).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IPv4Address } from "../../src/internet/address.js";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import type { Protocol } from "../../src/internet/protocol.js";
import { type MemoryDirectory, MemoryFile } from "../../src/protocols/ftp/index.js";
import type {
  MemoryListeningPort,
  StringTransportWithDisconnection,
} from "../../src/testing/index.js";
import { CLIENT, ServerHarness, settle } from "./_harness.js";

function file(h: ServerHarness, ...path: string[]): Buffer {
  let node: MemoryDirectory | MemoryFile = h.root;
  for (const p of path) {
    const next: MemoryDirectory | MemoryFile | undefined = (node as MemoryDirectory).children.get(
      p,
    );
    if (next === undefined) throw new Error(`No ${path.join("/")}`);
    node = next;
  }
  return (node as MemoryFile).data;
}

async function pasv(h: ServerHarness): Promise<MemoryListeningPort> {
  const r = await h.send("EPSV");
  assert.match(r[0]!, /^229 Entering Extended Passive Mode \(\|\|\|\d+\|\)$/);
  return h.lastPort();
}

/** Runs a download over a passive connection and returns the replies and the bytes received. */
async function download(
  h: ServerHarness,
  command: string,
): Promise<{ replies: string[]; data: Buffer }> {
  await pasv(h);
  const { transport } = h.acceptData();
  const replies = await h.send(command);
  assert.equal(
    transport.disconnecting,
    true,
    "the server closes the data connection after sending",
  );
  await settle();
  return { replies: [...replies, ...h.replies()], data: transport.value() };
}

async function upload(h: ServerHarness, command: string, data: Buffer | string): Promise<string[]> {
  await pasv(h);
  const { transport, protocol } = h.acceptData();
  const first = await h.send(command);
  protocol!.dataReceived(Buffer.from(data));
  transport.loseConnection();
  await settle();
  return [...first, ...h.replies()];
}

describe("FTP server: login", () => {
  it("greets with 220", () => {
    assert.deepEqual(new ServerHarness().replies(), ["220 Twisted.ts FTP server ready"]);
  });

  it("logs a user in through the portal with USER and PASS", async () => {
    const h = new ServerHarness();
    h.replies();
    assert.deepEqual(await h.send("USER alice"), ["331 Password required for alice"]);
    assert.deepEqual(await h.send("PASS secret"), ["230 User logged in, proceed"]);
  });

  it("answers a wrong password with 530 and keeps serving", async () => {
    const h = new ServerHarness();
    h.replies();
    await h.send("USER alice");
    assert.deepEqual(await h.send("PASS wrong"), ["530 Login incorrect"]);
    assert.deepEqual(await h.send("SYST"), ["215 UNIX Type: L8"]);
  });

  it("closes the connection after three failed logins", async () => {
    const h = new ServerHarness();
    for (let i = 0; i < 3; i++) {
      await h.send("USER alice");
      await h.send("PASS wrong");
    }
    assert.equal(h.transport.disconnecting, true);
  });

  it("refuses commands before login with 530, touching nothing", async () => {
    const h = new ServerHarness({ "a.txt": "x" });
    h.replies();
    for (const c of [
      "RETR a.txt",
      "DELE a.txt",
      "STOR b.txt",
      "LIST",
      "CWD /",
      "MKD d",
      "PASV",
      "SIZE a.txt",
    ]) {
      assert.deepEqual(await h.send(c), ["530 Please login with USER and PASS"], c);
    }
    assert.equal(h.root.children.size, 1);
  });

  it("gives anonymous users a read-only shell", async () => {
    const h = new ServerHarness({ "a.txt": "x" });
    await h.login("anonymous", "guest@example.com");
    assert.match((await h.send("DELE a.txt"))[0]!, /^550 Anonymous users are forbidden/);
    assert.match((await h.send("MKD new"))[0]!, /^550 /);
    assert.match((await h.send("PASV"))[0]!, /^227 /);
    assert.match((await h.send("STOR b.txt"))[0]!, /^550 /);
    assert.deepEqual(await h.send("SIZE a.txt"), ["213 1"]);
  });

  it("refuses anonymous logins unless they are allowed", async () => {
    const h = new ServerHarness({}, { allowAnonymous: false });
    h.replies();
    await h.send("USER anonymous");
    assert.deepEqual(await h.send("PASS x"), ["530 Login incorrect"]);
  });
});

describe("FTP server: directories and files", () => {
  it("changes and prints the working directory", async () => {
    const h = new ServerHarness({ pub: { docs: {} } });
    await h.login();
    assert.deepEqual(await h.send("PWD"), ['257 "/" is the current directory']);
    assert.deepEqual(await h.send("CWD pub/docs"), ["250 Directory successfully changed"]);
    assert.deepEqual(await h.send("PWD"), ['257 "/pub/docs" is the current directory']);
    assert.deepEqual(await h.send("CDUP"), ["250 Directory successfully changed"]);
    assert.deepEqual(await h.send("XPWD"), ['257 "/pub" is the current directory']);
    assert.match(
      (await h.send("CWD nowhere"))[0]!,
      /^550 \/pub\/nowhere: No such file or directory$/,
    );
    await h.send("CDUP");
    assert.deepEqual(await h.send("CDUP"), ["250 Directory successfully changed"]);
    assert.deepEqual(await h.send("PWD"), ['257 "/" is the current directory']);
  });

  it("makes, renames and removes directories and files", async () => {
    const h = new ServerHarness({ "a.txt": "hello" });
    await h.login();
    assert.deepEqual(await h.send("MKD new dir"), ['257 "/new dir" created']);
    assert.match((await h.send("MKD new dir"))[0]!, /^550 .*File exists/);
    assert.deepEqual(await h.send("RNFR a.txt"), ["350 Ready for RNTO"]);
    assert.deepEqual(await h.send("RNTO new dir/b.txt"), ["250 Rename successful"]);
    assert.equal(file(h, "new dir", "b.txt").toString(), "hello");
    assert.match((await h.send("RMD new dir"))[0]!, /^550 .*not empty/);
    assert.deepEqual(await h.send("DELE new dir/b.txt"), ["250 Delete operation successful"]);
    assert.deepEqual(await h.send("RMD new dir"), ["250 Remove directory operation successful"]);
    assert.equal(h.root.children.size, 0);
  });

  it("answers RNFR of a missing file with 550 and then refuses RNTO", async () => {
    const h = new ServerHarness();
    await h.login();
    assert.match((await h.send("RNFR nope"))[0]!, /^550 /);
    assert.deepEqual(await h.send("RNTO x"), ["503 RNFR required first"]);
  });

  it("gives SIZE and MDTM of files", async () => {
    const h = new ServerHarness();
    h.root.children.set("f.bin", new MemoryFile(Buffer.alloc(1234), 1700000000));
    await h.login();
    assert.deepEqual(await h.send("SIZE f.bin"), ["213 1234"]);
    assert.deepEqual(await h.send("MDTM f.bin"), ["213 20231114221320"]);
    assert.match((await h.send("SIZE /"))[0]!, /^550 /);
    assert.match((await h.send("SIZE missing"))[0]!, /^550 /);
  });

  it("describes one entry with MLST on the control connection", async () => {
    const h = new ServerHarness();
    h.root.children.set("f.bin", new MemoryFile(Buffer.alloc(3), 0));
    await h.login();
    assert.deepEqual(await h.send("MLST f.bin"), [
      "250-Listing /f.bin",
      " type=file;size=3;modify=19700101000000;perm=adfrw;unix.mode=0644; /f.bin",
      "250 End",
    ]);
  });

  it("changes permissions with SITE CHMOD", async () => {
    const h = new ServerHarness({ "a.txt": "x" });
    await h.login();
    assert.deepEqual(await h.send("SITE CHMOD 600 a.txt"), ["200 SITE CHMOD command ok"]);
    assert.equal((h.root.children.get("a.txt") as MemoryFile).permissions, 0o600);
    assert.match((await h.send("SITE CHMOD 999 a.txt"))[0]!, /^501 /);
    assert.match((await h.send("SITE FOO"))[0]!, /^500 /);
  });

  it("reports status with STAT, and lists a directory on the control connection with STAT path", async () => {
    const h = new ServerHarness({ d: { "x.txt": "abc" } });
    await h.login();
    await h.send("TYPE I");
    const status = await h.send("STAT");
    assert.equal(status[0], "211-FTP server status:");
    assert.ok(status.includes(" Logged in as alice") && status.includes(" TYPE: BINARY"));
    const listing = await h.send("STAT d");
    assert.equal(listing[0], "213-Status follows:");
    assert.match(listing[1]!, /^ -rw-r--r-- +1 ftp +ftp +3 .* x\.txt$/);
  });
});

describe("FTP server: path traversal", () => {
  for (const path of ["../../etc/passwd", "/../etc/passwd", "sub/../../x", "..", "/.."]) {
    it(`refuses ${path} with 550`, async () => {
      const h = new ServerHarness({ sub: {} });
      await h.login();
      for (const c of ["RETR", "SIZE", "CWD", "DELE", "MKD", "STOR", "LIST"]) {
        const r = await h.send(`${c} ${path}`);
        assert.match(r[0]!, /^550 .*Invalid path$/, `${c} ${path}`);
      }
    });
  }

  it("treats encoded forms as plain names: nothing found, nothing outside touched", async () => {
    const h = new ServerHarness();
    await h.login();
    assert.match((await h.send("RETR %2e%2e/%2e%2e/etc/passwd"))[0]!, /^550 .*No such file/);
    assert.match((await h.send("RETR ..%2f..%2fetc%2fpasswd"))[0]!, /^550 .*No such file/);
  });
});

describe("FTP server: transfers", () => {
  it("sends a file over a passive connection and replies 150 then 226", async () => {
    const h = new ServerHarness({ "a b.txt": "hello world" });
    await h.login();
    await h.send("TYPE I");
    const { replies, data } = await download(h, "RETR a b.txt");
    assert.deepEqual(replies, [
      "125 Opening BINARY mode data connection for a b.txt (11 bytes)",
      "226 Transfer complete",
    ]);
    assert.equal(data.toString(), "hello world");
  });

  it("resumes a download from the REST offset", async () => {
    const h = new ServerHarness({ "f.txt": "0123456789" });
    await h.login();
    await h.send("TYPE I");
    assert.match((await h.send("REST 4"))[0]!, /^350 /);
    const { data } = await download(h, "RETR f.txt");
    assert.equal(data.toString(), "456789");
  });

  it("converts line ends to CRLF in ASCII mode", async () => {
    const h = new ServerHarness({ "t.txt": "a\nb\r\nc\n" });
    await h.login();
    await h.send("TYPE A");
    const { data } = await download(h, "RETR t.txt");
    assert.equal(data.toString(), "a\r\nb\r\nc\r\n");
  });

  it("stores an upload, in binary and in ASCII mode", async () => {
    const h = new ServerHarness();
    await h.login();
    await h.send("TYPE I");
    const r = await upload(h, "STOR up.bin", "x\r\ny");
    assert.deepEqual(r, [
      "125 Opening BINARY mode data connection for up.bin",
      "226 Transfer complete",
    ]);
    assert.equal(file(h, "up.bin").toString(), "x\r\ny");
    await h.send("TYPE A");
    await upload(h, "STOR up.txt", "x\r\ny\r\n");
    assert.equal(file(h, "up.txt").toString(), "x\ny\n");
  });

  it("appends with APPE and resumes an upload with REST + STOR", async () => {
    const h = new ServerHarness({ "f.txt": "12345" });
    await h.login();
    await h.send("TYPE I");
    await upload(h, "APPE f.txt", "678");
    assert.equal(file(h, "f.txt").toString(), "12345678");
    await h.send("REST 3");
    await upload(h, "STOR f.txt", "xy");
    assert.equal(file(h, "f.txt").toString(), "123xy");
  });

  it("stores under a unique name with STOU", async () => {
    const h = new ServerHarness({ "f.txt": "old" });
    await h.login();
    const r = await upload(h, "STOU f.txt", "new");
    assert.deepEqual(r[0], "125 FILE: f.txt.1");
    const name = "f.txt.1";
    assert.equal(r[1], `226 Transfer complete (unique file name: ${name})`);
    assert.equal(file(h, "f.txt").toString(), "old");
    assert.equal(file(h, name).toString(), "new");
  });

  it("lists a directory with LIST, NLST and MLSD", async () => {
    const h = new ServerHarness({ d: { "a.txt": "abc", sub: {} } });
    await h.login();
    const list = await download(h, "LIST -la d");
    assert.deepEqual(list.replies, [
      "125 Here comes the directory listing",
      "226 Directory send OK",
    ]);
    const lines = list.data.toString().split("\r\n");
    assert.match(lines[0]!, /^-rw-r--r-- +1 ftp +ftp +3 \w{3} \d\d ( \d{4}|\d\d:\d\d) a\.txt$/);
    assert.match(lines[1]!, /^drwxr-xr-x +2 ftp +ftp +0 .* sub$/);
    assert.equal((await download(h, "NLST d")).data.toString(), "a.txt\r\nsub\r\n");
    const mlsd = (await download(h, "MLSD d")).data.toString();
    assert.match(
      mlsd,
      /^type=file;size=3;modify=\d{14};perm=adfrw;unix\.mode=0644; a\.txt\r\ntype=dir;.*; sub\r\n$/,
    );
  });

  it("uses an active connection to the PORT address", async () => {
    const h = new ServerHarness({ "a.txt": "data" });
    await h.login();
    assert.deepEqual(await h.send(`PORT ${CLIENT.host.replaceAll(".", ",")},19,136`), [
      "200 PORT command successful",
    ]);
    const first = h.send("RETR a.txt");
    await settle();
    const [host, port] = h.reactor.tcpClients.at(-1)!;
    assert.deepEqual([host, port], [CLIENT.host, 5000]);
    const proto = h.reactor.completeConnection<Protocol>(-1)!;
    await settle();
    const transport = proto.transport as StringTransportWithDisconnection;
    assert.equal(transport.value().toString(), "data");
    assert.equal(transport.disconnecting, true);
    h.reactor.connectionLost(-1);
    await settle();
    assert.deepEqual(
      [...(await first), ...h.replies()],
      ["150 Opening ASCII mode data connection for a.txt (4 bytes)", "226 Transfer complete"],
    );
  });

  it("answers 425 to a transfer without PASV or PORT", async () => {
    const h = new ServerHarness({ "a.txt": "data" });
    await h.login();
    assert.deepEqual(await h.send("RETR a.txt"), ["425 Use PORT or PASV first"]);
    assert.deepEqual(await h.send("LIST"), ["425 Use PORT or PASV first"]);
  });

  it("refuses STOR without PASV or PORT before touching the file", async () => {
    const h = new ServerHarness({ "a.txt": "keep me" });
    await h.login();
    assert.deepEqual(await h.send("STOR a.txt"), ["425 Use PORT or PASV first"]);
    const file = h.root.children.get("a.txt") as unknown as { data: Uint8Array };
    assert.equal(Buffer.from(file.data).toString(), "keep me");
  });

  it("answers 425 when the active connection fails", async () => {
    const h = new ServerHarness({ "a.txt": "data" });
    await h.login();
    await h.send(`EPRT |1|${CLIENT.host}|5000|`);
    const r = h.send("RETR a.txt");
    await settle();
    h.reactor.failConnection(-1);
    await settle();
    const replies = [...(await r), ...h.replies()];
    assert.equal(replies[0], "150 Opening ASCII mode data connection for a.txt (4 bytes)");
    assert.match(replies[1]!, /^425 Can't open data connection/);
  });

  it("answers 426 when the data connection is lost mid-transfer, and keeps serving", async () => {
    const h = new ServerHarness();
    await h.login();
    await pasv(h);
    const { transport, protocol } = h.acceptData();
    await h.send("STOR big.bin");
    protocol!.dataReceived(Buffer.alloc(1000));
    protocol!.connectionLost(new Failure(new ConnectionLost()));
    await settle();
    assert.deepEqual(h.replies(), ["426 Connection closed; transfer aborted"]);
    assert.equal(file(h, "big.bin").length, 1000, "the partial upload is kept (to be resumed)");
    assert.ok(transport);
    assert.deepEqual(await h.send("NOOP"), ["200 NOOP ok"]);
  });
});

describe("FTP server: bad data connections", () => {
  it("refuses a passive connection from another address than the client's", async () => {
    const h = new ServerHarness({ "a.txt": "x" });
    await h.login();
    await pasv(h);
    const intruder = h.acceptData(new IPv4Address("TCP", "203.0.113.9", 4444));
    assert.equal(intruder.protocol, null);
    assert.equal(h.acceptData().protocol !== null, true, "the client itself can still connect");
  });

  it("closes a passive port the client never connects to, after the timeout", async () => {
    const h = new ServerHarness({}, { dataTimeout: 10 });
    await h.login();
    const port = await pasv(h);
    assert.equal(port.disconnected, false);
    h.reactor.advance(10);
    assert.equal(port.disconnected, true);
    assert.equal(
      h.reactor.getDelayedCalls().filter((c) => c.active()).length,
      1,
      "only the idle timeout remains",
    );
    assert.deepEqual(await h.send("NOOP"), ["200 NOOP ok"]);
  });

  it("answers 425 when a transfer waits for a passive connection that never comes", async () => {
    const h = new ServerHarness({ "a.txt": "x" }, { dataTimeout: 10 });
    await h.login();
    await pasv(h);
    assert.deepEqual(await h.send("RETR a.txt"), [
      "150 Opening ASCII mode data connection for a.txt (1 bytes)",
    ]);
    h.reactor.advance(10);
    await settle();
    assert.match(
      h.replies()[0]!,
      /^425 Can't open data connection: the client did not connect in time$/,
    );
    assert.equal(h.lastPort().disconnected, true);
  });

  it("closes the previous passive port when PASV is sent again", async () => {
    const h = new ServerHarness();
    await h.login();
    const first = await pasv(h);
    const second = await pasv(h);
    assert.equal(first.disconnected, true);
    assert.equal(second.disconnected, false);
  });

  it("aborts a transfer with ABOR: 426 for the transfer, then 226", async () => {
    const h = new ServerHarness();
    await h.login();
    await pasv(h);
    const { transport } = h.acceptData();
    assert.deepEqual(await h.send("STOR f"), ["125 Opening ASCII mode data connection for f"]);
    const r = await h.send(Buffer.from("\xff\xf4\xff\xf2ABOR\r\n", "latin1"));
    assert.deepEqual(r, ["426 Connection closed; transfer aborted", "226 ABOR command successful"]);
    assert.equal(transport.aborted, true);
    assert.deepEqual(await h.send("NOOP"), ["200 NOOP ok"]);
  });

  it("answers ABOR without a transfer with 225 and closes a waiting passive port", async () => {
    const h = new ServerHarness();
    await h.login();
    const port = await pasv(h);
    assert.deepEqual(await h.send("ABOR"), ["225 No transfer to ABOR"]);
    assert.equal(port.disconnected, true);
  });

  it("closes the data connection and passive port when the control connection is lost", async () => {
    const h = new ServerHarness({ "a.txt": "x" });
    await h.login();
    const port = await pasv(h);
    h.transport.loseConnection();
    assert.equal(port.disconnected, true);
    assert.equal(h.reactor.getDelayedCalls().filter((c) => c.active()).length, 0);
  });
});

describe("FTP server: limits and timeouts", () => {
  it("answers 421 and closes an idle control connection", async () => {
    const h = new ServerHarness({}, { timeOut: 60 });
    h.replies();
    h.reactor.advance(59);
    await h.send("NOOP");
    h.reactor.advance(59);
    assert.equal(h.transport.disconnecting, false);
    h.reactor.advance(1);
    assert.deepEqual(h.replies(), ["421 Timeout: closing control connection"]);
    assert.equal(h.transport.disconnecting, true);
  });

  it("answers 500 to over-long lines and keeps serving", async () => {
    const h = new ServerHarness({}, { maxLineLength: 100 });
    h.replies();
    assert.deepEqual(await h.send(`USER ${"a".repeat(5000)}`), ["500 Command line too long"]);
    assert.deepEqual(await h.send("SYST"), ["215 UNIX Type: L8"]);
  });

  it("refuses connections beyond maxConnections with 421", () => {
    const h = new ServerHarness({}, { maxConnections: 1 });
    const extra = h.factory.buildProtocol(CLIENT);
    const t = new (h.transport.constructor as typeof StringTransportWithDisconnection)();
    (t as StringTransportWithDisconnection).protocol = extra;
    extra.makeConnection(t);
    assert.match(t.value().toString(), /^421 Too many users/);
    assert.equal(t.disconnecting, true);
  });

  it("refuses connections beyond maxConnectionsPerPeer, and counts closed ones out", () => {
    const h = new ServerHarness({}, { maxConnectionsPerPeer: 1 });
    const extra = h.factory.buildProtocol(CLIENT);
    assert.equal(extra.constructor.name, "TooManyConnections");
    h.transport.loseConnection();
    assert.equal(h.factory.buildProtocol(CLIENT).constructor.name !== "TooManyConnections", true);
  });
});

describe("FTP server: TLS", () => {
  it("starts TLS on AUTH TLS after sending 234, and protects data connections after PROT P", async () => {
    const h = new ServerHarness({ "a.txt": "x" }, { tls: { key: "KEY", cert: "CERT" } });
    h.replies();
    assert.deepEqual(await h.send("AUTH TLS"), ["234 AUTH TLS successful"]);
    assert.equal(h.transport.TLS, true);
    assert.equal(h.transport.tlsOptions?.isServer, true);
    assert.equal(h.transport.tlsOptions?.cert, "CERT");
    await h.send("PBSZ 0");
    await h.send("PROT P");
    await h.login();
    await pasv(h);
    const { transport } = h.acceptData();
    assert.equal(transport.TLS, true, "the data connection speaks TLS (server side)");
    assert.equal(transport.tlsOptions?.isServer, true);
  });

  it("requires TLS before login when asked", async () => {
    const h = new ServerHarness({}, { tls: { key: "K", cert: "C" }, requireTLS: true });
    h.replies();
    assert.match((await h.send("USER alice"))[0]!, /^530 TLS required/);
  });
});
