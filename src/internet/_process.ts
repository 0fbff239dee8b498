// Child process transports over node:child_process (stub: being written).
import type { NodeReactor } from "./_reactor.js";
import type { IProcessProtocol, IProcessTransport, SpawnProcessOptions } from "./interfaces.js";

export function spawnProcess(
  reactor: NodeReactor,
  processProtocol: IProcessProtocol,
  executable: string,
  args: readonly string[],
  options: SpawnProcessOptions,
): IProcessTransport {
  throw new Error("Not implemented yet");
}
