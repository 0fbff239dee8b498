// Callable class instances: observers and predicates are plain functions to whoever calls them.

import type { LogEvent } from "./_event.js";

export interface CallableInstance<R> {
  // biome-ignore lint/style/useShorthandFunctionType: merged with the class below, to type its callable instances
  (event: LogEvent): R;
}

/**
 * Base of classes whose instances are functions of an event (observers, filter predicates):
 * calling an instance runs its `invoke` method. Instances own a function's `name` and `length`,
 * so subclasses must not use those property names.
 *
 * @internal
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor makes instances callable, as the interface says
export abstract class CallableInstance<R> {
  constructor() {
    const self: CallableInstance<R> = Object.setPrototypeOf(
      (event: LogEvent) => self.invoke(event),
      new.target.prototype,
    );
    // biome-ignore lint/correctness/noConstructorReturn: the instance must be a function to be an ILogObserver
    return self;
  }

  /** What calling the instance does. */
  protected abstract invoke(event: LogEvent): R;
}
