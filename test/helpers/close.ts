// Float closeness for tests. Hardhat's chai-matchers plugin, once any test has loaded it, replaces
// chai's closeTo with a BigInt version that refuses non-integers, so float checks use this instead.
import { AssertionError } from "chai";

export function expectClose(actual: number, expected: number, tolerance: number, what = ""): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new AssertionError(`${what ? `${what}: ` : ""}expected ${actual} to be within ${tolerance} of ${expected}`);
  }
}
