// `twist portforward`: forwards each connection to another address.

import { type IServiceMaker, UsageError } from "../../application/_plugin.js";
import type { IReactorTCP } from "../../internet/interfaces.js";
import { ProxyFactory } from "../../protocols/portforward.js";
import { listeningService, listenOption } from "./_common.js";

/** Reads `tcp:host=H:port=P` (or `tcp:H:P`) into a host and a port. */
export function parseTCPDestination(description: string): { host: string; port: number } {
  const parts = description.split(":");
  if (parts[0] !== "tcp") {
    throw new UsageError(`Invalid --dest ${description}: only tcp: destinations are supported`);
  }
  let host: string | undefined;
  let port: string | undefined;
  const positional: string[] = [];
  for (const part of parts.slice(1)) {
    const eq = part.indexOf("=");
    if (eq < 0) positional.push(part);
    else if (part.slice(0, eq) === "host") host = part.slice(eq + 1);
    else if (part.slice(0, eq) === "port") port = part.slice(eq + 1);
    else
      throw new UsageError(`Invalid --dest ${description}: unknown parameter ${part.slice(0, eq)}`);
  }
  host ??= positional[0];
  port ??= positional[1];
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
