// Proof benchmark (issue 5, "Speed"): for each instance of circuits/circuits.json, prints
// constraints, witness time, prove time (snarkjs in a warm process), verify time in JS, the
// per-constraint cost, and the verifyProof gas of its Solidity verifier on Hardhat's in-process
// EVM (compiled with the npm solc, project settings). Inputs are real rounds built by the typed
// builders over sparse vectors (nonzero only in the challenged chunks), so building the Poseidon
// trees of a depth-11 model takes seconds; circuit cost does not depend on the values.
//
//   npx tsx scripts/bench/proof.ts                         # every instance, 3 timed runs each
//   npx tsx scripts/bench/proof.ts RoundAttested_8-11-0-1-6 --runs 5
//   npx tsx scripts/bench/proof.ts --no-gas                # skip the EVM part
//
// Keys come from aggregator/adapters/proof/keys.ts (development keys; a cold cache sets them up first, which
// is not timed). Proving cost is the same for ceremony keys of the same circuit.
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { integerWeights, aggregateExact } from "../../aggregator/protocol/aggregation.js";
import { challengeSeed } from "../../aggregator/protocol/commitment.js";
import { CHUNK_SIZE } from "../../aggregator/protocol/constants.js";
import { getPoseidon, type PoseidonHasher } from "../../aggregator/protocol/poseidon.js";
import { chunkLeaves, treeLevels, type VectorTree } from "../../aggregator/protocol/vector-root.js";
import { attestationMeta, babyJubKeyFromSeed, keyRegistry, roundScope, signAttestation } from "../../aggregator/protocol/eddsa.js";
import { challengeChunkCount, challengeIndices } from "../../aggregator/protocol/challenge.js";
import {
  ensureCircuitKeys,
  loadCircuitInstances,
  loadSnarkjs,
  releaseZkWorkers,
  snarkjsVersion,
  type CircuitKeys,
  type CircuitSignals,
} from "../../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { buildRoundChunkInput, toSolidityProof } from "../../aggregator/adapters/proof/prover.js";
import { buildRoundAttestedInput, buildRoundChunksInput } from "../../aggregator/adapters/proof/sampled.js";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** Poseidon with a memo: sparse vectors repeat the same leaves and subtrees, hashed once each. */
function memoHasher(inner: PoseidonHasher): PoseidonHasher {
  const memo = new Map<string, bigint>();
  return {
    hash(inputs) {
      const key = inputs.join(",");
      let v = memo.get(key);
      if (v === undefined) {
        v = inner.hash(inputs);
        memo.set(key, v);
      }
      return v;
    },
  };
}

async function treeOf(values: Int32Array, hasher: PoseidonHasher): Promise<VectorTree> {
  let depth = 0;
  while (2 ** depth < Math.ceil(values.length / CHUNK_SIZE)) depth++;
  const leaves = chunkLeaves(values, hasher);
  const levels = treeLevels(leaves, depth, hasher);
  return { root: levels[depth][0], depth, leaves, levels };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return (span: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s % (2 * span + 1)) - span;
  };
}

/** A round of K updates on a model of the largest size the instance's tree depth serves. */
async function benchInput(keys: CircuitKeys): Promise<CircuitSignals> {
  const { template, params } = keys.instance;
  const [K, DEPTH] = params;
  const C = template === "RoundChunk" ? 0 : params[2];
  const S = template === "RoundChunk" ? 1 : params[3];
  const length = CHUNK_SIZE * 2 ** DEPTH;
  const seed = challengeSeed("0x" + "42".repeat(32), "0x" + "99".repeat(32));
  const indices = challengeIndices(seed, challengeChunkCount(length, C), S);
  const span = CHUNK_SIZE * 2 ** C;
  const rnd = lcg(7);
  const prev = new Int32Array(length);
  const deltas = Array.from({ length: K }, () => new Int32Array(length));
  for (const u of indices) {
    for (let j = u * span; j < (u + 1) * span; j++) {
      prev[j] = rnd(1 << 24);
      for (const d of deltas) d[j] = rnd(1 << 20);
    }
  }
  const weights = integerWeights(Array.from({ length: K }, (_, i) => 100 + 37 * i));
  const next = aggregateExact(prev, deltas, weights);
  const hasher = memoHasher(await getPoseidon());
  const trees = {
    prev: await treeOf(prev, hasher),
    next: await treeOf(next, hasher),
    deltas: await Promise.all(deltas.map((d) => treeOf(d, hasher))),
  };
  if (template === "RoundChunk") return (await buildRoundChunkInput({ prev, next, deltas, weights, chunkIndex: indices[0], trees })).input;
  if (template === "RoundChunks")
    return (await buildRoundChunksInput({ prev, next, deltas, weights, chunkIndices: indices, level: C, trees })).input;
  // RoundAttested: K enrolled keys in a registry of depth R, each signing its update.
  const R = params[4];
  const pairs = await Promise.all(Array.from({ length: K }, (_, i) => babyJubKeyFromSeed(`bench ${i}`)));
  const registry = await keyRegistry(
    pairs.map((p) => p.publicKey),
    R,
  );
  const scope = roundScope(31337n, LEDGER, 1n, 7n);
  const participants = await Promise.all(
    pairs.map(async (pair, i) => {
      const meta = await attestationMeta({
        sampleCount: BigInt(100 + 37 * i),
        dpEpsilonMicros: 0n,
        dpDeltaPicos: 0n,
        dpClipMicros: 0n,
        dpNoiseMicros: 0n,
      });
      const signature = await signAttestation(pair.privateKey, {
        scope,
        prevRoot: trees.prev.root,
        updateRoot: trees.deltas[i].root,
        meta,
      });
      return { keyIndex: i, meta, signature };
    }),
  );
  return (
    await buildRoundAttestedInput({ prev, next, deltas, weights, chunkIndices: indices, level: C, trees, scope, registry, participants })
  ).input;
}

interface Row {
  instance: string;
  constraints: number;
  publicInputs: number;
  domain: number;
  witnessMs: number;
  proveMs: number;
  /** Fastest witness + prove of the runs (least disturbed by other load). */
  bestMs: number;
  /** CPU time of witness + prove over all threads of the process (median), load-independent. */
  cpuMs: number;
  verifyMs: number;
  gas?: { total: number; execution: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeInstance(keys: CircuitKeys, runs: number): Promise<{ row: Row; proof: unknown; publicSignals: string[] }> {
  const snarkjs = await loadSnarkjs();
  const input = await benchInput(keys);
  const witnessMs: number[] = [];
  const proveMs: number[] = [];
  const verifyMs: number[] = [];
  const totalMs: number[] = [];
  const cpuMs: number[] = [];
  let last: { proof: unknown; publicSignals: string[] } | undefined;
  // One untimed run warms the curve's worker threads, the WASM witness generator and the JIT.
  for (let r = 0; r <= runs; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
    await snarkjs.wtns.calculate(input, keys.wasmPath, wtns);
    const t1 = performance.now();
    const { proof, publicSignals } = await snarkjs.groth16.prove(keys.zkeyPath, { type: "mem", data: wtns.data });
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const ok = await snarkjs.groth16.verify(keys.vkey, publicSignals, proof);
    const t3 = performance.now();
    if (!ok) throw new Error(`${keys.name}: the benchmark proof does not verify`);
    if (r > 0) {
      witnessMs.push(t1 - t0);
      proveMs.push(t2 - t1);
      verifyMs.push(t3 - t2);
      totalMs.push(t2 - t0);
      cpuMs.push((cpu.user + cpu.system) / 1000);
    }
    last = { proof, publicSignals };
  }
  let power = 1;
  while (2 ** power < keys.constraints + keys.publicInputs + 1) power++;
  return {
    row: {
      instance: keys.name,
      constraints: keys.constraints,
      publicInputs: keys.publicInputs,
      domain: power,
      witnessMs: median(witnessMs),
      proveMs: median(proveMs),
      bestMs: Math.min(...totalMs),
      cpuMs: median(cpuMs),
      verifyMs: median(verifyMs),
    },
    ...last!,
  };
}

/** Compiles a verifier with the npm solc (settings of hardhat.config.ts) and returns its ABI and bytecode. */
function compileVerifier(keys: CircuitKeys): { abi: unknown[]; bytecode: string } {
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const file = `${keys.instance.verifier}.sol`;
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { [file]: { content: keys.verifierSource } },
        settings: {
          optimizer: { enabled: true, runs: 200 },
          evmVersion: "cancun",
          viaIR: true,
          outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
        },
      }),
    ),
  ) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts[file][keys.instance.verifier];
  return { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}

/** Intrinsic calldata gas (EIP-2028): 4 per zero byte, 16 per other byte. */
function calldataGas(hex: string): number {
  let gas = 0;
  for (let i = 2; i < hex.length; i += 2) gas += hex.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

/** Gas of one on-chain Poseidon hash (circomlibjs' generated contract): what opening roots on-chain would cost. */
async function poseidonGas(ethers: any, signer: any, nInputs: number): Promise<number> {
  const { poseidonContract } = await import("circomlibjs");
  const factory = new ethers.ContractFactory(poseidonContract.generateABI(nInputs), poseidonContract.createCode(nInputs), signer);
  const hasher: any = await factory.deploy();
  await hasher.waitForDeployment();
  const args = Array.from({ length: nInputs }, (_, i) => 1234567n * BigInt(i + 1));
  const poseidon = await getPoseidon();
  const onChain = await hasher["poseidon(uint256[" + nInputs + "])"](args);
  if (BigInt(onChain) !== poseidon.hash(args)) throw new Error(`on-chain Poseidon(${nInputs}) differs from circomlibjs`);
  const data = hasher.interface.encodeFunctionData("poseidon(uint256[" + nInputs + "])", [args]);
  const total = Number(await signer.estimateGas({ to: await hasher.getAddress(), data }));
  return total - 21_000 - calldataGas(data);
}

async function measureGas(entries: { keys: CircuitKeys; proof: unknown; publicSignals: string[]; row: Row }[]): Promise<void> {
  const { createHardhatRuntimeEnvironment } = await import("hardhat/hre");
  const configPath = path.join(PROJECT_ROOT, "hardhat.config.ts");
  const userConfig = (await import(pathToFileURL(configPath).href)).default;
  const hre: any = await createHardhatRuntimeEnvironment(userConfig, { config: configPath }, PROJECT_ROOT);
  const connection: any = await hre.network.create();
  try {
    const { ethers } = connection;
    const [signer] = await ethers.getSigners();
    for (const e of entries) {
      const { abi, bytecode } = compileVerifier(e.keys);
      const factory = new ethers.ContractFactory(abi, bytecode, signer);
      const verifier: any = await factory.deploy();
      await verifier.waitForDeployment();
      const sol = toSolidityProof(e.proof as never);
      const pub = e.publicSignals.map(BigInt);
      if (!(await verifier.verifyProof(sol.a, sol.b, sol.c, pub)))
        throw new Error(`${e.keys.name}: the verifier contract rejects the proof`);
      const bad = [...pub];
      bad[0] = bad[0] + 1n;
      if (await verifier.verifyProof(sol.a, sol.b, sol.c, bad))
        throw new Error(`${e.keys.name}: the verifier contract accepts wrong inputs`);
      const data = verifier.interface.encodeFunctionData("verifyProof", [sol.a, sol.b, sol.c, pub]);
      const total = Number(await signer.estimateGas({ to: await verifier.getAddress(), data }));
      e.row.gas = { total, execution: total - 21_000 - calldataGas(data) };
    }
    const t3 = await poseidonGas(ethers, signer, 2);
    const t6 = await poseidonGas(ethers, signer, 5);
    console.log(
      `# on-chain Poseidon (circomlibjs contract, execution gas): Poseidon(2) ${t3}, Poseidon(5) ${t6}; ` +
        `one depth-11 Merkle opening = 11 x Poseidon(2) = ${11 * t3}`,
    );
  } finally {
    await connection.close?.();
  }
}

function fmt(row: Row): string {
  const prove = row.witnessMs + row.proveMs;
  const cols = [
    row.instance.padEnd(30),
    String(row.constraints).padStart(7),
    `2^${row.domain}`.padStart(5),
    String(row.publicInputs).padStart(4),
    row.witnessMs.toFixed(0).padStart(7),
    row.proveMs.toFixed(0).padStart(7),
    prove.toFixed(0).padStart(8),
    row.bestMs.toFixed(0).padStart(8),
    row.cpuMs.toFixed(0).padStart(8),
    ((prove * 1000) / row.constraints).toFixed(1).padStart(8),
    row.verifyMs.toFixed(0).padStart(6),
    (row.gas ? String(row.gas.total) : "-").padStart(8),
    (row.gas ? String(row.gas.execution) : "-").padStart(8),
  ];
  return cols.join(" ");
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: "string", default: "3" }, "no-gas": { type: "boolean", default: false } },
  });
  const runs = Number(values.runs);
  const all = await loadCircuitInstances();
  const names = positionals.length > 0 ? positionals : all.map((i) => i.name);
  console.log(
    `# proof benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${process.versions.node}, snarkjs ${await snarkjsVersion()}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  console.log(
    `# median of ${runs} runs after one warm-up, in one warm process; times in ms; best w+p = fastest run; ` +
      `cpu w+p = CPU time of all threads (median); µs/c = median (witness + prove) per constraint`,
  );
  const entries: { keys: CircuitKeys; proof: unknown; publicSignals: string[]; row: Row }[] = [];
  for (const name of names) {
    const keys = await ensureCircuitKeys(name, { log: () => {} });
    const timed = await timeInstance(keys, runs);
    entries.push({ keys, ...timed });
    console.error(`  ${name}: done`);
  }
  await releaseZkWorkers();
  if (!values["no-gas"]) await measureGas(entries);
  console.log(
    [
      "instance".padEnd(30),
      "constr".padStart(7),
      "domain",
      "pub".padStart(4),
      "witness".padStart(7),
      "prove".padStart(7),
      "w+p".padStart(8),
      "best w+p".padStart(8),
      "cpu w+p".padStart(8),
      "µs/c".padStart(8),
      "verify".padStart(6),
      "gas".padStart(8),
      "exec gas".padStart(8),
    ].join(" "),
  );
  for (const e of entries) console.log(fmt(e.row));
  console.log(
    `# load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}

await main();
