// Twisted.ts echo server for the benchmarks: a Protocol that echoes, on 127.0.0.1:<port>.
import { Factory, Protocol, reactor } from "../../src/internet/index.js";

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

const factory = Factory.forProtocol(Echo);
factory.noisy = false;
reactor.listenTCP(Number(process.argv[2]), factory, 511, "127.0.0.1");
await reactor.run();
