// Regression tests of bugs found by the fuzz tests (test/fuzz/irc.test.ts), reduced to the input
// that triggered each.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Clock, LogCapture, StringTransport } from "../../src/testing/index.js";
import { IRCClient } from "../../src/words/_client.js";
import { MAX_BODY_BYTES } from "../../src/words/_irc_message.js";

function client(): { c: IRCClient; t: StringTransport; lines: () => string[] } {
  const c = new IRCClient();
  c.clock = new Clock();
  c.nickname = "me";
  c.capabilities = [];
  const t = new StringTransport();
  c.makeConnection(t);
  c.dataReceived(Buffer.from(":irc.test 001 me :Welcome\r\n"));
  t.clear();
  const lines = () =>
    t
      .value()
      .toString("latin1")
      .split("\r\n")
      .filter((l) => l !== "");
  return { c, t, lines };
}

describe("IRCClient regressions (from fuzzing)", () => {
  // The client reads lines up to 8 KiB (servers may exceed 512 bytes) but echoed the payload of
  // PING and CTCP PING back as it was: a 615-byte PONG that a strict server refuses (417).
  it("does not answer a PING whose token cannot fit in a 512-byte PONG, and logs it", () => {
    const { c, lines } = client();
    const logs = new LogCapture({ exclusive: true });
    try {
      c.dataReceived(Buffer.from(`PING :irc.test${"x".repeat(600)}\r\n`));
    } finally {
      logs.stop();
    }
    assert.deepEqual(lines(), []);
    assert.ok(logs.messages().some((m) => m.includes("Not answering PONG")));
    c.dataReceived(Buffer.from("PING :irc.test\r\n"));
    assert.deepEqual(lines(), ["PONG irc.test"]);
  });

  it("does not answer a CTCP PING whose reply would exceed 512 bytes", () => {
    const { c, lines } = client();
    const logs = new LogCapture({ exclusive: true });
    try {
      c.dataReceived(Buffer.from(`:alice!u@h PRIVMSG me :\x01PING ${"7".repeat(600)}\x01\r\n`));
    } finally {
      logs.stop();
    }
    for (const l of lines())
      assert.ok(l.length + 2 <= MAX_BODY_BYTES, `sent ${l.length + 2} bytes`);
    assert.deepEqual(lines(), []);
    c.dataReceived(Buffer.from(":alice!u@h PRIVMSG me :\x01PING 123\x01\r\n"));
    assert.deepEqual(lines(), ["NOTICE alice :\x01PING 123\x01"]);
  });
});
