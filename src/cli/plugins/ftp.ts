// `twist ftp`: an FTP/FTPS server (twisted-ts/protocols/ftp) over a directory.

import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { type IServiceMaker, type PluginOptions, UsageError } from "../../application/_plugin.js";
import { AllowAnonymousAccess, AUTH_HELP, Portal } from "../../cred/index.js";
import {
  type DataReactor,
  FTPFactory,
  type FTPFactoryOptions,
  FTPRealm,
} from "../../protocols/ftp/index.js";
import {
  checkersFromAuth,
  listeningService,
  listenOption,
  optionList,
  positiveIntOption,
} from "./_common.js";

/** Parses `--passive-ports LOW-HIGH`. */
export function parsePortRange(text: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const low = Number(m?.[1]);
  const high = Number(m?.[2]);
  if (m === null || low < 1 || high > 65535 || low > high) {
    throw new UsageError(`Invalid --passive-ports: ${text} (expected LOW-HIGH, e.g. 30000-30100)`);
  }
  return [low, high];
}

function readPEM(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`Invalid --${option}: cannot read ${path}`, { cause: e });
  }
}

/** The key and certificate of the first `ssl:` listen description, for implicit FTPS data. */
function sslFilesOf(listen: string[]): { key: string; cert: string } | null {
  for (const description of listen) {
    if (!description.startsWith("ssl:")) continue;
    const params = new Map<string, string>();
    for (const part of description.split(/(?<!\\):/).slice(1)) {
      const eq = part.indexOf("=");
      if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1).replace(/\\:/g, ":"));
    }
    const key = params.get("privateKey");
    if (key !== undefined) return { key, cert: params.get("certKey") ?? key };
  }
  return null;
}

/**
 * Builds the factory `twist ftp` listens with, from parsed options (exported for tests and for
 * programs that want the same setup).
 */
export function makeFTPFactory(options: PluginOptions, reactor: unknown): FTPFactory {
  if (typeof options.root !== "string" || options.root === "")
    throw new UsageError("Missing --root DIR");
  const root = resolve(options.root);
  try {
    if (!statSync(root).isDirectory()) throw new Error("not a directory");
  } catch (e) {
    throw new UsageError(`Invalid --root: ${root} is not a directory`, { cause: e });
  }
  const anonymous = options.anonymous === true;
  const checkers = checkersFromAuth(options.auth);
  if (anonymous) checkers.push(new AllowAnonymousAccess());
  if (checkers.length === 0)
    throw new UsageError("Nobody can log in: give --auth and/or --anonymous");
  const realm = new FTPRealm(
    options["user-dirs"] === true ? { userHome: root, anonymousRoot: root } : { root },
  );
  const factoryOptions: FTPFactoryOptions = {
    reactor: reactor as DataReactor,
    allowAnonymous: anonymous,
  };
  const keyPath = options["tls-key"];
  const certPath = options["tls-cert"];
  if ((keyPath === undefined) !== (certPath === undefined)) {
    throw new UsageError("--tls-key and --tls-cert go together");
  }
  const files =
    typeof keyPath === "string" && typeof certPath === "string"
      ? { key: keyPath, cert: certPath }
      : sslFilesOf(optionList(options.listen));
  if (files !== null) {
    factoryOptions.tls = {
      key: readPEM(files.key, "tls-key"),
      cert: readPEM(files.cert, "tls-cert"),
    };
  }
  if (options["require-tls"] === true) {
    if (files === null) throw new UsageError("--require-tls needs --tls-key and --tls-cert");
    factoryOptions.requireTLS = true;
  }
  if (typeof options["passive-ports"] === "string") {
    factoryOptions.passivePorts = parsePortRange(options["passive-ports"]);
  }
  if (typeof options["passive-address"] === "string")
    factoryOptions.passiveHost = options["passive-address"];
  const maxConnections = positiveIntOption(options, "max-connections");
  if (maxConnections !== null) factoryOptions.maxConnections = maxConnections;
  const perIP = positiveIntOption(options, "max-connections-per-ip");
  if (perIP !== null) factoryOptions.maxConnectionsPerPeer = perIP;
  const idle = positiveIntOption(options, "idle-timeout");
  if (idle !== null) factoryOptions.timeOut = idle;
  return new FTPFactory(new Portal(realm, checkers), factoryOptions);
}

/**
 * The `ftp` plugin: `twist ftp --listen tcp:2121 --root DIR --auth memory:alice:secret`.
 */
export const ftpPlugin: IServiceMaker = {
  name: "ftp",
  description: "An FTP and FTPS server over a directory",
  options: {
    listen: listenOption("tcp:2121"),
    root: { type: "string", metavar: "DIR", help: "The directory served (required)" },
    auth: {
      type: "string",
      multiple: true,
      metavar: "AUTH",
      help: "Who may log in (repeatable): see below",
    },
    anonymous: { type: "boolean", help: "Allow anonymous logins (read-only)" },
    "user-dirs": {
      type: "boolean",
      help: "Give each user their own folder DIR/USER (created at first login)",
    },
    "passive-ports": {
      type: "string",
      metavar: "LOW-HIGH",
      help: "Ports for passive data connections",
    },
    "passive-address": {
      type: "string",
      metavar: "IP",
      help: "The address announced by PASV (behind NAT)",
    },
    "tls-key": {
      type: "string",
      metavar: "PEM",
      help: "TLS private key, for AUTH TLS (explicit FTPS)",
    },
    "tls-cert": { type: "string", metavar: "PEM", help: "TLS certificate chain, for AUTH TLS" },
    "require-tls": { type: "boolean", help: "Refuse logins before AUTH TLS" },
    "max-connections": { type: "string", metavar: "N", help: "Most connections at once" },
    "max-connections-per-ip": {
      type: "string",
      metavar: "N",
      help: "Most connections at once from one address",
    },
    "idle-timeout": {
      type: "string",
      metavar: "SECONDS",
      help: "Close idle control connections (default 600)",
    },
  },
  usage: [
    "Implicit FTPS: listen on ssl:990:privateKey=key.pem:certKey=cert.pem (its key and",
    "certificate also protect data connections).",
    "",
    AUTH_HELP,
  ].join("\n"),
  makeService(options, context) {
    const factory = makeFTPFactory(options, context.reactor);
    return listeningService(options.listen, factory, context.reactor);
  },
};
