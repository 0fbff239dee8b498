// Expect: 100-continue against real servers: Python's http.server, Twisted.ts's Site, and a raw server that never sends 100.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer as createNetServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { NodeReactor } from "../../../src/internet/_reactor.js";
import type { IPv4Address } from "../../../src/internet/address.js";
import type { IListeningPort } from "../../../src/internet/interfaces.js";
import {
  Agent,
  FileBodyProducer,
  Headers,
  HTTPConnectionPool,
  readBody,
} from "../../../src/web/client/index.js";
import { type Request, Resource, Site } from "../../../src/web/index.js";
import { PYTHON, requirePeer, type Started, start } from "../../_helpers/proc.js";

const FIXTURE = new URL("./fixtures/expect_server.py", import.meta.url).pathname;
const reactor = new NodeReactor();
const EXPECT = () => new Headers({ Expect: ["100-continue"] });
const BODY = Buffer.alloc(300_000, "expect me ");

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

describe("Expect: 100-continue against Python's http.server", () => {
  let python: Started;
  let base: string;

  before(async () => {
    requirePeer(PYTHON, "python3");
    python = start(PYTHON, [FIXTURE]);
    const m = await python.waitFor(/PORT (\d+)/);
    base = `http://127.0.0.1:${m[1]}`;
  });

  after(async () => {
    await python?.stop();
  });

  it("sends the body on the server's 100 Continue, without waiting for the timeout", async () => {
    const agent = new Agent(reactor, { expectContinueTimeout: 30 });
    const started = Date.now();
    const response = await agent.request(
      "PUT",
      `${base}/echo`,
      EXPECT(),
      new FileBodyProducer(BODY),
    );
    assert.equal(response.code, 200);
    assert.equal(
      (await readBody(response)).toString(),
      `PUT expect=100-continue ${BODY.length} ${sha(BODY)}`,
    );
    assert.ok(Date.now() - started < 10_000, "did not wait for the 30 s timeout");
  });

  it("skips 103 Early Hints and waits for the 100 that follows", async () => {
    const agent = new Agent(reactor, { expectContinueTimeout: 30 });
    const started = Date.now();
    const response = await agent.request(
      "POST",
      `${base}/hints`,
      EXPECT(),
      new FileBodyProducer("abc"),
    );
    assert.equal(response.code, 200);
    assert.equal(
      (await readBody(response)).toString(),
      `POST expect=100-continue 3 ${sha(Buffer.from("abc"))}`,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it("a 417 before the body: the body is not sent, the connection is not reused", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool, expectContinueTimeout: 30 });
    const refused = await agent.request(
      "PUT",
      `${base}/refuse`,
      EXPECT(),
      new FileBodyProducer(BODY),
    );
    assert.equal(refused.code, 417);
    assert.equal((await readBody(refused)).length, 0);
    assert.equal(pool.cachedConnectionCount(), 0, "closed, not cached");
    // Had the body gone out on that connection, Python would have read it as a request.
    const again = await agent.request("POST", `${base}/echo`, null, new FileBodyProducer("x"));
    assert.equal((await readBody(again)).toString(), `POST expect= 1 ${sha(Buffer.from("x"))}`);
    assert.equal(pool.cachedConnectionCount(), 1);
    await pool.closeCachedConnections();
  });
});

class Upload extends Resource {
  override isLeaf = true;
  render_POST(request: Request): string {
    const body = request.content.read();
    return `${request.getHeader("expect")} ${body.length} ${sha(body)}`;
  }
}

describe("Expect: 100-continue against Twisted.ts's Site", () => {
  let port: IListeningPort;
  let base: string;

  before(() => {
    port = reactor.listenTCP(0, new Site(new Upload(), { reactor }), 50, "127.0.0.1");
    base = `http://127.0.0.1:${(port.getHost() as IPv4Address).port}`;
  });

  after(async () => {
    await port.stopListening();
  });

  it("Site answers 100 Continue; the body follows at once and the connection is kept", async () => {
    const pool = new HTTPConnectionPool(reactor);
    const agent = new Agent(reactor, { pool, expectContinueTimeout: 30 });
    const started = Date.now();
    for (let i = 0; i < 2; i++) {
      const response = await agent.request(
        "POST",
        `${base}/up`,
        EXPECT(),
        new FileBodyProducer(BODY),
      );
      assert.equal(
        (await readBody(response)).toString(),
        `100-continue ${BODY.length} ${sha(BODY)}`,
      );
    }
    assert.ok(Date.now() - started < 10_000);
    assert.equal(pool.cachedConnectionCount(), 1);
    await pool.closeCachedConnections();
  });
});

describe("Expect: 100-continue against a server that never sends 100", () => {
  let server: Server;
  let base: string;

  before(async () => {
    // Reads a head, then a Content-Length body, and says how long the body took to come.
    server = createNetServer((socket) => {
      let buffered = Buffer.alloc(0);
      let headAt = 0;
      let length = -1;
      socket.on("data", (data: Buffer) => {
        buffered = Buffer.concat([buffered, data]);
        if (length < 0) {
          const end = buffered.indexOf("\r\n\r\n");
          if (end < 0) return;
          headAt = Date.now();
          const head = buffered.subarray(0, end).toString("latin1");
          length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          buffered = buffered.subarray(end + 4);
        }
        if (buffered.length < length) return;
        const out = `${Date.now() - headAt} ${length} ${sha(buffered.subarray(0, length))}`;
        socket.end(
          `HTTP/1.1 200 OK\r\nContent-Length: ${out.length}\r\nConnection: close\r\n\r\n${out}`,
        );
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("the body goes out after expectContinueTimeout", async () => {
    const agent = new Agent(reactor, { expectContinueTimeout: 0.4 });
    const response = await agent.request("PUT", `${base}/`, EXPECT(), new FileBodyProducer(BODY));
    const [gap, length, digest] = (await readBody(response)).toString().split(" ");
    assert.equal(Number(length), BODY.length);
    assert.equal(digest, sha(BODY));
    assert.ok(Number(gap) >= 350, `the body waited (${gap} ms)`);
    assert.ok(Number(gap) < 5_000);
  });
});
