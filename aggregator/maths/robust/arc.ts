// ARC (adaptive robust clipping), a pre-aggregator: the floor(2f(n - f)/n) largest updates (by
// norm) are clipped to the norm of the largest update left unclipped.
//
// Y. Allouah, R. Guerraoui, N. Gupta, A. Jellouli, G. Rizk, J. Stephan. The Vital Role of Gradient
// Clipping in Byzantine-Resilient Distributed Learning. arXiv:2405.14432, 2024.
// Reference matched case by case: ByzFL `ARC(f)` (refuses f >= n + 1). Norm ties are ordered by
// position (Python's stable sort).
import { DsainError, ErrorCode } from "../../errors.js";
import { checkF, checkUpdates, norm, toFloat64, type Vec } from "./common.js";
import { clipToNorm } from "./clipping.js";

export function arc(updates: readonly Vec[], f: number): Float64Array[] {
  checkUpdates(updates, "ARC");
  checkF("ARC", f);
  const n = updates.length;
  if (f >= n + 1) {
    throw new DsainError(ErrorCode.TOO_FEW_UPDATES, `ARC cannot tolerate f=${f} Byzantine updates among n=${n}: it needs f <= n`);
  }
  const norms = updates.map((u) => norm(u));
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[i] - norms[j] || i - j);
  // Evaluated as ByzFL writes it, int(2 * f / n * (n - f)): left to right in binary64, truncated.
  const clipped = Math.trunc(((2 * f) / n) * (n - f));
  const cutOff = n - clipped;
  const threshold = norms[order[cutOff - 1]];
  const out = updates.map((u) => toFloat64(u));
  for (const i of order.slice(cutOff)) out[i] = clipToNorm(updates[i], threshold);
  return out;
}
