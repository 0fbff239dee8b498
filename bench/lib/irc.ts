// IRC fan-out: a thousand clients in one channel, one sender, driven by bench/load/ircload.c.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, nodeArgv, runServerWorkload, type ServerPeer } from "./driver.js";
import { HeldLoad, runLoad, type ServerProcess, sleep } from "./procs.js";
import type { WorkloadResult } from "./results.js";
import { PYTHON } from "./tools.js";

/** PRIVMSGs the sender may have ahead of the last one every receiver has got. */
export const IRC_WINDOW = 100;
/** Milliseconds between the last client's join and the RSS reading. */
const SETTLE_MS = 1000;

/**
 * ngircd's configuration for `port`, written under the scratch directory: password `bench`
 * (the load generator always sends PASS), no PAM, ident or DNS, and its limits off —
 * connections per address, channels per user, and penalties (`MaxPenaltyTime = 0`).
 */
function ngircdConfig(ctx: Context, port: number): string {
  const dir = join(ctx.scratchDir, `ngircd-${port}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777); // it drops to user irc, which writes its PID file here
  const path = join(dir, "ngircd.conf");
  const text = `[Global]
Name = irc.bench
Info = twisted-ts benchmark peer
AdminInfo1 = twisted-ts benchmarks
AdminInfo2 = loopback
AdminEMail = nobody@localhost
Listen = 127.0.0.1
Ports = ${port}
MotdPhrase = bench
Password = bench
PidFile = ${dir}/ngircd.pid
ServerUID = irc
ServerGID = irc

[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600

[Options]
PAM = no
Ident = no
DNS = no
`;
  writeFileSync(path, text, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

/** The IRC servers: Twisted.ts (twisted-ts/words), ngircd and twisted.words. */
function ircPeers(ctx: Context): ServerPeer[] {
  return [
    {
      peer: "twisted-ts",
      label: "Twisted.ts IRCServer, flood control off (bench/servers/irc.ts)",
      argv: (port) => nodeArgv(ctx, "irc-fanout-twisted-ts", "bench/servers/irc.ts", [port]),
      missing: null,
    },
    {
      peer: "ngircd",
      label: "ngircd, penalties off (MaxPenaltyTime = 0)",
      argv: (port) => ["/usr/sbin/ngircd", "-n", "-f", ngircdConfig(ctx, port)],
      missing: ctx.avail.ngircd,
    },
    {
      peer: "twisted",
      label: "twisted.words IRCFactory (bench/servers/twisted-irc.py)",
      argv: (port) => [PYTHON, "bench/servers/twisted-irc.py", String(port)],
      missing: ctx.avail.twistedBatteries,
    },
  ];
}

function parseLast(stdout: string): Record<string, number> {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Record<string, number>;
  } catch {
    throw new Error(`Cannot parse ircload's output: ${line.slice(0, 200)}`);
  }
}

/** Workload 8: fan-out of channel messages to `ircClients` joined clients. */
export function ircFanout(ctx: Context): Promise<WorkloadResult> {
  const { ircClients: n, ircMessages: messages, ircSeconds: seconds } = ctx.settings;
  const ircload = ctx.tools.ircload ?? "ircload";
  const argv = (port: number): string[] =>
    [ircload, port, n, messages, seconds, IRC_WINDOW, 900, "b"].map(String);
  const warm = ctx.settings.warmUpSeconds;
  return runServerWorkload(ctx, {
    id: "irc-fanout",
    title: `IRC channel fan-out, ${n.toLocaleString("en")} clients`,
    description:
      `${n} clients and one sender register (PASS, NICK, USER; at most 8 at a time) and join ` +
      `#bench on a server started for the repetition (after a warm-up of 20 clients and 200 ` +
      `messages); bytes/client = (VmRSS ${SETTLE_MS} ms after the last join − VmRSS before the ` +
      `first connection) / ${n + 1}. Then the sender sends up to ${messages} PRIVMSGs for up to ` +
      `${seconds} s, at most ${IRC_WINDOW} ahead of the last one every client has received; ` +
      `deliveries/s = messages × ${n} receivers / time from the first message sent to its last ` +
      `delivery; CPU % = CPU time / that time, for the server and for ircload itself ` +
      `(\`ircload PORT ${n} ${messages} ${seconds} ${IRC_WINDOW} HOLD b\`, epoll, every line ` +
      `parsed, sequence numbers checked).`,
    primary: "deliveries_per_s",
    cpuKey: "cpu_us_per_delivery",
    higherIsBetter: true,
    secondary: { key: "bytes_per_client", label: "bytes/client", higherIsBetter: false },
    columns: [
      { key: "deliveries_per_s", label: "deliveries/s" },
      { key: "bytes_per_client", label: "bytes/client" },
      { key: "setup_s", label: "join s", digits: 1 },
      { key: "server_busy_pct", label: "server CPU %" },
      { key: "load_busy_pct", label: "ircload CPU %" },
      { key: "cpu_us_per_delivery", label: "server CPU µs/delivery", digits: 2 },
    ],
    peers: ircPeers(ctx),
    loadMissing: ctx.tools.missing,
    fresh: true,
    warmUp:
      warm > 0
        ? async (server) => {
            const w = [ircload, server.port, 20, 200, 1, IRC_WINDOW, 0, "w"].map(String);
            await runLoad(w, { cwd: ctx.root, timeoutMs: 120_000 });
          }
        : undefined,
    async measure(server: ServerProcess) {
      await sleep(500);
      const before = server.rss().rssKb;
      const { load, line } = await HeldLoad.start(argv(server.port), {
        cwd: ctx.root,
        timeoutMs: 300_000,
      });
      let after: number;
      let cpuUsed: number;
      let result: string;
      try {
        await sleep(SETTLE_MS);
        if (!server.alive) throw new Error("Server died holding the clients");
        after = server.rss().rssKb;
        const cpu = server.cpuSeconds();
        load.writeLine("go");
        result = await load.line(1, (seconds + 120) * 1000);
        // read before the clients leave: their QUITs cost the server a broadcast each
        cpuUsed = server.cpuSeconds() - cpu;
      } finally {
        await load.release();
      }
      const setup = JSON.parse(line) as Record<string, number>;
      const r = parseLast(result);
      if (r.deliveries === undefined || r.deliveries <= 0) throw new Error("No delivery");
      return {
        deliveries_per_s: r.deliveries_per_s!,
        fanout_p50_ms: r.fanout_p50_us! / 1000,
        bytes_per_client: ((after - before) * 1024) / (n + 1),
        setup_s: setup.setup_seconds!,
        cpu_us_per_delivery: (cpuUsed * 1e6) / r.deliveries,
        deliveries: r.deliveries,
        messages: r.messages!,
        // how busy each side was during the fan-out: a server well below 100% while ircload is
        // near it would mean the load generator limits the measurement
        server_busy_pct: (100 * cpuUsed) / r.seconds!,
        load_busy_pct: (100 * r.load_cpu_seconds!) / r.seconds!,
      };
    },
  });
}
