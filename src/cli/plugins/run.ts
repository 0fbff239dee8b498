// `twist run MODULE`: runs a user's module exporting `application` or `makeService()`.

import type { IServiceMaker } from "../../application/_plugin.js";
import { UsageError } from "../../application/_plugin.js";
import type { IService } from "../../application/_service.js";
import { importUserModule } from "./_common.js";

function isService(v: unknown): v is IService {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as IService).startService === "function" &&
    typeof (v as IService).stopService === "function"
  );
}

/** The `run` plugin, like `twistd -y`: loads a module and runs the service it defines. */
export const runPlugin: IServiceMaker = {
  name: "run",
  description: "Run a module that exports `application` (a service) or `makeService()`",
  options: {},
  positionals: [
    {
      name: "module",
      help: "Path of a .js/.mjs module (or .ts when run through tsx)",
      required: true,
    },
    { name: "args", help: "Arguments passed to makeService(args)", variadic: true },
  ],
  usage:
    "The module exports either `application` (an Application or any IService) or a function\n" +
    "`makeService(args: string[])` returning a service (or a Promise of one).",
  async makeService(options) {
    const [path, ...args] = options._;
    if (path === undefined) throw new UsageError("Missing argument: module");
    const mod = await importUserModule(path);
    if (isService(mod.application)) return mod.application;
    if (typeof mod.makeService === "function") {
      const service = await (mod.makeService as (a: string[]) => unknown)(args);
      if (isService(service)) return service;
      throw new Error(`makeService() in ${path} did not return a service`);
    }
    if (isService(mod.default)) return mod.default;
    throw new UsageError(`${path} exports neither \`application\` nor \`makeService()\``);
  },
};
