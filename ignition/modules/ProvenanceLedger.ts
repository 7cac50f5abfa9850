// Ignition module: ProvenanceLedger linked to its FederationLogic library; `admin` gets
// DEFAULT_ADMIN_ROLE, `aggregator` (the account that posts rounds and proofs) AGGREGATOR_ROLE.
// Deployments are immutable: a new version is a new deployment plus a migration (docs/deploy.md).
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

export const AGGREGATOR_ROLE = id("AGGREGATOR_ROLE");

export default buildModule("ProvenanceLedger", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const aggregator = m.getParameter("aggregator", m.getAccount(0));
  const federationLogic = m.library("FederationLogic");
  const ledger = m.contract("ProvenanceLedger", [admin], { libraries: { FederationLogic: federationLogic } });
  m.call(ledger, "grantRole", [AGGREGATOR_ROLE, aggregator]);
  return { ledger, federationLogic };
});
