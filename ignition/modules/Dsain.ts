// Ignition module: the full stack (round verifier and provenance ledger), as the demo deploys it.
// Parameters go to the unit modules: { "ProvenanceLedger": { "admin": ..., "aggregator": ... } }.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import RoundChunkVerifierModule from "./RoundChunkVerifier.js";
import ProvenanceLedgerModule, { AGGREGATOR_ROLE } from "./ProvenanceLedger.js";

export { AGGREGATOR_ROLE };

export default buildModule("Dsain", (m) => {
  const { verifier } = m.useModule(RoundChunkVerifierModule);
  const { ledger, extension, federationLogic, batchedRounds } = m.useModule(ProvenanceLedgerModule);
  return { verifier, ledger, extension, federationLogic, batchedRounds };
});
