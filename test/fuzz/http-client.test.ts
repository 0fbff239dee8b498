// Fuzz tests of the HTTP client protocol (HTTP11ClientProtocol on a StringTransport): mutated
// responses, whole and in random splits. Nothing may escape dataReceived or connectionLost; the
// request's Deferred fires exactly once (a Response, or a failure of the documented kinds);
// a delivered body ends exactly once; and nothing is left unhandled.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectionDone } from "../../src/internet/error.js";
import { Failure } from "../../src/internet/failure.js";
import { LogCapture } from "../../src/testing/index.js";
import {
  PotentialDataLoss,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
} from "../../src/web/client/index.js";
import { BodyRecorder, connected, makeRequest } from "../web/client/_helpers.js";
import { guardProcess, mutateMany, runCases, split } from "./_gen.js";

guardProcess();

const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
  "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
  "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
];

describe("fuzz: HTTP11ClientProtocol", () => {
  it("mutated responses fire the request once and end the body once, never throwing", () => {
    const logs = new LogCapture({ exclusive: true });
    try {
      runCases(21, 1200, (r) => {
        const input = mutateMany(r, Buffer.from(r.pick(RESPONSES), "latin1"));
        const c = connected({ limits: { maxHeaderSize: 1024, maxStartLineSize: 256 } });
        const method = r.pick(["GET", "HEAD", "DELETE"]);
        const d = c.proto.request(
          makeRequest(method, "http://example.com/", { persistent: r.chance(0.5) }),
        );
        let fired = 0;
        let failure: Failure | null = null;
        const body = new BodyRecorder();
        d.addCallbacks(
          (response) => {
            fired++;
            response.deliverBody(body);
            return undefined;
          },
          (f: Failure) => {
            fired++;
            failure = f;
            return undefined;
          },
        );
        for (const chunk of split(r, input)) {
          if (!c.tr.connected) break;
          c.feed(chunk);
        }
        if (c.tr.connected) c.tr.loseConnection();
        const where = JSON.stringify(input.toString("latin1").slice(0, 300));
        assert.equal(fired, 1, `the request fired ${fired} times for ${where}`);
        if (failure !== null) {
          assert.ok(
            (failure as Failure).check(ResponseFailed, ResponseNeverReceived) !== null,
            `unexpected failure ${String(failure)} for ${where}`,
          );
        } else {
          assert.equal(body.lostCount, 1, `the body ended ${body.lostCount} times for ${where}`);
          assert.ok(
            body.reason?.check(ResponseDone, PotentialDataLoss, ResponseFailed) != null,
            `body ended with ${String(body.reason)} for ${where}`,
          );
        }
        // A second connectionLost (a buggy transport) must not throw either.
        c.proto.connectionLost(new Failure(new ConnectionDone()));
      });
    } finally {
      logs.stop();
    }
  });
});
