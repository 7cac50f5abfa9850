// The `dsain` command as a user runs it: a demo against a real `hardhat node` process on
// 127.0.0.1, then `dsain audit` in a separate process — passing, failing on a missing update unless
// --allow-missing-updates, then failing on a corrupted block.
import { expect } from "chai";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { runDemo, DEMO_DEFAULTS, type DemoResult } from "../../aggregator/demo/demo.js";
import { blockFilePath, openCheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, waitForRpc } from "../helpers/processes.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");

/** Runs `dsain …` in its own process; resolves with exit code and output, never throws on exit 1. */
async function dsain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DSAIN, ...args], { cwd: PROJECT_ROOT, timeout: 300_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

describe("dsain command line", function () {
  let node: ChildProcess | undefined;
  let dir: string;
  let rpcUrl: string;
  let result: DemoResult;

  before(async function () {
    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    node = spawn(path.join(PROJECT_ROOT, "node_modules", ".bin", "hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    await waitForRpc(rpcUrl, node, 60_000);
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-cli-"));
    result = await runDemo({ ...DEMO_DEFAULTS, epochs: 1, workDir: dir, rpcUrl, skipAudit: true });
  });

  after(async function () {
    if (node && node.exitCode === null) {
      const exited = new Promise((r) => node!.once("exit", r));
      node.kill("SIGTERM"); // by PID: only the process this test started
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (result?.deploymentId)
      await rm(path.join(PROJECT_ROOT, "ignition", "deployments", result.deploymentId), { recursive: true, force: true });
  });

  it("should pass `dsain audit` in a separate process against the external chain", async function () {
    const out = await dsain(["audit", "--rpc", rpcUrl, "--summary", path.join(dir, "summary.json")]);
    expect(out.code, out.stdout + out.stderr).to.equal(0);
    expect(out.stdout).to.contain("verdict: PASS");
    expect(out.stdout).to.match(/round 2: ok \(.*deadlines.*4 published updates, aggregation recomputed exactly, proof; final\)/);
    expect(out.stdout).to.contain("2 of 2 aggregation(s) recomputed exactly from the published updates");
  });

  it("should exit 1 when a published update is missing, and 0 with a warning under --allow-missing-updates", async function () {
    const store = await openCheckpointStore({ directory: result.ipfsDir });
    const file = blockFilePath(store, result.rounds[1].updateCids[3]);
    await store.stop();
    const original = await readFile(file);
    await rm(file);
    try {
      const args = ["audit", "--rpc", rpcUrl, "--summary", path.join(dir, "summary.json")];
      const strict = await dsain(args);
      expect(strict.code, strict.stdout + strict.stderr).to.equal(1);
      expect(strict.stdout).to.match(/✗ round 2: updates: update of 0x[0-9a-fA-F]{40} \(\w+\) is not available/);
      const lenient = await dsain([...args, "--allow-missing-updates"]);
      expect(lenient.code, lenient.stdout + lenient.stderr).to.equal(0);
      expect(lenient.stdout).to.match(/⚠ round 2: updates: .*\(allowed by --allow-missing-updates\)/);
      expect(lenient.stdout).to.contain("verdict: PASS with 1 warning(s)");
    } finally {
      await writeFile(file, original);
    }
  });

  it("should exit 1 naming round 1 and its checkpoint when one of its block bytes is corrupted", async function () {
    const store = await openCheckpointStore({ directory: result.ipfsDir });
    const file = blockFilePath(store, result.rounds[0].cid);
    await store.stop();
    const bytes = await readFile(file);
    bytes[100] ^= 0xff;
    await writeFile(file, bytes);
    const out = await dsain([
      "audit",
      "--rpc",
      rpcUrl,
      "--ledger",
      result.ledger,
      "--federation",
      String(result.federationId),
      "--ipfs",
      result.ipfsDir,
    ]);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.contain(`round 1: checkpoint: ${result.rounds[0].cid}`);
    expect(out.stdout).to.contain("verdict: FAIL");
  });

  it("should refuse bad arguments with exit code 2 and a message that names them", async function () {
    const rounds = await dsain(["demo", "--rounds", "0"]);
    expect(rounds.code).to.equal(2);
    expect(rounds.stderr).to.contain("--rounds must be a positive integer");
    const dropouts = await dsain(["demo", "--dropouts", "4"]);
    expect(dropouts.code).to.equal(2);
    expect(dropouts.stderr).to.contain("--dropouts is 4; it must be an integer from 0 to 3");
    const foreign = await mkdtemp(path.join(os.tmpdir(), "dsain-foreign-"));
    await writeFile(path.join(foreign, "precious.txt"), "not the demo's");
    const work = await dsain(["demo", "--work-dir", foreign]);
    expect(work.code).to.equal(2);
    expect(work.stderr).to.contain("refusing to clear it");
    expect(await readFile(path.join(foreign, "precious.txt"), "utf8")).to.equal("not the demo's");
    await rm(foreign, { recursive: true, force: true });
    const audit = await dsain(["audit", "--summary", path.join(dir, "missing.json")]);
    expect(audit.code).to.equal(2);
    expect(audit.stderr).to.match(/--ledger, --federation and --ipfs are needed, or a readable --summary/);
  });
});
