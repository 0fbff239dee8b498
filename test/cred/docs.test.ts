// Runs every `ts` snippet of docs/cred.md and checks what it prints.
import { describeDocSnippets } from "../_helpers/docs.js";

// What each snippet must print, in order of the snippets.
describeDocSnippets("cred.md", [
  /^true\nhello alice\nalice logged out\ntrue Invalid username or password\ntrue Invalid username or password\n$/,
  /^true\ntrue false\nadded\nupdated\n1\nalice\n$/,
  /^twisted-ts\.cred\.ANONYMOUS\nERR_USAGE Invalid --auth memory: odd number of fields \(expected user:password pairs; 3 fields given, and passwords cannot contain ":"\)\nERR_USAGE Unknown --auth kind: ldap \(expected memory, file or anonymous\)\nERR_USAGE Invalid --auth file: no such file: \/nonexistent\/users\n$/,
]);
