// One error type for the whole off-chain code base: a stable code, a message that names the
// problem and what to do, and the underlying cause when there is one (Hardhat's pattern).

export const ErrorCode = {
  ENCODING_NOT_FINITE: "DSAIN_ENCODING_NOT_FINITE",
  ENCODING_OUT_OF_RANGE: "DSAIN_ENCODING_OUT_OF_RANGE",
  VECTOR_LENGTH_MISMATCH: "DSAIN_VECTOR_LENGTH_MISMATCH",
  EMPTY_INPUT: "DSAIN_EMPTY_INPUT",
  BAD_PARTICIPANT_SET: "DSAIN_BAD_PARTICIPANT_SET",
  BAD_SAMPLE_COUNT: "DSAIN_BAD_SAMPLE_COUNT",
  BAD_WEIGHTS: "DSAIN_BAD_WEIGHTS",
  CHECKPOINT_MALFORMED: "DSAIN_CHECKPOINT_MALFORMED",
  CID_UNSUPPORTED: "DSAIN_CID_UNSUPPORTED",
  IPFS_NOT_FOUND: "DSAIN_IPFS_NOT_FOUND",
  IPFS_FAILURE: "DSAIN_IPFS_FAILURE",
  ZK_SETUP_FAILED: "DSAIN_ZK_SETUP_FAILED",
  ZK_PTAU_MISMATCH: "DSAIN_ZK_PTAU_MISMATCH",
  ZK_WITNESS_FAILED: "DSAIN_ZK_WITNESS_FAILED",
  ZK_PROOF_INVALID: "DSAIN_ZK_PROOF_INVALID",
  CHAIN_FAILURE: "DSAIN_CHAIN_FAILURE",
  AUDIT_FAILED: "DSAIN_AUDIT_FAILED",
  BAD_ARGUMENT: "DSAIN_BAD_ARGUMENT",
  DATA_MALFORMED: "DSAIN_DATA_MALFORMED",
  IPFS_INTEGRITY: "DSAIN_IPFS_INTEGRITY",
  PRIVACY_BUDGET_EXHAUSTED: "DSAIN_PRIVACY_BUDGET_EXHAUSTED",
  TOO_FEW_UPDATES: "DSAIN_TOO_FEW_UPDATES",
  DATA_UNREADABLE: "DSAIN_DATA_UNREADABLE",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class DsainError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DsainError";
    this.code = code;
  }
}

/** Turns whatever was thrown into an Error, so catch blocks can rely on `.message`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : JSON.stringify(value));
}
