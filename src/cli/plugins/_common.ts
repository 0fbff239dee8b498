// Pieces shared by the built-in twist plugins: option values, user modules, --listen handling and
// --auth portals.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { strports } from "../../application/_internet.js";
import { type PluginOptions, UsageError } from "../../application/_plugin.js";
import { MultiService } from "../../application/_service.js";
import type { ICredentialsChecker } from "../../cred/_portal.js";
import { parseAuthString } from "../../cred/index.js";
import type { IProtocolFactory } from "../../internet/interfaces.js";

/** The values of an option that may be given more than once (none when it is absent). */
export function optionList(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as string[]) : [String(value)];
}

/** The option `--name` as a positive integer, or null when it is absent; anything else is a UsageError. */
export function positiveIntOption(options: PluginOptions, name: string): number | null {
  const raw = options[name];
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(`Invalid --${name}: ${String(raw)} (expected a positive integer)`);
  }
  return n;
}

/** Imports a user's module by path (relative to the working directory). */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`Cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

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
  const list = optionList(descriptions);
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
  return optionList(auth).flatMap((a) => parseAuthString(a));
}
