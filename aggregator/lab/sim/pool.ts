// Runs a list of simulations, in this process or spread over worker processes (tfjs on wasm uses
// one thread, so two workers fill two cores). Each run is a pure function of its config, so the
// results do not depend on which worker ran what; they come back in input order.
import { type ChildProcess, fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DsainError, ErrorCode } from "../../errors.js";
import type { SimulationConfig } from "./config.js";
import { type RunResult, describeRun, runSimulation } from "./engine.js";

export type ToWorker = { type: "run"; index: number; config: SimulationConfig } | { type: "exit" };
export type FromWorker =
  | { type: "ready" }
  | { type: "result"; index: number; result: RunResult }
  | { type: "error"; index: number; message: string; code?: ErrorCode }
  | { type: "bye"; cpuSeconds: number };

export interface GridOutcome {
  readonly results: RunResult[];
  readonly wallSeconds: number;
  /** User + system CPU time of this process and every worker. */
  readonly cpuSeconds: number;
  readonly workers: number;
  /** os.loadavg() (1, 5, 15 min) when the grid started and when it ended. */
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
}

export interface GridOptions {
  /** Worker processes; 1 runs everything in this process. Default 1. */
  readonly workers?: number;
  /** Progress lines (the CLI prints them to stderr). */
  readonly log?: (line: string) => void;
}

/** tsx's loader as a file URL (resolved like a require, so any loader of this module can compute it). */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "worker.ts");

function cpuSecondsOfThisProcess(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function runGrid(configs: readonly SimulationConfig[], options: GridOptions = {}): Promise<GridOutcome> {
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `workers must be a positive integer, got ${workers}`);
  }
  const log = options.log ?? (() => undefined);
  const loadBefore = os.loadavg();
  const started = performance.now();
  const cpuStart = cpuSecondsOfThisProcess();
  const results: RunResult[] = new Array(configs.length);
  let done = 0;
  const report = (index: number, result: RunResult, who: string) => {
    done++;
    const diverged = result.divergedAtRound !== null ? `, diverged at round ${result.divergedAtRound}` : "";
    log(
      `[${done}/${configs.length}] ${describeRun(result.config)}: ${(result.finalAccuracy * 100).toFixed(2)}% after ` +
        `${result.rounds.length} rounds (${result.seconds.toFixed(1)} s${who}${diverged})`,
    );
    results[index] = result;
  };
  let workerCpu = 0;
  if (workers === 1 || configs.length <= 1) {
    for (const [i, config] of configs.entries()) report(i, await runSimulation(config), "");
  } else {
    workerCpu = await runInWorkers(configs, Math.min(workers, configs.length), report);
  }
  return {
    results,
    wallSeconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsOfThisProcess() - cpuStart + workerCpu,
    workers: Math.min(workers, Math.max(1, configs.length)),
    loadBefore,
    loadAfter: os.loadavg(),
  };
}

/** Hands the configs out one at a time to `count` forked workers; resolves with their total CPU seconds. */
function runInWorkers(
  configs: readonly SimulationConfig[],
  count: number,
  report: (index: number, result: RunResult, who: string) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let finished = 0;
    let cpu = 0;
    let failed = false;
    const children: ChildProcess[] = [];
    const stopAll = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    };
    const dispatch = (child: ChildProcess) => {
      if (failed) return;
      if (next < configs.length) {
        const index = next++;
        child.send({ type: "run", index, config: configs[index] } satisfies ToWorker);
      } else child.send({ type: "exit" } satisfies ToWorker);
    };
    for (let w = 0; w < count; w++) {
      // tsx's loader by absolute URL, so the worker runs the TypeScript sources from any cwd.
      const child = fork(WORKER, [], {
        execArgv: ["--import", TSX_LOADER],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      children.push(child);
      const who = `, worker ${w + 1}`;
      let said = false;
      child.on("message", (m: FromWorker) => {
        if (m.type === "ready") dispatch(child);
        else if (m.type === "result") {
          report(m.index, m.result, who);
          dispatch(child);
        } else if (m.type === "error") {
          failed = true;
          stopAll();
          const message = `${describeRun(configs[m.index])}: ${m.message}`;
          reject(m.code !== undefined ? new DsainError(m.code, message) : new Error(message));
        } else if (m.type === "bye") {
          said = true;
          cpu += m.cpuSeconds;
        }
      });
      child.on("exit", (code, signal) => {
        if (failed) return;
        if (!said) {
          failed = true;
          stopAll();
          reject(new Error(`simulation worker ${w + 1} (pid ${child.pid}) exited early (code ${code}, signal ${signal})`));
          return;
        }
        if (++finished === count) resolve(cpu);
      });
    }
  });
}
