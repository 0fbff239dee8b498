// Public module of Deferreds: Deferred, its helpers, DeferredList and the coordination classes.

export {
  DeferredList,
  type DeferredListConstructor,
  type DeferredListEntry,
  type DeferredListOptions,
  type DeferredOrPromise,
  FailureGroup,
  gatherResults,
  race,
} from "./_defer_list.js";
export {
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  QueueOverflow,
  QueueUnderflow,
} from "./_defer_lock.js";
export {
  Deferred,
  ensureDeferred,
  fail,
  getDebugging,
  maybeDeferred,
  setDebugging,
  succeed,
} from "./_deferred.js";
