// Tests of endpoint description strings: the grammar, each endpoint type, and the errors.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  clientFromString,
  EndpointDescriptionError,
  HostnameEndpoint,
  parseDescription,
  quoteDescriptionValue,
  registerServerParser,
  SSL4ServerEndpoint,
  serverFromString,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  TLSWrapperClientEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
  WrapperServerEndpoint,
  wrappingServerParser,
} from "../../src/internet/endpoints.js";
import type { IProtocolFactory } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import { makeSelfSignedCertificate } from "../../src/internet/ssl.js";
import { MemoryReactorClock, successResultOf } from "../../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "twisted-endpoints-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const pair = makeSelfSignedCertificate({ commonName: "localhost" });
const other = makeSelfSignedCertificate({ commonName: "other" });
const files = {
  both: join(dir, "both.pem"),
  key: join(dir, "key.pem"),
  cert: join(dir, "cert.pem"),
  otherCert: join(dir, "other.pem"),
  empty: join(dir, "empty.pem"),
  rootsDir: join(dir, "roots"),
};
writeFileSync(files.both, pair.key + pair.cert);
writeFileSync(files.key, pair.key);
writeFileSync(files.cert, pair.cert);
writeFileSync(files.otherCert, other.cert);
writeFileSync(files.empty, "nothing here\n");

/** Asserts that `fn` raises an `EndpointDescriptionError` whose message matches `message`. */
function assertBad(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      e instanceof EndpointDescriptionError,
      `not an EndpointDescriptionError: ${String(e)}`,
    );
    assert.equal(e.code, "ERR_ENDPOINT_DESCRIPTION");
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe("parseDescription", () => {
  test("splits positional arguments and key=value parameters at colons", () => {
    assert.deepEqual(parseDescription("tcp:80:interface=127.0.0.1:backlog=5"), {
      args: ["tcp", "80"],
      kwargs: { interface: "127.0.0.1", backlog: "5" },
    });
  });

  test("a backslash escapes a colon, an equals sign or a backslash", () => {
    assert.deepEqual(parseDescription("unix:/tmp/a\\:b\\=c\\\\d.sock:mode=660"), {
      args: ["unix", "/tmp/a:b=c\\d.sock"],
      kwargs: { mode: "660" },
    });
    assert.deepEqual(parseDescription("tcp:host=\\:\\:1:port=80").kwargs, {
      host: "::1",
      port: "80",
    });
  });

  test("only the first equals sign separates a name from its value", () => {
    assert.deepEqual(parseDescription("x:token=a=b").kwargs, { token: "a=b" });
  });

  test("quoteDescriptionValue escapes what parseDescription would split on", () => {
    const value = "C:\\x=y:z";
    assert.deepEqual(parseDescription(`t:${quoteDescriptionValue(value)}`).args, ["t", value]);
  });

  test("rejects a trailing backslash, an empty name and a repeated parameter", () => {
    assertBad(() => parseDescription("tcp:80\\"), 'Trailing backslash in "tcp:80\\"');
    assertBad(() => parseDescription("tcp:=5"), 'Empty parameter name in "tcp:=5"');
    assertBad(
      () => parseDescription("tcp:80:backlog=1:backlog=2"),
      /Parameter "backlog" given twice/,
    );
  });
});

describe("serverFromString", () => {
  const reactor = new MemoryReactorClock();

  test("tcp:PORT listens on all IPv4 interfaces with a backlog of 50", () => {
    const endpoint = serverFromString(reactor, "tcp:8080");
    assert.ok(endpoint instanceof TCP4ServerEndpoint);
    assert.equal(endpoint.port, 8080);
    assert.equal(endpoint.backlog, 50);
    assert.equal(endpoint.interface_, "");
  });

  test("tcp takes interface and backlog parameters, and the port as a parameter too", () => {
    const r = new MemoryReactorClock();
    const factory = new Factory();
    successResultOf(
      serverFromString(r, "tcp:port=8080:interface=127.0.0.1:backlog=7").listen(factory),
    );
    assert.deepEqual(r.tcpServers, [[8080, factory, 7, "127.0.0.1"]]);
  });

  test("tcp6 listens on :: by default, or on an escaped IPv6 interface", () => {
    const endpoint = serverFromString(reactor, "tcp6:443") as TCP6ServerEndpoint;
    assert.ok(endpoint instanceof TCP6ServerEndpoint);
    assert.equal(endpoint.interface_, "::");
    const local = serverFromString(reactor, "tcp6:443:interface=\\:\\:1") as TCP6ServerEndpoint;
    assert.equal(local.interface_, "::1");
  });

  test("unix takes a path, an octal mode and a backlog", () => {
    const r = new MemoryReactorClock();
    const factory = new Factory();
    const endpoint = serverFromString(r, "unix:/run/app.sock:mode=660:backlog=9");
    assert.ok(endpoint instanceof UNIXServerEndpoint);
    successResultOf(endpoint.listen(factory));
    assert.deepEqual(r.unixServers, [["/run/app.sock", factory, 9, 0o660]]);
    assert.equal((serverFromString(r, "unix:/x.sock") as UNIXServerEndpoint).mode, 0o666);
  });

  test("ssl reads the key and the certificate from one file by default", () => {
    const r = new MemoryReactorClock();
    const endpoint = serverFromString(r, `ssl:8443:privateKey=${files.both}`);
    assert.ok(endpoint instanceof SSL4ServerEndpoint);
    successResultOf(endpoint.listen(new Factory()));
    const [[port, , options, backlog, iface]] = r.sslServers as [
      NonNullable<(typeof r.sslServers)[0]>,
    ];
    assert.deepEqual([port, backlog, iface], [8443, 50, ""]);
    assert.match(String(options.key), /PRIVATE KEY/);
    assert.equal(String(options.cert).trim(), pair.cert.trim());
  });

  test("ssl takes certKey and extraCertChain files", () => {
    const r = new MemoryReactorClock();
    const description = `ssl:8443:privateKey=${files.key}:certKey=${files.cert}:extraCertChain=${files.otherCert}:interface=127.0.0.1`;
    successResultOf(serverFromString(r, description).listen(new Factory()));
    const options = r.sslServers[0]?.[2];
    assert.equal(String(options?.cert), pair.cert + other.cert);
    assert.equal(r.sslServers[0]?.[4], "127.0.0.1");
  });

  test("malformed descriptions raise errors that name the bad part", () => {
    assertBad(
      () => serverFromString(reactor, "tpc:80"),
      /^Unknown endpoint type: "tpc" \(known: .*tcp.*\)$/,
    );
    assertBad(() => serverFromString(reactor, "tcp:abc"), 'Invalid port in "tcp:abc": abc');
    assertBad(() => serverFromString(reactor, "tcp:65536"), 'Invalid port in "tcp:65536": 65536');
    assertBad(
      () => serverFromString(reactor, "tcp:80:interfce=127.0.0.1"),
      'Unknown parameter "interfce" for endpoint type "tcp" in "tcp:80:interfce=127.0.0.1"',
    );
    assertBad(
      () => serverFromString(reactor, "tcp"),
      'Missing port for endpoint type "tcp" in "tcp"',
    );
    assertBad(
      () => serverFromString(reactor, "tcp:80:90"),
      /Too many arguments for endpoint type "tcp" in "tcp:80:90": 90/,
    );
    assertBad(() => serverFromString(reactor, "tcp:80:port=81"), /Parameter "port" given twice/);
    assertBad(
      () => serverFromString(reactor, "tcp:80:backlog=-1"),
      'Invalid backlog in "tcp:80:backlog=-1": -1',
    );
    assertBad(
      () => serverFromString(reactor, "tcp:80:interface=localhost"),
      /Invalid interface in .*: localhost/,
    );
    assertBad(
      () => serverFromString(reactor, "tcp6:80:interface=127.0.0.1"),
      /IPv6 address expected/,
    );
    assertBad(
      () => serverFromString(reactor, "unix:/x:mode=999"),
      /Invalid mode in "unix:\/x:mode=999": 999/,
    );
    assertBad(() => serverFromString(reactor, ""), "Empty server endpoint description");
    assertBad(() => serverFromString(reactor, "port=80"), 'Missing endpoint type in "port=80"');
  });

  test("ssl errors name the missing or unreadable file", () => {
    assertBad(
      () => serverFromString(reactor, "ssl:443"),
      /Missing privateKey for endpoint type "ssl"/,
    );
    assertBad(
      () => serverFromString(reactor, `ssl:443:privateKey=${join(dir, "nope.pem")}`),
      /Cannot read privateKey ".*nope\.pem" in .*ENOENT/,
    );
    assertBad(
      () => serverFromString(reactor, `ssl:443:privateKey=${files.cert}`),
      /No private key in ".*cert\.pem"/,
    );
    assertBad(
      () => serverFromString(reactor, `ssl:443:privateKey=${files.key}`),
      /No certificate in ".*key\.pem"/,
    );
    assertBad(
      () => serverFromString(reactor, `ssl:443:privateKey=${files.key}:certKey=${files.otherCert}`),
      /Cannot use the TLS key and certificate of .*does not match its private key/,
    );
  });

  test("haproxy needs its parser, and with it wraps the inner endpoint's factory", () => {
    assertBad(
      () => serverFromString(reactor, "haproxy:tcp:80"),
      /provided by twisted-ts\/protocols/,
    );
    const wrapped: IProtocolFactory[] = [];
    registerServerParser(
      wrappingServerParser("haproxy", (f) => {
        wrapped.push(f);
        return Factory.forProtocol(Protocol);
      }),
    );
    const r = new MemoryReactorClock();
    const endpoint = serverFromString(r, "haproxy:tcp:8080:interface=127.0.0.1");
    assert.ok(endpoint instanceof WrapperServerEndpoint);
    const factory = new Factory();
    successResultOf(endpoint.listen(factory));
    assert.deepEqual(wrapped, [factory]);
    assert.equal(r.tcpServers[0]?.[0], 8080);
    assert.equal(r.tcpServers[0]?.[3], "127.0.0.1");
    assert.notEqual(r.tcpServers[0]?.[1], factory);
    assertBad(() => serverFromString(r, "haproxy:tcp:abc"), 'Invalid port in "tcp:abc": abc');
  });
});

describe("clientFromString", () => {
  const reactor = new MemoryReactorClock();

  test("tcp takes host and port as parameters or positionally, with timeout and bindAddress", () => {
    const r = new MemoryReactorClock();
    const endpoint = clientFromString(
      r,
      "tcp:host=example.com:port=80:timeout=2.5:bindAddress=10.0.0.2",
    );
    assert.ok(endpoint instanceof TCP4ClientEndpoint);
    const factory = new Factory();
    endpoint.connect(factory);
    assert.deepEqual(r.tcpClients[0]?.slice(0, 2), ["example.com", 80]);
    assert.equal(r.tcpClients[0]?.[3], 2.5);
    assert.deepEqual(r.tcpClients[0]?.[4], ["10.0.0.2", 0]);
    const positional = clientFromString(r, "tcp:example.com:80") as TCP4ClientEndpoint;
    assert.deepEqual(
      [positional.host, positional.port, positional.timeout],
      ["example.com", 80, 30],
    );
  });

  test("tcp6 connects to an escaped IPv6 address", () => {
    const endpoint = clientFromString(reactor, "tcp6:host=\\:\\:1:port=80") as TCP6ClientEndpoint;
    assert.ok(endpoint instanceof TCP6ClientEndpoint);
    assert.equal(endpoint.host, "::1");
  });

  test("unix takes a path and a timeout", () => {
    const endpoint = clientFromString(
      reactor,
      "unix:path=/run/app.sock:timeout=3",
    ) as UNIXClientEndpoint;
    assert.ok(endpoint instanceof UNIXClientEndpoint);
    assert.deepEqual([endpoint.path, endpoint.timeout], ["/run/app.sock", 3]);
    assert.equal((clientFromString(reactor, "unix:/a.sock") as UNIXClientEndpoint).path, "/a.sock");
  });

  test("tls wraps a HostnameEndpoint with SNI, name checks and the platform roots by default", () => {
    const endpoint = clientFromString(reactor, "tls:host=example.com:port=443:timeout=5");
    assert.ok(endpoint instanceof TLSWrapperClientEndpoint);
    const options = endpoint.connectionCreator;
    assert.equal(options.servername, "example.com");
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.ca, undefined);
    const inner = endpoint.wrappedEndpoint as HostnameEndpoint;
    assert.ok(inner instanceof HostnameEndpoint);
    assert.deepEqual([inner.host, inner.port, inner.timeout], ["example.com", 443, 5]);
  });

  test("tls reads trustRoots from a file or from every *.pem and *.crt file of a folder", () => {
    const fromFile = clientFromString(reactor, `tls:localhost:443:trustRoots=${files.cert}`);
    assert.deepEqual((fromFile as TLSWrapperClientEndpoint).connectionCreator.ca, [pair.cert]);
    const roots = files.rootsDir;
    rmSync(roots, { recursive: true, force: true });
    mkdirSync(roots);
    writeFileSync(join(roots, "a.pem"), pair.cert);
    writeFileSync(join(roots, "b.crt"), other.cert);
    writeFileSync(join(roots, "c.txt"), other.cert);
    const fromDir = clientFromString(reactor, `tls:localhost:443:trustRoots=${roots}`);
    assert.deepEqual((fromDir as TLSWrapperClientEndpoint).connectionCreator.ca, [
      pair.cert,
      other.cert,
    ]);
  });

  test("tls takes a client certificate, with its key in the same file or apart", () => {
    const same = clientFromString(reactor, `tls:localhost:443:certificate=${files.both}`);
    const options = (same as TLSWrapperClientEndpoint).connectionCreator;
    assert.match(String(options.key), /PRIVATE KEY/);
    assert.equal(options.cert, pair.cert);
    const apart = clientFromString(
      reactor,
      `tls:localhost:443:certificate=${files.cert}:privateKey=${files.key}`,
    );
    assert.equal((apart as TLSWrapperClientEndpoint).connectionCreator.key, pair.key);
  });

  test("malformed client descriptions raise errors that name the bad part", () => {
    assertBad(
      () => clientFromString(reactor, "tpc:host=a:port=1"),
      /^Unknown endpoint type: "tpc"/,
    );
    assertBad(
      () => clientFromString(reactor, "tcp:host=a:port=0"),
      'Invalid port in "tcp:host=a:port=0": 0',
    );
    assertBad(
      () => clientFromString(reactor, "tcp:host=a"),
      'Missing port for endpoint type "tcp" in "tcp:host=a"',
    );
    assertBad(
      () => clientFromString(reactor, "tcp:a:1:timeout=soon"),
      'Invalid timeout in "tcp:a:1:timeout=soon": soon',
    );
    assertBad(
      () => clientFromString(reactor, "unix:path=/a:mode=1"),
      /Unknown parameter "mode" for endpoint type "unix"/,
    );
    assertBad(
      () => clientFromString(reactor, `tls:a:1:trustRoots=${files.empty}`),
      /No certificate in ".*empty\.pem"/,
    );
    assertBad(
      () => clientFromString(reactor, `tls:a:1:trustRoots=${join(dir, "none")}`),
      /Cannot read trustRoots/,
    );
    assertBad(
      () => clientFromString(reactor, `tls:a:1:privateKey=${files.key}`),
      /"privateKey" needs "certificate"/,
    );
  });
});
