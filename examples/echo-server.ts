// An echo server: every byte received is sent back. Run: npx tsx examples/echo-server.ts [port]
import { Factory, Protocol, reactor } from "twisted-ts/internet";
import { log } from "twisted-ts/logger";

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

const port = reactor.listenTCP(Number(process.argv[2] ?? 8000), Factory.forProtocol(Echo));
log.startLogging(process.stdout);
log.msg(`Echo server listening on ${port.getHost()}`);
reactor.run();
