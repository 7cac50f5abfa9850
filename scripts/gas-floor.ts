// The floor of a batched round with EIP-712 attestations, measured: contracts/bench/GasFloorProbe.sol
// posts rounds doing only the work each participant makes unavoidable (its entry in calldata and in
// an event, the recovery of its attestation, its budget and reputation rewritten in storage) plus two
// committee signatures and one new storage word per round, with participants' states packed several
// to a word by roster index and the roster read from contract code. Everything else a ledger must do
// is left out, so the probe's gas, less its loop's own code (traced by the generator), bounds any
// ledger that records the same evidence from below.
// Used by scripts/gen-gas-table.ts (docs/gas.md, "The floor") and test/contracts/gas.test.ts.
import { Wallet, concat, keccak256, solidityPacked, toUtf8Bytes, type TypedDataDomain } from "ethers";
import { attestationDomain, integerWeights, selectParticipants, signAttestation } from "../aggregator/protocol/index.js";

/** Bytes of one probe entry: roster index 2, update root 32, sample count 8, weight 4, epsilon 8, reputation 4, r‖s‖v 65. */
export const PROBE_ENTRY_SIZE = 123;
/**
 * The layouts measured: participants' states per storage word, and roster size as a multiple of K.
 * From a roster of 2K (the gas table's) every density from the ledger's one word each to eight a word
 * with whole lanes in between, then four a word with the whole roster selected.
 */
export const FLOOR_LAYOUTS = [
  { perWord: 1, rosterFactor: 2 },
  { perWord: 4, rosterFactor: 2 },
  { perWord: 5, rosterFactor: 2 },
  { perWord: 6, rosterFactor: 2 },
  { perWord: 8, rosterFactor: 2 },
  { perWord: 4, rosterFactor: 1 },
] as const;

const DP = [1_000_000n, 10_000n, 1_000_000n, 1_100_000n] as const;
/** Debits and reputations fit a lane's half in every layout, 16 bits when 8 share a word. */
const BUDGET = 60_000n;

const wallet = (label: string) => new Wallet(keccak256(toUtf8Bytes(`dsain gas floor: ${label}`)));

const PROBE_ROUND_TYPES = {
  ProbeRound: [
    { name: "round", type: "uint64" },
    { name: "record", type: "bytes32" },
    { name: "entriesDigest", type: "bytes32" },
  ],
};

export interface ProbeEntry {
  index: number;
  updateRoot: string;
  sampleCount: bigint;
  weight: number;
  epsilon: bigint;
  reputation: number;
  signature: string;
}

/** Packs probe entries as GasFloorProbe reads them. */
export function encodeProbeEntries(entries: readonly ProbeEntry[]): string {
  return concat(
    entries.map((e) =>
      solidityPacked(
        ["uint16", "bytes32", "uint64", "uint32", "uint64", "uint32", "bytes"],
        [e.index, e.updateRoot, e.sampleCount, e.weight, e.epsilon, e.reputation, e.signature],
      ),
    ),
  );
}

/** A deployed probe with its roster, committee and the arguments its rounds share. */
export interface Probe {
  contract: any;
  domain: TypedDataDomain;
  roster: Wallet[];
  committee: Wallet[];
  federationId: bigint;
  baseModelRoot: string;
  dp: readonly bigint[];
  budget: bigint;
}

/**
 * Deploys GasFloorProbe with `perWord` states a word and a roster of `rosterSize`. `label` names the
 * keys, including the deployer's, funded here: its first transaction deploys the probe, so the probe's
 * address, its EIP-712 domain and every signature (RFC 6979) are the same on any fresh chain, and so
 * is the gas, to the calldata's last zero byte.
 */
export async function deployProbe(ethers: any, perWord: number, rosterSize: number, label: string): Promise<Probe> {
  const [funder] = await ethers.getSigners();
  const deployer = wallet(`${label} deployer`).connect(ethers.provider);
  await (await funder.sendTransaction({ to: deployer.address, value: 10n ** 18n })).wait();
  const committee = [0, 1, 2].map((i) => wallet(`aggregator ${i}`));
  const contract = await ethers.deployContract("GasFloorProbe", [perWord, committee.map((w) => w.address)], deployer);
  const roster = Array.from({ length: rosterSize }, (_, i) => wallet(`${label} participant ${i}`));
  await (await contract.setRoster(roster.map((w) => w.address))).wait();
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  return {
    contract,
    domain: attestationDomain(chainId, await contract.getAddress()),
    roster,
    committee,
    federationId: 1n,
    baseModelRoot: keccak256(toUtf8Bytes(`${label} base model`)),
    dp: DP,
    budget: BUDGET,
  };
}

/** Signed entries for `round` from the roster indices `indices` (ascending), as the probe checks them. */
export async function probeEntries(probe: Probe, round: bigint, indices: readonly number[]): Promise<ProbeEntry[]> {
  const sampleCounts = indices.map((_, i) => BigInt(500 + i));
  const weights = integerWeights(sampleCounts);
  return Promise.all(
    indices.map(async (index, i) => {
      const updateRoot = keccak256(toUtf8Bytes(`update ${round} ${index}`));
      const signature = await signAttestation(probe.roster[index], probe.domain, {
        federationId: probe.federationId,
        round,
        baseModelRoot: probe.baseModelRoot,
        updateRoot,
        sampleCount: sampleCounts[i],
        dpEpsilonMicros: probe.dp[0],
        dpDeltaPicos: probe.dp[1],
        dpClipMicros: probe.dp[2],
        dpNoiseMicros: probe.dp[3],
      });
      return {
        index,
        updateRoot,
        sampleCount: sampleCounts[i],
        weight: weights[i],
        epsilon: 1_000n + BigInt(i),
        reputation: 30_000 - i,
        signature,
      };
    }),
  );
}

/** The committee's signatures (the first `signers` of it, concatenated) over a probe round. */
export async function probeQuorum(probe: Probe, round: bigint, record: string, encoded: string, signers = 2): Promise<string> {
  const message = { round, record, entriesDigest: keccak256(encoded) };
  const signatures = await Promise.all(
    probe.committee.slice(0, signers).map((w) => w.signTypedData(probe.domain, PROBE_ROUND_TYPES, message)),
  );
  return concat(signatures);
}

/** Sends probe round `round` with `entries`; returns the transaction and its receipt. */
export async function postProbeRound(probe: Probe, round: bigint, entries: readonly ProbeEntry[], quorum?: string) {
  const encoded = encodeProbeEntries(entries);
  const record = keccak256(toUtf8Bytes(`record ${round}`));
  const signatures = quorum ?? (await probeQuorum(probe, round, record, encoded));
  const tx = await probe.contract.post(
    probe.federationId,
    round,
    probe.baseModelRoot,
    [...probe.dp],
    probe.budget,
    record,
    encoded,
    signatures,
  );
  return { tx, receipt: await tx.wait() };
}

/** Roster indices of a round: K of the roster chosen by the ledger's own selection (docs/protocol.md §10). */
export function probeSelection(probe: Probe, k: number, round: bigint): number[] {
  const addresses = probe.roster.map((w) => w.address);
  const seed = keccak256(toUtf8Bytes(`gas floor selection ${k} ${round}`));
  const chosen = new Set(selectParticipants(addresses, addresses.length, k, seed));
  return addresses.flatMap((a, i) => (chosen.has(a) ? [i] : []));
}
