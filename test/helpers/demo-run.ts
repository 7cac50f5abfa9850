// A demo run kept open for a suite to inspect: its chain, Helia store and evidence, then closed.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEMO_DEFAULTS, runDemo, type DemoOptions, type DemoResult } from "../../aggregator/demo/demo.js";
import type { FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";

export interface DemoRun {
  dir: string;
  result: DemoResult;
  evidence: FederationEvidence;
}

/** Runs the demo (DEMO_DEFAULTS with `options`) in a fresh temporary directory, session kept open. */
export async function startDemoRun(prefix: string, options: Partial<DemoOptions>): Promise<DemoRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const result = await runDemo({ ...DEMO_DEFAULTS, ...options, workDir: dir, keepOpen: true });
  const { chain, ledgerClient } = result.session!;
  const evidence = await ledgerClient.readEvidence(result.federationId, chain.ethers.provider);
  return { dir, result, evidence };
}

/** Stops the run's store and chain, releases the proving workers and removes its directory. */
export async function stopDemoRun(dir: string | undefined, result: DemoResult | undefined): Promise<void> {
  await result?.session?.store.stop();
  await result?.session?.chain.close();
  await releaseZkWorkers();
  if (dir) await rm(dir, { recursive: true, force: true });
}
