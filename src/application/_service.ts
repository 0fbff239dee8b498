// Services: Service, MultiService and Application (twisted.application.service).

import { type Deferred, DeferredList, maybeDeferred } from "../internet/defer.js";
import { Logger } from "../logger/index.js";

const log = new Logger("twisted-ts.application.service");

/** Something that can be started and stopped, and lives in a tree of services. */
export interface IService {
  /** The service's name (unique among its siblings), or `null`. */
  name: string | null;
  /** The parent service, or `null`. */
  parent: IServiceCollection | null;
  /** True between `startService` and `stopService`. */
  running: boolean;
  setName(name: string): void;
  setServiceParent(parent: IServiceCollection): void;
  disownServiceParent(): Deferred<unknown> | undefined;
  /** Runs before privileges are dropped (e.g. to bind low ports); default does nothing. */
  privilegedStartService(): void;
  startService(): void;
  /** Stops; may return a Deferred (or Promise) that fires once stopped. */
  stopService(): PromiseLike<unknown> | undefined;
}

/** A service that holds other services. */
export interface IServiceCollection {
  getServiceNamed(name: string): IService;
  addService(service: IService): void;
  removeService(service: IService): Deferred<unknown> | undefined;
  [Symbol.iterator](): Iterator<IService>;
}

/**
 * The base service: override `startService`/`stopService` (calling `super`).
 *
 * @example
 * ```ts
 * class Heartbeat extends Service {
 *   override startService() { super.startService(); console.log("up"); }
 * }
 * ```
 */
export class Service implements IService {
  name: string | null = null;
  parent: IServiceCollection | null = null;
  running = false;

  /** Names the service; raises when it already has a parent (the name is its key there). */
  setName(name: string): void {
    if (this.parent !== null) throw new Error("Cannot change the name of a Service with a parent");
    this.name = name;
  }

  /** Adds this service to `parent` (leaving any previous parent). */
  setServiceParent(parent: IServiceCollection): void {
    if (this.parent !== null) this.disownServiceParent();
    this.parent = parent;
    parent.addService(this);
  }

  /** Removes this service from its parent (stopping it if the parent runs). */
  disownServiceParent(): Deferred<unknown> | undefined {
    const parent = this.parent;
    this.parent = null;
    return parent?.removeService(this);
  }

  privilegedStartService(): void {}

  startService(): void {
    this.running = true;
  }

  stopService(): PromiseLike<unknown> | undefined {
    this.running = false;
    return undefined;
  }

  toString(): string {
    return `<${this.constructor.name} ${this.name ?? "(unnamed)"}>`;
  }
}

/**
 * A service of services: children start in the order they were added and stop in reverse;
 * `stopService` fires once every child has stopped.
 *
 * @example
 * ```ts
 * const top = new MultiService();
 * strports.service("tcp:8080", factory).setServiceParent(top);
 * top.startService();
 * ```
 */
export class MultiService extends Service implements IServiceCollection {
  private readonly services: IService[] = [];
  private readonly named = new Map<string, IService>();

  override privilegedStartService(): void {
    super.privilegedStartService();
    for (const s of this.services) s.privilegedStartService();
  }

  override startService(): void {
    super.startService();
    for (const s of this.services) s.startService();
  }

  override stopService(): Deferred<unknown> {
    super.stopService();
    const waits: Deferred<unknown>[] = [];
    for (const s of [...this.services].reverse()) {
      const d = maybeDeferred(() => s.stopService());
      d.addErrback((f) => {
        log.failure("Error stopping service {service}", f, undefined, { service: String(s) });
      });
      waits.push(d);
    }
    return new DeferredList(waits).addCallback(() => undefined) as Deferred<unknown>;
  }

  /** The child named `name`; raises when there is none. */
  getServiceNamed(name: string): IService {
    const s = this.named.get(name);
    if (s === undefined) throw new Error(`No service named: ${name}`);
    return s;
  }

  /** Adds a child (started at once if this service runs). Use `child.setServiceParent(this)`. */
  addService(service: IService): void {
    if (service.name !== null) {
      if (this.named.has(service.name)) {
        throw new Error(`Service named ${service.name} already exists`);
      }
      this.named.set(service.name, service);
    }
    if (!this.services.includes(service)) this.services.push(service);
    if (this.running) {
      service.privilegedStartService();
      service.startService();
    }
  }

  /** Removes a child, stopping it if this service runs. */
  removeService(service: IService): Deferred<unknown> | undefined {
    if (service.name !== null) this.named.delete(service.name);
    const i = this.services.indexOf(service);
    if (i >= 0) this.services.splice(i, 1);
    if (this.running) return maybeDeferred(() => service.stopService());
    return undefined;
  }

  [Symbol.iterator](): Iterator<IService> {
    return this.services[Symbol.iterator]();
  }
}

/**
 * The root of a program's services, what `twist run` starts: a named `MultiService`.
 *
 * @example
 * ```ts
 * export const application = new Application("echo");
 * strports.service("tcp:8000", Factory.forProtocol(Echo)).setServiceParent(application);
 * ```
 */
export class Application extends MultiService {
  constructor(name = "application") {
    super();
    this.name = name;
  }
}
