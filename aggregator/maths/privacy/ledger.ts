// Per-participant privacy budgets: one RDP accountant each, and a hard stop before any budget is exceeded.
//
// What to charge is the caller's model of the release (docs/privacy.md): with noise added by the
// client (local DP, DSAIN's DifferentialPrivacy), a participant pays q = 1 (or its local batch rate)
// each round it sends an update; with user-level DP on the aggregate under Poisson client sampling,
// every participant pays q = K/n every round, sent or not. The ledger only enforces the arithmetic.
import { DsainError, ErrorCode } from "../../errors.js";
import { type MechanismSteps, RdpAccountant, checkSteps } from "./accountant.js";
import { DEFAULT_RDP_ORDERS, type PrivacySpent, checkDelta, checkOrders } from "./rdp.js";

export interface PrivacyBudget {
  /** The largest epsilon the participant may reach. */
  epsilon: number;
  /** The delta at which epsilon is measured. */
  delta: number;
}

export interface ChargeResult extends PrivacySpent {
  /** budget.epsilon - epsilon, never negative. */
  remaining: number;
}

export interface LedgerSnapshot {
  version: 1;
  orders: number[];
  budget: PrivacyBudget;
  participants: Record<string, { budget?: PrivacyBudget; history: MechanismSteps[]; stopped: boolean }>;
}

interface Account {
  accountant: RdpAccountant;
  budget?: PrivacyBudget;
  stopped: boolean;
}

function checkBudget(b: PrivacyBudget, what: string): PrivacyBudget {
  if (b === null || typeof b !== "object") throw new DsainError(ErrorCode.INPUT_INVALID, `${what} needs epsilon and delta`);
  if (typeof b.epsilon !== "number" || !(b.epsilon > 0) || b.epsilon === Infinity)
    throw new DsainError(ErrorCode.INPUT_INVALID, `${what} epsilon is ${b.epsilon}; it must be a positive finite number`);
  checkDelta(b.delta, `${what} delta`);
  return Object.freeze({ epsilon: b.epsilon, delta: b.delta });
}

export class PrivacyLedger {
  readonly orders: readonly number[];
  /** The budget of every participant without one of its own. */
  readonly budget: PrivacyBudget;
  private readonly accounts = new Map<string, Account>();

  constructor(options: { budget: PrivacyBudget; orders?: readonly number[] }) {
    this.budget = checkBudget(options?.budget, "the default budget");
    const orders = options.orders ?? DEFAULT_RDP_ORDERS;
    checkOrders(orders);
    this.orders = Object.freeze([...orders]);
  }

  private account(participant: string | number): Account {
    const id = String(participant);
    let a = this.accounts.get(id);
    if (a === undefined) {
      a = { accountant: new RdpAccountant({ orders: this.orders }), stopped: false };
      this.accounts.set(id, a);
    }
    return a;
  }

  /** Gives one participant its own budget (before or after it has spent anything). */
  setBudget(participant: string | number, budget: PrivacyBudget): void {
    this.account(participant).budget = checkBudget(budget, `participant ${participant}'s budget`);
  }

  budgetOf(participant: string | number): PrivacyBudget {
    return this.accounts.get(String(participant))?.budget ?? this.budget;
  }

  /** epsilon spent so far at the participant's budget delta (0 for an unknown participant). */
  spent(participant: string | number): PrivacySpent {
    const a = this.accounts.get(String(participant));
    if (a === undefined) return { epsilon: 0, order: NaN, atBoundary: false };
    return a.accountant.spent(this.budgetOf(participant).delta);
  }

  remaining(participant: string | number): number {
    return Math.max(0, this.budgetOf(participant).epsilon - this.spent(participant).epsilon);
  }

  /** True once a charge has been refused: the participant takes part in no further release. */
  isStopped(participant: string | number): boolean {
    return this.accounts.get(String(participant))?.stopped ?? false;
  }

  /** Would charging `step` keep the participant within budget? Changes nothing. */
  canCharge(participant: string | number, step: { q: number; sigma: number; steps?: number }): boolean {
    const s = { q: step.q, sigma: step.sigma, steps: step.steps ?? 1 };
    checkSteps(s);
    const a = this.accounts.get(String(participant));
    if (a?.stopped) return false;
    const after = (a?.accountant ?? new RdpAccountant({ orders: this.orders })).preview(s, this.budgetOf(participant).delta);
    return after.epsilon <= this.budgetOf(participant).epsilon;
  }

  /**
   * Records `steps` (default 1) sampled Gaussian steps against the participant's budget. Refuses
   * with PRIVACY_BUDGET_EXHAUSTED, recording nothing, when the total would exceed the budget; the
   * participant is then stopped and every later charge is refused too, so the budget is never
   * overdrawn and a stopped participant cannot creep back in with cheaper steps.
   */
  charge(participant: string | number, step: { q: number; sigma: number; steps?: number }): ChargeResult {
    const s = { q: step.q, sigma: step.sigma, steps: step.steps ?? 1 };
    checkSteps(s);
    const a = this.account(participant);
    const budget = this.budgetOf(participant);
    if (a.stopped) {
      throw new DsainError(
        ErrorCode.PRIVACY_BUDGET_EXHAUSTED,
        `participant ${participant} has exhausted its privacy budget (epsilon ${budget.epsilon} at delta ${budget.delta}) and is stopped; ` +
          "leave it out of further rounds",
      );
    }
    const after = a.accountant.preview(s, budget.delta);
    if (!(after.epsilon <= budget.epsilon)) {
      a.stopped = true;
      const before = a.accountant.spent(budget.delta).epsilon;
      throw new DsainError(
        ErrorCode.PRIVACY_BUDGET_EXHAUSTED,
        `participant ${participant}: ${s.steps} more step(s) at q=${s.q}, sigma=${s.sigma} would bring epsilon from ` +
          `${before.toPrecision(6)} to ${after.epsilon.toPrecision(6)}, over its budget of ${budget.epsilon} at delta ${budget.delta}; ` +
          "it is stopped and must be left out of further rounds (nothing was charged)",
      );
    }
    a.accountant.step(s);
    return { ...after, remaining: Math.max(0, budget.epsilon - after.epsilon) };
  }

  /** Known participants, in first-seen order. */
  participants(): string[] {
    return [...this.accounts.keys()];
  }

  /** Plain JSON that `PrivacyLedger.fromJSON` restores exactly. */
  toJSON(): LedgerSnapshot {
    const participants: LedgerSnapshot["participants"] = {};
    for (const [id, a] of this.accounts) {
      participants[id] = { ...(a.budget ? { budget: { ...a.budget } } : {}), history: a.accountant.history, stopped: a.stopped };
    }
    return { version: 1, orders: [...this.orders], budget: { ...this.budget }, participants };
  }

  static fromJSON(snapshot: LedgerSnapshot): PrivacyLedger {
    if (snapshot === null || typeof snapshot !== "object" || snapshot.version !== 1)
      throw new DsainError(ErrorCode.DATA_MALFORMED, "privacy ledger snapshot must be an object with version 1");
    const ledger = new PrivacyLedger({ budget: snapshot.budget, orders: snapshot.orders });
    for (const [id, p] of Object.entries(snapshot.participants ?? {})) {
      const a = ledger.account(id);
      if (p.budget !== undefined) a.budget = checkBudget(p.budget, `participant ${id}'s budget`);
      for (const s of p.history) a.accountant.step(s);
      a.stopped = p.stopped === true;
    }
    return ledger;
  }
}
