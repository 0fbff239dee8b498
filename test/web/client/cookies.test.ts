// Tests of CookieJar (RFC 6265 parsing, matching, expiry, Secure, prefixes, limits) and CookieAgent.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Clock, successResultOf } from "../../../src/testing/index.js";
import {
  CookieAgent,
  CookieJar,
  domainMatch,
  Headers,
  parseCookieDate,
  pathMatch,
  URI,
} from "../../../src/web/client/index.js";
import { FakeAgent } from "./_helpers.js";

function jarAt(seconds = 1_700_000_000): { jar: CookieJar; clock: Clock } {
  const clock = new Clock();
  clock.advance(seconds);
  return { jar: new CookieJar({ clock }), clock };
}

describe("cookie dates, domains and paths", () => {
  it("parses the date formats servers send", () => {
    const t = Date.UTC(2015, 9, 21, 7, 28, 0) / 1000;
    assert.equal(parseCookieDate("Wed, 21 Oct 2015 07:28:00 GMT"), t);
    assert.equal(parseCookieDate("Wednesday, 21-Oct-15 07:28:00 GMT"), t);
    assert.equal(parseCookieDate("Wed Oct 21 07:28:00 2015"), t);
    assert.equal(parseCookieDate("21 Oct 2015 07:28:00"), t);
    assert.equal(parseCookieDate("Thu, 01 Jan 70 00:00:01 GMT"), 1);
    assert.equal(parseCookieDate("nonsense"), null);
    assert.equal(parseCookieDate("31 Feb 2015 00:00:00"), null);
    assert.equal(parseCookieDate("21 Oct 2015 25:00:00"), null);
  });

  it("domain-matches subdomains but not look-alikes or IP addresses", () => {
    assert.ok(domainMatch("example.com", "example.com"));
    assert.ok(domainMatch("www.example.com", "example.com"));
    assert.ok(!domainMatch("badexample.com", "example.com"));
    assert.ok(!domainMatch("1.2.3.4", "2.3.4"));
  });

  it("path-matches on segment boundaries", () => {
    assert.ok(pathMatch("/a/b", "/a"));
    assert.ok(pathMatch("/a/", "/a/"));
    assert.ok(pathMatch("/a", "/a"));
    assert.ok(!pathMatch("/ab", "/a"));
    assert.ok(!pathMatch("/", "/a"));
  });
});

describe("CookieJar", () => {
  it("a host-only cookie goes back to the same host only, with the default path", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://example.com/dir/page", ["a=1"]);
    assert.equal(jar.cookieHeaderFor("http://example.com/dir/other"), "a=1");
    assert.equal(jar.cookieHeaderFor("http://example.com/elsewhere"), null);
    assert.equal(jar.cookieHeaderFor("http://www.example.com/dir/x"), null);
  });

  it("a Domain cookie goes to the domain and its subdomains", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://www.example.com/", ["a=1; Domain=.Example.COM; Path=/"]);
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "a=1");
    assert.equal(jar.cookieHeaderFor("http://x.y.example.com/deep"), "a=1");
    assert.equal(jar.cookieHeaderFor("http://notexample.com/"), null);
  });

  it("refuses a Domain the host is not in, and a bare top-level Domain", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://www.example.com/", [
      "a=1; Domain=other.com",
      "b=2; Domain=com",
      "c=3; Domain=sub.www.example.com",
    ]);
    assert.equal(jar.size, 0);
  });

  it("an IP host takes cookies for itself only", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://127.0.0.1/", ["a=1; Domain=127.0.0.1", "b=2; Domain=0.0.1"]);
    assert.equal(jar.cookieHeaderFor("http://127.0.0.1/"), "a=1");
  });

  it("Secure cookies are only set from and sent over HTTPS", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://example.com/", ["a=1; Secure"]);
    assert.equal(jar.size, 0);
    jar.setCookiesFromResponse("https://example.com/", ["b=2; Secure; HttpOnly; Path=/"]);
    assert.equal(jar.cookieHeaderFor("http://example.com/"), null);
    assert.equal(jar.cookieHeaderFor("https://example.com/"), "b=2");
  });

  it("enforces the __Secure- and __Host- prefixes", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("https://example.com/a", [
      "__Secure-a=1",
      "__Secure-b=2; Secure",
      "__Host-c=3; Secure; Path=/; Domain=example.com",
      "__Host-d=4; Secure; Path=/",
      "__Host-e=5; Secure",
    ]);
    assert.deepEqual(
      [...jar].map((c) => c.name),
      ["__Secure-b", "__Host-d"],
    );
  });

  it("Max-Age and Expires set the expiry on the jar's clock; Max-Age wins", () => {
    const { jar, clock } = jarAt(1_000_000);
    jar.setCookiesFromResponse("http://example.com/", [
      "a=1; Max-Age=10; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
      "b=2; Expires=Wed, 21 Oct 2099 07:28:00 GMT",
      "c=3",
    ]);
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "a=1; b=2; c=3");
    clock.advance(10);
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "b=2; c=3");
    jar.clearSessionCookies();
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "b=2");
  });

  it("a cookie set again replaces the old one; an expired one deletes it", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://example.com/", ["a=1", "a=2"]);
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "a=2");
    jar.setCookiesFromResponse("http://example.com/", ["a=gone; Max-Age=0"]);
    assert.equal(jar.size, 0);
    jar.setCookiesFromResponse("http://example.com/", [
      "b=1",
      "b=x; Expires=Thu, 01 Jan 1970 00:00:01 GMT",
    ]);
    assert.equal(jar.size, 0);
  });

  it("sends longer paths first, then older cookies first", () => {
    const { jar, clock } = jarAt();
    jar.setCookiesFromResponse("http://example.com/", ["short=1; Path=/"]);
    clock.advance(1);
    jar.setCookiesFromResponse("http://example.com/", ["long=2; Path=/a/b", "mid=3; Path=/a"]);
    clock.advance(1);
    jar.setCookiesFromResponse("http://example.com/", ["short2=4; Path=/"]);
    assert.equal(
      jar.cookieHeaderFor("http://example.com/a/b/c"),
      "long=2; mid=3; short=1; short2=4",
    );
  });

  it("ignores malformed Set-Cookie values", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://example.com/", [
      "noequals",
      "=novalue",
      "x\x01y=1",
      `big=${"x".repeat(5000)}`,
    ]);
    assert.equal(jar.size, 0);
  });

  it("keeps memory bounded: at most maxPerDomain per domain, oldest dropped", () => {
    const clock = new Clock();
    const jar = new CookieJar({ clock, maxPerDomain: 3 });
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      jar.setCookiesFromResponse("http://example.com/", [`c${i}=${i}`]);
    }
    assert.equal(jar.cookieHeaderFor("http://example.com/"), "c2=2; c3=3; c4=4");
  });

  it("clear removes by domain, path and name", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://a.example/", ["x=1; Path=/", "y=2; Path=/"]);
    jar.setCookiesFromResponse("http://b.example/", ["x=1; Path=/"]);
    jar.clear("a.example", "/", "x");
    assert.equal(jar.size, 2);
    jar.clear("b.example");
    assert.equal(jar.size, 1);
    jar.clear();
    assert.equal(jar.size, 0);
  });
});

describe("CookieAgent", () => {
  it("sends the jar's cookies and stores the ones the response sets", () => {
    const { jar } = jarAt();
    jar.setCookieFrom(URI.fromString("http://example.com/"), "old=1");
    const fake = new FakeAgent();
    const agent = new CookieAgent(fake, jar);
    const d = agent.request("GET", "http://example.com/login");
    assert.deepEqual(fake.requests[0]?.headers.getRawHeaders("cookie"), ["old=1"]);
    fake.answer(200, { "Set-Cookie": ["sid=abc; Path=/", "theme=dark; Path=/"] });
    successResultOf(d);
    agent.request("GET", "http://example.com/account");
    assert.deepEqual(fake.requests[1]?.headers.getRawHeaders("cookie"), [
      "old=1; sid=abc; theme=dark",
    ]);
  });

  it("leaves a Cookie header given by the caller alone", () => {
    const { jar } = jarAt();
    jar.setCookiesFromResponse("http://example.com/", ["a=1"]);
    const fake = new FakeAgent();
    new CookieAgent(fake, jar).request(
      "GET",
      "http://example.com/",
      new Headers({ Cookie: ["mine=1"] }),
    );
    assert.deepEqual(fake.requests[0]?.headers.getRawHeaders("cookie"), ["mine=1"]);
  });

  it("sends nothing when the jar has nothing for the URI", () => {
    const fake = new FakeAgent();
    new CookieAgent(fake, new CookieJar()).request("GET", "http://example.com/");
    assert.equal(fake.requests[0]?.headers.hasHeader("cookie"), false);
  });
});
