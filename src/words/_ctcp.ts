// CTCP: extended messages inside PRIVMSG/NOTICE text, delimited by \x01 (ACTION, VERSION, PING…).

/** The CTCP delimiter. */
export const X_DELIM = "\x01";
const X_QUOTE = "\\";

/** One CTCP message: its tag (`ACTION`, `VERSION`…) and data (`null` when there is none). */
export type CTCPMessage = readonly [tag: string, data: string | null];

/** Quotes CTCP text: `\` and the delimiter are escaped with `\` (`\\`, `\a`). */
export function ctcpQuote(text: string): string {
  return text.replace(/[\\\x01]/g, (c) => (c === X_QUOTE ? "\\\\" : "\\a"));
}

/** Undoes `ctcpQuote`; an unknown escape stands for the escaped character. */
export function ctcpDequote(text: string): string {
  if (!text.includes(X_QUOTE)) return text;
  return text.replace(/\\(.?)/gs, (_, c: string) => (c === "a" ? X_DELIM : c));
}

/**
 * Splits message text into CTCP (extended) messages and normal text (Twisted's
 * `ctcpExtract`). A final delimiter may be missing, as some clients send.
 *
 * @example
 * ```ts
 * ctcpExtract("\x01ACTION waves\x01");
 * // { extended: [["ACTION", "waves"]], normal: [] }
 * ```
 */
export function ctcpExtract(text: string): { extended: CTCPMessage[]; normal: string[] } {
  const extended: CTCPMessage[] = [];
  const normal: string[] = [];
  const pieces = text.split(X_DELIM);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece === "") continue;
    if (i % 2 === 0) {
      normal.push(piece);
      continue;
    }
    const m = ctcpDequote(piece);
    const sp = m.indexOf(" ");
    extended.push(sp < 0 ? [m, null] : [m.slice(0, sp), m.slice(sp + 1)]);
  }
  return { extended, normal };
}

/**
 * Turns CTCP messages into text for a PRIVMSG (a query) or NOTICE (a reply).
 *
 * @example
 * ```ts
 * ctcpStringify([["PING", "12345"]]); // "\x01PING 12345\x01"
 * ```
 */
export function ctcpStringify(messages: readonly CTCPMessage[]): string {
  return messages
    .map(([tag, data]) => {
      const body = data === null || data === "" ? tag : `${tag} ${data}`;
      return `${X_DELIM}${ctcpQuote(body)}${X_DELIM}`;
    })
    .join("");
}
