// Deploys the ledger with its linked library through a hardhat-ethers handle (tests and scripts;
// the demo and real networks use the Ignition modules of ignition/modules/), and the Poseidon(2)
// hasher a batched federation's key registry needs (docs/protocol.md §14).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../../paths.js";
import { LEDGER_ABI } from "./abi.js";

/**
 * The ledger's two libraries, its extension linked to them, then ProvenanceLedger linked to them
 * with the extension (the order of ignition/modules/ProvenanceLedger.ts); `admin` gets
 * DEFAULT_ADMIN_ROLE and, when given, each of `aggregators` gets AGGREGATOR_ROLE (sent by the
 * caller's default signer). Returns the ledger bound to its whole ABI (ledger and extension).
 */
export async function deployLedger(ethers: any, admin: string, aggregators: readonly string[] = []): Promise<any> {
  const libraries = await deployLedgerLibraries(ethers);
  const extension = await ethers.deployContract("ProvenanceLedgerExtension", [], { libraries });
  const core = await ethers.deployContract("ProvenanceLedger", [admin, await extension.getAddress()], { libraries });
  await core.waitForDeployment();
  const ledger = await ethers.getContractAt(LEDGER_ABI, await core.getAddress());
  const role = await ledger.AGGREGATOR_ROLE();
  for (const a of aggregators) await (await ledger.grantRole(role, a)).wait();
  return ledger;
}

/** FederationLogic and BatchedRounds, deployed: the `libraries` option the ledger and its extension link with. */
export async function deployLedgerLibraries(ethers: any): Promise<{ FederationLogic: string; BatchedRounds: string }> {
  const logic = await ethers.deployContract("FederationLogic");
  const batched = await ethers.deployContract("BatchedRounds");
  return { FederationLogic: await logic.getAddress(), BatchedRounds: await batched.getAddress() };
}

/** The generated artifact of circomlibjs' Poseidon(2) contract (scripts/gen-poseidon-hasher.ts writes it). */
export const POSEIDON2_HASHER_FILE = path.join(PROJECT_ROOT, "contracts", "hashers", "Poseidon2Hasher.json");

export interface Poseidon2HasherArtifact {
  _generated: string;
  _format: string;
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
  linkReferences: Record<string, never>;
  deployedLinkReferences: Record<string, never>;
}

export async function loadPoseidon2HasherArtifact(): Promise<Poseidon2HasherArtifact> {
  return JSON.parse(await readFile(POSEIDON2_HASHER_FILE, "utf8")) as Poseidon2HasherArtifact;
}

/**
 * Deploys the Poseidon(2) hasher from its committed bytecode (sent by the caller's default signer);
 * a batched federation names its address in BatchedProofConfig.poseidon2. One serves every federation.
 */
export async function deployPoseidon2Hasher(ethers: any): Promise<any> {
  const artifact = await loadPoseidon2HasherArtifact();
  const factory = await ethers.getContractFactory(artifact.abi, artifact.bytecode);
  const hasher = await factory.deploy();
  await hasher.waitForDeployment();
  return hasher;
}
