// Twisted.ts IRC server for the benchmarks (twisted-ts/words) on 127.0.0.1:<port>: no login,
// flood protection off (`flood: false`) and no connection limits, so that one load generator's
// thousand clients and its fast sender are served as they come.
import { reactor } from "../../src/internet/index.js";
import { IRCServer, IRCServerFactory } from "../../src/words/index.js";

const server = new IRCServer({ hostname: "irc.bench", flood: false });
const factory = new IRCServerFactory(server);
factory.noisy = false;
reactor.listenTCP(Number(process.argv[2]), factory, 511, "127.0.0.1");
await reactor.run();
