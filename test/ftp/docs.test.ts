// Runs every `ts` snippet of docs/ftp.md (except `no-run` ones) and checks what it prints.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, run, TSX } from "../_helpers/proc.js";

const doc = readFileSync(join(ROOT, "docs/ftp.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2] as string);
/** The "It prints:" block after each runnable snippet. */
const printed = [...doc.matchAll(/^It prints:\n\n```\n([\s\S]*?)^```$/gm)].map(
  (m) => m[1] as string,
);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-ftp-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

describe("docs/ftp.md", () => {
  test("shows what each runnable snippet prints", () => {
    assert.equal(snippets.length, printed.length);
  });
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1} runs and prints what the page says`, async () => {
      const file = join(dir, `snippet-${i + 1}.mts`);
      writeFileSync(file, code);
      const result = await run(TSX[0], [file], { timeoutMs: 20_000 });
      assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
      assert.equal(result.stdout, printed[i]);
    });
  });
});
