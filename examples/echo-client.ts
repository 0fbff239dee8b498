// An echo client: sends a message, prints the echo, and stops.
// Run: npx tsx examples/echo-client.ts [host] [port] [message]
import {
  ClientFactory,
  type Failure,
  type IConnector,
  Protocol,
  reactor,
} from "twisted-ts/internet";

const [host = "localhost", port = "8000", message = "Hello, world!"] = process.argv.slice(2);

class EchoClient extends Protocol {
  override connectionMade(): void {
    this.transport!.write(message);
  }
  override dataReceived(data: Buffer): void {
    console.log(`Server said: ${data.toString()}`);
    this.transport!.loseConnection();
  }
}

class EchoFactory extends ClientFactory {
  override protocol = EchoClient;
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    console.log(`Connection failed: ${reason.getErrorMessage()}`);
    process.exitCode = 1;
    reactor.stop();
  }
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    console.log("Connection closed");
    reactor.stop();
  }
}

reactor.connectTCP(host, Number(port), new EchoFactory());
reactor.run();
