// Runs every `ts` snippet of docs/endpoints.md and checks what it prints.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;
const doc = readFileSync(join(ROOT, "docs/endpoints.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2] as string);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-endpoints-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

// The page imports endpoints and TLS helpers from "twisted-ts/internet"; this shim adds them in
// case the package index does not re-export them yet (re-exporting twice is harmless).
const shim = join(dir, "internet.ts");
writeFileSync(
  shim,
  ["index", "endpoints", "ssl"]
    .map((m) => `export * from ${JSON.stringify(join(ROOT, "src/internet", `${m}.ts`))};`)
    .join("\n"),
);

/** What each snippet must print, in order of the snippets. */
const expected: RegExp[] = [
  /^client got: hello\n$/,
  new RegExp(
    `^${[
      'ERR_ENDPOINT_DESCRIPTION: Unknown endpoint type: "tpc" \\(known: ssl, tcp, tcp6, unix\\)',
      'ERR_ENDPOINT_DESCRIPTION: Invalid port in "tcp:abc": abc',
      'ERR_ENDPOINT_DESCRIPTION: Unknown parameter "interfce" for endpoint type "tcp" in "tcp:80:interfce=127.0.0.1"',
      'ERR_ENDPOINT_DESCRIPTION: Invalid mode in "unix:/x:mode=9": 9 \\(octal digits expected\\)',
    ].join("\n")}\n$`,
  ),
  /^secure reply: ping\n$/,
  /^connected: true\nthen: refused\n$/,
  /^client: 192\.0\.2\.10 56324\n$/,
  /^connectTCP: example\.com 80\nconnected: Protocol\ncancelled, still connecting: false\n$/,
];

describe("docs/endpoints.md", () => {
  test("has one expectation per snippet", () => {
    assert.equal(snippets.length, expected.length);
  });
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1} runs and prints what the page says`, () => {
      const file = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(file, code.replaceAll('"twisted-ts/internet"', JSON.stringify(shim)));
      const result = spawnSync(process.execPath, ["--import", "tsx", file], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.equal(result.status, 0, `exit code; stderr:\n${result.stderr}`);
      assert.match(result.stdout, expected[i] as RegExp);
    });
  });
});
