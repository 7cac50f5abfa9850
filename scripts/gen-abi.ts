// `npm run generate:abi`: the ledger's ABI, committed beside its client (aggregator/adapters/chain/abi/),
// so that the chain adapter, the auditor and the daemons run without Hardhat or a compile step.
// The ledger is one address with two pieces of code (contracts/ProvenanceLedger.sol runs every
// function it does not carry itself in ProvenanceLedgerExtension by DELEGATECALL), so what the
// address answers is the union of the two compiled ABIs without the fallback. Reads the compiled
// artifacts (run `npx hardhat build` first); test/contracts/abi.test.ts fails when the committed
// file differs from what the contracts compile to.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../aggregator/paths.js";

const artifactPath = (source: string, name: string) => path.join(PROJECT_ROOT, "artifacts", "contracts", source, `${name}.json`);

/** The ABIs that are committed: each file holds the union of its artifacts' ABIs. */
export const COMMITTED_ABIS = [
  {
    name: "ProvenanceLedger",
    artifacts: [
      artifactPath("ProvenanceLedger.sol", "ProvenanceLedger"),
      artifactPath("ProvenanceLedgerExtension.sol", "ProvenanceLedgerExtension"),
    ],
    file: path.join(PROJECT_ROOT, "aggregator", "adapters", "chain", "abi", "ProvenanceLedger.json"),
  },
] as const;

interface AbiEntry {
  type: string;
  name?: string;
  inputs?: { type: string }[];
}

/** What tells two ABI entries apart: a constructor, or a function, event or error by name and input types. */
function entryKey(entry: AbiEntry): string {
  return `${entry.type} ${entry.name ?? ""}(${(entry.inputs ?? []).map((i) => i.type).join(",")})`;
}

/**
 * The union of `artifacts`' ABIs in order, each entry once (the first artifact's constructor only,
 * no fallback): what one address answers when the first delegates the rest to the others.
 */
export async function mergedAbi(artifacts: readonly string[]): Promise<AbiEntry[]> {
  const merged = new Map<string, AbiEntry>();
  for (const [i, artifact] of artifacts.entries()) {
    const { abi } = JSON.parse(await readFile(artifact, "utf8")) as { abi: AbiEntry[] };
    for (const entry of abi) {
      if (entry.type === "fallback" || (i > 0 && entry.type === "constructor")) continue;
      const key = entryKey(entry);
      if (!merged.has(key)) merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

/** The committed file's text for compiled `artifacts`: their merged ABI, two-space JSON. */
export async function abiText(artifacts: readonly string[]): Promise<string> {
  return JSON.stringify(await mergedAbi(artifacts), null, 2) + "\n";
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  for (const { artifacts, file } of COMMITTED_ABIS) {
    await writeFile(file, await abiText(artifacts));
    console.log(`wrote ${path.relative(PROJECT_ROOT, file)}`);
  }
}
