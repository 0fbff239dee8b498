// A client that keeps reconnecting with exponential back-off (ReconnectingClientFactory):
// start it before or after the server, stop the server and start it again.
// Run: npx tsx examples/reconnecting-client.ts [host] [port] [max-retries]
import {
  type Failure,
  type IAddress,
  type IConnector,
  Protocol,
  ReconnectingClientFactory,
  reactor,
} from "twisted-ts/internet";

const [host = "localhost", port = "8000", maxRetries] = process.argv.slice(2);

class Hello extends Protocol {
  override connectionMade(): void {
    console.log("Connected; saying hello");
    this.transport!.write("hello\n");
  }
  override dataReceived(data: Buffer): void {
    console.log(`Received: ${data.toString().trim()}`);
  }
}

class HelloFactory extends ReconnectingClientFactory<Hello> {
  override protocol = Hello;
  override maxDelay = 10;
  override initialDelay = 0.2;

  override buildProtocol(addr: IAddress): Hello | null {
    this.resetDelay();
    return super.buildProtocol(addr);
  }
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    console.log(`Lost connection: ${reason.getErrorMessage()}`);
    super.clientConnectionLost(connector, reason);
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    console.log(`Connection failed (${reason.getErrorMessage()}); retrying in a while`);
    super.clientConnectionFailed(connector, reason);
    if (!this.continueTrying || (this.maxRetries !== null && this.retries > this.maxRetries)) {
      console.log("Giving up");
      reactor.stop();
    }
  }
}

const factory = new HelloFactory();
if (maxRetries !== undefined) factory.maxRetries = Number(maxRetries);
reactor.connectTCP(host, Number(port), factory);
reactor.run();
