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
  /** How Twisted.ts ran: TypeScript through tsx, or JavaScript compiled by tsc (`--compiled`). */
  runtime: "tsx" | "compiled";
  settings: Record<string, unknown>;
  seconds: number;
  /** The 1-minute load average when the run started and ended: how busy the machine was. */
  loadAverage: { start: number; end: number };
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

function ratioCell(
  r: { perRep: number[]; median: number | null } | undefined,
  bold: boolean,
): string {
  if (r === undefined || r.median === null) return "n/a";
  const reps = r.perRep.length > 1 ? ` (${r.perRep.map((x) => x.toFixed(2)).join(", ")})` : "";
  return bold ? `**${ratio(r.median)}**${reps}` : `${ratio(r.median)}${reps}`;
}

function rowCells(w: WorkloadResult, row: Row): string[] {
  const ratioColumns = 1 + (w.secondary !== undefined ? 1 : 0) + (w.cpuKey !== undefined ? 1 : 0);
  if (row.status !== "ok") {
    const tag = row.status === "missing" ? "**MISSING**" : "**FAILED**";
    const blanks = w.columns.length - 1 + ratioColumns;
    return [
      cell(row.label),
      `${tag}: ${cell(row.reason ?? "")}`,
      ...Array<string>(blanks).fill(""),
    ];
  }
  const values = w.columns.map((c) => num(row.median[c.key], c.digits ?? 0));
  if (row.peer === SUBJECT) {
    return [cell(row.label), ...values, ...Array<string>(ratioColumns).fill("—")];
  }
  const found = w.ratios.find((x) => x.peer === row.peer);
  const cells = [cell(row.label), ...values, ratioCell(found, true)];
  if (w.secondary !== undefined) cells.push(ratioCell(found?.secondary, true));
  if (w.cpuKey !== undefined) cells.push(ratioCell(found?.cpu, false));
  return cells;
}

function workloadSection(w: WorkloadResult, index: number): string[] {
  const better = w.higherIsBetter ? "higher is better" : "lower is better";
  const head = ["server", ...w.columns.map((c) => c.label), `Twisted.ts ÷ server (${better})`];
  if (w.secondary !== undefined) {
    const s = w.secondary;
    head.push(
      `Twisted.ts ÷ server, ${s.label} (${s.higherIsBetter ? "higher" : "lower"} is better)`,
    );
  }
  if (w.cpuKey !== undefined)
    head.push("server CPU/op ÷ Twisted.ts's (above 1: Twisted.ts cheaper)");
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
    "| target | Twisted.ts ratio (median of per-repetition ratios) | status | server CPU per operation, peer ÷ Twisted.ts |",
    "|---|---:|---|---:|",
  ];
  for (const t of targets) {
    const status =
      t.status === "met"
        ? "met"
        : t.status === "missed"
          ? `**MISSED** (${t.detail})`
          : `**NOT MEASURED**: ${cell(t.detail)}`;
    const r = t.ratio === null ? "–" : ratio(t.ratio);
    const cpu = t.cpuRatio === null ? "–" : ratio(t.cpuRatio);
    lines.push(`| ${t.target.text} | ${r} | ${status} | ${cpu} |`);
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
      `(Debian python3-twisted), ${m.gcc}, ${m.wrk}${m.packages !== undefined ? `, ${m.packages}` : ""}; ` +
      `twisted-ts at ${m.commit}`,
    `- **Command**: \`${run.command}\` (profile \`${run.profile}\`: ${run.settings.reps} ` +
      `repetition(s), servers interleaved A B C A B C; each value is the median of the ` +
      `repetitions, each ratio the median of the per-repetition ratios); took ` +
      `${(run.seconds / 60).toFixed(1)} min.`,
    `- **Twisted.ts ran**: ${
      run.runtime === "tsx"
        ? "from its TypeScript sources through tsx (`node --import tsx`)"
        : "from JavaScript compiled by tsc (`--compiled`), as the published package runs"
    }.`,
    `- **Machine load**: 1-minute load average ${run.loadAverage.start.toFixed(2)} at the start, ` +
      `${run.loadAverage.end.toFixed(2)} at the end (above ~0.5, other programs competed for the ` +
      `CPUs: throughput ratios then scatter between repetitions, while server CPU time per ` +
      `operation stays steady).`,
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
