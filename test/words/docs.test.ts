// Runs every `ts` snippet of docs/words.md as its own program (blocks marked `no-run` excepted).
import { describeDocSnippets } from "../_helpers/docs.js";

// What each snippet must print, in order of the snippets.
describeDocSnippets("words.md", [
  /^$/,
  /^$/,
  /signed on as account ann\ntopic of #lobby: Welcome!\n/,
  /^batch labeled-response: 3 messages\nJOIN 353 366\nirc\.test hello\nACK: true\n$/,
]);
