// Runs every `ts` snippet of docs/web-client.md as its own program, against a local Site standing in for 127.0.0.1:8080.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import type { IPv4Address } from "../../../src/internet/address.js";
import type { IListeningPort } from "../../../src/internet/interfaces.js";
import { Data, type Request, Resource, Site } from "../../../src/web/index.js";
import { ROOT, run, TSX } from "../../_helpers/proc.js";

const doc = readFileSync(join(ROOT, "docs/web-client.md"), "utf8");
const snippets = [...doc.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)]
  .filter((m) => !(m[1] ?? "").includes("no-run"))
  .map((m) => m[2] as string);
// Inside the repository, so that `twisted-ts/*` imports resolve through tsconfig paths.
const dir = join(ROOT, ".tmp", `docs-web-client-${process.pid}`);

/** What each snippet must print, in order. */
const expected: RegExp[] = [
  /got 28 bytes\nShutting down\.\.\./,
  /200 OK \[ 'HTTP', 1, 1 \]\n\[ 'text\/html' \]\n28 bytes; length said 28/,
  /complete\nstreamed true/,
  /uploaded true/,
  /^200 posted$/m,
  /cached: 1/,
  /redirects followed: 0/,
  /within limits/,
  /"GET \/ HTTP\/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n"\nhi/,
];

class Upload extends Resource {
  override isLeaf = true;
  render_PUT(request: Request): string {
    return `got ${request.content.length}`;
  }
}

class Root extends Resource {
  override getChild(name: string, request: Request): Resource {
    if (name === "upload") return new Upload();
    if (name === "") return this;
    return super.getChild(name, request) as Resource;
  }
  render_GET(request: Request): string {
    request.setHeader("Content-Type", "text/html");
    return "<html>the docs' page</html>\n";
  }
  render_POST(): string {
    return "posted";
  }
}

const reactor = new NodeReactor();
let port: IListeningPort;
let address: string;

before(() => {
  mkdirSync(dir, { recursive: true });
  const root = new Root();
  root.putChild("data", new Data("x", "text/plain"));
  port = reactor.listenTCP(0, new Site(root, { reactor }), 50, "127.0.0.1");
  address = `127.0.0.1:${(port.getHost() as IPv4Address).port}`;
});

after(async () => {
  await port.stopListening();
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/web-client.md", () => {
  test("has one expectation per snippet", () => {
    assert.equal(snippets.length, expected.length);
  });
  snippets.forEach((code, i) => {
    test(`snippet ${i + 1} runs and prints what the page says`, async () => {
      const file = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(file, code.replaceAll("127.0.0.1:8080", address));
      const result = await run(TSX[0], [file], { timeoutMs: 30_000 });
      assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
      assert.match(result.stdout, expected[i] as RegExp);
    });
  });
});
