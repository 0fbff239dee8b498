// A web server whose one resource says hello world. Run: npx tsx examples/web-hello.ts [port]
import { reactor } from "twisted-ts/internet";
import { log } from "twisted-ts/logger";
import { type Request, Resource, Site } from "twisted-ts/web";

class Hello extends Resource {
  override isLeaf = true;

  render_GET(request: Request): string {
    request.setHeader("Content-Type", "text/plain; charset=utf-8");
    return "hello world\n";
  }
}

const port = reactor.listenTCP(Number(process.argv[2] ?? 8080), new Site(new Hello()));
log.startLogging(process.stdout);
log.msg(`Serving hello world on ${port.getHost()}`);
reactor.run();
