// Exact pairwise squared Euclidean distances, the input of Krum, Multi-Krum, Bulyan, MDA and NNM.
// Each entry is sum_t (u_i[t] - u_j[t])^2 accumulated from the differences: the Gram-matrix
// shortcut ||u||^2 + ||v||^2 - 2<u,v> cancels catastrophically when updates are close to each
// other (../shared/TOOLCHAIN.md), which is exactly where these rules decide.
import { BLOCK, checkUpdates, type Vec } from "./common.js";

/**
 * The n x n matrix of squared distances, row-major (entry i * n + j), symmetric with a zero
 * diagonal. Blocked over columns so that the input is read from memory once; O(n^2 d) work.
 */
export function pairwiseSquaredDistances(updates: readonly Vec[]): Float64Array {
  const d = checkUpdates(updates, "pairwise distances");
  const n = updates.length;
  const out = new Float64Array(n * n);
  for (let c0 = 0; c0 < d; c0 += BLOCK) {
    const c1 = Math.min(d, c0 + BLOCK);
    for (let i = 0; i < n; i++) {
      const a = updates[i];
      let j = i + 1;
      // Four partners at a time: each load of a[t] serves four independent accumulators.
      for (; j + 3 < n; j += 4) {
        const b0 = updates[j];
        const b1 = updates[j + 1];
        const b2 = updates[j + 2];
        const b3 = updates[j + 3];
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = c0; t < c1; t++) {
          const x = a[t];
          const e0 = x - b0[t];
          const e1 = x - b1[t];
          const e2 = x - b2[t];
          const e3 = x - b3[t];
          s0 += e0 * e0;
          s1 += e1 * e1;
          s2 += e2 * e2;
          s3 += e3 * e3;
        }
        out[i * n + j] += s0;
        out[i * n + j + 1] += s1;
        out[i * n + j + 2] += s2;
        out[i * n + j + 3] += s3;
      }
      for (; j < n; j++) {
        const b = updates[j];
        let s0 = 0;
        let s1 = 0;
        let t = c0;
        for (; t + 1 < c1; t += 2) {
          const e0 = a[t] - b[t];
          const e1 = a[t + 1] - b[t + 1];
          s0 += e0 * e0;
          s1 += e1 * e1;
        }
        if (t < c1) {
          const e = a[t] - b[t];
          s0 += e * e;
        }
        out[i * n + j] += s0 + s1;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[j * n + i] = out[i * n + j];
  return out;
}
