// The auditor: from the ledger's events and IPFS alone, recomputes every hash, checks every
// signature, checkpoint and proof of a federation, and names the round and link that breaks.
import { getAddress } from "ethers";
import { fedAvgRule, type WeightRule } from "./rules.js";
import {
  attestationDomain,
  challengeChunk,
  chunkCount,
  decodeCheckpoint,
  fieldToBytes32,
  participantsRoot,
  recoverAttester,
  roundCommitment,
  updatesDigest,
  vectorRoot,
  WEIGHT_TOTAL,
} from "../protocol/index.js";
import { cidFromOnchain } from "../protocol/cid.js";
import type { FederationEvidence, RoundEvidence, SolidityProof } from "../chain/ledger.js";
import { ensureError } from "../errors.js";

/** Reads checkpoint bytes by CID and refuses bytes that do not hash to it. */
export interface CheckpointSource {
  getVerified(cid: ReturnType<typeof cidFromOnchain>): Promise<Uint8Array>;
}

/** Verifies a Groth16 proof in Solidity form against public signals, off-chain. */
export type ProofVerifier = (publicSignals: bigint[], proof: SolidityProof) => Promise<boolean>;

export interface AuditOptions {
  evidence: FederationEvidence;
  checkpoints: CheckpointSource;
  verifyProof: ProofVerifier;
  /** sha256 (0x-hex) of the verifying key that verifyProof uses; must equal the federation's. */
  verifyingKeyHash: string;
  weightRule?: WeightRule;
  onRound?: (round: number, findings: Finding[]) => void;
}

export interface Finding {
  round: number;
  link: "participants" | "signature" | "weights" | "commitment" | "checkpoint" | "proof" | "sequence" | "federation";
  message: string;
}

export interface AuditReport {
  ok: boolean;
  rounds: number;
  proven: number;
  findings: Finding[];
}

/** Renders a finding as the one line a user reads: round, broken link, what is wrong. */
export function formatFinding(f: Finding): string {
  return `round ${f.round}: ${f.link}: ${f.message}`;
}

export async function auditFederation(opts: AuditOptions): Promise<AuditReport> {
  const { evidence } = opts;
  const rule = opts.weightRule ?? fedAvgRule;
  const findings: Finding[] = [];
  const domain = attestationDomain(evidence.chainId, evidence.ledger);
  const enrolled = new Set(evidence.participants.map((a) => getAddress(a)));
  const chunks = chunkCount(evidence.config.modelLength);

  if (opts.verifyingKeyHash.toLowerCase() !== evidence.config.verifyingKeyHash.toLowerCase()) {
    findings.push({
      round: 0,
      link: "federation",
      message: `the verifying key at hand (${opts.verifyingKeyHash}) is not the one the federation pins (${evidence.config.verifyingKeyHash})`,
    });
  }

  // Round 0: the genesis model.
  const genesis = {
    round: 0,
    modelRoot: evidence.config.genesisModelRoot,
    cidCodec: evidence.config.genesisCidCodec,
    cidDigest: evidence.config.genesisCidDigest,
    commitment: evidence.genesisCommitment,
  };
  const genesisFindings: Finding[] = [];
  const expectedGenesis = roundCommitment({ ...genesis, participantsRoot: participantsRoot([]) });
  if (expectedGenesis !== genesis.commitment) {
    genesisFindings.push({ round: 0, link: "commitment", message: `genesis h_0 is ${genesis.commitment}, recomputed ${expectedGenesis}` });
  }
  genesisFindings.push(...(await checkCheckpoint(opts, genesis, evidence.config.modelId, evidence.config.modelLength)));
  findings.push(...genesisFindings);
  opts.onRound?.(0, genesisFindings);

  let prevRoot = evidence.config.genesisModelRoot;
  let proven = 0;
  for (const [index, r] of evidence.rounds.entries()) {
    const f: Finding[] = [];
    const t = r.round;
    if (t !== index + 1) f.push({ round: t, link: "sequence", message: `round ${t} recorded where round ${index + 1} was expected` });

    // Participants and their signatures.
    const addrs = r.updates.map((u) => getAddress(u.participant));
    if (addrs.length !== evidence.config.participantsPerRound) {
      f.push({
        round: t,
        link: "participants",
        message: `${addrs.length} attested updates, the federation requires ${evidence.config.participantsPerRound}`,
      });
    }
    for (let i = 1; i < addrs.length; i++) {
      if (BigInt(addrs[i]) <= BigInt(addrs[i - 1]))
        f.push({ round: t, link: "participants", message: `participants not strictly ascending at position ${i}` });
    }
    for (const a of addrs)
      if (!enrolled.has(a)) f.push({ round: t, link: "participants", message: `${a} attested but was never enrolled` });
    for (const u of r.updates) {
      let recovered = "";
      try {
        recovered = recoverAttester(
          domain,
          {
            federationId: evidence.federationId,
            round: BigInt(t),
            baseModelRoot: prevRoot,
            updateRoot: u.updateRoot,
            sampleCount: u.sampleCount,
            dpEpsilonMicros: u.dp.epsilonMicros,
            dpDeltaPicos: u.dp.deltaPicos,
            dpClipMicros: u.dp.clipMicros,
            dpNoiseMicros: u.dp.noiseMicros,
          },
          u.signature,
        );
      } catch (e) {
        recovered = `nothing (${ensureError(e).message.split("\n")[0]})`;
      }
      if (recovered !== getAddress(u.participant)) {
        f.push({
          round: t,
          link: "signature",
          message: `attestation of ${u.participant} does not recover its signer (recovered ${recovered})`,
        });
      }
    }

    // Weights: sum and the federation's rule.
    const weights = r.updates.map((u) => u.weight);
    const sum = weights.reduce((a, b) => a + b, 0);
    if (sum !== WEIGHT_TOTAL) f.push({ round: t, link: "weights", message: `weights sum to ${sum}, not ${WEIGHT_TOTAL}` });
    const expectedWeights = rule.weights(r.updates);
    if (expectedWeights !== undefined && expectedWeights.join(",") !== weights.join(",")) {
      f.push({ round: t, link: "weights", message: `weights [${weights}] differ from the ${rule.name} rule's [${expectedWeights}]` });
    }

    // Hashes: S_t root, updates digest, h_t.
    let pRoot = "";
    try {
      pRoot = participantsRoot(addrs);
    } catch (e) {
      f.push({ round: t, link: "participants", message: ensureError(e).message });
    }
    if (pRoot !== "" && pRoot !== r.participantsRoot) {
      f.push({ round: t, link: "participants", message: `participantsRoot ${r.participantsRoot} recorded, recomputed ${pRoot}` });
    }
    const uDigest = updatesDigest(
      addrs,
      r.updates.map((u) => u.updateRoot),
      weights,
    );
    if (uDigest !== r.updatesDigest)
      f.push({ round: t, link: "commitment", message: `updatesDigest ${r.updatesDigest} recorded, recomputed ${uDigest}` });
    const h = roundCommitment({
      modelRoot: r.modelRoot,
      cidCodec: r.cidCodec,
      cidDigest: r.cidDigest,
      participantsRoot: r.participantsRoot,
      round: t,
    });
    if (h !== r.commitment)
      f.push({
        round: t,
        link: "commitment",
        message: `h_t ${r.commitment} recorded, recomputed ${h} from the round's model, CID, participants and t`,
      });

    // Checkpoint: bytes hash to the CID, parse, and commit to modelRoot.
    f.push(...(await checkCheckpoint(opts, r, evidence.config.modelId, evidence.config.modelLength)));

    // Proof: rebuilt public inputs, verified off-chain with the pinned key.
    if (r.proof === undefined) {
      f.push({ round: t, link: "proof", message: "no Proof-of-Training was recorded for this round" });
    } else {
      const signals = [
        BigInt(prevRoot),
        BigInt(r.modelRoot),
        BigInt(challengeChunk(r.challengeSeed, chunks)),
        ...r.updates.map((u) => BigInt(u.updateRoot)),
        ...weights.map(BigInt),
      ];
      let ok = false;
      let why = "";
      try {
        ok = await opts.verifyProof(signals, r.proof);
      } catch (e) {
        why = ` (${ensureError(e).message})`;
      }
      if (ok) proven++;
      else f.push({ round: t, link: "proof", message: `the Groth16 proof does not verify against the round's public inputs${why}` });
    }

    findings.push(...f);
    opts.onRound?.(t, f);
    prevRoot = r.modelRoot;
  }
  return { ok: findings.length === 0, rounds: evidence.rounds.length, proven, findings };
}

async function checkCheckpoint(
  opts: AuditOptions,
  r: Pick<RoundEvidence, "round" | "modelRoot" | "cidCodec" | "cidDigest">,
  modelId: string,
  modelLength: number,
): Promise<Finding[]> {
  const t = r.round;
  let cid;
  try {
    cid = cidFromOnchain(r.cidCodec, r.cidDigest);
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: ensureError(e).message }];
  }
  let bytes: Uint8Array;
  try {
    bytes = await opts.checkpoints.getVerified(cid);
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }];
  }
  try {
    const ck = decodeCheckpoint(bytes);
    const out: Finding[] = [];
    if (ck.round !== t) out.push({ round: t, link: "checkpoint", message: `${cid.toString()} is the checkpoint of round ${ck.round}` });
    if (ck.modelId !== modelId)
      out.push({ round: t, link: "checkpoint", message: `${cid.toString()} holds model ${ck.modelId}, not ${modelId}` });
    if (ck.values.length !== modelLength) {
      out.push({
        round: t,
        link: "checkpoint",
        message: `${cid.toString()} has ${ck.values.length} parameters, the federation ${modelLength}`,
      });
      return out;
    }
    const root = fieldToBytes32(await vectorRoot(ck.values));
    if (root !== r.modelRoot)
      out.push({
        round: t,
        link: "checkpoint",
        message: `${cid.toString()} commits to model root ${root}, the chain records ${r.modelRoot}`,
      });
    return out;
  } catch (e) {
    return [{ round: t, link: "checkpoint", message: `${cid.toString()}: ${ensureError(e).message}` }];
  }
}
