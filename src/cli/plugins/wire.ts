// `twist wire`: echo, discard, chargen, daytime and qotd servers.

import { type IServiceMaker, UsageError } from "../../application/_plugin.js";
import type { IReactorTime } from "../../internet/interfaces.js";
import {
  chargenFactory,
  daytimeFactory,
  discardFactory,
  echoFactory,
  qotdFactory,
  timeFactory,
} from "../../protocols/wire.js";
import { listeningService, listenOption } from "./_common.js";

const SERVICES = {
  echo: () => echoFactory(),
  discard: () => discardFactory(),
  chargen: (clock: IReactorTime) => chargenFactory(clock),
  daytime: (clock: IReactorTime) => daytimeFactory(clock),
  qotd: () => qotdFactory(),
  time: (clock: IReactorTime) => timeFactory(clock),
} as const;

/** The `wire` plugin: the small standard services (RFC 862–868). */
export const wirePlugin: IServiceMaker = {
  name: "wire",
  description: "Echo, discard, chargen, daytime, qotd and time servers (RFC 862-868)",
  options: {
    listen: listenOption("tcp:7007"),
    service: {
      type: "string",
      default: "echo",
      metavar: "NAME",
      help: `The service: ${Object.keys(SERVICES).join(", ")}`,
    },
  },
  makeService(options, context) {
    const name = String(options.service);
    const make = SERVICES[name as keyof typeof SERVICES];
    if (make === undefined) {
      throw new UsageError(
        `Unknown --service: ${name} (expected one of ${Object.keys(SERVICES).join(", ")})`,
      );
    }
    const factory = make(context.reactor as IReactorTime);
    return listeningService(options.listen, factory, context.reactor);
  },
};
