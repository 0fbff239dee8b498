// Interoperability: independent clients (Python's ftplib FTP and FTP_TLS, curl, lftp) against
// `twist ftp` run as a command, in clear text and with explicit FTPS.

import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { freePort, PYTHON, requirePeer, run, type Started } from "../_helpers/proc.js";
import { payload, startTwistFTP, tempDir } from "./_loopback.js";

const CURL = "/usr/bin/curl";
const LFTP = "/usr/bin/lftp";
let dir: { path: string; remove(): Promise<void> };
let root: string;
let certs: TestCertificates;
let twist: Started;
let port: number;
let local: string;
const DATA = payload(2 * 1024 * 1024 + 333);

before(async () => {
  requirePeer(PYTHON, "python3");
  requirePeer(CURL, "curl");
  requirePeer(LFTP, "lftp");
  certs = await makeTestCertificates();
  dir = await tempDir("ftp-interop-");
  root = join(dir.path, "root");
  await mkdir(root);
  local = join(dir.path, "local.bin");
  await writeFile(local, DATA);
  port = await freePort();
  twist = await startTwistFTP(port, root, [
    "--tls-key",
    certs.serverKeyPath,
    "--tls-cert",
    certs.serverCertPath,
  ]);
});

after(async () => {
  await twist?.stop("SIGTERM");
  await dir?.remove();
});

const url = (path: string): string => `ftp://alice:secret@localhost:${port}/${path}`;

async function curl(
  args: string[],
  tls: boolean,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tlsArgs = tls ? ["--ssl-reqd", "--cacert", certs.caCertPath] : [];
  return run(CURL, ["-sS", "--max-time", "20", ...tlsArgs, ...args], { timeoutMs: 25000 });
}

describe("interop: Python ftplib against twist ftp", () => {
  for (const mode of ["plain", "tls"] as const) {
    it(`logs in, uploads, lists, downloads, resumes both ways, renames and deletes (${mode === "tls" ? "FTP_TLS" : "FTP"})`, async () => {
      const r = await run(
        PYTHON,
        [
          "test/ftp/fixtures/ftplib_session.py",
          "localhost",
          String(port),
          "alice",
          "secret",
          mode,
          certs.caCertPath,
          local,
        ],
        { timeoutMs: 30000 },
      );
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.match(String(report.welcome), /^220 /);
      assert.match(String(report.login), /^230 /);
      if (mode === "tls") assert.match(String(report.prot), /^200 /);
      assert.equal(report.pwd, "/py dir é");
      assert.match(String(report.stor), /^226 /);
      assert.equal(report.size, DATA.length);
      assert.equal(report.same, true);
      assert.equal(report.resumed_download, true);
      assert.equal(report.resumed_upload, true);
      assert.deepEqual(report.nlst, ["half.bin", "up load.bin"]);
      assert.equal((report.list as string[]).length, 2);
      assert.match((report.list as string[])[1]!, / up load\.bin$/);
      assert.deepEqual(report.mlsd, [
        ["half.bin", "file", String(DATA.length)],
        ["up load.bin", "file", String(DATA.length)],
      ]);
      assert.match(String(report.rename), /^250 /);
      assert.equal(report.traversal, "550");
      assert.match(String(report.rmd), /^250 /);
      assert.match(String(report.quit), /^221 /);
    });
  }
});

describe("interop: curl against twist ftp", () => {
  for (const tls of [false, true]) {
    const mode = tls ? "--ssl-reqd" : "ftp://";
    it(`uploads, lists, downloads, resumes, renames and deletes (${mode})`, async () => {
      const name = tls ? "curl-tls.bin" : "curl.bin";
      let r = await curl(["-T", local, url(name)], tls);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(join(root, name)), DATA);
      const out = join(dir.path, `down-${name}`);
      r = await curl(["-o", out, url(name)], tls);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(out), DATA);
      // Resume a download: keep the first 100000 bytes and fetch the rest.
      const partial = join(dir.path, `partial-${name}`);
      await writeFile(partial, DATA.subarray(0, 100000));
      r = await curl(["-C", "-", "-o", partial, url(name)], tls);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(partial), DATA);
      // Resume an upload: half of it is there, curl sends the rest.
      await writeFile(join(root, `up-${name}`), DATA.subarray(0, 500000));
      r = await curl(["-C", "-", "-T", local, url(`up-${name}`)], tls);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(join(root, `up-${name}`)), DATA);
      r = await curl([url("")], tls);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(` ${name.replace(".", "\\.")}\\r?\\n`));
      r = await curl(["--list-only", url("")], tls);
      assert.ok(r.stdout.split(/\r?\n/).includes(name));
      r = await curl(
        ["-Q", `RNFR ${name}`, "-Q", `RNTO renamed-${name}`, "-Q", `DELE up-${name}`, url("")],
        tls,
      );
      assert.equal(r.code, 0, r.stderr);
      await stat(join(root, `renamed-${name}`));
      await assert.rejects(stat(join(root, `up-${name}`)));
      r = await curl(["-Q", `DELE renamed-${name}`, url("")], tls);
      assert.equal(r.code, 0, r.stderr);
      await assert.rejects(stat(join(root, `renamed-${name}`)));
    });
  }

  it("is refused paths outside the root, encoded or not", async () => {
    const r = await curl(
      ["-o", join(dir.path, "x"), `ftp://alice:secret@localhost:${port}/%2e%2e/%2e%2e/etc/passwd`],
      false,
    );
    assert.notEqual(r.code, 0);
    const r2 = await curl(
      [
        "-o",
        join(dir.path, "x"),
        `ftp://alice:secret@localhost:${port}/../../etc/passwd`,
        "--path-as-is",
      ],
      false,
    );
    assert.notEqual(r2.code, 0);
  });
});

describe("interop: lftp against twist ftp", () => {
  it("mirrors a file up and down over explicit FTPS with protected data", async () => {
    const script = [
      `set ssl:ca-file ${certs.caCertPath}`,
      "set ftp:ssl-force true",
      "set ftp:ssl-protect-data true",
      "set net:max-retries 1",
      `open -u alice,secret -p ${port} localhost`,
      `put ${local} -o lftp.bin`,
      `get lftp.bin -o ${join(dir.path, "lftp-down.bin")}`,
      "ls",
      "mv lftp.bin lftp2.bin",
      "rm lftp2.bin",
    ].join("; ");
    const r = await run(LFTP, ["-c", script], { timeoutMs: 30000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, / lftp\.bin\r?\n/);
    assert.deepEqual(await readFile(join(dir.path, "lftp-down.bin")), DATA);
    await assert.rejects(stat(join(root, "lftp2.bin")));
  });
});
