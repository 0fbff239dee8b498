// Tests of URI and Request: the parts of a URI a request needs, and the head a request sends.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FileBodyProducer,
  Headers,
  type IBodyProducer,
  Request,
  SchemeNotSupported,
  UNKNOWN_LENGTH,
  URI,
} from "../../../src/web/client/index.js";

describe("URI", () => {
  it("splits an absolute URI", () => {
    const uri = URI.fromString("https://u%40x:p%3Aw@Example.COM:8443/a b/c?q=1&r#frag");
    assert.equal(uri.scheme, "https");
    assert.equal(uri.host, "example.com");
    assert.equal(uri.port, 8443);
    assert.equal(uri.path, "/a%20b/c");
    assert.equal(uri.query, "?q=1&r");
    assert.equal(uri.fragment, "#frag");
    assert.equal(uri.username, "u@x");
    assert.equal(uri.password, "p:w");
    assert.equal(uri.originForm, "/a%20b/c?q=1&r");
    assert.equal(uri.absoluteForm, "https://example.com:8443/a%20b/c?q=1&r");
    assert.equal(uri.hostHeader, "example.com:8443");
    assert.equal(uri.origin, "https://example.com:8443");
    assert.equal(uri.toBytes().toString(), "https://example.com:8443/a%20b/c?q=1&r#frag");
  });

  it("defaults the port and the path", () => {
    const uri = URI.fromBytes(Buffer.from("http://example.com"));
    assert.equal(uri.port, 80);
    assert.equal(uri.originForm, "/");
    assert.equal(uri.hostHeader, "example.com");
    assert.equal(URI.fromString("https://example.com:443/").hostHeader, "example.com");
  });

  it("keeps IPv6 hosts bare, and bracketed where the wire needs it", () => {
    const uri = URI.fromString("http://[::1]:8080/");
    assert.equal(uri.host, "::1");
    assert.equal(uri.hostHeader, "[::1]:8080");
    assert.equal(uri.absoluteForm, "http://[::1]:8080/");
  });

  it("IDNA-encodes host names", () => {
    assert.equal(URI.fromString("http://bücher.example/").host, "xn--bcher-kva.example");
  });

  it("refuses other schemes and what is not a URI", () => {
    assert.throws(() => URI.fromString("ftp://example.com/"), SchemeNotSupported);
    assert.throws(() => URI.fromString("/relative"), TypeError);
  });

  it("resolves references against itself", () => {
    const base = URI.fromString("http://example.com/a/b?x");
    assert.equal(base.resolve("c").toString(), "http://example.com/a/c");
    assert.equal(base.resolve("//other.example/z").toString(), "http://other.example/z");
    assert.equal(base.resolve("https://x.example/").scheme, "https");
  });
});

describe("Request", () => {
  const uri = URI.fromString("http://example.com/p?q");

  it("adds Host and Connection: close; keeps a Host given", () => {
    const head = new Request("GET", uri, new Headers(), null)._head();
    assert.equal(head.target, "/p?q");
    assert.deepEqual(head.headers.getRawHeaders("host"), ["example.com"]);
    assert.deepEqual(head.headers.getRawHeaders("connection"), ["close"]);
    const given = new Request("GET", uri, new Headers({ Host: ["other"] }), null, {
      persistent: true,
    })._head();
    assert.deepEqual(given.headers.getRawHeaders("host"), ["other"]);
    assert.equal(given.headers.hasHeader("connection"), false);
  });

  it("frames the body by the producer's length, replacing framing headers given", () => {
    const headers = new Headers({ "Content-Length": ["99"], "Transfer-Encoding": ["gzip"] });
    const sized = new Request("PUT", uri, headers, new FileBodyProducer("abc"))._head();
    assert.deepEqual(sized.headers.getRawHeaders("content-length"), ["3"]);
    assert.equal(sized.headers.hasHeader("transfer-encoding"), false);
    const unknown: IBodyProducer = {
      length: UNKNOWN_LENGTH,
      startProducing: () => Promise.resolve(),
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    };
    const chunked = new Request("PUT", uri, headers, unknown)._head();
    assert.deepEqual(chunked.headers.getRawHeaders("transfer-encoding"), ["chunked"]);
    assert.equal(chunked.headers.hasHeader("content-length"), false);
  });

  it("the request target can be the absolute form (for proxies)", () => {
    const request = new Request("GET", uri, new Headers(), null, { target: uri.absoluteForm });
    assert.equal(request._head().target, "http://example.com/p?q");
    assert.equal(request.absoluteURI, "http://example.com/p?q");
    assert.equal(String(request), "<Request GET http://example.com/p?q>");
  });
});
