// The service-maker contract that `twist` plugins implement.

import type { IService } from "./_service.js";

export { UsageError } from "../internet/error.js";

/** One command-line option of a plugin (the shape `node:util` `parseArgs` understands). */
export interface PluginOption {
  /** `"string"` takes a value; `"boolean"` is a flag. */
  type: "string" | "boolean";
  /** The option may be given several times (values collected in an array). */
  multiple?: boolean;
  /** A one-letter alias. */
  short?: string;
  /** The value when the option is absent. */
  default?: string | boolean | string[];
  /** One line of help. */
  help: string;
  /** The value's placeholder in help, e.g. `PATH`. */
  metavar?: string;
}

/** Parsed plugin options: option values by name, plus positional arguments in `_`. */
export type PluginOptions = Record<string, string | boolean | string[] | undefined> & {
  _: string[];
};

/** What `twist` hands a plugin besides its options. */
export interface PluginContext {
  /** The reactor the service runs on. */
  reactor: unknown;
  /** Writes a line of output for the user (stdout). */
  print(line: string): void;
}

/**
 * A `twist` plugin: makes the service that `twist <name> [options]` runs.
 *
 * @example
 * ```ts
 * export const echoPlugin: IServiceMaker = {
 *   name: "echo",
 *   description: "A TCP echo server",
 *   options: { listen: { type: "string", multiple: true, default: ["tcp:7007"], help: "Where to listen" } },
 *   makeService(options) {
 *     const top = new MultiService();
 *     for (const l of options.listen as string[]) strports.service(l, Factory.forProtocol(Echo)).setServiceParent(top);
 *     return top;
 *   },
 * };
 * ```
 */
export interface IServiceMaker {
  /** The subcommand name (Twisted's `tapname`). */
  name: string;
  /** One line describing the plugin, shown by `twist --help`. */
  description: string;
  /** The plugin's options. */
  options: Record<string, PluginOption>;
  /** Positional arguments, for help output; extra positionals are an error unless listed. */
  positionals?: { name: string; help: string; required?: boolean; variadic?: boolean }[];
  /** Longer help text shown after the options by `twist <name> --help`. */
  usage?: string;
  /** Makes the service to run. Throw `UsageError` for bad option values. */
  makeService(options: PluginOptions, context: PluginContext): IService | PromiseLike<IService>;
}
