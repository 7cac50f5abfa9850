// The Gaussian mechanism's classical calibration (the one DSAIN uses) and its exact privacy profile.
import { DsainError, ErrorCode } from "../../errors.js";
import { checkDelta } from "./rdp.js";
import { logErfc } from "./special.js";

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

function checkPositive(value: number, what: string): void {
  if (typeof value !== "number" || !(value > 0) || value === Infinity)
    throw invalidInput(`${what} is ${value}; it must be a positive finite number`);
}

/**
 * sigma = C sqrt(2 ln(1.25 / delta)) / epsilon: the noise standard deviation of DSAIN's
 * DifferentialPrivacy class (code/dsain.py L82-108 at 1ef69cb; the paper's Theorem 8), evaluated in
 * the reference's operation order. This is the classical calibration of C. Dwork and A. Roth, "The
 * Algorithmic Foundations of Differential Privacy" (2014), Theorem A.1, which proves
 * (epsilon, delta)-DP for L2 sensitivity C only when epsilon < 1; for larger epsilon (DSAIN's default
 * is 4) use `gaussianMechanismDelta` to see what the calibrated sigma actually gives.
 */
export function gaussianNoiseScale(clipNorm: number, epsilon: number, delta: number): number {
  checkPositive(clipNorm, "clip norm C");
  checkPositive(epsilon, "epsilon");
  checkDelta(delta);
  return (clipNorm * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/** log Phi(x) for the standard normal distribution function, without underflow. */
function logNormalCdf(x: number): number {
  return Math.log(0.5) + logErfc(-x / Math.SQRT2);
}

/**
 * The smallest delta for which one Gaussian mechanism with noise multiplier z (standard deviation
 * over L2 sensitivity) is (epsilon, delta)-DP: Phi(1/(2z) - epsilon z) - e^epsilon Phi(-1/(2z) - epsilon z)
 * (B. Balle and Y.-X. Wang, "Improving the Gaussian mechanism for differential privacy", ICML 2018, Theorem 8).
 */
export function gaussianMechanismDelta(epsilon: number, noiseMultiplier: number): number {
  if (typeof epsilon !== "number" || !(epsilon >= 0) || epsilon === Infinity)
    throw invalidInput(`epsilon is ${epsilon}; it must be a finite number >= 0`);
  checkPositive(noiseMultiplier, "noise multiplier");
  const z = noiseMultiplier;
  const a = logNormalCdf(1 / (2 * z) - epsilon * z);
  const b = epsilon + logNormalCdf(-1 / (2 * z) - epsilon * z);
  // a >= b always; their difference is delta. -expm1(b - a) keeps its relative accuracy when small.
  return Math.max(0, Math.exp(a) * -Math.expm1(b - a));
}
