// Interoperability: our FTPClient against vsftpd (Debian's), in clear text and with explicit
// FTPS where vsftpd demands TLS session reuse on data connections (require_ssl_reuse=YES).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import {
  CommandFailed,
  type FTPClient,
  FTPFileListProtocol,
} from "../../src/protocols/ftp/index.js";
import { makeTestCertificates, type TestCertificates } from "../_helpers/certs.js";
import { freePort, requirePeer, run, type Started, start } from "../_helpers/proc.js";
import { connectClient, download, payload, tempDir, upload } from "./_loopback.js";

const VSFTPD = "/usr/sbin/vsftpd";
/** The local user vsftpd logs in (through PAM): made by the test when missing. */
const USER = "twistftp";
const PASSWORD = "twist-ftp-Pw1";

const reactor = new NodeReactor();
let dir: { path: string; remove(): Promise<void> };
let home: string;
let certs: TestCertificates;
let vsftpd: Started;
let port: number;
const DATA = payload(2 * 1024 * 1024 + 99);
const clients: FTPClient[] = [];

/** Makes the local user (idempotent): a shell from /etc/shells, a password, not in /etc/ftpusers. */
function ensureUser(): number {
  if (process.getuid?.() !== 0)
    throw new Error("The vsftpd interop test runs as root (it makes a local user)");
  try {
    execFileSync("id", ["-u", USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["--create-home", "--shell", "/bin/bash", USER]);
  }
  execFileSync("chpasswd", { input: `${USER}:${PASSWORD}\n` });
  return Number(execFileSync("id", ["-u", USER]).toString().trim());
}

function portOpen(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(p, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

before(async () => {
  requirePeer(VSFTPD, "vsftpd");
  const uid = ensureUser();
  certs = await makeTestCertificates();
  dir = await tempDir("ftp-vsftpd-");
  await chmod(dir.path, 0o755);
  home = join(dir.path, "home");
  await mkdir(home);
  await chown(home, uid, uid);
  await mkdir(join(dir.path, "empty"));
  port = await freePort();
  const config = join(dir.path, "vsftpd.conf");
  await writeFile(
    config,
    [
      "listen=YES",
      "listen_ipv6=NO",
      "listen_address=127.0.0.1",
      `listen_port=${port}`,
      "background=NO",
      "seccomp_sandbox=NO",
      "isolate=NO",
      "isolate_network=NO",
      "anonymous_enable=NO",
      "local_enable=YES",
      "write_enable=YES",
      `local_root=${home}`,
      "pam_service_name=vsftpd",
      "pasv_enable=YES",
      "pasv_address=127.0.0.1",
      "port_enable=YES",
      `secure_chroot_dir=${join(dir.path, "empty")}`,
      "xferlog_enable=NO",
      `vsftpd_log_file=${join(dir.path, "vsftpd.log")}`,
      "ssl_enable=YES",
      `rsa_cert_file=${certs.serverCertPath}`,
      `rsa_private_key_file=${certs.serverKeyPath}`,
      "require_ssl_reuse=YES",
      "force_local_logins_ssl=NO",
      "force_local_data_ssl=NO",
      "ssl_ciphers=HIGH",
      "",
    ].join("\n"),
  );
  vsftpd = start(VSFTPD, [config]);
  for (let i = 0; i < 400 && !(await portOpen(port)); i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.ok(await portOpen(port), `vsftpd did not start: ${vsftpd.output()}`);
});

after(async () => {
  for (const c of clients.splice(0))
    (c.transport as { abortConnection?: () => void } | null)?.abortConnection?.();
  await vsftpd?.stop("SIGTERM");
  await dir?.remove();
});

async function client(passive: boolean, tls: boolean): Promise<FTPClient> {
  const c = await connectClient(reactor, port, {
    passive,
    tls: tls ? "explicit" : false,
    tlsOptions: { ca: certs.caCert, servername: "localhost" },
  });
  clients.push(c);
  return c;
}

describe("interop: FTPClient against vsftpd", () => {
  it("vsftpd really refuses data connections that do not reuse the TLS session (control: curl --no-sessionid)", async () => {
    requirePeer("/usr/bin/curl", "curl");
    const r = await run("/usr/bin/curl", [
      "-sS",
      "--max-time",
      "10",
      "--ssl-reqd",
      "--cacert",
      certs.caCertPath,
      "--no-sessionid",
      `ftp://${USER}:${PASSWORD}@localhost:${port}/`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /522/);
  });

  for (const passive of [true, false]) {
    for (const tls of [false, true]) {
      const mode = `${passive ? "passive" : "active"}, ${tls ? "explicit FTPS, require_ssl_reuse" : "clear text"}`;
      it(`logs in, uploads, lists, downloads, resumes, renames and deletes (${mode})`, async () => {
        const c = await client(passive, tls);
        assert.match((await c.greeting).lines[0]!, /vsFTPd/);
        await c.login(USER, PASSWORD);
        const name = `file ${passive ? "p" : "a"}${tls ? "s" : ""}.bin`;
        assert.equal(await upload(c, name, DATA), 226);
        assert.deepEqual(await readFile(join(home, name)), DATA);
        assert.equal(await c.size(name), DATA.length);
        assert.ok((await download(c, name)).equals(DATA));
        assert.ok((await download(c, name, 54321)).equals(DATA.subarray(54321)));
        await upload(c, `half-${name}`, DATA.subarray(0, 700000));
        await upload(c, `half-${name}`, DATA.subarray(700000), 700000);
        assert.deepEqual(await readFile(join(home, `half-${name}`)), DATA);
        const listing = new FTPFileListProtocol();
        await c.list("", listing);
        assert.ok(listing.files.some((f) => f.filename === name && f.size === DATA.length));
        assert.equal((await c.modificationTime(name)).getUTCFullYear() >= 2024, true);
        await c.rename(name, `renamed-${name}`);
        await c.removeFile(`renamed-${name}`);
        await c.removeFile(`half-${name}`);
        const e = await c
          .removeFile(name)
          .asPromise()
          .then(
            () => null,
            (x: unknown) => x,
          );
        assert.equal((e as CommandFailed).reply.code, 550);
        assert.equal((await c.quit()).code, 221);
      });
    }
  }

  it("reports CommandFailed for MLSD, which vsftpd does not implement, and goes on", async () => {
    const c = await client(true, false);
    await c.login(USER, PASSWORD);
    await assert.rejects(c.mlsd().asPromise(), CommandFailed);
    assert.equal((await c.noop()).code, 200);
    await c.quit();
  });
});
