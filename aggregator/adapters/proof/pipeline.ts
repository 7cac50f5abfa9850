// A prover queue that runs Groth16 proofs off the main thread, one at a time in submission order,
// so round t's proof is computed while round t+1 trains: the aggregator submits and moves on.
// The prover is a child Node process running snarkjs (which spreads its MSMs/FFTs over its own
// worker threads); the main process only builds inputs and receives proofs, so its event loop —
// training, chain and IPFS I/O — never waits on witness generation or proving. A child process
// rather than a worker thread: snarkjs' `web-worker` dependency takes over any worker thread that
// imports it, so snarkjs cannot run inside one.
import { spawn, type ChildProcess } from "node:child_process";
import { DsainError, ErrorCode } from "../../errors.js";
import { ensureCircuitKeys, type CircuitSignals, type EnsureOptions, type Groth16Proof } from "./keys.js";
import { checkInputShape } from "./sampled.js";

export interface ProofJob {
  /** Instance of circuits/circuits.json. */
  instance: string;
  /** Input built by the typed builders (buildRoundChunksInput, buildRoundAttestedInput, ...). */
  input: CircuitSignals;
  /** Free-form tag returned with the proof, e.g. "federation 1 round 7". */
  label?: string;
}

export interface QueuedProof {
  label: string;
  instance: string;
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
  /** Time from submit() to the start of this job's witness generation. */
  waitedMs: number;
}

// The prover runs as an ES module given to \`node -e\` (no TypeScript loader needed in the child)
// and imports snarkjs from the URL the parent resolved; jobs and results travel over IPC.
const WORKER_SOURCE = `
const snarkjs = await import(process.env.DSAIN_SNARKJS_URL);
process.on("disconnect", () => process.exit(0));
process.on("message", async (msg) => {
  if (msg.type === "stop") {
    if (globalThis.curve_bn128) await globalThis.curve_bn128.terminate();
    process.send({ type: "stopped" }, () => process.exit(0));
    return;
  }
  const { id, wasmPath, zkeyPath, input } = msg;
  try {
    const t0 = performance.now();
    const wtns = { type: "mem" };
    try {
      await snarkjs.wtns.calculate(input, wasmPath, wtns);
    } catch (e) {
      process.send({ type: "result", id, ok: false, stage: "witness", message: String((e && e.message) || e) });
      return;
    }
    const t1 = performance.now();
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkeyPath, wtns);
    const t2 = performance.now();
    process.send({ type: "result", id, ok: true, proof, publicSignals, witnessMs: t1 - t0, proveMs: t2 - t1 });
  } catch (e) {
    process.send({ type: "result", id, ok: false, stage: "prove", message: String((e && e.message) || e) });
  }
});
process.send({ type: "ready" });
`;

interface WorkerResult {
  type: "result";
  id: number;
  ok: boolean;
  stage?: "witness" | "prove";
  message?: string;
  proof?: Groth16Proof;
  publicSignals?: string[];
  witnessMs?: number;
  proveMs?: number;
}

export interface ProverQueueOptions extends EnsureOptions {
  /** Called as each job starts and ends. */
  onEvent?: (event: { kind: "start" | "done" | "failed"; label: string; pending: number }) => void;
}

export class ProverQueue {
  private worker: ChildProcess | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  private queued = 0;
  private closed = false;

  constructor(private readonly options: ProverQueueOptions = {}) {}

  /** Jobs submitted and not finished (the running one included). */
  get pending(): number {
    return this.queued;
  }

  /**
   * Queues a proof; resolves when it is proven (jobs run one at a time, in submission order).
   * Rejects with DSAIN_ZK_WITNESS_FAILED when the input does not satisfy the circuit.
   */
  submit(job: ProofJob): Promise<QueuedProof> {
    if (this.closed) return Promise.reject(new DsainError(ErrorCode.INPUT_INVALID, "the prover queue is closed"));
    const label = job.label ?? job.instance;
    const submitted = performance.now();
    this.queued++;
    const run = async (): Promise<QueuedProof> => {
      const keys = await ensureCircuitKeys(job.instance, this.options);
      checkInputShape(keys, job.input);
      const started = performance.now();
      this.options.onEvent?.({ kind: "start", label, pending: this.queued });
      const r = await this.send({ wasmPath: keys.wasmPath, zkeyPath: keys.zkeyPath, input: job.input });
      if (!r.ok) {
        const code = r.stage === "witness" ? ErrorCode.ZK_WITNESS_FAILED : ErrorCode.ZK_PROOF_INVALID;
        throw new DsainError(
          code,
          `${label}: ${r.stage === "witness" ? "the witness does not satisfy the circuit" : "proving failed"}: ${r.message}`,
        );
      }
      return {
        label,
        instance: job.instance,
        proof: r.proof!,
        publicSignals: r.publicSignals!,
        witnessMs: r.witnessMs!,
        proveMs: r.proveMs!,
        waitedMs: started - submitted,
      };
    };
    const result = this.tail.then(run, run);
    this.tail = result.then(
      () => {
        this.queued--;
        this.options.onEvent?.({ kind: "done", label, pending: this.queued });
      },
      () => {
        this.queued--;
        this.options.onEvent?.({ kind: "failed", label, pending: this.queued });
      },
    );
    return result;
  }

  /** Resolves when every job submitted so far has finished (proven or failed). */
  async drain(): Promise<void> {
    await this.tail;
  }

  /** Finishes the queued jobs, then stops the prover thread and its snarkjs workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    const worker = this.worker;
    this.worker = undefined;
    if (!worker || worker.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.kill("SIGKILL"), 5_000);
      worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      worker.send({ type: "stop" });
    });
  }

  private ensureWorker(): ChildProcess {
    if (this.worker) return this.worker;
    const worker = spawn(process.execPath, ["--input-type=module", "-e", WORKER_SOURCE], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, DSAIN_SNARKJS_URL: import.meta.resolve("snarkjs") },
    });
    worker.on("message", (m: WorkerResult) => {
      if (m?.type !== "result") return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      w.resolve(m);
    });
    const fail = (e: Error) => {
      // The prover died: every job it held fails, and the next job starts a fresh one.
      if (this.worker === worker) this.worker = undefined;
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.reject(new DsainError(ErrorCode.ZK_PROOF_INVALID, `the prover process stopped: ${e.message}`, { cause: e }));
      }
    };
    worker.on("error", fail);
    worker.on("exit", (code, signal) => fail(new Error(`exit ${code ?? signal}`)));
    this.worker = worker;
    return worker;
  }

  private send(job: { wasmPath: string; zkeyPath: string; input: CircuitSignals }): Promise<WorkerResult> {
    const id = this.nextId++;
    const worker = this.ensureWorker();
    return new Promise<WorkerResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.send({ type: "job", id, ...job });
    });
  }
}
