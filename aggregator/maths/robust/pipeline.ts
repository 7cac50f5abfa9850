// Pre-aggregators in front of an aggregator (ByzFL's pattern: NNM, Clipping or ARC transform the
// n updates into n new ones, then any robust rule aggregates them), as one strategy.
import type { AggregationOutcome, RobustAggregator, RoundUpdates, Vec } from "./common.js";

/** n updates in, n updates out (nnm, staticClipping and arc, with their parameters bound). */
export type PreAggregator = (updates: readonly Vec[]) => Float64Array[];

export class PreAggregated implements RobustAggregator {
  readonly name: string;

  /** @param steps pre-aggregators applied in order. @param inner the aggregator that runs on their output. */
  constructor(
    readonly steps: readonly { readonly name: string; readonly apply: PreAggregator }[],
    readonly inner: RobustAggregator,
  ) {
    this.name = [...steps.map((s) => s.name), inner.name].join("+");
  }

  /**
   * The inner rule's aggregate of the transformed updates. Its weights (if any) are over the
   * transformed updates, not the inputs, so none are reported.
   */
  aggregate(round: RoundUpdates): AggregationOutcome {
    let updates: readonly Vec[] = round.updates;
    for (const step of this.steps) updates = step.apply(updates);
    return { aggregate: this.inner.aggregate({ ...round, updates }).aggregate, weights: null };
  }
}
