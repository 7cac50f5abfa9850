// The auditor's checks of batched rounds (docs/protocol.md §14): the key registry rebuilt from
// BatchedFederationCreated / ParticipantEnrolled / KeyRegistryUpdated, each round's registry root and
// participant slots, entriesDigest, the Poseidon updatesCommitment recomputed from the published
// updates, the committee's BatchedRoundRecord quorum, the challenge from h_t and blockhash(postedBlock
// + 1), and the Groth16 proof verified off-chain against public inputs the auditor rebuilt itself.
import { getAddress } from "ethers";
import type { FederationEvidence, LedgerEvent, RoundEvidence, BatchedEntry } from "../../protocol/evidence.js";
import { ensureError } from "../../errors.js";
import {
  attestationDomain,
  batchedEntriesDigest,
  fieldToBytes32,
  participantsRoot,
  recoverBatchedRoundRecordSigner,
  sortParticipants,
  vectorRoot,
} from "../../protocol/index.js";
import { getPoseidon } from "../../protocol/poseidon.js";
import { keyRegistry, roundScope, updatesCommitment, type PublicKey } from "../../protocol/eddsa.js";
import { challengeChunkCount, challengeIndices } from "../../protocol/challenge.js";
import { challengeSeed } from "../../protocol/commitment.js";
import { notAMemberOverThisRecord, type Finding, type ProofVerifier } from "./findings.js";
import { BATCHED_PUBLIC_INPUT_NAMES, batchedMeta, packParticipantSlots } from "../../protocol/batched.js";

const ZERO32 = "0x" + "00".repeat(32);

/** The registry a round was proven against: its slots' keys and root, as rebuilt from events. */
export interface RegistrySnapshot {
  /** First round this registry applies to. */
  from: number;
  keys: (PublicKey | null)[];
  root: bigint;
}

export interface RegistryReplay {
  /** The registry in force for round `t` (the latest change effective from a round <= t). */
  snapshotFor(t: number): RegistrySnapshot | undefined;
  findings: Finding[];
}

/**
 * Rebuilds the key registry in chain order: the initial roster's keys (ParticipantEnrolled before
 * BatchedFederationCreated), then each KeyRegistryUpdated, whose leaf must be Poseidon of the key
 * that participant enrolled with (or 0 for a revocation) at its roster index; every root is
 * recomputed and compared with the one the event carries.
 */
export async function replayKeyRegistry(evidence: FederationEvidence): Promise<RegistryReplay> {
  const findings: Finding[] = [];
  const history: RegistrySnapshot[] = [];
  const out: RegistryReplay = {
    findings,
    snapshotFor: (t) => [...history].reverse().find((h) => h.from <= t),
  };
  const b = evidence.batched;
  if (b === undefined) return out;
  const depth = b.config.registryDepth;
  const poseidon = await getPoseidon();
  const keyOf = new Map<string, PublicKey | null>();
  const indexOf = new Map<string, number>();
  const slots: (PublicKey | null)[] = [];
  let created = false;
  let openRound = 0;
  const bad = (round: number, message: string) => findings.push({ round, link: "registry", message });
  const rebuild = async (round: number, what: string): Promise<bigint | undefined> => {
    try {
      return (await keyRegistry(slots, depth)).root;
    } catch (e) {
      bad(round, `${what}: the registry cannot be rebuilt: ${ensureError(e).message}`);
      return undefined;
    }
  };
  for (const e of evidence.events as LedgerEvent[]) {
    switch (e.kind) {
      case "enrolled": {
        const a = getAddress(e.participant);
        const key: PublicKey | null =
          e.babyJubJubKey[0] === 0n && e.babyJubJubKey[1] === 0n ? null : [e.babyJubJubKey[0], e.babyJubJubKey[1]];
        keyOf.set(a, key);
        indexOf.set(a, e.index);
        // The initial roster's keys fill the registry at creation; later keys arrive by KeyRegistryUpdated.
        if (!created) slots[e.index] = key;
        else if (slots[e.index] === undefined) slots[e.index] = null;
        break;
      }
      case "opened":
        openRound = e.round;
        break;
      case "batchedCreated": {
        created = true;
        for (let i = 0; i < slots.length; i++) slots[i] ??= null;
        const root = await rebuild(0, "at creation");
        if (root === undefined) break;
        if (fieldToBytes32(root) !== e.keyRegistryRoot) {
          bad(
            0,
            `BatchedFederationCreated carries key registry root ${e.keyRegistryRoot}; the initial roster's keys give ${fieldToBytes32(root)}`,
          );
        }
        history.push({ from: 1, keys: slots.slice(), root });
        break;
      }
      case "registryUpdated": {
        const round = openRound;
        const a = getAddress(e.participant);
        const index = indexOf.get(a);
        if (index === undefined) {
          bad(round, `KeyRegistryUpdated names ${a}, who never enrolled`);
          break;
        }
        if (e.slot !== index) bad(round, `KeyRegistryUpdated puts ${a} in slot ${e.slot}; its roster index is ${index}`);
        let leaf = 0n;
        if (e.leaf !== 0n) {
          const key = keyOf.get(a);
          if (key === null || key === undefined) {
            bad(round, `KeyRegistryUpdated gives ${a} leaf ${e.leaf}, but it enrolled without a BabyJubJub key`);
            break;
          }
          leaf = poseidon.hash([key[0], key[1]]);
          if (leaf !== e.leaf) bad(round, `KeyRegistryUpdated gives ${a} leaf ${e.leaf}; Poseidon of its enrolled key is ${leaf}`);
        }
        slots[index] = leaf === 0n ? null : keyOf.get(a)!;
        if (e.effectiveFromRound !== openRound + 1) {
          bad(
            round,
            `the registry change of ${a} applies from round ${e.effectiveFromRound}; round ${openRound} was open, so it must apply from ${openRound + 1}`,
          );
        }
        const root = await rebuild(round, `after the change of slot ${index}`);
        if (root === undefined) break;
        if (fieldToBytes32(root) !== e.keyRegistryRoot) {
          bad(
            round,
            `KeyRegistryUpdated of slot ${index} carries root ${e.keyRegistryRoot}; the rebuilt registry gives ${fieldToBytes32(root)}`,
          );
        }
        history.push({ from: openRound + 1, keys: slots.slice(), root });
        break;
      }
    }
  }
  if (!created)
    findings.push({
      round: 0,
      link: "federation",
      message: "the evidence names a batched configuration but no BatchedFederationCreated event",
    });
  return out;
}

export interface BatchedRoundContext {
  evidence: FederationEvidence;
  r: RoundEvidence;
  registry: RegistryReplay;
  rosterIndex: ReadonlyMap<string, number>;
  committee: ReadonlySet<string>;
  /** modelRoot of the round's parent. */
  baseModelRoot: string;
  /** The published updates, fetched and checked against the entries' update roots; undefined when not available. */
  deltas?: readonly Int32Array[];
  verifyProof?: ProofVerifier;
  /** "proposal": a committee member's review before posting; no quorum, challenge or proof exists yet. */
  phase?: "audit" | "proposal";
}

export interface BatchedRoundOutcome {
  findings: Finding[];
  proofVerified: boolean;
  /** The challenged chunks, once the block after the posting exists. */
  chunkIndices?: number[];
}

/** Every check of a batched record that the direct path does differently (§14); the rest is shared. */
export async function checkBatchedRound(c: BatchedRoundContext): Promise<BatchedRoundOutcome> {
  const { evidence, r } = c;
  const t = r.round;
  const rb = r.batched!;
  const cfg = evidence.config;
  const bcfg = evidence.batched?.config;
  const f: Finding[] = [];
  const out: BatchedRoundOutcome = { findings: f, proofVerified: false };
  if (bcfg === undefined) {
    f.push({ round: t, link: "federation", message: "a batched round in a federation that was not created with createBatchedFederation" });
    return out;
  }
  const depth = bcfg.registryDepth;
  const addrs = r.updates.map((u) => getAddress(u.participant));

  // Participant slots: roster indices, strictly ascending, packed as the proof's participantSlots.
  const slots = addrs.map((a) => c.rosterIndex.get(a) ?? -1);
  let packed: bigint | undefined;
  if (slots.every((s) => s >= 0)) {
    for (let i = 1; i < slots.length; i++) {
      if (slots[i] <= slots[i - 1]) {
        f.push({
          round: t,
          link: "participants",
          message: `batched entries not in strictly ascending roster index at position ${i} (${slots[i]} after ${slots[i - 1]})`,
        });
      }
    }
    try {
      packed = packParticipantSlots(slots, depth);
    } catch (e) {
      f.push({ round: t, link: "registry", message: ensureError(e).message });
    }
    if (packed !== undefined && packed !== rb.participantSlots) {
      f.push({
        round: t,
        link: "registry",
        message: `participantSlots ${rb.participantSlots} recorded, recomputed ${packed} from the entries' roster indices [${slots}]`,
      });
    }
  }

  // The key registry root the round was proven against: the one in force when it opened.
  const snap = c.registry.snapshotFor(t);
  if (snap === undefined) {
    f.push({ round: t, link: "registry", message: "no key registry is in force for this round (no BatchedFederationCreated before it)" });
  } else {
    const expected = fieldToBytes32(snap.root);
    if (expected !== rb.keyRegistryRoot) {
      f.push({
        round: t,
        link: "registry",
        message: `key registry root ${rb.keyRegistryRoot} recorded; the registry rebuilt from the enrolment and KeyRegistryUpdated events gives ${expected} for round ${t}`,
      });
    }
    slots.forEach((s, i) => {
      if (s >= 0 && (snap.keys[s] ?? null) === null) {
        f.push({
          round: t,
          link: "registry",
          message: `${addrs[i]} (slot ${s}) has no key in round ${t}'s registry (keyless, revoked or never set): the round is unprovable`,
        });
      }
    });
  }

  // participantsRoot: S_t sorted by address, whatever the entries' order.
  try {
    const pRoot = participantsRoot(sortParticipants(addrs));
    if (pRoot !== r.participantsRoot)
      f.push({ round: t, link: "participants", message: `participantsRoot ${r.participantsRoot} recorded, recomputed ${pRoot}` });
  } catch (e) {
    f.push({ round: t, link: "participants", message: ensureError(e).message });
  }

  // entriesDigest over the entries as the record lists them.
  const entries: BatchedEntry[] = r.updates.map((u) => ({
    participant: u.participant,
    updateRoot: u.updateRoot,
    sampleCount: u.sampleCount,
    weight: u.weight,
    epsilonMicros: u.epsilonMicros,
    reputationMicros: u.reputationMicros,
  }));
  let entriesDigest = "";
  try {
    entriesDigest = batchedEntriesDigest(entries);
  } catch (e) {
    f.push({ round: t, link: "commitment", message: `the entries cannot be encoded: ${ensureError(e).message}` });
  }
  if (entriesDigest !== "" && entriesDigest !== rb.entriesDigest) {
    f.push({ round: t, link: "commitment", message: `entriesDigest ${rb.entriesDigest} recorded, recomputed ${entriesDigest}` });
  }

  // updatesCommitment from the registry's keys, the published updates' roots, weights and metas.
  if (snap !== undefined && slots.every((s) => s >= 0 && snap.keys[s] !== null && snap.keys[s] !== undefined)) {
    try {
      const roots =
        c.deltas !== undefined ? await Promise.all(c.deltas.map((d) => vectorRoot(d))) : r.updates.map((u) => BigInt(u.updateRoot));
      const metas = await Promise.all(r.updates.map((u) => batchedMeta(u.sampleCount, cfg.dp)));
      const commitment = fieldToBytes32(
        await updatesCommitment(
          r.updates.map((u, i) => ({ publicKey: snap.keys[slots[i]]!, updateRoot: roots[i], weight: u.weight, meta: metas[i] })),
        ),
      );
      if (commitment !== rb.updatesCommitment) {
        f.push({
          round: t,
          link: "updatesCommitment",
          message: `updatesCommitment ${rb.updatesCommitment} recorded, recomputed ${commitment} from the registry keys, the ${c.deltas !== undefined ? "published updates" : "entries' update roots (updates unavailable)"}, weights and sample counts`,
        });
      }
    } catch (e) {
      f.push({ round: t, link: "updatesCommitment", message: `cannot be recomputed: ${ensureError(e).message}` });
    }
  }

  // The committee's quorum over the BatchedRoundRecord.
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const message = {
    federationId: evidence.federationId,
    round: BigInt(t),
    parentRound: BigInt(r.parentRound),
    commitment: r.commitment,
    updatesCommitment: rb.updatesCommitment,
    entriesDigest: entriesDigest || rb.entriesDigest,
  };
  const signers = new Set<string>();
  for (const [i, sig] of r.quorumSignatures.entries()) {
    let signer = "";
    try {
      signer = recoverBatchedRoundRecordSigner(domain, message, sig);
    } catch (e) {
      f.push({ round: t, link: "quorum", message: `quorum signature ${i + 1} is malformed (${ensureError(e).message.split("\n")[0]})` });
      continue;
    }
    if (!c.committee.has(signer)) f.push({ round: t, link: "quorum", message: notAMemberOverThisRecord(i, signer, "batched record") });
    else if (signers.has(signer)) f.push({ round: t, link: "quorum", message: `${signer} signed the batched record twice` });
    signers.add(signer);
  }
  const valid = [...signers].filter((s) => c.committee.has(s)).length;
  if (valid < cfg.quorum && c.phase !== "proposal")
    f.push({ round: t, link: "quorum", message: `${valid} committee signatures over the BatchedRoundRecord, ${cfg.quorum} needed` });

  // The challenge: seed from h_t and blockhash(postedBlock + 1), then the chunk indices.
  const provenStatus = r.status === "Proven" || r.status === "Finalized";
  let indices: number[] | undefined;
  if (rb.nextBlockHash === "") {
    if (provenStatus)
      f.push({ round: t, link: "proof", message: `block ${rb.postedBlock + 1}, whose hash seeds the challenge, is not available` });
  } else {
    const seed = challengeSeed(r.commitment, rb.nextBlockHash);
    if ((provenStatus || r.challengeSeed !== ZERO32) && seed !== r.challengeSeed) {
      f.push({
        round: t,
        link: "proof",
        message: `challenge seed ${r.challengeSeed} recorded, recomputed ${seed} from h_t and the hash of block ${rb.postedBlock + 1}`,
      });
    }
    indices = challengeIndices(seed, challengeChunkCount(cfg.modelLength, bcfg.chunkLevel), bcfg.samples);
    out.chunkIndices = indices;
  }

  // The proof, against public inputs rebuilt here (never the ones the ledger emitted).
  if (r.proof === undefined) {
    if (provenStatus) f.push({ round: t, link: "proof", message: `the round is ${r.status} but no proof was recorded` });
    return out;
  }
  if (indices === undefined || snap === undefined || packed === undefined) {
    f.push({
      round: t,
      link: "proof",
      message: "the public inputs cannot be rebuilt (see the round's other findings), so the proof is not verified",
    });
    return out;
  }
  const signals = [
    roundScope(evidence.chainId, evidence.ledger, evidence.federationId, BigInt(t)),
    BigInt(c.baseModelRoot || 0),
    BigInt(r.modelRoot),
    snap.root,
    packed,
    BigInt(rb.updatesCommitment),
    ...indices.map(BigInt),
  ];
  if (rb.publicInputs !== undefined) {
    const i = signals.findIndex((x, j) => rb.publicInputs![j] !== x);
    if (i >= 0 || rb.publicInputs.length !== signals.length) {
      const name = i < 0 ? "count" : (BATCHED_PUBLIC_INPUT_NAMES[i] ?? `chunkIndex_${i - BATCHED_PUBLIC_INPUT_NAMES.length + 1}`);
      f.push({
        round: t,
        link: "proof",
        message: `the ledger verified the proof against public input ${name} = ${i < 0 ? rb.publicInputs.length : rb.publicInputs[i]}; rebuilt: ${i < 0 ? signals.length : signals[i]}`,
      });
    }
  }
  if (c.verifyProof === undefined) {
    f.push({
      round: t,
      link: "proof",
      message: "no verifying key of the federation's batched instance is at hand, so the proof is not verified",
    });
    return out;
  }
  let ok = false;
  let why = "";
  try {
    ok = await c.verifyProof(signals, r.proof);
  } catch (e) {
    why = ` (${ensureError(e).message})`;
  }
  if (ok) out.proofVerified = true;
  else
    f.push({ round: t, link: "proof", message: `the RoundAttested Groth16 proof does not verify against the rebuilt public inputs${why}` });
  return out;
}

/** A batched round's challenged chunk indices from h_t and blockhash(postedBlock + 1); undefined otherwise. */
export function batchedChunkIndices(evidence: FederationEvidence, r: RoundEvidence): number[] | undefined {
  const b = evidence.batched?.config;
  if (r.batched === undefined || b === undefined || r.batched.nextBlockHash === "") return undefined;
  const seed = challengeSeed(r.commitment, r.batched.nextBlockHash);
  return challengeIndices(seed, challengeChunkCount(evidence.config.modelLength, b.chunkLevel), b.samples);
}
