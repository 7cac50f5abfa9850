// Sign flipping and its boosted form: a Byzantine client sends -lambda times an update.
//
// The sign-flipping attack (a Byzantine worker sends the negation of its true update) is among the
// attacks of Z. Allen-Zhu, F. Ebrahimianghazani, J. Li, D. Alistarh, "Byzantine-Resilient Non-Convex
// Stochastic Gradient Descent", ICLR 2021. The boosted form -lambda * u with lambda > 1 is the one
// the DSAIN paper evaluates (Table 2: 20% of clients, lambda = 5), as its reference code does
// (`SignFlippingAttack(scale)` in code/byzantine_attacks.py of TerexSpace/dsain-framework: -scale * delta).
// ByzFL's `SignFlipping` is the omniscient variant, the negated mean of the honest updates:
// signFlip(mean(honest)).
import { type Vec, checkFinite, checkPositive } from "./common.js";

/** -lambda * update (lambda = 1: plain sign flip; lambda = 5: DSAIN's boosted sign flip). */
export function signFlip(update: Vec, lambda = 1): Float64Array {
  checkPositive("sign flip", "lambda", lambda);
  checkFinite(update, "sign flip", "the update");
  const out = new Float64Array(update.length);
  for (let j = 0; j < update.length; j++) out[j] = -lambda * update[j];
  return out;
}
