// The plugins and commands built into `twist`.

import type { IServiceMaker } from "../application/_plugin.js";
import { passwdMain } from "../cred/index.js";
// Registers the haproxy: endpoint type, for every plugin's --listen.
import "../protocols/haproxy.js";
import { ftpPlugin } from "./plugins/ftp.js";
import { portforwardPlugin } from "./plugins/portforward.js";
import { runPlugin } from "./plugins/run.js";
import { socksPlugin } from "./plugins/socks.js";
import { webPlugin } from "./plugins/web.js";
import { wirePlugin } from "./plugins/wire.js";
import { wordsPlugin } from "./plugins/words.js";

/** A `twist` subcommand that is not a service (it runs and exits). */
export interface TwistCommand {
  name: string;
  description: string;
  run(
    argv: readonly string[],
    io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } },
  ): Promise<number>;
}

/** The service plugins `twist` knows without `--plugin`. */
export function builtinPlugins(): IServiceMaker[] {
  return [ftpPlugin, portforwardPlugin, runPlugin, socksPlugin, webPlugin, wirePlugin, wordsPlugin];
}

/** The commands `twist` knows. */
export function builtinCommands(): TwistCommand[] {
  return [
    {
      name: "passwd",
      description: "Add or change a user's password in a password file (for --auth file:PATH)",
      run: (argv, io) => passwdMain(argv, { stdout: io.stdout, stderr: io.stderr }),
    },
  ];
}
