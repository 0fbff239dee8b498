// Runs every `ts` snippet of docs/core.md as its own program (each uses the global reactor) and
// checks what it prints.
import { describeDocSnippets } from "../_helpers/docs.js";

// What each snippet must print, in order of the snippets.
describeDocSnippets("core.md", [
  /running\nshutting down\nstopped/,
  /echoed: hello, world\nlost: Connection was closed cleanly/,
  /handled: too big: 42\nresult: 0/,
  /awaited 42\nfrom a promise/,
  /tick 1\ntick 2\ntick 3\nloop done/,
  /\[ 0, 1, 2 \]/,
  /\[my\.app#info\] Listening on 8080/,
]);
