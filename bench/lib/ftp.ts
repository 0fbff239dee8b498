// FTP transfers: one large RETR and one large STOR through each server, with curl as client.
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Context, nodeArgv, runServerWorkload, type ServerPeer } from "./driver.js";
import {
  processTree,
  runLoad,
  type ServerProcess,
  sleep,
  TreeFollower,
  waitForSessionsEnded,
} from "./procs.js";
import type { WorkloadResult } from "./results.js";
import { PYTHON } from "./tools.js";

const MIB = 2 ** 20;

/** An FTP server under test and the account the client logs in with. */
interface FtpPeer extends ServerPeer {
  user: string;
  password: string;
}

/**
 * The served folder: on tmpfs (/dev/shm) when there is one, so that uploads cost no disk, else
 * under the scratch directory. It holds `download.bin` (sparse) and `up/`, writable by all
 * (vsftpd's anonymous sessions write as user `ftp`); the folder itself is not writable by
 * them, as vsftpd requires of a chroot.
 */
function ftpRoot(ctx: Context, bytes: number): { root: string; tmpfs: boolean } {
  let base = ctx.scratchDir;
  try {
    accessSync("/dev/shm", constants.W_OK);
    base = "/dev/shm";
  } catch {
    // no tmpfs here
  }
  const root = join(base, `twisted-ts-bench-ftp-${process.pid}`);
  mkdirSync(join(root, "up"), { recursive: true });
  chmodSync(root, 0o755);
  chmodSync(join(root, "up"), 0o777);
  const file = join(root, "download.bin");
  const fd = openSync(file, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
  chmodSync(file, 0o644);
  return { root, tmpfs: base === "/dev/shm" };
}

/** vsftpd's configuration for `port`: anonymous sessions, uploads to `up/`, passive mode. */
function vsftpdConfig(ctx: Context, root: string, port: number): string {
  const dir = join(ctx.scratchDir, `vsftpd-${port}`);
  const empty = join(dir, "empty");
  mkdirSync(empty, { recursive: true });
  chmodSync(empty, 0o755);
  const path = join(dir, "vsftpd.conf");
  const lines = [
    "listen=YES",
    "listen_ipv6=NO",
    "listen_address=127.0.0.1",
    `listen_port=${port}`,
    "background=NO",
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    "anonymous_enable=YES",
    "local_enable=NO",
    "write_enable=YES",
    "anon_upload_enable=YES",
    `anon_root=${root}`,
    "no_anon_password=YES",
    "ftp_username=ftp",
    "pasv_enable=YES",
    "pasv_address=127.0.0.1",
    `secure_chroot_dir=${empty}`,
    "xferlog_enable=NO",
    "dirmessage_enable=NO",
    "max_clients=0",
    "max_per_ip=0",
    `vsftpd_log_file=${join(dir, "vsftpd.log")}`,
    "",
  ];
  writeFileSync(path, lines.join("\n"));
  return path;
}

function ftpPeers(ctx: Context, root: string): FtpPeer[] {
  return [
    {
      peer: "twisted-ts",
      label: "Twisted.ts `twist ftp`",
      argv: (port) =>
        nodeArgv(ctx, "ftp-twisted-ts", "bin/twist.js", [
          "ftp",
          "--listen",
          `tcp:${port}:interface=127.0.0.1`,
          "--root",
          root,
          "--auth",
          "memory:bench:bench",
        ]),
      missing: ctx.avail.twistFtp,
      user: "bench",
      password: "bench",
    },
    {
      peer: "vsftpd",
      label: "vsftpd (anonymous, a process per session)",
      argv: (port) => ["/usr/sbin/vsftpd", vsftpdConfig(ctx, root, port)],
      missing: ctx.avail.vsftpd,
      user: "anonymous",
      password: "bench@",
    },
    {
      peer: "twisted",
      label: "twisted.protocols.ftp FTPFactory (bench/servers/twisted-ftp.py)",
      argv: (port) => [PYTHON, "bench/servers/twisted-ftp.py", String(port), root],
      missing: ctx.avail.twistedBatteries,
      user: "bench",
      password: "bench",
    },
  ];
}

interface Transfer {
  bytes: number;
  seconds: number;
}

/**
 * One curl transfer (`-T file` uploads): passive mode with PASV (EPSV off, the same for every
 * server). The time is curl's transfer phase: total time − pre-transfer time (connect, login,
 * PASV and the command), so that MB/s is the data connection's.
 */
async function curl(ctx: Context, url: string, upload: string | null): Promise<Transfer> {
  const argv = ["curl", "-sS", "--disable-epsv", "--max-time", "600"];
  argv.push("-w", "%{size_download} %{size_upload} %{time_pretransfer} %{time_total}\\n");
  if (upload === null) argv.push("-o", "/dev/null", url);
  else argv.push("-T", upload, url);
  const { stdout } = await runLoad(argv, { cwd: ctx.root, timeoutMs: 660_000 });
  const [down, up, pre, total] = stdout.trim().split("\n").pop()!.split(" ").map(Number);
  const seconds = total! - pre!;
  if (!(seconds > 0)) throw new Error(`curl reported no transfer time: ${stdout.trim()}`);
  return { bytes: upload === null ? down! : up!, seconds };
}

/** The server's CPU time spent on `run`, with the sessions it forked (once they have ended). */
async function followed<T>(
  server: ServerProcess,
  follower: TreeFollower,
  run: () => Promise<T>,
): Promise<{ value: T; cpu: number }> {
  const before = processTree(server.pid);
  const cpu = follower.cpuSeconds();
  const value = await run();
  await waitForSessionsEnded(server.pid, before, 10_000);
  return { value, cpu: follower.cpuSeconds() - cpu };
}

/** Workload 9: a RETR and a STOR of `ftpBytes` through each FTP server. */
export async function ftpTransfers(ctx: Context): Promise<WorkloadResult> {
  const bytes = ctx.settings.ftpBytes;
  const { root, tmpfs } = ftpRoot(ctx, bytes);
  const where = tmpfs ? "on tmpfs" : "on disk (no /dev/shm)";
  let rep = 0;
  try {
    return await runServerWorkload(ctx, {
      id: "ftp",
      title: "FTP transfers",
      description:
        `On a server started for the repetition, one passive-mode download of a ` +
        `${bytes / MIB} MiB file (sparse, ${where}) and one upload of the same size ${where}, ` +
        `each by curl (\`curl --disable-epsv -o /dev/null ftp://…/download.bin\`, ` +
        `\`curl --disable-epsv -T FILE ftp://…/up/…\`); MB/s = 10^6 bytes / curl's transfer ` +
        `time (total − pre-transfer); the uploaded file's size is checked. Peak RSS = the sum ` +
        `of VmHWM of the server and the session processes it forks (vsftpd), and server CPU ` +
        `includes theirs, both read every 20 ms.`,
      primary: "retr_mb_per_s",
      cpuKey: "retr_cpu_ms_per_mb",
      higherIsBetter: true,
      secondary: { key: "stor_mb_per_s", label: "upload MB/s", higherIsBetter: true },
      columns: [
        { key: "retr_mb_per_s", label: "download MB/s" },
        { key: "stor_mb_per_s", label: "upload MB/s" },
        { key: "peak_rss_mb", label: "server peak RSS MiB", digits: 1 },
        { key: "retr_cpu_ms_per_mb", label: "server CPU ms/MB down", digits: 2 },
        { key: "stor_cpu_ms_per_mb", label: "server CPU ms/MB up", digits: 2 },
      ],
      peers: ftpPeers(ctx, root),
      loadMissing: ctx.avail.curl,
      fresh: true,
      async measure(server: ServerProcess, peer: ServerPeer) {
        const { user, password } = peer as FtpPeer;
        const base = `ftp://${user}:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;
        const name = `upload-${process.pid}-${rep++}.bin`;
        const uploaded = join(root, "up", name);
        await sleep(300);
        const follower = new TreeFollower(server.pid);
        try {
          const down = await followed(server, follower, () =>
            curl(ctx, `${base}/download.bin`, null),
          );
          if (down.value.bytes !== bytes) {
            throw new Error(`Downloaded ${down.value.bytes} bytes of ${bytes}`);
          }
          const up = await followed(server, follower, () =>
            curl(ctx, `${base}/up/${name}`, join(root, "download.bin")),
          );
          const stored = existsSync(uploaded) ? statSync(uploaded).size : -1;
          if (up.value.bytes !== bytes || stored !== bytes) {
            throw new Error(`Uploaded ${up.value.bytes} bytes of ${bytes}; the file has ${stored}`);
          }
          return {
            retr_mb_per_s: bytes / down.value.seconds / 1e6,
            stor_mb_per_s: bytes / up.value.seconds / 1e6,
            peak_rss_mb: follower.peakKb() / 1024,
            retr_cpu_ms_per_mb: (down.cpu * 1e3) / (bytes / 1e6),
            stor_cpu_ms_per_mb: (up.cpu * 1e3) / (bytes / 1e6),
            retr_bytes: down.value.bytes,
            stor_bytes: stored,
          };
        } finally {
          follower.stop();
          rmSync(uploaded, { force: true });
        }
      },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
