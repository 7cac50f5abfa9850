// Seeded randomness and small in-memory datasets: a synthetic classification task and IID splits.
import { DsainError, ErrorCode } from "../../errors.js";

/** Labelled samples: `x` holds `y.length` rows of `features` values each, row-major. */
export interface Dataset {
  x: Float32Array;
  y: Uint8Array;
  features: number;
  classes: number;
}

export interface SyntheticOptions {
  seed: number;
  samples: number;
  /** Input dimension; default 8. */
  features?: number;
  /** Number of classes, at most 256 (labels are bytes); default 4. */
  classes?: number;
  /** Standard deviation of the class means around the origin, in units of the unit-variance noise; default 1.5. */
  separation?: number;
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

function checkSeed(seed: number, what = "seed"): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw invalidInput(`${what} is ${seed}; it must be an integer in [0, 2^32)`);
}

function checkCount(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(`${what} is ${value}; it must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "2^53" : max}]`);
  }
}

/**
 * Mulberry32 (Tommy Ettinger, 2017): 32 bits of state, integer-only arithmetic, so the same seed
 * gives the same stream on every JavaScript engine. Good enough for shuffles and synthetic data;
 * not for anything secret.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    checkSeed(seed);
    this.state = seed >>> 0;
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) on a 2^-32 grid. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), by rejection so that no value is favoured. */
  nextInt(n: number): number {
    checkCount(n, "range", 1, 0x100000000);
    const limit = 4294967296 - (4294967296 % n);
    let v = this.nextUint32();
    while (v >= limit) v = this.nextUint32();
    return v % n;
  }

  /** Standard normal by Box-Muller; one of the pair is dropped to keep the state simple. */
  nextGaussian(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1], so the log is finite
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    checkCount(n, "permutation length", 0);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

/** Throws DATA_MALFORMED unless `data` is internally consistent (sizes, finite inputs, labels in range). */
export function checkDataset(data: Dataset, what = "dataset"): void {
  const malformed = (message: string) => new DsainError(ErrorCode.DATA_MALFORMED, `${what} is malformed: ${message}`);
  if (!(data.x instanceof Float32Array) || !(data.y instanceof Uint8Array)) throw malformed("x must be a Float32Array and y a Uint8Array");
  if (!Number.isInteger(data.features) || data.features < 1) throw malformed(`features is ${data.features}, not a positive integer`);
  if (!Number.isInteger(data.classes) || data.classes < 2 || data.classes > 256)
    throw malformed(`classes is ${data.classes}, not an integer in [2, 256]`);
  if (data.x.length !== data.y.length * data.features) {
    throw malformed(
      `x has ${data.x.length} values but ${data.y.length} samples of ${data.features} features need ${data.y.length * data.features}`,
    );
  }
  for (let i = 0; i < data.y.length; i++) {
    if (data.y[i] >= data.classes) throw malformed(`label ${i} is ${data.y[i]}, outside [0, ${data.classes})`);
  }
  for (let i = 0; i < data.x.length; i++) {
    if (!Number.isFinite(data.x[i])) throw malformed(`input value ${i} (sample ${Math.floor(i / data.features)}) is ${data.x[i]}`);
  }
}

/** The samples at `indices`, in that order. */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const { features } = data;
  const x = new Float32Array(indices.length * features);
  const y = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= data.y.length)
      throw invalidInput(`index ${i} is outside the dataset's ${data.y.length} samples`);
    x.set(data.x.subarray(i * features, (i + 1) * features), k * features);
    y[k] = data.y[i];
  }
  return { x, y, features, classes: data.classes };
}

/**
 * Gaussian blobs: each class has a mean drawn from N(0, separation^2 I), each sample is its
 * class's mean plus N(0, I) noise, labels are i.i.d. uniform. With the defaults (8 features,
 * 4 classes, separation 1.5) two means lie about 6 noise deviations apart on average; the
 * default 8-16-4 MLP reached 86-98% held-out accuracy after 2 epochs on 200 samples over 12
 * seeds (chance is 25%). Separation 1 makes the task harder (68-91% under the same test).
 */
export function syntheticClassification(options: SyntheticOptions): Dataset {
  const { seed, samples, features = 8, classes = 4, separation = 1.5 } = options;
  checkSeed(seed);
  checkCount(samples, "samples", 1);
  checkCount(features, "features", 1);
  checkCount(classes, "classes", 2, 256);
  if (!Number.isFinite(separation) || separation <= 0)
    throw invalidInput(`separation is ${separation}; it must be a positive finite number`);
  const rng = new Prng(seed);
  const means = new Float64Array(classes * features);
  for (let i = 0; i < means.length; i++) means[i] = separation * rng.nextGaussian();
  const x = new Float32Array(samples * features);
  const y = new Uint8Array(samples);
  for (let s = 0; s < samples; s++) {
    const c = rng.nextInt(classes);
    y[s] = c;
    for (let f = 0; f < features; f++) x[s * features + f] = means[c * features + f] + rng.nextGaussian();
  }
  return { x, y, features, classes };
}

/** Shuffles the samples with `seed` and deals them into `parts` shares whose sizes differ by at most one. */
export function splitIid(data: Dataset, parts: number, seed: number): Dataset[] {
  checkDataset(data);
  const n = data.y.length;
  checkCount(parts, "parts", 1);
  if (parts > n) throw invalidInput(`cannot split ${n} samples into ${parts} non-empty parts`);
  checkSeed(seed);
  const order = new Prng(seed).permutation(n);
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const out: Dataset[] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = base + (p < extra ? 1 : 0);
    out.push(subset(data, order.subarray(start, start + size)));
    start += size;
  }
  return out;
}

/** Shuffles with `seed`, then holds out round(n * testFraction) samples; both sides must be non-empty. */
export function trainTestSplit(data: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  checkDataset(data);
  if (!Number.isFinite(testFraction) || testFraction <= 0 || testFraction >= 1) {
    throw invalidInput(`testFraction is ${testFraction}; it must lie strictly between 0 and 1`);
  }
  checkSeed(seed);
  const n = data.y.length;
  const testSize = Math.round(n * testFraction);
  if (testSize < 1 || testSize > n - 1)
    throw invalidInput(`testFraction ${testFraction} of ${n} samples leaves the train or test side empty`);
  const order = new Prng(seed).permutation(n);
  return { train: subset(data, order.subarray(testSize)), test: subset(data, order.subarray(0, testSize)) };
}
