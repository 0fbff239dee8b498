// Runs every `ts` snippet of docs/words.md as its own program (blocks marked `no-run` excepted).

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, run, TSX } from "../_helpers/proc.js";

const doc = readFileSync(join(ROOT, "docs/words.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2]!);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-words-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

/** What each snippet must print, in order. */
const expected: RegExp[] = [
  /^$/,
  /^$/,
  /signed on as account ann\ntopic of #lobby: Welcome!\n/,
  /^batch labeled-response: 3 messages\nJOIN 353 366\nirc\.test hello\nACK: true\n$/,
];

describe("docs/words.md", () => {
  test("has one expectation per snippet", () => {
    assert.equal(snippets.length, expected.length);
  });
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1} runs and prints what the page says`, async () => {
      const file = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(file, code);
      const result = await run(TSX[0], [file], { timeoutMs: 20_000 });
      assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
      assert.match(result.stdout, expected[i]!);
    });
  });
});
