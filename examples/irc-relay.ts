// Relays standard input to an IRC channel, one message per line, then quits at end of input.
// Run: printf 'hello\nworld\n' | npx tsx examples/irc-relay.ts [host] [port] [channel] [nick]
import {
  ClientFactory,
  type Failure,
  type IConnector,
  reactor,
  StandardIO,
} from "twisted-ts/internet";
import { LineOnlyReceiver } from "twisted-ts/protocols";
import { IRCClient } from "twisted-ts/words";

const [host = "localhost", port = "6667", channel = "#twisted", nick = "relay"] =
  process.argv.slice(2);

class Relay extends IRCClient {
  override nickname = nick;
  private ready = false;
  private waiting: string[] = [];
  private inputDone = false;

  override signedOn(): void {
    this.join(channel);
  }

  override joined(where: string): void {
    // Flood control from now on: at most two lines a second, so that servers do not throttle us.
    this.lineRate = 0.5;
    this.ready = true;
    for (const line of this.waiting.splice(0)) this.say(channel, line);
    if (this.inputDone) this.finish();
  }

  /** A line from standard input. */
  relay(line: string): void {
    if (line.trim() === "") return;
    if (this.ready) this.say(channel, line);
    else this.waiting.push(line);
  }

  /** Standard input ended: quit once everything queued is sent. */
  inputEnded(): void {
    this.inputDone = true;
    if (this.ready) this.finish();
  }

  private finish(): void {
    this.quit("End of input");
  }
}

class StdinLines extends LineOnlyReceiver {
  override delimiter = Buffer.from("\n");

  constructor(private readonly client: Relay) {
    super();
  }

  override lineReceived(line: Buffer): void {
    this.client.relay(line.toString("utf8").replace(/\r$/, ""));
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.client.inputEnded();
  }
}

class RelayFactory extends ClientFactory {
  override buildProtocol(): Relay {
    const client = new Relay();
    client.factory = this;
    new StandardIO(new StdinLines(client));
    return client;
  }

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    console.error(`Connection failed: ${reason.getErrorMessage()}`);
    process.exitCode = 1;
    reactor.stop();
  }

  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    if (reactor.running) reactor.stop();
  }
}

reactor.connectTCP(host, Number(port), new RelayFactory());
reactor.run();
