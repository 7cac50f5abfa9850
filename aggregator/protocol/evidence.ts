// The evidence types every reader of the ledger shares (chain adapter, roles, auditor, daemons):
// the federation's parameters, the rounds and the events as docs/protocol.md defines them.
import type { BatchedEntryFields } from "./commitment.js";

export interface DpParams {
  epsilonMicros: bigint;
  deltaPicos: bigint;
  clipMicros: bigint;
  noiseMicros: bigint;
}

export const NO_DP: DpParams = { epsilonMicros: 0n, deltaPicos: 0n, clipMicros: 0n, noiseMicros: 0n };

/**
 * The privacy debit of one update attested under `dp` (docs/protocol.md §13, the one rule): the
 * epsilon of the round it attests, `dp.epsilonMicros`; 0 under NO_DP. Every record entry must carry
 * exactly this debit (the ledger refuses others with ProvenanceWrongDebit, the auditor reports them).
 */
export function epsilonDebit(dp: DpParams): bigint {
  return dp.epsilonMicros;
}

/** IProvenanceLedger.RoundStatus, by name; the numbers are the Solidity enum's. */
export const RoundStatus = { None: 0, Genesis: 1, Proposed: 2, Attested: 3, Proven: 4, Finalized: 5, Rejected: 6 } as const;
export type RoundStatusName = keyof typeof RoundStatus;
export const ROUND_STATUS_NAMES = Object.keys(RoundStatus) as RoundStatusName[];

/** IProvenanceLedger.AggregationRule. */
export const AggregationRule = { FedAvg: 0, ByzFed: 1 } as const;

export interface AggregationParams {
  rule: number;
  tauMicros: bigint;
  reputationDecayMicros: bigint;
}

export interface Predecessor {
  ledger: string;
  federationId: bigint;
  round: bigint;
  commitment: string;
}

export const NO_PREDECESSOR: Predecessor = {
  ledger: "0x0000000000000000000000000000000000000000",
  round: 0n,
  federationId: 0n,
  commitment: "0x" + "00".repeat(32),
};

export interface FederationConfig {
  modelId: string;
  modelLength: number;
  /** K: participants selected per round. */
  participantsPerRound: number;
  /** Fewest updates a record may carry. */
  minUpdates: number;
  /** Seconds from a round's opening by which it must be posted, attested and proven. */
  roundDeadline: number;
  /** Seconds a proven round waits before it can be finalized. */
  finalityDelay: number;
  aggregation: AggregationParams;
  dp: DpParams;
  epsilonBudgetMicros: bigint;
  /** 2f+1 aggregators. */
  committee: string[];
  /** f+1. */
  quorum: number;
  verifier: string;
  verifyingKeyHash: string;
  genesisModelRoot: string;
  genesisCidCodec: number;
  genesisCidDigest: string;
  predecessor: Predecessor;
}

export interface ParticipantInfo {
  signer: string;
  did: string;
  babyJubJubKey: [bigint, bigint];
}

export interface RoundPost {
  round: bigint;
  parentRound: bigint;
  cidCodec: number;
  modelRoot: string;
  cidDigest: string;
  commitment: string;
}

export interface RoundColumns {
  participants: string[];
  updateRoots: string[];
  weights: number[];
}

export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/**
 * A federation's batched proof path (IProvenanceLedger.BatchedProofConfig, docs/protocol.md §14):
 * the RoundAttested(K, DEPTH, C, S, R) verifier and its key hash, the Poseidon(2) hasher of the key
 * registry, S = samples, C = chunkLevel, R = registryDepth (K is the config's participantsPerRound).
 */
export interface BatchedProofConfig {
  verifier: string;
  verifyingKeyHash: string;
  poseidon2: string;
  samples: number;
  chunkLevel: number;
  registryDepth: number;
}

/** One entry of a batched round record, in ascending roster index (IProvenanceLedger.BatchedEntry). */
export type BatchedEntry = BatchedEntryFields;

/** What the ledger stores of a batched round besides its RoundRecord. */
export interface BatchedRoundInfo {
  keyRegistryRoot: string;
  participantSlots: bigint;
  postedBlock: bigint;
}

/** A DID for an Ethereum account on this chain (did:pkh, CAIP-10). */
export function pkhDid(chainId: bigint, address: string): string {
  return `did:pkh:eip155:${chainId}:${address}`;
}

// ------------------------------------------------------------------ evidence, from events alone

/** Where an event sits in the chain: events are replayed in this order. */
export interface EventPosition {
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  /** The block's timestamp (seconds): what the ledger compared with round deadlines. */
  timestamp: number;
}

/** An update as the record names it, joined with its attestation (if one was seen). */
export interface RoundUpdate {
  participant: string;
  /** The update root the record names. */
  updateRoot: string;
  /** The update root the participant attested ("" when it has not attested yet). */
  attestedRoot: string;
  /** From the attestation (0 when none yet). */
  sampleCount: bigint;
  weight: number;
  epsilonMicros: bigint;
  reputationMicros: number;
  /** The attestation's signature; "" when the participant has not attested (a Proposed round). */
  signature: string;
}

/** What the chain says about one posted round, from events alone. */
export interface RoundEvidence {
  round: number;
  parentRound: number;
  blockNumber: number;
  transactionHash: string;
  commitment: string;
  modelRoot: string;
  cidCodec: number;
  cidDigest: string;
  participantsRoot: string;
  updatesDigest: string;
  accountingDigest: string;
  /** From RoundChallenged (BatchedRoundChallenged) once proven; zero before. */
  challengeSeed: string;
  /**
   * Direct rounds: the block of RoundAttested, whose successor's hash seeds the challenge
   * (docs/protocol.md §8), and that hash from the provider's headers ("" while it does not exist).
   */
  attested?: { block: number; nextBlockHash: string };
  updates: RoundUpdate[];
  quorumSignatures: string[];
  /** The round's status after every event read. */
  status: RoundStatusName;
  proof?: SolidityProof;
  /**
   * A batched round (BatchedRoundProposed, docs/protocol.md §14): its updates carry no signature
   * (they are checked inside the proof), sampleCount comes from the entries, updatesDigest holds the
   * updatesCommitment and accountingDigest is "".
   */
  batched?: BatchedRoundEvidence;
}

/** What the chain says about a batched round besides its RoundEvidence. */
export interface BatchedRoundEvidence {
  updatesCommitment: string;
  entriesDigest: string;
  keyRegistryRoot: string;
  participantSlots: bigint;
  /** The block that recorded the round; blockhash(postedBlock + 1) seeds its challenge. */
  postedBlock: number;
  /** Hash of block postedBlock + 1 from the provider's headers; "" while that block does not exist. */
  nextBlockHash: string;
  /** From BatchedRoundChallenged, once proven: the public inputs the ledger verified the proof against. */
  publicInputs?: bigint[];
}

/** Every state change of a federation, in chain order; the auditor replays these. */
export type LedgerEvent = EventPosition &
  (
    | { kind: "enrolled"; participant: string; index: number; did: string; babyJubJubKey: [bigint, bigint] }
    | { kind: "revoked"; participant: string; effectiveFromRound: number }
    | { kind: "carriedOver"; participant: string; epsilonSpentMicros: bigint; reputationMicros: number }
    | { kind: "opened"; round: number; parentRound: number; prevrandao: bigint; rosterSize: number; selectionSeed: string }
    | { kind: "attestation"; round: number; participant: string; updateRoot: string; sampleCount: bigint; signature: string }
    | { kind: "proposed"; round: number }
    | { kind: "attested"; round: number }
    | { kind: "proven"; round: number }
    | { kind: "finalized"; round: number }
    | { kind: "rejected"; round: number; reason: string }
    | { kind: "rolledBack"; fromHead: number; toRound: number; by: string; reason: string; quorumSignatures: string[] }
    | { kind: "sealed"; successorLedger: string; successorFederationId: bigint; lastFinalized: number }
    | { kind: "batchedCreated"; keyRegistryRoot: string }
    | {
        kind: "registryUpdated";
        participant: string;
        slot: number;
        leaf: bigint;
        keyRegistryRoot: string;
        effectiveFromRound: number;
      }
  );

export interface FederationEvidence {
  chainId: bigint;
  ledger: string;
  federationId: bigint;
  config: FederationConfig;
  /** The ledger's PROTOCOL_VERSION (1 for a ledger older than the constant). */
  protocolVersion: number;
  /**
   * What the federation's verifiers declare they were generated from (their VERIFYING_KEY_HASH(),
   * lowercase; null for a verifier without it): the direct path's and, for a batched federation, the batched one's.
   */
  verifierKeyHashes: { direct: string | null; batched?: string | null };
  genesisCommitment: string;
  /** The roster in enrolment order. */
  participants: string[];
  /** Posted rounds, by round number. */
  rounds: RoundEvidence[];
  /** The whole history in chain order. */
  events: LedgerEvent[];
  /** Present for a federation created with createBatchedFederation (BatchedFederationCreated). */
  batched?: { config: BatchedProofConfig; keyRegistryRoot: string };
}
