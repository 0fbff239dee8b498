// Tests of RedirectAgent and BrowserLikeRedirectAgent over a fake agent.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError } from "../../../src/internet/error.js";
import { assertNoResult, failureResultOf, successResultOf } from "../../../src/testing/index.js";
import {
  BrowserLikeRedirectAgent,
  FileBodyProducer,
  Headers,
  InfiniteRedirection,
  PageRedirect,
  RedirectAgent,
  RedirectWithNoLocation,
} from "../../../src/web/client/index.js";
import { FakeAgent } from "./_helpers.js";

describe("RedirectAgent", () => {
  for (const code of [301, 302, 307, 308]) {
    it(`follows a ${code} for GET with the same method, to the resolved Location`, () => {
      const fake = new FakeAgent();
      const d = new RedirectAgent(fake).request("GET", "http://example.com/a/b?q");
      const first = fake.answer(code, { Location: ["../c"] }, "moved");
      assert.equal(fake.requests[1]?.uri, "http://example.com/c");
      assert.equal(fake.requests[1]?.method, "GET");
      assert.ok(first.delivered, "the redirect's body is read (so its connection can be reused)");
      const final = fake.answer(200, {}, "here");
      const response = successResultOf(d);
      assert.equal(response, final);
      assert.equal(response.previousResponse, first);
    });
  }

  it("follows a 303 with a GET without body, dropping the body's headers", () => {
    const fake = new FakeAgent();
    const headers = new Headers({ "Content-Type": ["text/plain"], "X-Keep": ["1"] });
    new RedirectAgent(fake).request(
      "POST",
      "http://example.com/form",
      headers,
      new FileBodyProducer("x"),
    );
    fake.answer(303, { Location: ["/done"] });
    const next = fake.requests[1];
    assert.equal(next?.method, "GET");
    assert.equal(next?.bodyProducer, null);
    assert.equal(next?.headers.hasHeader("content-type"), false);
    assert.deepEqual(next?.headers.getRawHeaders("x-keep"), ["1"]);
  });

  it("a HEAD stays a HEAD after a 303", () => {
    const fake = new FakeAgent();
    new RedirectAgent(fake).request("HEAD", "http://example.com/");
    fake.answer(303, { Location: ["/x"] });
    assert.equal(fake.requests[1]?.method, "HEAD");
  });

  it("a 301/302/307/308 to a POST fails with PageRedirect (the body cannot be sent again)", () => {
    for (const code of [301, 302, 307, 308]) {
      const fake = new FakeAgent();
      const d = new RedirectAgent(fake).request(
        "POST",
        "http://example.com/",
        null,
        new FileBodyProducer("x"),
      );
      fake.answer(code, { Location: ["/elsewhere"] });
      const f = failureResultOf(d, PageRedirect);
      assert.equal((f.value as PageRedirect).location, "http://example.com/elsewhere");
      assert.equal((f.value as PageRedirect).status, code);
      assert.equal(fake.requests.length, 1);
    }
  });

  it("more redirects than the limit fail with InfiniteRedirection", () => {
    const fake = new FakeAgent();
    const d = new RedirectAgent(fake, 3).request("GET", "http://example.com/0");
    for (let i = 1; i <= 4; i++) fake.answer(302, { Location: [`/${i}`] });
    const f = failureResultOf(d, InfiniteRedirection);
    assert.equal(fake.requests.length, 4);
    assert.equal((f.value as InfiniteRedirection).location, "http://example.com/4");
    assert.equal((f.value as InfiniteRedirection).redirectResponse !== null, true);
  });

  it("a redirect without Location fails with RedirectWithNoLocation", () => {
    const fake = new FakeAgent();
    const d = new RedirectAgent(fake).request("GET", "http://example.com/");
    fake.answer(302);
    failureResultOf(d, RedirectWithNoLocation);
  });

  it("other statuses pass through untouched", () => {
    const fake = new FakeAgent();
    const d = new RedirectAgent(fake).request("GET", "http://example.com/");
    const r = fake.answer(304);
    assert.equal(successResultOf(d), r);
  });

  it("credentials and cookies are not sent to another origin", () => {
    const fake = new FakeAgent();
    const headers = new Headers({
      Authorization: ["Bearer t"],
      Cookie: ["a=1"],
      "Proxy-Authorization": ["Basic x"],
      Accept: ["*/*"],
    });
    new RedirectAgent(fake).request("GET", "https://example.com/", headers);
    fake.answer(302, { Location: ["https://example.com:8443/"] });
    const next = fake.requests[1]?.headers;
    assert.equal(next?.hasHeader("authorization"), false, "another port is another origin");
    assert.equal(next?.hasHeader("cookie"), false);
    assert.equal(next?.hasHeader("proxy-authorization"), false);
    assert.deepEqual(next?.getRawHeaders("accept"), ["*/*"]);
  });

  it("credentials are kept within the same origin, userinfo ones included", () => {
    const fake = new FakeAgent();
    new RedirectAgent(fake).request(
      "GET",
      "http://u:p@example.com/a",
      new Headers({ Cookie: ["a=1"] }),
    );
    fake.answer(301, { Location: ["http://example.com/b"] });
    const next = fake.requests[1];
    assert.equal(next?.uri, "http://example.com/b");
    assert.deepEqual(next?.headers.getRawHeaders("authorization"), [
      `Basic ${Buffer.from("u:p").toString("base64")}`,
    ]);
    assert.deepEqual(next?.headers.getRawHeaders("cookie"), ["a=1"]);
    fake.answer(302, { Location: ["http://other.example/"] });
    assert.equal(fake.requests[2]?.headers.hasHeader("authorization"), false);
  });

  it("cancelling while a redirect is being followed cancels the request in flight", () => {
    const fake = new FakeAgent();
    const d = new RedirectAgent(fake).request("GET", "http://example.com/");
    fake.answer(302, { Location: ["/x"] });
    assertNoResult(d);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(fake.requests[1]?.deferred.called, true);
  });
});

describe("BrowserLikeRedirectAgent", () => {
  for (const code of [301, 302, 303]) {
    it(`turns a POST into a GET on ${code}`, () => {
      const fake = new FakeAgent();
      new BrowserLikeRedirectAgent(fake).request(
        "POST",
        "http://example.com/",
        null,
        new FileBodyProducer("x"),
      );
      fake.answer(code, { Location: ["/next"] });
      assert.equal(fake.requests[1]?.method, "GET");
      assert.equal(fake.requests[1]?.bodyProducer, null);
    });
  }

  it("a 307 to a POST fails with PageRedirect; a 307 to a GET is followed", () => {
    const fake = new FakeAgent();
    const d = new BrowserLikeRedirectAgent(fake).request(
      "POST",
      "http://example.com/",
      null,
      new FileBodyProducer("x"),
    );
    fake.answer(307, { Location: ["/next"] });
    failureResultOf(d, PageRedirect);
    const get = new BrowserLikeRedirectAgent(fake).request("GET", "http://example.com/");
    fake.answer(307, { Location: ["/next"] });
    fake.answer(200);
    assert.equal(successResultOf(get).code, 200);
  });
});
