// `npm run generate:code-sizes`: the runtime code size of every contract a deployment puts on chain,
// on the default (cancun) and the `london` build, written into docs/deploy.md's table. The ledger
// keeps at least 4 KB of EIP-170's 24,576 bytes free in each (CODE_SIZE_BUDGET); the tests
// (test/contracts/code-size.test.ts, test/contracts/deploy.test.ts) compare the artifacts with the
// table and the budget, so a change of size shows in review. The london build goes to a temporary
// directory: the project's artifacts stay the default build.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PROJECT_ROOT } from "../aggregator/paths.js";
import { loadPoseidon2HasherArtifact } from "../aggregator/adapters/chain/deploy.js";

/** EIP-170's limit on a contract's runtime code. */
export const EIP170_LIMIT = 24_576;
/** The most a deployed contract may weigh: 4 KB under EIP-170, room for the checks still to come. */
export const CODE_SIZE_BUDGET = EIP170_LIMIT - 4_096;

/** The compiled contracts a deployment puts on chain (the Poseidon(2) hasher comes from its committed bytecode). */
export const DEPLOYED_CONTRACTS = [
  "ProvenanceLedger",
  "ProvenanceLedgerExtension",
  "FederationLogic",
  "BatchedRounds",
  "RoundChunkVerifier_4_1",
  "RoundChunksVerifier_4_1_0_2",
  "RoundChunksVerifier_1_0_0_1",
  "RoundChunksVerifier_8_11_0_1",
  "RoundAttestedVerifier_2_1_0_2_2",
  "RoundAttestedVerifier_8_11_0_1_6",
] as const;

export const HASHER = "Poseidon2Hasher";

export const DEPLOY_DOC = path.join(PROJECT_ROOT, "docs", "deploy.md");
const MARKER = "<!-- code sizes:";

/** Runtime bytes of each deployed compiled contract, read from a build's artifacts. */
export async function artifactSizes(readArtifact: (name: string) => Promise<{ deployedBytecode: string }>): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const name of DEPLOYED_CONTRACTS) sizes.set(name, ((await readArtifact(name)).deployedBytecode.length - 2) / 2);
  return sizes;
}

/** Runtime bytes of the Poseidon(2) hasher: its creation code deployed on `ethers`' chain, the code read back. */
export async function hasherSize(ethers: any): Promise<number> {
  const artifact = await loadPoseidon2HasherArtifact();
  const hasher = await (await ethers.getContractFactory(artifact.abi, artifact.bytecode)).deploy();
  await hasher.waitForDeployment();
  return ((await ethers.provider.getCode(await hasher.getAddress())).length - 2) / 2;
}

export interface SizeRow {
  contract: string;
  cancun: number;
  london: number;
}

/** The table of docs/deploy.md, as written. */
export async function readSizeTable(doc = DEPLOY_DOC): Promise<SizeRow[]> {
  const text = await readFile(doc, "utf8");
  const start = text.indexOf(MARKER);
  if (start < 0) throw new Error(`${doc} has no code-size table (${MARKER} … -->)`);
  const rows: SizeRow[] = [];
  for (const line of text.slice(start).split("\n").slice(1)) {
    if (line.trim() === "") {
      if (rows.length > 0) break;
      continue;
    }
    const cells = line.split("|").map((c) => c.trim());
    const m = /^`(\w+)`$/.exec(cells[1] ?? "");
    if (m === null) continue; // header and separator
    rows.push({ contract: m[1], cancun: Number(cells[2].replace(/,/g, "")), london: Number(cells[3].replace(/,/g, "")) });
  }
  return rows;
}

const fmt = (n: number) => n.toLocaleString("en-US");

function tableRows(rows: SizeRow[]): string {
  const lines = rows.map((r) => `| \`${r.contract}\` | ${fmt(r.cancun)} | ${fmt(r.london)} | ${fmt(EIP170_LIMIT - r.london)} |`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { openChain } = await import("../aggregator/adapters/chain/hardhat.js");
  const cancunChain = await openChain();
  const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-london-sizes-"));
  try {
    const cancun = await artifactSizes((n) => cancunChain.hre.artifacts.readArtifact(n));
    const hasher = await hasherSize(cancunChain.ethers);
    const londonChain = await openChain({ buildProfile: "london", buildDir: dir });
    const london = await artifactSizes((n) => londonChain.hre.artifacts.readArtifact(n));
    await londonChain.close();
    const rows: SizeRow[] = [
      ...DEPLOYED_CONTRACTS.map((contract) => ({ contract, cancun: cancun.get(contract)!, london: london.get(contract)! })),
      { contract: HASHER, cancun: hasher, london: hasher },
    ];
    const text = await readFile(DEPLOY_DOC, "utf8");
    const start = text.indexOf(MARKER);
    const headerStart = text.indexOf("\n\n", start) + 2;
    const bodyStart = text.indexOf("\n", text.indexOf("\n", headerStart) + 1) + 1; // after header and separator
    let bodyEnd = text.indexOf("\n\n", bodyStart);
    if (bodyEnd < 0) bodyEnd = text.length;
    await writeFile(DEPLOY_DOC, text.slice(0, bodyStart) + tableRows(rows) + text.slice(bodyEnd));
    for (const r of rows) {
      const over = Math.max(r.cancun, r.london) > CODE_SIZE_BUDGET ? `  OVER the ${fmt(CODE_SIZE_BUDGET)}-byte budget` : "";
      console.log(`${r.contract.padEnd(34)} ${fmt(r.cancun).padStart(7)} ${fmt(r.london).padStart(7)}${over}`);
    }
  } finally {
    await cancunChain.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await main();
}
