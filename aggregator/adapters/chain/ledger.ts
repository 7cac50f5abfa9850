// Chain adapter: typed calls into ProvenanceLedger and the event history an auditor rebuilds from.
import {
  Contract,
  id,
  type ContractRunner,
  type EventLog,
  type InterfaceAbi,
  type Log,
  type Provider,
  type TransactionReceipt,
} from "ethers";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { chainError, decodeRevert, formatRevert, isTransientChainError } from "./chain-errors.js";
import { LEDGER_ABI } from "./abi.js";
import type {
  BatchedEntry,
  BatchedProofConfig,
  BatchedRoundInfo,
  EventPosition,
  FederationConfig,
  FederationEvidence,
  LedgerEvent,
  ParticipantInfo,
  RoundColumns,
  RoundEvidence,
  RoundPost,
  RoundStatusName,
  RoundUpdate,
  SolidityProof,
} from "../../protocol/evidence.js";
import { decodeRecordEntries, encodeRecordEntries, type UpdateEntry } from "../../protocol/record.js";

export { decodeRecordEntries, encodeRecordEntries, type UpdateEntry } from "../../protocol/record.js";

/** The selector of a verifier's VERIFYING_KEY_HASH(). */
const VERIFYING_KEY_HASH_SELECTOR = id("VERIFYING_KEY_HASH()").slice(0, 10);
/** A `BatchedProofConfig` as ethers returns it (a view's result or an event's argument), with numbers. */
function batchedProofConfig(b: any): BatchedProofConfig {
  return {
    verifier: b.verifier,
    verifyingKeyHash: b.verifyingKeyHash,
    poseidon2: b.poseidon2,
    samples: Number(b.samples),
    chunkLevel: Number(b.chunkLevel),
    registryDepth: Number(b.registryDepth),
  };
}

/** Wraps a deployed ProvenanceLedger; `abi` comes from the Hardhat artifact. */
export class LedgerClient {
  readonly contract: Contract;

  /** A client of the ledger at `address` over its committed ABI (abi.ts): no Hardhat or compile step needed. */
  static at(address: string, runner: ContractRunner): LedgerClient {
    return new LedgerClient(address, LEDGER_ABI, runner);
  }

  constructor(address: string, abi: InterfaceAbi, runner: ContractRunner) {
    this.contract = new Contract(address, abi, runner);
  }

  get address(): string {
    return this.contract.target as string;
  }

  private async send(what: string, call: () => Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
    let receipt: TransactionReceipt | null;
    try {
      receipt = await (await call()).wait();
    } catch (e) {
      throw chainError(what, e, this.contract.interface);
    }
    if (receipt === null) throw new DsainError(ErrorCode.CHAIN_UNAVAILABLE, `${what}: the node returned no receipt`);
    return receipt;
  }

  /** Names the custom error of a revert when the ledger's ABI knows it, else the error's first line. */
  describeRevert(e: unknown): string {
    const revert = decodeRevert(e, this.contract.interface);
    return revert !== undefined ? formatRevert(revert) : ensureError(e).message.split("\n")[0];
  }

  async createFederation(
    config: FederationConfig,
    participants: ParticipantInfo[],
  ): Promise<{ federationId: bigint; receipt: TransactionReceipt }> {
    const receipt = await this.send("createFederation", () => this.contract.createFederation(config, participants));
    for (const log of receipt.logs) {
      const parsed = this.contract.interface.parseLog(log);
      if (parsed?.name === "FederationCreated") return { federationId: parsed.args.federationId as bigint, receipt };
    }
    throw new DsainError(ErrorCode.CHAIN_FAILURE, "createFederation emitted no FederationCreated event");
  }

  async enrol(federationId: bigint, info: ParticipantInfo): Promise<TransactionReceipt> {
    return this.send(`enrol(${info.signer})`, () => this.contract.enrol(federationId, info));
  }

  async revoke(federationId: bigint, participant: string): Promise<TransactionReceipt> {
    return this.send(`revoke(${participant})`, () => this.contract.revoke(federationId, participant));
  }

  /** Direct mode: one participant's attestation in its own transaction (anyone may relay it). */
  async attest(
    federationId: bigint,
    a: { participant: string; round: bigint; updateRoot: string; sampleCount: bigint; signature: string },
  ): Promise<TransactionReceipt> {
    return this.send(`attest(${a.participant}, round ${a.round})`, () =>
      this.contract.attest(federationId, a.participant, a.round, a.updateRoot, a.sampleCount, a.signature),
    );
  }

  /**
   * The update root `participant` attested for `round` (inline in a record or by its own attest
   * transaction), or undefined when it has not attested for that round: the participant's
   * lastAttestedRound first, then its UpdateAttested event for the root.
   */
  async attestationOf(federationId: bigint, round: bigint, participant: string): Promise<string | undefined> {
    const [state] = await this.contract.participant(federationId, participant);
    if (BigInt(state.lastAttestedRound) !== round) return undefined;
    const events = await this.contract.queryFilter(this.contract.filters.UpdateAttested(federationId, round, participant));
    const last = events.at(-1) as EventLog | undefined;
    if (last !== undefined) return last.args.updateRoot as string;
    // Attested inline: the record carries it (RoundProposed).
    const proposed = await this.contract.queryFilter(this.contract.filters.RoundProposed(federationId, round));
    for (const e of proposed as EventLog[]) {
      const entry = decodeRecordEntries(e.args.updates, `round ${round}: RoundProposed`).find((x) => x.participant === participant);
      if (entry !== undefined) return entry.updateRoot;
    }
    return undefined;
  }

  async postRound(federationId: bigint, post: RoundPost, updates: UpdateEntry[], quorumSignatures: string[]): Promise<TransactionReceipt> {
    return this.send(`postRound(round ${post.round})`, () =>
      this.contract.postRound(federationId, post, encodeRecordEntries(updates), quorumSignatures),
    );
  }

  async proveRound(federationId: bigint, round: bigint, columns: RoundColumns, proof: SolidityProof): Promise<TransactionReceipt> {
    return this.send(`proveRound(round ${round})`, () => this.contract.proveRound(federationId, round, columns, proof.a, proof.b, proof.c));
  }

  async finalizeRound(federationId: bigint, round: bigint): Promise<TransactionReceipt> {
    return this.send(`finalizeRound(round ${round})`, () => this.contract.finalizeRound(federationId, round));
  }

  async rejectRound(federationId: bigint, round: bigint, reason: string): Promise<TransactionReceipt> {
    return this.send(`rejectRound(round ${round})`, () => this.contract.rejectRound(federationId, round, reason));
  }

  async expireRound(federationId: bigint, round: bigint): Promise<TransactionReceipt> {
    return this.send(`expireRound(round ${round})`, () => this.contract.expireRound(federationId, round));
  }

  async rollback(federationId: bigint, toRound: bigint, reason: string): Promise<TransactionReceipt> {
    return this.send(`rollback(to ${toRound})`, () => this.contract.rollback(federationId, toRound, reason));
  }

  async rollbackByQuorum(federationId: bigint, toRound: bigint, reason: string, signatures: string[]): Promise<TransactionReceipt> {
    return this.send(`rollbackByQuorum(to ${toRound})`, () => this.contract.rollbackByQuorum(federationId, toRound, reason, signatures));
  }

  async sealFederation(federationId: bigint, successorLedger: string, successorFederationId: bigint): Promise<TransactionReceipt> {
    return this.send("sealFederation", () => this.contract.sealFederation(federationId, successorLedger, successorFederationId));
  }

  /** createFederation plus the batched proof path; the initial roster's BabyJubJub keys fill the key registry. */
  async createBatchedFederation(
    config: FederationConfig,
    participants: ParticipantInfo[],
    batched: BatchedProofConfig,
  ): Promise<{ federationId: bigint; receipt: TransactionReceipt }> {
    const receipt = await this.send("createBatchedFederation", () => this.contract.createBatchedFederation(config, participants, batched));
    for (const log of receipt.logs) {
      const parsed = this.contract.interface.parseLog(log);
      if (parsed?.name === "BatchedFederationCreated") return { federationId: parsed.args.federationId as bigint, receipt };
    }
    throw new DsainError(ErrorCode.CHAIN_FAILURE, "createBatchedFederation emitted no BatchedFederationCreated event");
  }

  /** Posts a batched record (entries in ascending roster index) with the committee's BatchedRoundRecord signatures. */
  async postBatchedRound(
    federationId: bigint,
    post: RoundPost,
    entries: BatchedEntry[],
    updatesCommitment: string,
    quorumSignatures: string[],
  ): Promise<TransactionReceipt> {
    return this.send(`postBatchedRound(round ${post.round})`, () =>
      this.contract.postBatchedRound(federationId, post, entries, updatesCommitment, quorumSignatures),
    );
  }

  /** Proves a batched round: from the block after next of its posting, within 256 blocks. */
  async proveBatchedRound(federationId: bigint, round: bigint, proof: SolidityProof): Promise<TransactionReceipt> {
    return this.send(`proveBatchedRound(round ${round})`, () =>
      this.contract.proveBatchedRound(federationId, round, proof.a, proof.b, proof.c),
    );
  }

  /** [scope, prevRoot, newRoot, keyRegistryRoot, participantSlots, updatesCommitment, chunkIndex_1..S]. */
  async batchedPublicInputs(federationId: bigint, round: bigint): Promise<bigint[]> {
    return [...((await this.contract.batchedPublicInputs(federationId, round)) as bigint[])];
  }

  /** The challenge of a batched round, once the block after its posting exists. */
  async batchedChallenge(federationId: bigint, round: bigint): Promise<{ seed: string; chunkIndices: number[] }> {
    const [seed, indices] = await this.contract.batchedChallenge(federationId, round);
    return { seed, chunkIndices: (indices as bigint[]).map(Number) };
  }

  async batchedFederation(
    federationId: bigint,
  ): Promise<{ batched: BatchedProofConfig; keyRegistryRoot: string; openRoundRegistryRoot: string }> {
    const [b, keyRegistryRoot, openRoundRegistryRoot] = await this.contract.batchedFederation(federationId);
    return {
      batched: batchedProofConfig(b),
      keyRegistryRoot,
      openRoundRegistryRoot,
    };
  }

  async batchedRound(federationId: bigint, round: bigint): Promise<BatchedRoundInfo> {
    const r = await this.contract.batchedRound(federationId, round);
    return { keyRegistryRoot: r.keyRegistryRoot, participantSlots: r.participantSlots, postedBlock: r.postedBlock };
  }

  async publicInputs(federationId: bigint, round: bigint, columns: RoundColumns): Promise<bigint[]> {
    return (await this.contract.publicInputs(federationId, round, columns)) as bigint[];
  }

  async roundRecord(
    federationId: bigint,
    round: bigint,
  ): Promise<{ status: bigint; parentRound: bigint; commitment: string; modelRoot: string; updatesDigest: string; challengeSeed: string }> {
    return this.contract.roundRecord(federationId, round);
  }

  async federationState(federationId: bigint): Promise<{
    lastRound: bigint;
    head: bigint;
    lastFinalized: bigint;
    openedAt: bigint;
    selectionSeed: string;
    rosterSize: bigint;
    /** The open round's selection bound T (docs/protocol.md §10). */
    selectionBound: bigint;
    /** On-chain attestations for the open round so far: its record must name them all. */
    openAttestations: bigint;
  }> {
    const [, state] = await this.contract.federation(federationId);
    return state;
  }

  /** A federation's configuration; CONFIG_INVALID when the ledger has no such federation (an empty committee). */
  async federationConfig(federationId: bigint): Promise<FederationConfig> {
    let config;
    try {
      [config] = await this.contract.federation(federationId);
    } catch (e) {
      if (decodeRevert(e, this.contract.interface)?.name === "ProvenanceUnknownFederation") config = { committee: [] };
      else throw chainError(`federation(${federationId})`, e, this.contract.interface);
    }
    if (config.committee.length === 0) {
      throw new DsainError(ErrorCode.CONFIG_INVALID, `the ledger at ${this.address} has no federation ${federationId}`);
    }
    return toFederationConfig(config);
  }

  /** A participant's state word (zero for one never enrolled). */
  async participantState(
    federationId: bigint,
    participant: string,
  ): Promise<{ id: bigint; revokedFrom: bigint; lastAttestedRound: bigint; epsilonSpentMicros: bigint; reputationMicros: bigint }> {
    const [state] = await this.contract.participant(federationId, participant);
    return state;
  }

  /**
   * The protocol version the ledger speaks (docs/protocol.md): its PROTOCOL_VERSION constant, or 1
   * for a ledger deployed before version 2 added it (the call then finds no such function).
   */
  async protocolVersion(): Promise<number> {
    try {
      return Number(await this.contract.PROTOCOL_VERSION());
    } catch (e) {
      if (isTransientChainError(e)) throw chainError("PROTOCOL_VERSION()", e, this.contract.interface);
      return 1;
    }
  }

  /**
   * The verifying-key hash `verifier` declares it was generated from (VERIFYING_KEY_HASH(), in every
   * verifier of contracts/verifiers/), or null when it has no code or no such function.
   */
  async verifierKeyHash(verifier: string, provider: Provider): Promise<string | null> {
    let answer: string;
    try {
      answer = await provider.call({ to: verifier, data: VERIFYING_KEY_HASH_SELECTOR });
    } catch (e) {
      if (isTransientChainError(e)) throw chainError(`VERIFYING_KEY_HASH() of ${verifier}`, e, this.contract.interface);
      return null;
    }
    return /^0x[0-9a-fA-F]{64}$/.test(answer) ? answer.toLowerCase() : null;
  }

  /** Rebuilds a federation's history from the ledger's events (no storage reads but the chain id and the protocol version). */
  async readEvidence(federationId: bigint, provider: Provider): Promise<FederationEvidence> {
    const c = this.contract;
    const created = await c.queryFilter(c.filters.FederationCreated(federationId));
    if (created.length !== 1) {
      throw new DsainError(
        ErrorCode.AUDIT_FAILED,
        `federation ${federationId}: expected one FederationCreated event at ${this.address}, found ${created.length}`,
      );
    }
    const createdArgs = (created[0] as EventLog).args as any;
    const config = toFederationConfig(createdArgs.config);
    const names = [
      "ParticipantEnrolled",
      "ParticipantRevoked",
      "ParticipantCarriedOver",
      "RoundOpened",
      "UpdateAttested",
      "RoundProposed",
      "RoundAttested",
      "RoundChallenged",
      "RoundProven",
      "RoundFinalized",
      "RoundRejected",
      "FederationRolledBack",
      "FederationSealed",
      "BatchedFederationCreated",
      "KeyRegistryUpdated",
      "BatchedRoundProposed",
      "BatchedRoundChallenged",
    ];
    const logs = (await Promise.all(names.map((n) => c.queryFilter(c.filters[n](federationId))))).flat() as EventLog[];
    logs.sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);

    // One header read per block that holds an event: its timestamp is what deadlines were checked against.
    const timestamps = new Map<number, number>();
    for (const n of new Set(logs.map((l) => l.blockNumber))) {
      const block = await provider.getBlock(n);
      if (block === null)
        throw new DsainError(ErrorCode.CHAIN_FAILURE, `block ${n} of federation ${federationId}'s history is not available`);
      timestamps.set(n, block.timestamp);
    }

    const events: LedgerEvent[] = [];
    const rounds = new Map<number, RoundEvidence>();
    const attestations = new Map<string, { updateRoot: string; sampleCount: bigint; signature: string }>();
    const participants: string[] = [];
    let batched: FederationEvidence["batched"];
    for (const log of logs) {
      const a = log.args as any;
      const at = position(log, timestamps.get(log.blockNumber)!);
      switch (log.eventName) {
        case "ParticipantEnrolled":
          participants.push(a.participant);
          events.push({
            ...at,
            kind: "enrolled",
            participant: a.participant,
            index: Number(a.index),
            did: a.did,
            babyJubJubKey: [a.babyJubJubKey[0], a.babyJubJubKey[1]],
          });
          break;
        case "ParticipantCarriedOver":
          events.push({
            ...at,
            kind: "carriedOver",
            participant: a.participant,
            epsilonSpentMicros: a.epsilonSpentMicros,
            reputationMicros: Number(a.reputationMicros),
          });
          break;
        case "ParticipantRevoked":
          events.push({ ...at, kind: "revoked", participant: a.participant, effectiveFromRound: Number(a.effectiveFromRound) });
          break;
        case "RoundOpened":
          events.push({
            ...at,
            kind: "opened",
            round: Number(a.round),
            parentRound: Number(a.parentRound),
            prevrandao: a.prevrandao,
            rosterSize: Number(a.rosterSize),
            selectionSeed: a.selectionSeed,
          });
          break;
        case "UpdateAttested": {
          const round = Number(a.round);
          attestations.set(`${round}:${a.participant}`, { updateRoot: a.updateRoot, sampleCount: a.sampleCount, signature: a.signature });
          // An attestation after the record (direct mode, record first) completes its entry.
          const u = rounds.get(round)?.updates.find((x) => x.participant === a.participant);
          // The record's sampleCount stays: the signature must be over it.
          if (u !== undefined) Object.assign(u, { signature: a.signature, attestedRoot: a.updateRoot });
          events.push({
            ...at,
            kind: "attestation",
            round,
            participant: a.participant,
            updateRoot: a.updateRoot,
            sampleCount: a.sampleCount,
            signature: a.signature,
          });
          break;
        }
        case "RoundProposed": {
          const round = Number(a.round);
          const p = a.post;
          const entries = decodeRecordEntries(a.updates, `round ${round}: RoundProposed`);
          const updates: RoundUpdate[] = entries.map((e) => {
            const inline = e.signature !== "0x";
            // An attestation the record carried is published here once; a direct one by its UpdateAttested.
            const att = inline ? undefined : attestations.get(`${round}:${e.participant}`);
            if (inline) {
              events.push({
                ...at,
                kind: "attestation",
                round,
                participant: e.participant,
                updateRoot: e.updateRoot,
                sampleCount: e.sampleCount,
                signature: e.signature,
              });
            }
            return {
              participant: e.participant,
              updateRoot: e.updateRoot,
              attestedRoot: inline ? e.updateRoot : (att?.updateRoot ?? ""),
              sampleCount: e.sampleCount,
              weight: e.weight,
              epsilonMicros: e.epsilonMicros,
              reputationMicros: e.reputationMicros,
              signature: inline ? e.signature : (att?.signature ?? ""),
            };
          });
          rounds.set(round, {
            ...postedRound(round, p, log, a.participantsRoot),
            updatesDigest: a.updatesDigest,
            accountingDigest: a.accountingDigest,
            updates,
            quorumSignatures: [...a.quorumSignatures],
            status: "Proposed",
          });
          events.push({ ...at, kind: "proposed", round });
          break;
        }
        case "BatchedFederationCreated": {
          batched = {
            config: batchedProofConfig(a.batched),
            keyRegistryRoot: a.keyRegistryRoot,
          };
          events.push({ ...at, kind: "batchedCreated", keyRegistryRoot: a.keyRegistryRoot });
          break;
        }
        case "KeyRegistryUpdated":
          events.push({
            ...at,
            kind: "registryUpdated",
            participant: a.participant,
            slot: Number(a.slot),
            leaf: a.leaf,
            keyRegistryRoot: a.keyRegistryRoot,
            effectiveFromRound: Number(a.effectiveFromRound),
          });
          break;
        case "BatchedRoundProposed": {
          const round = Number(a.round);
          const p = a.post;
          // `entries` is also a method of ethers' Result: read the field by name.
          const entries: BatchedEntry[] = (a.getValue("entries") as any[]).map((e) => ({
            participant: e.participant,
            updateRoot: e.updateRoot,
            sampleCount: e.sampleCount,
            weight: Number(e.weight),
            epsilonMicros: e.epsilonMicros,
            reputationMicros: Number(e.reputationMicros),
          }));
          // blockhash(postedBlock + 1) seeds the challenge: read from the block headers.
          const next = await provider.getBlock(log.blockNumber + 1);
          rounds.set(round, {
            ...postedRound(round, p, log, a.participantsRoot),
            updatesDigest: a.updatesCommitment,
            accountingDigest: "",
            updates: entries.map((e) => ({
              participant: e.participant,
              updateRoot: e.updateRoot,
              attestedRoot: "",
              sampleCount: e.sampleCount,
              weight: e.weight,
              epsilonMicros: e.epsilonMicros,
              reputationMicros: e.reputationMicros,
              signature: "",
            })),
            quorumSignatures: [...a.quorumSignatures],
            status: "Proposed",
            batched: {
              updatesCommitment: a.updatesCommitment,
              entriesDigest: a.entriesDigest,
              keyRegistryRoot: a.keyRegistryRoot,
              participantSlots: a.participantSlots,
              postedBlock: log.blockNumber,
              nextBlockHash: next?.hash ?? "",
            },
          });
          events.push({ ...at, kind: "proposed", round });
          break;
        }
        case "BatchedRoundChallenged": {
          const r = rounds.get(Number(a.round));
          if (r?.batched !== undefined) {
            r.challengeSeed = a.challengeSeed;
            r.batched.publicInputs = [...(a.publicInputs as bigint[])];
          }
          break;
        }
        case "RoundAttested": {
          const r = rounds.get(Number(a.round));
          if (r !== undefined && r.batched === undefined) {
            // blockhash(attested block + 1) seeds a direct round's challenge: read from the block headers.
            const next = await provider.getBlock(log.blockNumber + 1);
            r.attested = { block: log.blockNumber, nextBlockHash: next?.hash ?? "" };
          }
          setStatus(rounds, Number(a.round), "Attested");
          events.push({ ...at, kind: "attested", round: Number(a.round) });
          break;
        }
        case "RoundChallenged": {
          const r = rounds.get(Number(a.round));
          if (r !== undefined) r.challengeSeed = a.challengeSeed;
          break;
        }
        case "RoundProven": {
          const r = rounds.get(Number(a.round));
          if (r !== undefined) {
            r.status = "Proven";
            r.proof = {
              a: [a.a[0], a.a[1]],
              b: [
                [a.b[0][0], a.b[0][1]],
                [a.b[1][0], a.b[1][1]],
              ],
              c: [a.c[0], a.c[1]],
            };
          }
          events.push({ ...at, kind: "proven", round: Number(a.round) });
          break;
        }
        case "RoundFinalized":
          setStatus(rounds, Number(a.round), "Finalized");
          events.push({ ...at, kind: "finalized", round: Number(a.round) });
          break;
        case "RoundRejected":
          setStatus(rounds, Number(a.round), "Rejected");
          events.push({ ...at, kind: "rejected", round: Number(a.round), reason: a.reason });
          break;
        case "FederationRolledBack":
          events.push({
            ...at,
            kind: "rolledBack",
            fromHead: Number(a.fromHead),
            toRound: Number(a.toRound),
            by: a.by,
            reason: a.reason,
            quorumSignatures: [...a.quorumSignatures],
          });
          break;
        case "FederationSealed":
          events.push({
            ...at,
            kind: "sealed",
            successorLedger: a.successorLedger,
            successorFederationId: a.successorFederationId,
            lastFinalized: Number(a.lastFinalized),
          });
          break;
      }
    }
    return {
      chainId: (await provider.getNetwork()).chainId,
      ledger: this.address,
      federationId,
      config,
      protocolVersion: await this.protocolVersion(),
      verifierKeyHashes: {
        direct: await this.verifierKeyHash(config.verifier, provider),
        ...(batched === undefined ? {} : { batched: await this.verifierKeyHash(batched.config.verifier, provider) }),
      },
      genesisCommitment: createdArgs.genesisCommitment,
      participants,
      rounds: [...rounds.values()].sort((x, y) => x.round - y.round),
      events,
      ...(batched === undefined ? {} : { batched }),
    };
  }
}

function position(log: Log, timestamp: number): EventPosition {
  return { blockNumber: log.blockNumber, blockHash: log.blockHash, transactionHash: log.transactionHash, logIndex: log.index, timestamp };
}

/** The fields of a RoundProposed / BatchedRoundProposed record that come from its RoundPost and log. */
function postedRound(
  round: number,
  p: any,
  log: Log,
  participantsRoot: string,
): Pick<
  RoundEvidence,
  | "round"
  | "parentRound"
  | "blockNumber"
  | "transactionHash"
  | "commitment"
  | "modelRoot"
  | "cidCodec"
  | "cidDigest"
  | "participantsRoot"
  | "challengeSeed"
> {
  return {
    round,
    parentRound: Number(p.parentRound),
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    commitment: p.commitment,
    modelRoot: p.modelRoot,
    cidCodec: Number(p.cidCodec),
    cidDigest: p.cidDigest,
    participantsRoot,
    // Fixed later, by RoundChallenged / BatchedRoundChallenged (docs/protocol.md §8, §14).
    challengeSeed: "0x" + "00".repeat(32),
  };
}

function setStatus(rounds: Map<number, RoundEvidence>, round: number, status: RoundStatusName): void {
  const r = rounds.get(round);
  if (r !== undefined) r.status = status;
}

/** A FederationConfig from its ABI-decoded form (event or call result). */
export function toFederationConfig(cfg: any): FederationConfig {
  return {
    modelId: cfg.modelId,
    modelLength: Number(cfg.modelLength),
    participantsPerRound: Number(cfg.participantsPerRound),
    minUpdates: Number(cfg.minUpdates),
    roundDeadline: Number(cfg.roundDeadline),
    finalityDelay: Number(cfg.finalityDelay),
    aggregation: {
      rule: Number(cfg.aggregation.rule),
      tauMicros: cfg.aggregation.tauMicros,
      reputationDecayMicros: cfg.aggregation.reputationDecayMicros,
    },
    dp: {
      epsilonMicros: cfg.dp.epsilonMicros,
      deltaPicos: cfg.dp.deltaPicos,
      clipMicros: cfg.dp.clipMicros,
      noiseMicros: cfg.dp.noiseMicros,
    },
    epsilonBudgetMicros: cfg.epsilonBudgetMicros,
    committee: [...cfg.committee],
    quorum: Number(cfg.quorum),
    verifier: cfg.verifier,
    verifyingKeyHash: cfg.verifyingKeyHash,
    genesisModelRoot: cfg.genesisModelRoot,
    genesisCidCodec: Number(cfg.genesisCidCodec),
    genesisCidDigest: cfg.genesisCidDigest,
    predecessor: {
      ledger: cfg.predecessor.ledger,
      federationId: cfg.predecessor.federationId,
      round: cfg.predecessor.round,
      commitment: cfg.predecessor.commitment,
    },
  };
}
