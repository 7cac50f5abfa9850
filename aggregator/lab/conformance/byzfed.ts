// Conformance schema of ../shared/vectors/dsain/byzfed-vectors.json: ByzFed.aggregate of the DSAIN
// authors' code/dsain.py, rounds run in order on one instance (reputations carried between them).
import { ByzFed, type ByzFedParams } from "../../maths/robust/byzfed.js";
import { compareExact, compareFloats } from "./compare.js";
import { attempt, caseId, type CaseOutcome, type ConformanceSchema, type VectorsFile } from "./schema.js";

/** The vectors' parameter names and ours. */
const PARAMS: Record<string, keyof ByzFedParams> = {
  threshold_tau: "tau",
  reputation_decay_alpha: "alpha",
  gm_max_iter: "maxIter",
  gm_tol: "tol",
};

function checkCase(c: Record<string, any>): string | null {
  const params: Partial<Record<keyof ByzFedParams, number>> = {};
  for (const [key, value] of Object.entries(c.params ?? {})) {
    if (!(key in PARAMS)) return `unsupported parameter "${key}"`;
    params[PARAMS[key]] = value as number;
  }
  const rounds = c.rounds as Record<string, any>[];
  const initial = Object.entries((rounds[0]?.reputation_state_before ?? {}) as Record<string, number>);
  const byzfed = new ByzFed(params, initial);
  for (const [t, round] of rounds.entries()) {
    const ids = (round.client_ids as unknown[]).map(String);
    const before = byzfed.reputations;
    const expectedBefore = round.reputation_state_before as Record<string, number>;
    const stateFailure =
      compareExact(`round ${t}: reputation_state_before clients`, [...before.keys()].sort(), Object.keys(expectedBefore).sort()) ??
      compareFloats(
        `round ${t}: reputation_state_before`,
        Object.keys(expectedBefore).map((k) => before.get(k)!),
        Object.values(expectedBefore),
      );
    if (stateFailure) return stateFailure;
    const updates = (round.updates as number[][]).map((u) => Float64Array.from(u));
    const r = byzfed.round(updates, ids);
    const o = round.outputs as Record<string, any>;
    const w = o.weiszfeld as Record<string, any>;
    const last2 = r.weiszfeld.stepNorms.slice(-2);
    const after = r.reputationState;
    const expectedAfter = o.reputation_state_after as Record<string, number>;
    const checks: (() => string | null)[] = [
      () => compareFloats("geometric_median", r.geometricMedian, o.geometric_median),
      () => compareExact("weiszfeld.updates_applied", r.weiszfeld.updatesApplied, w.updates_applied),
      () => compareExact("weiszfeld.converged_before_max_iter", r.weiszfeld.converged, w.converged_before_max_iter),
      () => compareExact("weiszfeld.num_step_norms_computed", r.weiszfeld.stepNorms.length, w.num_step_norms_computed),
      () => compareFloats("weiszfeld.step_norms_last2", last2, w.step_norms_last2),
      () => compareFloats("distances", r.distances, o.distances),
      () => compareFloats("median_distance", r.medianDistance, o.median_distance),
      () => compareFloats("robust_scale", r.robustScale, o.robust_scale),
      () => compareFloats("filter_threshold_value", r.threshold, o.filter_threshold_value),
      () => compareExact("kept_indices", r.kept, o.kept_indices),
      () =>
        compareExact(
          "kept_client_ids",
          r.kept.map((i) => ids[i]),
          (o.kept_client_ids as unknown[]).map(String),
        ),
      () => compareExact("fallback_all_used", r.fallback, o.fallback_all_used),
      () => compareExact("used_indices", r.used, o.used_indices),
      () => compareExact("reputation_state_after clients", [...after.keys()].sort(), Object.keys(expectedAfter).sort()),
      () =>
        compareFloats(
          "reputation_state_after",
          Object.keys(expectedAfter).map((k) => after.get(k)!),
          Object.values(expectedAfter),
        ),
      () =>
        compareFloats(
          "weights_unnormalised",
          r.used.map((i) => r.reputationsAfter[i]),
          o.weights_unnormalised,
        ),
      () => compareFloats("total_weight", r.totalWeight, o.total_weight),
      () =>
        compareFloats(
          "weights",
          r.used.map((i) => r.weights[i]),
          o.weights,
        ),
      () => compareFloats("aggregate", r.aggregate, o.aggregate),
      () => compareExact("warnings_logged (fallback warning)", r.fallback, (o.warnings_logged as unknown[]).length > 0),
    ];
    for (const check of checks) {
      const failure = check();
      if (failure) return `round ${t}: ${failure}`;
    }
  }
  return null;
}

export const byzfedSchema: ConformanceSchema = {
  name: "dsain/byzfed",
  detect: (file: VectorsFile) =>
    file.cases.length > 0 && file.cases.every((c) => Array.isArray(c.rounds) && c.rounds[0]?.outputs?.geometric_median),
  run: (file: VectorsFile): CaseOutcome[] => file.cases.map((c, i) => attempt(caseId(c, i), () => checkCase(c))),
};
