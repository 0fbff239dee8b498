// Fuzz tests of the FTP server (FTP over a StringTransport, an in-memory shell, MemoryReactorClock):
// random and mutated command lines — bad PORT/EPRT arguments, paths with NUL, CR and "..",
// over-long lines — whole and in random splits. Nothing may escape dataReceived or be left
// unhandled; every reply is a well-formed FTP reply (no bare CR, LF or NUL echoed back); active
// connections go only to the client's own address; the tree holds only sane names; and the
// server still answers afterwards unless it closed the connection.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionLost } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { MemoryDirectory } from "../../src/protocols/ftp/index.js";
import { LogCapture } from "../../src/testing/index.js";
import { CLIENT, ServerHarness, settle } from "../ftp/_harness.js";
import { guardProcess, mutateMany, Rand, split } from "./_gen.js";

guardProcess();

/** Control characters echoed in replies (checked by the last test). */
const findings = new Set<string>();

const C = CLIENT.host.replaceAll(".", ",");

const COMMANDS = [
  "NOOP",
  "SYST",
  "FEAT",
  "PWD",
  "CWD dir",
  "CWD ..",
  "CWD ../../..",
  "CDUP",
  "TYPE I",
  "TYPE A",
  "TYPE E",
  "TYPE L 8",
  "MODE S",
  "STRU F",
  "SIZE a.txt",
  "MDTM a.txt",
  "MLST a.txt",
  "STAT",
  "STAT dir",
  "MKD new",
  "MKD dir/sub/deeper",
  "RMD dir/empty",
  "DELE a.txt",
  "RNFR a.txt",
  "RNTO b.txt",
  "RNTO ../../escape.txt",
  "REST 2",
  "REST -1",
  "REST 99999999999999999999999",
  "SITE CHMOD 777 a.txt",
  "SITE CHMOD 99999 a.txt",
  "SITE HELP",
  "PASV",
  "EPSV",
  "EPSV ALL",
  "EPSV 2",
  `PORT ${C},19,136`,
  "PORT 10,0,0,99,0,21",
  "PORT 127,0,0,1,0,25",
  "PORT 1,2,3",
  "PORT 256,0,0,1,1,1",
  `PORT ${C},999,999`,
  `EPRT |1|${CLIENT.host}|5000|`,
  "EPRT |2|::1|5000|",
  "EPRT |1|10.9.9.9|21|",
  "EPRT |3|x|1|",
  "EPRT ||||",
  "EPRT |1|1.2.3.4|99999|",
  "RETR a.txt",
  "RETR dir",
  "STOR up.txt",
  "APPE a.txt",
  "STOU",
  "LIST",
  "LIST -la dir",
  "NLST",
  "MLSD dir",
  "ABOR",
  "OPTS UTF8 ON",
  "OPTS MLST type;size;",
  "HELP",
  "ALLO 100",
  "USER bob",
  "PASS wrong",
  "ACCT x",
  "AUTH TLS",
  "PBSZ 0",
  "PROT P",
  "REIN",
  "XYZZY",
];

/** Paths that must stay inside the root or be refused. */
const NASTY_PATHS = [
  "../../../etc/passwd",
  "/../..",
  "a\0b",
  "dir/\0",
  "a\rb",
  "....//....//",
  "dir/./../dir/../..",
  "%2e%2e/",
  "~root",
  "",
  " ",
  "*",
  "dir/*",
  "\xff\xfe",
  "é/ü",
];

function randomLine(r: Rand): Buffer {
  const base = r.pick(COMMANDS);
  let line: Buffer;
  if (r.chance(0.25)) {
    const verb = base.split(" ")[0] as string;
    line = Buffer.from(`${verb} ${r.pick(NASTY_PATHS)}`, "latin1");
  } else {
    line = Buffer.from(base, "latin1");
  }
  if (r.chance(0.4)) line = mutateMany(r, line, 2);
  if (r.chance(0.03)) line = Buffer.concat([line, Buffer.alloc(r.pick([5000, 70000]), 0x61)]);
  return Buffer.concat([line, Buffer.from(r.chance(0.9) ? "\r\n" : "\n")]);
}

/** Every reply line is `NNN text`, `NNN-text`, or inside a multi-line reply; no bare CR/LF or NUL. */
function assertWellFormedReplies(out: Buffer, where: string): void {
  const text = out.toString("latin1");
  // NUL may appear: RFC 959 sends an LF inside a path name as NUL (and reads NUL as LF).
  const ctl = text.split("\r\n").find((l) => /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(l));
  if (ctl !== undefined)
    findings.add(`control character echoed: ${JSON.stringify(ctl.slice(0, 80))}`);
  assert.ok(text === "" || text.endsWith("\r\n"), `partial reply ${where}`);
  const lines = text.split("\r\n").slice(0, -1);
  let open: string | null = null;
  for (const line of lines) {
    assert.ok(
      !line.includes("\r") && !line.includes("\n"),
      `bare CR or LF in ${JSON.stringify(line)} ${where}`,
    );
    if (open !== null) {
      if (line.startsWith(`${open} `)) open = null;
      continue;
    }
    const m = /^([1-5]\d\d)([ -])/.exec(line);
    assert.ok(m !== null, `not an FTP reply: ${JSON.stringify(line.slice(0, 200))} ${where}`);
    if (m[2] === "-") open = m[1] as string;
  }
}

/** The names in the tree are plain names: no "/", NUL, "." or "..". */
function assertSaneTree(dir: MemoryDirectory, path = ""): void {
  for (const [name, child] of dir.children) {
    assert.ok(
      name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0"),
      `bad name in the tree: ${JSON.stringify(`${path}/${name}`)}`,
    );
    if (child instanceof MemoryDirectory) assertSaneTree(child, `${path}/${name}`);
  }
}

describe("fuzz: FTP server", () => {
  it("random and mutated command lines: well-formed replies, no bounce, sane tree, still serving", async () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      const cases = Math.round(80 * (Number(process.env.FUZZ_SCALE ?? "1") || 1));
      const shift = Number(process.env.FUZZ_SEED ?? "0") || 0;
      for (let i = 0; i < cases; i++) {
        const seed = ((41 + shift * 7919) * 1000003 + i) >>> 0;
        const r = new Rand(seed);
        const h = new ServerHarness(
          { "a.txt": "hello\nworld\n", dir: { "f.bin": Buffer.from([0, 1, 2]), empty: {} } },
          { maxLineLength: 1024 },
        );
        if (r.chance(0.8)) await h.login(r.chance(0.7) ? "alice" : "anonymous", "secret");
        const lines: Buffer[] = [];
        for (let k = r.range(3, 15); k > 0; k--) lines.push(randomLine(r));
        const input = Buffer.concat(lines);
        const where = `(seed ${seed}: ${JSON.stringify(input.toString("latin1").slice(0, 400))})`;
        const all: Buffer[] = [];
        for (const chunk of split(r, input, 2000)) {
          if (!h.transport.connected) break;
          h.protocol.dataReceived(chunk);
          if (r.chance(0.3)) {
            await settle();
            // Sometimes a data connection does come.
            if (r.chance(0.3) && h.reactor.ports.length > 0) {
              const port = h.lastPort();
              if (port.listening !== false) {
                try {
                  h.acceptData();
                } catch {
                  // A closed port refuses: fine.
                }
              }
            }
          }
        }
        await settle();
        h.reactor.advance(1);
        await settle();
        all.push(h.transport.value());
        h.transport.clear();
        assertWellFormedReplies(Buffer.concat(all), where);
        for (const [host] of h.reactor.tcpClients) {
          assert.equal(host, CLIENT.host, `an active connection to ${host} ${where}`);
        }
        assertSaneTree(h.root);
        if (h.transport.connected) {
          // A line end first: a Telnet IAC sequence may have eaten the last one.
          const replies = await h.send("\r\nNOOP");
          assert.ok(
            replies.some((l) => /^(200|421|530) /.test(l)) || replies.length === 0,
            `NOOP answered ${JSON.stringify(replies)} ${where}`,
          );
          h.protocol.connectionLost(new Failure(new ConnectionLost()));
        }
        h.reactor.advance(1000);
        await settle();
      }
    } finally {
      logs.stop();
    }
  });

  it("replies never echo control characters from the client's paths (NUL only as RFC 959's LF)", () => {
    assert.deepEqual([...findings], []);
  });
});
