// Development Groth16 keys for the circuit instances in circuits/circuits.json: compiles the
// circuit, derives the powers of tau, runs a deterministic setup and exports the verifying key
// and Solidity verifier, all cached in the git-ignored .cache/zk/ (MACI's pattern, simplified).
//
// DEVELOPMENT KEYS ONLY. Phase 2 here is a single *public* beacon contribution, so its secret
// delta is known to everyone who reads this file; with snarkjs' fixed gamma that is enough to
// forge a proof for any public inputs. The keys exist so the pipeline, the tests and the demo
// are reproducible byte for byte; production needs a phase 2 ceremony with secret contributions.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { PROJECT_ROOT } from "../../paths.js";
import { PROTOCOL_VERSION } from "../../protocol/constants.js";

const execFileAsync = promisify(execFile);

export const CIRCUITS_DIR = path.join(PROJECT_ROOT, "circuits");
export const CIRCUITS_JSON = path.join(CIRCUITS_DIR, "circuits.json");
export const ZK_CACHE_DIR = path.join(PROJECT_ROOT, ".cache", "zk");

/** The shared development powers of tau (2^17, prepared) and its pinned sha256 (its README). */
export const DEV_PTAU_DEFAULT = "../shared/zk/dev-pot17.ptau";
export const DEV_PTAU_SHA256 = "5ce32b6c4068b8e646c1560b32c38e1921bdd8f0676009f5c79f6f94a4167f61";

/**
 * Phase-2 beacon: sha256 of the ASCII string "DSAIN development zkey beacon v1", applied with
 * 2^10 iterations (snarkjs' minimum). Fixed on purpose, so the same ptau and r1cs always give the
 * same zkey, verifying key and Solidity verifier; reproducible with the CLI as
 * `snarkjs zkey beacon main_0000.zkey main.zkey <hash> 10 -n="DSAIN development beacon"`.
 */
export const ZKEY_BEACON_HASH = "c8a1a6898ccffe080fdedc35b3334c41accd7df542f5b12adfda2d3b42f9b23b";
export const ZKEY_BEACON_ITERATIONS_EXP = 10;
export const ZKEY_BEACON_NAME = "DSAIN development beacon";

/** Beacon of the fallback local powers of tau: sha256("DSAIN development ptau beacon v1"). */
export const PTAU_BEACON_HASH = "430ce706755abe0fcf3306d801ab80fee5c4b70a21dd698b6f9ef01f89b7bf99";
export const PTAU_BEACON_NAME = "DSAIN development ptau beacon";

export const DEV_KEY_WARNING =
  "DEVELOPMENT KEY — NOT FOR PRODUCTION: made from a single-contributor development powers of tau and a " +
  "public, fixed phase-2 beacon, so anyone can forge proofs against it. Use keys from a real phase-2 ceremony in production.";

/** Bumped whenever the layout or meaning of the cached files changes. */
const CACHE_FORMAT = 1;

// --- snarkjs, loaded lazily (it pulls in WASM curves and worker threads) ----------------------

type Logger = { info(m: string): void; debug(m: string): void; warn(m: string): void; error(m: string): void };

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

export interface VerificationKey {
  protocol: string;
  curve: string;
  nPublic: number;
  IC: string[][];
  [field: string]: unknown;
}

export type CircuitSignals = Record<string, unknown>;

/** The parts of snarkjs 0.7.6's API this project uses (the package ships no typings). */
export interface SnarkJs {
  r1cs: {
    info(
      r1csPath: string,
      logger?: Logger,
    ): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nPrvInputs: number; nVars: number }>;
  };
  powersOfTau: {
    truncate(ptauPath: string, template: string, logger?: Logger): Promise<boolean>;
    newAccumulator(curve: unknown, power: number, ptauPath: string, logger?: Logger): Promise<unknown>;
    beacon(oldPath: string, newPath: string, name: string, beaconHash: string, iterationsExp: number, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPath: string, newPath: string, logger?: Logger): Promise<unknown>;
  };
  curves: { getCurveFromName(name: string): Promise<unknown> };
  zKey: {
    newZKey(r1csPath: string, ptauPath: string, zkeyPath: string, logger?: Logger): Promise<unknown>;
    beacon(oldPath: string, newPath: string, name: string, beaconHash: string, iterationsExp: number, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkeyPath: string, logger?: Logger): Promise<VerificationKey>;
    exportSolidityVerifier(zkeyPath: string, templates: Record<string, string>, logger?: Logger): Promise<string>;
  };
  wtns: { calculate(input: CircuitSignals, wasmPath: string, out: string | { type: "mem"; data?: Uint8Array }): Promise<void> };
  groth16: {
    prove(
      zkeyPath: string,
      witness: string | { type: "mem"; data?: Uint8Array },
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(
      input: CircuitSignals,
      wasmPath: string,
      zkeyPath: string,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vkey: VerificationKey, publicSignals: readonly string[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
  };
}

let snarkjsModule: Promise<SnarkJs> | undefined;

export function loadSnarkjs(): Promise<SnarkJs> {
  // A variable specifier keeps TypeScript from demanding typings the package does not have.
  const specifier = "snarkjs";
  snarkjsModule ??= import(specifier).then((m: unknown) => m as SnarkJs);
  return snarkjsModule;
}

/**
 * Terminates the worker threads snarkjs' bn128 curve keeps alive (MACI's cleanThreads); without
 * it a process that used snarkjs never exits. The next snarkjs call simply builds the curve again.
 */
export async function releaseZkWorkers(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  if (g.curve_bn128) await g.curve_bn128.terminate();
}

export function snarkjsDir(): string {
  try {
    return path.dirname(fileURLToPath(import.meta.resolve("snarkjs")));
  } catch {
    return path.join(PROJECT_ROOT, "node_modules", "snarkjs");
  }
}

let snarkjsVersionMemo: string | undefined;
export async function snarkjsVersion(): Promise<string> {
  snarkjsVersionMemo ??= (JSON.parse(await fs.readFile(path.join(snarkjsDir(), "package.json"), "utf8")) as { version: string }).version;
  return snarkjsVersionMemo;
}

// --- circuits.json ---------------------------------------------------------------------------

export interface CircuitInstance {
  name: string;
  file: string;
  template: string;
  params: number[];
  pubs: string[];
  verifier: string;
  note?: string;
}

export async function loadCircuitInstances(): Promise<CircuitInstance[]> {
  const raw = JSON.parse(await fs.readFile(CIRCUITS_JSON, "utf8")) as Record<string, Omit<CircuitInstance, "name">>;
  return Object.entries(raw).map(([name, spec]) => {
    const ok =
      typeof spec.file === "string" &&
      typeof spec.template === "string" &&
      Array.isArray(spec.params) &&
      spec.params.every((p) => Number.isInteger(p)) &&
      Array.isArray(spec.pubs) &&
      typeof spec.verifier === "string" &&
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.verifier) &&
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.template) &&
      spec.pubs.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p));
    if (!ok)
      throw new DsainError(
        ErrorCode.DATA_MALFORMED,
        `circuits/circuits.json: instance ${name} is malformed (file, template, params, pubs, verifier)`,
      );
    return { name, ...spec };
  });
}

export async function loadCircuitInstance(name: string): Promise<CircuitInstance> {
  const all = await loadCircuitInstances();
  const found = all.find((c) => c.name === name);
  if (!found) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `no circuit instance "${name}" in circuits/circuits.json (known: ${all.map((c) => c.name).join(", ")})`,
    );
  }
  return found;
}

/** The main component circom compiles for an instance. */
export function mainSource(instance: CircuitInstance): string {
  return (
    `// Generated by aggregator/adapters/proof/keys.ts for ${instance.name}; do not edit.\n` +
    `pragma circom 2.1.0;\n` +
    `include "${instance.file}";\n` +
    `component main {public [${instance.pubs.join(", ")}]} = ${instance.template}(${instance.params.join(", ")});\n`
  );
}

// --- hashing helpers ---------------------------------------------------------------------------

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every circom source an instance compiles, found by following `include` lines the way circom
 * does (relative to the including file, then circuits/, then node_modules/), with its sha256.
 */
async function circuitSources(instance: CircuitInstance): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const queue: string[] = [path.join(CIRCUITS_DIR, instance.file)];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const key = path.relative(PROJECT_ROOT, file);
    if (key in out) continue;
    const text = await fs.readFile(file, "utf8");
    out[key] = sha256Hex(text);
    for (const m of text.matchAll(/^\s*include\s+"([^"]+)"\s*;/gm)) {
      const candidates = [
        path.resolve(path.dirname(file), m[1]),
        path.join(CIRCUITS_DIR, m[1]),
        path.join(PROJECT_ROOT, "node_modules", m[1]),
      ];
      let found: string | undefined;
      for (const c of candidates) {
        if (await exists(c)) {
          found = c;
          break;
        }
      }
      if (!found)
        throw new DsainError(
          ErrorCode.ZK_SETUP_FAILED,
          `${key} includes "${m[1]}", which is not found beside it, in circuits/ or in node_modules/`,
        );
      queue.push(found);
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

// --- powers of tau -----------------------------------------------------------------------------

export interface PtauSource {
  /** Absolute path of the prepared source file. */
  path: string;
  sha256: string;
  power: number;
  /** "shared" (DSAIN_PTAU or ../shared), or "local" (generated here because none was found). */
  kind: "shared" | "local";
}

/** The power of a ptau file, from its header (section 1: n8, q, power, ceremonyPower). */
async function ptauPower(file: string): Promise<number> {
  const fh = await fs.open(file, "r");
  try {
    // "ptau", version u32, nSections u32, then sections: type u32, size u64, data.
    const head = Buffer.alloc(12 + 12 + 4);
    await fh.read(head, 0, head.length, 0);
    if (head.toString("ascii", 0, 4) !== "ptau") throw new Error("not a ptau file");
    const type = head.readUInt32LE(12);
    if (type !== 1) throw new Error("unexpected first section");
    const n8 = head.readUInt32LE(24);
    const rest = Buffer.alloc(n8 + 8);
    await fh.read(rest, 0, rest.length, 28);
    return rest.readUInt32LE(n8);
  } finally {
    await fh.close();
  }
}

/** sha256 of a large file, remembered in .cache/zk/ptau/sha256.json by (path, size, mtime). */
async function cachedFileSha256(file: string, cacheDir: string): Promise<string> {
  const st = await fs.stat(file);
  const memoFile = path.join(cacheDir, "ptau", "sha256.json");
  let memo: Record<string, { size: number; mtimeMs: number; sha256: string }> = {};
  try {
    memo = JSON.parse(await fs.readFile(memoFile, "utf8"));
  } catch {
    memo = {};
  }
  const hit = memo[file];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = await sha256File(file);
  memo[file] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  await fs.mkdir(path.dirname(memoFile), { recursive: true });
  await writeAtomic(memoFile, JSON.stringify(memo, null, 2) + "\n");
  return sha256;
}

/**
 * The powers of tau to derive keys from: $DSAIN_PTAU, else ../shared/zk/dev-pot17.ptau (both
 * relative to the project root), checked against the pinned sha256 ($DSAIN_PTAU_SHA256 pins a
 * different file, e.g. a public ceremony's). With neither present, a local one is generated.
 */
export async function resolvePtau(minPower: number, log: (m: string) => void, cacheDir: string = ZK_CACHE_DIR): Promise<PtauSource> {
  const explicit = process.env.DSAIN_PTAU;
  const file = path.resolve(PROJECT_ROOT, explicit || DEV_PTAU_DEFAULT);
  if (await exists(file)) {
    const expected = (process.env.DSAIN_PTAU_SHA256 || DEV_PTAU_SHA256).toLowerCase();
    const sha256 = await cachedFileSha256(file, cacheDir);
    if (sha256 !== expected) {
      throw new DsainError(
        ErrorCode.ZK_PTAU_MISMATCH,
        `powers of tau ${file} has sha256 ${sha256}, expected ${expected}; the file is corrupt or not the pinned one ` +
          `(set DSAIN_PTAU_SHA256 to pin a different ceremony file deliberately)`,
      );
    }
    const power = await ptauPower(file);
    if (power < minPower) {
      throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `powers of tau ${file} has power ${power}, the circuit needs 2^${minPower}`);
    }
    return { path: file, sha256, power, kind: "shared" };
  }
  if (explicit) throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `DSAIN_PTAU is set to ${explicit}, but ${file} does not exist`);
  return generateLocalPtau(minPower, log, cacheDir);
}

/**
 * Generates a prepared development powers of tau of 2^power: `new` (tau = 1, no randomness), a
 * fixed beacon, then `prepare phase2`. Deterministic, and slow: about 15 min at 2^14 on 2 cores.
 */
export async function generateLocalPtau(power: number, log: (m: string) => void, cacheDir: string = ZK_CACHE_DIR): Promise<PtauSource> {
  const dir = path.join(cacheDir, "ptau");
  const final = path.join(dir, `dsain-local-pot${String(power).padStart(2, "0")}.ptau`);
  if (!(await exists(final))) {
    const banner = "!".repeat(100);
    log(banner);
    log(`No powers of tau found (${DEV_PTAU_DEFAULT} or $DSAIN_PTAU). Generating a local DEVELOPMENT one of 2^${power}.`);
    log(`This takes a long time: about 1 min at 2^12, ~15 min at 2^14, ~20 min at 2^16 on 2 cores (prepare phase2 dominates).`);
    log(`It is cached in ${path.relative(PROJECT_ROOT, final)}. Its tau comes from a public beacon, so its secret is known to all.`);
    log(DEV_KEY_WARNING);
    log(banner);
    const snarkjs = await loadSnarkjs();
    const tmp = path.join(dir, `tmp-local-${process.pid}-${randomBytes(4).toString("hex")}`);
    await fs.mkdir(tmp, { recursive: true });
    try {
      const t0 = Date.now();
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      await snarkjs.powersOfTau.newAccumulator(curve, power, path.join(tmp, "p0.ptau"));
      await snarkjs.powersOfTau.beacon(
        path.join(tmp, "p0.ptau"),
        path.join(tmp, "p1.ptau"),
        PTAU_BEACON_NAME,
        PTAU_BEACON_HASH,
        ZKEY_BEACON_ITERATIONS_EXP,
      );
      log(`  powers of tau: new + beacon ${((Date.now() - t0) / 1000).toFixed(1)} s; preparing phase 2...`);
      const t1 = Date.now();
      await snarkjs.powersOfTau.preparePhase2(path.join(tmp, "p1.ptau"), path.join(tmp, "final.ptau"));
      log(`  powers of tau: prepare phase2 ${((Date.now() - t1) / 1000).toFixed(1)} s`);
      await fs.rename(path.join(tmp, "final.ptau"), final);
    } catch (e) {
      throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `generating a local powers of tau failed: ${ensureError(e).message}`, { cause: e });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
      await releaseZkWorkers();
    }
  }
  return { path: final, sha256: await cachedFileSha256(final, cacheDir), power, kind: "local" };
}

/** The source ptau cut down to exactly 2^power (snarkjs powersoftau truncate), cached. */
async function truncatedPtau(source: PtauSource, power: number, log: (m: string) => void, cacheDir: string): Promise<string> {
  if (source.power === power) return source.path;
  const dir = path.join(cacheDir, "ptau");
  const target = path.join(dir, `${source.sha256.slice(0, 16)}-pot${String(power).padStart(2, "0")}.ptau`);
  if (await exists(target)) return target;
  const snarkjs = await loadSnarkjs();
  const tmp = path.join(dir, `tmp-truncate-${process.pid}-${randomBytes(4).toString("hex")}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    const t0 = Date.now();
    // truncate writes every power below the source's (<template>01.ptau ... ); keep the one needed.
    await snarkjs.powersOfTau.truncate(source.path, path.join(tmp, "pot"));
    await fs.rename(path.join(tmp, `pot${String(power).padStart(2, "0")}.ptau`), target);
    log(`  powers of tau: truncated ${path.basename(source.path)} to 2^${power} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return target;
}

/**
 * A prepared development powers of tau of exactly 2^power (the shared or local one of resolvePtau,
 * truncated and cached): what tests use as the "external" file of a ceremony. Not for production.
 */
export async function developmentPtau(power: number, options: EnsureOptions = {}): Promise<string> {
  const log = options.log ?? ((m: string) => console.error(m));
  const cacheDir = path.resolve(options.cacheDir ?? ZK_CACHE_DIR);
  try {
    return await truncatedPtau(await resolvePtau(power, log, cacheDir), power, log, cacheDir);
  } finally {
    await releaseZkWorkers();
  }
}

// --- the key pipeline ---------------------------------------------------------------------------

export interface CircuitKeys {
  name: string;
  instance: CircuitInstance;
  /** Directory holding all of this instance's cached artefacts. */
  dir: string;
  r1csPath: string;
  wasmPath: string;
  zkeyPath: string;
  vkeyPath: string;
  vkey: VerificationKey;
  /** "0x" + sha256 of vkey.json's exact bytes (compact JSON.stringify of the snarkjs vkey). */
  vkeyHash: string;
  constraints: number;
  publicInputs: number;
  /** Solidity verifier, with header and contract renamed; what contracts/verifiers/ must hold. */
  verifierSource: string;
  manifest: KeysManifest;
}

export interface KeysManifest {
  format: number;
  instance: string;
  warning: string;
  compileKey: string;
  setupKey: string;
  snarkjsVersion: string;
  circomVersion: string;
  sources: Record<string, string>;
  ptau: { kind: string; sha256: string; sourcePower: number; power: number };
  beacon: { name: string; hash: string; iterationsExp: number };
  constraints: number;
  publicInputs: number;
  vkeyHash: string;
  zkeySha256: string;
  verifierSha256: string;
  timingsMs: Record<string, number>;
}

export interface EnsureOptions {
  log?: (message: string) => void;
  /** Cache directory (default .cache/zk/ under the project root). */
  cacheDir?: string;
}

const inProcess = new Map<string, Promise<CircuitKeys>>();

/** Compiles and sets up `instanceName` unless the cache already holds its keys; memoized per process. */
export function ensureCircuitKeys(instanceName: string, options: EnsureOptions = {}): Promise<CircuitKeys> {
  const cacheDir = path.resolve(options.cacheDir ?? ZK_CACHE_DIR);
  const memoKey = `${cacheDir}\0${instanceName}`;
  let p = inProcess.get(memoKey);
  if (!p) {
    p = buildCircuitKeys(instanceName, options.log ?? ((m) => console.error(m)), cacheDir);
    inProcess.set(memoKey, p);
    p.catch(() => inProcess.delete(memoKey));
  }
  return p;
}

/** Drops the per-process memo, so the next ensureCircuitKeys re-reads (or rebuilds) the cache. */
export function forgetCircuitKeys(): void {
  inProcess.clear();
}

async function circomVersion(): Promise<string> {
  const pkg = JSON.parse(await fs.readFile(path.join(PROJECT_ROOT, "node_modules", "circom2", "package.json"), "utf8")) as {
    version: string;
  };
  return `circom2-npm-${pkg.version}`;
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** Moves a finished temporary directory into place; if another process won the race, keeps theirs. */
async function publishDir(tmp: string, final: string): Promise<void> {
  try {
    await fs.rename(tmp, final);
  } catch (e) {
    if (await exists(path.join(final, "keys.json"))) {
      await fs.rm(tmp, { recursive: true, force: true });
      return;
    }
    throw e;
  }
}

function snarkLogger(log: (m: string) => void): Logger {
  return { info: () => {}, debug: () => {}, warn: (m) => log(`  snarkjs: ${m}`), error: (m) => log(`  snarkjs error: ${m}`) };
}

/** Smallest power of two domain snarkjs' groth16 setup needs (zkey_new.js: constraints + publics). */
export function requiredPower(constraints: number, publicInputs: number): number {
  let power = 1;
  while (2 ** power < constraints + publicInputs + 1) power++;
  return power;
}

async function compileCircuit(instance: CircuitInstance, compileDir: string, log: (m: string) => void): Promise<{ ms: number }> {
  const t0 = Date.now();
  const tmp = `${compileDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.mkdir(tmp, { recursive: true });
  await fs.writeFile(path.join(tmp, "main.circom"), mainSource(instance));
  // circom2 is a WASI build whose file access is relative to its working directory, so it runs
  // from the project root with project-relative paths (its CLI relativizes them anyway).
  const cli = path.join(PROJECT_ROOT, "node_modules", "circom2", "cli.js");
  const args = [
    cli,
    path.relative(PROJECT_ROOT, path.join(tmp, "main.circom")),
    "--r1cs",
    "--wasm",
    "--O2",
    "-l",
    "node_modules",
    "-l",
    "circuits",
    "-o",
    path.relative(PROJECT_ROOT, tmp),
  ];
  log(`  compiling ${instance.file} as ${instance.template}(${instance.params.join(", ")}) with circom2 --O2...`);
  try {
    await execFileAsync(process.execPath, args, { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    const err = e as { stdout?: string; stderr?: string; message?: string };
    throw new DsainError(
      ErrorCode.ZK_SETUP_FAILED,
      `circom failed on ${instance.name}:\n${err.stdout ?? ""}${err.stderr ?? ""}${err.message ?? ""}`,
      { cause: e },
    );
  }
  // Only the artefacts the pipeline needs are kept (circom also writes a JS witness helper).
  await fs.rename(path.join(tmp, "main_js", "main.wasm"), path.join(tmp, "main.wasm"));
  await fs.rm(path.join(tmp, "main_js"), { recursive: true, force: true });
  await fs.writeFile(path.join(tmp, "keys.json"), JSON.stringify({ compiled: true }) + "\n");
  await publishDir(tmp, compileDir);
  return { ms: Date.now() - t0 };
}

function readmeText(instance: CircuitInstance, manifest: KeysManifest): string {
  const bar = "=".repeat(78);
  return [
    bar,
    "DEVELOPMENT KEY — NOT FOR PRODUCTION",
    bar,
    "",
    `Groth16 keys for ${instance.name}: ${instance.template}(${instance.params.join(", ")}) from circuits/${instance.file}.`,
    "",
    DEV_KEY_WARNING,
    "",
    "Phase 2 consists of snarkjs' zkey_0000 (no randomness) plus one public beacon:",
    `  name "${manifest.beacon.name}", hash ${manifest.beacon.hash}, 2^${manifest.beacon.iterationsExp} iterations.`,
    `Powers of tau: ${manifest.ptau.kind} file, sha256 ${manifest.ptau.sha256}, truncated to 2^${manifest.ptau.power}.`,
    `snarkjs ${manifest.snarkjsVersion}, ${manifest.circomVersion}; ${manifest.constraints} constraints, ${manifest.publicInputs} public inputs.`,
    `Verifying-key hash (sha256 of vkey.json): ${manifest.vkeyHash}`,
    "",
    "Generated by aggregator/adapters/proof/keys.ts; delete this directory to rebuild it.",
    "",
  ].join("\n");
}

/** The Solidity verifier source as committed under contracts/verifiers/. */
export function decorateVerifier(raw: string, instance: CircuitInstance, version: string): string {
  if (!raw.includes("contract Groth16Verifier {")) {
    throw new DsainError(
      ErrorCode.ZK_SETUP_FAILED,
      "snarkjs' verifier template no longer declares `contract Groth16Verifier`; update decorateVerifier",
    );
  }
  const header =
    `// Generated by snarkjs ${version} from circuits/${instance.file} (${instance.name}), DSAIN protocol version ${PROTOCOL_VERSION} — do not edit; regenerate with npm run generate:verifiers\n` +
    `// ${DEV_KEY_WARNING}\n`;
  return header + raw.replace("contract Groth16Verifier {", `contract ${instance.verifier} {`);
}

/**
 * `source` (a verifier exported by snarkjs and named `contractName`) with the hash of the verifying
 * key it was generated from as a constant, `VERIFYING_KEY_HASH()`: the ledger refuses a federation
 * whose pinned `verifyingKeyHash` differs from its verifier's (docs/protocol.md §9).
 */
export function withVerifyingKeyHash(source: string, contractName: string, vkeyHash: string): string {
  const opening = `contract ${contractName} {`;
  if (!/^0x[0-9a-f]{64}$/.test(vkeyHash)) {
    throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `verifying-key hash ${vkeyHash} is not 32 bytes of lowercase hex`);
  }
  if (source.split(opening).length !== 2) {
    throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `the verifier source does not declare \`${opening}\` exactly once`);
  }
  return source.replace(
    opening,
    `${opening}\n    /// @dev sha256 of the verifying key (snarkjs' vkey.json) this verifier checks proofs against.\n` +
      `    bytes32 public constant VERIFYING_KEY_HASH = ${vkeyHash};\n`,
  );
}

/** A compiled circuit instance in the cache: r1cs, witness generator and its size. */
export interface CompiledCircuit {
  instance: CircuitInstance;
  compileKey: string;
  compileDir: string;
  r1csPath: string;
  wasmPath: string;
  sources: Record<string, string>;
  circomVersion: string;
  info: { constraints: number; publicInputs: number; privateInputs: number; wires: number };
  /** Set when this call compiled (rather than found the cache). */
  compileMs?: number;
}

async function compileCached(
  instance: CircuitInstance,
  log: (m: string) => void,
  cacheDir: string,
): Promise<{ compiled: CompiledCircuit; usedSnarkjs: boolean }> {
  const circom = await circomVersion();
  const sources = await circuitSources(instance);
  const compileKey = sha256Hex(
    JSON.stringify({ format: CACHE_FORMAT, instance: { ...instance, note: undefined }, main: mainSource(instance), sources, circom }),
  ).slice(0, 16);
  const compileDir = path.join(cacheDir, `${instance.name}-${compileKey}`);
  const r1csPath = path.join(compileDir, "main.r1cs");
  const wasmPath = path.join(compileDir, "main.wasm");
  let usedSnarkjs = false;
  let compileMs: number | undefined;

  if (!(await exists(path.join(compileDir, "keys.json")))) {
    compileMs = (await compileCircuit(instance, compileDir, log)).ms;
    log(`  compiled in ${(compileMs / 1000).toFixed(1)} s`);
  }

  // Circuit size from the r1cs header (snarkjs r1cs info); cached beside it.
  const infoPath = path.join(compileDir, "r1cs-info.json");
  let info: CompiledCircuit["info"];
  if (await exists(infoPath)) {
    info = JSON.parse(await fs.readFile(infoPath, "utf8"));
  } else {
    const snarkjs = await loadSnarkjs();
    usedSnarkjs = true;
    const r = await snarkjs.r1cs.info(r1csPath);
    info = { constraints: r.nConstraints, publicInputs: r.nPubInputs + r.nOutputs, privateInputs: r.nPrvInputs, wires: r.nVars };
    await writeAtomic(infoPath, JSON.stringify(info, null, 2) + "\n");
    log(
      `  ${instance.name}: ${info.constraints} constraints, ${info.publicInputs} public inputs, ${info.privateInputs} private inputs, ${info.wires} wires`,
    );
  }
  const expectedPublics = instance.pubs.length; // sanity: arrays expand, so only a lower bound
  if (info.publicInputs < expectedPublics) {
    throw new DsainError(
      ErrorCode.ZK_SETUP_FAILED,
      `${instance.name}: r1cs has ${info.publicInputs} public inputs, fewer than its ${expectedPublics} public signals`,
    );
  }
  return {
    compiled: { instance, compileKey, compileDir, r1csPath, wasmPath, sources, circomVersion: circom, info, compileMs },
    usedSnarkjs,
  };
}

/** Compiles an instance of circuits/circuits.json (cached, shared with ensureCircuitKeys) without any setup. */
export async function compileInstance(instanceName: string, options: EnsureOptions = {}): Promise<CompiledCircuit> {
  const instance = await loadCircuitInstance(instanceName);
  const { compiled, usedSnarkjs } = await compileCached(
    instance,
    options.log ?? ((m) => console.error(m)),
    path.resolve(options.cacheDir ?? ZK_CACHE_DIR),
  );
  if (usedSnarkjs) await releaseZkWorkers();
  return compiled;
}

async function buildCircuitKeys(instanceName: string, log: (m: string) => void, cacheDir: string): Promise<CircuitKeys> {
  const instance = await loadCircuitInstance(instanceName);
  const version = await snarkjsVersion();
  const timingsMs: Record<string, number> = {};
  let usedSnarkjs = false;

  try {
    const { compiled, usedSnarkjs: compileUsedSnarkjs } = await compileCached(instance, log, cacheDir);
    usedSnarkjs = compileUsedSnarkjs;
    const { compileKey, compileDir, r1csPath, wasmPath, sources, info } = compiled;
    const circom = compiled.circomVersion;
    if (compiled.compileMs !== undefined) timingsMs.compile = compiled.compileMs;

    const power = requiredPower(info.constraints, info.publicInputs);
    const ptau = await resolvePtau(power, log, cacheDir);
    const setupKey = sha256Hex(
      JSON.stringify({
        format: CACHE_FORMAT,
        compileKey,
        ptauSha256: ptau.sha256,
        power,
        snarkjs: version,
        beacon: [ZKEY_BEACON_NAME, ZKEY_BEACON_HASH, ZKEY_BEACON_ITERATIONS_EXP],
      }),
    ).slice(0, 16);
    const keysDir = path.join(compileDir, `keys-${setupKey}`);
    const manifestPath = path.join(keysDir, "keys.json");

    if (!(await exists(manifestPath))) {
      const snarkjs = await loadSnarkjs();
      usedSnarkjs = true;
      const slog = snarkLogger(log);
      log(`  setting up ${instance.name} (groth16, 2^${power} domain) from ${ptau.kind} powers of tau ${ptau.sha256.slice(0, 16)}...`);
      let t = Date.now();
      const ptauPath = await truncatedPtau(ptau, power, log, cacheDir);
      timingsMs.truncate = Date.now() - t;

      const tmp = `${keysDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
      await fs.mkdir(tmp, { recursive: true });
      try {
        const zkey0 = path.join(tmp, "main_0000.zkey");
        const zkeyTmp = path.join(tmp, "main.zkey");
        t = Date.now();
        const csHash = await snarkjs.zKey.newZKey(r1csPath, ptauPath, zkey0, slog);
        if (csHash === -1 || csHash === false || csHash === undefined) throw new Error("snarkjs zkey new failed (see the log above)");
        timingsMs.setup = Date.now() - t;
        log(`  groth16 setup (zkey_0000) ${(timingsMs.setup / 1000).toFixed(1)} s`);

        t = Date.now();
        const contribution = await snarkjs.zKey.beacon(
          zkey0,
          zkeyTmp,
          ZKEY_BEACON_NAME,
          ZKEY_BEACON_HASH,
          ZKEY_BEACON_ITERATIONS_EXP,
          slog,
        );
        if (contribution === false || contribution === undefined) throw new Error("snarkjs zkey beacon failed (see the log above)");
        timingsMs.beacon = Date.now() - t;
        log(`  zkey beacon ${(timingsMs.beacon / 1000).toFixed(1)} s`);
        await fs.rm(zkey0);

        t = Date.now();
        const vkey = await snarkjs.zKey.exportVerificationKey(zkeyTmp);
        const vkeyJson = JSON.stringify(vkey);
        await fs.writeFile(path.join(tmp, "vkey.json"), vkeyJson);
        const templates = { groth16: await fs.readFile(path.join(snarkjsDir(), "templates", "verifier_groth16.sol.ejs"), "utf8") };
        const verifierSource = decorateVerifier(await snarkjs.zKey.exportSolidityVerifier(zkeyTmp, templates), instance, version);
        await fs.writeFile(path.join(tmp, `${instance.verifier}.sol`), verifierSource);
        timingsMs.export = Date.now() - t;

        const manifest: KeysManifest = {
          format: CACHE_FORMAT,
          instance: instance.name,
          warning: DEV_KEY_WARNING,
          compileKey,
          setupKey,
          snarkjsVersion: version,
          circomVersion: circom,
          sources,
          ptau: { kind: ptau.kind, sha256: ptau.sha256, sourcePower: ptau.power, power },
          beacon: { name: ZKEY_BEACON_NAME, hash: ZKEY_BEACON_HASH, iterationsExp: ZKEY_BEACON_ITERATIONS_EXP },
          constraints: info.constraints,
          publicInputs: info.publicInputs,
          vkeyHash: "0x" + sha256Hex(vkeyJson),
          zkeySha256: await sha256File(zkeyTmp),
          verifierSha256: sha256Hex(verifierSource),
          timingsMs,
        };
        await fs.writeFile(path.join(tmp, "README.txt"), readmeText(instance, manifest));
        // keys.json last: its presence marks a complete directory.
        await fs.writeFile(path.join(tmp, "keys.json"), JSON.stringify(manifest, null, 2) + "\n");
        await publishDir(tmp, keysDir);
      } catch (e) {
        await fs.rm(tmp, { recursive: true, force: true });
        if (e instanceof DsainError) throw e;
        throw new DsainError(ErrorCode.ZK_SETUP_FAILED, `groth16 setup of ${instance.name} failed: ${ensureError(e).message}`, {
          cause: e,
        });
      }
    }

    const manifest = JSON.parse(await fs.readFile(manifestPath, "utf8")) as KeysManifest;
    const vkeyPath = path.join(keysDir, "vkey.json");
    const vkey = JSON.parse(await fs.readFile(vkeyPath, "utf8")) as VerificationKey;
    // The cache holds snarkjs' export as decorated when the keys were made; the key hash getter is added here.
    const verifierSource = withVerifyingKeyHash(
      await fs.readFile(path.join(keysDir, `${instance.verifier}.sol`), "utf8"),
      instance.verifier,
      manifest.vkeyHash,
    );
    const banner = "*".repeat(20);
    log(
      `${banner} ${instance.name}: DEVELOPMENT KEY — NOT FOR PRODUCTION (vkey ${manifest.vkeyHash.slice(0, 18)}…, see ${path.relative(PROJECT_ROOT, keysDir)}/README.txt) ${banner}`,
    );
    return {
      name: instance.name,
      instance,
      dir: keysDir,
      r1csPath,
      wasmPath,
      zkeyPath: path.join(keysDir, "main.zkey"),
      vkeyPath,
      vkey,
      vkeyHash: manifest.vkeyHash,
      constraints: manifest.constraints,
      publicInputs: manifest.publicInputs,
      verifierSource,
      manifest,
    };
  } finally {
    if (usedSnarkjs) await releaseZkWorkers();
  }
}

/** The Solidity verifier of an instance, exactly as contracts/verifiers/<verifier>.sol must hold it. */
export async function renderVerifier(instanceName: string, options: EnsureOptions = {}): Promise<string> {
  return (await ensureCircuitKeys(instanceName, options)).verifierSource;
}
