// What a role's loop gets from the daemon around it (aggregator/nodes/run.ts).
import type { JsonRpcProvider } from "ethers";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import type { CheckpointStore } from "../adapters/storage/checkpoint-store.js";
import type { FederationConfig } from "../protocol/evidence.js";
import type { BabyJubKeyPair } from "../protocol/eddsa.js";
import type { NodeConfig, NodeRole } from "./config.js";
import type { Logger } from "./log.js";
import type { NodeMetrics } from "./metrics.js";
import type { NodeState } from "./state.js";

/** What a role's loop gets: everything the daemon opened, and a signal that fires when it must stop. */
export interface NodeContext<R extends NodeRole> {
  role: R;
  config: NodeConfig<R>;
  log: Logger;
  state: NodeState;
  store: CheckpointStore;
  provider: JsonRpcProvider;
  ledger: LedgerClient;
  chainId: bigint;
  federation: FederationConfig;
  account: string;
  babyJub?: BabyJubKeyPair;
  metrics: NodeMetrics;
  signal: AbortSignal;
}
