// Endpoint description strings: the built-in endpoint types, parser plugins, the entry points.

import {
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  UNIXClientEndpoint,
  wrapClientTLS,
} from "./_endpoints_client.js";
import {
  bind,
  certsIn,
  EndpointDescriptionError,
  ipInterface,
  keyIn,
  octalMode,
  parseDescription,
  portNumber,
  positiveInt,
  readText,
  type Spec,
  seconds,
  tlsFailure,
  trustRootsAt,
} from "./_endpoints_grammar.js";
import { HostnameEndpoint } from "./_endpoints_hostname.js";
import {
  SSL4ServerEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
  WrapperServerEndpoint,
} from "./_endpoints_server.js";
import type { IStreamClientEndpoint, IStreamServerEndpoint } from "./endpoints.js";
import type {
  IProtocolFactory,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
} from "./interfaces.js";
import { CertificateOptions, type ClientCertificate, optionsForClientTLS } from "./ssl.js";

/** What `serverFromString`/`clientFromString` need of a reactor. */
export type EndpointReactor = IReactorTCP & IReactorSSL & IReactorUNIX & IReactorTime;

// Parser plugins ---------------------------------------------------------------------------------

/** Makes server endpoints for descriptions starting with `prefix:` (Twisted's parser plugins). */
export interface IStreamServerEndpointStringParser {
  readonly prefix: string;
  /**
   * Makes the endpoint. `args` are the positional arguments after the prefix, `kwargs` the
   * parameters; `rest` is the raw text after `prefix:` (escapes kept), for wrappers.
   * Raise `EndpointDescriptionError` for a bad description.
   */
  parseStreamServer(
    reactor: EndpointReactor,
    args: string[],
    kwargs: Record<string, string>,
    rest: string,
  ): IStreamServerEndpoint;
}

/** Makes client endpoints for descriptions starting with `prefix:`. */
export interface IStreamClientEndpointStringParser {
  readonly prefix: string;
  /** As `IStreamServerEndpointStringParser.parseStreamServer`, for clients. */
  parseStreamClient(
    reactor: EndpointReactor,
    args: string[],
    kwargs: Record<string, string>,
    rest: string,
  ): IStreamClientEndpoint;
}

const serverParsers = new Map<string, IStreamServerEndpointStringParser>();
const clientParsers = new Map<string, IStreamClientEndpointStringParser>();

/** Adds (or replaces) the server parser of `parser.prefix`. */
export function registerServerParser(parser: IStreamServerEndpointStringParser): void {
  serverParsers.set(parser.prefix, parser);
}

/** Adds (or replaces) the client parser of `parser.prefix`. */
export function registerClientParser(parser: IStreamClientEndpointStringParser): void {
  clientParsers.set(parser.prefix, parser);
}

/**
 * A server parser for `prefix:<any server description>` that listens on the inner description
 * with every factory wrapped by `wrapFactory`.
 *
 * @example
 * ```ts
 * registerServerParser(wrappingServerParser("haproxy", (f) => new HAProxyWrappingFactory(f)));
 * serverFromString(reactor, "haproxy:tcp:8080");
 * ```
 */
export function wrappingServerParser(
  prefix: string,
  wrapFactory: (factory: IProtocolFactory) => IProtocolFactory,
): IStreamServerEndpointStringParser {
  return {
    prefix,
    parseStreamServer: (reactor, _args, _kwargs, rest) =>
      new WrapperServerEndpoint(serverFromString(reactor, rest), wrapFactory),
  };
}

// Built-in server parsers --------------------------------------------------------------------------

type ServerParse = (
  reactor: EndpointReactor,
  args: string[],
  kwargs: Record<string, string>,
  description: string,
) => IStreamServerEndpoint;

const TCP_SERVER: Spec = {
  positional: ["port"],
  keywords: ["port", "interface", "backlog"],
  required: ["port"],
};

const builtinServers: Record<string, ServerParse> = {
  tcp(reactor, args, kwargs, description) {
    const v = bind("tcp", description, args, kwargs, TCP_SERVER);
    return new TCP4ServerEndpoint(
      reactor,
      portNumber(v.port as string, description, true),
      positiveInt("backlog", v.backlog, 50, description),
      ipInterface(v.interface, "", false, description),
    );
  },
  tcp6(reactor, args, kwargs, description) {
    const v = bind("tcp6", description, args, kwargs, TCP_SERVER);
    return new TCP6ServerEndpoint(
      reactor,
      portNumber(v.port as string, description, true),
      positiveInt("backlog", v.backlog, 50, description),
      ipInterface(v.interface, "::", true, description),
    );
  },
  unix(reactor, args, kwargs, description) {
    const v = bind("unix", description, args, kwargs, {
      positional: ["address"],
      keywords: ["address", "mode", "backlog"],
      required: ["address"],
    });
    return new UNIXServerEndpoint(
      reactor,
      v.address as string,
      positiveInt("backlog", v.backlog, 50, description),
      octalMode(v.mode, description),
    );
  },
  ssl(reactor, args, kwargs, description) {
    const v = bind("ssl", description, args, kwargs, {
      positional: ["port"],
      keywords: ["port", "privateKey", "certKey", "extraCertChain", "interface", "backlog"],
      required: ["port", "privateKey"],
    });
    const port = portNumber(v.port as string, description, true);
    const keyPath = v.privateKey as string;
    const certPath = v.certKey ?? keyPath;
    const key = keyIn(keyPath, readText(keyPath, "privateKey", description), description);
    const [leaf, ...chain] = certsIn(
      certPath,
      readText(certPath, "certKey", description),
      description,
    );
    if (v.extraCertChain !== undefined) {
      chain.push(
        ...certsIn(
          v.extraCertChain,
          readText(v.extraCertChain, "extraCertChain", description),
          description,
        ),
      );
    }
    let options: CertificateOptions;
    try {
      options = new CertificateOptions({
        privateKey: key,
        certificate: leaf as string,
        extraCertChain: chain,
      });
    } catch (e) {
      throw tlsFailure(description, e);
    }
    return new SSL4ServerEndpoint(
      reactor,
      port,
      options,
      positiveInt("backlog", v.backlog, 50, description),
      ipInterface(v.interface, "", false, description),
    );
  },
};

// Built-in client parsers --------------------------------------------------------------------------

type ClientParse = (
  reactor: EndpointReactor,
  args: string[],
  kwargs: Record<string, string>,
  description: string,
) => IStreamClientEndpoint;

const TCP_CLIENT: Spec = {
  positional: ["host", "port"],
  keywords: ["host", "port", "timeout", "bindAddress"],
  required: ["host", "port"],
};

function bindAddress(value: string | undefined): readonly [string, number] | undefined {
  return value === undefined ? undefined : [value, 0];
}

const builtinClients: Record<string, ClientParse> = {
  tcp(reactor, args, kwargs, description) {
    const v = bind("tcp", description, args, kwargs, TCP_CLIENT);
    return new TCP4ClientEndpoint(
      reactor,
      v.host as string,
      portNumber(v.port as string, description, false),
      seconds(v.timeout, description),
      bindAddress(v.bindAddress),
    );
  },
  tcp6(reactor, args, kwargs, description) {
    const v = bind("tcp6", description, args, kwargs, TCP_CLIENT);
    return new TCP6ClientEndpoint(
      reactor,
      v.host as string,
      portNumber(v.port as string, description, false),
      seconds(v.timeout, description),
      bindAddress(v.bindAddress),
    );
  },
  unix(reactor, args, kwargs, description) {
    const v = bind("unix", description, args, kwargs, {
      positional: ["path"],
      keywords: ["path", "timeout"],
      required: ["path"],
    });
    return new UNIXClientEndpoint(reactor, v.path as string, seconds(v.timeout, description));
  },
  tls(reactor, args, kwargs, description) {
    const v = bind("tls", description, args, kwargs, {
      positional: ["host", "port"],
      keywords: [
        "host",
        "port",
        "timeout",
        "bindAddress",
        "trustRoots",
        "certificate",
        "privateKey",
      ],
      required: ["host", "port"],
    });
    const host = v.host as string;
    const port = portNumber(v.port as string, description, false);
    const clientOptions: { trustRoot?: string[]; clientCertificate?: ClientCertificate } = {};
    if (v.trustRoots !== undefined)
      clientOptions.trustRoot = trustRootsAt(v.trustRoots, description);
    if (v.privateKey !== undefined && v.certificate === undefined) {
      throw new EndpointDescriptionError(
        `Parameter "privateKey" needs "certificate" in "${description}"`,
        description,
      );
    }
    if (v.certificate !== undefined) {
      const certText = readText(v.certificate, "certificate", description);
      const keyPath = v.privateKey ?? v.certificate;
      const keyText =
        v.privateKey === undefined ? certText : readText(keyPath, "privateKey", description);
      const cert = certsIn(v.certificate, certText, description).join("");
      clientOptions.clientCertificate = { key: keyIn(keyPath, keyText, description), cert };
    }
    let tlsOptions: ReturnType<typeof optionsForClientTLS>;
    try {
      tlsOptions = optionsForClientTLS(host, clientOptions);
    } catch (e) {
      throw tlsFailure(description, e);
    }
    const hostOptions: { timeout: number; bindAddress?: readonly [string, number] } = {
      timeout: seconds(v.timeout, description),
    };
    const bound = bindAddress(v.bindAddress);
    if (bound !== undefined) hostOptions.bindAddress = bound;
    return wrapClientTLS(tlsOptions, new HostnameEndpoint(reactor, host, port, hostOptions));
  },
};

// Entry points --------------------------------------------------------------------------------------

/** Splits off the endpoint type: the text before the first unescaped `:`, and the raw rest. */
function splitType(description: string): [type: string, rest: string] {
  for (let i = 0; i < description.length; i++) {
    const c = description[i];
    if (c === "\\") i++;
    else if (c === ":") return [description.slice(0, i), description.slice(i + 1)];
  }
  return [description, ""];
}

function parseFor(description: string, kind: "server" | "client", known: string[]) {
  if (typeof description !== "string" || description.trim() === "") {
    throw new EndpointDescriptionError(`Empty ${kind} endpoint description`, String(description));
  }
  const { args, kwargs } = parseDescription(description);
  const [rawType, rest] = splitType(description);
  // The first part must be positional: "port=80" has no type.
  const type = parseDescription(rawType).args[0] ?? "";
  if (type === "") {
    throw new EndpointDescriptionError(`Missing endpoint type in "${description}"`, description);
  }
  const list = [...new Set(known)].sort().join(", ");
  return { type, args: args.slice(1), kwargs, rest, list };
}

/**
 * Makes a server endpoint from a description string, as `twist --listen` takes them:
 * `tcp:PORT[:interface=ADDR][:backlog=N]`, `tcp6:PORT[…]` (interface `::` by default),
 * `unix:PATH[:mode=660][:backlog=N]`,
 * `ssl:PORT:privateKey=key.pem[:certKey=cert.pem][:extraCertChain=chain.pem][:interface=…]`,
 * and the types of registered parsers (`haproxy:<description>` once `twisted-ts/protocols` is
 * loaded). `\:` escapes a colon. Files are read now, so that a bad one is reported at once.
 * Raises `EndpointDescriptionError` naming the bad part.
 *
 * @example
 * ```ts
 * const endpoint = serverFromString(reactor, "tcp:8080:interface=127.0.0.1");
 * const port = await endpoint.listen(Factory.forProtocol(Echo));
 * ```
 */
export function serverFromString(
  reactor: EndpointReactor,
  description: string,
): IStreamServerEndpoint {
  const known = [...Object.keys(builtinServers), ...serverParsers.keys()];
  const { type, args, kwargs, rest, list } = parseFor(description, "server", known);
  const plugin = serverParsers.get(type);
  if (plugin !== undefined) return plugin.parseStreamServer(reactor, args, kwargs, rest);
  const builtin = Object.hasOwn(builtinServers, type) ? builtinServers[type] : undefined;
  if (builtin !== undefined) return builtin(reactor, args, kwargs, description);
  if (type === "haproxy") {
    throw new EndpointDescriptionError(
      `Endpoint type "haproxy" is provided by twisted-ts/protocols: import it first (in "${description}")`,
      description,
    );
  }
  throw new EndpointDescriptionError(
    `Unknown endpoint type: "${type}" (known: ${list})`,
    description,
  );
}

/**
 * Makes a client endpoint from a description string: `tcp:host=H:port=P[:timeout=S]
 * [:bindAddress=ADDR]` (or `tcp:H:P`), `tcp6:…`, `unix:path=PATH[:timeout=S]`,
 * `tls:host=H:port=P[:trustRoots=DIR|FILE][:certificate=…][:privateKey=…][:timeout=…]` (host
 * name checked, SNI sent, system roots by default; a DIR means its `*.pem`/`*.crt` files), and
 * the types of registered parsers. Raises `EndpointDescriptionError` naming the bad part.
 *
 * @example
 * ```ts
 * const endpoint = clientFromString(reactor, "tls:host=example.com:port=443");
 * const proto = await endpoint.connect(factory);
 * ```
 */
export function clientFromString(
  reactor: EndpointReactor,
  description: string,
): IStreamClientEndpoint {
  const known = [...Object.keys(builtinClients), ...clientParsers.keys()];
  const { type, args, kwargs, rest, list } = parseFor(description, "client", known);
  const plugin = clientParsers.get(type);
  if (plugin !== undefined) return plugin.parseStreamClient(reactor, args, kwargs, rest);
  const builtin = Object.hasOwn(builtinClients, type) ? builtinClients[type] : undefined;
  if (builtin !== undefined) return builtin(reactor, args, kwargs, description);
  throw new EndpointDescriptionError(
    `Unknown endpoint type: "${type}" (known: ${list})`,
    description,
  );
}
