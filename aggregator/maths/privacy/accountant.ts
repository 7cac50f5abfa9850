// An RDP accountant: a history of sampled Gaussian steps, composed by adding RDP curves.
// Same bookkeeping as Opacus's RDPAccountant (consecutive steps with equal (q, sigma) merge into one
// entry; the curve of an entry is its single-step RDP times its step count), see ./rdp.ts for the maths.
import { DsainError, ErrorCode } from "../../errors.js";
import {
  DEFAULT_RDP_ORDERS,
  type PrivacySpent,
  checkNoiseMultiplier,
  checkOrders,
  checkSampleRate,
  epsilonFromRdp,
  rdpSampledGaussian,
} from "./rdp.js";

/** `steps` consecutive applications of the sampled Gaussian mechanism with rate q and noise multiplier sigma. */
export interface MechanismSteps {
  q: number;
  sigma: number;
  steps: number;
}

// Single-step curves are pure functions of (orders, q, sigma) and cost about a millisecond each;
// ledgers charge the same few settings over and over, so they are remembered (bounded).
const curveCache = new Map<string, Float64Array>();
const CURVE_CACHE_LIMIT = 4096;

/** The single-step RDP at each order (cached; do not mutate the result). */
export function singleStepRdp(orders: readonly number[], q: number, sigma: number): Float64Array {
  const key = `${q}|${sigma}|${orders.join(",")}`;
  let curve = curveCache.get(key);
  if (curve === undefined) {
    curve = Float64Array.from(orders, (a) => rdpSampledGaussian(q, sigma, a));
    if (curveCache.size >= CURVE_CACHE_LIMIT) curveCache.clear();
    curveCache.set(key, curve);
  }
  return curve;
}

export function checkSteps(s: MechanismSteps): void {
  if (s === null || typeof s !== "object") throw new DsainError(ErrorCode.INPUT_INVALID, "a mechanism step needs q, sigma and steps");
  checkSampleRate(s.q);
  checkNoiseMultiplier(s.sigma);
  if (!Number.isSafeInteger(s.steps) || s.steps < 1)
    throw new DsainError(ErrorCode.INPUT_INVALID, `steps is ${s.steps}; it must be a positive integer`);
}

export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly entries: MechanismSteps[] = [];

  constructor(options: { orders?: readonly number[]; history?: readonly MechanismSteps[] } = {}) {
    const orders = options.orders ?? DEFAULT_RDP_ORDERS;
    checkOrders(orders);
    this.orders = Object.freeze([...orders]);
    for (const s of options.history ?? []) this.step(s);
  }

  /** Records `steps` (default 1) steps of rate q and noise multiplier sigma. */
  step(s: { q: number; sigma: number; steps?: number }): void {
    const entry = { q: s.q, sigma: s.sigma, steps: s.steps ?? 1 };
    checkSteps(entry);
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.q === entry.q && last.sigma === entry.sigma) last.steps += entry.steps;
    else this.entries.push(entry);
  }

  /** The composed steps, oldest first (copies). */
  get history(): MechanismSteps[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** Total RDP at each order, optionally with `extra` steps added (the accountant is not changed). */
  rdp(extra?: MechanismSteps): Float64Array {
    if (extra !== undefined) checkSteps(extra);
    const total = new Float64Array(this.orders.length);
    for (const e of extra === undefined ? this.entries : [...this.entries, extra]) {
      const curve = singleStepRdp(this.orders, e.q, e.sigma);
      for (let i = 0; i < total.length; i++) total[i] += curve[i] * e.steps;
    }
    return total;
  }

  /** (epsilon, order) spent so far at `delta`; epsilon 0 (order NaN) before any step. */
  spent(delta: number): PrivacySpent {
    if (this.entries.length === 0) {
      epsilonFromRdp(this.orders, new Float64Array(this.orders.length), delta); // validates delta
      return { epsilon: 0, order: NaN, atBoundary: false };
    }
    return epsilonFromRdp(this.orders, this.rdp(), delta);
  }

  /** What `spent(delta)` would be after `extra` more steps. */
  preview(extra: MechanismSteps, delta: number): PrivacySpent {
    return epsilonFromRdp(this.orders, this.rdp(extra), delta);
  }
}
