// Name-based virtual hosting: NameVirtualHost picks a resource tree by the request's Host.

import type { Request } from "./_request.js";
import { type IResource, NoResource, type RenderResult, Resource } from "./_resource.js";

/**
 * Serves a different resource tree per host name (the `Host` header, without the port,
 * case-insensitive), or `default` for other names (404 without one).
 *
 * @example
 * ```ts
 * const vhost = new NameVirtualHost();
 * vhost.addHost("example.com", new File("/srv/example"));
 * vhost.addHost("api.example.com", apiRoot);
 * vhost.default = new File("/srv/default");
 * reactor.listenTCP(80, new Site(vhost));
 * ```
 */
export class NameVirtualHost extends Resource {
  /** The resource for hosts that were not added; `null` answers them with 404. */
  default: IResource | null = null;
  /** The resources by lower-cased host name. */
  readonly hosts = new Map<string, IResource>();

  /** Serves `resource` for requests to `name`. */
  addHost(name: string, resource: IResource): void {
    this.hosts.set(name.toLowerCase(), resource);
  }

  /** Stops serving `name`. */
  removeHost(name: string): void {
    this.hosts.delete(name.toLowerCase());
  }

  /** The resource tree for `request`'s host. */
  resourceForRequest(request: Request): IResource {
    const host = request.getRequestHostname().toLowerCase().replace(/\.$/, "");
    return this.hosts.get(host) ?? this.default ?? new NoResource(`No such host: ${host}`);
  }

  override getChild(name: string, request: Request): IResource {
    const resource = this.resourceForRequest(request);
    if (resource.isLeaf) {
      // A leaf gets the segment back in its postpath, as if it were mounted here.
      request.postpath.unshift(request.prepath.pop() as string);
      return resource;
    }
    return resource.getChildWithDefault(name, request);
  }

  override render(request: Request): RenderResult {
    return this.resourceForRequest(request).render(request);
  }
}
