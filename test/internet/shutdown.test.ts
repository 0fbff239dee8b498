// reactor.stop() with a peer that stopped reading: the connection is aborted after a grace period.
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { it } from "node:test";
import { NodeReactor } from "../../src/internet/_reactor.js";
import { ConnectionAborted } from "../../src/internet/error.js";
import type { Failure } from "../../src/internet/failure.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";

it("reactor.stop() aborts a connection whose peer stopped reading, after a grace period", async () => {
  const reactor = new NodeReactor();
  let lost: Failure | null = null;
  class Flood extends Protocol {
    override connectionMade(): void {
      this.transport!.write(Buffer.alloc(64 * 1024 * 1024));
      reactor.stop();
    }
    override connectionLost(reason: Failure): void {
      lost = reason;
    }
  }
  const port = reactor.listenTCP(0, Factory.forProtocol(Flood), 50, "127.0.0.1");
  const { port: n } = port.getHost() as { port: number };
  const running = reactor.run({ installSignalHandlers: false });
  const peer = createConnection({ port: n, host: "127.0.0.1" });
  peer.pause(); // never reads
  const started = Date.now();
  await running;
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (lost !== null) {
        clearInterval(check);
        resolve();
      } else if (Date.now() - started > 20_000) {
        clearInterval(check);
        reject(new Error("The connection was never closed"));
      }
    }, 50);
  });
  peer.destroy();
  assert.ok(lost !== null && (lost as Failure).check(ConnectionAborted), String(lost));
  assert.ok(Date.now() - started >= 4_000, "aborted only after the grace period");
});
