// Test helper for docs pages: runs each `ts` snippet of a page as its own program and checks what it
// prints.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, run, TSX } from "./proc.js";

/** The text of `docs/<page>` (for example `"ftp.md"`). */
export function readDoc(page: string): string {
  return readFileSync(join(ROOT, "docs", page), "utf8");
}

/** The bodies of the page's ```ts blocks, in order, leaving out those whose info string says `no-run`. */
export function docSnippets(doc: string): string[] {
  return [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => !(m[1] ?? "").includes("no-run"))
    .map((m) => m[2] as string);
}

/** Options of {@link describeDocSnippets}. */
export interface DocSnippetOptions {
  /** The snippet files' extension (default `.ts`). */
  ext?: string;
  /** How long one snippet may run (default 20 s). */
  timeoutMs?: number;
  /** Rewrites a snippet before it is written out (called when its test runs). */
  prepare?: (code: string) => string;
}

/**
 * Declares a `docs/<page>` suite: one test that the page has one expectation per runnable snippet,
 * then one test per snippet that runs it (inside the repository, so that `twisted-ts/*` imports
 * resolve through tsconfig paths) and checks it exits 0 and prints `expected[i]` (a RegExp the
 * output must match, or a string it must equal).
 */
export function describeDocSnippets(
  page: string,
  expected: readonly (RegExp | string)[],
  options: DocSnippetOptions = {},
): void {
  const snippets = docSnippets(readDoc(page));
  const dir = join(ROOT, ".tmp", `docs-${page.replace(/\.md$/, "")}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  after(() => rmSync(dir, { recursive: true, force: true }));
  describe(`docs/${page}`, () => {
    test("has one expectation per snippet", () => {
      assert.equal(snippets.length, expected.length);
    });
    snippets.forEach((code, i) => {
      test(`snippet ${i + 1} runs and prints what the page says`, async () => {
        const file = join(dir, `snippet-${i + 1}${options.ext ?? ".ts"}`);
        writeFileSync(file, options.prepare ? options.prepare(code) : code);
        const result = await run(TSX[0], [file], { timeoutMs: options.timeoutMs ?? 20_000 });
        assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
        const want = expected[i];
        if (typeof want === "string") assert.equal(result.stdout, want);
        else assert.match(result.stdout, want as RegExp);
      });
    });
  });
}
