// A logging IRC bot: joins a channel, answers "!ping", and logs what it sees.
// Run: npx tsx examples/irc-bot.ts [host] [port] [channel] [nick]
// Try it against `npx twist words --listen tcp:6667` and any IRC client.
import { ClientFactory, type Failure, type IConnector, reactor } from "twisted-ts/internet";
import { IRCClient, type MessageContext, parsePrefix } from "twisted-ts/words";

const [host = "localhost", port = "6667", channel = "#twisted", nick = "pingbot"] =
  process.argv.slice(2);

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

class PingBot extends IRCClient {
  override nickname = nick;
  override realname = "Twisted.ts example bot";

  override signedOn(): void {
    log(`Signed on to ${this.hostname} as ${this.nickname}`);
    this.join(channel);
  }

  override joined(where: string): void {
    log(`Joined ${where}`);
  }

  override privmsg(user: string, where: string, message: string, context?: MessageContext): void {
    const who = parsePrefix(user).nick;
    const stamp = context?.tags.has("time") ? ` (sent ${context.time.toISOString()})` : "";
    log(`[${where}] <${who}> ${message}${stamp}`);
    if (message.trim() === "!ping") {
      // In a channel, answer there; in private, answer the sender.
      const target = this.isMe(where) ? who : where;
      this.msg(target, `${who}: pong`);
    }
  }

  override action(user: string, where: string, data: string): void {
    log(`[${where}] * ${parsePrefix(user).nick} ${data}`);
  }

  override userJoined(user: string, where: string): void {
    log(`[${where}] ${user} joined`);
  }

  override userLeft(user: string, where: string): void {
    log(`[${where}] ${user} left`);
  }

  override userQuit(user: string, message: string): void {
    log(`${user} quit (${message})`);
  }

  override topicUpdated(user: string, where: string, topic: string): void {
    log(`[${where}] topic: ${topic}`);
  }
}

class PingBotFactory extends ClientFactory {
  override protocol = PingBot;

  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    log(`Connection failed: ${reason.getErrorMessage()}`);
    process.exitCode = 1;
    reactor.stop();
  }

  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    log(`Connection lost: ${reason.getErrorMessage()}`);
    if (reactor.running) reactor.stop();
  }
}

reactor.connectTCP(host, Number(port), new PingBotFactory());
reactor.run();
