// Tests of the `twist words` plugin's option handling (the running command is in loopback.test.ts).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/application/_plugin.js";
import { makeWordsFactory, wordsPlugin } from "../../src/cli/plugins/words.js";
import { LimitTotalConnectionsFactory } from "../../src/protocols/policies.js";
import { Clock } from "../../src/testing/index.js";

describe("twist words plugin", () => {
  it("declares the options of the issue", () => {
    assert.equal(wordsPlugin.name, "words");
    for (const o of ["listen", "hostname", "network", "motd", "auth", "oper", "max-clients"]) {
      assert.ok(o in wordsPlugin.options, o);
    }
    assert.deepEqual(wordsPlugin.options.listen!.default, ["tcp:6667"]);
  });

  it("builds a server from the options: portal, operators, limits", () => {
    const { server, factory } = makeWordsFactory(
      {
        _: [],
        hostname: "irc.example",
        network: "Example",
        auth: ["memory:alice:secret"],
        oper: ["root:toor", "admin:a:b"],
        "max-clients": "10",
        "max-per-ip": "3",
      },
      new Clock(),
    );
    assert.equal(server.hostname, "irc.example");
    assert.equal(server.network, "Example");
    assert.ok(server.portal !== null);
    assert.deepEqual(
      [...server.opers],
      [
        ["root", "toor"],
        ["admin", "a:b"],
      ],
    );
    assert.ok(factory instanceof LimitTotalConnectionsFactory);
    assert.equal((factory as LimitTotalConnectionsFactory).connectionLimit, 10);
  });

  it("refuses bad option values with UsageError", () => {
    const bad = [
      { "max-clients": "zero" },
      { "max-per-ip": "-1" },
      { oper: ["nopassword"] },
      { motd: "/nonexistent/motd" },
      { auth: ["bogus:x"] },
    ];
    for (const options of bad) {
      assert.throws(
        () => makeWordsFactory({ _: [], ...options }, new Clock()),
        (e: Error) => {
          return e instanceof UsageError || (e as { code?: string }).code === "ERR_USAGE";
        },
        JSON.stringify(options),
      );
    }
  });
});
