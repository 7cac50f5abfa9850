// The participant's steps of a round (docs/architecture.md): train on local data from the round's
// base model, optionally through the FedSov client step, encode the update in fixed point, commit
// to it with its Poseidon root, and sign the attestation (EIP-712 for the ledger's direct and
// batched-ECDSA paths, EdDSA-Poseidon for in-circuit attestations); in direct mode, send the
// attestation transaction, once. Each step is a function of its inputs: the demo, the tests and a
// participant daemon call the same ones.
import type { Signer, TypedDataDomain } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import { signAttestation } from "../protocol/attestation.js";
import type { TensorSpec } from "../protocol/checkpoint.js";
import { NO_DP, type DpParams } from "../protocol/evidence.js";
import { decodeVector, encodedDelta, encodeVector } from "../protocol/fixed-point.js";
import { fieldToBytes32, vectorRoot } from "../protocol/vector-root.js";
import type { Dataset } from "../maths/learning/data.js";
import { type TrainOptions } from "../maths/learning/model.js";
import type { Tf } from "../maths/learning/tf.js";
import { fedsovClientStep, localDelta, wireToDense, type FedsovEncodeOptions } from "../maths/fedsov/client.js";
import type { TopKCompressor } from "../maths/fedsov/topk.js";
import type { LedgerClient } from "../adapters/chain/ledger.js";
import { signBatchedUpdate, type BatchedAttestation } from "../adapters/proof/batched-round.js";
import type { BabyJubKeyPair } from "../protocol/eddsa.js";

/** An encoded update and what its sender attests about it. */
export interface LocalUpdate {
  /** Δ in fixed point (2^-16), the vector the participant commits to. */
  delta: Int32Array;
  /** The number of local samples it trained on (its FedAvg weight). */
  sampleCount: bigint;
}

/** FedSov's client step instead of plain local training: top-k with error feedback, clipping and noise. */
export interface FedsovStep extends FedsovEncodeOptions {
  clientId: string | number;
  /** The participant's error-feedback state; the same instance across its rounds. */
  compressor: TopKCompressor;
}

/**
 * Trains from the base model `base` (the encoded w_t) on `data` and returns the encoded update.
 * Plain training: Δ = q(w_local) − q(w_t), so that w_t + Δ is exactly the quantised local model.
 * With `fedsov`: Δ = q(C(w_local − w_t) + noise), the FedSov message in fixed point.
 */
export async function trainUpdate(
  tf: Tf,
  spec: readonly TensorSpec[],
  base: Int32Array,
  data: Dataset,
  o: { train: TrainOptions; fedsov?: FedsovStep },
): Promise<LocalUpdate> {
  const sampleCount = BigInt(data.y.length);
  if (o.fedsov === undefined) {
    const { localWeights } = await localDelta(tf, spec, decodeVector(base), data, o.train);
    return { delta: encodedDelta(encodeVector(localWeights), base), sampleCount };
  }
  const step = await fedsovClientStep(tf, spec, decodeVector(base), data, { ...o.fedsov, train: o.train });
  return { delta: encodeVector(wireToDense(step.update)), sampleCount };
}

/** The update's commitment: its Poseidon root (docs/protocol.md §2) as bytes32. */
export async function commitUpdate(delta: Int32Array): Promise<string> {
  return fieldToBytes32(await vectorRoot(delta));
}

/** What an attestation binds besides the update: the federation, the round and the model it starts from. */
export interface RoundContext {
  federationId: bigint;
  round: bigint;
  /** The base model's root (bytes32): the participant trained from exactly this model. */
  baseModelRoot: string;
  /** The DP parameters the update was produced under (NO_DP without noise). */
  dp?: DpParams;
}

/** The EIP-712 attestation (docs/protocol.md §6) of an update whose root is `updateRoot`. */
export async function signUpdate(
  signer: Signer,
  domain: TypedDataDomain,
  ctx: RoundContext,
  update: { updateRoot: string; sampleCount: bigint },
): Promise<string> {
  const dp = ctx.dp ?? NO_DP;
  return signAttestation(signer, domain, {
    federationId: ctx.federationId,
    round: ctx.round,
    baseModelRoot: ctx.baseModelRoot,
    updateRoot: update.updateRoot,
    sampleCount: update.sampleCount,
    dpEpsilonMicros: dp.epsilonMicros,
    dpDeltaPicos: dp.deltaPicos,
    dpClipMicros: dp.clipMicros,
    dpNoiseMicros: dp.noiseMicros,
  });
}

/**
 * The in-circuit attestation (docs/protocol.md §14): EdDSA-Poseidon over (scope, the base model's
 * root, the update's root, its meta), checked inside the round's RoundAttested proof.
 */
export async function signUpdateEdDSA(
  key: BabyJubKeyPair,
  o: { scope: bigint; baseModelRoot: bigint; update: LocalUpdate; dp?: DpParams },
): Promise<BatchedAttestation> {
  return signBatchedUpdate(key, {
    scope: o.scope,
    prevRoot: o.baseModelRoot,
    delta: o.update.delta,
    sampleCount: o.update.sampleCount,
    dp: o.dp ?? NO_DP,
  });
}

/** An attestation ready for the ledger's direct path. */
export interface SignedUpdate {
  participant: string;
  round: bigint;
  updateRoot: string;
  sampleCount: bigint;
  signature: string;
}

/**
 * Sends the attestation transaction of the direct path once: if the ledger already holds this
 * participant's attestation for the round (an earlier run, a relayer), that is success and no
 * transaction is sent; another update root attested for the round is refused.
 * Returns the gas the transaction used (0 when it was already there).
 */
export async function attestOnce(ledger: LedgerClient, federationId: bigint, u: SignedUpdate): Promise<bigint> {
  const held = await ledger.attestationOf(federationId, u.round, u.participant);
  if (held !== undefined) {
    if (held.toLowerCase() === u.updateRoot.toLowerCase()) return 0n;
    throw new DsainError(
      ErrorCode.CHAIN_FAILURE,
      `${u.participant} already attested update root ${held} for round ${u.round}; refusing to attest ${u.updateRoot} as well`,
    );
  }
  return (await ledger.attest(federationId, u)).gasUsed;
}
