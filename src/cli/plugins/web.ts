// `twist web`: serves a directory (or a Resource from a user's module) over HTTP and HTTPS.

import { statSync } from "node:fs";
import { type IServiceMaker, type PluginOptions, UsageError } from "../../application/_plugin.js";
import type { IReactorTime } from "../../internet/interfaces.js";
import { Request } from "../../web/_request.js";
import type { IResource } from "../../web/_resource.js";
import { Site } from "../../web/_site.js";
import { File } from "../../web/_static.js";
import { importUserModule, listeningService, optionList } from "./_common.js";

function isResource(v: unknown): v is IResource {
  return typeof v === "object" && v !== null && typeof (v as IResource).render === "function";
}

/** Loads `./module.js:ExportName`: a Resource instance, or a class made with `new`. */
async function loadResource(spec: string): Promise<IResource> {
  const colon = spec.lastIndexOf(":");
  if (colon <= 0 || colon === spec.length - 1) {
    throw new UsageError(`Invalid --class ${spec}: expected ./module.js:ExportName`);
  }
  const path = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  const mod = await importUserModule(path);
  const value = mod[name];
  if (value === undefined) throw new UsageError(`${path} has no export named ${name}`);
  const resource = typeof value === "function" ? new (value as new () => unknown)() : value;
  if (!isResource(resource)) throw new UsageError(`${path}:${name} is not a Resource`);
  return resource;
}

function parseMimeTypes(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^\.?([^=\s]+)=(\S+\/\S+)$/.exec(v);
    if (m === null) throw new UsageError(`Invalid --mime-type ${v}: expected ext=type/subtype`);
    out[`.${(m[1] as string).toLowerCase()}`] = m[2] as string;
  }
  return out;
}

function parseHeaders(values: string[]): [string, string][] {
  return values.map((v) => {
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):\s*([^\r\n]*)$/.exec(v);
    if (m === null)
      throw new UsageError(`Invalid --add-header ${JSON.stringify(v)}: expected "Name: Value"`);
    return [m[1] as string, m[2] as string];
  });
}

/** Builds the site `twist web` serves, from its options. */
export async function makeWebSite(options: PluginOptions, reactor: unknown): Promise<Site> {
  let root: IResource;
  if (typeof options.class === "string") {
    root = await loadResource(options.class);
  } else {
    const path = String(options.path ?? ".");
    try {
      statSync(path);
    } catch {
      throw new UsageError(`--path ${path} does not exist`);
    }
    const indexNames = optionList(options.index);
    root = new File(path, {
      ...(indexNames.length > 0 ? { indexNames } : {}),
      contentTypes: parseMimeTypes(optionList(options["mime-type"])),
    });
  }
  const headers = parseHeaders(optionList(options["add-header"]));
  const accessLog = options["access-log"];
  return new Site(root, {
    reactor: reactor as IReactorTime,
    displayTracebacks: options["display-tracebacks"] === true,
    ...(typeof accessLog === "string" ? { logPath: accessLog } : {}),
    requestFactory: (channel) => {
      const request = new Request(channel);
      for (const [name, value] of headers) request.responseHeaders.addRawHeader(name, value);
      return request;
    },
  });
}

/**
 * The `web` plugin: `twist web --listen tcp:8080 --path DIR` serves files (Twisted's
 * `twistd web`); `--class ./module.js:Name` serves a Resource of yours instead.
 */
export const webPlugin: IServiceMaker = {
  name: "web",
  description: "An HTTP/1.1 web server for a directory of files or your own Resource",
  options: {
    listen: {
      type: "string",
      multiple: true,
      default: ["tcp:8080"],
      metavar: "ENDPOINT",
      help: "Where to listen, e.g. tcp:8080, ssl:8443:privateKey=key.pem:certKey=cert.pem",
    },
    path: {
      type: "string",
      default: ".",
      metavar: "DIR",
      help: "The directory (or file) to serve",
    },
    index: {
      type: "string",
      multiple: true,
      metavar: "NAME",
      help: "An index file name for directories (default: index.html, index.htm)",
    },
    "mime-type": {
      type: "string",
      multiple: true,
      metavar: "EXT=TYPE",
      help: "A MIME type for a file extension, e.g. md=text/markdown",
    },
    "add-header": {
      type: "string",
      multiple: true,
      metavar: "'NAME: VALUE'",
      help: "A header to add to every response",
    },
    "access-log": {
      type: "string",
      metavar: "PATH|-",
      help: "Write an access log (combined format) here; - is standard output",
    },
    "display-tracebacks": {
      type: "boolean",
      help: "Show tracebacks in error pages (development only)",
    },
    class: {
      type: "string",
      metavar: "./module.js:NAME",
      help: "Serve the Resource exported as NAME by a module instead of files",
    },
  },
  usage:
    "Examples:\n" +
    "  twist web --path ./public\n" +
    "  twist web --listen tcp:8080 --listen ssl:8443:privateKey=key.pem:certKey=cert.pem --path /srv/www\n" +
    "  twist web --class ./app.js:Root --access-log -",
  async makeService(options, context) {
    const site = await makeWebSite(options, context.reactor);
    return listeningService(options.listen, site, context.reactor);
  },
};
