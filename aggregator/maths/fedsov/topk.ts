// Top-k sparsification with error feedback, the compression step of FedSov (DSAIN, Algorithm 1 and Lemma 6).
//
// Paper: "DSAIN: Distributed Sovereign AI Network" (TerexSpace/dsain-framework, latex/main.tex),
// Section "Adaptive Gradient Compression": C(x) = Top_k(x) keeps the k largest |x_j|; the error
// e <- (Delta + e) - C(Delta + e) is carried to the client's next round. Reference code:
// GradientCompressor in code/dsain.py (L56-79 at 1ef69cb): k = max(1, int(d * ratio)), the stored
// residual is added to the input *before* compressing, one residual per client id.
// Checked against ../shared/vectors/dsain/topk-ef-vectors.json (test/unit/fedsov.test.ts).
import { DsainError, ErrorCode } from "../../errors.js";

/** A vector of `dimension` coordinates given by its values at `indices` (strictly increasing); zeros elsewhere. */
export interface SparseVector {
  readonly dimension: number;
  readonly indices: Uint32Array;
  readonly values: Float64Array;
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

export function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw invalidInput(`${what}[${i}] is ${values[i]}; every coordinate must be finite`);
  }
}

/**
 * k = max(1, trunc(d * ratio)): the reference's `max(1, int(len(g) * ratio))`, truncating the binary64
 * product (so d = 100, ratio = 0.29 gives 28, as 100 * 0.29 = 28.999999999999996).
 */
export function topKCount(dimension: number, ratio: number): number {
  if (!Number.isSafeInteger(dimension) || dimension < 1) throw invalidInput(`dimension is ${dimension}; it must be a positive integer`);
  if (typeof ratio !== "number" || !(ratio > 0 && ratio <= 1)) throw invalidInput(`compression ratio is ${ratio}; it must lie in (0, 1]`);
  return Math.max(1, Math.trunc(dimension * ratio));
}

/** Puts the n-th smallest of a[lo..hi] at index n (three-way quickselect; a sort if it degenerates). */
function selectNth(a: Float64Array, n: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 8;
  while (lo < hi) {
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      return a[n];
    }
    const mid = lo + ((hi - lo) >>> 1);
    // Median of three as the pivot value.
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // Dutch-flag partition: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt--] = v;
      } else i++;
    }
    if (n < lt) hi = lt - 1;
    else if (n > gt) lo = gt + 1;
    else return pivot;
  }
  return a[n];
}

/**
 * Indices (increasing) of the k entries of largest magnitude. At the boundary, among entries whose
 * magnitude equals the k-th largest, the lowest indices win: a fixed rule where the reference's
 * `np.argsort(|g|)[-k:]` leaves ties to numpy's unstable sort (the vectors flag such cases).
 * O(d) expected time.
 */
export function topKIndices(values: ArrayLike<number>, k: number): Uint32Array {
  const d = values.length;
  if (!Number.isSafeInteger(k) || k < 1 || k > d) throw invalidInput(`k is ${k}; it must be an integer in [1, ${d}]`);
  if (k === d) return Uint32Array.from({ length: d }, (_, i) => i);
  const mags = new Float64Array(d);
  for (let i = 0; i < d; i++) mags[i] = Math.abs(values[i]);
  const threshold = selectNth(mags, d - k); // the k-th largest magnitude
  let above = 0;
  for (let i = 0; i < d; i++) if (Math.abs(values[i]) > threshold) above++;
  let ties = k - above;
  const out = new Uint32Array(k);
  let n = 0;
  for (let i = 0; i < d; i++) {
    const m = Math.abs(values[i]);
    if (m > threshold || (m === threshold && ties-- > 0)) out[n++] = i;
  }
  return out;
}

/** The dense vector a sparse one stands for. */
export function densify(v: SparseVector): Float64Array {
  const out = new Float64Array(v.dimension);
  for (let i = 0; i < v.indices.length; i++) out[v.indices[i]] = v.values[i];
  return out;
}

/** Top_k(x) as a sparse vector of exactly k entries (selected zeros included, so k leaks nothing). */
export function topKSparsify(values: ArrayLike<number>, ratio: number): SparseVector {
  checkFinite(values, "input");
  const k = topKCount(values.length, ratio);
  const indices = topKIndices(values, k);
  return { dimension: values.length, indices, values: Float64Array.from(indices, (i) => values[i]) };
}

export interface ErrorFeedbackStep {
  /** input + residual (or the input itself when there was no residual). */
  accumulated: Float64Array;
  /** Top_k(accumulated). */
  output: SparseVector;
  /** accumulated - output: the error carried to the next round (zero on the selected support). */
  residual: Float64Array;
  k: number;
}

/**
 * One round of error-feedback compression, a pure function: accumulated = input + residual (one
 * addition per coordinate), output = Top_k(accumulated), residual' = accumulated - output.
 * `residual` undefined means the client has none yet (its first round), as in the reference.
 */
export function compressWithErrorFeedback(
  input: ArrayLike<number>,
  residual: ArrayLike<number> | undefined,
  ratio: number,
): ErrorFeedbackStep {
  const d = input.length;
  if (residual !== undefined && residual.length !== d)
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `the residual has ${residual.length} coordinates, the input ${d}`);
  checkFinite(input, "input");
  const accumulated = new Float64Array(d);
  if (residual === undefined) accumulated.set(input);
  else for (let i = 0; i < d; i++) accumulated[i] = input[i] + residual[i];
  const output = topKSparsify(accumulated, ratio);
  const next = Float64Array.from(accumulated);
  for (const i of output.indices) next[i] = 0; // accumulated - accumulated, coordinates being finite
  return { accumulated, output, residual: next, k: output.indices.length };
}

/**
 * The stateful side of error feedback: one residual per client id, like the reference's
 * GradientCompressor (one instance can serve many clients). Each call is compressWithErrorFeedback.
 */
export class TopKCompressor {
  readonly ratio: number;
  private readonly residuals = new Map<string, Float64Array>();

  /** @param ratio compression ratio in (0, 1]; the DSAIN default is 0.1. */
  constructor(ratio = 0.1) {
    topKCount(1, ratio); // validates the ratio
    this.ratio = ratio;
  }

  compress(clientId: string | number, input: ArrayLike<number>): ErrorFeedbackStep {
    const id = String(clientId);
    const step = compressWithErrorFeedback(input, this.residuals.get(id), this.ratio);
    this.residuals.set(id, step.residual);
    return step;
  }

  /** The residual the client's next round will add (a copy), or undefined before its first round. */
  residualOf(clientId: string | number): Float64Array | undefined {
    const r = this.residuals.get(String(clientId));
    return r === undefined ? undefined : Float64Array.from(r);
  }

  /** Forgets one client's residual, or every client's. */
  reset(clientId?: string | number): void {
    if (clientId === undefined) this.residuals.clear();
    else this.residuals.delete(String(clientId));
  }
}
