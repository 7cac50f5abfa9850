// Writes contracts/verifiers/<Verifier>.sol for every instance in circuits/circuits.json from
// the deterministic development keys of aggregator/adapters/proof/keys.ts (byte-identical on regeneration).
// Usage: tsx scripts/gen-verifiers.ts [--check]   (--check: write nothing, exit 1 if stale)
import fs from "node:fs/promises";
import path from "node:path";
import { ensureCircuitKeys, loadCircuitInstances } from "../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../aggregator/paths.js";

const VERIFIERS_DIR = path.join(PROJECT_ROOT, "contracts", "verifiers");

function verifierPath(verifierName: string): string {
  return path.join(VERIFIERS_DIR, `${verifierName}.sol`);
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const log = (m: string) => console.error(m);
  let stale = 0;
  await fs.mkdir(VERIFIERS_DIR, { recursive: true });
  for (const instance of await loadCircuitInstances()) {
    const keys = await ensureCircuitKeys(instance.name, { log });
    const target = verifierPath(instance.verifier);
    const current = await fs.readFile(target, "utf8").catch(() => undefined);
    const rel = path.relative(PROJECT_ROOT, target);
    if (current === keys.verifierSource) {
      console.log(`${rel}: up to date (${instance.name}, ${keys.constraints} constraints, vkey ${keys.vkeyHash})`);
    } else if (check) {
      console.log(`${rel}: STALE — run npm run generate:verifiers`);
      stale++;
    } else {
      await fs.writeFile(target, keys.verifierSource);
      console.log(`${rel}: written (${instance.name}, ${keys.constraints} constraints, vkey ${keys.vkeyHash})`);
    }
  }
  if (stale > 0) process.exitCode = 1;
}

await main();
