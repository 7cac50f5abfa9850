// A round driven by the round library on a live demo chain (test/e2e/roles.test.ts and batched.test.ts):
// the aggregator's steps after the updates arrived, on the demo's model layout.
import type { CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { mlpSpec } from "../../aggregator/maths/learning/model.js";
import { fedAvgExact } from "../../aggregator/maths/robust/exact-rule.js";
import type { LocalUpdate } from "../../aggregator/roles/participant.js";
import { aggregateRound, publishUpdates, storeCheckpoint } from "../../aggregator/roles/aggregator.js";
import type { RoundState } from "../../aggregator/roles/round-state.js";

/** Publishes the updates, aggregates them with FedAvg and stores the checkpoint of `state.round`. */
export async function aggregateAndStore(
  store: CheckpointStore,
  modelId: string,
  state: RoundState,
  updates: readonly (LocalUpdate & { participant: string })[],
) {
  const meta = { round: Number(state.round), modelId, tensors: mlpSpec() };
  const published = await publishUpdates(store, meta, updates);
  const { decision, next } = aggregateRound(fedAvgExact, state, updates);
  const checkpoint = await storeCheckpoint(store, { ...meta, values: next, updates: published });
  return { published, decision, next, checkpoint };
}
