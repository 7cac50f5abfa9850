// Inner Product Manipulation (IPM): every Byzantine client sends -epsilon times the mean of the honest updates.
//
// C. Xie, O. Koyejo, I. Gupta, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner Product
// Manipulation", UAI 2019 (PMLR 115, 2020): the Byzantine value -epsilon * mean(honest) makes the
// inner product between the aggregate and the true gradient negative. A small epsilon (0.1 in the
// paper) hides inside the honest cloud and defeats median- and Krum-style rules; a large one
// (100) overwhelms the mean. ByzFL's `InnerProductManipulation(tau)` is the same with tau = epsilon.
import { type Vec, checkPositive, checkVectors, mean } from "./common.js";

export function ipm(honest: readonly Vec[], epsilon: number): Float64Array {
  checkPositive("IPM", "epsilon", epsilon);
  checkVectors(honest, "IPM");
  const mu = mean(honest);
  for (let j = 0; j < mu.length; j++) mu[j] *= -epsilon;
  return mu;
}
