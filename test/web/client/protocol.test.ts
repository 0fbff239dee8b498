// Tests of HTTP11ClientProtocol on a StringTransport: requests written, responses (in every split) read.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../../src/internet/defer.js";
import {
  CancelledError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  TimeoutError,
} from "../../../src/internet/error.js";
import { Failure } from "../../../src/internet/failure.js";
import { assertNoResult, failureResultOf, successResultOf } from "../../../src/testing/index.js";
import { RemoteProtocolError } from "../../../src/web/_http/index.js";
import {
  FileBodyProducer,
  PartialDownloadError,
  PotentialDataLoss,
  RequestGenerationFailed,
  RequestNotSent,
  RequestTransmissionFailed,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  readBody,
  UNKNOWN_LENGTH,
  WrongBodyLength,
} from "../../../src/web/client/index.js";
import { splits } from "../../protocols/_splits.js";
import { BodyRecorder, ControlledProducer, connected, makeRequest } from "./_helpers.js";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

describe("HTTP11ClientProtocol: writing requests", () => {
  it("a GET without a body sends Host and Connection: close, and no framing headers", () => {
    const c = connected();
    c.proto.request(makeRequest("GET", "http://example.com:8080/a%20b?x=1#frag"));
    assert.equal(
      c.written(),
      "GET /a%20b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n",
    );
    assert.equal(c.proto.state, "WAITING");
  });

  it("a persistent request has no Connection header; the default port is left out of Host", () => {
    const c = connected();
    c.proto.request(makeRequest("GET", "https://example.com/", { persistent: true }));
    assert.equal(c.written(), "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  });

  it("an IPv6 host goes in brackets in Host", () => {
    const c = connected();
    c.proto.request(makeRequest("GET", "http://[::1]:81/", { persistent: true }));
    assert.match(c.written(), /\r\nHost: \[::1\]:81\r\n/);
  });

  it("a POST without a body sends Content-Length: 0", () => {
    const c = connected();
    c.proto.request(makeRequest("POST", "http://example.com/", { persistent: true }));
    assert.match(c.written(), /\r\nContent-Length: 0\r\n/);
  });

  it("a body of known length is sent with Content-Length, its producer registered", () => {
    const c = connected();
    const body = new FileBodyProducer(Buffer.from("x=1&y=2"));
    const d = c.proto.request(makeRequest("POST", "http://example.com/form", { body }));
    assert.equal(
      c.written(),
      "POST /form HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\nContent-Length: 7\r\n\r\nx=1&y=2",
    );
    assert.equal(c.tr.producer, null, "unregistered once the body is written");
    assert.equal(c.proto.state, "WAITING");
    assertNoResult(d);
  });

  it("a body of unknown length is sent chunked, as the producer writes it", () => {
    const c = connected();
    const producer = new ControlledProducer(UNKNOWN_LENGTH, () => new Deferred<void>());
    c.proto.request(makeRequest("PUT", "http://example.com/up", { body: producer }));
    assert.match(c.written(), /\r\nTransfer-Encoding: chunked\r\n\r\n$/);
    assert.notEqual(c.tr.producer, null, "the producer is registered while it writes");
    c.tr.clear();
    producer.consumer?.write("abc");
    producer.consumer?.write(Buffer.alloc(600, 0x61));
    producer.finished?.callback(undefined);
    const out = c.written();
    assert.equal(out, `3\r\nabc\r\n258\r\n${"a".repeat(600)}\r\n0\r\n\r\n`);
    assert.equal(c.tr.producer, null);
  });

  it("the transport's flow control reaches the body producer", () => {
    const c = connected();
    const producer = new ControlledProducer(UNKNOWN_LENGTH, () => new Deferred<void>());
    c.proto.request(makeRequest("PUT", "http://example.com/up", { body: producer }));
    const registered = c.tr.producer as unknown as {
      pauseProducing(): void;
      resumeProducing(): void;
    };
    registered.pauseProducing();
    assert.equal(producer.state, "paused");
    registered.resumeProducing();
    assert.equal(producer.state, "producing");
  });

  it("a producer writing more than its length fails the request with WrongBodyLength and aborts", () => {
    const c = connected();
    const producer = new ControlledProducer(3, () => new Deferred<void>());
    const d = c.proto.request(makeRequest("PUT", "http://example.com/", { body: producer }));
    producer.consumer?.write("abcd");
    const f = failureResultOf(d, RequestGenerationFailed);
    assert.ok((f.value as RequestGenerationFailed).hasReason(WrongBodyLength));
    assert.ok(c.tr.aborted);
    assert.equal(producer.state, "stopped");
  });

  it("a producer finishing short of its length fails the request with WrongBodyLength", () => {
    const c = connected();
    const producer = new ControlledProducer(10, () => new Deferred<void>());
    const d = c.proto.request(makeRequest("PUT", "http://example.com/", { body: producer }));
    producer.consumer?.write("abc");
    producer.finished?.callback(undefined);
    const f = failureResultOf(d, RequestGenerationFailed);
    assert.ok((f.value as RequestGenerationFailed).hasReason(WrongBodyLength));
    assert.ok(c.tr.aborted);
  });

  it("a failing producer fails the request with RequestGenerationFailed holding its error", () => {
    const c = connected();
    const producer = new ControlledProducer(UNKNOWN_LENGTH, () => new Deferred<void>());
    const d = c.proto.request(makeRequest("PUT", "http://example.com/", { body: producer }));
    producer.finished?.errback(new Error("disk on fire"));
    const f = failureResultOf(d, RequestGenerationFailed);
    assert.match(f.getErrorMessage(), /disk on fire/);
    assert.ok(c.tr.aborted);
  });

  it("an invalid method fails with RequestGenerationFailed before anything is written", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GE T", "http://example.com/"));
    failureResultOf(d, RequestGenerationFailed);
    assert.equal(c.written(), "");
  });

  it("a second request while one is in progress fails with RequestNotSent", () => {
    const c = connected();
    c.proto.request(makeRequest("GET", "http://example.com/"));
    failureResultOf(c.proto.request(makeRequest("GET", "http://example.com/")), RequestNotSent);
  });
});

describe("HTTP11ClientProtocol: reading responses (every split)", () => {
  it("a Content-Length response: head fires the Deferred, body ends with ResponseDone", () => {
    for (const [name, chunks] of splits(OK)) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      for (const chunk of chunks) c.feed(chunk);
      const response = successResultOf(d);
      assert.equal(response.code, 200, name);
      assert.equal(response.phrase, "OK");
      assert.deepEqual(response.version, ["HTTP", 1, 1]);
      assert.equal(response.length, 5);
      assert.deepEqual(response.headers.getRawHeaders("content-type"), ["text/plain"]);
      assert.equal(response.request?.method, "GET");
      assert.equal(successResultOf(readBody(response)).toString(), "hello", name);
      assert.ok(c.tr.disconnecting, "a non-persistent connection is closed after the response");
    }
  });

  it("a chunked response with trailers", () => {
    const wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n";
    for (const [name, chunks] of splits(wire)) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      const body = new BodyRecorder();
      d.addCallback((r) => r.deliverBody(body));
      for (const chunk of chunks) c.feed(chunk);
      assert.equal(successResultOf(d), undefined);
      assert.equal(body.body, "hello world", name);
      assert.ok(body.reason?.check(ResponseDone));
      assert.equal(body.lostCount, 1);
    }
  });

  it("a close-delimited response ends with PotentialDataLoss when the server closes cleanly", () => {
    for (const [name, chunks] of splits("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it")) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      for (const chunk of chunks) c.feed(chunk);
      const response = successResultOf(d);
      assert.equal(response.length, UNKNOWN_LENGTH);
      assert.deepEqual(response.version, ["HTTP", 1, 0]);
      const body = new BodyRecorder();
      response.deliverBody(body);
      assert.equal(body.reason, null);
      c.proto.connectionLost(new Failure(new ConnectionDone()));
      assert.equal(body.body, "all of it", name);
      assert.ok((body.reason as Failure | null)?.check(PotentialDataLoss), name);
    }
  });

  it("readBody fails a close-delimited body with PartialDownloadError holding the bytes", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\n\r\nabc");
    const body = readBody(successResultOf(d));
    c.proto.connectionLost(new Failure(new ConnectionDone()));
    const f = failureResultOf(body, PartialDownloadError);
    assert.equal((f.value as PartialDownloadError).response?.toString(), "abc");
  });

  it("a close-delimited body cut by a reset fails with ResponseFailed", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\n\r\nabc");
    const body = readBody(successResultOf(d));
    c.proto.connectionLost(new Failure(new ConnectionLost()));
    const f = failureResultOf(body, ResponseFailed);
    assert.ok((f.value as ResponseFailed).hasReason(ConnectionLost));
  });

  it("a HEAD response has no body even with a Content-Length", () => {
    for (const [name, chunks] of splits("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")) {
      const c = connected();
      const seen: string[] = [];
      const head = c.proto.request(
        makeRequest("HEAD", "http://example.com/", { persistent: true }),
      );
      head
        .addCallback((r) => {
          seen.push(`length:${String(r.length)}`);
          return readBody(r);
        })
        .addCallback((b) => seen.push(`head:${b.length}`));
      for (const chunk of chunks) c.feed(chunk);
      assert.deepEqual(seen, ["length:0", "head:0"], name);
      assert.equal(c.proto.state, "QUIESCENT");
      const get = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
      c.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
      assert.equal(successResultOf(readBody(successResultOf(get))).toString(), "hi");
    }
  });

  it("204 and 304 responses have no body", () => {
    for (const status of ["204 No Content", "304 Not Modified"]) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
      c.feed(`HTTP/1.1 ${status}\r\nContent-Length: 10\r\n\r\n`);
      const response = successResultOf(d);
      assert.equal(response.length, 0);
      assert.equal(successResultOf(readBody(response)).length, 0);
      assert.equal(c.proto.state, "QUIESCENT");
    }
  });

  it("1xx responses before the final one are skipped", () => {
    for (const [name, chunks] of splits(
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK}`,
    )) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      for (const chunk of chunks) c.feed(chunk);
      const response = successResultOf(d);
      assert.equal(response.code, 200, name);
      assert.equal(successResultOf(readBody(response)).toString(), "hello");
    }
  });

  it("a persistent connection becomes quiescent after the response and takes another request", () => {
    const quiet: unknown[] = [];
    const c = connected({ quiescentCallback: (p) => quiet.push(p) });
    const d = c.proto.request(makeRequest("GET", "http://example.com/1", { persistent: true }));
    c.feed(OK);
    const body = readBody(successResultOf(d));
    assert.equal(successResultOf(body).toString(), "hello");
    assert.deepEqual(quiet, [c.proto]);
    assert.equal(c.proto.state, "QUIESCENT");
    assert.equal(c.tr.disconnecting, false);
    c.tr.clear();
    const d2 = c.proto.request(makeRequest("GET", "http://example.com/2", { persistent: true }));
    assert.match(c.written(), /^GET \/2 HTTP\/1.1\r\n/);
    c.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert.equal(successResultOf(d2).code, 404);
    assert.equal(quiet.length, 2);
  });

  it("the connection is back in the pool before the body's reader hears of the end", () => {
    const order: string[] = [];
    const c = connected({ quiescentCallback: () => order.push("quiescent") });
    const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
    const body = new BodyRecorder();
    body.connectionLost = () => void order.push("body done");
    d.addCallback((r) => r.deliverBody(body));
    c.feed(OK);
    assert.deepEqual(order, ["quiescent", "body done"]);
  });

  it("Connection: close from the server closes the connection after the response", () => {
    const quiet: unknown[] = [];
    const c = connected({ quiescentCallback: (p) => quiet.push(p) });
    const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
    c.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    successResultOf(readBody(successResultOf(d)));
    assert.deepEqual(quiet, []);
    assert.ok(c.tr.disconnecting);
  });

  it("an HTTP/1.0 keep-alive response keeps the connection", () => {
    const quiet: unknown[] = [];
    const c = connected({ quiescentCallback: (p) => quiet.push(p) });
    const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
    c.feed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    successResultOf(readBody(successResultOf(d)));
    assert.equal(quiet.length, 1);
  });

  it("bytes beyond the response make the connection unusable", () => {
    const quiet: unknown[] = [];
    const c = connected({ quiescentCallback: (p) => quiet.push(p) });
    const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
    c.feed(`${OK}HTTP/1.1 200 OK\r\n`);
    successResultOf(readBody(successResultOf(d)));
    assert.deepEqual(quiet, []);
    assert.ok(c.tr.disconnecting);
  });

  it("bytes arriving on an idle connection abort it", () => {
    const c = connected();
    c.feed("HTTP/1.1 408 Request Timeout\r\n\r\n");
    assert.ok(c.tr.aborted);
    failureResultOf(c.proto.request(makeRequest("GET", "http://example.com/")), RequestNotSent);
  });
});

describe("HTTP11ClientProtocol: failures", () => {
  it("a connection lost before any response byte fails with ResponseNeverReceived", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.proto.connectionLost(new Failure(new ConnectionDone()));
    const f = failureResultOf(d, ResponseNeverReceived);
    assert.ok((f.value as ResponseNeverReceived).hasReason(ConnectionDone));
  });

  it("a connection lost in the middle of the head fails with ResponseFailed", () => {
    for (const [name, chunks] of splits("HTTP/1.1 200 OK\r\nContent-Le")) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      for (const chunk of chunks) c.feed(chunk);
      c.proto.connectionLost(new Failure(new ConnectionDone()));
      const f = failureResultOf(d, ResponseFailed);
      assert.ok(!(f.value instanceof ResponseNeverReceived), name);
      assert.ok((f.value as ResponseFailed).hasReason(RemoteProtocolError));
    }
  });

  it("a body cut short of its Content-Length fails with ResponseFailed", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    const body = new BodyRecorder();
    successResultOf(d).deliverBody(body);
    c.proto.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(body.body, "abc");
    assert.ok(body.reason?.check(ResponseFailed));
    const failed = body.reason?.value as ResponseFailed;
    assert.ok(failed.hasReason(ConnectionDone));
    assert.ok(failed.hasReason(RemoteProtocolError));
    assert.equal(failed.response, successResultOf(d));
  });

  it("a connection lost while the body is sent fails with RequestTransmissionFailed", () => {
    const c = connected();
    const producer = new ControlledProducer(100, () => new Deferred<void>());
    const d = c.proto.request(makeRequest("PUT", "http://example.com/", { body: producer }));
    producer.consumer?.write("abc");
    c.tr.loseConnection();
    failureResultOf(d, RequestTransmissionFailed);
    assert.equal(producer.state, "stopped");
    assert.equal(producer.stopCount, 1, "stopped once, though both the transport and we stop it");
  });

  it("a garbled status line fails with ResponseFailed and aborts", () => {
    for (const [name, chunks] of splits("HTTQ/1.1 200 OK\r\n\r\n")) {
      const c = connected();
      const d = c.proto.request(makeRequest("GET", "http://example.com/"));
      for (const chunk of chunks) c.feed(chunk);
      const f = failureResultOf(d, ResponseFailed);
      assert.ok((f.value as ResponseFailed).hasReason(RemoteProtocolError), name);
      assert.ok(c.tr.aborted);
    }
  });

  it("a malformed chunk fails the body with ResponseFailed", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
    const body = readBody(successResultOf(d));
    failureResultOf(body, ResponseFailed);
    assert.ok(c.tr.aborted);
  });

  it("a header block over the limit fails with ResponseFailed (bounded memory)", () => {
    const c = connected({ limits: { maxHeaderSize: 1024 } });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\n");
    for (let i = 0; i < 100 && !c.tr.aborted; i++) c.feed(`X-Filler-${i}: ${"y".repeat(40)}\r\n`);
    const f = failureResultOf(d, ResponseFailed);
    assert.match(f.getErrorMessage(), /Header block too large/);
    assert.ok(c.tr.aborted);
  });

  it("too many headers fail with ResponseFailed", () => {
    const c = connected({ limits: { maxHeaderCount: 5 } });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed(`HTTP/1.1 200 OK\r\n${"A: b\r\n".repeat(6)}\r\n`);
    failureResultOf(d, ResponseFailed);
  });

  it("a body over maxBodySize fails with ResponseFailed", () => {
    const c = connected({ limits: { maxBodySize: 4 } });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n");
    failureResultOf(readBody(successResultOf(d)), ResponseFailed);
  });

  it("a 101 to a request that did not ask for an upgrade fails", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
    failureResultOf(d, ResponseFailed);
  });
});

describe("HTTP11ClientProtocol: cancel, abort and timeouts", () => {
  it("cancelling before the response aborts the connection and stops the producer", () => {
    const c = connected();
    const producer = new ControlledProducer(100, () => new Deferred<void>());
    const d = c.proto.request(makeRequest("PUT", "http://example.com/", { body: producer }));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.ok(c.tr.aborted);
    assert.equal(producer.state, "stopped");
    assert.equal(c.proto.state, "CONNECTION_LOST");
    assert.equal(c.tr.producer, null);
  });

  it("cancelling after the response has arrived changes nothing", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed(OK);
    d.cancel();
    assert.equal(successResultOf(d).code, 200);
  });

  it("cancelling readBody aborts the connection and fails with CancelledError", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
    const body = readBody(successResultOf(d));
    body.cancel();
    failureResultOf(body, CancelledError);
    assert.ok(c.tr.aborted);
  });

  it("stopProducing from the body's reader aborts with ResponseFailed(ConnectionAborted)", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    const body = new BodyRecorder();
    body.onData = (_data, self) =>
      (self.transport as unknown as { stopProducing(): void }).stopProducing();
    d.addCallback((r) => r.deliverBody(body));
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
    assert.ok(c.tr.aborted);
    assert.ok((body.reason?.value as ResponseFailed | undefined)?.hasReason(ConnectionAborted));
    assert.equal(body.lostCount, 1);
  });

  it("abort() fails the request in progress and fires once the connection is gone", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    const done = c.proto.abort();
    const f = failureResultOf(d, ResponseNeverReceived);
    assert.ok((f.value as ResponseNeverReceived).hasReason(ConnectionAborted));
    successResultOf(done);
  });

  it("readTimeout: silence from the server fails with ResponseNeverReceived(TimeoutError)", () => {
    const c = connected({ readTimeout: 5 });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.clock.advance(4.9);
    assertNoResult(d);
    c.clock.advance(0.2);
    const f = failureResultOf(d, ResponseNeverReceived);
    assert.ok((f.value as ResponseNeverReceived).hasReason(TimeoutError));
    assert.ok(c.tr.aborted);
  });

  it("readTimeout is reset by data, and stops the body when the server stalls", () => {
    const c = connected({ readTimeout: 5 });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.clock.advance(4);
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
    const body = readBody(successResultOf(d));
    c.clock.advance(4);
    c.feed("cd");
    c.clock.advance(4);
    assertNoResult(body);
    c.clock.advance(2);
    const f = failureResultOf(body, ResponseFailed);
    assert.ok((f.value as ResponseFailed).hasReason(TimeoutError));
    assert.equal(c.clock.getDelayedCalls().length, 0);
  });

  it("readTimeout does not run while the body's reader has paused the connection", () => {
    const c = connected({ readTimeout: 5 });
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    const body = new BodyRecorder();
    body.onData = (_d, self) =>
      (self.transport as unknown as { pauseProducing(): void }).pauseProducing();
    d.addCallback((r) => r.deliverBody(body));
    c.feed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
    assert.equal(c.tr.producerState, "paused");
    c.clock.advance(100);
    assert.equal(body.reason, null);
    assert.equal(c.clock.getDelayedCalls().length, 0);
  });

  it("no timer is left once a response has ended", () => {
    const c = connected({ readTimeout: 5 });
    const d = c.proto.request(makeRequest("GET", "http://example.com/", { persistent: true }));
    c.feed(OK);
    successResultOf(readBody(successResultOf(d)));
    assert.equal(c.clock.getDelayedCalls().length, 0);
  });
});

describe("HTTP11ClientProtocol: flow control of the response body", () => {
  it("the body's reader pauses and resumes the connection; data held meanwhile follows", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    const body = new BodyRecorder();
    let pauseNext = true;
    body.onData = (_data, self) => {
      if (pauseNext) (self.transport as unknown as { pauseProducing(): void }).pauseProducing();
    };
    d.addCallback((r) => r.deliverBody(body));
    c.feed(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
    );
    assert.equal(body.body, "abc", "held after the pause");
    assert.equal(c.tr.producerState, "paused");
    pauseNext = false;
    (body.transport as unknown as { resumeProducing(): void }).resumeProducing();
    assert.equal(c.tr.producerState, "producing");
    assert.equal(body.body, "abcdef");
    assert.ok(body.reason?.check(ResponseDone));
  });

  it("a body not yet asked for is held (up to a limit, then the connection pauses)", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed(`HTTP/1.1 200 OK\r\nContent-Length: ${200 * 1024}\r\n\r\n`);
    const response = successResultOf(d);
    for (let i = 0; i < 10; i++) c.feed(Buffer.alloc(10 * 1024, 0x62));
    assert.equal(c.tr.producerState, "paused");
    const body = new BodyRecorder();
    response.deliverBody(body);
    assert.equal(c.tr.producerState, "producing");
    assert.equal(Buffer.concat(body.chunks).length, 100 * 1024);
    c.feed(Buffer.alloc(100 * 1024, 0x62));
    assert.ok(body.reason?.check(ResponseDone));
  });

  it("a body that ended before deliverBody is delivered at once", () => {
    const c = connected();
    const d = c.proto.request(makeRequest("GET", "http://example.com/"));
    c.feed(OK);
    const body = new BodyRecorder();
    successResultOf(d).deliverBody(body);
    assert.equal(body.body, "hello");
    assert.ok(body.reason?.check(ResponseDone));
    assert.throws(() => successResultOf(d).deliverBody(new BodyRecorder()), /twice/);
  });

  it("a response that arrives while the body is still being sent stops the upload", () => {
    const c = connected();
    const producer = new ControlledProducer(1000, () => new Deferred<void>());
    const d = c.proto.request(
      makeRequest("PUT", "http://example.com/", { body: producer, persistent: true }),
    );
    producer.consumer?.write("abc");
    c.feed("HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig");
    const response = successResultOf(d);
    assert.equal(response.code, 413);
    assert.equal(successResultOf(readBody(response)).toString(), "big");
    assert.equal(producer.state, "stopped");
    assert.ok(c.tr.disconnecting, "the connection cannot be reused");
  });
});
