// The simulation's data: a training pool and a test set (MNIST IDX or synthetic), the Dirichlet
// split of the pool over the clients, and the Byzantine set, each a pure function of the config.
import { existsSync } from "node:fs";
import path from "node:path";
import { loadMnist } from "../data/idx.js";
import { dirichletPartition, partitionDataset } from "../data/partition.js";
import { DsainError, ErrorCode } from "../../errors.js";
import { type Dataset, Prng, subset, syntheticClassification } from "../../maths/learning/data.js";
import { type SimulationConfig, byzantineCount, deriveSeed } from "./config.js";

export interface SimulationData {
  readonly pool: Dataset;
  readonly test: Dataset;
  /** Where the samples came from, for the results. */
  readonly source: string;
}

/** Synthetic data: 10 classes of Gaussian blobs in 32 features, drawn once from a fixed seed. */
const SYNTHETIC = Object.freeze({ seed: 20240601, features: 32, classes: 10, separation: 1 });

const cache = new Map<string, SimulationData>();

function resolveMnistFile(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new DsainError(ErrorCode.DATA_UNREADABLE, `no ${stem}(.gz) in ${dir}; point the MNIST directory at the IDX files`);
}

/**
 * The training pool (the first poolSize samples) and the test set (the last testSize) of the
 * dataset; MNIST's test set gives the split, 8,000 + 2,000. Cached per process.
 */
export function loadSimulationData(config: Pick<SimulationConfig, "dataset" | "mnistDir" | "poolSize" | "testSize">): SimulationData {
  const key = JSON.stringify([config.dataset, config.mnistDir, config.poolSize, config.testSize]);
  const hit = cache.get(key);
  if (hit) return hit;
  let all: Dataset;
  let source: string;
  if (config.dataset === "mnist") {
    const images = resolveMnistFile(config.mnistDir, "t10k-images-idx3-ubyte");
    const labels = resolveMnistFile(config.mnistDir, "t10k-labels-idx1-ubyte");
    all = loadMnist(images, labels);
    source = `MNIST IDX ${path.relative(process.cwd(), images) || images}`;
  } else {
    all = syntheticClassification({ ...SYNTHETIC, samples: config.poolSize + config.testSize });
    source = `synthetic: ${SYNTHETIC.classes} Gaussian blobs in ${SYNTHETIC.features} features (separation ${SYNTHETIC.separation}, seed ${SYNTHETIC.seed})`;
  }
  const n = all.y.length;
  if (config.poolSize + config.testSize > n) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `poolSize ${config.poolSize} + testSize ${config.testSize} exceeds the ${n} samples of the dataset`,
    );
  }
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
  const data = { pool: subset(all, range(0, config.poolSize)), test: subset(all, range(n - config.testSize, config.testSize)), source };
  cache.set(key, data);
  return data;
}

/** The clients' datasets: Dirichlet(alpha) label skew of the pool, at least 10 samples each (NIID-Bench's floor). */
export function clientDatasets(pool: Dataset, config: Pick<SimulationConfig, "clients" | "dirichletAlpha" | "seed">): Dataset[] {
  const minSamples = Math.min(10, Math.floor(pool.y.length / config.clients));
  const parts = dirichletPartition(pool.y, pool.classes, {
    clients: config.clients,
    alpha: config.dirichletAlpha,
    seed: deriveSeed(config.seed, "partition"),
    minSamples,
  });
  return partitionDataset(pool, parts);
}

/** The Byzantine clients (ascending): the first f of a permutation of the clients drawn from the seed. */
export function byzantineClients(config: Pick<SimulationConfig, "clients" | "byzantineFraction" | "seed">): number[] {
  const f = byzantineCount(config);
  const order = new Prng(deriveSeed(config.seed, "byzantine")).permutation(config.clients);
  return Array.from(order.subarray(0, f)).sort((a, b) => a - b);
}
