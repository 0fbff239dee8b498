// The results of a run: rows per server, medians, Twisted.ts's ratios per repetition, targets.

/** Measured values of one repetition, by metric name (e.g. `rtt_per_s`, `p99_us`). */
export type Metrics = Record<string, number>;

/** The peer every ratio is taken of: Twisted.ts. */
export const SUBJECT = "twisted-ts";

/** How a metric is shown in a table. */
export interface Column {
  key: string;
  label: string;
  /** Digits after the decimal point. */
  digits?: number;
}

/** One server (or variant) of a workload: its measurements, or why there are none. */
export interface Row {
  /** Stable id: `twisted-ts`, `node`, `twisted`, `c-epoll`, `raw`, `promise`. */
  peer: string;
  /** What it is, for the table (e.g. "node:net (bench/servers/node-echo.mjs)"). */
  label: string;
  /** `missing`: cannot run here; `failed`: ran but produced no measurement. */
  status: "ok" | "missing" | "failed";
  /** Why it is missing or failed. */
  reason?: string;
  /** Each repetition's metrics, `null` where that repetition failed. */
  reps: (Metrics | null)[];
  /** Errors of failed repetitions. */
  errors: string[];
  /** Median of each metric over the repetitions that succeeded. */
  median: Metrics;
}

/** Twisted.ts's primary metric divided by a peer's, per repetition, and their median. */
export interface Ratio {
  peer: string;
  perRep: number[];
  median: number | null;
  /** The peer's server CPU per operation divided by Twisted.ts's (above 1: Twisted.ts is cheaper). */
  cpu?: { perRep: number[]; median: number | null };
  /** Twisted.ts's secondary metric divided by the peer's, when the workload has one. */
  secondary?: { perRep: number[]; median: number | null };
}

/** A second metric a workload takes Twisted.ts's ratio of (e.g. upload MB/s, bytes per client). */
export interface Secondary {
  key: string;
  /** What it is, for the ratio column's head. */
  label: string;
  higherIsBetter: boolean;
}

/** The result of one workload. */
export interface WorkloadResult {
  id: string;
  title: string;
  /** What was measured and how (parameters, commands). */
  description: string;
  /** The metric ratios are taken of. */
  primary: string;
  /** A server-CPU-per-operation metric, when measured (robust on a busy machine). */
  cpuKey?: string;
  /** False when less is better (memory). */
  higherIsBetter: boolean;
  /** A second metric with its own ratio column. */
  secondary?: Secondary;
  columns: Column[];
  rows: Row[];
  ratios: Ratio[];
  seconds: number;
}

/** The median of `values`; NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A row that cannot run here. */
export function missingRow(peer: string, label: string, reason: string): Row {
  return { peer, label, status: "missing", reason, reps: [], errors: [], median: {} };
}

/** A row to fill with repetitions. */
export function emptyRow(peer: string, label: string): Row {
  return { peer, label, status: "ok", reps: [], errors: [], median: {} };
}

/** `a[key] / b[key]` for each repetition where both were measured. */
function perRepRatios(a: Row | undefined, b: Row | undefined, key: string): number[] {
  const out: number[] = [];
  if (a === undefined || b === undefined) return out;
  a.reps.forEach((mine, i) => {
    const x = mine?.[key];
    const y = b.reps[i]?.[key];
    if (x !== undefined && y !== undefined && y > 0) out.push(x / y);
  });
  return out;
}

/** Computes each row's medians and status, and Twisted.ts's ratios to the other rows. */
export function finish(result: Omit<WorkloadResult, "ratios">): WorkloadResult {
  for (const row of result.rows) {
    if (row.status === "missing") continue;
    const ok = row.reps.filter((m): m is Metrics => m !== null);
    if (ok.length === 0) {
      row.status = "failed";
      row.reason ??= row.errors[0] ?? "no measurement";
      continue;
    }
    const keys = new Set(ok.flatMap((m) => Object.keys(m)));
    for (const key of keys) {
      row.median[key] = median(ok.map((m) => m[key]).filter((v): v is number => v !== undefined));
    }
  }
  const subject = result.rows.find((r) => r.peer === SUBJECT);
  const ratios: Ratio[] = [];
  for (const row of result.rows) {
    if (row.peer === SUBJECT) continue;
    const perRep = perRepRatios(subject, row, result.primary);
    const ratio: Ratio = {
      peer: row.peer,
      perRep,
      median: perRep.length > 0 ? median(perRep) : null,
    };
    if (result.cpuKey !== undefined) {
      const cpu = perRepRatios(row, subject, result.cpuKey);
      ratio.cpu = { perRep: cpu, median: cpu.length > 0 ? median(cpu) : null };
    }
    if (result.secondary !== undefined) {
      const second = perRepRatios(subject, row, result.secondary.key);
      ratio.secondary = { perRep: second, median: second.length > 0 ? median(second) : null };
    }
    ratios.push(ratio);
  }
  return { ...result, ratios };
}

/** A target from the issue: a bound on one of Twisted.ts's ratios. */
export interface Target {
  workload: string;
  peer: string;
  /** `min`: the ratio must be at least `bound`; `max`: at most; `above`: strictly above. */
  kind: "min" | "max" | "above";
  bound: number;
  text: string;
}

/** The targets of issue 5. */
export const TARGETS: readonly Target[] = [
  {
    workload: "echo-50",
    peer: "node",
    kind: "min",
    bound: 0.95,
    text: "Echo ping-pong, 50 connections: ≥ 0.95× node:net",
  },
  {
    workload: "echo-50",
    peer: "twisted",
    kind: "min",
    bound: 1.5,
    text: "Echo ping-pong, 50 connections: ≥ 1.5× Twisted",
  },
  {
    workload: "echo-1000",
    peer: "node",
    kind: "min",
    bound: 0.95,
    text: "Echo ping-pong, 1,000 connections: ≥ 0.95× node:net",
  },
  {
    workload: "echo-1000",
    peer: "twisted",
    kind: "min",
    bound: 1.5,
    text: "Echo ping-pong, 1,000 connections: ≥ 1.5× Twisted",
  },
  { workload: "bulk", peer: "node", kind: "min", bound: 1.0, text: "Bulk echo: ≥ 1.0× node:net" },
  {
    workload: "idle",
    peer: "node",
    kind: "max",
    bound: 1.1,
    text: "Idle memory per connection: ≤ 1.1× node:net",
  },
  {
    workload: "http-c50",
    peer: "node",
    kind: "min",
    bound: 1.3,
    text: "HTTP hello, 50 connections: ≥ 1.3× node:http",
  },
  {
    workload: "deferred",
    peer: "promise",
    kind: "above",
    bound: 1.0,
    text: "Deferred chain: faster than the Promise chain",
  },
];

/** A target checked against a run. */
export interface TargetResult {
  target: Target;
  /** The median ratio, or null when it could not be measured. */
  ratio: number | null;
  /** The peer's server CPU per operation ÷ Twisted.ts's, where measured. */
  cpuRatio: number | null;
  status: "met" | "missed" | "not measured";
  /** "missed by 12%", or why it was not measured. */
  detail: string;
}

/** Checks every target whose workload ran. */
export function checkTargets(results: readonly WorkloadResult[]): TargetResult[] {
  const out: TargetResult[] = [];
  for (const target of TARGETS) {
    const w = results.find((r) => r.id === target.workload);
    const subject = w?.rows.find((r) => r.peer === SUBJECT);
    const peer = w?.rows.find((r) => r.peer === target.peer);
    // a workload or peer left out of the run (subset, --peers) has nothing to say
    if (w === undefined || subject === undefined || peer === undefined) continue;
    const found = w.ratios.find((r) => r.peer === target.peer);
    const ratio = found?.median ?? null;
    const cpuRatio = found?.cpu?.median ?? null;
    if (ratio === null) {
      const why = [subject, peer]
        .filter((r) => r.status !== "ok")
        .map((r) => `${r.label} ${r.status}: ${r.reason}`)
        .join("; ");
      out.push({ target, ratio, cpuRatio, status: "not measured", detail: why || "no ratio" });
      continue;
    }
    const met =
      target.kind === "min"
        ? ratio >= target.bound
        : target.kind === "max"
          ? ratio <= target.bound
          : ratio > target.bound;
    const gap = target.kind === "max" ? ratio / target.bound - 1 : 1 - ratio / target.bound;
    out.push({
      target,
      ratio,
      cpuRatio,
      status: met ? "met" : "missed",
      detail: met ? "" : `missed by ${(Math.abs(gap) * 100).toFixed(1)}%`,
    });
  }
  return out;
}
