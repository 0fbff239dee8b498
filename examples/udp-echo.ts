// A UDP echo server: every datagram is sent back to where it came from.
// Run: npx tsx examples/udp-echo.ts [port]
import { DatagramProtocol, reactor } from "twisted-ts/internet";

class UDPEcho extends DatagramProtocol {
  override startProtocol(): void {
    console.log(`UDP echo listening on ${this.transport!.getHost()}`);
  }
  override datagramReceived(data: Buffer, addr: readonly [string, number]): void {
    this.transport!.write(data, addr);
  }
}

reactor.listenUDP(Number(process.argv[2] ?? 9999), new UDPEcho(), "127.0.0.1");
reactor.run();
