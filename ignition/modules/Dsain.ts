// Ignition module: deploys the round verifier and the provenance ledger, and grants the aggregator role.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

export const AGGREGATOR_ROLE = id("AGGREGATOR_ROLE");

export default buildModule("Dsain", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const aggregator = m.getParameter("aggregator", m.getAccount(0));
  const verifier = m.contract("RoundChunkVerifier_4_4");
  const ledger = m.contract("ProvenanceLedger", [admin]);
  m.call(ledger, "grantRole", [AGGREGATOR_ROLE, aggregator]);
  return { verifier, ledger };
});
