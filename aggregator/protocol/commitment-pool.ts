// Vector roots on every core (docs/protocol.md §2): the leaves of a vector are independent, so a
// pool of worker threads, started once per process, each hashes aligned subtrees of the vector and
// returns their roots; the calling thread hashes the few nodes above them. Every thread runs the same
// WasmVectorHasher, so the root is the one the single-threaded path computes (a unit test checks).
//
// Workers are plain JavaScript evaluated from the string below; they register tsx's loader and
// import poseidon-wasm.ts, so the hashing code exists once. An idle pool never keeps a process alive,
// and any failure of the pool falls back to hashing on the calling thread.
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { PROJECT_ROOT } from "../paths.js";
import { CHUNK_SIZE } from "./constants.js";
import { fromMontgomery, WasmVectorHasher } from "./poseidon-wasm.js";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
require(workerData.tsxApi).register();
import(workerData.hasher).then(({ WasmVectorHasher }) => {
  const hasher = new WasmVectorHasher(workerData.module, workerData.pages);
  parentPort.on("message", (task) => {
    if (!task || typeof task.id !== "number") return;
    try {
      const root = hasher.subtreeRoot(task.coords, task.leafCount);
      parentPort.postMessage({ id: task.id, root }, [root.buffer]);
    } catch (e) {
      parentPort.postMessage({ id: task.id, error: String((e && e.message) || e) });
    }
  });
  parentPort.postMessage({ ready: true });
}).catch((e) => parentPort.postMessage({ failed: String((e && e.message) || e) }));
`;

/** Vectors with fewer leaves than this are hashed on the calling thread (a round trip costs more). */
export const POOL_MIN_LEAVES = 64;
/** Subtrees per vector handed to the pool: enough for an even share, few enough to stay cheap. */
const TASKS_PER_VECTOR = 16;

interface Task {
  id: number;
  coords: Int32Array<ArrayBuffer>;
  leafCount: number;
  resolve: (root: Uint8Array) => void;
  reject: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  ready: Promise<void>;
  busy?: Task;
}

/** The number of threads a pool uses by default: $DSAIN_COMMIT_THREADS, else every core (up to 8). */
export function defaultPoolThreads(): number {
  const env = process.env.DSAIN_COMMIT_THREADS;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return Math.min(8, os.availableParallelism());
}

interface PoseidonModule {
  module: WebAssembly.Module;
  pages: number;
}

let compiled: Promise<PoseidonModule> | undefined;

/**
 * ffjavascript's BN254 WebAssembly module with circomlibjs' Poseidon plugin (what circomlibjs'
 * buildPoseidon runs), compiled once per process and shared with the workers.
 */
export function poseidonModule(): Promise<PoseidonModule> {
  compiled ??= (async () => {
    const [{ buildPoseidonWasm }, { getCurveFromName }] = await Promise.all([import("circomlibjs"), import("ffjavascript")]);
    // singleThread = true: a private engine (never the global curve snarkjs shares) that keeps its code.
    const curve = (await getCurveFromName("bn128", true, buildPoseidonWasm)) as {
      tm: { code: Uint8Array<ArrayBuffer>; memory: WebAssembly.Memory };
    };
    return { module: await WebAssembly.compile(curve.tm.code), pages: curve.tm.memory.buffer.byteLength / 65_536 };
  })();
  return compiled;
}

let localHasher: Promise<WasmVectorHasher> | undefined;

/** This thread's own hasher, created once. */
export function threadHasher(): Promise<WasmVectorHasher> {
  localHasher ??= poseidonModule().then(({ module, pages }) => new WasmVectorHasher(module, pages));
  return localHasher;
}

export class CommitmentPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private broken = false;

  /** `threads` ≤ 1 makes a pool that hashes on the calling thread only. */
  constructor(readonly threads: number = defaultPoolThreads()) {}

  private start(wasm: PoseidonModule): void {
    if (this.workers.length > 0 || this.threads <= 1) return;
    const require = createRequire(path.join(PROJECT_ROOT, "package.json"));
    const workerData = {
      module: wasm.module,
      pages: wasm.pages,
      tsxApi: require.resolve("tsx/esm/api"),
      hasher: pathToFileURL(path.join(PROJECT_ROOT, "aggregator", "protocol", "poseidon-wasm.ts")).href,
    };
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] });
      const entry: PoolWorker = { worker, ready: Promise.resolve() };
      entry.ready = new Promise<void>((resolve, reject) => {
        worker.on("message", (m: { ready?: boolean; failed?: string; id?: number; root?: Uint8Array; error?: string }) => {
          if (m.ready) {
            if (!entry.busy) worker.unref();
            return resolve();
          }
          if (m.failed !== undefined) return reject(new Error(m.failed));
          const task = entry.busy;
          if (!task || task.id !== m.id) return;
          entry.busy = undefined;
          worker.unref();
          if (m.root) task.resolve(new Uint8Array(m.root));
          else task.reject(new Error(m.error ?? "no result"));
          this.dispatch();
        });
      });
      const fail = (e: Error) => {
        this.broken = true;
        entry.busy?.reject(e);
        entry.busy = undefined;
        for (const t of this.queue.splice(0)) t.reject(e);
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`commitment worker exited with code ${code}`)));
      entry.ready.catch(fail);
      // Ref'd while starting and while it holds a task, unref'd when idle (after the listeners: adding
      // a 'message' listener refs the port again), so a pending root keeps the process alive and an
      // idle pool does not.
      this.workers.push(entry);
    }
  }

  private dispatch(): void {
    for (const entry of this.workers) {
      if (entry.busy || this.queue.length === 0) continue;
      const task = this.queue.shift() as Task;
      entry.busy = task;
      entry.worker.ref();
      void entry.ready.then(() => {
        const coords = task.coords;
        entry.worker.postMessage({ id: task.id, coords, leafCount: task.leafCount }, [coords.buffer]);
      }, task.reject);
    }
  }

  private submit(coords: Int32Array<ArrayBuffer>, leafCount: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, coords, leafCount, resolve, reject });
      this.dispatch();
    });
  }

  /** Starts the workers now (each compiles its WebAssembly module once) and waits until they are ready. */
  async warm(): Promise<void> {
    await threadHasher();
    this.start(await poseidonModule());
    await Promise.all(this.workers.map((w) => w.ready)).catch(() => undefined);
  }

  /**
   * The Poseidon root of docs/protocol.md §2 of `values`, as a field element. Large vectors are cut
   * into up to 16 aligned subtrees hashed by the workers; the rest is hashed here.
   */
  async root(values: Int32Array, leaves: number, depth: number): Promise<bigint> {
    const hasher = await threadHasher();
    if (this.threads <= 1 || this.broken || leaves < POOL_MIN_LEAVES) {
      return fromMontgomery(hasher.subtreeRoot(values, 2 ** depth));
    }
    this.start(await poseidonModule());
    // Subtrees at level c: 2^c leaves each, at most TASKS_PER_VECTOR of them non-empty.
    let level = 0;
    while (Math.ceil(leaves / 2 ** level) > TASKS_PER_VECTOR) level++;
    const span = 2 ** level;
    const tasks = Math.ceil(leaves / span);
    try {
      const roots = await Promise.all(
        Array.from({ length: tasks }, (_, t) => this.submit(values.slice(t * span * CHUNK_SIZE, (t + 1) * span * CHUNK_SIZE), span)),
      );
      const width = 2 ** (depth - level);
      const zero = hasher.zeroRoot(level);
      const nodes = Array.from({ length: width }, (_, i) => roots[i] ?? zero);
      return fromMontgomery(hasher.combine(nodes));
    } catch {
      this.broken = true;
      return fromMontgomery(hasher.subtreeRoot(values, 2 ** depth));
    }
  }

  /** Stops the workers (tests and short-lived commands; an unref'd pool also dies with its process). */
  async close(): Promise<void> {
    this.broken = true;
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}

let shared: CommitmentPool | undefined;

/** The process's pool, created on first use. */
export function sharedCommitmentPool(): CommitmentPool {
  shared ??= new CommitmentPool();
  return shared;
}
