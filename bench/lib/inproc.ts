// Workload 6: in-process microbenchmarks (Deferred chain, LineReceiver), one process per repetition.
import { type Context, nodeArgv, selectPeers } from "./driver.js";
import { runLoad, SERVER_CPU } from "./procs.js";
import { emptyRow, finish, missingRow, type Row, type WorkloadResult } from "./results.js";
import { PYTHON } from "./tools.js";

interface MicroOutput {
  result: Record<string, { perRound: number[]; median: number }>;
}

async function runMicro(ctx: Context, argv: string[]): Promise<MicroOutput> {
  const { stdout } = await runLoad(argv, { cwd: ctx.root, timeoutMs: 300_000, cpu: SERVER_CPU });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as MicroOutput;
}

interface MicroSpec {
  id: "deferred" | "lines";
  title: string;
  description: string;
  metric: string;
  label: string;
  count: number;
  /** Real Twisted is much slower: it runs `count / twistedDivisor` (a rate is a rate). */
  twistedDivisor: number;
  /** The Node process's variants: peer id → label. */
  nodeVariants: Record<string, string>;
  twistedLabel: string;
}

async function runMicroWorkload(ctx: Context, spec: MicroSpec): Promise<WorkloadResult> {
  const t0 = Date.now();
  const rounds = ctx.settings.microRounds;
  const rows: Row[] = Object.entries(spec.nodeVariants).map(([peer, label]) =>
    emptyRow(peer, label),
  );
  rows.push(
    ctx.avail.twisted === null
      ? emptyRow("twisted", spec.twistedLabel)
      : missingRow("twisted", spec.twistedLabel, ctx.avail.twisted),
  );
  const wanted = new Set(selectPeers(ctx, rows).map((r) => r.peer));
  const micro = nodeArgv(ctx, `${spec.id}-micro`, "bench/micro/micro.ts", []);
  const nodeRows = rows.filter((r) => r.peer in spec.nodeVariants && wanted.has(r.peer));
  const twistedRow = rows.find(
    (r) => r.peer === "twisted" && wanted.has(r.peer) && r.status === "ok",
  );
  for (let rep = 0; rep < ctx.settings.reps; rep++) {
    if (nodeRows.length > 0) {
      try {
        const out = await runMicro(ctx, [...micro, spec.id, String(spec.count), String(rounds)]);
        for (const row of nodeRows) {
          const v = out.result[row.peer]?.median;
          row.reps.push(v === undefined ? null : { [spec.metric]: v });
          ctx.log(`  ${spec.id} rep ${rep + 1}: ${row.label}: ${spec.metric} ${v?.toFixed(0)}`);
        }
      } catch (e) {
        for (const row of nodeRows) {
          row.reps.push(null);
          row.errors.push((e as Error).message);
        }
        ctx.log(`  ${spec.id} rep ${rep + 1}: FAILED: ${(e as Error).message}`);
      }
    }
    if (twistedRow !== undefined) {
      const count = Math.max(1, Math.round(spec.count / spec.twistedDivisor));
      const argv = [PYTHON, "bench/micro/twisted-micro.py", spec.id, String(count), String(rounds)];
      try {
        const v = (await runMicro(ctx, argv)).result.twisted?.median;
        twistedRow.reps.push(v === undefined ? null : { [spec.metric]: v });
        ctx.log(
          `  ${spec.id} rep ${rep + 1}: ${twistedRow.label}: ${spec.metric} ${v?.toFixed(0)}`,
        );
      } catch (e) {
        twistedRow.reps.push(null);
        twistedRow.errors.push((e as Error).message);
      }
    }
  }
  return finish({
    id: spec.id,
    title: spec.title,
    description: spec.description,
    primary: spec.metric,
    higherIsBetter: true,
    columns: [{ key: spec.metric, label: spec.label }],
    rows: rows.filter((r) => wanted.has(r.peer)),
    seconds: (Date.now() - t0) / 1000,
  });
}

/** A Deferred chain of 10 callbacks fired synchronously, against the same native Promise chain. */
export function deferredChain(ctx: Context): Promise<WorkloadResult> {
  const n = ctx.settings.deferredChains;
  const r = ctx.settings.microRounds;
  return runMicroWorkload(ctx, {
    id: "deferred",
    title: "Deferred chain of 10 callbacks",
    description:
      `${n} chains of 10 callbacks (9 × \`x + 1\`, one accumulator) built and fired ` +
      `synchronously, against the same 10 native Promise \`then\`s resolved and run to the end ` +
      `(awaited per 1,000 chains); the two alternate in one process, median of ${r} rounds after ` +
      `a warm-up (\`bench/micro/micro.ts deferred ${n} ${r}\`). Twisted runs ${n / 10} chains.`,
    metric: "chains_per_s",
    label: "chains/s",
    count: n,
    twistedDivisor: 10,
    nodeVariants: {
      "twisted-ts": "Twisted.ts Deferred",
      promise: "native Promise",
    },
    twistedLabel: "Twisted Deferred (Python)",
  });
}

/** LineReceiver parsing short lines fed in random splits. */
export function lineReceiver(ctx: Context): Promise<WorkloadResult> {
  const n = ctx.settings.linesCount;
  const r = ctx.settings.microRounds;
  return runMicroWorkload(ctx, {
    id: "lines",
    title: "LineReceiver, short lines in random splits",
    description:
      `${n} lines of 13–20 bytes (\`line <i> hello\\r\\n\`) cut by a seeded xorshift32 into ` +
      `chunks of 1–2,048 bytes, fed to \`dataReceived\`; against the least a program can do ` +
      `(\`Buffer.indexOf\` with the tail carried over) and Twisted's LineReceiver on the same ` +
      `chunks; median of ${r} rounds (\`bench/micro/micro.ts lines ${n} ${r}\`).`,
    metric: "lines_per_s",
    label: "lines/s",
    count: n,
    twistedDivisor: 1,
    nodeVariants: {
      "twisted-ts": "Twisted.ts LineReceiver",
      node: "bare Buffer.indexOf splitter",
    },
    twistedLabel: "Twisted LineReceiver (Python)",
  });
}
