// Clipping and Gaussian noise, the privacy step of FedSov (DSAIN, Section "Differential Privacy Mechanism").
//
// Paper: the DSAIN manuscript's Theorem 8 (latex/main.tex of TerexSpace/dsain-framework) adds
// N(0, sigma_DP^2 I) to the compressed update, sigma_DP = C sqrt(2 ln(1.25/delta)) / epsilon.
// Reference code: DifferentialPrivacy in code/dsain.py (L82-108 at 1ef69cb): clip_gradient scales by
// C/||g|| iff ||g|| > C; add_noise draws np.random.normal(0, sigma) for EVERY coordinate.
// Checked against ../shared/vectors/dsain/fedsov-dp-vectors.json (test/unit/fedsov.test.ts).
//
// The noise here comes from a caller-supplied GaussianSource; `Prng` (../data.ts) is one, seeded
// and reproducible, which is what simulations and tests need. It is not a source for deployed
// privacy: Mulberry32 is predictable from its output, and Box-Muller on a 2^-32 grid truncates the
// tails at about 6.7 sigma and lives on a lattice (the floating-point weakness of Mironov, CCS 2012).
// A deployment should pass a source backed by a cryptographic generator.
import { DsainError, ErrorCode } from "../../errors.js";
import { gaussianNoiseScale } from "../privacy/gaussian.js";
import { type SparseVector, checkFinite } from "./topk.js";

export { gaussianNoiseScale };

/** Anything that yields independent standard normal draws (Prng does). */
export interface GaussianSource {
  nextGaussian(): number;
}

/** Euclidean norm, summed in index order. */
export function l2Norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}

export interface Clipped {
  values: Float64Array;
  /** The norm before clipping. */
  norm: number;
  /** Whether the vector was scaled (norm > C). */
  scaled: boolean;
}

/**
 * Clipping to L2 norm C as the reference does it: g * (C / ||g||) when ||g|| > C, g unchanged
 * otherwise (including the zero vector). Works on the values of a sparse vector too, since the
 * absent coordinates are zeros.
 */
export function clipToNorm(values: ArrayLike<number>, clipNorm: number): Clipped {
  if (typeof clipNorm !== "number" || !(clipNorm > 0) || clipNorm === Infinity)
    throw new DsainError(ErrorCode.INPUT_INVALID, `clip norm C is ${clipNorm}; it must be a positive finite number`);
  checkFinite(values, "update");
  const norm = l2Norm(values);
  const out = Float64Array.from(values);
  if (!(norm > clipNorm)) return { values: out, norm, scaled: false };
  const factor = clipNorm / norm;
  for (let i = 0; i < out.length; i++) out[i] *= factor;
  return { values: out, norm, scaled: true };
}

function checkSigma(sigma: number): void {
  if (typeof sigma !== "number" || !(sigma >= 0) || sigma === Infinity)
    throw new DsainError(ErrorCode.INPUT_INVALID, `noise standard deviation is ${sigma}; it must be a finite number >= 0`);
}

/**
 * The reference's noise: values + N(0, sigma^2) on every coordinate (d draws, in index order). The
 * result is dense whatever the input's sparsity.
 */
export function addGaussianNoise(values: ArrayLike<number>, sigma: number, source: GaussianSource): Float64Array {
  checkSigma(sigma);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) out[i] += sigma * source.nextGaussian();
  return out;
}

/**
 * Noise on the transmitted support only: k draws, one per stored entry (in index order), so the
 * vector stays k-sparse. Only the values are protected; which coordinates are present is released
 * as is (see fedsovEncode and docs/privacy.md for what that costs).
 */
export function addGaussianNoiseOnSupport(v: SparseVector, sigma: number, source: GaussianSource): SparseVector {
  return { dimension: v.dimension, indices: Uint32Array.from(v.indices), values: addGaussianNoise(v.values, sigma, source) };
}
