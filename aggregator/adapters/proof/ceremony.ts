// Production Groth16 keys by a phase-2 ceremony (what `dsain zk` runs): an external powers of tau
// pinned by sha256, the initial zkey, contributions from several parties each with its own
// entropy, verification against the r1cs and the ptau, a public beacon, and the export of the
// verifier contract and the verifying-key hash the federation's on-chain parameters pin.
// The state of a ceremony is one directory with a manifest (ceremony.json) and the zkeys.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import {
  compileInstance,
  loadSnarkjs,
  releaseZkWorkers,
  requiredPower,
  snarkjsDir,
  snarkjsVersion,
  withVerifyingKeyHash,
  type VerificationKey,
} from "./keys.js";

export const CEREMONY_FORMAT = 1;
export const CEREMONY_MANIFEST = "ceremony.json";

export interface CeremonyStep {
  index: number;
  kind: "setup" | "contribution" | "beacon";
  file: string;
  sha256: string;
  /** Contributor's name (contribution, beacon). */
  name?: string;
  /** snarkjs' contribution hash (blake2b-512, hex): the contributor publishes it; `zk verify` lists it. */
  contributionHash?: string;
  beacon?: { hash: string; iterationsExp: number };
  at: string;
}

export interface CeremonyManifest {
  format: number;
  instance: string;
  template: string;
  params: number[];
  verifier: string;
  circuitFile: string;
  circuit: { r1csSha256: string; wasmSha256: string; constraints: number; publicInputs: number; power: number };
  ptau: { sha256: string; power: number; file: string };
  snarkjsVersion: string;
  steps: CeremonyStep[];
  /** zkeys that `zk verify` accepted, by sha256. */
  verified: { zkeySha256: string; at: string }[];
  exported?: { zkeySha256: string; vkeyHash: string; verifierFile: string; verifierSha256: string; at: string };
}

type Log = (message: string) => void;

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function quietLogger(log: Log, verbose: boolean) {
  return {
    info: (m: string) => (verbose ? log(`  ${m}`) : undefined),
    debug: () => {},
    warn: (m: string) => log(`  snarkjs: ${m}`),
    error: (m: string) => log(`  snarkjs error: ${m}`),
  };
}

export async function readCeremony(dir: string): Promise<CeremonyManifest> {
  const file = path.join(dir, CEREMONY_MANIFEST);
  let m: CeremonyManifest;
  try {
    m = JSON.parse(await fs.readFile(file, "utf8")) as CeremonyManifest;
  } catch (e) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `${file} is missing or unreadable: run \`dsain zk setup\` first (${ensureError(e).message})`,
      {
        cause: e,
      },
    );
  }
  if (m.format !== CEREMONY_FORMAT || !Array.isArray(m.steps) || m.steps.length === 0) {
    throw new DsainError(ErrorCode.DATA_MALFORMED, `${file} is not a format-${CEREMONY_FORMAT} ceremony manifest`);
  }
  return m;
}

async function writeCeremony(dir: string, m: CeremonyManifest): Promise<void> {
  const file = path.join(dir, CEREMONY_MANIFEST);
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(m, null, 2) + "\n");
  await fs.rename(tmp, file);
}

/** Reads a ptau header's power (section 1) without loading the file. */
async function ptauPower(file: string): Promise<number> {
  const fh = await fs.open(file, "r");
  try {
    const head = Buffer.alloc(28);
    await fh.read(head, 0, head.length, 0);
    if (head.toString("ascii", 0, 4) !== "ptau" || head.readUInt32LE(12) !== 1) throw new Error("not a powers-of-tau file");
    const n8 = head.readUInt32LE(24);
    const rest = Buffer.alloc(n8 + 8);
    await fh.read(rest, 0, rest.length, 28);
    return rest.readUInt32LE(n8);
  } finally {
    await fh.close();
  }
}

/** Refuses a ptau whose sha256 is not the pinned one, and returns its power. */
export async function checkPinnedPtau(ptauPath: string, pinnedSha256: string): Promise<{ sha256: string; power: number }> {
  const pinned = pinnedSha256.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/.test(pinned))
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--ptau-sha256 must be 64 hex digits, got "${pinnedSha256}"`);
  if (!(await exists(ptauPath))) throw new DsainError(ErrorCode.BAD_ARGUMENT, `powers of tau ${ptauPath} does not exist`);
  const sha256 = await sha256File(ptauPath);
  if (sha256 !== pinned) {
    throw new DsainError(
      ErrorCode.ZK_PTAU_MISMATCH,
      `powers of tau ${ptauPath} has sha256 ${sha256}, but ${pinned} is pinned: refusing it (wrong or corrupted file)`,
    );
  }
  let power: number;
  try {
    power = await ptauPower(ptauPath);
  } catch (e) {
    throw new DsainError(ErrorCode.DATA_MALFORMED, `${ptauPath}: ${ensureError(e).message}`, { cause: e });
  }
  return { sha256, power };
}

function zkeyName(instance: string, index: number): string {
  return `${instance}_${String(index).padStart(4, "0")}.zkey`;
}

export interface CeremonySetupOptions {
  instance: string;
  dir: string;
  ptauPath: string;
  ptauSha256: string;
  log?: Log;
  cacheDir?: string;
}

/** Compiles the instance, checks the pinned ptau and writes the initial zkey (step 0, no secret yet). */
export async function ceremonySetup(o: CeremonySetupOptions): Promise<CeremonyManifest> {
  const log = o.log ?? ((m) => console.error(m));
  if (await exists(path.join(o.dir, CEREMONY_MANIFEST))) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `${o.dir} already holds a ceremony; choose an empty directory`);
  }
  const ptau = await checkPinnedPtau(o.ptauPath, o.ptauSha256);
  const compiled = await compileInstance(o.instance, { log, cacheDir: o.cacheDir });
  const power = requiredPower(compiled.info.constraints, compiled.info.publicInputs);
  if (ptau.power < power) {
    throw new DsainError(
      ErrorCode.ZK_SETUP_FAILED,
      `${o.instance} has ${compiled.info.constraints} constraints and needs a powers of tau of 2^${power}; ${o.ptauPath} has 2^${ptau.power}`,
    );
  }
  await fs.mkdir(o.dir, { recursive: true });
  await fs.copyFile(compiled.r1csPath, path.join(o.dir, "circuit.r1cs"));
  await fs.copyFile(compiled.wasmPath, path.join(o.dir, "circuit.wasm"));
  const file = zkeyName(o.instance, 0);
  const snarkjs = await loadSnarkjs();
  try {
    const t0 = Date.now();
    log(`  groth16 setup of ${o.instance} (2^${power} domain) from ${path.basename(o.ptauPath)}...`);
    const csHash = await snarkjs.zKey.newZKey(
      path.join(o.dir, "circuit.r1cs"),
      o.ptauPath,
      path.join(o.dir, file),
      quietLogger(log, false),
    );
    if (csHash === -1 || csHash === false || csHash === undefined) throw new Error("snarkjs zkey new failed (see the log above)");
    log(`  ${file} written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    throw e instanceof DsainError
      ? e
      : new DsainError(ErrorCode.ZK_SETUP_FAILED, `setup of ${o.instance} failed: ${ensureError(e).message}`, { cause: e });
  } finally {
    await releaseZkWorkers();
  }
  const manifest: CeremonyManifest = {
    format: CEREMONY_FORMAT,
    instance: o.instance,
    template: compiled.instance.template,
    params: compiled.instance.params,
    verifier: compiled.instance.verifier,
    circuitFile: compiled.instance.file,
    circuit: {
      r1csSha256: await sha256File(compiled.r1csPath),
      wasmSha256: await sha256File(compiled.wasmPath),
      constraints: compiled.info.constraints,
      publicInputs: compiled.info.publicInputs,
      power,
    },
    ptau: { sha256: ptau.sha256, power: ptau.power, file: path.basename(o.ptauPath) },
    snarkjsVersion: await snarkjsVersion(),
    steps: [{ index: 0, kind: "setup", file, sha256: await sha256File(path.join(o.dir, file)), at: new Date().toISOString() }],
    verified: [],
  };
  await writeCeremony(o.dir, manifest);
  return manifest;
}

/** The latest zkey of a ceremony, refusing one whose bytes differ from what the manifest recorded. */
async function latestStep(dir: string, m: CeremonyManifest): Promise<CeremonyStep> {
  const last = m.steps[m.steps.length - 1];
  const sha256 = await sha256File(path.join(dir, last.file));
  if (sha256 !== last.sha256) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${last.file} has sha256 ${sha256}, but the manifest recorded ${last.sha256}: the file was altered after step ${last.index}`,
    );
  }
  return last;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export interface ContributeOptions {
  dir: string;
  /** The contributor's public name, recorded in the zkey. */
  name: string;
  /**
   * Extra entropy text. snarkjs mixes it with 64 bytes from the system's CSPRNG; when absent, 64
   * more random bytes are used. Whatever it is, the contributor must not keep it.
   */
  entropy?: string;
  log?: Log;
}

export async function ceremonyContribute(o: ContributeOptions): Promise<CeremonyStep> {
  const log = o.log ?? ((m) => console.error(m));
  const m = await readCeremony(o.dir);
  if (!o.name.trim()) throw new DsainError(ErrorCode.BAD_ARGUMENT, "a contribution needs a contributor name (--name)");
  const last = await latestStep(o.dir, m);
  if (last.kind === "beacon")
    throw new DsainError(ErrorCode.BAD_ARGUMENT, "the ceremony is closed by its beacon; no contribution can follow it");
  const index = last.index + 1;
  const file = zkeyName(m.instance, index);
  const snarkjs = (await loadSnarkjs()) as unknown as {
    zKey: { contribute(o: string, n: string, name: string, entropy: string, logger?: unknown): Promise<Uint8Array | false> };
  };
  const entropy = o.entropy && o.entropy.length > 0 ? o.entropy : randomBytes(64).toString("hex");
  let hash: Uint8Array | false;
  try {
    const t0 = Date.now();
    hash = await snarkjs.zKey.contribute(path.join(o.dir, last.file), path.join(o.dir, file), o.name, entropy, quietLogger(log, false));
    if (!hash) throw new Error("snarkjs zkey contribute failed (see the log above)");
    log(`  contribution ${index} by "${o.name}" written to ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `contribution failed: ${ensureError(e).message}`, { cause: e });
  } finally {
    await releaseZkWorkers();
  }
  const step: CeremonyStep = {
    index,
    kind: "contribution",
    file,
    sha256: await sha256File(path.join(o.dir, file)),
    name: o.name,
    contributionHash: hex(hash),
    at: new Date().toISOString(),
  };
  m.steps.push(step);
  await writeCeremony(o.dir, m);
  return step;
}

export interface VerifyOptions {
  dir: string;
  /** The same powers of tau the setup pinned (its sha256 is checked against the manifest). */
  ptauPath: string;
  /** A zkey to check instead of the ceremony's latest one (e.g. one received from a contributor). */
  zkeyPath?: string;
  log?: Log;
  /** Print snarkjs' report (the contribution list with hashes). */
  verbose?: boolean;
}

export interface VerifyResult {
  ok: boolean;
  zkeySha256: string;
  zkeyPath: string;
}

/**
 * snarkjs `zkey verify`: rebuilds the initial zkey from the r1cs and the ptau and checks every
 * contribution's proof of knowledge and that the final key follows from them. A success is
 * recorded in the manifest (export requires it).
 */
export async function ceremonyVerify(o: VerifyOptions): Promise<VerifyResult> {
  const log = o.log ?? ((m) => console.error(m));
  const m = await readCeremony(o.dir);
  await checkPinnedPtau(o.ptauPath, m.ptau.sha256);
  const r1cs = path.join(o.dir, "circuit.r1cs");
  if ((await sha256File(r1cs)) !== m.circuit.r1csSha256) {
    throw new DsainError(ErrorCode.DATA_MALFORMED, `${r1cs} differs from the r1cs the ceremony was set up with`);
  }
  const zkeyPath = o.zkeyPath ?? path.join(o.dir, m.steps[m.steps.length - 1].file);
  const zkeySha256 = await sha256File(zkeyPath);
  const snarkjs = (await loadSnarkjs()) as unknown as {
    zKey: { verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: unknown): Promise<boolean> };
  };
  let ok: boolean;
  try {
    ok = (await snarkjs.zKey.verifyFromR1cs(r1cs, o.ptauPath, zkeyPath, quietLogger(log, o.verbose ?? false))) === true;
  } catch (e) {
    // A zkey too damaged to parse is as invalid as one whose contributions do not check out.
    log(`  zkey verify could not read ${path.basename(zkeyPath)}: ${ensureError(e).message}`);
    ok = false;
  } finally {
    await releaseZkWorkers();
  }
  if (ok && !m.verified.some((v) => v.zkeySha256 === zkeySha256)) {
    m.verified.push({ zkeySha256, at: new Date().toISOString() });
    await writeCeremony(o.dir, m);
  }
  return { ok, zkeySha256, zkeyPath };
}

export interface BeaconOptions {
  dir: string;
  /** Hex of a public random value nobody could predict at the last contribution (e.g. a future block hash). */
  beaconHash: string;
  /** log2 of the hash iterations (snarkjs: 10 to 63). */
  iterationsExp: number;
  name?: string;
  log?: Log;
}

export async function ceremonyBeacon(o: BeaconOptions): Promise<CeremonyStep> {
  const log = o.log ?? ((m) => console.error(m));
  const m = await readCeremony(o.dir);
  const beaconHash = o.beaconHash.toLowerCase().replace(/^0x/, "");
  if (!/^([0-9a-f]{2})+$/.test(beaconHash) || beaconHash.length > 510) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `the beacon hash must be hex (at most 255 bytes), got "${o.beaconHash}"`);
  }
  if (!Number.isInteger(o.iterationsExp) || o.iterationsExp < 10 || o.iterationsExp > 63) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `beacon iterations exponent must be in [10, 63], got ${o.iterationsExp}`);
  }
  const last = await latestStep(o.dir, m);
  if (last.kind === "beacon") throw new DsainError(ErrorCode.BAD_ARGUMENT, "the ceremony already has its beacon");
  if (!m.steps.some((s) => s.kind === "contribution")) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, "no contribution yet: a beacon alone is public, so the key would be forgeable");
  }
  const index = last.index + 1;
  const file = `${m.instance}_final.zkey`;
  const name = o.name ?? "DSAIN final beacon";
  const snarkjs = await loadSnarkjs();
  let hash: unknown;
  try {
    hash = await snarkjs.zKey.beacon(
      path.join(o.dir, last.file),
      path.join(o.dir, file),
      name,
      beaconHash,
      o.iterationsExp,
      quietLogger(log, false),
    );
    if (!hash) throw new Error("snarkjs zkey beacon failed (see the log above)");
  } catch (e) {
    throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `beacon failed: ${ensureError(e).message}`, { cause: e });
  } finally {
    await releaseZkWorkers();
  }
  const step: CeremonyStep = {
    index,
    kind: "beacon",
    file,
    sha256: await sha256File(path.join(o.dir, file)),
    name,
    contributionHash: hex(hash as Uint8Array),
    beacon: { hash: beaconHash, iterationsExp: o.iterationsExp },
    at: new Date().toISOString(),
  };
  m.steps.push(step);
  await writeCeremony(o.dir, m);
  log(`  beacon applied: ${file}`);
  return step;
}

/** "0x" + sha256 of the verifying key's compact JSON: the same vkeyHash keys.ts gives development keys. */
export function verifyingKeyHash(vkey: VerificationKey): string {
  return "0x" + createHash("sha256").update(JSON.stringify(vkey)).digest("hex");
}

export interface ExportResult {
  vkeyHash: string;
  vkeyPath: string;
  verifierPath: string;
  zkeyPath: string;
}

/**
 * Exports vkey.json and <Verifier>.sol from the ceremony's final zkey. Refuses a zkey that
 * `zk verify` has not accepted, and one without a beacon unless `allowWithoutBeacon`.
 */
export async function ceremonyExport(o: { dir: string; out?: string; allowWithoutBeacon?: boolean; log?: Log }): Promise<ExportResult> {
  const log = o.log ?? ((m) => console.error(m));
  const m = await readCeremony(o.dir);
  const last = await latestStep(o.dir, m);
  if (last.kind !== "beacon" && !o.allowWithoutBeacon) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, "the ceremony has no beacon yet: run `dsain zk beacon` (or pass --allow-without-beacon)");
  }
  if (!m.steps.some((s) => s.kind === "contribution")) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, "the ceremony has no contribution: its key would be forgeable");
  }
  if (!m.verified.some((v) => v.zkeySha256 === last.sha256)) {
    throw new DsainError(ErrorCode.ZK_PROOF_INVALID, `${last.file} has not passed \`dsain zk verify\` yet; verify it before exporting`);
  }
  const zkeyPath = path.join(o.dir, last.file);
  const snarkjs = await loadSnarkjs();
  try {
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath);
    const vkeyJson = JSON.stringify(vkey);
    const vkeyHash = verifyingKeyHash(vkey);
    const templates = { groth16: await fs.readFile(path.join(snarkjsDir(), "templates", "verifier_groth16.sol.ejs"), "utf8") };
    const raw = await snarkjs.zKey.exportSolidityVerifier(zkeyPath, templates);
    if (!raw.includes("contract Groth16Verifier {")) {
      throw new DsainError(ErrorCode.ZK_SETUP_FAILED, "snarkjs' verifier template no longer declares `contract Groth16Verifier`");
    }
    const contributors = m.steps.filter((s) => s.kind === "contribution").map((s) => s.name);
    const beacon = m.steps.find((s) => s.kind === "beacon");
    const header =
      `// Generated by snarkjs ${m.snarkjsVersion} from circuits/${m.circuitFile} (${m.instance}) by \`dsain zk export\` — do not edit.\n` +
      `// Phase-2 ceremony: ${contributors.length} contribution(s) (${contributors.join(", ")})` +
      (beacon?.beacon ? `, beacon ${beacon.beacon.hash} (2^${beacon.beacon.iterationsExp} iterations)` : ", NO beacon") +
      `; powers of tau sha256 ${m.ptau.sha256}; zkey sha256 ${last.sha256}; verifying-key hash ${vkeyHash}.\n`;
    const source = withVerifyingKeyHash(
      header + raw.replace("contract Groth16Verifier {", `contract ${m.verifier} {`),
      m.verifier,
      vkeyHash,
    );
    const verifierPath = o.out ?? path.join(o.dir, `${m.verifier}.sol`);
    const vkeyPath = path.join(o.dir, "vkey.json");
    await fs.writeFile(vkeyPath, vkeyJson);
    await fs.mkdir(path.dirname(verifierPath), { recursive: true });
    await fs.writeFile(verifierPath, source);
    m.exported = {
      zkeySha256: last.sha256,
      vkeyHash,
      verifierFile: path.relative(o.dir, verifierPath),
      verifierSha256: createHash("sha256").update(source).digest("hex"),
      at: new Date().toISOString(),
    };
    await writeCeremony(o.dir, m);
    log(`  verifier ${verifierPath}, verifying-key hash ${vkeyHash}`);
    return { vkeyHash, vkeyPath, verifierPath, zkeyPath };
  } finally {
    await releaseZkWorkers();
  }
}
