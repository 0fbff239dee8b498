// Command-line parsing for `twist`: global options, then a plugin and its own options.

import { parseArgs } from "node:util";
import { type IServiceMaker, type PluginOptions, UsageError } from "../application/_plugin.js";

/** The options `twist` itself takes before the plugin name. */
export interface GlobalOptions {
  logFormat: "text" | "json";
  logLevel: string;
  logFile: string;
  workers: number;
  plugins: string[];
  help: boolean;
  version: boolean;
}

const GLOBAL_HELP: [string, string][] = [
  ["--log-format text|json", "Format of log lines (default: text)"],
  ["--log-level LEVEL", "Lowest level logged: debug, info, warn, error, critical (default: info)"],
  ["--log-file PATH|-", "Where logs go; - is standard output (default: -)"],
  ["--workers N", "Run N worker processes sharing the listening sockets (default: 1)"],
  ["--plugin PATH", "Load a third-party plugin module (repeatable)"],
  ["--help, -h", "Show this help"],
  ["--version", "Show the version"],
];

/** Splits argv into global options, the plugin name and the plugin's own arguments. */
export function parseGlobal(argv: readonly string[]): {
  options: GlobalOptions;
  plugin: string | null;
  rest: string[];
} {
  const options: GlobalOptions = {
    logFormat: "text",
    logLevel: "info",
    logFile: "-",
    workers: 1,
    plugins: [],
    help: false,
    version: false,
  };
  let i = 0;
  const value = (name: string): string => {
    const eq = argv[i]!.indexOf("=");
    if (eq >= 0) return argv[i]!.slice(eq + 1);
    i++;
    const v = argv[i];
    if (v === undefined) throw new UsageError(`Option ${name} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split("=", 1)[0]!;
    if (name === "--help" || name === "-h") options.help = true;
    else if (name === "--version") options.version = true;
    else if (name === "--log-format") {
      const v = value(name);
      if (v !== "text" && v !== "json") {
        throw new UsageError(`Invalid --log-format: ${v} (expected text or json)`);
      }
      options.logFormat = v;
    } else if (name === "--log-level") options.logLevel = value(name);
    else if (name === "--log-file") options.logFile = value(name);
    else if (name === "--workers") {
      const v = value(name);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1024) {
        throw new UsageError(`Invalid --workers: ${v} (expected a whole number from 1 to 1024)`);
      }
      options.workers = n;
    } else if (name === "--plugin") options.plugins.push(value(name));
    else if (arg.startsWith("-")) throw new UsageError(`Unknown option: ${name}`);
    else return { options, plugin: arg, rest: argv.slice(i + 1) };
  }
  return { options, plugin: null, rest: [] };
}

/** Parses a plugin's arguments against its option table; `--help` gives `null`. */
export function parsePluginArgs(
  maker: IServiceMaker,
  args: readonly string[],
): PluginOptions | null {
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> =
    {
      help: { type: "boolean", short: "h" },
    };
  for (const [name, o] of Object.entries(maker.options)) {
    config[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) };
    if (o.short !== undefined) config[name].short = o.short;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    throw new UsageError(msg.replace(/\. To specify.*$/, ""), { cause: e });
  }
  if (parsed.values.help) return null;
  const result: PluginOptions = { _: parsed.positionals };
  for (const [name, o] of Object.entries(maker.options)) {
    const v = parsed.values[name];
    if (v !== undefined) result[name] = v as string | boolean | string[];
    else if (o.default !== undefined) result[name] = o.default;
  }
  const allowed = maker.positionals ?? [];
  const variadic = allowed.some((p) => p.variadic);
  if (!variadic && parsed.positionals.length > allowed.length) {
    throw new UsageError(`Unexpected argument: ${parsed.positionals[allowed.length]}`);
  }
  allowed.forEach((p, idx) => {
    if (p.required && parsed.positionals[idx] === undefined) {
      throw new UsageError(`Missing argument: ${p.name}`);
    }
  });
  return result;
}

function columns(rows: [string, string][]): string {
  const width = Math.min(32, Math.max(...rows.map(([a]) => a.length)) + 2);
  return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join("\n");
}

/** `twist --help`: global options and the plugins with one line each. */
export function globalUsage(plugins: { name: string; description: string }[]): string {
  return [
    "Usage: twist [global options] <plugin> [plugin options]",
    "",
    "Global options:",
    columns(GLOBAL_HELP),
    "",
    "Plugins:",
    columns(plugins.map((p) => [p.name, p.description])),
    "",
    "Run 'twist <plugin> --help' for a plugin's options.",
  ].join("\n");
}

/** `twist <plugin> --help`. */
export function pluginUsage(maker: IServiceMaker): string {
  const positionals = (maker.positionals ?? [])
    .map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`) + (p.variadic ? "…" : ""))
    .join(" ");
  const rows: [string, string][] = Object.entries(maker.options).map(([name, o]) => {
    const flag = `--${name}${o.type === "string" ? ` ${o.metavar ?? "VALUE"}` : ""}`;
    const short = o.short ? `-${o.short}, ` : "";
    const dflt =
      o.default !== undefined &&
      o.default !== false &&
      !(Array.isArray(o.default) && !o.default.length)
        ? ` (default: ${Array.isArray(o.default) ? o.default.join(", ") : String(o.default)})`
        : "";
    return [`${short}${flag}`, `${o.help}${o.multiple ? " (repeatable)" : ""}${dflt}`];
  });
  rows.push(["-h, --help", "Show this help"]);
  const lines = [
    `Usage: twist [global options] ${maker.name} [options]${positionals ? ` ${positionals}` : ""}`,
    "",
    maker.description,
    "",
  ];
  if (maker.positionals?.length) {
    lines.push("Arguments:", columns(maker.positionals.map((p) => [p.name, p.help])), "");
  }
  lines.push("Options:", columns(rows));
  if (maker.usage) lines.push("", maker.usage);
  return lines.join("\n");
}
