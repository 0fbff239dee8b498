// The seed's example 1 (server.py), in Twisted.ts: a TCP server that answers every command
// with its host and the time. Run: npx tsx examples/seed-server.ts [port]
import { Factory, type Failure, type IPAddress, Protocol, reactor } from "twisted-ts/internet";
import { log } from "twisted-ts/logger";

const PORT = Number(process.argv[2] ?? 23233);

/** Python's time.ctime(): "Fri Nov 27 02:26:16 2026" (local time, day padded with a space). */
function ctime(d = new Date()): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const day = String(d.getDate()).padStart(2, " ");
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${day} ${time} ${d.getFullYear()}`;
}

class TSServerProtocol extends Protocol {
  clnt = "";

  override connectionMade(): void {
    this.clnt = (this.transport!.getPeer() as IPAddress).host;
    log.msg(`Client connected from ${this.clnt}`);
  }

  override dataReceived(data: Buffer): void {
    const addr = (this.transport!.getHost() as IPAddress).host;
    if (data.length > 0) {
      log.msg(`Cmd received from ${this.clnt} : ${data.toString()}`);
      this.transport!.write(`这是来自 ${addr} ,的答复:${ctime()}`);
    }
  }

  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    log.msg("连接断开. ");
  }
}

const factory = new Factory();
factory.protocol = TSServerProtocol;
console.log("waiting for connection......");
log.startLogging(process.stdout);
reactor.listenTCP(PORT, factory);
reactor.run();
