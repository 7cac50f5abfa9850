// Processes in tests (aggregator/demo/processes.ts, shared with the devnet): local chains, ready
// reports, stopping by PID (only the process the test started); and a TypeScript script as a process.
import { startReady, type ReadyProcess } from "../../aggregator/demo/processes.js";

export {
  freePort,
  startChain,
  startReady,
  stopChain,
  stopProcess,
  waitForRpc,
  type LocalChain,
  type ReadyProcess,
} from "../../aggregator/demo/processes.js";

/** Spawns `node --import tsx <script> args…` and waits for its first stdout line (JSON). */
export async function startNodeScript<T>(script: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<ReadyProcess<T>> {
  return startReady<T>(process.execPath, ["--import", "tsx", script, ...args], { cwd }, timeoutMs);
}
