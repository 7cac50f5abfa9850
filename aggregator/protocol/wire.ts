// What daemons say to each other over pubsub (docs/protocol.md §15): update announcements from
// participants, record proposals from the round's proposer, endorsements and refusals from the
// other committee members; the topic each goes on; and the proposer rotation every member computes
// from the chain. Messages are JSON, validated field by field on receipt. None carries authority:
// round state, selection, deadlines and quorum come from the chain, and a receiver checks each
// message against it (and re-executes the round) before acting on it.
import { z } from "zod";
import { DsainError, ErrorCode } from "../errors.js";

export const WIRE_VERSION = 1;

/** The largest message a daemon sends or accepts (bytes of JSON); content travels by CID over bitswap. */
export const MAX_WIRE_MESSAGE_BYTES = 64 * 1024;

export type TopicKind = "updates" | "proposals" | "endorsements";

/** One topic per federation and kind: `/dsain/1/<chainId>/<ledger, lowercase>/<federationId>/<kind>`. */
export function topicName(chainId: bigint, ledger: string, federationId: bigint, kind: TopicKind): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(ledger)) throw new DsainError(ErrorCode.INPUT_INVALID, `topicName: ledger ${ledger} is not an address`);
  return `/dsain/${WIRE_VERSION}/${chainId}/${ledger.toLowerCase()}/${federationId}/${kind}`;
}

const uint = (bits: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, "a decimal integer without sign or leading zeros")
    .refine((s) => BigInt(s) < 1n << BigInt(bits), `below 2^${bits}`)
    .transform((s) => BigInt(s));
const field = uint(254);
const hexBytes = (n: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${2 * n}}$`), `0x and ${n} bytes in hex`);
const bytes32 = hexBytes(32);
const address = hexBytes(20);
const signature65 = hexBytes(65);
const cid = z
  .string()
  .min(8)
  .max(128)
  .regex(/^b[a-z2-7]+$/, "a CIDv1 in base32");

const eddsa = z.strictObject({
  /** The attestation's meta field (sample count and DP parameters, §14). */
  meta: field,
  R8x: field,
  R8y: field,
  S: field,
});

const updateAnnouncement = z.strictObject({
  v: z.literal(WIRE_VERSION),
  kind: z.literal("update"),
  federationId: uint(256),
  round: uint(64),
  participant: address,
  /** The update file (§7) in the participant's own store. */
  cid,
  updateRoot: bytes32,
  sampleCount: uint(64),
  /** The EIP-712 attestation (§6) when it travels with the update, "0x" when it was sent by `attest`. */
  signature: z.union([z.literal("0x"), signature65]),
  /** The in-circuit attestation of a batched federation (§14). */
  eddsa: eddsa.optional(),
});

const included = z.strictObject({ participant: address, cid });

const recordProposal = z.strictObject({
  v: z.literal(WIRE_VERSION),
  kind: z.literal("proposal"),
  federationId: uint(256),
  round: uint(64),
  parentRound: uint(64),
  /** The proposer slot the proposal was made in (`proposerOf`). */
  slot: z.number().int().min(0).max(1_000_000),
  proposer: address,
  /** The updates the record aggregates, in record order; members fetch and re-execute exactly these. */
  included: z.array(included).min(1).max(1024),
  checkpointCid: cid,
  /** The EIP-712 digest of the RoundRecord (or BatchedRoundRecord) the proposer signed. */
  recordDigest: bytes32,
  /** The proposer's own quorum signature over that record. */
  signature: signature65,
});

const endorsement = z.strictObject({
  v: z.literal(WIRE_VERSION),
  kind: z.literal("endorsement"),
  federationId: uint(256),
  round: uint(64),
  recordDigest: bytes32,
  signer: address,
  signature: signature65,
});

const refusal = z.strictObject({
  v: z.literal(WIRE_VERSION),
  kind: z.literal("refusal"),
  federationId: uint(256),
  round: uint(64),
  recordDigest: bytes32,
  signer: address,
  /** Why the member would not sign, for the proposer's log: informational, never acted on. */
  reason: z.string().min(1).max(2000),
});

const wireMessage = z.discriminatedUnion("kind", [updateAnnouncement, recordProposal, endorsement, refusal]);

export type UpdateAnnouncement = z.output<typeof updateAnnouncement>;
export type RecordProposal = z.output<typeof recordProposal>;
export type Endorsement = z.output<typeof endorsement>;
export type Refusal = z.output<typeof refusal>;
export type WireMessage = z.output<typeof wireMessage>;

/** The topic a message goes on. */
export function topicKindOf(message: WireMessage): TopicKind {
  return message.kind === "update" ? "updates" : message.kind === "proposal" ? "proposals" : "endorsements";
}

/** JSON bytes of a message (bigints as decimal strings), checked against the schema it will be read with. */
export function encodeWireMessage(message: WireMessage): Uint8Array {
  const json = JSON.stringify(message, (_, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  const bytes = new TextEncoder().encode(json);
  // A message this side could not read back is a bug here, not the receiver's problem.
  decodeWireMessage(bytes);
  return bytes;
}

/** Parses and validates one message; INPUT_INVALID naming the first bad field otherwise. */
export function decodeWireMessage(bytes: Uint8Array): WireMessage {
  if (bytes.length > MAX_WIRE_MESSAGE_BYTES) {
    throw new DsainError(
      ErrorCode.CONTENT_TOO_LARGE,
      `a ${bytes.length}-byte message is above the ${MAX_WIRE_MESSAGE_BYTES}-byte wire limit`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new DsainError(ErrorCode.INPUT_INVALID, "a message that is not UTF-8 JSON");
  }
  if (typeof json === "object" && json !== null && "v" in json && json.v !== WIRE_VERSION) {
    throw new DsainError(
      ErrorCode.INPUT_INVALID,
      `a message of wire version ${String(json.v)}; this daemon speaks version ${WIRE_VERSION}`,
    );
  }
  const parsed = wireMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length === 0 ? "the message" : `field ${issue.path.join(".")}`;
    const kind = typeof json === "object" && json !== null && "kind" in json ? ` (${String(json.kind).slice(0, 32)})` : "";
    throw new DsainError(ErrorCode.INPUT_INVALID, `a malformed message${kind}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The committee member who proposes round `round` in proposer slot `slot` (docs/protocol.md §15):
 * `committee[(round + slot) mod n]`, committee in the federation's order. Slot 0 starts when the
 * round opens; each later slot starts `slotSeconds` after the previous one, so a silent proposer
 * hands over to the next member, and f silent members cost at most f slots.
 */
export function proposerOf(round: bigint, committee: readonly string[], slot: number): string {
  if (committee.length === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "proposerOf: the committee is empty");
  if (!Number.isSafeInteger(slot) || slot < 0)
    throw new DsainError(ErrorCode.INPUT_INVALID, `proposerOf: slot ${slot} is not a whole number`);
  return committee[Number((round + BigInt(slot)) % BigInt(committee.length))];
}

/** The proposer slot at chain time `now` of a round opened at `openedAt` (both block timestamps, seconds). */
export function proposerSlot(openedAt: bigint, now: bigint, slotSeconds: number): number {
  if (!Number.isSafeInteger(slotSeconds) || slotSeconds <= 0) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `proposerSlot: slotSeconds ${slotSeconds} is not a positive whole number`);
  }
  return now <= openedAt ? 0 : Number((now - openedAt) / BigInt(slotSeconds));
}
