// Answers later: /clock with NOT_DONE_YET and request.write/finish, /slow with a Deferred of the body.
// Run: npx tsx examples/web-async.ts [port]
import { type Deferred, deferLater, reactor } from "twisted-ts/internet";
import { log } from "twisted-ts/logger";
import { NOT_DONE_YET, type Request, Resource, Site } from "twisted-ts/web";

/** Streams three ticks, one a second, then finishes; stops early if the client leaves. */
class Clock extends Resource {
  override isLeaf = true;

  render_GET(request: Request): typeof NOT_DONE_YET {
    request.setHeader("Content-Type", "text/plain; charset=utf-8");
    let ticks = 0;
    const again = () => {
      request.write(`tick ${++ticks} at ${new Date().toISOString()}\n`);
      if (ticks < 3) timer = reactor.callLater(1, again);
      else request.finish();
    };
    let timer = reactor.callLater(0, again);
    request.notifyFinish().addErrback(() => {
      if (timer.active()) timer.cancel();
      log.msg("Client went away before the last tick");
    });
    return NOT_DONE_YET;
  }
}

/** Returns a Deferred: the body is sent when it fires, half a second later. */
class Slow extends Resource {
  override isLeaf = true;

  render_GET(request: Request): Deferred<string> {
    return deferLater(reactor, 0.5, () => `slept half a second for ${request.uri}\n`);
  }
}

const root = new Resource();
root.putChild("clock", new Clock());
root.putChild("slow", new Slow());
const port = reactor.listenTCP(Number(process.argv[2] ?? 8080), new Site(root));
log.startLogging(process.stdout);
log.msg(`Try /clock and /slow on ${port.getHost()}`);
reactor.run();
