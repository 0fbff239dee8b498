// The process-wide default reactor, registered by the reactor module to avoid import cycles.

import type { IReactorTime } from "./interfaces.js";

let installed: unknown = null;

/** @internal Registers the default reactor (done once by `_reactor.ts`). */
export function _installGlobalReactor(reactor: unknown): void {
  installed = reactor;
}

/**
 * @internal The default reactor, for APIs whose reactor/clock parameter was omitted.
 * Raises when no reactor module has been loaded.
 */
export function _globalReactor<R = IReactorTime>(): R {
  if (installed === null) {
    throw new Error(
      "No reactor is installed: import { reactor } from 'twisted-ts/internet' or pass a clock",
    );
  }
  return installed as R;
}
