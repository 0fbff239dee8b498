// A LoopingCall ticker: prints a tick every interval, N times, then stops the reactor.
// Run: npx tsx examples/ticker.ts [interval-seconds] [count]
import { LoopingCall, reactor } from "twisted-ts/internet";

const interval = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 5);
let ticks = 0;

const loop = new LoopingCall(() => {
  ticks++;
  console.log(`tick ${ticks} at ${new Date().toISOString()}`);
  if (ticks >= count) loop.stop();
});
loop.clock = reactor;
loop.start(interval).addCallback(() => {
  console.log("done");
  reactor.stop();
});
reactor.run();
