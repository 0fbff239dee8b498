// What the benchmarks need from the machine: C tools built with gcc, peers present, versions.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { canPin, LOAD_CPU, SERVER_CPU } from "./procs.js";

/** Debian's Python, which has `python3-twisted` (not a pyenv or venv python earlier on PATH). */
export const PYTHON = "/usr/bin/python3";

/** The C programs compiled at bench time, or why they could not be. */
export interface Tools {
  /** `bench/load/tcpload.c`, built. */
  tcpload: string | null;
  /** `bench/servers/epoll-echo.c`, built. */
  epollEcho: string | null;
  /** `bench/load/ircload.c`, built. */
  ircload: string | null;
  /** Why the C tools are missing (gcc absent or a compile error). */
  missing: string | null;
}

function run(cmd: string, args: readonly string[], cwd?: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

function tryRun(cmd: string, args: readonly string[], cwd?: string): string | null {
  try {
    return run(cmd, args, cwd);
  } catch {
    return null;
  }
}

/** Compiles the C load generator and the C epoll echo server into `outDir` with `gcc -O2`. */
export function buildTools(root: string, outDir: string): Tools {
  if (tryRun("gcc", ["--version"]) === null) {
    const missing = "gcc not found (apt-get install gcc)";
    return { tcpload: null, epollEcho: null, ircload: null, missing };
  }
  mkdirSync(outDir, { recursive: true });
  const build = (source: string, name: string): string => {
    const out = join(outDir, name);
    try {
      run("gcc", ["-O2", "-Wall", "-o", out, join(root, source)]);
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr ?? String(e);
      throw new Error(`Cannot compile ${source}: ${stderr.trim().split("\n")[0]}`);
    }
    return out;
  };
  try {
    return {
      tcpload: build("bench/load/tcpload.c", "tcpload"),
      epollEcho: build("bench/servers/epoll-echo.c", "epoll-echo"),
      ircload: build("bench/load/ircload.c", "ircload"),
      missing: null,
    };
  } catch (e) {
    return { tcpload: null, epollEcho: null, ircload: null, missing: (e as Error).message };
  }
}

/** Why a peer cannot run on this machine, by peer; absent when it can. */
export interface Availability {
  /** Real Twisted (`/usr/bin/python3` with `twisted.web`). */
  twisted: string | null;
  /** `wrk`, the HTTP load generator. */
  wrk: string | null;
  /** The Twisted.ts web battery (`src/web/index.ts`). */
  web: string | null;
  /** The `twist web` plugin (the static file workload). */
  twistWeb: string | null;
  /** Real Twisted's IRC and FTP servers (`twisted.words.service`, `twisted.protocols.ftp`). */
  twistedBatteries: string | null;
  /** The `twist ftp` plugin. */
  twistFtp: string | null;
  /** ngircd, run as root (it drops to user `irc`). */
  ngircd: string | null;
  /** vsftpd, run as root (it chroots anonymous sessions). */
  vsftpd: string | null;
  /** curl, the FTP client. */
  curl: string | null;
}

/** Why `twist web` cannot run here (its `--help` fails), or null when it can. */
export function checkTwistWeb(root: string): string | null {
  return checkTwistPlugin(root, "web");
}

/** Why `twist <plugin>` cannot run here (its `--help` fails), or null when it can. */
export function checkTwistPlugin(root: string, plugin: string): string | null {
  const r = spawnSync(process.execPath, ["bin/twist.js", plugin, "--help"], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.status === 0) return null;
  const why = `${r.stderr ?? ""}\n${r.stdout ?? ""}`.trim().split("\n")[0] ?? "";
  return `\`twist ${plugin}\` is not available yet (${why || `exit status ${r.status}`})`;
}

/** Why a root-only daemon at `path` cannot run here, or null. */
function checkDaemon(path: string, pkg: string): string | null {
  if (!existsSync(path)) return `${path} not found (apt-get install ${pkg})`;
  if (process.getuid?.() !== 0) return `${pkg} needs root to start (it drops privileges itself)`;
  return null;
}

/** Checks which peers and load generators this machine has. */
export function checkAvailability(root: string): Availability {
  const twisted =
    tryRun(PYTHON, ["-c", "import twisted.web.server"]) === null
      ? `real Twisted not found (${PYTHON} cannot import twisted.web; apt-get install python3-twisted)`
      : null;
  const wrk =
    tryRun("bash", ["-c", "command -v wrk"]) === null
      ? "wrk not found (apt-get install wrk)"
      : null;
  const web = existsSync(join(root, "src/web/index.ts"))
    ? null
    : "web battery not built yet (src/web/index.ts does not exist)";
  const twistedBatteries =
    twisted ??
    (tryRun(PYTHON, ["-c", "import twisted.words.service, twisted.protocols.ftp"]) === null
      ? `${PYTHON} cannot import twisted.words.service or twisted.protocols.ftp`
      : null);
  const curl =
    tryRun("bash", ["-c", "command -v curl"]) === null
      ? "curl not found (apt-get install curl)"
      : null;
  return {
    twisted,
    wrk,
    web,
    twistWeb: web ?? checkTwistWeb(root),
    twistedBatteries,
    twistFtp: checkTwistPlugin(root, "ftp"),
    ngircd: checkDaemon("/usr/sbin/ngircd", "ngircd"),
    vsftpd: checkDaemon("/usr/sbin/vsftpd", "vsftpd"),
    curl,
  };
}

/** The machine and the software versions of a run. */
export interface MachineInfo {
  date: string;
  cpu: string;
  cpus: number;
  pinning: string;
  kernel: string;
  memoryGiB: number;
  node: string;
  tsx: string;
  python: string;
  twisted: string;
  gcc: string;
  wrk: string;
  /** Debian versions of the other peers and clients (ngircd, vsftpd, curl). */
  packages?: string;
  commit: string;
}

/** dpkg-query's output format: "name version" per package (dpkg's own placeholders). */
const DPKG_FORMAT = ["$", "{Package} $", "{Version}\n"].join("");

function firstLine(text: string | null): string {
  return text === null ? "not found" : (text.trim().split("\n")[0] ?? "").trim();
}

/** Describes the machine, the versions of every program involved, and the git commit. */
export function machineInfo(root: string): MachineInfo {
  const tsxPackage = join(root, "node_modules/tsx/package.json");
  const tsx = existsSync(tsxPackage)
    ? (JSON.parse(readFileSync(tsxPackage, "utf8")) as { version: string }).version
    : "not found";
  const commit = firstLine(tryRun("git", ["rev-parse", "--short", "HEAD"], root));
  const dirty = tryRun("git", ["status", "--porcelain", "--", "src"], root);
  const wrkVersion = (() => {
    try {
      execFileSync("wrk", ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return "unknown";
    } catch (e) {
      // `wrk -v` prints its version and exits with status 1
      return firstLine((e as { stdout?: string }).stdout ?? null);
    }
  })();
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? "unknown",
    cpus: cpus().length,
    pinning: canPin()
      ? `servers on CPU ${SERVER_CPU}, load generators on CPU ${LOAD_CPU} (taskset)`
      : "not pinned (fewer than 2 CPUs)",
    kernel: `Linux ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    tsx,
    python: firstLine(tryRun(PYTHON, ["--version"])),
    twisted: firstLine(tryRun(PYTHON, ["-c", "import twisted; print(twisted.__version__)"])),
    gcc: firstLine(tryRun("gcc", ["--version"])),
    wrk: wrkVersion.replace(/ Copyright.*$/, ""),
    packages: (
      tryRun("dpkg-query", ["-W", "-f", DPKG_FORMAT, "ngircd", "vsftpd", "curl"]) ??
      "ngircd, vsftpd, curl: versions unknown (no dpkg-query)"
    )
      .trim()
      .split("\n")
      .join(", "),
    commit:
      dirty !== null && dirty.trim() !== "" ? `${commit} (src/ has uncommitted changes)` : commit,
  };
}
