// Rényi differential privacy of the sampled Gaussian mechanism, and its conversion to (epsilon, delta).
//
// The mechanism: each record joins a step independently with probability q (Poisson sampling), the
// clipped sum (L2 sensitivity 1) gets N(0, sigma^2 I) noise, sigma being the noise multiplier.
// Its RDP at order alpha > 1 is eps(alpha) = log(A_alpha) / (alpha - 1) with
//   A_alpha = E_{z ~ mu0} [ ((1 - q) + q mu1(z) / mu0(z))^alpha ],  mu0 = N(0, sigma^2), mu1 = N(1, sigma^2),
// evaluated as in I. Mironov, K. Talwar, L. Zhang, "Rényi differential privacy of the sampled Gaussian
// mechanism" (arXiv:1908.10530, 2019), Section 3.3:
//   integer alpha:    A = sum_{i=0}^{alpha} C(alpha,i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2));
//   fractional alpha: A = A0 + A1, with z0 = sigma^2 log(1/q - 1) + 1/2 splitting the integral, and
//     A0 = sum_{i>=0} C(alpha,i) q^i (1-q)^(alpha-i) exp((i^2-i)/(2 sigma^2)) erfc((i - z0)/(sqrt2 sigma)) / 2,
//     A1 = sum_{i>=0} C(alpha,i) q^(alpha-i) (1-q)^i exp(((alpha-i)^2-(alpha-i))/(2 sigma^2)) erfc((z0-(alpha-i))/(sqrt2 sigma)) / 2,
//   where C(alpha, i) is the generalised binomial coefficient (negative for some i > alpha).
// q = 1 is the plain Gaussian mechanism, eps(alpha) = alpha / (2 sigma^2) (Mironov 2017, Prop. 7).
// RDP composes by addition over steps.
//
// Conversion (B. Balle, G. Barthe, M. Gaboardi, J. Hsu, T. Sato, "Hypothesis testing interpretations
// and Rényi differential privacy", AISTATS 2020, Theorem 21): an (alpha, rho)-RDP mechanism is
// (epsilon, delta)-DP for
//   epsilon = rho + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1),
// minimised over the orders evaluated.
//
// Opacus (pytorch/opacus, opacus/accountants/analysis/rdp.py, itself from TF Privacy) computes the
// same quantities; this module is written from the formulas above and uses Opacus's default orders
// and its series truncation (stop at the first i where both halves' terms fall below e^-30), so that
// the results agree: test/fixtures/privacy/opacus-rdp-reference.json holds Opacus's outputs and
// test/unit/privacy.test.ts compares them (docs/privacy.md gives the measured differences).
import { DsainError, ErrorCode } from "../../errors.js";
import { logAddExp, logErfc, logSubExp } from "./special.js";

/**
 * The orders Opacus's RDPAccountant uses by default: 1.1, 1.2, ..., 10.9 and then 12, 13, ..., 63
 * (151 orders; 11 is not among them). Computed as 1 + x/10 in binary64, like Opacus's list.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
]);

/** Log-space terms smaller than e^-30 end the fractional-order series (both halves at once). */
const LOG_TERM_CUTOFF = -30;

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

export function checkSampleRate(q: number, what = "sample rate q"): void {
  if (typeof q !== "number" || !(q >= 0 && q <= 1)) throw invalidInput(`${what} is ${q}; it must lie in [0, 1]`);
}

export function checkNoiseMultiplier(sigma: number, what = "noise multiplier sigma"): void {
  if (typeof sigma !== "number" || !(sigma >= 0) || sigma === Infinity)
    throw invalidInput(`${what} is ${sigma}; it must be a finite number >= 0`);
}

export function checkOrders(orders: readonly number[]): void {
  if (!Array.isArray(orders) || orders.length === 0) throw invalidInput("orders must be a non-empty list of RDP orders");
  orders.forEach((a, i) => {
    if (typeof a !== "number" || !(a > 1) || a === Infinity)
      throw invalidInput(`order ${i} is ${a}; RDP orders must be finite numbers > 1`);
  });
}

export function checkDelta(delta: number, what = "delta"): void {
  if (typeof delta !== "number" || !(delta > 0 && delta < 1))
    throw invalidInput(`${what} is ${delta}; it must lie strictly between 0 and 1`);
}

/** log A_alpha for an integer order >= 2 and 0 < q < 1: a finite sum of positive terms. */
function logAIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logBinom = 0; // log C(alpha, 0)
  let acc = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i);
    acc = logAddExp(acc, logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoVar);
  }
  return acc;
}

/** log A_alpha for a fractional order and 0 < q < 1: the split series of Mironov et al. */
function logAFractionalOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const scale = Math.SQRT2 * sigma;
  // Positive and negative terms are accumulated apart and subtracted once at the end; the
  // negative ones (i > alpha + 1, alternating) are a small tail, so no cancellation is lost.
  let pos = -Infinity;
  let neg = -Infinity;
  let logAbsBinom = 0; // log |C(alpha, i)|
  let sign = 1; // sign of C(alpha, i)
  for (let i = 0; ; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      if (factor < 0) sign = -sign;
      logAbsBinom += Math.log(Math.abs(factor));
    }
    const j = alpha - i;
    const s0 = logAbsBinom + i * logQ + j * log1mQ + (i * i - i) / twoVar + Math.log(0.5) + logErfc((i - z0) / scale);
    const s1 = logAbsBinom + j * logQ + i * log1mQ + (j * j - j) / twoVar + Math.log(0.5) + logErfc((z0 - j) / scale);
    if (sign > 0) pos = logAddExp(pos, logAddExp(s0, s1));
    else neg = logAddExp(neg, logAddExp(s0, s1));
    if (Math.max(s0, s1) < LOG_TERM_CUTOFF) break;
  }
  return logSubExp(pos, neg);
}

/**
 * RDP of one step of the sampled Gaussian mechanism at `order` (> 1): sample rate q in [0, 1],
 * noise multiplier sigma >= 0 (noise standard deviation over L2 sensitivity). Infinity when sigma is 0.
 */
export function rdpSampledGaussian(q: number, sigma: number, order: number): number {
  checkSampleRate(q);
  checkNoiseMultiplier(sigma);
  checkOrders([order]);
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return order / (2 * sigma * sigma);
  const logA = Number.isInteger(order) ? logAIntegerOrder(q, sigma, order) : logAFractionalOrder(q, sigma, order);
  return logA / (order - 1);
}

export interface RdpParameters {
  /** Sampling probability of a record per step, in [0, 1]. */
  q: number;
  /** Noise standard deviation divided by the L2 sensitivity (Opacus's noise_multiplier). */
  sigma: number;
  /** Number of steps composed; a non-negative integer. */
  steps: number;
  /** RDP orders; default DEFAULT_RDP_ORDERS. */
  orders?: readonly number[];
}

/** RDP after `steps` compositions of the sampled Gaussian mechanism, one value per order. */
export function computeRdp({ q, sigma, steps, orders = DEFAULT_RDP_ORDERS }: RdpParameters): Float64Array {
  if (!Number.isSafeInteger(steps) || steps < 0) throw invalidInput(`steps is ${steps}; it must be a non-negative integer`);
  checkOrders(orders);
  return Float64Array.from(orders, (a) => rdpSampledGaussian(q, sigma, a) * steps);
}

export interface PrivacySpent {
  /** The smallest epsilon over the orders; Infinity if no order gives a finite one. */
  epsilon: number;
  /** The order that achieved it (NaN when epsilon is Infinity for lack of any finite value). */
  order: number;
  /** True when the best order is the first or last one given: a wider range might do better. */
  atBoundary: boolean;
}

/**
 * (epsilon, delta)-DP from RDP values by Balle et al. 2020, Theorem 21, minimised over the orders.
 * Orders whose conversion is NaN are skipped (as Opacus's nanargmin does); ties keep the first order.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: ArrayLike<number>, delta: number): PrivacySpent {
  checkOrders(orders);
  checkDelta(delta);
  if (rdp.length !== orders.length)
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `${rdp.length} RDP values were given for ${orders.length} orders`);
  const logDelta = Math.log(delta);
  let best = NaN;
  let bestIndex = -1;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i];
    const eps = rdp[i] - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    if (Number.isNaN(eps)) continue;
    if (bestIndex < 0 || eps < best) {
      best = eps;
      bestIndex = i;
    }
  }
  if (bestIndex < 0) return { epsilon: Infinity, order: NaN, atBoundary: false };
  return { epsilon: best, order: orders[bestIndex], atBoundary: bestIndex === 0 || bestIndex === orders.length - 1 };
}

/** epsilon (and the order achieving it) of `steps` sampled Gaussian steps at the given delta. */
export function epsilonSampledGaussian(params: RdpParameters & { delta: number }): PrivacySpent {
  const orders = params.orders ?? DEFAULT_RDP_ORDERS;
  return epsilonFromRdp(orders, computeRdp({ ...params, orders }), params.delta);
}
