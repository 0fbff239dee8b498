// Runs every `ts` snippet of docs/ftp.md (except `no-run` ones) and checks it prints exactly the
// "It prints:" block that follows it on the page.
import { describeDocSnippets, readDoc } from "../_helpers/docs.js";

/** The "It prints:" block after each runnable snippet. */
const printed = [...readDoc("ftp.md").matchAll(/^It prints:\n\n```\n([\s\S]*?)^```$/gm)].map(
  (m) => m[1] as string,
);

describeDocSnippets("ftp.md", printed, { ext: ".mts" });
