// The `twist` command: runs a plugin's service on the reactor until SIGINT/SIGTERM.

import { createWriteStream } from "node:fs";
import { pathToFileURL } from "node:url";
import { StreamServerEndpointService } from "../application/_internet.js";
import { type IServiceMaker, UsageError } from "../application/_plugin.js";
import type { IService } from "../application/_service.js";
import type { NodeReactor } from "../internet/_reactor.js";
import {
  FilteringLogObserver,
  globalLogBeginner,
  jsonFileLogObserver,
  Logger,
  LogLevel,
  LogLevelFilterPredicate,
  textFileLogObserver,
} from "../logger/index.js";
import { globalUsage, parseGlobal, parsePluginArgs, pluginUsage } from "./_args.js";
import { builtinCommands, builtinPlugins } from "./_registry.js";
import { runWorkers } from "./_workers.js";

const log = new Logger("twist");

/** Exit code for a bad command line (BSD `EX_USAGE`). */
export const EX_USAGE = 64;

/** Where `twist` writes, and the reactor it runs on (injectable for tests). */
export interface TwistIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  reactor?: NodeReactor;
}

async function loadPlugin(path: string): Promise<IServiceMaker[]> {
  const url = /^[a-z]+:/i.test(path) ? path : pathToFileURL(path).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const makers = Object.values(mod).filter(
    (v): v is IServiceMaker =>
      typeof v === "object" &&
      v !== null &&
      typeof (v as IServiceMaker).makeService === "function" &&
      typeof (v as IServiceMaker).name === "string",
  );
  if (makers.length === 0) {
    throw new UsageError(`Plugin module ${path} exports no service maker (name, makeService)`);
  }
  return makers;
}

function startLogging(options: ReturnType<typeof parseGlobal>["options"], io: TwistIO): void {
  const stream =
    options.logFile === "-" ? io.stdout : createWriteStream(options.logFile, { flags: "a" });
  const observer =
    options.logFormat === "json" ? jsonFileLogObserver(stream) : textFileLogObserver(stream);
  let level: LogLevel;
  try {
    level = LogLevel.levelWithName(options.logLevel);
  } catch {
    throw new UsageError(`Invalid --log-level: ${options.logLevel}`);
  }
  const predicate = new LogLevelFilterPredicate(level);
  globalLogBeginner.beginLoggingTo([new FilteringLogObserver(observer, [predicate])]);
}

function* walk(service: IService): Generator<IService> {
  yield service;
  const children = service as unknown as { [Symbol.iterator]?: () => Iterator<IService> };
  if (typeof children[Symbol.iterator] === "function") {
    for (const child of children as unknown as Iterable<IService>) yield* walk(child);
  }
}

/**
 * Runs `twist` with `argv` (without the node and script paths). Resolves with the process exit
 * code: 0 after a clean stop, 64 for a bad command line, 1 when the service failed to start.
 */
export async function main(argv: readonly string[], io: TwistIO = process): Promise<number> {
  try {
    return await runTwist(argv, io);
  } finally {
    // A cluster worker's IPC channel would keep it alive: let go of it once done (also after a
    // usage error). Through the worker, not process.disconnect(): on a bare disconnect the
    // cluster module calls process.exit(0), losing the exit code.
    const cluster = (await import("node:cluster")).default;
    if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
  }
}

async function runTwist(argv: readonly string[], io: TwistIO): Promise<number> {
  let plugins: IServiceMaker[] = [...builtinPlugins()];
  let parsed: ReturnType<typeof parseGlobal>;
  const listing = () => [
    ...plugins.map((p) => ({ name: p.name, description: p.description })),
    ...builtinCommands().map((c) => ({ name: c.name, description: c.description })),
  ];
  try {
    parsed = parseGlobal(argv);
    for (const path of parsed.options.plugins) plugins = [...plugins, ...(await loadPlugin(path))];
  } catch (e) {
    io.stderr.write(
      `twist: ${e instanceof Error ? e.message : String(e)}\n\n${globalUsage(listing())}\n`,
    );
    return EX_USAGE;
  }
  const { options, plugin, rest } = parsed;
  if (options.version) {
    io.stdout.write(`twisted-ts ${await packageVersion()}\n`);
    return 0;
  }
  if (options.help) {
    io.stdout.write(`${globalUsage(listing())}\n`);
    return 0;
  }
  if (plugin === null) {
    io.stderr.write(`twist: no plugin given\n\n${globalUsage(listing())}\n`);
    return EX_USAGE;
  }
  const command = builtinCommands().find((c) => c.name === plugin);
  if (command !== undefined) return command.run(rest, io);
  const maker = plugins.find((p) => p.name === plugin);
  if (maker === undefined) {
    io.stderr.write(`twist: unknown plugin: ${plugin}\n\n${globalUsage(listing())}\n`);
    return EX_USAGE;
  }
  let pluginOptions: ReturnType<typeof parsePluginArgs>;
  try {
    pluginOptions = parsePluginArgs(maker, rest);
  } catch (e) {
    io.stderr.write(`twist ${maker.name}: ${(e as Error).message}\n\n${pluginUsage(maker)}\n`);
    return EX_USAGE;
  }
  if (pluginOptions === null) {
    io.stdout.write(`${pluginUsage(maker)}\n`);
    return 0;
  }
  if (options.workers > 1) {
    const cluster = (await import("node:cluster")).default;
    if (cluster.isPrimary) {
      try {
        startLogging(options, io);
      } catch (e) {
        io.stderr.write(`twist: ${(e as Error).message}\n`);
        return EX_USAGE;
      }
      return runWorkers(options.workers);
    }
  }
  const reactor = io.reactor ?? (await import("../internet/_reactor.js")).reactor;
  let service: IService;
  try {
    startLogging(options, io);
    service = await maker.makeService(pluginOptions, {
      reactor,
      print: (line) => io.stdout.write(`${line}\n`),
    });
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`twist ${maker.name}: ${(e as Error).message}\n\n${pluginUsage(maker)}\n`);
      return EX_USAGE;
    }
    io.stderr.write(`twist ${maker.name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let exitCode = 0;
  reactor.callWhenRunning(() => {
    service.privilegedStartService();
    service.startService();
    for (const s of walk(service)) {
      if (s instanceof StreamServerEndpointService) {
        s.whenListening().addCallbacks(
          (port) => {
            log.info("{plugin} listening on {address}", {
              plugin: maker.name,
              address: String(port.getHost()),
            });
            return null;
          },
          () => {
            exitCode = 1;
            if (reactor.running) reactor.stop();
            return null;
          },
        );
      }
    }
  });
  reactor.addSystemEventTrigger("before", "shutdown", () => service.stopService());
  await reactor.run();
  // An IPC channel (other than a cluster worker's, let go of by main) would keep us alive.
  const cluster = (await import("node:cluster")).default;
  if (!cluster.isWorker && process.connected && typeof process.disconnect === "function") {
    process.disconnect();
  }
  return exitCode;
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}
