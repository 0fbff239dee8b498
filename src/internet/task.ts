// The task module: Clock, LoopingCall, deferLater, Cooperator and react (twisted.internet.task).

import { Logger } from "../logger/index.js";
import { Deferred, maybeDeferred } from "./_deferred.js";
import { _globalReactor } from "./_global.js";
import { ReactorNotRunning } from "./error.js";
import { Failure } from "./failure.js";
import type { IDelayedCall, IReactorTime } from "./interfaces.js";

export { Clock, DelayedCall } from "./_clock.js";
export {
  type Cooperative,
  CooperativeTask,
  Cooperator,
  type CooperatorOptions,
  type CooperatorScheduler,
  coiterate,
  cooperate,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from "./_cooperator.js";
export { LoopingCall } from "./_looping_call.js";

const log = new Logger("twisted-ts.internet.task");

/**
 * A Deferred that fires after `delay` seconds on `clock` with the result of `fn(...args)` (a
 * Deferred or Promise result is waited for; a thrown error fails it), or with `undefined`
 * without `fn`. Cancelling it before then cancels the timer (`fn` never runs) and errbacks with
 * `CancelledError`.
 *
 * @example
 * ```ts
 * await deferLater(reactor, 2.5, () => console.log("later"));
 * ```
 */
export function deferLater(clock: IReactorTime, delay: number): Deferred<void>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  fn: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R>;
export function deferLater<R, A extends unknown[]>(
  clock: IReactorTime,
  delay: number,
  fn?: (...args: A) => R | PromiseLike<R>,
  ...args: A
): Deferred<R | undefined> {
  let call: IDelayedCall | undefined;
  const d = new Deferred<undefined>(() => {
    if (call?.active()) call.cancel();
  });
  call = clock.callLater(delay, () => d.callback(undefined));
  if (fn === undefined) return d;
  return d.addCallback(() => fn(...args));
}

/** The part of a reactor that `react` uses. */
export interface ReactableReactor {
  run(): Promise<void>;
  stop(): void;
  callWhenRunning(f: () => void): unknown;
  readonly running: boolean;
}

/** Sets `process.exitCode`: the default way `react` ends the process. */
function setExitCode(code: number): void {
  process.exitCode = code;
}

/**
 * Runs the reactor, calls `main(reactor, ...argv)` once it runs, and stops the reactor when
 * `main`'s result (a value, Deferred or Promise) is there. Then calls `exit` with 0 on success
 * or 1 on failure (the failure is logged); the default `exit` sets `process.exitCode`, so the
 * process ends once the reactor has let go of everything. If the reactor is stopped before
 * `main`'s result is there, the code is 0. `reactor` defaults to the global reactor.
 *
 * @example
 * ```ts
 * await react(async (reactor) => {
 *   const body = await getPage("https://example.com/");
 *   console.log(body.length);
 * });
 * ```
 */
export async function react<R extends ReactableReactor, A extends unknown[] = []>(
  main: (reactor: R, ...argv: A) => unknown,
  argv: A = [] as unknown as A,
  reactor?: R,
  exit: (code: number) => void = setExitCode,
): Promise<void> {
  const r = reactor ?? _globalReactor<R>();
  let code = 0;
  r.callWhenRunning(() => {
    maybeDeferred(main, r, ...argv).addBoth((result) => {
      if (result instanceof Failure) {
        log.failure("main function encountered error", result);
        code = 1;
      }
      if (r.running) {
        try {
          r.stop();
        } catch (e) {
          if (!(e instanceof ReactorNotRunning)) throw e;
        }
      }
    });
  });
  await r.run();
  exit(code);
}
