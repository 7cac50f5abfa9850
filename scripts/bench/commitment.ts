// Commitment benchmark (issue 15): the Poseidon root of a model-sized vector (docs/protocol.md §2),
// for d = 10k, 200k and 1.6M random int32 coordinates, computed side by side in one process:
//
//   v1 circomlibjs      protocol 1 (one coordinate per field element, 16 per leaf), circomlibjs'
//                       Poseidon called per hash: the implementation this issue replaced;
//   v2 circomlibjs      protocol 2 (7 coordinates packed per element, 112 per leaf), same hasher;
//   v2 wasm, 1 thread   protocol 2, WasmVectorHasher on the calling thread (vectorTree's path);
//   v2 wasm, pool       protocol 2, the commitment pool (vectorRoot's path), N worker threads.
//
// Every row's root is checked against the v2 circomlibjs root (v1 against its own tree), so a fast
// wrong answer cannot pass. Pool start-up (compiling the module in each worker) is printed apart.
//
//   npx tsx scripts/bench/commitment.ts                   # 3 timed runs per row, pool of all cores
//   npx tsx scripts/bench/commitment.ts --runs 5 --threads 2 --sizes 10000,199210
import os from "node:os";
import { parseArgs } from "node:util";
import { CommitmentPool, threadHasher } from "../../aggregator/protocol/commitment-pool.js";
import { getPoseidon, type PoseidonHasher } from "../../aggregator/protocol/poseidon.js";
import { fromMontgomery } from "../../aggregator/protocol/poseidon-wasm.js";
import { chunkCount, chunkLeaves, toField, treeDepth, treeLevels } from "../../aggregator/protocol/vector-root.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: String(Math.min(8, os.availableParallelism())) },
    sizes: { type: "string", default: "10000,199210,1600000" },
    "skip-v1-above": { type: "string", default: "2000000" },
  },
});
const runs = Number(args.runs);
const threads = Number(args.threads);
const sizes = args.sizes.split(",").map(Number);

/** Protocol 1's root: 16 coordinates per Poseidon16 leaf, each its own field element. */
function v1Root(values: Int32Array, hasher: PoseidonHasher): bigint {
  const n = Math.ceil(values.length / 16);
  const leaves: bigint[] = [];
  for (let j = 0; j < n; j++) {
    const fields: bigint[] = [];
    for (let k = 0; k < 16; k++) fields.push(j * 16 + k < values.length ? toField(values[j * 16 + k]) : 0n);
    leaves.push(hasher.hash(fields));
  }
  let depth = 0;
  while (2 ** depth < n) depth++;
  return treeLevels(leaves, depth, hasher)[depth][0];
}

function randomVector(d: number, seed: number): Int32Array {
  let x = seed >>> 0 || 1;
  const v = new Int32Array(d);
  for (let i = 0; i < d; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = x | 0;
  }
  return v;
}

async function time<T>(f: () => Promise<T> | T): Promise<{ ms: number[]; value: T }> {
  const ms: number[] = [];
  let value!: T;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    value = await f();
    ms.push(performance.now() - t0);
  }
  return { ms, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function main(): Promise<void> {
  const poseidon = await getPoseidon();
  const t0 = performance.now();
  const hasher = await threadHasher();
  const compileMs = performance.now() - t0;
  const pool = new CommitmentPool(threads);
  const t1 = performance.now();
  await pool.warm();
  const warmMs = performance.now() - t1;
  console.log(`Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load ${os.loadavg()[0].toFixed(2)}`);
  console.log(
    `module compile ${fmt(compileMs)}; pool of ${threads} threads ready in ${fmt(warmMs)}; ${runs} timed runs per row, median (min-max)`,
  );
  console.log();
  console.log(
    "d".padStart(9),
    "leaves v1/v2".padStart(14),
    "row".padEnd(20),
    "median".padStart(9),
    "range".padStart(17),
    "vs v1".padStart(7),
  );
  try {
    for (const d of sizes) {
      const values = randomVector(d, d);
      const depth = treeDepth(d);
      const ref = await time(() => treeLevels(chunkLeaves(values, poseidon), depth, poseidon)[depth][0]);
      const v1 = d <= Number(args["skip-v1-above"]) ? await time(() => v1Root(values, poseidon)) : undefined;
      const single = await time(() => fromMontgomery(hasher.subtreeRoot(values, 2 ** depth)));
      const pooled = await time(() => pool.root(values, chunkCount(d), depth));
      for (const [name, row] of [
        ["v2 wasm, 1 thread", single],
        [`v2 wasm, pool of ${threads}`, pooled],
      ] as const) {
        if (row.value !== ref.value) throw new Error(`${name} computed a different root for d = ${d}`);
      }
      const base = v1 ? median(v1.ms) : undefined;
      const rows: [string, number[]][] = [
        ...(v1 ? ([["v1 circomlibjs", v1.ms]] as [string, number[]][]) : []),
        ["v2 circomlibjs", ref.ms],
        ["v2 wasm, 1 thread", single.ms],
        [`v2 wasm, pool of ${threads}`, pooled.ms],
      ];
      for (const [name, ms] of rows) {
        const m = median(ms);
        console.log(
          String(d).padStart(9),
          `${Math.ceil(d / 16)}/${chunkCount(d)}`.padStart(14),
          name.padEnd(20),
          fmt(m).padStart(9),
          `${fmt(Math.min(...ms))}-${fmt(Math.max(...ms))}`.padStart(17),
          (base ? `${(base / m).toFixed(1)}×` : "").padStart(7),
        );
      }
    }
  } finally {
    await pool.close();
  }
}

await main();
