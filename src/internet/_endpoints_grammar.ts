// Endpoint description grammar ("tcp:8080:interface=127.0.0.1"), parameter checks, PEM files.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { isIP, isIPv6 } from "node:net";
import { join } from "node:path";
import { TwistedError } from "./error.js";
import { isPrivateKeyLabel, pemBlocks } from "./ssl.js";

/** An endpoint description string that cannot be parsed or used. */
export class EndpointDescriptionError extends TwistedError {
  override readonly code: string = "ERR_ENDPOINT_DESCRIPTION";
  constructor(
    message: string,
    /** The whole description. */
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A description split into positional arguments and `key=value` parameters. */
export interface ParsedDescription {
  /** Positional arguments, the endpoint type first. */
  args: string[];
  /** `key=value` parameters, in order. */
  kwargs: Record<string, string>;
}

/**
 * Splits a description at unescaped `:`; in each part, the first unescaped `=` separates a
 * parameter name from its value. `\` escapes the next character (`\:`, `\=`, `\\`).
 *
 * @example
 * ```ts
 * parseDescription("unix:/tmp/a\\:b.sock:mode=660"); // args ["unix", "/tmp/a:b.sock"], kwargs { mode: "660" }
 * ```
 */
export function parseDescription(description: string): ParsedDescription {
  const args: string[] = [];
  const kwargs: Record<string, string> = {};
  let current = "";
  let key: string | null = null;
  const finish = (): void => {
    if (key === null) {
      args.push(current);
    } else {
      if (key === "")
        throw new EndpointDescriptionError(`Empty parameter name in "${description}"`, description);
      if (Object.hasOwn(kwargs, key)) {
        throw new EndpointDescriptionError(
          `Parameter "${key}" given twice in "${description}"`,
          description,
        );
      }
      kwargs[key] = current;
    }
    current = "";
    key = null;
  };
  for (let i = 0; i < description.length; i++) {
    const c = description[i] as string;
    if (c === "\\") {
      const next = description[i + 1];
      if (next === undefined) {
        throw new EndpointDescriptionError(`Trailing backslash in "${description}"`, description);
      }
      current += next;
      i++;
    } else if (c === ":") {
      finish();
    } else if (c === "=" && key === null) {
      key = current;
      current = "";
    } else {
      current += c;
    }
  }
  finish();
  return { args, kwargs };
}

/** Escapes `\`, `:` and `=` so that `value` reads back as one argument. */
export function quoteDescriptionValue(value: string): string {
  return value.replace(/[\\:=]/g, (c) => `\\${c}`);
}

// Parameters ---------------------------------------------------------------------------------------

/** The parameters of an endpoint type. @internal */
export interface Spec {
  positional: readonly string[];
  keywords: readonly string[];
  required: readonly string[];
}

/** Binds positional arguments and parameters to names, rejecting unknown or repeated ones. */
/** @internal */
export function bind(
  type: string,
  description: string,
  args: string[],
  kwargs: Record<string, string>,
  spec: Spec,
) {
  const bad = (message: string) => new EndpointDescriptionError(message, description);
  const values: Record<string, string> = {};
  if (args.length > spec.positional.length) {
    const extra = args.slice(spec.positional.length).join(":");
    throw bad(`Too many arguments for endpoint type "${type}" in "${description}": ${extra}`);
  }
  args.forEach((value, i) => {
    values[spec.positional[i] as string] = value;
  });
  for (const [key, value] of Object.entries(kwargs)) {
    if (!spec.keywords.includes(key)) {
      throw bad(`Unknown parameter "${key}" for endpoint type "${type}" in "${description}"`);
    }
    if (Object.hasOwn(values, key)) throw bad(`Parameter "${key}" given twice in "${description}"`);
    values[key] = value;
  }
  for (const name of spec.required) {
    if (values[name] === undefined || values[name] === "") {
      throw bad(`Missing ${name} for endpoint type "${type}" in "${description}"`);
    }
  }
  return values;
}

/** @internal */
export function portNumber(value: string, description: string, allowZero: boolean): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n <= 65535 && (allowZero || n > 0))) {
    throw new EndpointDescriptionError(`Invalid port in "${description}": ${value}`, description);
  }
  return n;
}

/** @internal */
export function positiveInt(
  name: string,
  value: string | undefined,
  fallback: number,
  description: string,
): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : 0;
  if (!(n > 0))
    throw new EndpointDescriptionError(
      `Invalid ${name} in "${description}": ${value}`,
      description,
    );
  return n;
}

/** @internal */
export function seconds(value: string | undefined, description: string): number {
  if (value === undefined) return 30;
  const n = /^\d+(\.\d*)?$|^\.\d+$/.test(value) ? Number(value) : 0;
  if (!(n > 0))
    throw new EndpointDescriptionError(
      `Invalid timeout in "${description}": ${value}`,
      description,
    );
  return n;
}

/** @internal */
export function ipInterface(
  value: string | undefined,
  fallback: string,
  v6: boolean,
  description: string,
): string {
  if (value === undefined) return fallback;
  if (v6 ? !isIPv6(value) : isIP(value) === 0) {
    const what = v6 ? "an IPv6 address" : "an IP address";
    throw new EndpointDescriptionError(
      `Invalid interface in "${description}": ${value} (${what} expected)`,
      description,
    );
  }
  return value;
}

/** @internal */
export function octalMode(value: string | undefined, description: string): number {
  if (value === undefined) return 0o666;
  if (!/^0?o?[0-7]{1,4}$/.test(value)) {
    throw new EndpointDescriptionError(
      `Invalid mode in "${description}": ${value} (octal digits expected)`,
      description,
    );
  }
  return Number.parseInt(value.replace(/^0?o/, ""), 8);
}

// Files ------------------------------------------------------------------------------------------

/** @internal */
export function readText(path: string, what: string, description: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EndpointDescriptionError(
      `Cannot read ${what} "${path}" in "${description}": ${why}`,
      description,
      {
        cause: e,
      },
    );
  }
}

function certificatesIn(text: string): string[] {
  return pemBlocks(text)
    .filter((b) => b.label === "CERTIFICATE")
    .map((b) => b.pem);
}

/** @internal */
export function keyIn(path: string, text: string, description: string): string {
  const key = pemBlocks(text).find((b) => isPrivateKeyLabel(b.label));
  if (key === undefined) {
    throw new EndpointDescriptionError(
      `No private key in "${path}" in "${description}"`,
      description,
    );
  }
  if (key.label === "ENCRYPTED PRIVATE KEY") {
    throw new EndpointDescriptionError(
      `Encrypted private key in "${path}" in "${description}": decrypt it first`,
      description,
    );
  }
  return key.pem;
}

/** @internal */
export function certsIn(path: string, text: string, description: string): string[] {
  const certs = certificatesIn(text);
  if (certs.length === 0) {
    throw new EndpointDescriptionError(
      `No certificate in "${path}" in "${description}"`,
      description,
    );
  }
  return certs;
}

/** The certificates of a PEM file, or of every `*.pem`/`*.crt` file of a folder. */
/** @internal */
export function trustRootsAt(path: string, description: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new EndpointDescriptionError(
      `Cannot read trustRoots "${path}" in "${description}": ${why}`,
      description,
      {
        cause: e,
      },
    );
  }
  if (!isDir) return certsIn(path, readText(path, "trustRoots", description), description);
  const files = readdirSync(path)
    .filter((name) => /\.(pem|crt)$/i.test(name))
    .sort();
  const certs = files.flatMap((name) =>
    certificatesIn(readText(join(path, name), "trustRoots", description)),
  );
  if (certs.length === 0) {
    throw new EndpointDescriptionError(
      `No certificate in the *.pem or *.crt files of "${path}" in "${description}"`,
      description,
    );
  }
  return certs;
}

/** @internal */
export function tlsFailure(description: string, e: unknown): EndpointDescriptionError {
  const why = e instanceof Error ? e.message : String(e);
  return new EndpointDescriptionError(
    `Cannot use the TLS key and certificate of "${description}": ${why}`,
    description,
    {
      cause: e,
    },
  );
}
