// Summaries of the `node --cpu-prof` profiles written by servers under `--profile`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time (share of busy time) in a `.cpuprofile`, as Markdown. */
export function topFunctions(path: string, root: string, count = 15): string[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byNode = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byNode.set(n.id, n);
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const f = byNode.get(id)?.callFrame;
    // Idle time is mostly the other servers' turns (runs are interleaved): leave it out.
    if (f === undefined || f.functionName === "(idle)") return;
    const where =
      f.url === "" ? "" : ` ${relative(root, f.url.replace(/^file:\/\//, ""))}:${f.lineNumber + 1}`;
    const key = `${f.functionName || "(anonymous)"}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => `- ${((100 * us) / total).toFixed(1)}% \`${name}\``);
}

/** One section per profile directory under `dir`: its newest profile's hot functions. */
export function profileReport(dir: string, root: string): string {
  const lines = ["### CPU profiles (`--profile`)", ""];
  for (const name of readdirSync(dir).sort()) {
    const sub = join(dir, name);
    if (!statSync(sub).isDirectory()) continue;
    const files = readdirSync(sub)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(sub, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (files[0] === undefined) {
      lines.push(`**${name}**: no profile written (the server did not exit cleanly)`, "");
      continue;
    }
    lines.push(`**${name}** (self time, % of busy time, \`${relative(root, files[0])}\`):`, "");
    lines.push(...topFunctions(files[0], root), "");
  }
  return lines.join("\n");
}
