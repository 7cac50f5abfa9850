// Order statistics for the coordinate-wise rules: in-place selection on a Float64Array segment
// and a column-blocked transpose, so a median over K updates never sorts a whole column.
import { BLOCK, type Vec } from "./common.js";

function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/**
 * Rearranges a[lo, hi) so that a[k] holds the value of rank k - lo, everything before it is <= and
 * everything after it is >= (Hoare's FIND with a three-way partition: runs of equal values, as in
 * sparse updates, cost nothing extra, and a NaN can neither loop nor escape the segment).
 */
export function selectInPlace(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > 16) {
    // Median of three as the pivot.
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    const z = a[hi - 1];
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    if (y > z) {
      y = z;
      if (x > y) y = x;
    }
    const p = y;
    let lt = lo;
    let gt = hi - 1;
    let i = lo;
    while (i <= gt) {
      const v = a[i];
      if (v < p) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > p) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else i++;
    }
    // a[lo, lt) < p, a[lt, gt] == p (or unordered NaN), a(gt, hi) > p.
    if (k < lt) hi = lt;
    else if (k > gt) lo = gt + 1;
    else return;
  }
  insertionSort(a, lo, hi);
}

/**
 * Median of a[lo, hi) (rearranges it): the middle value, or the mean of the middle pair as np.median.
 * A zero median is +0: -0 and +0 compare equal, so which of them the selection picks depends on the
 * input order, and `+ 0` (which changes no other value) makes the result independent of it.
 */
export function medianInPlace(a: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  const upper = lo + (n >> 1);
  selectInPlace(a, lo, hi, upper);
  if (n % 2 === 1) return a[upper] + 0;
  let below = a[lo];
  for (let i = lo + 1; i < upper; i++) if (a[i] > below) below = a[i];
  return (below + a[upper]) / 2 + 0;
}

/**
 * Calls `visit(buf, c0, c1)` for consecutive column blocks, with buf[(j - c0) * m + r] holding
 * coordinate j of row rows[r] (m = rows.length): a transpose of one block at a time.
 */
export function forEachColumnBlock(
  updates: readonly Vec[],
  rows: readonly number[],
  visit: (buf: Float64Array, c0: number, c1: number) => void,
): void {
  const d = updates[0].length;
  const m = rows.length;
  const buf = new Float64Array(BLOCK * m);
  for (let c0 = 0; c0 < d; c0 += BLOCK) {
    const c1 = Math.min(d, c0 + BLOCK);
    for (let r = 0; r < m; r++) {
      const u = updates[rows[r]];
      for (let j = c0, o = r; j < c1; j++, o += m) buf[o] = u[j];
    }
    visit(buf, c0, c1);
  }
}

export function allRows(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
