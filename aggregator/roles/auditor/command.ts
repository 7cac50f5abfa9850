// `dsain audit`: connects to a chain and a Helia directory and runs the auditor.
import { JsonRpcProvider } from "ethers";
import { LedgerClient } from "../../adapters/chain/ledger.js";
import { openCheckpointStore } from "../../adapters/storage/checkpoint-store.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../adapters/proof/keys.js";
import { auditEvidence } from "./run.js";

/** The RoundAttested instance of `dsain demo --zk-attestations`. */
export const DEFAULT_BATCHED_INSTANCE = "RoundAttested_2-1-0-2-2_test";

export async function runAuditCommand(o: {
  rpcUrl: string;
  ledger: string;
  federationId: bigint;
  ipfsDir: string;
  instance: string;
  /** RoundAttested instance whose verifying key checks a batched federation's proofs (read only when the federation is batched). */
  batchedInstance?: string;
  allowMissingUpdates?: boolean;
  log: (line: string) => void;
}): Promise<boolean> {
  const provider = new JsonRpcProvider(o.rpcUrl, undefined, { staticNetwork: false });
  const keys = await ensureCircuitKeys(o.instance, { log: (m) => o.log(`  ${m}`) });
  const store = await openCheckpointStore({ directory: o.ipfsDir });
  try {
    o.log(`audit of federation ${o.federationId} at ${o.ledger} (${o.rpcUrl}), checkpoints and updates from ${o.ipfsDir}`);
    const evidence = await LedgerClient.at(o.ledger, provider).readEvidence(o.federationId, provider);
    const batchedKeys =
      evidence.batched === undefined
        ? undefined
        : await ensureCircuitKeys(o.batchedInstance ?? DEFAULT_BATCHED_INSTANCE, { log: (m) => o.log(`  ${m}`) });
    const outcome = await auditEvidence({
      evidence,
      store,
      vkey: keys.vkey,
      vkeyHash: keys.vkeyHash,
      batchedVkey: batchedKeys?.vkey,
      batchedVkeyHash: batchedKeys?.vkeyHash,
      allowMissingUpdates: o.allowMissingUpdates,
      log: o.log,
    });
    return outcome.ok;
  } finally {
    await store.stop();
    provider.destroy();
    await releaseZkWorkers();
  }
}
