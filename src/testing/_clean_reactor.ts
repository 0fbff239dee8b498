// Clean-reactor checks: fail a test that leaves delayed calls, ports or connections behind.

import { AssertionError } from "node:assert";
import type { IDelayedCall } from "../internet/interfaces.js";

/** Something a reactor closes at shutdown (a port, a connection, a process…). */
interface ReactorResource {
  _shutdown(): void;
}

/**
 * What the check looks at: the delayed calls of a reactor or clock (`NodeReactor`, `Clock`,
 * `MemoryReactorClock`) and, for a `NodeReactor`, its open resources (`_resources`).
 */
export interface CheckableReactor {
  getDelayedCalls(): IDelayedCall[];
  readonly _resources?: ReadonlySet<ReactorResource> | undefined;
}

/** Options of `assertCleanReactor`. */
export interface AssertCleanReactorOptions {
  /**
   * Close what was left over (cancel delayed calls, shut resources down) before raising, so
   * that the next test starts clean. Default false.
   */
  clean?: boolean;
}

/** Raised by `assertCleanReactor`: lists what a test left behind. */
export class DirtyReactorError extends AssertionError {
  /** Descriptions of the leftover delayed calls. */
  readonly delayedCalls: string[];
  /** Descriptions of the leftover ports, connections and other resources. */
  readonly resources: string[];

  constructor(delayedCalls: string[], resources: string[]) {
    const lines = [
      `Reactor is unclean: ${delayedCalls.length} delayed call(s) and ${resources.length} open resource(s) left over`,
      ...delayedCalls.map((c) => `  delayed call: ${c}`),
      ...resources.map((r) => `  resource: ${r}`),
    ];
    super({ message: lines.join("\n") });
    this.name = "DirtyReactorError";
    this.delayedCalls = delayedCalls;
    this.resources = resources;
  }
}

function describe(thing: object): string {
  const text = String(thing);
  return text === "[object Object]" ? `<${thing.constructor?.name ?? "object"}>` : text;
}

function leftovers(reactor: CheckableReactor): {
  calls: IDelayedCall[];
  resources: ReactorResource[];
} {
  return {
    calls: reactor.getDelayedCalls().filter((c) => c.active()),
    resources: reactor._resources === undefined ? [] : [...reactor._resources],
  };
}

function close(calls: IDelayedCall[], resources: ReactorResource[]): void {
  for (const call of calls) if (call.active()) call.cancel();
  for (const resource of resources) resource._shutdown();
}

/**
 * Cancels the delayed calls and shuts down the resources (ports, connections, processes) left
 * on `reactor`, and returns their descriptions (empty when it was clean).
 *
 * @example
 * ```ts
 * afterEach(() => cleanReactor(clock));
 * ```
 */
export function cleanReactor(reactor: CheckableReactor): string[] {
  const { calls, resources } = leftovers(reactor);
  const found = [...calls.map(describe), ...resources.map(describe)];
  close(calls, resources);
  return found;
}

/**
 * Raises a `DirtyReactorError` listing the delayed calls and (for a `NodeReactor`) the ports
 * and connections still open on `reactor`. With `clean: true`, closes them first.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * const proto = new MyProtocol(clock);
 * // … exercise proto …
 * proto.transport!.loseConnection();
 * assertCleanReactor(clock); // proto cancelled its timeout
 * ```
 */
export function assertCleanReactor(
  reactor: CheckableReactor,
  options: AssertCleanReactorOptions = {},
): void {
  const { calls, resources } = leftovers(reactor);
  if (calls.length === 0 && resources.length === 0) return;
  const error = new DirtyReactorError(calls.map(describe), resources.map(describe));
  if (options.clean === true) close(calls, resources);
  throw error;
}
