// Tests of Expect: 100-continue in HTTP11ClientProtocol on a StringTransport: the body waits for 100, a final answer, or the timer.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deferred } from "../../../src/internet/defer.js";
import { CancelledError, ConnectionLost } from "../../../src/internet/error.js";
import { Failure } from "../../../src/internet/failure.js";
import {
  assertNoResult,
  failureResultOf,
  StringTransport,
  successResultOf,
} from "../../../src/testing/index.js";
import {
  FileBodyProducer,
  HTTP11ClientProtocol,
  RequestTransmissionFailed,
  readBody,
  UNKNOWN_LENGTH,
} from "../../../src/web/client/index.js";
import { ControlledProducer, connected, makeRequest } from "./_helpers.js";

const EXPECT = { Expect: ["100-continue"] };
const HEAD =
  "PUT /up HTTP/1.1\r\nExpect: 100-continue\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n";
const OK = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";

function setup(timeout?: number) {
  const quiet: HTTP11ClientProtocol[] = [];
  const c = connected({
    quiescentCallback: (p) => quiet.push(p),
    ...(timeout === undefined ? {} : { expectContinueTimeout: timeout }),
  });
  const producer = new ControlledProducer(5, () => {
    const d = new Deferred<void>();
    return d;
  });
  const d = c.proto.request(
    makeRequest("PUT", "http://example.com/up", {
      headers: EXPECT,
      body: producer,
      persistent: true,
    }),
  );
  /** Writes the whole body and ends it, as the producer. */
  const produce = () => {
    producer.consumer?.write("hello");
    producer.finished?.callback(undefined);
  };
  return { ...c, quiet, producer, d, produce };
}

describe("HTTP11ClientProtocol: Expect: 100-continue", () => {
  it("sends the head alone, and the body once 100 Continue arrives; the connection is reused", () => {
    const t = setup();
    assert.equal(t.written(), HEAD);
    assert.equal(t.producer.state, "idle", "the producer has not started");
    assert.equal(t.tr.producer, null, "nothing registered yet");
    assert.equal(t.proto.state, "TRANSMITTING");
    t.feed("HTTP/1.1 100 Continue\r\n\r\n");
    assert.equal(t.producer.state, "producing");
    assert.equal(t.tr.producer !== null, true, "registered for flow control");
    t.produce();
    assert.equal(t.written(), `${HEAD}hello`);
    assert.equal(t.proto.state, "WAITING");
    assertNoResult(t.d);
    t.feed(OK);
    const response = successResultOf(t.d);
    assert.equal(response.code, 201);
    assert.equal(successResultOf(readBody(response)).toString(), "ok");
    assert.deepEqual(t.quiet, [t.proto], "quiescent: reusable");
    assert.equal(t.tr.disconnecting, false);
    assert.equal(t.clock.getDelayedCalls().length, 0, "the expect timer is gone");
  });

  it("skips other 1xx answers (103 Early Hints) and keeps waiting for 100", () => {
    const t = setup();
    t.feed("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
    assert.equal(t.producer.state, "idle");
    t.clock.advance(0.5);
    assert.equal(t.producer.state, "idle");
    t.feed("HTTP/1.1 100 Continue\r\n\r\n");
    assert.equal(t.producer.state, "producing");
    t.produce();
    t.feed(OK);
    assert.equal(successResultOf(t.d).code, 201);
  });

  it("a final answer first (417): the body is never sent, its producer stopped, the connection closed", () => {
    const t = setup();
    t.feed("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\n");
    const response = successResultOf(t.d);
    assert.equal(response.code, 417);
    assert.equal(t.producer.state, "stopped");
    assert.equal(t.producer.consumer, null, "never started");
    assert.equal(t.producer.stopCount, 1);
    assert.equal(t.clock.getDelayedCalls().length, 0, "the expect timer is cancelled");
    t.clock.advance(5);
    assert.equal(t.written(), HEAD, "no body, even after the timeout");
    t.feed("nope");
    assert.equal(successResultOf(readBody(response)).toString(), "nope");
    assert.deepEqual(t.quiet, [], "not reused: the server may still wait for 5 bytes");
    assert.equal(t.tr.disconnecting, true);
  });

  it("a chunked body answered early is not sent either, and the connection closes", () => {
    const c = connected({ quiescentCallback: () => assert.fail("must not be reused") });
    const producer = new ControlledProducer(UNKNOWN_LENGTH, () => new Deferred<void>());
    const d = c.proto.request(
      makeRequest("POST", "http://example.com/", {
        headers: { Expect: ["100-Continue"] },
        body: producer,
        persistent: true,
      }),
    );
    assert.match(c.written(), /Transfer-Encoding: chunked\r\n\r\n$/);
    c.feed("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
    assert.equal(successResultOf(d).code, 401);
    assert.equal(producer.state, "stopped");
    assert.match(c.written(), /\r\n\r\n$/, "no chunk written");
    assert.equal(c.tr.disconnecting, true);
  });

  it("sends the body anyway after expectContinueTimeout (default 1 second) of silence", () => {
    const t = setup();
    t.clock.advance(0.999);
    assert.equal(t.producer.state, "idle");
    t.clock.advance(0.001);
    assert.equal(t.producer.state, "producing");
    t.produce();
    assert.equal(t.written(), `${HEAD}hello`);
    // A late 100 is skipped.
    t.feed("HTTP/1.1 100 Continue\r\n\r\n");
    t.feed(OK);
    assert.equal(successResultOf(t.d).code, 201);
    assert.deepEqual(t.quiet, [t.proto]);
  });

  it("expectContinueTimeout is configurable; 0 sends the body at once", () => {
    const five = setup(5);
    five.clock.advance(4.9);
    assert.equal(five.producer.state, "idle");
    five.clock.advance(0.1);
    assert.equal(five.producer.state, "producing");
    const zero = setup(0);
    assert.equal(zero.producer.state, "producing");
  });

  it("without a clock the body is sent at once", () => {
    const proto = new HTTP11ClientProtocol();
    const tr = new StringTransport();
    proto.makeConnection(tr);
    proto.request(
      makeRequest("PUT", "http://example.com/up", {
        headers: EXPECT,
        body: new FileBodyProducer("hello"),
      }),
    );
    assert.match(tr.value().toString(), /\r\n\r\nhello$/);
  });

  it("a request without a body (or with an empty one) does not wait", () => {
    const c = connected();
    c.proto.request(makeRequest("POST", "http://example.com/", { headers: EXPECT }));
    assert.equal(c.proto.state, "WAITING");
    const e = connected();
    e.proto.request(
      makeRequest("POST", "http://example.com/", {
        headers: EXPECT,
        body: new FileBodyProducer(""),
      }),
    );
    assert.equal(e.proto.state, "WAITING");
    assert.equal(e.clock.getDelayedCalls().length, 0);
  });

  it("cancelling while waiting stops the timer and the producer and aborts the connection", () => {
    const t = setup();
    t.d.cancel();
    failureResultOf(t.d, CancelledError);
    assert.equal(t.producer.state, "stopped");
    assert.equal(t.tr.aborted, true);
    assert.equal(t.clock.getDelayedCalls().length, 0);
  });

  it("a connection lost while waiting fails with RequestTransmissionFailed", () => {
    const t = setup();
    t.proto.connectionLost(new Failure(new ConnectionLost()));
    const f = failureResultOf(t.d, RequestTransmissionFailed);
    assert.ok((f.value as RequestTransmissionFailed).hasReason(ConnectionLost));
    assert.equal(t.producer.state, "stopped");
    assert.equal(t.clock.getDelayedCalls().length, 0);
  });
});
