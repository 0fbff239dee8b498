// Pieces shared by the built-in twist plugins: --listen handling and --auth portals.

import { strports } from "../../application/_internet.js";
import { UsageError } from "../../application/_plugin.js";
import { MultiService } from "../../application/_service.js";
import type { ICredentialsChecker } from "../../cred/_portal.js";
import { parseAuthString } from "../../cred/index.js";
import type { IProtocolFactory } from "../../internet/interfaces.js";

/** The `--listen` option, with a default. */
export function listenOption(defaultListen: string) {
  return {
    type: "string" as const,
    multiple: true,
    default: [defaultListen],
    metavar: "ENDPOINT",
    help: "Where to listen, as an endpoint string (e.g. tcp:8080:interface=127.0.0.1)",
  };
}

/** A service listening with `factory` on every `--listen` description. */
export function listeningService(
  descriptions: unknown,
  factory: IProtocolFactory,
  reactor: unknown,
): MultiService {
  const list = Array.isArray(descriptions) ? (descriptions as string[]) : [String(descriptions)];
  if (list.length === 0) throw new UsageError("At least one --listen is needed");
  const top = new MultiService();
  for (const description of list) {
    try {
      strports.service(description, factory, { reactor }).setServiceParent(top);
    } catch (e) {
      throw new UsageError(`Invalid --listen ${description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return top;
}

/** The checkers named by every `--auth` string given (none when the option is absent). */
export function checkersFromAuth(auth: unknown): ICredentialsChecker[] {
  if (auth === undefined) return [];
  const list = Array.isArray(auth) ? (auth as string[]) : [String(auth)];
  return list.flatMap((a) => parseAuthString(a));
}
