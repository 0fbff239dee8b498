// The Markdown report of a run (printed, written to bench/results/, and kept in BENCHMARKS.md).
import {
  checkTargets,
  type Row,
  SUBJECT,
  type TargetResult,
  type WorkloadResult,
} from "./results.js";
import type { MachineInfo } from "./tools.js";

/** Everything a run produced: the JSON file's content. */
export interface RunResult {
  machine: MachineInfo;
  /** The command line, e.g. `npm run bench -- --quick`. */
  command: string;
  profile: string;
  settings: Record<string, unknown>;
  seconds: number;
  workloads: WorkloadResult[];
  targets: TargetResult[];
  /** Every row that is missing or failed, as "workload: label: reason". */
  missing: string[];
}

/** Gathers a run's results, its targets and its missing rows. */
export function summarize(run: Omit<RunResult, "targets" | "missing">): RunResult {
  const missing: string[] = [];
  for (const w of run.workloads) {
    for (const row of w.rows) {
      if (row.status !== "ok")
        missing.push(`${w.id}: ${row.label}: ${row.status.toUpperCase()}: ${row.reason}`);
    }
  }
  return { ...run, targets: checkTargets(run.workloads), missing };
}

function num(v: number | undefined, digits = 0): string {
  if (v === undefined || Number.isNaN(v)) return "–";
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function ratio(v: number): string {
  return `${v.toFixed(2)}×`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function rowCells(w: WorkloadResult, row: Row): string[] {
  if (row.status !== "ok") {
    const tag = row.status === "missing" ? "**MISSING**" : "**FAILED**";
    return [
      cell(row.label),
      `${tag}: ${cell(row.reason ?? "")}`,
      ...w.columns.slice(1).map(() => ""),
      "",
    ];
  }
  const values = w.columns.map((c) => num(row.median[c.key], c.digits ?? 0));
  let r = "—";
  if (row.peer !== SUBJECT) {
    const found = w.ratios.find((x) => x.peer === row.peer);
    if (found !== undefined && found.median !== null) {
      const reps = found.perRep.map((x) => x.toFixed(2)).join(", ");
      r = `**${ratio(found.median)}**${found.perRep.length > 1 ? ` (${reps})` : ""}`;
    } else {
      r = "n/a";
    }
  }
  return [cell(row.label), ...values, r];
}

function workloadSection(w: WorkloadResult, index: number): string[] {
  const better = w.higherIsBetter ? "higher is better" : "lower is better";
  const head = ["server", ...w.columns.map((c) => c.label), `Twisted.ts ÷ server (${better})`];
  const lines = [
    `### ${index}. ${w.title}`,
    "",
    `${w.description} Took ${w.seconds.toFixed(0)} s.`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...w.rows.map((row) => `| ${rowCells(w, row).join(" | ")} |`),
  ];
  const notes = w.rows.filter((r) => r.status === "ok" && r.errors.length > 0);
  for (const r of notes) {
    const failed = r.reps.filter((m) => m === null).length;
    lines.push(
      "",
      `${r.label}: ${failed} of ${r.reps.length} repetitions failed: ${cell(r.errors[0] ?? "")}`,
    );
  }
  lines.push("");
  return lines;
}

function targetsSection(targets: readonly TargetResult[]): string[] {
  if (targets.length === 0) return [];
  const lines = [
    "### Targets",
    "",
    "| target | Twisted.ts ratio (median of per-repetition ratios) | status |",
    "|---|---:|---|",
  ];
  for (const t of targets) {
    const status =
      t.status === "met"
        ? "met"
        : t.status === "missed"
          ? `**MISSED** (${t.detail})`
          : `**NOT MEASURED**: ${cell(t.detail)}`;
    lines.push(`| ${t.target.text} | ${t.ratio === null ? "–" : ratio(t.ratio)} | ${status} |`);
  }
  lines.push("");
  return lines;
}

/** Renders a run as Markdown (the part of BENCHMARKS.md between its markers). */
export function renderMarkdown(run: RunResult): string {
  const m = run.machine;
  const lines = [
    `## Latest run: ${m.date.slice(0, 10)}`,
    "",
    `- **Date**: ${m.date}`,
    `- **Machine**: ${m.cpu}, ${m.cpus} CPUs, ${m.kernel}, ${m.memoryGiB} GiB RAM; ${m.pinning}`,
    `- **Versions**: Node ${m.node} (tsx ${m.tsx}), ${m.python} with Twisted ${m.twisted} ` +
      `(Debian python3-twisted), ${m.gcc}, ${m.wrk}; twisted-ts at ${m.commit}`,
    `- **Command**: \`${run.command}\` (profile \`${run.profile}\`: ${run.settings.reps} ` +
      `repetition(s), servers interleaved A B C A B C; each value is the median of the ` +
      `repetitions, each ratio the median of the per-repetition ratios); took ` +
      `${(run.seconds / 60).toFixed(1)} min.`,
    "",
  ];
  if (run.missing.length > 0) {
    lines.push("> **Missing or failed — not measured in this run:**", ">");
    for (const x of run.missing) lines.push(`> - ${cell(x)}`);
    lines.push("");
  }
  lines.push(...targetsSection(run.targets));
  for (const [i, w] of run.workloads.entries()) lines.push(...workloadSection(w, i + 1));
  return lines.join("\n");
}

/** The loud end-of-run lines for stderr: every missing or failed row, every missed target. */
export function warnings(run: RunResult): string[] {
  const out = run.missing.map((x) => `MISSING/FAILED ${x}`);
  for (const t of run.targets) {
    if (t.status === "missed")
      out.push(`TARGET MISSED: ${t.target.text}: ${ratio(t.ratio!)}, ${t.detail}`);
  }
  return out;
}
