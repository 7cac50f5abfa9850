// Gaussian attacks: an update replaced by Gaussian noise, or an honest update with large noise added.
//
// Replacement: C. Xie, O. Koyejo, I. Gupta, "Generalized Byzantine-tolerant SGD", arXiv:1802.10116,
// 2018 ("Gaussian attack": the Byzantine value is drawn from N(0, sigma^2 I)); ByzFL's `Gaussian(mu,
// sigma)` draws N(mu, sigma^2 I). Additive: the DSAIN reference code's `GaussianNoiseAttack`
// (code/byzantine_attacks.py of TerexSpace/dsain-framework) sends delta + sigma * N(0, I), with
// sigma = 10 by default.
import { DsainError, ErrorCode } from "../../errors.js";
import { type GaussianSource, type Vec, checkFinite, checkPositive } from "./common.js";

/** A fresh N(mu, sigma^2 I) vector of `dimension` coordinates. */
export function gaussianAttack(dimension: number, sigma: number, source: GaussianSource, mu = 0): Float64Array {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `Gaussian attack: dimension is ${dimension}; it must be a positive integer`);
  }
  checkPositive("Gaussian attack", "sigma", sigma, true);
  if (!Number.isFinite(mu)) throw new DsainError(ErrorCode.INPUT_INVALID, `Gaussian attack: mu is ${mu}; it must be finite`);
  const out = new Float64Array(dimension);
  for (let j = 0; j < dimension; j++) out[j] = mu + sigma * source.nextGaussian();
  return out;
}

/** update + N(0, sigma^2 I): the DSAIN reference code's Gaussian noise attack. */
export function additiveGaussianAttack(update: Vec, sigma: number, source: GaussianSource): Float64Array {
  checkPositive("additive Gaussian attack", "sigma", sigma, true);
  checkFinite(update, "additive Gaussian attack", "the update");
  const out = new Float64Array(update.length);
  for (let j = 0; j < update.length; j++) out[j] = update[j] + sigma * source.nextGaussian();
  return out;
}
