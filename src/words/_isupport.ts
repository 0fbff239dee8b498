// ISUPPORT (numeric 005): what a server supports, parsed (Twisted's ServerSupportedFeatures).

/** `CHANMODES` split by kind (Twisted's names). */
export interface ChannelModes {
  /** Type A: modes that take a mask and manage a list (`b`). */
  addressModes: string;
  /** Type B: modes that always take a parameter (`k`). */
  param: string;
  /** Type C: modes that take a parameter only when set (`l`). */
  setParam: string;
  /** Type D: modes without a parameter (`imnst`). */
  noParam: string;
}

/** `PREFIX`: channel membership mode → `[prefix symbol, rank]` (0 is the highest). */
export type PrefixModes = ReadonlyMap<string, readonly [symbol: string, rank: number]>;

function unescapeValue(v: string): string {
  return v.replace(/\\x([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function intOrNull(v: string | null): number | null {
  if (v === null || v === "") return null;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : null;
}

/** Parses `PREFIX` (`(ov)@+`), or `null` when malformed. */
export function parsePrefixFeature(value: string): PrefixModes | null {
  const m = /^\(([^)]*)\)(.*)$/.exec(value);
  if (m === null || m[1]!.length !== m[2]!.length) return null;
  const out = new Map<string, readonly [string, number]>();
  for (let i = 0; i < m[1]!.length; i++) out.set(m[1]![i]!, [m[2]![i]!, i]);
  return out;
}

/** Parses `CHANMODES` (`b,k,l,imnst`). */
export function parseChanModes(value: string): ChannelModes {
  const [a = "", b = "", c = "", d = ""] = value.split(",");
  return { addressModes: a, param: b, setParam: c, noParam: d };
}

/** Parses a `CMD:n,CMD2:,…` list (`TARGMAX`, `MAXLIST`, `CHANLIMIT`): name → limit or `null`. */
export function parseLimitList(value: string): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const item of value.split(",")) {
    if (item === "") continue;
    const colon = item.indexOf(":");
    const key = colon < 0 ? item : item.slice(0, colon);
    out.set(key, intOrNull(colon < 0 ? null : item.slice(colon + 1)));
  }
  return out;
}

const DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ["CHANTYPES", "#&"],
  ["PREFIX", "(ov)@+"],
  ["CHANMODES", "b,k,l,imnpst"],
  ["MODES", "3"],
  ["NICKLEN", "9"],
  ["CHANNELLEN", "200"],
  ["CASEMAPPING", "rfc1459"],
];

/**
 * The features a server announced in its `005` replies, with RFC 1459 defaults until then.
 * Values are kept as strings (`getFeature`) and parsed by the typed getters.
 *
 * @example
 * ```ts
 * const s = new ServerSupportedFeatures();
 * s.parse(["PREFIX=(qaohv)~&@%+", "NICKLEN=30", "-KNOCK"]);
 * s.prefixes.get("h"); // ["%", 3]
 * s.nickLength; // 30
 * ```
 */
export class ServerSupportedFeatures {
  private readonly features = new Map<string, string>();

  constructor() {
    for (const [k, v] of DEFAULTS) this.features.set(k, v);
  }

  /**
   * Takes the tokens of one `005` reply (without the client's nick and the final text):
   * `NAME`, `NAME=value` (with `\xHH` escapes) or `-NAME` (the feature is withdrawn).
   */
  parse(tokens: readonly string[]): void {
    for (const token of tokens) {
      if (token === "") continue;
      if (token[0] === "-") {
        this.features.delete(token.slice(1).toUpperCase());
        continue;
      }
      const eq = token.indexOf("=");
      const name = (eq < 0 ? token : token.slice(0, eq)).toUpperCase();
      this.features.set(name, eq < 0 ? "" : unescapeValue(token.slice(eq + 1)));
    }
  }

  /** True when the server announced `name` (or it has a default). */
  hasFeature(name: string): boolean {
    return this.features.has(name.toUpperCase());
  }

  /** The raw value of `name` (`""` for a feature without value), or `fallback`. */
  getFeature(name: string, fallback: string | null = null): string | null {
    return this.features.get(name.toUpperCase()) ?? fallback;
  }

  /** `CHANTYPES`: the characters that start a channel name. */
  get channelTypes(): string {
    return this.getFeature("CHANTYPES", "#&")!;
  }

  /** `PREFIX`: membership modes with their symbols and ranks. */
  get prefixes(): PrefixModes {
    return parsePrefixFeature(this.getFeature("PREFIX", "")!) ?? parsePrefixFeature("(ov)@+")!;
  }

  /** `CHANMODES`, by kind. */
  get channelModes(): ChannelModes {
    return parseChanModes(this.getFeature("CHANMODES", "b,k,l,imnpst")!);
  }

  /** `MODES`: how many parameter modes one `MODE` may change (`null`: no limit). */
  get modesPerCommand(): number | null {
    return intOrNull(this.getFeature("MODES"));
  }

  /** `NICKLEN`. */
  get nickLength(): number | null {
    return intOrNull(this.getFeature("NICKLEN"));
  }

  /** `CHANNELLEN`. */
  get channelLength(): number | null {
    return intOrNull(this.getFeature("CHANNELLEN"));
  }

  /** `TOPICLEN`. */
  get topicLength(): number | null {
    return intOrNull(this.getFeature("TOPICLEN"));
  }

  /** `CASEMAPPING` (`rfc1459` unless told). */
  get caseMapping(): string {
    return this.getFeature("CASEMAPPING", "rfc1459")!.toLowerCase();
  }

  /** `NETWORK`, or `null`. */
  get network(): string | null {
    return this.getFeature("NETWORK");
  }

  /** `TARGMAX`: command → most targets (`null`: no limit). */
  get targetMax(): Map<string, number | null> {
    return parseLimitList(this.getFeature("TARGMAX", "")!);
  }

  /** `CHANLIMIT`: channel prefixes → most channels joined. */
  get channelLimit(): Map<string, number | null> {
    return parseLimitList(this.getFeature("CHANLIMIT", "")!);
  }

  /** `MAXLIST`: list modes → longest list. */
  get maxList(): Map<string, number | null> {
    return parseLimitList(this.getFeature("MAXLIST", "")!);
  }

  /** Every feature as `[name, value]`. */
  entries(): [string, string][] {
    return [...this.features];
  }
}

/**
 * Parses a mode change (`"+ov-b"` with its parameters) into `[added, removed]` lists of
 * `[mode, parameter]`. `paramModes` says which modes take a parameter when set and when unset
 * (Twisted's `parseModes`); a missing parameter raises.
 *
 * @example
 * ```ts
 * parseModes("+ov-l", ["alice", "bob"], ["ovl", "ov"]);
 * // [[["o", "alice"], ["v", "bob"]], [["l", null]]]
 * ```
 */
export function parseModes(
  modes: string,
  params: readonly string[],
  paramModes: readonly [whenSet: string, whenUnset: string] = ["", ""],
): [added: [string, string | null][], removed: [string, string | null][]] {
  if (modes.length === 0) throw new Error("Cannot parse modes: empty mode string");
  if (modes[0] !== "+" && modes[0] !== "-")
    throw new Error("Cannot parse modes: must start with + or -");
  const added: [string, string | null][] = [];
  const removed: [string, string | null][] = [];
  let adding = true;
  const rest = [...params];
  for (const c of modes) {
    if (c === "+") adding = true;
    else if (c === "-") adding = false;
    else {
      const takes = (adding ? paramModes[0] : paramModes[1]).includes(c);
      let param: string | null = null;
      if (takes) {
        const p = rest.shift();
        if (p === undefined) throw new Error(`Cannot parse modes: no parameter for ${c}`);
        param = p;
      }
      (adding ? added : removed).push([c, param]);
    }
  }
  if (rest.length > 0) throw new Error("Cannot parse modes: too many parameters");
  return [added, removed];
}

/** The modes that take a parameter when set and when unset, given a server's features. */
export function paramModesOf(features: ServerSupportedFeatures): [string, string] {
  const cm = features.channelModes;
  const prefix = [...features.prefixes.keys()].join("");
  return [cm.addressModes + cm.param + cm.setParam + prefix, cm.addressModes + cm.param + prefix];
}
