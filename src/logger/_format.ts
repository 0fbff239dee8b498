// The `{field}` format language of log events (Python's str.format subset plus Twisted's `{f()}`).

import { inspect } from "node:util";

/** One `{...}` replacement field of a format string. */
export interface FormatField {
  /** The text between the braces, used as the key of flattened events. */
  readonly source: string;
  /** The field name: `a`, `a.b`, `a[0]`, `a()`… */
  readonly name: string;
  /** `"s"`, `"r"`, `"a"` or undefined. */
  readonly conversion: string | undefined;
  /** The format spec after `:` (may itself hold `{fields}`), or `""`. */
  readonly spec: string;
}

/** A parsed format string: literal text and fields, in order. */
export type FormatToken = string | FormatField;

/** Python's `str()` of a value, JavaScript style. */
export function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") {
    if (typeof value === "function") return inspect(value);
    return String(value);
  }
  if (value instanceof Error) return String(value);
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return repr(value);
  const own = (value as { toString?: unknown }).toString;
  if (
    (typeof own === "function" && own !== Object.prototype.toString) ||
    Symbol.toPrimitive in value
  ) {
    return String(value);
  }
  return repr(value);
}

/** Python's `repr()` of a value: `util.inspect` on one line. */
export function repr(value: unknown): string {
  return inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY, compact: true });
}

/** Splits a format string into literal text and fields; throws on unbalanced braces. */
export function parseFormat(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let literal = "";
  let i = 0;
  while (i < format.length) {
    const open = format.indexOf("{", i);
    const close = format.indexOf("}", i);
    if (open === -1 && close === -1) {
      literal += format.slice(i);
      break;
    }
    if (close !== -1 && (open === -1 || close < open)) {
      if (format[close + 1] !== "}") throw new Error("Single '}' encountered in format string");
      literal += format.slice(i, close + 1);
      i = close + 2;
      continue;
    }
    literal += format.slice(i, open);
    if (format[open + 1] === "{") {
      literal += "{";
      i = open + 2;
      continue;
    }
    const end = matchingBrace(format, open);
    if (literal !== "") tokens.push(literal);
    literal = "";
    tokens.push(parseField(format.slice(open + 1, end)));
    i = end + 1;
  }
  if (literal !== "") tokens.push(literal);
  return tokens;
}

function matchingBrace(format: string, open: number): number {
  let depth = 0;
  let inIndex = false;
  for (let j = open + 1; j < format.length; j++) {
    const c = format[j];
    if (inIndex) {
      if (c === "]") inIndex = false;
    } else if (c === "[" && depth === 0) {
      inIndex = true;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      if (depth === 0) return j;
      depth--;
    }
  }
  throw new Error("Expected '}' before end of format string");
}

function parseField(source: string): FormatField {
  let j = 0;
  while (j < source.length && source[j] !== "!" && source[j] !== ":") {
    if (source[j] === "[") {
      const close = source.indexOf("]", j);
      if (close === -1) throw new Error("Missing ']' in format string");
      j = close;
    }
    j++;
  }
  const name = source.slice(0, j);
  let conversion: string | undefined;
  let spec = "";
  if (source[j] === "!") {
    conversion = source[j + 1];
    if (conversion === undefined)
      throw new Error("End of format string while looking for conversion");
    j += 2;
    if (j < source.length && source[j] !== ":") {
      throw new Error("Expected ':' after conversion specifier");
    }
  }
  if (source[j] === ":") spec = source.slice(j + 1);
  return { source, name, conversion, spec };
}

const PATH_STEP = /\.([^.[]+)|\[([^\]]*)\]/y;

/**
 * Looks a field name up in `fields`: `a`, `a.b`, `a[key]` (arrays, objects, `Map`s) and, as in
 * Twisted, a trailing `()` calls the value found (with its owner as `this`).
 */
export function resolveField(name: string, fields: Readonly<Record<string, unknown>>): unknown {
  const call = name.endsWith("()");
  const path = call ? name.slice(0, -2) : name;
  const first = /^[^.[]*/.exec(path)?.[0] ?? "";
  if (first === "" || /^\d+$/.test(first)) {
    throw new Error(`Positional format fields are not supported: {${name}}`);
  }
  if (!Object.hasOwn(fields, first)) throw new Error(`No such field in event: ${first}`);
  let owner: unknown;
  let value = fields[first];
  for (let index = first.length; index < path.length; ) {
    // Set before each use: a getter run by member() may format another event meanwhile.
    PATH_STEP.lastIndex = index;
    const step = PATH_STEP.exec(path);
    if (step === null) throw new Error(`Invalid field name: ${name}`);
    index = PATH_STEP.lastIndex;
    const key = step[1] ?? step[2] ?? "";
    owner = value;
    value = member(value, key, step[1] === undefined, name);
  }
  if (call) {
    if (typeof value !== "function") throw new Error(`Field is not callable: ${path}`);
    value = (value as (this: unknown) => unknown).call(owner);
  }
  return value;
}

function member(base: unknown, key: string, indexed: boolean, name: string): unknown {
  if (base === null || base === undefined) {
    throw new Error(`Cannot look up ${key} of ${String(base)} in field: ${name}`);
  }
  if (indexed && base instanceof Map) {
    if (base.has(key)) return base.get(key);
    if (/^-?\d+$/.test(key) && base.has(Number(key))) return base.get(Number(key));
    throw new Error(`No such key in field: ${name}`);
  }
  const object = Object(base) as Record<string, unknown>;
  if (!(key in object)) throw new Error(`No such attribute in field: ${name}`);
  return object[key];
}

/** Applies a conversion (`!s`, `!r`, `!a`) to a value. */
export function convert(value: unknown, conversion: string | undefined): unknown {
  switch (conversion) {
    case undefined:
      return value;
    case "s":
      return stringify(value);
    case "r":
      return repr(value);
    case "a":
      return repr(value).replace(/[^\x00-\x7f]/gu, (c) => {
        const code = c.codePointAt(0) ?? 0;
        return code > 0xffff
          ? `\\U${code.toString(16).padStart(8, "0")}`
          : `\\u${code.toString(16).padStart(4, "0")}`;
      });
    default:
      throw new Error(`Unknown conversion specifier: ${conversion}`);
  }
}

const SPEC =
  /^(?:([\s\S])?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;

/** Formats a value with a Python format spec (`>10`, `.2f`, `,d`, `#x`, `^20s`…). */
export function applySpec(value: unknown, spec: string): string {
  if (spec === "") return stringify(value);
  const m = SPEC.exec(spec);
  if (m === null) throw new Error(`Invalid format specifier: ${spec}`);
  const [, fillChar, alignChar, sign, , alternate, zero, widthText, grouping, precisionText, type] =
    m;
  const precision = precisionText === undefined ? undefined : Number(precisionText);
  const width = widthText === undefined ? 0 : Number(widthText);
  let fill = fillChar ?? " ";
  let align = alignChar;
  if (zero !== undefined && align === undefined) {
    fill = "0";
    align = "=";
  }
  const numeric =
    typeof value === "number" || typeof value === "bigint" || typeof value === "boolean";
  if (!numeric || type === "s") {
    if (type !== undefined && type !== "s") {
      throw new Error(`Unknown format code '${type}' for value of type ${typeName(value)}`);
    }
    if (numeric) throw new Error(`Unknown format code 's' for value of type ${typeName(value)}`);
    if (sign !== undefined || alternate !== undefined || grouping !== undefined || align === "=") {
      throw new Error(`Invalid format specifier for a string: ${spec}`);
    }
    let text = stringify(value);
    if (precision !== undefined) text = [...text].slice(0, precision).join("");
    return pad("", text, width, fill, align ?? "<");
  }
  const number = typeof value === "boolean" ? Number(value) : value;
  const [prefix, digits] = formatNumber(number, type, precision, alternate !== undefined);
  const negative = prefix.startsWith("-");
  const signText = negative ? "-" : sign === "+" ? "+" : sign === " " ? " " : "";
  const body = grouping === undefined ? digits : group(digits, grouping, type);
  return pad(signText + prefix.slice(negative ? 1 : 0), body, width, fill, align ?? ">");
}

function typeName(value: unknown): string {
  return value === null ? "null" : typeof value;
}

/** Returns [sign and radix prefix, digits] for a number. */
function formatNumber(
  value: number | bigint,
  type: string | undefined,
  precision: number | undefined,
  alternate: boolean,
): [string, string] {
  const negative = typeof value === "bigint" ? value < 0n : value < 0 || Object.is(value, -0);
  const abs = typeof value === "bigint" ? (negative ? -value : value) : Math.abs(value);
  const minus = negative ? "-" : "";
  const integerTypes: Record<string, number> = { d: 10, n: 10, b: 2, o: 8, x: 16, X: 16, c: 0 };
  const fractional = typeof abs === "number" && !Number.isInteger(abs);
  const radix = type === undefined || (type === "n" && fractional) ? undefined : integerTypes[type];
  if (radix !== undefined) {
    if (fractional) {
      throw new Error(`Unknown format code '${type}' for a non-integer number`);
    }
    if (precision !== undefined)
      throw new Error("Precision not allowed in integer format specifier");
    if (type === "c") return ["", String.fromCodePoint(Number(value))];
    let digits = abs.toString(radix);
    if (type === "X") digits = digits.toUpperCase();
    const prefix = alternate && radix !== 10 ? `0${type}` : "";
    return [minus + prefix, digits];
  }
  const n = Number(abs);
  if (type === undefined && precision === undefined) return [minus, String(n)];
  if (!Number.isFinite(n)) {
    const text = Number.isNaN(n) ? "nan" : "inf";
    return [minus, type !== undefined && /[EFG]/.test(type) ? text.toUpperCase() : text];
  }
  const p = precision ?? 6;
  switch (type) {
    case "f":
    case "F":
      return [minus, n.toFixed(p)];
    case "e":
    case "E": {
      const text = exponential(n, p);
      return [minus, type === "E" ? text.toUpperCase() : text];
    }
    case "%":
      return [minus, `${(n * 100).toFixed(p)}%`];
    default: {
      const text = general(n, p === 0 ? 1 : p, alternate);
      return [minus, type === "G" ? text.toUpperCase() : text];
    }
  }
}

function exponential(n: number, digits: number): string {
  return n.toExponential(digits).replace(/e([-+])(\d)$/, "e$10$2");
}

function general(n: number, p: number, alternate: boolean): string {
  const exp = n === 0 ? 0 : Number(n.toExponential(p - 1).split("e")[1]);
  let text = exp >= -4 && exp < p ? n.toFixed(p - 1 - exp) : exponential(n, p - 1);
  if (!alternate && text.includes(".")) text = text.replace(/\.?0+(?=e|$)/, "");
  return text;
}

function group(digits: string, separator: string, type: string | undefined): string {
  const size = type !== undefined && "boxX".includes(type) ? 4 : 3;
  const match = /^(\d+)(.*)$/s.exec(digits);
  if (match === null) return digits;
  const [, integer = "", rest = ""] = match;
  let out = "";
  for (let k = integer.length; k > 0; k -= size) {
    const chunk = integer.slice(Math.max(0, k - size), k);
    out = out === "" ? chunk : `${chunk}${separator}${out}`;
  }
  return out + rest;
}

function pad(prefix: string, body: string, width: number, fill: string, align: string): string {
  const length = [...prefix].length + [...body].length;
  const missing = width - length;
  if (missing <= 0) return prefix + body;
  switch (align) {
    case "<":
      return prefix + body + fill.repeat(missing);
    case "^": {
      const left = Math.floor(missing / 2);
      return fill.repeat(left) + prefix + body + fill.repeat(missing - left);
    }
    case "=":
      return prefix + fill.repeat(missing) + body;
    default:
      return fill.repeat(missing) + prefix + body;
  }
}

/**
 * Renders `format` with values from `fields`; `rendered` supplies already-rendered fields (by
 * their source text) in place of lookups. Throws on a missing field or a bad format.
 */
export function formatWithFields(
  format: string,
  fields: Readonly<Record<string, unknown>>,
  rendered?: Readonly<Record<string, string>>,
): string {
  let out = "";
  for (const token of parseFormat(format)) {
    out += typeof token === "string" ? token : renderField(token, fields, rendered);
  }
  return out;
}

/** Renders one field: lookup, conversion, then spec (whose own `{fields}` are rendered first). */
export function renderField(
  field: FormatField,
  fields: Readonly<Record<string, unknown>>,
  rendered?: Readonly<Record<string, string>>,
): string {
  if (rendered !== undefined && Object.hasOwn(rendered, field.source)) {
    return String(rendered[field.source]);
  }
  const value = convert(resolveField(field.name, fields), field.conversion);
  const spec = field.spec.includes("{")
    ? formatWithFields(field.spec, fields, rendered)
    : field.spec;
  return applySpec(value, spec);
}
