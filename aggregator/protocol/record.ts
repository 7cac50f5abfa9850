// The packed entries of a round record (docs/protocol.md §11): what `postRound` takes and
// `RoundProposed` publishes, 141 bytes per participant in S_t order.
// Solidity twin: ProtocolHashes.RECORD_ENTRY_SIZE, recordEntry and recordEntrySignature.
import { concat, getAddress, hexlify, isHexString, toBeHex } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";
import type { BatchedEntryFields } from "./commitment.js";

/** Bytes per entry: participant 20, updateRoot 32, sampleCount 8, weight 4, epsilonMicros 8, reputationMicros 4, signature 65. */
export const RECORD_ENTRY_SIZE = 141;

const SIGNATURE_BYTES = 65;
const NO_SIGNATURE = "0x" + "00".repeat(SIGNATURE_BYTES);

/**
 * One entry of a round record: a batched entry's fields (§14 has the same six) and the participant's
 * attestation, `signature` "0x" when the participant attests with attest().
 */
export interface UpdateEntry extends BatchedEntryFields {
  signature: string;
}

function unsigned(value: bigint | number, bytes: number, name: string, position: number): string {
  const v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) {
    throw new DsainError(ErrorCode.ENCODING_OUT_OF_RANGE, `record entry ${position}: ${name} ${v} does not fit ${8 * bytes} unsigned bits`);
  }
  return toBeHex(v, bytes);
}

function fixedHex(value: string, bytes: number, name: string, position: number): string {
  if (!isHexString(value, bytes)) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `record entry ${position}: ${name} must be ${bytes} bytes of hex, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The packed bytes of `entries`, in the order given (the ledger checks that it is S_t's). */
export function encodeRecordEntries(entries: readonly UpdateEntry[]): string {
  const parts = entries.map((e, i) => {
    let participant: string;
    try {
      participant = getAddress(e.participant);
    } catch (cause) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `record entry ${i}: participant ${JSON.stringify(e.participant)} is not an address`, {
        cause,
      });
    }
    const signature = e.signature === "0x" ? NO_SIGNATURE : fixedHex(e.signature, SIGNATURE_BYTES, "signature", i);
    if (e.signature !== "0x" && signature === NO_SIGNATURE) {
      throw new DsainError(ErrorCode.INPUT_INVALID, `record entry ${i}: an all-zero signature is no signature; pass "0x" for direct mode`);
    }
    return concat([
      participant,
      fixedHex(e.updateRoot, 32, "updateRoot", i),
      unsigned(e.sampleCount, 8, "sampleCount", i),
      unsigned(e.weight, 4, "weight", i),
      unsigned(e.epsilonMicros, 8, "epsilonMicros", i),
      unsigned(e.reputationMicros, 4, "reputationMicros", i),
      signature,
    ]);
  });
  return parts.length === 0 ? "0x" : hexlify(concat(parts));
}

/**
 * The entries of packed record bytes `data` (a RoundProposed's `entries`), `signature` "0x" where its
 * 65 bytes are zero (attested by the participant's own transaction). `context` names the record in errors.
 */
export function decodeRecordEntries(data: string, context = "record"): UpdateEntry[] {
  if (!isHexString(data)) throw new DsainError(ErrorCode.DATA_MALFORMED, `${context}: entries are not hex bytes`);
  const hex = data.slice(2);
  const size = hex.length / 2;
  if (size % RECORD_ENTRY_SIZE !== 0) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${context}: ${size} bytes of entries is not a whole number of ${RECORD_ENTRY_SIZE}-byte entries`,
    );
  }
  const entries: UpdateEntry[] = [];
  for (let at = 0; at < hex.length; at += 2 * RECORD_ENTRY_SIZE) {
    const field = (from: number, bytes: number) => "0x" + hex.slice(at + 2 * from, at + 2 * (from + bytes));
    const signature = field(76, SIGNATURE_BYTES);
    entries.push({
      participant: getAddress(field(0, 20)),
      updateRoot: field(20, 32),
      sampleCount: BigInt(field(52, 8)),
      weight: Number(BigInt(field(60, 4))),
      epsilonMicros: BigInt(field(64, 8)),
      reputationMicros: Number(BigInt(field(72, 4))),
      signature: signature === NO_SIGNATURE ? "0x" : signature,
    });
  }
  return entries;
}
