// A federation on Hardhat's network for ledger tests: deterministic participants and committee,
// a mock verifier, and builders for signed round records (batched or direct) with overrides that
// let a test break exactly one thing.
import { Wallet, keccak256, toUtf8Bytes, type Signer, type TypedDataDomain } from "ethers";
import { deployLedger } from "../../aggregator/chain/deploy.js";
import {
  AggregationRule,
  NO_DP,
  NO_PREDECESSOR,
  pkhDid,
  type FederationConfig,
  type ParticipantInfo,
  type RoundColumns,
  type RoundPost,
  type UpdateEntry,
} from "../../aggregator/chain/ledger.js";
import { buildRecord, signRecord } from "../../aggregator/chain/records.js";
import {
  FIELD_MODULUS,
  attestationDomain,
  fieldToBytes32,
  integerWeights,
  selectParticipants,
  signAttestation,
  type RoundRecordMessage,
} from "../../aggregator/protocol/index.js";

/** A bytes32 below the BN254 modulus derived from a label: stands in for a Poseidon root. */
export const fakeRoot = (label: string): string => fieldToBytes32(BigInt(keccak256(toUtf8Bytes(label))) % FIELD_MODULUS);

export const wallet = (label: string): Wallet => new Wallet(keccak256(toUtf8Bytes(`dsain ledger test: ${label}`)));

export interface FixtureOptions {
  rosterSize?: number;
  k?: number;
  minUpdates?: number;
  committeeSize?: number;
  epsilonBudgetMicros?: bigint;
  roundDeadline?: number;
  finalityDelay?: number;
  modelLength?: number;
}

export type Fixture = Awaited<ReturnType<typeof federationFixture>>;

export async function federationFixture(ethers: any, o: FixtureOptions = {}) {
  const [admin, aggregator, outsider] = await ethers.getSigners();
  const ledger = await deployLedger(ethers, admin.address, [aggregator.address]);
  const verifier = await ethers.deployContract("MockRoundVerifier");
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  const ledgerAddress: string = await ledger.getAddress();
  const rosterWallets = Array.from({ length: o.rosterSize ?? 6 }, (_, i) => wallet(`participant ${i}`));
  const committee = Array.from({ length: o.committeeSize ?? 3 }, (_, i) => wallet(`aggregator ${i}`));
  const infos: ParticipantInfo[] = rosterWallets.map((w) => ({
    signer: w.address,
    did: pkhDid(chainId, w.address),
    babyJubJubKey: [0n, 0n],
  }));
  const config: FederationConfig = {
    modelId: "test-model",
    modelLength: o.modelLength ?? 40,
    participantsPerRound: o.k ?? 4,
    minUpdates: o.minUpdates ?? 3,
    quorum: Math.floor(committee.length / 2) + 1,
    roundDeadline: o.roundDeadline ?? 3600,
    finalityDelay: o.finalityDelay ?? 60,
    genesisCidCodec: 0x55,
    verifier: await verifier.getAddress(),
    epsilonBudgetMicros: o.epsilonBudgetMicros ?? 10_000_000n,
    aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
    dp: NO_DP,
    committee: committee.map((w) => w.address),
    verifyingKeyHash: keccak256(toUtf8Bytes("vk")),
    genesisModelRoot: fakeRoot("genesis"),
    genesisCidDigest: keccak256(toUtf8Bytes("genesis checkpoint")),
    predecessor: NO_PREDECESSOR,
  };
  await (await ledger.createFederation(config, infos)).wait();
  const domain = attestationDomain(chainId, ledgerAddress);
  const byAddress = new Map(rosterWallets.map((w) => [w.address, w]));
  return {
    ledger,
    verifier,
    admin,
    aggregator,
    outsider,
    chainId,
    ledgerAddress,
    domain,
    rosterWallets,
    byAddress,
    committee,
    config,
    infos,
  };
}

/** The federation's pointers and open-round selection, as the contract holds them. */
export async function stateOf(f: Fixture, federationId = 1n) {
  const [, s] = await f.ledger.federation(federationId);
  return {
    lastRound: s.lastRound as bigint,
    head: s.head as bigint,
    lastFinalized: s.lastFinalized as bigint,
    openedAt: s.openedAt as bigint,
    selectionSeed: s.selectionSeed as string,
    rosterSize: Number(s.rosterSize),
  };
}

/** S_t of the open round, recomputed in TypeScript from the contract's seed and snapshot. */
export async function selectedWallets(f: Fixture, federationId = 1n): Promise<Wallet[]> {
  const s = await stateOf(f, federationId);
  const roster: string[] = await f.ledger.roster(federationId);
  return selectParticipants(roster, s.rosterSize, f.config.participantsPerRound, s.selectionSeed).map((a) => f.byAddress.get(a)!);
}

export interface RoundOptions {
  federationId?: bigint;
  round?: bigint;
  parentRound?: bigint;
  /** Participants in S_t order (default: the whole of S_t, at most K). */
  participants?: Wallet[];
  /** Addresses whose entries carry no signature (direct mode). */
  direct?: Set<string> | "all";
  /** Who signs each participant's attestation (default: itself). */
  signers?: Map<string, Signer>;
  domain?: TypedDataDomain;
  signRound?: bigint;
  signFederation?: bigint;
  baseModelRoot?: string;
  epsilonMicros?: (address: string) => bigint;
  reputationMicros?: (address: string) => number;
  /** Committee members who sign the record (default: the first `quorum` of them). */
  committeeSigners?: Signer[];
  tag?: string;
}

export interface BuiltRound {
  post: RoundPost;
  entries: UpdateEntry[];
  columns: RoundColumns;
  message: RoundRecordMessage;
  quorumSignatures: string[];
  /** Each participant's attestation signature, for attest() in direct mode. */
  attestations: Map<string, string>;
}

export async function buildRound(f: Fixture, o: RoundOptions = {}): Promise<BuiltRound> {
  const federationId = o.federationId ?? 1n;
  const s = await stateOf(f, federationId);
  const round = o.round ?? s.lastRound + 1n;
  const parentRound = o.parentRound ?? s.head;
  const participants = [...(o.participants ?? (await selectedWallets(f, federationId)).slice(0, f.config.participantsPerRound))].sort(
    (a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1),
  );
  const base = o.baseModelRoot ?? ((await f.ledger.roundRecord(federationId, parentRound)).modelRoot as string);
  const tag = o.tag ?? "";
  // Per participant, not per position: a direct attestation matches any record that names it.
  const sampleCounts = participants.map((w) => 100n + (BigInt(w.address) % 900n));
  const weights = integerWeights(sampleCounts);
  const entries: UpdateEntry[] = [];
  const attestations = new Map<string, string>();
  for (const [i, w] of participants.entries()) {
    const updateRoot = fakeRoot(`update ${round} ${w.address} ${tag}`);
    const signer = o.signers?.get(w.address) ?? w;
    const signature = await signAttestation(signer, o.domain ?? f.domain, {
      federationId: o.signFederation ?? federationId,
      round: o.signRound ?? round,
      baseModelRoot: base,
      updateRoot,
      sampleCount: sampleCounts[i],
      dpEpsilonMicros: f.config.dp.epsilonMicros,
      dpDeltaPicos: f.config.dp.deltaPicos,
      dpClipMicros: f.config.dp.clipMicros,
      dpNoiseMicros: f.config.dp.noiseMicros,
    });
    attestations.set(w.address, signature);
    const direct = o.direct === "all" || (o.direct?.has(w.address) ?? false);
    entries.push({
      participant: w.address,
      updateRoot,
      sampleCount: sampleCounts[i],
      weight: weights[i],
      epsilonMicros: o.epsilonMicros?.(w.address) ?? 100_000n,
      reputationMicros: o.reputationMicros?.(w.address) ?? 1_000_000,
      signature: direct ? "0x" : signature,
    });
  }
  const record = buildRecord({
    federationId,
    round,
    parentRound,
    modelRoot: fakeRoot(`model ${round} ${tag}`),
    cidCodec: 0x70,
    cidDigest: keccak256(toUtf8Bytes(`checkpoint ${round} ${tag}`)),
    entries,
  });
  const quorumSignatures = await signRecord(o.committeeSigners ?? f.committee.slice(0, f.config.quorum), f.domain, record.message);
  return { post: record.post, entries, columns: record.columns, message: record.message, quorumSignatures, attestations };
}

/** Posts `r` as the aggregator. */
export async function post(f: Fixture, r: BuiltRound, federationId = 1n) {
  return f.ledger.connect(f.aggregator).postRound(federationId, r.post, r.entries, r.quorumSignatures);
}

/** Direct mode: participant `address` sends its own attestation from `r`. */
export async function attestFrom(f: Fixture, r: BuiltRound, address: string, federationId = 1n) {
  const e = r.entries.find((x) => x.participant === address)!;
  return f.ledger.attest(federationId, address, r.post.round, e.updateRoot, e.sampleCount, r.attestations.get(address)!);
}

export const ZERO_PROOF = {
  a: [0n, 0n] as [bigint, bigint],
  b: [
    [0n, 0n],
    [0n, 0n],
  ] as [[bigint, bigint], [bigint, bigint]],
  c: [0n, 0n] as [bigint, bigint],
};

/** Proves `r` with the mock verifier (which accepts whatever it is set to accept). */
export async function prove(f: Fixture, r: BuiltRound, federationId = 1n) {
  return f.ledger.connect(f.aggregator).proveRound(federationId, r.post.round, r.columns, ZERO_PROOF.a, ZERO_PROOF.b, ZERO_PROOF.c);
}

/** Everything observable about federation 1: state, every round record, every participant, the log count. */
export async function snapshot(f: Fixture, federationId = 1n): Promise<string> {
  const count = BigInt(await ethersCount(f));
  let state: unknown = null;
  const rounds: unknown[] = [];
  const participants: unknown[] = [];
  try {
    const s = await stateOf(f, federationId);
    state = s;
    for (let r = 0n; r <= s.lastRound + 2n; r++) rounds.push(await f.ledger.roundRecord(federationId, r));
    for (const a of await f.ledger.roster(federationId)) participants.push(await f.ledger.participant(federationId, a));
  } catch (e) {
    state = `unreadable: ${(e as Error).message.slice(0, 80)}`;
  }
  return JSON.stringify({ count, state, rounds, participants }, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

async function ethersCount(f: Fixture): Promise<number> {
  return (await f.ledger.queryFilter("*")).length;
}
