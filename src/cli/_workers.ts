// `twist --workers N`: a primary process that forks N workers sharing the listening sockets.

import cluster, { type Worker } from "node:cluster";
import { Logger } from "../logger/index.js";

const log = new Logger("twist.workers");

/** Most restarts of crashed workers before the primary gives up. */
const MAX_RESTARTS = 10;

/** A worker's exit code for a bad command line (`EX_USAGE`): restarting cannot help. */
const EX_USAGE = 64;

/**
 * Forks `count` workers running the same command line (Node's `cluster` shares each listening
 * socket among them), restarts a worker that dies unexpectedly, and on SIGINT/SIGTERM stops
 * them all. A worker that finds a usage error (exit code 64, e.g. a bad `--listen`, which only
 * the workers parse) stops them all too. Resolves with the exit code once every worker is gone.
 */
export function runWorkers(count: number): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let restarts = 0;
    let exitCode = 0;
    const live = new Set<Worker>();
    const fork = () => {
      const worker = cluster.fork();
      live.add(worker);
      worker.on("exit", (code, signal) => {
        live.delete(worker);
        if (!stopping && code === EX_USAGE) {
          exitCode = EX_USAGE;
          stop();
        } else if (!stopping && code !== 0) {
          if (restarts < MAX_RESTARTS) {
            restarts++;
            log.warn("Worker {pid} died ({why}); starting another", {
              pid: worker.process.pid,
              why: signal ?? `exit code ${code}`,
            });
            fork();
            return;
          }
          log.error("Workers keep dying; giving up");
          exitCode = 1;
          stop();
        }
        if (live.size === 0) finish();
      });
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of live) w.process.kill("SIGTERM");
    };
    const finish = () => {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
      resolve(exitCode);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    log.info("Starting {count} workers", { count });
    for (let i = 0; i < count; i++) fork();
  });
}
