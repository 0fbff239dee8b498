// The seed's example 1 (client.py), in Twisted.ts: reads a line after a ">" prompt, sends it,
// prints the reply, and asks again; an empty line (or end of input) closes the connection.
// Run: npx tsx examples/seed-client.ts [host] [port]
import {
  ClientFactory,
  DeferredQueue,
  type Failure,
  type IConnector,
  Protocol,
  reactor,
  StandardIO,
} from "twisted-ts/internet";

const HOST = process.argv[2] ?? "localhost";
const PORT = Number(process.argv[3] ?? 23233);

/** Lines typed on standard input, read without blocking the reactor (null: end of input). */
const input = new DeferredQueue<string | null>();

class StdinLines extends Protocol {
  private buffer = "";
  override dataReceived(data: Buffer): void {
    this.buffer += data.toString("utf8");
    let nl = this.buffer.indexOf("\n");
    while (nl >= 0) {
      input.put(this.buffer.slice(0, nl).replace(/\r$/, ""));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf("\n");
    }
  }
  override connectionLost(reason: Failure): void {
    if (this.buffer) input.put(this.buffer);
    input.put(null);
  }
}

class TSClntProtocol extends Protocol {
  sendData(): void {
    process.stdout.write(">");
    input.get().addCallback((data) => {
      if (data) {
        console.log(`....sending ${data}.......`);
        this.transport!.write(data);
      } else {
        this.transport!.loseConnection();
      }
    });
  }

  override connectionMade(): void {
    this.sendData();
  }

  override dataReceived(data: Buffer): void {
    console.log(data.toString("utf8"));
    this.sendData();
  }
}

class TSClntFactory extends ClientFactory {
  override protocol = TSClntProtocol;
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    reactor.stop();
  }
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    console.log(`Connection failed: ${reason.getErrorMessage()}`);
    reactor.stop();
  }
}

new StandardIO(new StdinLines(), { reactor });
reactor.connectTCP(HOST, PORT, new TSClntFactory());
reactor.run();
