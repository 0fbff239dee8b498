// Tests of the sans-I/O HTTP/1.1 engine, client role (responses read, requests sent), and the
// limits each role has by default.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Headers } from "../../src/web/_headers.js";
import { HTTP11Connection, LocalProtocolError } from "../../src/web/_http/index.js";
import { bytes, drive, eachSplit } from "./_http_engine.js";

describe("HTTP11Connection (client role)", () => {
  function sent(method = "GET", headers = new Headers({ Host: "example.com" })): HTTP11Connection {
    const conn = new HTTP11Connection("client");
    const out = bytes([
      ...conn.sendRequest({ method, target: "/", headers }),
      ...conn.sendEndOfMessage(),
    ]);
    assert.match(out, new RegExp(`^${method} / HTTP/1.1\\r\\nHost: example.com\\r\\n`));
    return conn;
  }

  it("reads a Content-Length response and can reuse the connection", () => {
    eachSplit("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", (chunks, name) => {
      const conn = sent();
      const { events } = drive("client", chunks, { conn });
      assert.deepEqual(
        events,
        [
          {
            type: "ResponseReceived",
            status: 200,
            reason: "OK",
            version: "1.1",
            headers: { "Content-Length": ["5"] },
          },
          { type: "DataReceived", data: "hello" },
          { type: "MessageEnded", trailers: null },
        ],
        name,
      );
      conn.startNextCycle();
    });
  });

  it("reads chunked and close-delimited responses, and a 1xx before the final one", () => {
    eachSplit(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      (chunks, name) => {
        const { events } = drive("client", chunks, { conn: sent() });
        assert.deepEqual(
          events.map((e) => e.type),
          ["InformationalResponseReceived", "ResponseReceived", "DataReceived", "MessageEnded"],
          name,
        );
      },
    );
    eachSplit("HTTP/1.0 200 OK\r\n\r\nuntil the end", (chunks, name) => {
      const { events, conn } = drive("client", chunks, { conn: sent(), eof: true });
      assert.equal(events[1]?.data, "until the end", name);
      assert.equal(events[2]?.type, "MessageEnded", name);
      assert.equal(conn.keepAlive, false, name);
    });
  });

  it("expects no body after HEAD, 204 and 304", () => {
    const { events } = drive(
      "client",
      [Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")],
      {
        conn: sent("HEAD"),
      },
    );
    assert.equal(events[1]?.type, "MessageEnded");
  });

  it("sends chunked uploads and refuses framing it cannot honour", () => {
    const conn = new HTTP11Connection("client");
    const out = bytes([
      ...conn.sendRequest({
        method: "PUT",
        target: "/up",
        headers: new Headers({ Host: "h", "Transfer-Encoding": "chunked" }),
      }),
      ...conn.sendData(Buffer.from("abc")),
      ...conn.sendEndOfMessage(),
    ]);
    assert.equal(
      out,
      "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    const noHost = new HTTP11Connection("client");
    assert.throws(
      () => noHost.sendRequest({ method: "GET", target: "/", headers: new Headers() }),
      LocalProtocolError,
    );
    const noBody = new HTTP11Connection("client");
    noBody.sendRequest({ method: "POST", target: "/", headers: new Headers({ Host: "h" }) });
    assert.throws(() => noBody.sendData(Buffer.from("x")), LocalProtocolError);
  });

  it("answers malformed responses with 502", () => {
    for (const resp of [
      "HTTP/1.1 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    ]) {
      assert.equal(drive("client", [Buffer.from(resp)], { conn: sent() }).error?.status, 502, resp);
    }
    assert.equal(
      drive("client", [Buffer.from("HTTP/1.1 200 OK\r\n")], {
        conn: new HTTP11Connection("client"),
      }).error?.status,
      502,
    );
  });
});

describe("HTTP11Connection: defaults per role", () => {
  it("limits request bodies to 100 MiB but reads responses of any size", () => {
    assert.equal(new HTTP11Connection("server").limits.maxBodySize, 100 * 1024 * 1024);
    assert.equal(new HTTP11Connection("client").limits.maxBodySize, Number.POSITIVE_INFINITY);
    assert.equal(new HTTP11Connection("client", { maxBodySize: 10 }).limits.maxBodySize, 10);
  });
});
