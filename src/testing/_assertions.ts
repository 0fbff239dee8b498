// Synchronous assertions on Deferreds: successResultOf, failureResultOf, assertNoResult.

import { AssertionError } from "node:assert";
import { inspect } from "node:util";
import type { Deferred } from "../internet/defer.js";
import { Failure } from "../internet/failure.js";

type ErrorClass = abstract new (...args: any[]) => unknown;

type Outcome<T> = { readonly result: T | Failure } | null;

function checkDeferred(d: unknown, what: string): asserts d is Deferred<unknown> {
  if (d === null || typeof d !== "object" || typeof (d as Deferred).addBoth !== "function") {
    const hint = d instanceof Promise ? ": a Promise's result cannot be read synchronously" : "";
    throw new TypeError(`${what} needs a Deferred${hint}`);
  }
}

/** Reads the current result of `d` without changing it (failures included). */
function peek<T>(d: Deferred<T>): Outcome<T> {
  let outcome: Outcome<T> = null;
  d.addBoth((result: T | Failure) => {
    outcome = { result };
    if (result instanceof Failure) throw result;
    return result;
  });
  return outcome;
}

/** Marks the failure of `d` handled: its result becomes `null`. */
function swallow(d: Deferred<unknown>): void {
  d.addErrback(() => null);
}

function show(value: unknown): string {
  if (value instanceof Failure) return value.getTraceback();
  return inspect(value, { depth: 3, breakLength: 100 });
}

/**
 * Returns the result that `deferred` already has, for tests that drive a Deferred synchronously
 * (with `Clock`, `StringTransport`, iosim). Raises an `AssertionError` if it has no result yet
 * or has failed; a failure is then marked handled (the Deferred's result becomes `null`), so
 * that it is not also reported as unhandled. A success result stays in the Deferred.
 *
 * @example
 * ```ts
 * const d = client.sendCommand("PING");
 * server.dataReceived(Buffer.from("PONG\r\n"));
 * assert.equal(successResultOf(d), "PONG");
 * ```
 */
export function successResultOf<T>(deferred: Deferred<T>): T {
  checkDeferred(deferred, "successResultOf");
  const outcome = peek(deferred);
  if (outcome === null) {
    throw new AssertionError({
      message: `Success result expected on ${String(deferred)}, found no result instead`,
    });
  }
  if (outcome.result instanceof Failure) {
    swallow(deferred);
    throw new AssertionError({
      message: `Success result expected on ${String(deferred)}, found failure result instead:\n${show(outcome.result)}`,
    });
  }
  return outcome.result;
}

/**
 * Returns the `Failure` that `deferred` already has, and marks it handled (the Deferred's
 * result becomes `null`). With `expectedTypes`, the failure must wrap an instance of one of
 * them. Raises an `AssertionError` if there is no result, a success result (which stays in the
 * Deferred), or a failure of another type (then handled too).
 *
 * @example
 * ```ts
 * reactor.failConnection(0);
 * const f = failureResultOf(d, ConnectionRefusedError);
 * assert.match(f.getErrorMessage(), /refused/);
 * ```
 */
export function failureResultOf(
  deferred: Deferred<unknown>,
  ...expectedTypes: ErrorClass[]
): Failure {
  checkDeferred(deferred, "failureResultOf");
  const outcome = peek(deferred);
  if (outcome === null) {
    throw new AssertionError({
      message: `Failure result expected on ${String(deferred)}, found no result instead`,
    });
  }
  const result = outcome.result;
  if (!(result instanceof Failure)) {
    throw new AssertionError({
      message: `Failure result expected on ${String(deferred)}, found success result (${show(result)}) instead`,
    });
  }
  swallow(deferred);
  if (expectedTypes.length > 0 && result.check(...expectedTypes) === null) {
    const names = expectedTypes.map((t) => t.name).join(" or ");
    throw new AssertionError({
      message: `Failure of type (${names}) expected on ${String(deferred)}, found type ${result.type.name} instead:\n${show(result)}`,
    });
  }
  return result;
}

/**
 * Raises an `AssertionError` if `deferred` already has a result (a failure found this way is
 * marked handled). A Deferred without a result is left as it was.
 *
 * @example
 * ```ts
 * const d = protocol.waitForReply();
 * assertNoResult(d);
 * protocol.dataReceived(Buffer.from("OK\r\n"));
 * successResultOf(d);
 * ```
 */
export function assertNoResult(deferred: Deferred<unknown>): void {
  checkDeferred(deferred, "assertNoResult");
  const outcome = peek(deferred);
  if (outcome === null) return;
  if (outcome.result instanceof Failure) swallow(deferred);
  throw new AssertionError({
    message: `No result expected on ${String(deferred)}, found ${show(outcome.result)} instead`,
  });
}
