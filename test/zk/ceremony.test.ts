// `dsain zk` as an operator runs it: a two-party phase-2 ceremony on the smallest circuit instance,
// from a powers of tau pinned by sha256, verified, closed by a beacon and exported; a proof made
// with the final key verifies under the exported verifying key, and a tampered zkey fails `zk verify`.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact } from "../../aggregator/protocol/aggregation.js";
import { checkPinnedPtau, readCeremony, verifyingKeyHash, type CeremonyManifest } from "../../aggregator/adapters/proof/ceremony.js";
import { developmentPtau, loadSnarkjs, releaseZkWorkers, type VerificationKey } from "../../aggregator/adapters/proof/keys.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { buildRoundChunksInput } from "../../aggregator/adapters/proof/sampled.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const INSTANCE = "RoundChunks_1-0-0-1_tiny";

async function dsain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DSAIN, ...args], { cwd: PROJECT_ROOT, timeout: 600_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");
}

/** Byte offset and size of section `type` of a snarkjs binary file ("zkey": magic, version, n, then type/size/data). */
async function sectionOf(file: string, type: number): Promise<{ offset: number; size: number }> {
  const buf = await fs.readFile(file);
  const n = buf.readUInt32LE(8);
  let at = 12;
  for (let i = 0; i < n; i++) {
    const t = buf.readUInt32LE(at);
    const size = Number(buf.readBigUInt64LE(at + 4));
    if (t === type) return { offset: at + 12, size };
    at += 12 + size;
  }
  throw new Error(`no section ${type} in ${file}`);
}

describe("dsain zk: a two-party phase-2 ceremony (" + INSTANCE + ")", function () {
  let dir: string;
  let ptau: string;
  let ptauSha256: string;
  let manifest: CeremonyManifest;

  before(async function () {
    this.timeout(30 * 60_000);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "dsain-ceremony-"));
    // The "external" file: the development ptau cut to 2^14, the smallest the tiny instance (14,502 constraints) takes (production passes a public ceremony's).
    ptau = await developmentPtau(14, { log: (m) => console.log(`      ${m}`) });
    ptauSha256 = await sha256(ptau);
  });

  after(async function () {
    await releaseZkWorkers();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("should refuse a powers of tau whose sha256 is not the pinned one, and write nothing", async function () {
    const wrong = ptauSha256.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const r = await dsain(["zk", "setup", INSTANCE, "--ptau", ptau, "--ptau-sha256", wrong, "--dir", path.join(dir, "refused")]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(ErrorCode.ZK_PTAU_MISMATCH);
    const written = await fs.access(path.join(dir, "refused")).then(
      () => true,
      () => false,
    );
    expect(written, "setup created the ceremony directory despite the mismatch").to.equal(false);
    try {
      await checkPinnedPtau(ptau, wrong);
      expect.fail("accepted");
    } catch (e) {
      expect((e as DsainError).code).to.equal(ErrorCode.ZK_PTAU_MISMATCH);
    }
  });

  it("should set up, take two contributions with their own entropy, and pass `zk verify`", async function () {
    const ceremony = path.join(dir, "ceremony");
    const setup = await dsain(["zk", "setup", INSTANCE, "--ptau", ptau, "--ptau-sha256", ptauSha256, "--dir", ceremony]);
    expect(setup.code, setup.stderr).to.equal(0);
    const alice = await dsain(["zk", "contribute", "--dir", ceremony, "--name", "alice", "--entropy", "alice's dice: 3 1 4 1 5 9 2 6"]);
    expect(alice.code, alice.stderr).to.equal(0);
    const bob = await dsain(["zk", "contribute", "--dir", ceremony, "--name", "bob"]);
    expect(bob.code, bob.stderr).to.equal(0);
    manifest = await readCeremony(ceremony);
    expect(manifest.steps.map((s) => s.kind)).to.deep.equal(["setup", "contribution", "contribution"]);
    expect(manifest.steps[1].contributionHash).to.match(/^[0-9a-f]{128}$/);
    expect(manifest.steps[1].contributionHash).to.not.equal(manifest.steps[2].contributionHash);
    expect(alice.stdout).to.include(manifest.steps[1].contributionHash);

    const verify = await dsain(["zk", "verify", "--dir", ceremony, "--ptau", ptau]);
    expect(verify.code, verify.stderr).to.equal(0);
    expect(verify.stdout).to.include("VALID");
  });

  it("should fail `zk verify` on a tampered zkey (one byte of the C points changed) and on the wrong ptau", async function () {
    const ceremony = path.join(dir, "ceremony");
    const latest = path.join(ceremony, manifest.steps[2].file);
    const tampered = path.join(dir, "tampered.zkey");
    const bytes = await fs.readFile(latest);
    const c = await sectionOf(latest, 8);
    bytes[c.offset + Math.floor(c.size / 2)] ^= 0x01;
    await fs.writeFile(tampered, bytes);
    const r = await dsain(["zk", "verify", "--dir", ceremony, "--ptau", ptau, "--zkey", tampered]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include("INVALID");

    const otherPtau = await developmentPtau(15);
    const wrongPtau = await dsain(["zk", "verify", "--dir", ceremony, "--ptau", otherPtau]);
    expect(wrongPtau.code).to.equal(1);
    expect(wrongPtau.stderr).to.include(ErrorCode.ZK_PTAU_MISMATCH);
  });

  it("should refuse to export before a beacon and before verification, then export after both", async function () {
    const ceremony = path.join(dir, "ceremony");
    const early = await dsain(["zk", "export", "--dir", ceremony]);
    expect(early.code).to.equal(2); // bad usage: the ceremony is not ready for export (README: exit codes)
    expect(early.stderr).to.include("no beacon");

    const beacon = await dsain(["zk", "beacon", "--dir", ceremony, "--hash", "0x" + "5a".repeat(32), "--iterations", "10"]);
    expect(beacon.code, beacon.stderr).to.equal(0);
    const unverified = await dsain(["zk", "export", "--dir", ceremony]);
    expect(unverified.code).to.equal(1);
    expect(unverified.stderr).to.include("has not passed");

    expect((await dsain(["zk", "verify", "--dir", ceremony, "--ptau", ptau])).code).to.equal(0);
    const exported = await dsain(["zk", "export", "--dir", ceremony]);
    expect(exported.code, exported.stderr).to.equal(0);
    manifest = await readCeremony(ceremony);
    const vkey = JSON.parse(await fs.readFile(path.join(ceremony, "vkey.json"), "utf8")) as VerificationKey;
    expect(manifest.exported?.vkeyHash).to.equal(verifyingKeyHash(vkey));
    expect(exported.stdout).to.include(`verifying-key hash: ${manifest.exported?.vkeyHash}`);
    const sol = await fs.readFile(path.join(ceremony, `${manifest.verifier}.sol`), "utf8");
    expect(sol).to.include(`contract ${manifest.verifier} {`);
    expect(sol).to.include("2 contribution(s) (alice, bob)");
    expect(sol).to.not.include("DEVELOPMENT KEY");
  });

  it("should prove with the ceremony's final zkey and verify under the exported verifying key", async function () {
    const ceremony = path.join(dir, "ceremony");
    const prev = Int32Array.from({ length: 16 }, (_, i) => i * 1000 - 7000);
    const delta = Int32Array.from({ length: 16 }, (_, i) => (i % 3) - 1);
    const next = aggregateExact(prev, [delta], [65536]);
    const { input, publicSignals } = await buildRoundChunksInput({ prev, next, deltas: [delta], weights: [65536], chunkIndices: [0] });
    const snarkjs = await loadSnarkjs();
    const final = path.join(ceremony, manifest.steps[manifest.steps.length - 1].file);
    const proved = await snarkjs.groth16.fullProve(input, path.join(ceremony, "circuit.wasm"), final);
    expect(proved.publicSignals).to.deep.equal(publicSignals);
    const vkey = JSON.parse(await fs.readFile(path.join(ceremony, "vkey.json"), "utf8")) as VerificationKey;
    expect(await snarkjs.groth16.verify(vkey, proved.publicSignals, proved.proof)).to.equal(true);
    const bad = [...proved.publicSignals];
    bad[1] = (BigInt(bad[1]) + 1n).toString();
    expect(await snarkjs.groth16.verify(vkey, bad, proved.proof)).to.equal(false);
  });
});
