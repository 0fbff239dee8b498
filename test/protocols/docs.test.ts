// Runs every `ts` snippet of docs/protocols.md (except `no-run` ones) and checks what it prints.
import { describeDocSnippets } from "../_helpers/docs.js";

// What each snippet must print, in order of the snippets.
describeDocSnippets("protocols.md", [
  /^got HELLO\ndone\n$/,
  /^reply: 2 bytes\nconnection closed\n$/,
  /^still open: true\nidle for 30 s: closing\nclosed: true\n$/,
]);
