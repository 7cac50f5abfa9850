// Comparison rules of the reference vectors (../shared/vectors/README.md): floats within
// |a - b| <= 1e-12 + 1e-9 |b| (the references sum with BLAS, so bits may differ), indices, kept
// sets and flags exactly. Each check returns null when it holds, else what differed.

export const ABS_TOL = 1e-12;
export const REL_TOL = 1e-9;

export function close(actual: number, expected: number): boolean {
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= ABS_TOL + REL_TOL * Math.abs(expected);
}

type Nested = number | ArrayLike<number> | readonly ArrayLike<number>[];

function shape(x: unknown): string {
  if (Array.isArray(x)) return `[${x.length}${x.length > 0 && Array.isArray(x[0]) ? `x${(x[0] as unknown[]).length}` : ""}]`;
  if (ArrayBuffer.isView(x)) return `[${(x as unknown as ArrayLike<number>).length}]`;
  return typeof x;
}

/** Floats, arrays of floats or matrices (arrays of rows) compared within the tolerance. */
export function compareFloats(name: string, actual: Nested, expected: unknown): string | null {
  if (typeof expected === "number") {
    if (typeof actual !== "number") return `${name}: expected a number, got ${shape(actual)}`;
    return close(actual, expected) ? null : `${name}: expected ${expected}, got ${actual} (|diff| ${Math.abs(actual - expected)})`;
  }
  if (!Array.isArray(expected) || typeof actual === "number" || actual.length !== expected.length) {
    return `${name}: expected shape ${shape(expected)}, got ${shape(actual)}`;
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as unknown;
    const a = (actual as ArrayLike<unknown>)[i];
    if (Array.isArray(e)) {
      const inner = compareFloats(`${name}[${i}]`, a as ArrayLike<number>, e);
      if (inner) return inner;
      continue;
    }
    if (typeof e !== "number" || typeof a !== "number") return `${name}[${i}]: expected ${String(e)}, got ${String(a)}`;
    if (!close(a, e)) {
      const excess = Math.abs(a - e) / (ABS_TOL + REL_TOL * Math.abs(e));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (worst < 0) return null;
  const a = (actual as ArrayLike<number>)[worst];
  const e = expected[worst] as number;
  return `${name}[${worst}]: expected ${e}, got ${a} (|diff| ${Math.abs(a - e)}, ${worstExcess.toPrecision(3)}x the tolerance)`;
}

/** Exact equality of integers, booleans, strings or arrays of them. */
export function compareExact(name: string, actual: unknown, expected: unknown): string | null {
  const a = ArrayBuffer.isView(actual) ? Array.from(actual as unknown as ArrayLike<number>) : actual;
  return JSON.stringify(a) === JSON.stringify(expected) ? null : `${name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(a)}`;
}

/** The first failing check of a list, or null. */
export function firstFailure(...checks: (() => string | null)[]): string | null {
  for (const check of checks) {
    const r = check();
    if (r) return r;
  }
  return null;
}
