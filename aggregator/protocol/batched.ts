// The batched path's encodings (docs/protocol.md §14, docs/proof-of-training.md §4) that the ledger,
// the circuit, the committee and the auditor all build: the RoundAttested public inputs' order,
// each participant's meta, and the packing of a round's registry slots into one field element.
import { DsainError, ErrorCode } from "../errors.js";
import { attestationMeta } from "./eddsa.js";
import type { DpParams } from "./evidence.js";

/** The names of RoundAttested's public inputs, in the ledger's order (batchedPublicInputs). */
export const BATCHED_PUBLIC_INPUT_NAMES = [
  "scope",
  "prevRoot",
  "newRoot",
  "keyRegistryRoot",
  "participantSlots",
  "updatesCommitment",
] as const;

export function uint64(what: string, x: bigint): bigint {
  if (typeof x !== "bigint" || x < 0n || x >= 1n << 64n)
    throw new DsainError(ErrorCode.INPUT_INVALID, `${what} = ${String(x)} is not a uint64`);
  return x;
}

/** meta_i of docs/proof-of-training.md §4: the participant's sample count with the federation's DP parameters. */
export function batchedMeta(sampleCount: bigint, dp: DpParams): Promise<bigint> {
  return attestationMeta({
    sampleCount: uint64("sampleCount", sampleCount),
    dpEpsilonMicros: dp.epsilonMicros,
    dpDeltaPicos: dp.deltaPicos,
    dpClipMicros: dp.clipMicros,
    dpNoiseMicros: dp.noiseMicros,
  });
}

/**
 * participantSlots = sum_i slot_i * 2^(R * i): the round's registry slots (roster indices, strictly
 * ascending) packed into one field element, which the ledger builds from the recorded, selected
 * participants. Needs K * R <= 252.
 */
export function packParticipantSlots(slots: readonly number[], registryDepth: number): bigint {
  if (slots.length * registryDepth > 252) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `${slots.length} slots of ${registryDepth} bits do not fit one field element`);
  }
  let packed = 0n;
  slots.forEach((slot, i) => {
    if (!Number.isInteger(slot) || slot < 0 || slot >= 2 ** registryDepth) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `registry slot ${slot} is outside [0, 2^${registryDepth})`);
    }
    packed += BigInt(slot) << BigInt(registryDepth * i);
  });
  return packed;
}
