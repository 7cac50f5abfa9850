// Static clipping, a pre-aggregator: every update whose norm exceeds c is scaled down to norm c.
//
// Y. Allouah, R. Guerraoui, N. Gupta, A. Jellouli, G. Rizk, J. Stephan. The Vital Role of Gradient
// Clipping in Byzantine-Resilient Distributed Learning. arXiv:2405.14432, 2024.
// Reference matched case by case: ByzFL `Clipping(c=2.0)`.
import { checkNonNegative, checkUpdates, norm, toFloat64, type Vec } from "./common.js";

/** u scaled by c / ||u|| when ||u|| > c, a float64 copy of u otherwise. */
export function clipToNorm(u: Vec, c: number): Float64Array {
  const out = toFloat64(u);
  const size = norm(u);
  if (size > c) {
    const s = c / size;
    for (let j = 0; j < out.length; j++) out[j] *= s;
  }
  return out;
}

export const CLIPPING_DEFAULT_C = 2.0;

export function staticClipping(updates: readonly Vec[], c = CLIPPING_DEFAULT_C): Float64Array[] {
  checkUpdates(updates, "clipping");
  checkNonNegative("clipping", "c", c);
  return updates.map((u) => clipToNorm(u, c));
}
