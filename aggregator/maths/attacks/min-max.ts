// Min-max and min-sum (AGR-agnostic model poisoning): mean + gamma * perturbation, gamma as large as a distance bound allows.
//
// V. Shejwalkar, A. Houmansadr, "Manipulating the Byzantine: Optimizing Model Poisoning Attacks and
// Defenses for Federated Learning", NDSS 2021, Section IV-B. The malicious update is
// m = mean(honest) + gamma * p with one of three perturbations p: the inverse unit vector
// -mean/||mean|| ("unit"), the inverse standard deviation -std ("std"), or the inverse sign
// -sign(mean) ("sign"). gamma is the largest value (found by the paper's halving search) for which
//   min-max:  max_i ||m - g_i||^2        <= max_{i,j} ||g_i - g_j||^2
//   min-sum:  sum_i ||m - g_i||^2        <= max_i sum_j ||g_i - g_j||^2
// over the honest updates g. The search follows the authors' release
// (github.com/vrt1shjwlkr/NDSS21-Model-Poisoning, `our_attack_dist` / `our_attack_score`): gamma
// starts at gammaInit (10), moves by +-step/2 with step halving from gammaInit each round, keeps the
// last gamma that met the bound, and stops when that one and the current gamma differ by at most
// the tolerance (1e-5). So gamma never exceeds 2 * gammaInit, and gamma = 0 (the honest mean, which
// always meets both bounds) when nothing larger does. The standard deviation uses ddof = 1
// (torch.std, as in the release). For min-sum the release bounds by the minimum of the honest
// sums, not the maximum the paper states; `sumBound: "min"` selects that variant.
import { DsainError, ErrorCode } from "../../errors.js";
import { type Vec, invalidInput, checkPositive, checkVectors, mean, squaredDistance, std } from "./common.js";

export type PerturbationDirection = "unit" | "std" | "sign";

export interface MinMaxOptions {
  /** The perturbation: inverse unit vector, inverse standard deviation or inverse sign; default "unit". */
  direction?: PerturbationDirection;
  /** The search's starting gamma; default 10. */
  gammaInit?: number;
  /** The search stops when successive gammas differ by at most this; default 1e-5. */
  tolerance?: number;
}

export interface MinSumOptions extends MinMaxOptions {
  /** The bound on the sum: the paper's maximum over honest updates (default) or the release's minimum. */
  sumBound?: "max" | "min";
}

export interface ModelPoisoningResult {
  /** The malicious update every Byzantine client sends. */
  update: Float64Array;
  /** The gamma the search settled on. */
  gamma: number;
  /** The perturbation p (already pointing away from the honest mean). */
  perturbation: Float64Array;
}

const DIRECTIONS: readonly PerturbationDirection[] = ["unit", "std", "sign"];

/** The perturbation p of the paper: -mean/||mean||, -std or -sign(mean). */
export function perturbation(honest: readonly Vec[], direction: PerturbationDirection, attack = "model poisoning"): Float64Array {
  if (!DIRECTIONS.includes(direction))
    throw invalidInput(attack, `direction is ${String(direction)}; choose one of ${DIRECTIONS.join(", ")}`);
  const mu = mean(honest);
  if (direction === "std") return std(honest, 1, mu).map((s) => -s);
  if (direction === "sign") return mu.map((v) => -Math.sign(v));
  const norm = Math.sqrt(squaredDistance(mu, new Float64Array(mu.length)));
  if (norm === 0) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${attack}: the honest mean is zero, so it has no unit vector; use direction "std"`);
  }
  return mu.map((v) => -v / norm);
}

/** The halving search of the paper for the largest gamma with accepts(mean + gamma * p). */
function searchGamma(
  mu: Float64Array,
  p: Float64Array,
  accepts: (m: Float64Array) => boolean,
  gammaInit: number,
  tolerance: number,
): number {
  const candidate = new Float64Array(mu.length);
  let gamma = gammaInit;
  let step = gammaInit;
  let success = 0;
  while (Math.abs(success - gamma) > tolerance) {
    for (let j = 0; j < mu.length; j++) candidate[j] = mu[j] + gamma * p[j];
    if (accepts(candidate)) {
      success = gamma;
      gamma += step / 2;
    } else {
      gamma -= step / 2;
    }
    step /= 2;
  }
  return success;
}

function run(attack: string, honest: readonly Vec[], options: MinMaxOptions, accepts: (m: Float64Array) => boolean): ModelPoisoningResult {
  const { direction = "unit", gammaInit = 10, tolerance = 1e-5 } = options;
  checkPositive(attack, "gammaInit", gammaInit);
  checkPositive(attack, "tolerance", tolerance);
  const mu = mean(honest);
  const p = perturbation(honest, direction, attack);
  const gamma = searchGamma(mu, p, accepts, gammaInit, tolerance);
  const update = new Float64Array(mu.length);
  for (let j = 0; j < mu.length; j++) update[j] = mu[j] + gamma * p[j];
  return { update, gamma, perturbation: p };
}

/** max over i of sum_j ||g_i - g_j||^2 ("max") or its minimum ("min"), and the max pairwise distance. */
function honestDistances(honest: readonly Vec[]): { maxPair: number; sums: Float64Array } {
  const n = honest.length;
  const sums = new Float64Array(n);
  let maxPair = 0;
  for (let i = 0; i < n; i++) {
    for (let k = i + 1; k < n; k++) {
      const d = squaredDistance(honest[i], honest[k]);
      sums[i] += d;
      sums[k] += d;
      if (d > maxPair) maxPair = d;
    }
  }
  return { maxPair, sums };
}

/** Min-max: the malicious update is no farther from any honest update than the two farthest honest ones are apart. */
export function minMaxAttack(honest: readonly Vec[], options: MinMaxOptions = {}): ModelPoisoningResult {
  checkVectors(honest, "min-max", 2);
  const { maxPair } = honestDistances(honest);
  return run("min-max", honest, options, (m) => honest.every((g) => squaredDistance(m, g) <= maxPair));
}

/** Min-sum: the malicious update's summed squared distance to the honest ones stays within an honest update's. */
export function minSumAttack(honest: readonly Vec[], options: MinSumOptions = {}): ModelPoisoningResult {
  checkVectors(honest, "min-sum", 2);
  const { sumBound = "max" } = options;
  if (sumBound !== "max" && sumBound !== "min") throw invalidInput("min-sum", `sumBound is ${String(sumBound)}; choose "max" or "min"`);
  const { sums } = honestDistances(honest);
  const bound = sumBound === "max" ? Math.max(...sums) : Math.min(...sums);
  return run("min-sum", honest, options, (m) => honest.reduce((s, g) => s + squaredDistance(m, g), 0) <= bound);
}
