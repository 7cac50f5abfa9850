// The DSAIN paper's own composition bound (its Theorem 8), kept for comparison with the RDP accountant.
//
// Source: the manuscript latex/main.tex of TerexSpace/dsain-framework at commit 5f9f2d0 (the last
// commit that tracks it; later commits remove latex/), Section "Differential Privacy Mechanism",
// Theorem "Privacy Guarantee" (\label{thm:privacy}). It is Theorem 8 in the typeset paper, since
// assumptions, lemmas and theorems share one counter (jmlr2e.sty): Assumptions 1-5, Lemma 6,
// Theorems 7 (Byzantine resilience) and 8. It reads:
//
//   With clipping bound C and sigma_DP = C sqrt(2 ln(1.25/delta)) / epsilon each round is
//   (epsilon, delta)-DP. After T rounds with subsampling probability q = K/n the composition
//   satisfies (epsilon', delta')-DP with
//       epsilon' = sqrt(2 T ln(1/delta')) * q epsilon + T q epsilon (e^epsilon - 1)   for delta' > 0.
//
// That is the advanced composition theorem (Dwork, Rothblum, Vadhan 2010; Dwork and Roth 2014,
// Theorem 3.20) with q*epsilon as the per-round loss, and it is implemented here exactly as written.
// Three remarks (docs/privacy.md shows the numbers):
//  - advanced composition yields (epsilon', T*delta_round + delta'), so the total delta is
//    delta' + T q delta (amplified per-round delta q*delta), not delta' alone; `theorem8` reports it;
//  - amplification by Poisson subsampling gives ln(1 + q (e^epsilon - 1)) per round, which is at least
//    q*epsilon (concavity), so q*epsilon understates the amplified loss and the formula is not a
//    proven bound as stated; `advancedCompositionSubsampled` is the version with the proven amplification;
//  - the second term uses e^epsilon where the theorem it instantiates has e^(per-round loss).
import { DsainError, ErrorCode } from "../../errors.js";
import { checkDelta, checkSampleRate } from "./rdp.js";

export interface Theorem8Parameters {
  /** Per-round epsilon of the Gaussian mechanism (the epsilon sigma_DP is calibrated for). */
  epsilon: number;
  /** Per-round delta (only enters the total delta). */
  delta: number;
  /** Subsampling probability q = K/n, in (0, 1]. */
  q: number;
  /** Number of rounds T, a positive integer. */
  rounds: number;
  /** The delta' of the composition, in (0, 1). */
  deltaPrime: number;
}

export interface CompositionBound {
  epsilon: number;
  /** delta' + T * (amplified per-round delta): what advanced composition actually guarantees. */
  totalDelta: number;
}

function check(p: Theorem8Parameters): void {
  if (typeof p.epsilon !== "number" || !(p.epsilon > 0) || p.epsilon === Infinity)
    throw new DsainError(ErrorCode.INPUT_INVALID, `epsilon is ${p.epsilon}; it must be a positive finite number`);
  checkDelta(p.delta);
  checkSampleRate(p.q);
  if (p.q === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "sample rate q is 0; it must lie in (0, 1]");
  if (!Number.isSafeInteger(p.rounds) || p.rounds < 1)
    throw new DsainError(ErrorCode.INPUT_INVALID, `rounds is ${p.rounds}; it must be a positive integer`);
  checkDelta(p.deltaPrime, "delta'");
}

/** The paper's Theorem 8, verbatim: epsilon' = sqrt(2T ln(1/delta')) q eps + T q eps (e^eps - 1). */
export function theorem8(p: Theorem8Parameters): CompositionBound {
  check(p);
  const { epsilon: e, q, rounds: t, deltaPrime } = p;
  return {
    epsilon: Math.sqrt(2 * t * Math.log(1 / deltaPrime)) * q * e + t * q * e * Math.expm1(e),
    totalDelta: deltaPrime + t * q * p.delta,
  };
}

/**
 * Advanced composition over T rounds of a per-round (eps0, q*delta) mechanism, with eps0 =
 * ln(1 + q (e^epsilon - 1)) the proven amplification by Poisson subsampling (Balle, Barthe, Gaboardi,
 * NeurIPS 2018): epsilon' = sqrt(2T ln(1/delta')) eps0 + T eps0 (e^eps0 - 1).
 */
export function advancedCompositionSubsampled(p: Theorem8Parameters): CompositionBound {
  check(p);
  const { q, rounds: t, deltaPrime } = p;
  const e0 = Math.log1p(q * Math.expm1(p.epsilon));
  return {
    epsilon: Math.sqrt(2 * t * Math.log(1 / deltaPrime)) * e0 + t * e0 * Math.expm1(e0),
    totalDelta: deltaPrime + t * q * p.delta,
  };
}
