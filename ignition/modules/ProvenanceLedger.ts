// Ignition module: the ledger, one address with two pieces of code (EIP-170 bounds each): its
// libraries FederationLogic and BatchedRounds, ProvenanceLedgerExtension linked to them, then
// ProvenanceLedger linked to them and naming the extension, which it runs by DELEGATECALL for
// every function it does not carry itself (contracts/ProvenanceLedger.sol). `admin` gets
// DEFAULT_ADMIN_ROLE, `aggregator` (the account that posts rounds and proofs) AGGREGATOR_ROLE.
// Deployments are immutable: a new version is a new deployment plus a migration (docs/deploy.md).
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

export const AGGREGATOR_ROLE = id("AGGREGATOR_ROLE");

export default buildModule("ProvenanceLedger", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const aggregator = m.getParameter("aggregator", m.getAccount(0));
  const federationLogic = m.library("FederationLogic");
  const batchedRounds = m.library("BatchedRounds");
  const libraries = { FederationLogic: federationLogic, BatchedRounds: batchedRounds };
  const extension = m.contract("ProvenanceLedgerExtension", [], { libraries });
  const ledger = m.contract("ProvenanceLedger", [admin, extension], { libraries });
  m.call(ledger, "grantRole", [AGGREGATOR_ROLE, aggregator]);
  return { ledger, extension, federationLogic, batchedRounds };
});
