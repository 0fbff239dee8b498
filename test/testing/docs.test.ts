// Runs every `ts` snippet of docs/testing.md (blocks marked `no-run` excepted).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

const doc = readFileSync(new URL("../../docs/testing.md", import.meta.url), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2]!);
const dir = mkdtempSync(join(tmpdir(), "twisted-ts-docs-"));
writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
after(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/testing.md", () => {
  test("has runnable snippets", () => {
    assert.ok(snippets.length >= 8);
  });
  snippets.forEach((code, i) => {
    const firstLine = code
      .split("\n")
      .find((l) => l.startsWith("class ") || l.startsWith("const "));
    test(`snippet ${i + 1} runs without error (${firstLine ?? "…"})`, async () => {
      const file = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(file, code);
      await import(pathToFileURL(file).href);
    });
  });
});
