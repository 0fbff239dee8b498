#!/usr/bin/env node
// The `twist` command. Runs the compiled code from dist/ when built, else the TypeScript
// sources through tsx (a checkout after `npm ci`).
import { existsSync } from "node:fs";

const built = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (existsSync(built)) {
  ({ main } = await import(built.href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(new URL("../src/cli/main.ts", import.meta.url).href));
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
