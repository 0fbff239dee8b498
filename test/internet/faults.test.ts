// Fault tests of stream transports: refused, unresolvable, reset, timed-out and cancelled
// connections, busy ports, exceptions in protocol code, and reactor shutdown.

import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { NodeReactor } from "../../src/internet/_reactor.js";
import type { TCPConnector, TCPPort } from "../../src/internet/_tcp.js";
import {
  CannotListenError,
  ConnectingCancelledError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  DNSLookupError,
  NotConnectingError,
  TimeoutError,
} from "../../src/internet/error.js";
import {
  capturingLogs,
  Echo,
  loopbackSuite,
  portOf,
  Recorder,
  RecordingClientFactory,
  RecordingFactory,
  tx,
  within,
} from "../_helpers/tcp.js";

const { reactor, ports, protocols } = loopbackSuite();

function listen<P extends Recorder>(protocolClass: new () => P, host = "127.0.0.1") {
  const factory = new RecordingFactory(protocolClass);
  const port = reactor.listenTCP(0, factory, 50, host) as TCPPort;
  ports.push(port);
  return { factory, port, portNumber: portOf(port.getHost()) };
}

async function connectClient(portNumber: number): Promise<Recorder> {
  const factory = new RecordingClientFactory(Recorder);
  reactor.connectTCP("127.0.0.1", portNumber, factory);
  const client = await within("client connection", factory.connected.promise);
  protocols.push(client);
  return client;
}

/**
 * A listening socket whose accept queue is full: a worker thread listens with a backlog of 1
 * and then blocks, so it never accepts; two queued connections fill the queue and the kernel
 * drops further SYNs, which leaves a connection attempt hanging.
 */
async function fullBacklog(): Promise<{ port: number; close(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const server = require("node:net").createServer();
     server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
       process.exit(0);
     });`,
    { eval: true, workerData: gate },
  );
  const port = await within(
    "worker port",
    new Promise<number>((resolve) => worker.once("message", resolve)),
  );
  const fillers: Socket[] = [];
  let connected = 0;
  await within(
    "backlog filled",
    new Promise<void>((resolve) => {
      for (let i = 0; i < 3; i++) {
        const s = netConnect(port, "127.0.0.1", () => {
          if (++connected === 2) resolve();
        });
        s.on("error", () => {});
        fillers.push(s);
      }
    }),
  );
  return {
    port,
    async close() {
      for (const s of fillers) s.destroy();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await new Promise((resolve) => worker.once("exit", resolve));
    },
  };
}

describe("connection failures", () => {
  test("connecting to a closed port fails with ConnectionRefusedError", async () => {
    const { port, portNumber } = listen(Echo);
    await port.stopListening();
    const factory = new RecordingClientFactory(Recorder);
    const connector = reactor.connectTCP("127.0.0.1", portNumber, factory);
    assert.equal(connector.state, "connecting");
    const reason = await within("clientConnectionFailed", factory.failed.promise);
    assert.ok(reason.check(ConnectionRefusedError), String(reason));
    assert.equal(connector.state, "disconnected");
    assert.deepEqual(factory.events, [
      "startFactory",
      "startedConnecting",
      "clientConnectionFailed",
      "stopFactory",
    ]);
  });

  test("connecting to an unknown host fails with DNSLookupError", async () => {
    const factory = new RecordingClientFactory(Recorder);
    reactor.connectTCP("no-such-host.invalid", 80, factory);
    const reason = await within("clientConnectionFailed", factory.failed.promise, 15000);
    assert.ok(reason.check(DNSLookupError), String(reason));
  });

  test("a connection attempt that gets no answer fails with TimeoutError", async () => {
    const blackhole = await fullBacklog();
    try {
      const factory = new RecordingClientFactory(Recorder);
      const connector = reactor.connectTCP("127.0.0.1", blackhole.port, factory, 0.2);
      const reason = await within("clientConnectionFailed", factory.failed.promise);
      assert.ok(reason.check(TimeoutError), String(reason));
      assert.equal(connector.state, "disconnected");
    } finally {
      await blackhole.close();
    }
  });

  test("stopConnecting fails the attempt with ConnectingCancelledError", async () => {
    const { portNumber } = listen(Echo);
    const factory = new RecordingClientFactory(Recorder);
    const connector = reactor.connectTCP("127.0.0.1", portNumber, factory);
    connector.stopConnecting();
    const reason = await within("clientConnectionFailed", factory.failed.promise);
    assert.ok(reason.check(ConnectingCancelledError), String(reason));
    assert.equal(factory.built.length, 0);
    assert.equal(factory.stopped, 1);
    assert.throws(() => connector.stopConnecting(), NotConnectingError);
  });

  test("a connector can connect again after a failure (as reconnecting factories do)", async () => {
    const { portNumber } = listen(Echo);
    const factory = new RecordingClientFactory(Recorder);
    const connector = reactor.connectTCP("127.0.0.1", portNumber, factory) as TCPConnector;
    connector.stopConnecting();
    connector.connect();
    const client = await within("connection", factory.connected.promise);
    protocols.push(client);
    assert.equal(connector.state, "connected");
  });

  test("a peer that resets the connection mid-stream gives ConnectionLost", async () => {
    const { factory, portNumber } = listen(Recorder);
    const client = await connectClient(portNumber);
    const server = await factory.nth(0);
    tx(client).write("partial");
    await server.waitForBytes(7);
    tx(client).socket.resetAndDestroy();
    const reason = await within("server connectionLost", server.lost.promise);
    assert.ok(reason.check(ConnectionLost), String(reason));
    assert.equal(reason.check(ConnectionDone), null);
    const cause = (reason.value as Error).cause as { code?: string };
    assert.equal(cause.code, "ECONNRESET");
  });
});

describe("listening failures", () => {
  for (const host of ["127.0.0.1", "::1"]) {
    test(`listenTCP on a busy ${host} port raises CannotListenError at once, naming EADDRINUSE`, () => {
      const { portNumber } = listen(Echo, host);
      const factory = new RecordingFactory(Echo);
      assert.throws(
        () => reactor.listenTCP(portNumber, factory, 50, host),
        (e: unknown) =>
          e instanceof CannotListenError &&
          e.port === portNumber &&
          e.interface === host &&
          /EADDRINUSE/.test(e.message),
      );
      assert.equal(factory.started, 0);
    });
  }

  test("a bind that fails later (host name interface) is logged and fails whenListening", async () => {
    const { portNumber } = listen(Echo);
    await capturingLogs(async (events) => {
      const factory = new RecordingFactory(Echo);
      const port = reactor.listenTCP(portNumber, factory, 50, "localhost") as TCPPort;
      await assert.rejects(within("whenListening", port.whenListening()), CannotListenError);
      assert.ok(
        events.some((e) => e.log_failure !== undefined && /listen/i.test(String(e.log_format))),
      );
      assert.equal(factory.started, 0);
      await port.stopListening();
    });
  });
});

describe("exceptions in protocol code", () => {
  class BadData extends Recorder {
    override dataReceived(data: Buffer): void {
      super.dataReceived(data);
      if (data.includes("boom")) throw new Error("boom in dataReceived");
      this.transport!.write(data);
    }
  }

  class BadStart extends Recorder {
    override connectionMade(): void {
      super.connectionMade();
      throw new Error("boom in connectionMade");
    }
  }

  test("an exception in dataReceived is logged, drops that connection, and the server serves others", async () => {
    const { factory, portNumber } = listen(BadData);
    await capturingLogs(async (events) => {
      const bad = await connectClient(portNumber);
      const server = await factory.nth(0);
      tx(bad).write("boom");
      const reason = await within("server connectionLost", server.lost.promise);
      assert.ok(reason.check(ConnectionLost));
      assert.equal(((reason.value as Error).cause as Error).message, "boom in dataReceived");
      await within("client connectionLost", bad.lost.promise);
      const logged = events.find((e) => e.log_failure !== undefined);
      assert.ok(logged, "the exception is logged");
      assert.match(String(logged.what), /dataReceived/);
    });
    const good = await connectClient(portNumber);
    tx(good).write("fine");
    await good.waitForBytes(4);
    assert.equal(good.received.toString(), "fine");
  });

  test("a rejection from an async dataReceived is handled like an exception", async () => {
    class AsyncBad extends Recorder {
      override async dataReceived(data: Buffer): Promise<void> {
        super.dataReceived(data);
        await Promise.resolve();
        throw new Error("boom in async dataReceived");
      }
    }
    const { factory, portNumber } = listen(AsyncBad);
    await capturingLogs(async (events) => {
      const bad = await connectClient(portNumber);
      const server = await factory.nth(0);
      tx(bad).write("x");
      const reason = await within("server connectionLost", server.lost.promise);
      assert.ok(reason.check(ConnectionLost));
      assert.ok(events.some((e) => e.log_failure !== undefined && e.what === "dataReceived"));
    });
  });

  test("an exception in connectionMade is logged, drops that connection, and the server serves others", async () => {
    const { factory, portNumber } = listen(BadStart);
    await capturingLogs(async (events) => {
      const bad = await connectClient(portNumber);
      const server = await factory.nth(0);
      const reason = await within("server connectionLost", server.lost.promise);
      assert.ok(reason.check(ConnectionLost));
      await within("client connectionLost", bad.lost.promise);
      assert.ok(events.some((e) => e.log_failure !== undefined && e.what === "connectionMade"));
    });
    factory.protocol = Echo;
    const good = await connectClient(portNumber);
    tx(good).write("fine");
    await good.waitForBytes(4);
  });

  test("an exception in buildProtocol is logged and that connection closed", async () => {
    const { factory, portNumber } = listen(Echo);
    const original = factory.buildProtocol.bind(factory);
    let calls = 0;
    factory.buildProtocol = (addr) => {
      if (calls++ === 0) throw new Error("boom in buildProtocol");
      return original(addr);
    };
    await capturingLogs(async (events) => {
      const bad = await connectClient(portNumber);
      await within("client connectionLost", bad.lost.promise);
      assert.ok(events.some((e) => e.log_failure !== undefined));
    });
    const good = await connectClient(portNumber);
    tx(good).write("ok");
    await good.waitForBytes(2);
  });
});

describe("reactor shutdown", () => {
  test("reactor.stop() closes ports and connections and run() settles", async () => {
    const own = new NodeReactor();
    const running = own.run({ installSignalHandlers: false });
    const serverFactory = new RecordingFactory(Echo);
    const port = own.listenTCP(0, serverFactory, 50, "127.0.0.1");
    const clientFactory = new RecordingClientFactory(Recorder);
    own.connectTCP("127.0.0.1", portOf(port.getHost()), clientFactory);
    const client = await within("connection", clientFactory.connected.promise);
    const server = await serverFactory.nth(0);
    own.stop();
    await within("run() to settle", running);
    assert.ok((await within("server lost", server.lost.promise)).check(ConnectionDone));
    assert.ok((await within("client lost", client.lost.promise)).check(ConnectionDone));
    assert.equal(serverFactory.stopped, 1);
    const refused = new RecordingClientFactory(Recorder);
    reactor.connectTCP("127.0.0.1", portOf(port.getHost()), refused);
    assert.ok((await within("refused", refused.failed.promise)).check(ConnectionRefusedError));
  });
});
