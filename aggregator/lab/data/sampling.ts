// Gamma and Dirichlet draws from the project's seeded Prng, for non-IID partitions and simulations.
//
// G. Marsaglia and W. W. Tsang, "A Simple Method for Generating Gamma Variables", ACM Transactions
// on Mathematical Software 26(3), 2000: for shape a >= 1, with d = a - 1/3 and c = 1/sqrt(9d), draw
// x ~ N(0, 1) and u ~ U(0, 1) until v = (1 + c x)^3 > 0 and
// ln u < x^2/2 + d - d v + d ln v (after the cheap squeeze u < 1 - 0.0331 x^4); return d v.
// For a < 1 the same paper's boost: Gamma(a) = Gamma(a + 1) * u^(1/a).
import { DsainError, ErrorCode } from "../../errors.js";
import type { Prng } from "../../maths/learning/data.js";

function checkShape(shape: number, what = "gamma shape"): void {
  if (!Number.isFinite(shape) || shape <= 0) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${what} is ${shape}; it must be a positive finite number`);
  }
}

/** u in (0, 1]: log u is finite. */
function openUniform(rng: Prng): number {
  return 1 - rng.nextFloat();
}

/** ln of a Gamma(shape, 1) draw for shape >= 1 (Marsaglia-Tsang). */
function logGammaAtLeastOne(rng: Prng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.nextGaussian();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = openUniform(rng);
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return Math.log(d) + Math.log(v);
  }
}

/**
 * ln of a Gamma(shape, 1) draw. Working in logs keeps tiny shapes (Dirichlet alpha = 0.01 and
 * below), whose draws underflow float64, usable after normalisation.
 */
export function sampleLogGamma(rng: Prng, shape: number): number {
  checkShape(shape);
  if (shape >= 1) return logGammaAtLeastOne(rng, shape);
  return logGammaAtLeastOne(rng, shape + 1) + Math.log(openUniform(rng)) / shape;
}

/** A Gamma(shape, 1) draw (mean shape, variance shape); may underflow to 0 for shapes far below 1. */
export function sampleGamma(rng: Prng, shape: number): number {
  return Math.exp(sampleLogGamma(rng, shape));
}

/**
 * A Dirichlet(alphas) draw: independent Gamma(alpha_i) draws divided by their sum, the
 * normalisation done in logs (softmax) so that no component is lost to underflow as a whole.
 */
export function sampleDirichlet(rng: Prng, alphas: readonly number[]): Float64Array {
  if (alphas.length === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "a Dirichlet draw needs at least one concentration");
  alphas.forEach((a, i) => checkShape(a, `Dirichlet alpha[${i}]`));
  const logs = alphas.map((a) => sampleLogGamma(rng, a));
  const max = Math.max(...logs);
  const out = Float64Array.from(logs, (l) => Math.exp(l - max));
  const sum = out.reduce((s, v) => s + v, 0);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
