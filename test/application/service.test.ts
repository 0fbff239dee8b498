// Tests of services: Service, MultiService, Application, and the network services.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backoffPolicy,
  ClientService,
  StreamServerEndpointService,
  strports,
  TimerService,
} from "../../src/application/_internet.js";
import { Application, MultiService, Service } from "../../src/application/_service.js";
import { Deferred } from "../../src/internet/defer.js";
import { TCP4ClientEndpoint, TCP4ServerEndpoint } from "../../src/internet/endpoints.js";
import {
  CancelledError,
  CannotListenError,
  ConnectionRefusedError,
} from "../../src/internet/error.js";
import type { IProtocol } from "../../src/internet/interfaces.js";
import { Factory, Protocol } from "../../src/internet/protocol.js";
import {
  assertNoResult,
  Clock,
  failureResultOf,
  MemoryReactorClock,
  successResultOf,
} from "../../src/testing/index.js";

class Recording extends Service {
  constructor(
    name: string,
    private readonly log: string[],
    private readonly stopResult?: Deferred<unknown>,
  ) {
    super();
    this.setName(name);
  }
  override startService(): void {
    super.startService();
    this.log.push(`start ${this.name}`);
  }
  override stopService() {
    super.stopService();
    this.log.push(`stop ${this.name}`);
    return this.stopResult;
  }
}

describe("MultiService", () => {
  it("starts children in the order added and stops them in reverse", () => {
    const log: string[] = [];
    const top = new MultiService();
    for (const n of ["a", "b", "c"]) new Recording(n, log).setServiceParent(top);
    top.startService();
    assert.equal(top.running, true);
    successResultOf(top.stopService());
    assert.deepEqual(log, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    assert.equal(top.running, false);
  });

  it("stopService waits for the Deferreds children return", () => {
    const log: string[] = [];
    const slow = new Deferred<unknown>();
    const top = new Application("app");
    new Recording("slow", log, slow).setServiceParent(top);
    new Recording("quick", log).setServiceParent(top);
    top.startService();
    const stopped = top.stopService();
    assertNoResult(stopped);
    slow.callback(null);
    successResultOf(stopped);
  });

  it("a child added to a running parent starts at once; removing it stops it", () => {
    const log: string[] = [];
    const top = new MultiService();
    top.startService();
    const child = new Recording("late", log);
    child.setServiceParent(top);
    assert.deepEqual(log, ["start late"]);
    assert.equal(top.getServiceNamed("late"), child);
    child.disownServiceParent();
    assert.deepEqual(log, ["start late", "stop late"]);
    assert.throws(() => top.getServiceNamed("late"), /No service named: late/);
  });

  it("two children with the same name are refused, and a named child cannot be renamed", () => {
    const top = new MultiService();
    new Recording("x", []).setServiceParent(top);
    assert.throws(() => new Recording("x", []).setServiceParent(top), /already exists/);
    const y = new Recording("y", []);
    y.setServiceParent(top);
    assert.throws(() => y.setName("z"), /Cannot change the name/);
  });

  it("a child that fails to stop is logged and the others still stop", () => {
    const log: string[] = [];
    const top = new MultiService();
    new Recording("a", log).setServiceParent(top);
    const bad = new Service();
    bad.stopService = () => {
      throw new Error("cannot stop");
    };
    bad.setServiceParent(top);
    top.startService();
    successResultOf(top.stopService());
    assert.deepEqual(log, ["start a", "stop a"]);
  });
});

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

describe("StreamServerEndpointService", () => {
  it("listens when started and stops listening when stopped", () => {
    const reactor = new MemoryReactorClock();
    const svc = new StreamServerEndpointService(
      new TCP4ServerEndpoint(reactor, 8080),
      Factory.forProtocol(Echo),
    );
    svc.startService();
    assert.equal(reactor.tcpServers.length, 1);
    assert.equal(reactor.tcpServers[0]![0], 8080);
    const port = successResultOf(svc.whenListening());
    successResultOf(svc.stopService());
    assert.equal((port as unknown as { disconnected: boolean }).disconnected, true);
  });

  it("a port that cannot be listened on fails whenListening with CannotListenError", () => {
    const reactor = new MemoryReactorClock();
    reactor.busyPorts.add(8080);
    const svc = new StreamServerEndpointService(
      new TCP4ServerEndpoint(reactor, 8080),
      Factory.forProtocol(Echo),
    );
    svc.startService();
    failureResultOf(svc.whenListening(), CannotListenError);
    assert.ok(svc.listenFailure?.check(CannotListenError));
  });

  it("strports.service parses the description and listens there", () => {
    const reactor = new MemoryReactorClock();
    const svc = strports.service("tcp:7000:interface=127.0.0.1", Factory.forProtocol(Echo), {
      reactor,
    });
    svc.startService();
    assert.deepEqual(reactor.tcpServers[0]!.slice(0, 1), [7000]);
    assert.equal(reactor.tcpServers[0]![3], "127.0.0.1");
    successResultOf(svc.stopService());
  });
});

describe("TimerService", () => {
  it("calls its function at start and every step while running", () => {
    const clock = new Clock();
    const calls: number[] = [];
    const svc = new TimerService(5, () => calls.push(clock.seconds()));
    svc.clock = clock;
    svc.startService();
    clock.advance(5);
    clock.advance(5);
    successResultOf(svc.stopService());
    clock.advance(5);
    assert.deepEqual(calls, [0, 5, 10]);
  });
});

describe("ClientService", () => {
  const noJitter = backoffPolicy({ initialDelay: 1, factor: 2, maxDelay: 8, jitter: () => 0 });

  /** A started ClientService of Echo protocols to example.test:6667, on a memory reactor. */
  function startedClient(): { reactor: MemoryReactorClock; svc: ClientService } {
    const reactor = new MemoryReactorClock();
    const svc = new ClientService(
      new TCP4ClientEndpoint(reactor, "example.test", 6667),
      Factory.forProtocol(Echo),
      { clock: reactor, retryPolicy: noJitter },
    );
    svc.startService();
    return { reactor, svc };
  }

  it("connects when started; whenConnected fires with the protocol", () => {
    const { reactor, svc } = startedClient();
    const d = svc.whenConnected();
    assertNoResult(d);
    reactor.completeConnection(0);
    const proto = successResultOf(d);
    assert.ok(proto instanceof Echo);
    assert.equal(successResultOf(svc.whenConnected()), proto);
  });

  it("retries with back-off after failures and reconnects after a lost connection", () => {
    const { reactor, svc } = startedClient();
    reactor.failConnection(0);
    assert.equal(reactor.tcpClients.length, 1);
    reactor.advance(2); // policy(1) = 2 seconds
    assert.equal(reactor.tcpClients.length, 2);
    reactor.failConnection(1);
    reactor.advance(3.9);
    assert.equal(reactor.tcpClients.length, 2);
    reactor.advance(0.1); // policy(2) = 4 seconds
    assert.equal(reactor.tcpClients.length, 3);
    reactor.completeConnection(2);
    const first = successResultOf(svc.whenConnected());
    reactor.connectionLost(2);
    reactor.advance(1); // failures reset: policy(0) = 1 second
    assert.equal(reactor.tcpClients.length, 4);
    reactor.completeConnection(3);
    const second = successResultOf(svc.whenConnected());
    assert.notEqual(first, second);
    const stopped = svc.stopService();
    reactor.connectionLost(3);
    successResultOf(stopped);
    assert.equal(reactor.tcpClients.length, 4);
  });

  it("whenConnected with failAfterFailures fails after that many failed attempts", () => {
    const { reactor, svc } = startedClient();
    const d = svc.whenConnected({ failAfterFailures: 2 });
    reactor.failConnection(0);
    assertNoResult(d);
    reactor.advance(2);
    reactor.failConnection(1);
    failureResultOf(d, ConnectionRefusedError);
    successResultOf(svc.stopService());
  });

  it("stopService cancels pending waits and stops retrying, leaving no delayed call", () => {
    const { reactor, svc } = startedClient();
    const d = svc.whenConnected();
    reactor.failConnection(0);
    successResultOf(svc.stopService());
    failureResultOf(d, CancelledError);
    assert.equal(reactor.getDelayedCalls().length, 0);
  });

  it("stopService disconnects the live connection and fires once it is gone", () => {
    const { reactor, svc } = startedClient();
    reactor.completeConnection(0);
    const proto = successResultOf(svc.whenConnected()) as IProtocol & {
      transport: { disconnecting: boolean };
    };
    const stopped = svc.stopService();
    assertNoResult(stopped);
    assert.equal(proto.transport.disconnecting, true);
    reactor.connectionLost(0);
    successResultOf(stopped);
    assert.equal(reactor.getDelayedCalls().length, 0);
  });
});
