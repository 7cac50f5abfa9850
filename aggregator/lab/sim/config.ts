// What one simulated run is: data, split, model, training, Byzantine clients and their attack, the
// aggregation strategy, optional top-k compression, and the seed; defaults, validation and seeds.
import path from "node:path";
import { DsainError, ErrorCode } from "../../errors.js";
import { type StrategyName, type StrategyParams, checkStrategyName } from "./strategies.js";
import { PROJECT_ROOT } from "../../paths.js";

export const ATTACK_NAMES = ["none", "sign-flip", "gaussian", "label-flip", "alie", "ipm"] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

export const ATTACK_LABELS: Readonly<Record<AttackName, string>> = Object.freeze({
  none: "No attack",
  "sign-flip": "Sign flip",
  gaussian: "Gaussian",
  "label-flip": "Label flip",
  alie: "ALIE",
  ipm: "IPM",
});

/** The attacks' parameters; defaults are their published (or the DSAIN reference code's) values. */
export interface AttackParams {
  /** Boosted sign flip: a Byzantine client sends -lambda * its trained update. DSAIN Table 2: 5. */
  readonly signFlipLambda: number;
  /** Gaussian: a Byzantine client sends its update + N(0, sigma^2 I); the DSAIN reference code's default 10. */
  readonly gaussianSigma: number;
  /** IPM: every Byzantine client sends -epsilon * mean(honest); Xie et al.'s 0.1. */
  readonly ipmEpsilon: number;
}

export const DEFAULT_ATTACK_PARAMS: Readonly<AttackParams> = Object.freeze({ signFlipLambda: 5, gaussianSigma: 10, ipmEpsilon: 0.1 });

export type DatasetName = "mnist" | "synthetic";

export interface SimulationConfig {
  /** "mnist": the IDX files in `mnistDir`; "synthetic": Gaussian blobs (aggregator/maths/learning/data.ts). */
  readonly dataset: DatasetName;
  /** Directory holding t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz). */
  readonly mnistDir: string;
  /** The first `poolSize` samples are the clients' training pool ... */
  readonly poolSize: number;
  /** ... and the last `testSize` the test set (MNIST test set: 8,000 and 2,000). */
  readonly testSize: number;
  readonly clients: number;
  /** Concentration of the Dirichlet label split over the clients. */
  readonly dirichletAlpha: number;
  /** Hidden layer widths of the MLP (ReLU). */
  readonly hidden: readonly number[];
  readonly rounds: number;
  readonly localEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly momentum: number;
  /** Fraction of the clients that are Byzantine: f = round(fraction * clients). */
  readonly byzantineFraction: number;
  readonly attack: AttackName;
  readonly attackParams: AttackParams;
  readonly method: StrategyName;
  /** Strategy parameters; `f` defaults to the number of Byzantine clients when the strategy needs it. */
  readonly strategyParams: StrategyParams;
  /** Top-k ratio with error feedback on every upload (FedSov's compressor); null: dense updates. */
  readonly compression: number | null;
  /**
   * Compute the protocol's commitments every round, as a federation's parties would (docs/protocol.md
   * §2): each client's update root and the new model's root, timed as `commitSeconds`.
   */
  readonly commit: boolean;
  readonly seed: number;
}

export const DEFAULT_MNIST_DIR = path.join(PROJECT_ROOT, "test", "fixtures", "mnist");

/**
 * The defaults are the Table 2 settings (docs/results/README.md says why): the issue's split, an
 * MLP 784-200-200-10 (McMahan et al.'s "2NN"), 20 rounds of 2 local epochs, batch 32.
 */
export const SIMULATION_DEFAULTS: Readonly<SimulationConfig> = Object.freeze({
  dataset: "mnist",
  mnistDir: DEFAULT_MNIST_DIR,
  poolSize: 8000,
  testSize: 2000,
  clients: 20,
  dirichletAlpha: 0.5,
  hidden: Object.freeze([200, 200]),
  rounds: 20,
  localEpochs: 2,
  batchSize: 32,
  learningRate: 0.01,
  momentum: 0.9,
  byzantineFraction: 0.2,
  attack: "none",
  attackParams: DEFAULT_ATTACK_PARAMS,
  method: "fedavg",
  strategyParams: Object.freeze({}),
  compression: null,
  commit: false,
  seed: 1,
});

function bad(message: string): DsainError {
  return new DsainError(ErrorCode.CONFIG_INVALID, message);
}

export function isAttackName(name: string): name is AttackName {
  return (ATTACK_NAMES as readonly string[]).includes(name);
}

export function checkAttackName(name: string): AttackName {
  if (!isAttackName(name)) throw bad(`unknown attack "${name}"; choose one of ${ATTACK_NAMES.join(", ")}`);
  return name;
}

function int(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw bad(`${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "2^53" : max}], got ${value}`);
  }
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw bad(`${name} must be a positive finite number, got ${value}`);
}

/** The number of Byzantine clients of a configuration. */
export function byzantineCount(config: Pick<SimulationConfig, "clients" | "byzantineFraction">): number {
  return Math.round(config.byzantineFraction * config.clients);
}

/** Defaults filled in, every field checked (each refusal names the field); the result is frozen. */
export function simulationConfig(overrides: Partial<SimulationConfig> = {}): Readonly<SimulationConfig> {
  const c: SimulationConfig = {
    ...SIMULATION_DEFAULTS,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
    attackParams: { ...DEFAULT_ATTACK_PARAMS, ...(overrides.attackParams ?? {}) },
  };
  if (c.dataset !== "mnist" && c.dataset !== "synthetic") throw bad(`dataset must be "mnist" or "synthetic", got "${String(c.dataset)}"`);
  int("poolSize", c.poolSize, 1);
  int("testSize", c.testSize, 1);
  int("clients", c.clients, 1);
  if (c.poolSize < c.clients) throw bad(`poolSize ${c.poolSize} is smaller than the ${c.clients} clients it is split over`);
  positive("dirichletAlpha", c.dirichletAlpha);
  if (!Array.isArray(c.hidden)) throw bad("hidden must be a list of layer widths");
  c.hidden.forEach((h, i) => int(`hidden[${i}]`, h, 1));
  int("rounds", c.rounds, 1);
  int("localEpochs", c.localEpochs, 1);
  int("batchSize", c.batchSize, 1);
  positive("learningRate", c.learningRate);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw bad(`momentum must lie in [0, 1), got ${c.momentum}`);
  if (!(c.byzantineFraction >= 0 && c.byzantineFraction < 0.5)) {
    throw bad(`byzantineFraction must lie in [0, 0.5) (a Byzantine majority defeats every rule), got ${c.byzantineFraction}`);
  }
  checkAttackName(c.attack);
  const f = byzantineCount(c);
  if (c.attack !== "none" && f === 0) {
    throw bad(`attack "${c.attack}" needs Byzantine clients, but ${c.byzantineFraction} of ${c.clients} clients rounds to 0`);
  }
  positive("attackParams.signFlipLambda", c.attackParams.signFlipLambda);
  if (!(Number.isFinite(c.attackParams.gaussianSigma) && c.attackParams.gaussianSigma >= 0))
    throw bad(`attackParams.gaussianSigma must be a finite number >= 0, got ${c.attackParams.gaussianSigma}`);
  positive("attackParams.ipmEpsilon", c.attackParams.ipmEpsilon);
  checkStrategyName(c.method);
  // Refused here, before any training, rather than by the rule in the first round.
  const tolerated = c.strategyParams.f ?? f;
  if (c.method === "trimmed-mean" && 2 * tolerated >= c.clients) {
    throw bad(`trimmed-mean drops f = ${tolerated} values on each side and needs clients > 2f; ${c.clients} clients are too few`);
  }
  if (c.method === "bulyan" && c.clients < 4 * tolerated + 3) {
    throw bad(
      `bulyan needs clients >= 4f + 3 = ${4 * tolerated + 3} for f = ${tolerated}; use more clients or a smaller Byzantine fraction`,
    );
  }
  if (c.compression !== null && !(c.compression > 0 && c.compression <= 1))
    throw bad(`compression must be a top-k ratio in (0, 1] or null, got ${c.compression}`);
  if (typeof c.commit !== "boolean") throw bad(`commit must be true or false, got ${String(c.commit)}`);
  int("seed", c.seed, 0, 0xffffffff);
  return Object.freeze(c);
}

/**
 * A 32-bit seed for one purpose of one run (the partition, the Byzantine set, a client's round of
 * training), so that each stream is independent of how many draws the others made: FNV-1a over the
 * parts' text, then murmur3's finaliser.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of [seed, ...parts].join("/")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
