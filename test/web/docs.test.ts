// Runs every `ts` snippet of docs/web.md (except `no-run` ones) and checks what it prints.
import { describeDocSnippets } from "../_helpers/docs.js";

// What each snippet must print, in order of the snippets.
describeDocSnippets("web.md", [
  /^200 text\/plain hello web\n$/,
  /^HTTP\/1\.1 200 OK\nclosed after 10 idle seconds: true\n$/,
]);
