#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) with node's built-in test runner and tsx.
// Usage: node scripts/run-tests.mjs [substring…]  — only files whose path contains a substring.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith(".test.ts")) yield relative(root, path);
  }
}

const filters = process.argv.slice(2);
const files = [...walk(join(root, "test"))].filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error("No test files matched");
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? "4";
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    `--test-concurrency=${concurrency}`,
    "--test-reporter=spec",
    ...files,
  ],
  { cwd: root, stdio: "inherit" },
);
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
