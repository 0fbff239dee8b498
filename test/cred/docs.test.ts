// Runs every `ts` snippet of docs/cred.md and checks what it prints.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, run, TSX } from "../_helpers/proc.js";

const doc = readFileSync(join(ROOT, "docs/cred.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2] as string);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-cred-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

/** What each snippet must print, in order of the snippets. */
const expected: RegExp[] = [
  /^true\nhello alice\nalice logged out\ntrue Invalid username or password\ntrue Invalid username or password\n$/,
  /^true\ntrue false\nadded\nupdated\n1\nalice\n$/,
  /^twisted-ts\.cred\.ANONYMOUS\nERR_USAGE Invalid --auth memory: odd number of fields \(expected user:password pairs; 3 fields given, and passwords cannot contain ":"\)\nERR_USAGE Unknown --auth kind: ldap \(expected memory, file or anonymous\)\nERR_USAGE Invalid --auth file: no such file: \/nonexistent\/users\n$/,
];

describe("docs/cred.md", () => {
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
