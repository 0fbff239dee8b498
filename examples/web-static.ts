// A static file server in five lines. Run: npx tsx examples/web-static.ts [directory] [port]
import { reactor } from "twisted-ts/internet";
import { File, Site } from "twisted-ts/web";

reactor.listenTCP(Number(process.argv[3] ?? 8080), new Site(new File(process.argv[2] ?? ".")));
reactor.run();
