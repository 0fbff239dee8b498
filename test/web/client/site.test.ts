// Loopback tests of our Agent against our own Site on a real NodeReactor: both roles of the engine meet.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import type { IPv4Address } from "../../../src/internet/address.js";
import type { IListeningPort } from "../../../src/internet/interfaces.js";
import {
  Agent,
  ContentDecoderAgent,
  CookieAgent,
  CookieJar,
  FileBodyProducer,
  getPage,
  HTTPConnectionPool,
  RedirectAgent,
  readBody,
  UNKNOWN_LENGTH,
  WebError,
} from "../../../src/web/client/index.js";
import {
  Data,
  EncodingResourceWrapper,
  File,
  Redirect,
  type Request,
  Resource,
  Site,
} from "../../../src/web/index.js";

const reactor = new NodeReactor();
let port: IListeningPort;
let base: string;
let dir: string;
const FILE = Buffer.alloc(5 * 1024 * 1024 + 3, "twisted-ts ");

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

class Echo extends Resource {
  override isLeaf = true;
  render_POST(request: Request): string {
    request.content.seek(0);
    const body = request.content.read();
    return `${request.method} ${body.length} ${sha(body)}`;
  }
  render_PUT(request: Request): string {
    return this.render_POST(request);
  }
}

class Peer extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return String((request.getClientAddress() as IPv4Address).port);
  }
}

class Login extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    request.addCookie("session", "abc123", { path: "/" });
    return "welcome";
  }
}

class Whoami extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return request.getCookie("session") ?? "anonymous";
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "twisted-ts-client-site-"));
  writeFileSync(join(dir, "big.txt"), FILE);
  const root = new Resource();
  root.putChild("hello", new Data("hello from Site", "text/plain"));
  root.putChild("echo", new Echo());
  root.putChild("peer", new Peer());
  root.putChild("files", new File(dir));
  root.putChild(
    "gz",
    new EncodingResourceWrapper(new Data("squeeze me ".repeat(500), "text/plain")),
  );
  root.putChild("old", new Redirect("/hello", 301));
  root.putChild("login", new Login());
  root.putChild("whoami", new Whoami());
  port = reactor.listenTCP(0, new Site(root, { reactor }), 50, "127.0.0.1");
  base = `http://127.0.0.1:${(port.getHost() as IPv4Address).port}`;
});

after(async () => {
  await port.stopListening();
  rmSync(dir, { recursive: true, force: true });
});

describe("Agent against our Site", () => {
  it("GET a resource", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/hello`);
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).toString(), "hello from Site");
  });

  it("a 404 is a response, not a failure", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/nothing`);
    assert.equal(response.code, 404);
    await readBody(response);
    await assert.rejects(getPage(`${base}/nothing`, { reactor }).asPromise(), WebError);
  });

  it("keep-alive: many requests over one pooled connection", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool });
    const peers = new Set<string>();
    for (let i = 0; i < 10; i++) {
      peers.add((await readBody(await agent.request("GET", `${base}/peer`))).toString());
    }
    assert.equal(peers.size, 1);
    await pool.closeCachedConnections();
  });

  it("uploads, sized and chunked", async () => {
    const agent = new Agent(reactor);
    const data = Buffer.alloc(300_000, 7);
    const sized = await agent.request("POST", `${base}/echo`, null, new FileBodyProducer(data));
    assert.equal((await readBody(sized)).toString(), `POST ${data.length} ${sha(data)}`);
    const unknown = {
      length: UNKNOWN_LENGTH,
      startProducing(consumer: { write(d: Uint8Array): void }) {
        consumer.write(Buffer.from("part one, "));
        consumer.write(Buffer.from("part two"));
        return Promise.resolve();
      },
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    } as const;
    const chunked = await agent.request("PUT", `${base}/echo`, null, unknown);
    const expected = Buffer.from("part one, part two");
    assert.equal((await readBody(chunked)).toString(), `PUT ${expected.length} ${sha(expected)}`);
  });

  it("a large static file, with a Content-Length", async () => {
    const response = await new Agent(reactor).request("GET", `${base}/files/big.txt`);
    assert.equal(response.length, FILE.length);
    assert.equal(sha(await readBody(response)), sha(FILE));
  });

  it("gzip from EncodingResourceWrapper, decoded by ContentDecoderAgent", async () => {
    const agent = new ContentDecoderAgent(new Agent(reactor));
    const response = await agent.request("GET", `${base}/gz`);
    assert.equal((await readBody(response)).toString(), "squeeze me ".repeat(500));
  });

  it("a Redirect resource followed by RedirectAgent", async () => {
    const response = await new RedirectAgent(new Agent(reactor)).request("GET", `${base}/old`);
    assert.equal((await readBody(response)).toString(), "hello from Site");
    assert.equal(response.previousResponse?.code, 301);
  });

  it("cookies set by addCookie come back through CookieAgent", async () => {
    const agent = new CookieAgent(new Agent(reactor), new CookieJar());
    assert.equal(
      (await readBody(await agent.request("GET", `${base}/whoami`))).toString(),
      "anonymous",
    );
    await readBody(await agent.request("GET", `${base}/login`));
    assert.equal(
      (await readBody(await agent.request("GET", `${base}/whoami`))).toString(),
      "abc123",
    );
  });

  it("HEAD of a static file", async () => {
    const response = await new Agent(reactor).request("HEAD", `${base}/files/big.txt`);
    assert.equal(response.code, 200);
    assert.equal((await readBody(response)).length, 0);
  });
});
