// A child process of the run pool (./pool.ts): runs the configs it is sent over IPC, one at a time,
// and answers each with its result; on "exit" it reports its CPU time and leaves.
import { DsainError, ensureError } from "../../errors.js";
import type { SimulationConfig } from "./config.js";
import { runSimulation } from "./engine.js";
import type { FromWorker, ToWorker } from "./pool.js";

function send(message: FromWorker): void {
  process.send?.(message);
}

process.on("message", (message: ToWorker) => {
  if (message.type === "exit") {
    const cpu = process.cpuUsage();
    send({ type: "bye", cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    process.disconnect?.();
    return;
  }
  runSimulation(message.config as SimulationConfig).then(
    (result) => send({ type: "result", index: message.index, result }),
    (e) =>
      send({ type: "error", index: message.index, message: ensureError(e).message, code: e instanceof DsainError ? e.code : undefined }),
  );
});

send({ type: "ready" });
