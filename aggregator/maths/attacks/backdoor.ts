// Pixel-trigger backdoor (data poisoning): a small patch stamped on some of a client's images, relabelled to a target class.
//
// T. Gu, B. Dolan-Gavitt, S. Garg, "BadNets: Identifying Vulnerabilities in the Machine Learning
// Model Supply Chain", arXiv:1708.06733, 2017: a fixed pixel pattern in a corner of the image,
// with the poisoned samples relabelled, makes the trained model map any triggered input to the
// attacker's class while clean accuracy stays high. In federated learning the Byzantine clients
// poison their local data this way (E. Bagdasaryan, A. Veit, Y. Hua, D. Estrin, V. Shmatikov, "How
// To Backdoor Federated Learning", AISTATS 2020; C. Xie, K. Huang, P.-Y. Chen, B. Li, "DBA:
// Distributed Backdoor Attacks against Federated Learning", ICLR 2020). The attack success rate
// is the fraction of triggered test images whose true class is not the target that the model
// assigns to the target (the measure of DBA and later work).
import { type Dataset, Prng, checkDataset } from "../learning/data.js";
import { DsainError, ErrorCode } from "../../errors.js";

export interface PixelTrigger {
  /** [height, width, channels] of the images, flattened row-major channels last. */
  imageShape: readonly [number, number, number];
  /** Side of the square patch in pixels; default 3. */
  size?: number;
  /** Value written to every channel of the patch, in the data's units; default 1 (white for [0, 1] pixels). */
  value?: number;
  /** Top row of the patch; default: flush with the bottom edge. */
  row?: number;
  /** Left column of the patch; default: flush with the right edge. */
  col?: number;
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, `backdoor: ${message}`);
}

/** The flat input positions the trigger overwrites, after checking it fits the images. */
export function triggerPositions(trigger: PixelTrigger, features: number): Uint32Array {
  const [h, w, c] = trigger.imageShape;
  for (const [v, what] of [
    [h, "image height"],
    [w, "image width"],
    [c, "image channels"],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw invalidInput(`${what} is ${v}; it must be a positive integer`);
  }
  if (h * w * c !== features)
    throw invalidInput(`image shape ${h}x${w}x${c} has ${h * w * c} values but the data has ${features} features`);
  const size = trigger.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > Math.min(h, w))
    throw invalidInput(`trigger size is ${size}; it must be an integer in [1, ${Math.min(h, w)}]`);
  const row = trigger.row ?? h - size;
  const col = trigger.col ?? w - size;
  if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row + size > h || col + size > w) {
    throw invalidInput(`a ${size}x${size} trigger at row ${row}, column ${col} does not fit a ${h}x${w} image`);
  }
  const value = trigger.value ?? 1;
  if (!Number.isFinite(value)) throw invalidInput(`trigger value is ${value}; it must be finite`);
  const out = new Uint32Array(size * size * c);
  let k = 0;
  for (let r = row; r < row + size; r++)
    for (let q = col; q < col + size; q++) for (let ch = 0; ch < c; ch++) out[k++] = (r * w + q) * c + ch;
  return out;
}

/** A copy of `data` in which the samples at `indices` (all when omitted) carry the trigger; labels unchanged. */
export function stampTrigger(data: Dataset, trigger: PixelTrigger, indices?: ArrayLike<number>): Dataset {
  checkDataset(data, "the dataset to stamp");
  const positions = triggerPositions(trigger, data.features);
  const value = trigger.value ?? 1;
  const x = data.x.slice();
  const n = data.y.length;
  const rows = indices ?? Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) throw invalidInput(`sample index ${i} is outside the dataset's ${n} samples`);
    const base = i * data.features;
    for (const p of positions) x[base + p] = value;
  }
  return { ...data, x, y: data.y.slice() };
}

function checkTarget(target: number, classes: number): void {
  if (!Number.isInteger(target) || target < 0 || target >= classes) throw invalidInput(`target class ${target} is outside [0, ${classes})`);
}

export interface PoisonOptions {
  trigger: PixelTrigger;
  /** Fraction of the client's samples poisoned, in (0, 1]; round(fraction * n) samples, at least 1. */
  fraction: number;
  targetClass: number;
  /** Chooses which samples are poisoned. */
  seed: number;
}

/**
 * A Byzantine client's poisoned dataset: round(fraction * n) samples chosen by `seed` get the
 * trigger and the target label; the rest are untouched. Returns the indices poisoned, ascending.
 */
export function poisonWithTrigger(data: Dataset, options: PoisonOptions): { dataset: Dataset; poisoned: Uint32Array } {
  checkDataset(data, "the dataset to poison");
  const { fraction, targetClass, seed } = options;
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) throw invalidInput(`fraction is ${fraction}; it must lie in (0, 1]`);
  checkTarget(targetClass, data.classes);
  const n = data.y.length;
  if (n === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "backdoor: the dataset to poison has no samples");
  const count = Math.max(1, Math.round(fraction * n));
  const poisoned = new Prng(seed)
    .permutation(n)
    .slice(0, count)
    .sort((a, b) => a - b);
  const dataset = stampTrigger(data, options.trigger, poisoned);
  for (const i of poisoned) dataset.y[i] = targetClass;
  return { dataset, poisoned };
}

/**
 * The test set for the attack success rate: the samples whose true class is not the target, each
 * stamped with the trigger and labelled with the target, so that a model's accuracy on it (e.g.
 * `evaluate(...).accuracy`) is the attack success rate.
 */
export function backdoorTestSet(test: Dataset, trigger: PixelTrigger, targetClass: number): Dataset {
  checkDataset(test, "the backdoor test set");
  checkTarget(targetClass, test.classes);
  const keep: number[] = [];
  for (let i = 0; i < test.y.length; i++) if (test.y[i] !== targetClass) keep.push(i);
  if (keep.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, `backdoor: every test sample is of the target class ${targetClass}`);
  const d = test.features;
  const x = new Float32Array(keep.length * d);
  keep.forEach((i, k) => x.set(test.x.subarray(i * d, (i + 1) * d), k * d));
  const stamped = stampTrigger({ x, y: new Uint8Array(keep.length), features: d, classes: test.classes }, trigger);
  return { ...stamped, y: new Uint8Array(keep.length).fill(targetClass) };
}

/**
 * Attack success rate: among samples whose true label is not the target, the fraction predicted as
 * the target. `predicted` are the model's classes for the triggered images, `trueLabels` their
 * labels before poisoning.
 */
export function attackSuccessRate(predicted: ArrayLike<number>, trueLabels: ArrayLike<number>, targetClass: number): number {
  if (predicted.length !== trueLabels.length) {
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `backdoor: ${predicted.length} predictions for ${trueLabels.length} labels`);
  }
  if (!Number.isInteger(targetClass) || targetClass < 0) throw invalidInput(`target class ${targetClass} must be a non-negative integer`);
  let eligible = 0;
  let hits = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (trueLabels[i] === targetClass) continue;
    eligible++;
    if (predicted[i] === targetClass) hits++;
  }
  if (eligible === 0)
    throw new DsainError(ErrorCode.EMPTY_INPUT, `backdoor: no sample has a true class other than the target ${targetClass}`);
  return hits / eligible;
}
