// `twist portforward`: forwards each connection to another address.

import { type IServiceMaker, UsageError } from "../../application/_plugin.js";
import { parseDescription } from "../../internet/endpoints.js";
import type { IReactorTCP } from "../../internet/interfaces.js";
import { ProxyFactory } from "../../protocols/portforward.js";
import { listeningService, listenOption } from "./_common.js";

/** Reads `tcp:host=H:port=P` (or `tcp:H:P`) into a host and a port, with the endpoint grammar. */
export function parseTCPDestination(description: string): { host: string; port: number } {
  let parsed: ReturnType<typeof parseDescription>;
  try {
    parsed = parseDescription(description);
  } catch (e) {
    throw new UsageError(`Invalid --dest ${description}: ${(e as Error).message}`, { cause: e });
  }
  const { args, kwargs } = parsed;
  if (args[0] !== "tcp") {
    throw new UsageError(`Invalid --dest ${description}: only tcp: destinations are supported`);
  }
  for (const key of Object.keys(kwargs)) {
    if (key !== "host" && key !== "port") {
      throw new UsageError(`Invalid --dest ${description}: unknown parameter ${key}`);
    }
  }
  const host = kwargs.host ?? args[1];
  const port = kwargs.port ?? args[2];
  const n = Number(port);
  if (!host) throw new UsageError(`Invalid --dest ${description}: missing host`);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`Invalid --dest ${description}: invalid port ${port ?? "(none)"}`);
  }
  return { host, port: n };
}

/** The `portforward` plugin. */
export const portforwardPlugin: IServiceMaker = {
  name: "portforward",
  description: "Forward every connection to another address, with back-pressure both ways",
  options: {
    listen: listenOption("tcp:6666"),
    dest: {
      type: "string",
      metavar: "ENDPOINT",
      help: "Where to forward to, e.g. tcp:host=localhost:port=6665",
    },
  },
  makeService(options, context) {
    if (typeof options.dest !== "string") throw new UsageError("--dest is required");
    const { host, port } = parseTCPDestination(options.dest);
    const factory = new ProxyFactory(host, port, context.reactor as IReactorTCP);
    return listeningService(options.listen, factory, context.reactor);
  },
};
