// Splitting a pool of samples across federated clients: Dirichlet(alpha) label skew, natural (per-user) partitions, a skew statistic.
//
// The Dirichlet partition is the per-class scheme of M. Yurochkin et al., "Bayesian Nonparametric
// Federated Learning of Neural Networks", ICML 2019, as run by Q. Li, Y. Diao, Q. Chen, B. He,
// "Federated Learning on Non-IID Data Silos: An Experimental Study" (NIID-Bench), ICDE 2022:
// for each class k, shuffle its samples, draw p_k ~ Dir(alpha * 1_clients), and cut the class at
// floor(n_k * cumsum(p_k)). Small alpha concentrates each class on few clients; large alpha tends
// to an IID split. Like NIID-Bench, the whole draw is repeated until every client holds at least
// `minSamples` samples; unlike it, the number of redraws is capped and the refusal says so.
import { type Dataset, Prng, subset } from "../../maths/learning/data.js";
import { DsainError, ErrorCode } from "../../errors.js";
import { sampleDirichlet } from "./sampling.js";

export interface DirichletPartitionOptions {
  clients: number;
  /** Concentration of each class's split over the clients; > 0. */
  alpha: number;
  seed: number;
  /** Every client must receive at least this many samples; default 1. */
  minSamples?: number;
  /** Whole-draw repetitions allowed before refusing; default 100. */
  maxAttempts?: number;
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

function checkInt(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw invalidInput(`${what} is ${value}; it must be an integer >= ${min}`);
}

function checkLabels(labels: ArrayLike<number>, classes: number): void {
  checkInt(classes, "classes", 1);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new DsainError(ErrorCode.DATA_MALFORMED, `label ${i} is ${v}, outside [0, ${classes})`);
    }
  }
}

/**
 * Indices of the samples each client receives (ascending within a client; every sample goes to
 * exactly one client). A pure function of the labels and options.
 */
export function dirichletPartition(labels: ArrayLike<number>, classes: number, options: DirichletPartitionOptions): Uint32Array[] {
  const { clients, alpha, seed, minSamples = 1, maxAttempts = 100 } = options;
  checkInt(clients, "clients", 1);
  if (!Number.isFinite(alpha) || alpha <= 0) throw invalidInput(`alpha is ${alpha}; it must be a positive finite number`);
  checkInt(minSamples, "minSamples", 0);
  checkInt(maxAttempts, "maxAttempts", 1);
  checkLabels(labels, classes);
  const rng = new Prng(seed);
  const n = labels.length;
  if (n < clients * minSamples) {
    throw invalidInput(`${n} samples cannot give each of ${clients} clients at least ${minSamples}; use fewer clients or more data`);
  }
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]].push(i);
  const concentration = new Array<number>(clients).fill(alpha);

  let smallest = 0;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const owner = new Uint32Array(n);
    const sizes = new Array<number>(clients).fill(0);
    for (const members of byClass) {
      if (members.length === 0) continue;
      const order = rng.permutation(members.length);
      const p = sampleDirichlet(rng, concentration);
      let cumulative = 0;
      let start = 0;
      for (let c = 0; c < clients; c++) {
        cumulative += p[c];
        const end = c === clients - 1 ? members.length : Math.min(members.length, Math.floor(cumulative * members.length));
        for (let k = start; k < end; k++) owner[members[order[k]]] = c;
        sizes[c] += Math.max(0, end - start);
        start = Math.max(start, end);
      }
    }
    smallest = Math.min(...sizes);
    if (smallest >= minSamples) return groupBy(owner, clients);
  }
  throw invalidInput(
    `Dirichlet(alpha=${alpha}) over ${clients} clients left a client with ${smallest} < ${minSamples} samples in all ` +
      `${maxAttempts} draws; raise alpha, lower the number of clients or minSamples, or allow more attempts`,
  );
}

/** Indices 0..owner.length-1 grouped by owner[i] in [0, groups), ascending within each group. */
function groupBy(owner: ArrayLike<number>, groups: number): Uint32Array[] {
  const counts = new Array<number>(groups).fill(0);
  for (let i = 0; i < owner.length; i++) counts[owner[i]]++;
  const out = counts.map((c) => new Uint32Array(c));
  const fill = new Array<number>(groups).fill(0);
  for (let i = 0; i < owner.length; i++) out[owner[i]][fill[owner[i]]++] = i;
  return out;
}

/**
 * The natural partition: sample i belongs to group owner[i] (for LEAF, `leaf.owner` and
 * `leaf.users.length`: one client per user). Refuses an owner outside [0, groups) and an empty group.
 */
export function naturalPartition(owner: ArrayLike<number>, groups: number): Uint32Array[] {
  checkInt(groups, "groups", 1);
  for (let i = 0; i < owner.length; i++) {
    const g = owner[i];
    if (!Number.isInteger(g) || g < 0 || g >= groups) throw invalidInput(`owner of sample ${i} is ${g}, outside [0, ${groups})`);
  }
  const parts = groupBy(owner, groups);
  const empty = parts.findIndex((p) => p.length === 0);
  if (empty >= 0) throw invalidInput(`group ${empty} owns no samples; every client needs at least one`);
  return parts;
}

/** One dataset per client from index lists (see dirichletPartition and naturalPartition). */
export function partitionDataset(data: Dataset, parts: readonly ArrayLike<number>[]): Dataset[] {
  return parts.map((p) => subset(data, p));
}

/**
 * Label skew of a partition: the sample-weighted mean over clients of the total-variation distance
 * between the client's label distribution and the pool's, sum_c (n_c / N) * (1/2) sum_k |p_ck - p_k|.
 * 0 when every client has the pool's label mix; near 1 - max_k p_k when each client holds one class.
 */
export function labelSkew(labels: ArrayLike<number>, classes: number, parts: readonly ArrayLike<number>[]): number {
  checkLabels(labels, classes);
  const global = new Float64Array(classes);
  let total = 0;
  for (const part of parts) {
    for (let k = 0; k < part.length; k++) global[labels[part[k]]]++;
    total += part.length;
  }
  if (total === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "the partition holds no samples");
  for (let k = 0; k < classes; k++) global[k] /= total;
  let skew = 0;
  const local = new Float64Array(classes);
  for (const part of parts) {
    if (part.length === 0) continue;
    local.fill(0);
    for (let k = 0; k < part.length; k++) local[labels[part[k]]]++;
    let tv = 0;
    for (let k = 0; k < classes; k++) tv += Math.abs(local[k] / part.length - global[k]);
    skew += (part.length / total) * 0.5 * tv;
  }
  return skew;
}
