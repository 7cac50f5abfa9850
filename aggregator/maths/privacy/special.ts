// Special functions the privacy analysis needs in log space: log erfc without underflow, signed log-sum-exp.
//
// erfc follows W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
// (1969) 631-638, with the coefficients of his SPECFUN routine CALERF (netlib.org/specfun/erf), which
// approximate erf, erfc and the scaled erfcx(x) = exp(x^2) erfc(x) to about 18 significant digits.
// Working through erfcx is what keeps log erfc(x) = -x^2 + log erfcx(x) finite for x in the
// hundreds, where erfc itself underflows; the RDP series needs exactly those arguments.

// Each literal is the binary64 value nearest Cody's 18-digit coefficient (written shortest, so
// that no digit is silently dropped).
// erf(x) = x A(x^2) / B(x^2) for |x| <= 0.46875.
const A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315] as const;
const B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171] as const;
// erfcx(x) = C(x) / D(x) for 0.46875 < x <= 4.
const C = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707, 2051.0783778260716,
  1230.3393547979972, 2.1531153547440383e-8,
] as const;
const D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247, 3439.3676741437216,
  1230.3393548037495,
] as const;
// erfcx(x) = (1/sqrt(pi) - z P(z) / Q(z)) / x with z = 1/x^2, for x > 4.
const P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378, 0.016315387137302097,
] as const;
const Q = [2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918] as const;

const INV_SQRT_PI = 0.5641895835477563;
const SMALL = 0.46875;

/** erf(x) for |x| <= 0.46875 (Cody's first interval). */
function erfSmall(x: number): number {
  const z = x * x;
  let num = A[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + A[i]) * z;
    den = (den + B[i]) * z;
  }
  return (x * (num + A[3])) / (den + B[3]);
}

/** exp(y^2) erfc(y) for y > 0.46875 (Cody's second and third intervals). */
function erfcxLarge(y: number): number {
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    return (num + C[7]) / (den + D[7]);
  }
  const z = 1 / (y * y);
  let num = P[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]) * z;
    den = (den + Q[i]) * z;
  }
  return (INV_SQRT_PI - (z * (num + P[4])) / (den + Q[4])) / y;
}

/** The complementary error function; underflows to 0 beyond x ~ 26.5 (use logErfc there). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= SMALL) return 1 - erfSmall(x);
  const upper = y > 27 ? 0 : Math.exp(-y * y) * erfcxLarge(y);
  return x < 0 ? 2 - upper : upper;
}

/** log(erfc(x)), accurate to a few ulps for every finite x (no underflow for large x). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  const y = Math.abs(x);
  if (y <= SMALL) return Math.log1p(-erfSmall(x));
  if (x > 0) return -x * x + Math.log(erfcxLarge(x));
  // erfc(x) = 2 - erfc(|x|) lies in (1, 2]: no cancellation to fear.
  return Math.log(2 - (y > 27 ? 0 : Math.exp(-y * y) * erfcxLarge(y)));
}

/** log(e^a + e^b), exact for -Infinity operands (log 0). */
export function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a - e^b) for a >= b; -Infinity when they are equal. */
export function logSubExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) throw new RangeError(`logSubExp(${a}, ${b}): the difference would be negative`);
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}
