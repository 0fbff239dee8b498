// `twist words`: an IRC server (twisted-ts/words) on one or more endpoints.

import { readFileSync } from "node:fs";
import { type IServiceMaker, type PluginOptions, UsageError } from "../../application/_plugin.js";
import { AUTH_HELP, Portal } from "../../cred/index.js";
import type { IProtocolFactory, IReactorTime } from "../../internet/interfaces.js";
import { Protocol } from "../../internet/protocol.js";
import { LimitConnectionsByPeer, LimitTotalConnectionsFactory } from "../../protocols/policies.js";
import { formatMessage } from "../../words/_irc_message.js";
import { IRCServer, type IRCServerOptions } from "../../words/_server.js";
import { IRCServerFactory } from "../../words/_server_protocol.js";
import { ircRealm } from "../../words/_server_register.js";
import {
  checkersFromAuth,
  listeningService,
  listenOption,
  optionList,
  positiveIntOption,
} from "./_common.js";

/** What a client over `--max-clients` is told before the connection closes. */
class TooManyConnections extends Protocol {
  override connectionMade(): void {
    super.connectionMade();
    const error = formatMessage({
      command: "ERROR",
      params: ["Closing Link: (Too many connections)"],
    });
    this.transport!.write(error);
    this.transport!.loseConnection();
  }
}

function opersFrom(values: string[]): Map<string, string> {
  const opers = new Map<string, string>();
  for (const v of values) {
    const colon = v.indexOf(":");
    if (colon <= 0 || colon === v.length - 1) {
      throw new UsageError("Invalid --oper: expected NAME:PASSWORD");
    }
    opers.set(v.slice(0, colon), v.slice(colon + 1));
  }
  return opers;
}

/**
 * Builds the IRC server and the factory `twist words` listens with, from parsed options
 * (exported for tests and for programs that want the same setup).
 */
export function makeWordsFactory(
  options: PluginOptions,
  reactor: unknown,
): { server: IRCServer; factory: IProtocolFactory } {
  const serverOptions: IRCServerOptions = { clock: reactor as IReactorTime };
  if (typeof options.hostname === "string") serverOptions.hostname = options.hostname;
  if (typeof options.network === "string") serverOptions.network = options.network;
  if (typeof options.motd === "string") {
    try {
      serverOptions.motd = readFileSync(options.motd, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw new UsageError(`Invalid --motd: cannot read ${options.motd}`, { cause: e });
    }
  }
  const checkers = checkersFromAuth(options.auth);
  if (checkers.length > 0) serverOptions.portal = new Portal(ircRealm(), checkers);
  serverOptions.opers = opersFrom(optionList(options.oper));
  const pingInterval = positiveIntOption(options, "ping-interval");
  if (pingInterval !== null) serverOptions.pingInterval = pingInterval;
  const server = new IRCServer(serverOptions);
  let factory: IProtocolFactory = new IRCServerFactory(server);
  const perIP = positiveIntOption(options, "max-per-ip");
  if (perIP !== null) factory = new LimitConnectionsByPeer(factory, perIP);
  const maxClients = positiveIntOption(options, "max-clients");
  if (maxClients !== null)
    factory = new LimitTotalConnectionsFactory(factory, maxClients, TooManyConnections);
  return { server, factory };
}

/**
 * The `words` plugin: `twist words --listen tcp:6667 [--hostname irc.example] [--network NAME]
 * [--motd FILE] [--auth …] [--oper NAME:PASSWORD] [--max-clients N] [--max-per-ip N]`.
 */
export const wordsPlugin: IServiceMaker = {
  name: "words",
  description: "An IRC server (IRCv3 capabilities, SASL through --auth, operators, flood control)",
  options: {
    listen: listenOption("tcp:6667"),
    hostname: { type: "string", metavar: "NAME", help: "The server's name (default localhost)" },
    network: { type: "string", metavar: "NAME", help: "The network's name (ISUPPORT NETWORK)" },
    motd: { type: "string", metavar: "FILE", help: "A file holding the message of the day" },
    auth: {
      type: "string",
      multiple: true,
      metavar: "AUTH",
      help: "Require logins (SASL PLAIN or PASS user:password) checked against AUTH",
    },
    oper: {
      type: "string",
      multiple: true,
      metavar: "NAME:PASSWORD",
      help: "An IRC operator (for OPER)",
    },
    "max-clients": { type: "string", metavar: "N", help: "Refuse connections beyond N at once" },
    "max-per-ip": {
      type: "string",
      metavar: "N",
      help: "Refuse more than N connections per address",
    },
    "ping-interval": {
      type: "string",
      metavar: "SECONDS",
      help: "PING clients silent this long (default 120); silent for 60 more: dropped",
    },
  },
  usage: `Authentication (--auth):\n${AUTH_HELP}\nWithout --auth anyone may connect; with --auth anonymous too, but logins show as accounts.`,
  makeService(options, context) {
    const { factory } = makeWordsFactory(options, context.reactor);
    return listeningService(options.listen, factory, context.reactor);
  },
};
