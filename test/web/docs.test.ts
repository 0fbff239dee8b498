// Runs every `ts` snippet of docs/web.md (except `no-run` ones) and checks what it prints.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, run, TSX } from "../_helpers/proc.js";

const doc = readFileSync(join(ROOT, "docs/web.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2] as string);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-web-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

/** What each snippet must print, in order of the snippets. */
const expected: RegExp[] = [
  /^200 text\/plain hello web\n$/,
  /^HTTP\/1\.1 200 OK\nclosed after 10 idle seconds: true\n$/,
];

describe("docs/web.md", () => {
  test("has one expectation per snippet", () => {
    assert.equal(snippets.length, expected.length);
  });
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1} runs and prints what the page says`, async () => {
      const file = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(file, code);
      const result = await run(TSX[0], [file], { timeoutMs: 20_000 });
      assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
      assert.match(result.stdout, expected[i] as RegExp);
    });
  });
});
