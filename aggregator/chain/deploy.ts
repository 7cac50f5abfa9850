// Deploys the ledger with its linked library through a hardhat-ethers handle (tests and scripts;
// the demo and real networks use the Ignition modules of ignition/modules/).

/**
 * FederationLogic first, then ProvenanceLedger linked to it; `admin` gets DEFAULT_ADMIN_ROLE and,
 * when given, each of `aggregators` gets AGGREGATOR_ROLE (sent by the caller's default signer).
 */
export async function deployLedger(ethers: any, admin: string, aggregators: readonly string[] = []): Promise<any> {
  const logic = await ethers.deployContract("FederationLogic");
  const ledger = await ethers.deployContract("ProvenanceLedger", [admin], {
    libraries: { FederationLogic: await logic.getAddress() },
  });
  await ledger.waitForDeployment();
  const role = await ledger.AGGREGATOR_ROLE();
  for (const a of aggregators) await (await ledger.grantRole(role, a)).wait();
  return ledger;
}
