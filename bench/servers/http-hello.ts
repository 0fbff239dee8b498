// Twisted.ts web hello server for the benchmarks: a Site whose leaf resource answers `hello world`
// (11 bytes, text/plain) on 127.0.0.1:<port>.
//
// The web battery (src/web/) is imported at run time so that this file type-checks before the
// battery exists; the runner reports this server as missing while src/web/index.ts is absent.
import { existsSync } from "node:fs";
import { reactor } from "../../src/internet/index.js";
import type { IProtocolFactory } from "../../src/internet/interfaces.js";

/** The part of a Twisted-style request that the hello resource uses. */
interface HelloRequest {
  setHeader(name: string, value: string): void;
}

/** The part of `twisted-ts/web` this server needs: Twisted's `Site` and `Resource`. */
interface WebModule {
  Site: new (resource: object) => IProtocolFactory;
  Resource: new () => object;
}

// index.ts from the sources (tsx), index.js from a tsc build (`npm run bench -- --compiled`)
const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
const webIndex = new URL(`../../src/web/index.${ext}`, import.meta.url);
if (!existsSync(webIndex)) {
  process.stderr.write(`http-hello: the web battery (src/web/index.${ext}) is not built yet\n`);
  process.exit(3);
}
const web = (await import(webIndex.href)) as WebModule;

const body = Buffer.from("hello world");

class Hello extends web.Resource {
  isLeaf = true;

  render_GET(request: HelloRequest): Buffer {
    request.setHeader("Content-Type", "text/plain");
    return body;
  }
}

const site = new web.Site(new Hello());
reactor.listenTCP(Number(process.argv[2]), site, 511, "127.0.0.1");
await reactor.run();
