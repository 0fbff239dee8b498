// Tests of the sans-I/O FTP server control connection: replies it makes, events it hands over.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FileNotFoundError } from "../../src/protocols/ftp/_errors.js";
import {
  FTPServerConnection,
  type FTPServerConnectionOptions,
  type FTPServerEvent,
} from "../../src/protocols/ftp/_server_engine.js";
import { splits } from "../protocols/_splits.js";

function make(options: Partial<FTPServerConnectionOptions> = {}): FTPServerConnection {
  return new FTPServerConnection({ peerHost: "10.1.2.3", ...options });
}

/** Feeds `input` (in `chunks` if given) and collects events and replies until NEED_DATA. */
function run(
  conn: FTPServerConnection,
  input: string | Buffer[],
): { events: FTPServerEvent[]; replies: string[] } {
  const events: FTPServerEvent[] = [];
  const chunks = typeof input === "string" ? [Buffer.from(input, "utf8")] : input;
  for (const c of chunks) {
    conn.receiveData(c);
    for (let e = conn.nextEvent(); e !== null; e = conn.nextEvent()) events.push(e);
  }
  const out = conn.dataToSend().toString("utf8");
  return { events, replies: out === "" ? [] : out.replace(/\r\n$/, "").split("\r\n") };
}

function loggedIn(options: Partial<FTPServerConnectionOptions> = {}): FTPServerConnection {
  const conn = make(options);
  const { events } = run(conn, "USER alice\r\nPASS secret\r\n");
  assert.deepEqual(events, [{ type: "LoginRequested", username: "alice", password: "secret" }]);
  conn.loginSucceeded();
  conn.dataToSend();
  return conn;
}

describe("FTPServerConnection: login", () => {
  for (const [name, chunks] of splits("USER alice\r\nPASS s3cret\r\n")) {
    it(`asks for the password and hands the login over (${name})`, () => {
      const conn = make();
      const { events, replies } = run(conn, chunks);
      assert.deepEqual(events, [{ type: "LoginRequested", username: "alice", password: "s3cret" }]);
      assert.deepEqual(replies, ["331 Password required for alice"]);
      conn.loginSucceeded();
      assert.equal(conn.authenticated, true);
      assert.equal(conn.dataToSend().toString(), "230 User logged in, proceed\r\n");
    });
  }

  it("refuses commands that need a login before it, with 530", () => {
    const { events, replies } = run(
      make(),
      "PWD\r\nRETR x\r\nLIST\r\nPASV\r\nPORT 10,1,2,3,4,1\r\n",
    );
    assert.deepEqual(events, []);
    assert.deepEqual(replies, Array(5).fill("530 Please login with USER and PASS"));
  });

  it("answers PASS without USER with 503", () => {
    assert.deepEqual(run(make(), "PASS x\r\n").replies, ["503 Login with USER first"]);
  });

  it("answers 530 to a failed login and closes after maxLoginAttempts failures", () => {
    const conn = make({ maxLoginAttempts: 2 });
    run(conn, "USER a\r\nPASS b\r\n");
    conn.loginFailed();
    assert.equal(conn.dataToSend().toString(), "530 Login incorrect\r\n");
    assert.equal(conn.closing, false);
    run(conn, "USER a\r\nPASS c\r\n");
    conn.loginFailed();
    assert.match(conn.dataToSend().toString(), /^530 Login incorrect\r\n421 /);
    assert.equal(conn.closing, true);
  });

  it("holds later commands while a login is being checked", () => {
    const conn = make();
    const { events, replies } = run(conn, "USER a\r\nPASS b\r\nSYST\r\n");
    assert.equal(events.length, 1);
    assert.deepEqual(replies, ["331 Password required for a"]);
    conn.loginSucceeded();
    assert.equal(conn.nextEvent(), null);
    assert.equal(
      conn.dataToSend().toString(),
      "230 User logged in, proceed\r\n215 UNIX Type: L8\r\n",
    );
  });

  it("offers the guest login only when anonymous access is allowed", () => {
    assert.match(
      run(make({ allowAnonymous: true }), "USER anonymous\r\n").replies[0]!,
      /^331 Guest login ok/,
    );
    assert.match(run(make(), "USER anonymous\r\n").replies[0]!, /^331 Password required/);
  });

  it("refuses USER before AUTH TLS when TLS is required", () => {
    const conn = make({ requireTLS: true, tlsAvailable: true });
    assert.match(run(conn, "USER alice\r\n").replies[0]!, /^530 TLS required/);
    run(conn, "AUTH TLS\r\n");
    assert.match(run(conn, "USER alice\r\n").replies[0]!, /^331 /);
  });

  it("refuses to change user once logged in", () => {
    assert.match(run(loggedIn(), "USER bob\r\n").replies[0]!, /^530 /);
  });
});

describe("FTPServerConnection: commands it answers itself", () => {
  const cases: [string, string][] = [
    ["SYST", "215 UNIX Type: L8"],
    ["NOOP", "200 NOOP ok"],
    ["TYPE I", "200 Type set to I"],
    ["type a", "200 Type set to A"],
    ["TYPE L 8", "200 Type set to L 8"],
    ["TYPE E", "504 Type not implemented: E"],
    ["TYPE Z", "501 Unknown type: Z"],
    ["MODE S", "200 Mode set to S"],
    ["MODE B", "504 Unsupported parameter: B"],
    ["STRU F", "200 Structure set to F"],
    ["STRU R", "504 Unsupported parameter: R"],
    ["REST 100", "350 Restarting at 100. Send STORE or RETRIEVE to initiate transfer"],
    ["REST -1", "501 Invalid restart offset: -1"],
    ["ALLO 100", "202 No storage allocation necessary"],
    ["OPTS UTF8 ON", "200 Always in UTF8 mode"],
    ["OPTS FOO", "501 Unknown option: FOO"],
    ["HELP RETR", "214 Syntax: RETR <sp> pathname"],
    ["ACCT x", "202 ACCT not needed"],
    ["CCC", "534 CCC refused: the control connection stays protected"],
    ["PBSZ 0", "503 PBSZ needs a protected control connection: send AUTH TLS first"],
    ["EPSV 3", "522 Network protocol not supported, use (1,2)"],
    ["REIN", "502 REIN not implemented"],
    ["XYZZY", "500 Syntax error, command unrecognized: XYZZY"],
    ["", "500 Syntax error: empty command"],
    ["RETR", "501 Syntax error in parameters or arguments: RETR needs an argument"],
    ["RNTO x", "503 RNFR required first"],
    ["AUTH KERBEROS", "504 Unrecognized AUTH type: KERBEROS"],
    ["AUTH TLS", "502 AUTH TLS not available: the server has no certificate"],
  ];
  for (const [command, reply] of cases) {
    it(`answers ${JSON.stringify(command)} with ${reply.slice(0, 3)}`, () => {
      const conn = loggedIn();
      const { events, replies } = run(conn, `${command}\r\n`);
      assert.deepEqual(events, []);
      assert.deepEqual(replies, [reply]);
    });
  }

  it("lists its features in a multi-line FEAT reply (AUTH TLS only with a certificate)", () => {
    const plain = run(make(), "FEAT\r\n").replies;
    assert.equal(plain[0], "211-Features:");
    assert.equal(plain.at(-1), "211 End");
    assert.ok(plain.includes(" EPSV") && plain.includes(" REST STREAM") && plain.includes(" UTF8"));
    assert.ok(!plain.includes(" AUTH TLS"));
    assert.ok(run(make({ tlsAvailable: true }), "FEAT\r\n").replies.includes(" AUTH TLS"));
  });

  it("answers HELP with a multi-line list of commands", () => {
    const replies = run(make(), "HELP\r\n").replies;
    assert.match(replies[0]!, /^214-/);
    assert.equal(replies.at(-1), "214 Help OK");
  });

  it("answers an over-long line with 500 and keeps serving", () => {
    const { replies } = run(make({ maxLineLength: 64 }), `USER ${"x".repeat(100)}\r\nSYST\r\n`);
    assert.deepEqual(replies, ["500 Command line too long", "215 UNIX Type: L8"]);
  });

  it("sets binary mode with TYPE I", () => {
    const conn = loggedIn();
    assert.equal(conn.binary, false);
    run(conn, "TYPE I\r\n");
    assert.equal(conn.binary, true);
  });

  it("answers QUIT with 221 and stops reading", () => {
    const conn = make();
    const { replies } = run(conn, "QUIT\r\nSYST\r\n");
    assert.deepEqual(replies, ["221 Goodbye"]);
    assert.equal(conn.closing, true);
  });
});

describe("FTPServerConnection: TLS", () => {
  it("answers AUTH TLS with 234, drops what was pipelined after it, and asks for TLS", () => {
    const conn = make({ tlsAvailable: true });
    const { events, replies } = run(conn, "AUTH TLS\r\nUSER injected\r\n");
    assert.deepEqual(events, [{ type: "TLSRequested" }]);
    assert.deepEqual(replies, ["234 AUTH TLS successful"]);
    assert.equal(conn.tls, true);
    assert.equal(conn.username, null);
  });

  it("requires PBSZ before PROT, and sets data protection with PROT P", () => {
    const conn = make({ tlsAvailable: true });
    run(conn, "AUTH TLS\r\n");
    assert.deepEqual(run(conn, "PROT P\r\n").replies, ["503 PBSZ required first"]);
    assert.deepEqual(run(conn, "PBSZ 0\r\nPROT P\r\n").replies, [
      "200 PBSZ=0",
      "200 Protection level set to P",
    ]);
    assert.equal(conn.protectData, true);
    assert.deepEqual(run(conn, "PROT S\r\n").replies, ["536 Protection level S not supported"]);
    assert.deepEqual(run(conn, "PROT C\r\n").replies, ["200 Protection level set to C"]);
    assert.equal(conn.protectData, false);
    assert.deepEqual(run(conn, "AUTH TLS\r\n").replies, ["503 Already using TLS"]);
  });

  it("refuses PROT P when there is no certificate for data connections", () => {
    const conn = make({ implicitTLS: true });
    assert.deepEqual(run(conn, "PBSZ 0\r\nPROT P\r\n").replies, [
      "200 PBSZ=0",
      "536 PROT P not available: no certificate for data connections",
    ]);
    assert.equal(conn.protectData, false);
  });

  it("treats an implicit-TLS control connection as protected from the start", () => {
    const conn = make({ implicitTLS: true, requireTLS: true });
    assert.deepEqual(run(conn, "PBSZ 0\r\nUSER a\r\n").replies, [
      "200 PBSZ=0",
      "331 Password required for a",
    ]);
  });
});

describe("FTPServerConnection: commands handed over", () => {
  it("hands file commands over one at a time, in order", () => {
    const conn = loggedIn();
    const first = run(conn, "CWD pub\r\nRETR a b.txt\r\n");
    assert.deepEqual(first.events, [
      { type: "CommandReceived", verb: "CWD", arg: "pub", offset: 0 },
    ]);
    assert.equal(conn.waiting, true);
    conn.reply(250, "ok");
    conn.commandDone();
    assert.deepEqual(conn.nextEvent(), {
      type: "CommandReceived",
      verb: "RETR",
      arg: "a b.txt",
      offset: 0,
    });
  });

  it("maps X aliases to their RFC 959 names", () => {
    assert.deepEqual(run(loggedIn(), "XPWD\r\n").events, [
      { type: "CommandReceived", verb: "PWD", arg: "", offset: 0 },
    ]);
  });

  it("lets ABOR (after Telnet IP and Synch) overtake a command in progress", () => {
    const conn = loggedIn();
    run(conn, "RETR big\r\n");
    const abor = run(conn, [Buffer.from("\xff\xf4\xff\xf2ABOR\r\nNOOP\r\n", "latin1")]);
    assert.deepEqual(abor.events, [{ type: "CommandReceived", verb: "ABOR", arg: "", offset: 0 }]);
    assert.equal(conn.nextEvent(), null, "NOOP waits for the RETR in progress");
    conn.commandDone();
    assert.equal(conn.nextEvent(), null);
    assert.equal(conn.dataToSend().toString(), "200 NOOP ok\r\n");
  });

  it("gives the REST offset to the next transfer command only", () => {
    const conn = loggedIn();
    const { events } = run(conn, "REST 1000\r\nTYPE I\r\nRETR f\r\n");
    assert.deepEqual(events, [{ type: "CommandReceived", verb: "RETR", arg: "f", offset: 1000 }]);
    conn.commandDone();
    assert.deepEqual(run(conn, "STOR g\r\n").events, [
      { type: "CommandReceived", verb: "STOR", arg: "g", offset: 0 },
    ]);
    conn.commandDone();
    run(conn, "REST 5\r\n");
    assert.equal(run(conn, "LIST\r\n").events.length, 1);
    conn.commandDone();
    assert.deepEqual(run(conn, "APPE g\r\n").events, [
      { type: "CommandReceived", verb: "APPE", arg: "g", offset: 0 },
    ]);
  });

  it("passes the accepted RNFR path to RNTO, and forgets it after any other command", () => {
    const conn = loggedIn();
    run(conn, "RNFR old\r\n");
    conn.acceptRenameFrom("old");
    conn.commandDone();
    assert.deepEqual(run(conn, "RNTO new\r\n").events, [
      { type: "CommandReceived", verb: "RNTO", arg: "new", offset: 0, renameFrom: "old" },
    ]);
    conn.commandDone();
    run(conn, "RNFR old\r\n");
    conn.acceptRenameFrom("old");
    conn.commandDone();
    run(conn, "NOOP\r\n");
    assert.deepEqual(run(conn, "RNTO new\r\n").replies, ["503 RNFR required first"]);
  });

  it("accepts PORT and EPRT to the client's own address only (no FTP bounce)", () => {
    const conn = loggedIn();
    assert.deepEqual(run(conn, "PORT 10,1,2,3,4,1\r\n").events, [
      {
        type: "CommandReceived",
        verb: "PORT",
        arg: "10,1,2,3,4,1",
        offset: 0,
        address: { host: "10.1.2.3", port: 1025 },
      },
    ]);
    conn.commandDone();
    const bounce = run(
      conn,
      "PORT 192,168,0,9,0,25\r\nEPRT |1|8.8.8.8|2000|\r\nPORT 10,1,2,3,0,25\r\nPORT 1,2\r\n",
    );
    assert.deepEqual(bounce.events, []);
    assert.match(
      bounce.replies[0]!,
      /^504 Illegal PORT command: data connections go to the client's own address/,
    );
    assert.match(bounce.replies[1]!, /^504 Illegal EPRT command/);
    assert.match(bounce.replies[2]!, /^504 Illegal PORT command: privileged port 25/);
    assert.match(bounce.replies[3]!, /^501 /);
  });

  it("accepts EPRT with the IPv4-mapped form of the client's address", () => {
    const conn = loggedIn({ peerHost: "::ffff:10.1.2.3" });
    assert.equal(run(conn, "EPRT |1|10.1.2.3|2000|\r\n").events.length, 1);
  });

  it("refuses PASV, PORT and EPRT after EPSV ALL", () => {
    const conn = loggedIn();
    assert.deepEqual(run(conn, "EPSV ALL\r\nPASV\r\nPORT 10,1,2,3,4,1\r\n").replies, [
      "200 EPSV ALL ok",
      "503 PASV not allowed after EPSV ALL",
      "503 PORT not allowed after EPSV ALL",
    ]);
    assert.equal(run(conn, "EPSV\r\n").events.length, 1);
  });

  it("turns a command error into its reply code", () => {
    const conn = loggedIn();
    run(conn, "RETR x\r\n");
    conn.replyError(new FileNotFoundError("x"));
    conn.replyError(new Error("boom"));
    assert.equal(
      conn.dataToSend().toString(),
      "550 x: No such file or directory\r\n451 Requested action aborted: local error in processing\r\n",
    );
  });

  it("stops wanting data once maxQueuedCommands lines wait", () => {
    const conn = loggedIn({ maxQueuedCommands: 3 });
    run(conn, "RETR x\r\n");
    assert.equal(conn.wantsData, true);
    run(conn, "NOOP\r\nNOOP\r\nNOOP\r\n");
    assert.equal(conn.wantsData, false);
    conn.commandDone();
    assert.equal(conn.nextEvent(), null);
    assert.equal(conn.wantsData, true);
  });

  it("closes with 421 on shutDown", () => {
    const conn = make();
    conn.shutDown("Idle timeout");
    assert.equal(conn.dataToSend().toString(), "421 Idle timeout\r\n");
    assert.equal(conn.closing, true);
  });
});
