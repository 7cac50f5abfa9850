// The FedSov client step: local training, delta, clipping, Gaussian noise and top-k with error feedback.
//
// Paper: DSAIN Algorithm 1 (FedSov): local momentum SGD from the global model, Delta = w^E - w^t,
// then C(Delta) + PrivNoise(sigma_DP), sent to the server; Theorem 8 sets sigma_DP. Reference code:
// FedSov.train_round in code/dsain.py (1ef69cb): compressor.compress(delta) (top-k + error feedback),
// then dp.privatize (clip to C, noise on every coordinate).
//
// Three ways to combine noise with sparsification (`NoiseMode`), for an update of d coordinates,
// k = max(1, trunc(d * ratio)), values of `valueBytes` bytes and 4-byte indices:
//
//  "dense"  (the reference's order): top-k+EF -> clip -> N(0, sigma^2) on all d coordinates.
//     Privacy: one Gaussian mechanism on a vector of norm <= C, so the full per-round guarantee of
//     the calibration (the selection happens before the noise but only moves mass within the clipped
//     vector). Bytes: d * valueBytes, the same as FedAvg; the noise destroys the sparsity, so the
//     compression saves nothing on the wire.
//  "support" (sparsity-preserving): top-k+EF -> clip -> N(0, sigma^2) on the k transmitted values only.
//     Bytes: k * (4 + valueBytes). Privacy: the values are protected given the support, but the
//     support (which k coordinates) is a deterministic function of the client's data and residual and
//     is sent in the clear. Neighbouring datasets can yield different supports, whose outputs are then
//     told apart with certainty: as a mechanism on the data it has NO finite (epsilon, delta)
//     guarantee, and an accountant's epsilon for it is not a bound. (It becomes the Gaussian mechanism
//     again if the support is chosen independently of the data, e.g. random-k from a public seed.)
//  "noise-then-topk": clip -> N(0, sigma^2) on all d -> top-k+EF of the noisy vector.
//     Privacy: everything after the noise, the residual included, is post-processing of one Gaussian
//     mechanism, so the guarantee is the same as "dense". Bytes: k * (4 + valueBytes), as "support".
//     Cost: utility, since top-k now ranks noisy coordinates (with sigma ~ C and a clipped signal of
//     norm C spread over d coordinates, the noise dominates the ranking for large d).
//
// sigma = C sqrt(2 ln(1.25/delta)) / epsilon in all three (../../privacy/gaussian.ts says when that
// calibration is a proof). The per-round epsilon composes over rounds: see ../../privacy and docs/privacy.md.
import type { TensorSpec } from "../../protocol/checkpoint.js";
import { DsainError, ErrorCode } from "../../errors.js";
import type { Dataset } from "../learning/data.js";
import { type TrainOptions, trainLocal } from "../learning/model.js";
import type { Tf } from "../learning/tf.js";
import { type GaussianSource, addGaussianNoise, addGaussianNoiseOnSupport, clipToNorm, gaussianNoiseScale, l2Norm } from "./dp.js";
import { type SparseVector, TopKCompressor, checkFinite } from "./topk.js";

export type NoiseMode = "dense" | "support" | "noise-then-topk";
export const NOISE_MODES: readonly NoiseMode[] = Object.freeze(["dense", "support", "noise-then-topk"]);

export interface DpOptions {
  /** L2 clipping bound C; the DSAIN default is 1. */
  clipNorm: number;
  /** Per-round epsilon of the calibration; the DSAIN default is 4. */
  epsilon: number;
  /** Per-round delta of the calibration; the DSAIN default is 1e-5. */
  delta: number;
  /** Where the noise goes; see the module comment. */
  mode: NoiseMode;
  /** Standard normal draws; a seeded Prng for reproducible runs (not for deployment). */
  source: GaussianSource;
}

/** What the client sends: all d values, or k (index, value) pairs. */
export type WireUpdate =
  | { readonly encoding: "dense"; readonly dimension: number; readonly values: Float64Array }
  | ({ readonly encoding: "sparse" } & SparseVector);

/** Bytes on the wire: d * valueBytes dense, k * (4 + valueBytes) sparse (uint32 indices); no header counted. */
export function wireBytes(update: WireUpdate, valueBytes = 4): number {
  if (valueBytes !== 4 && valueBytes !== 8)
    throw new DsainError(ErrorCode.INPUT_INVALID, `valueBytes is ${valueBytes}; use 4 (float32) or 8 (float64)`);
  return update.encoding === "dense" ? update.dimension * valueBytes : update.indices.length * (4 + valueBytes);
}

export function wireToDense(update: WireUpdate): Float64Array {
  if (update.encoding === "dense") return Float64Array.from(update.values);
  const out = new Float64Array(update.dimension);
  for (let i = 0; i < update.indices.length; i++) out[update.indices[i]] = update.values[i];
  return out;
}

export interface FedsovEncodeOptions {
  /** Top-k ratio in (0, 1]; the DSAIN default is 0.1. */
  compressionRatio?: number;
  /** Clipping and noise; without it the update is only compressed (no privacy). */
  dp?: DpOptions;
  /** Bytes per transmitted value: 4 (float32, the model's precision; default) or 8. */
  valueBytes?: 4 | 8;
}

export interface FedsovUpdate {
  update: WireUpdate;
  /** wireBytes(update, valueBytes). */
  bytes: number;
  /** The same update sent densely by FedAvg: d * valueBytes. */
  denseBytes: number;
  k: number;
  /** ||Delta|| of the raw local update. */
  deltaNorm: number;
  /** The norm that was clipped (of the compressed update, or of Delta for noise-then-topk); undefined without dp. */
  clippedFrom?: number;
  /** Noise standard deviation used; undefined without dp. */
  sigma?: number;
}

function checkDp(dp: DpOptions): number {
  if (!NOISE_MODES.includes(dp.mode))
    throw new DsainError(ErrorCode.INPUT_INVALID, `noise mode is ${String(dp.mode)}; choose one of ${NOISE_MODES.join(", ")}`);
  if (dp.source === undefined || typeof dp.source.nextGaussian !== "function")
    throw new DsainError(ErrorCode.INPUT_INVALID, "dp.source must provide nextGaussian() (for example a seeded Prng)");
  return gaussianNoiseScale(dp.clipNorm, dp.epsilon, dp.delta);
}

/**
 * Turns a local update Delta into what the client sends, advancing the client's error-feedback
 * residual in `compressor` and drawing noise from `options.dp.source`. Synchronous and free of
 * I/O; the compressor's ratio is used (options.compressionRatio, if given, must agree with it).
 */
export function fedsovEncode(
  delta: ArrayLike<number>,
  compressor: TopKCompressor,
  clientId: string | number,
  options: FedsovEncodeOptions = {},
): FedsovUpdate {
  const { dp, valueBytes = 4 } = options;
  if (options.compressionRatio !== undefined && options.compressionRatio !== compressor.ratio) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `compressionRatio ${options.compressionRatio} differs from the compressor's ${compressor.ratio}`,
    );
  }
  checkFinite(delta, "delta");
  const d = delta.length;
  const deltaNorm = l2Norm(delta);
  const denseBytes = d * valueBytes;
  const finish = (update: WireUpdate, k: number, extra: Partial<FedsovUpdate> = {}): FedsovUpdate => ({
    update,
    bytes: wireBytes(update, valueBytes),
    denseBytes,
    k,
    deltaNorm,
    ...extra,
  });

  if (dp === undefined) {
    const { output, k } = compressor.compress(clientId, delta);
    return finish({ encoding: "sparse", ...output }, k);
  }
  const sigma = checkDp(dp);
  if (dp.mode === "noise-then-topk") {
    const clipped = clipToNorm(delta, dp.clipNorm);
    const noisy = addGaussianNoise(clipped.values, sigma, dp.source);
    const { output, k } = compressor.compress(clientId, noisy);
    return finish({ encoding: "sparse", ...output }, k, { clippedFrom: clipped.norm, sigma });
  }
  const { output, k } = compressor.compress(clientId, delta);
  const clipped = clipToNorm(output.values, dp.clipNorm);
  if (dp.mode === "support") {
    const noisy = addGaussianNoiseOnSupport({ dimension: d, indices: output.indices, values: clipped.values }, sigma, dp.source);
    return finish({ encoding: "sparse", ...noisy }, k, { clippedFrom: clipped.norm, sigma });
  }
  const dense = new Float64Array(d);
  for (let i = 0; i < output.indices.length; i++) dense[output.indices[i]] = clipped.values[i];
  return finish({ encoding: "dense", dimension: d, values: addGaussianNoise(dense, sigma, dp.source) }, k, {
    clippedFrom: clipped.norm,
    sigma,
  });
}

export interface FedsovClientStepOptions extends FedsovEncodeOptions {
  /** Local SGD with momentum (trainLocal's options: epochs, batchSize, learningRate, momentum, seed). */
  train: TrainOptions;
  clientId: string | number;
  /** The client's error-feedback state; keep the same instance across rounds. */
  compressor: TopKCompressor;
}

export interface FedsovClientResult extends FedsovUpdate {
  /** The locally trained weights (never sent). */
  localWeights: Float32Array;
}

/**
 * One FedSov client round on a tfjs model: trainLocal from the global weights (minibatch SGD with
 * heavy-ball momentum, velocity starting at zero each round; the reference's linear client keeps
 * its momentum buffer across rounds instead, see ./local-linear.ts), Delta = local - global in
 * float64, then fedsovEncode.
 */
export async function fedsovClientStep(
  tf: Tf,
  spec: readonly TensorSpec[],
  globalWeights: Float32Array,
  data: Dataset,
  options: FedsovClientStepOptions,
): Promise<FedsovClientResult> {
  const { localWeights, delta } = await localDelta(tf, spec, globalWeights, data, options.train);
  return { ...fedsovEncode(delta, options.compressor, options.clientId, options), localWeights };
}

/**
 * A client's local step before any compression or noise: trainLocal from the global weights, then
 * Delta = local - global in float64. The simulation, the FedSov client step and the participant
 * role all train through it.
 */
export async function localDelta(
  tf: Tf,
  spec: readonly TensorSpec[],
  globalWeights: Float32Array,
  data: Dataset,
  train: TrainOptions,
): Promise<{ localWeights: Float32Array; delta: Float64Array }> {
  const localWeights = await trainLocal(tf, spec, globalWeights, data, train);
  const delta = new Float64Array(localWeights.length);
  for (let i = 0; i < delta.length; i++) delta[i] = localWeights[i] - globalWeights[i];
  return { localWeights, delta };
}
