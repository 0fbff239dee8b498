// `twist socks`: a SOCKS4/4a/5 proxy server, optionally with username/password logins.

import type { IServiceMaker } from "../../application/_plugin.js";
import { AUTH_HELP, Portal, SimpleRealm } from "../../cred/index.js";
import { ISOCKSUser, SOCKSFactory, type SOCKSReactor } from "../../protocols/socks.js";
import { checkersFromAuth, listeningService, listenOption } from "./_common.js";

/** The `socks` plugin. */
export const socksPlugin: IServiceMaker = {
  name: "socks",
  description: "A SOCKS4/4a/5 proxy (CONNECT), optionally with username/password logins",
  options: {
    listen: listenOption("tcp:1080:interface=127.0.0.1"),
    auth: {
      type: "string",
      multiple: true,
      metavar: "AUTH",
      help: "Require SOCKS5 username/password logins checked against AUTH",
    },
    "connect-timeout": {
      type: "string",
      default: "30",
      metavar: "SECONDS",
      help: "How long to wait for an outgoing connection",
    },
  },
  usage: `Authentication (--auth):\n${AUTH_HELP}`,
  makeService(options, context) {
    const checkers = checkersFromAuth(options.auth);
    const portal =
      checkers.length > 0
        ? new Portal(new SimpleRealm((id) => ({ id }), { interfaces: [ISOCKSUser] }), checkers)
        : undefined;
    const factory = new SOCKSFactory({
      reactor: context.reactor as SOCKSReactor,
      connectTimeout: Number(options["connect-timeout"]),
      ...(portal ? { portal } : {}),
    });
    return listeningService(options.listen, factory, context.reactor);
  },
};
