// Runs examples/get-page.ts (the seed's URL fetcher) as a program against a local Site.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import type { IPv4Address } from "../../../src/internet/address.js";
import type { IListeningPort } from "../../../src/internet/interfaces.js";
import { Data, Redirect, Resource, Site } from "../../../src/web/index.js";
import { ROOT, run, TSX } from "../../_helpers/proc.js";

const reactor = new NodeReactor();
let port: IListeningPort;
let base: string;

before(() => {
  const root = new Resource();
  root.putChild("", new Data("<html>the seed's page</html>\n", "text/html"));
  root.putChild("moved", new Redirect("/", 302));
  port = reactor.listenTCP(0, new Site(root, { reactor }), 50, "127.0.0.1");
  base = `http://127.0.0.1:${(port.getHost() as IPv4Address).port}`;
});

after(async () => {
  await port.stopListening();
});

function getPageProgram(url: string) {
  return run(TSX[0], [`${ROOT}examples/get-page.ts`, url], { timeoutMs: 30_000 });
}

describe("examples/get-page.ts", () => {
  it("prints the page, then shuts down and exits by itself", async () => {
    const result = await getPageProgram(`${base}/`);
    assert.equal(result.signal, null, "exited by itself");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "<html>the seed's page</html>\nShutting down...\n");
  });

  it("follows a redirect", async () => {
    const result = await getPageProgram(`${base}/moved`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /the seed's page/);
  });

  it("logs an error page through logError, and still shuts down", async () => {
    const result = await getPageProgram(`${base}/missing`);
    assert.equal(result.signal, null);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "Error: 404 Not Found\nShutting down...\n");
  });
});
