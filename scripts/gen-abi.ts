// `npm run generate:abi`: the ledger's ABI, committed beside its client (aggregator/adapters/chain/abi/),
// so that the chain adapter, the auditor and the daemons run without Hardhat or a compile step.
// Reads the compiled artifact (run `npx hardhat build` first); test/contracts/abi.test.ts fails
// when the committed file differs from what the contracts compile to.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../aggregator/paths.js";

/** The contracts whose ABI is committed, and where each goes. */
export const COMMITTED_ABIS = [
  {
    artifact: path.join(PROJECT_ROOT, "artifacts", "contracts", "ProvenanceLedger.sol", "ProvenanceLedger.json"),
    file: path.join(PROJECT_ROOT, "aggregator", "adapters", "chain", "abi", "ProvenanceLedger.json"),
  },
] as const;

/** The committed file's text for a compiled artifact: its ABI, two-space JSON. */
export async function abiText(artifact: string): Promise<string> {
  const { abi } = JSON.parse(await readFile(artifact, "utf8")) as { abi: unknown[] };
  return JSON.stringify(abi, null, 2) + "\n";
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  for (const { artifact, file } of COMMITTED_ABIS) {
    await writeFile(file, await abiText(artifact));
    console.log(`wrote ${path.relative(PROJECT_ROOT, file)}`);
  }
}
