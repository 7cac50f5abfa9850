// One error type for the whole off-chain code base: a stable code, a message that names the
// problem and what to do, the underlying cause when there is one (Hardhat's pattern), and what a
// long-running process needs to act on it: whether trying again can help, and the ledger's
// decoded custom error when a transaction or call reverted.

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
  /** No connected peer delivered the content or message in time, or a peer could not be dialled (retryable). */
  PEER_UNAVAILABLE: "DSAIN_PEER_UNAVAILABLE",
  /** Content larger than the caller allows: an update or checkpoint above its size cap, a message above the wire limit. */
  CONTENT_TOO_LARGE: "DSAIN_CONTENT_TOO_LARGE",
  ZK_SETUP_FAILED: "DSAIN_ZK_SETUP_FAILED",
  ZK_PTAU_MISMATCH: "DSAIN_ZK_PTAU_MISMATCH",
  ZK_WITNESS_FAILED: "DSAIN_ZK_WITNESS_FAILED",
  ZK_PROOF_INVALID: "DSAIN_ZK_PROOF_INVALID",
  /** The ledger refused a transaction or call (`revert` holds its custom error), or its answer is not what the protocol says. */
  CHAIN_FAILURE: "DSAIN_CHAIN_FAILURE",
  /** The chain could not be reached or did not answer in time (retryable). */
  CHAIN_UNAVAILABLE: "DSAIN_CHAIN_UNAVAILABLE",
  /** What the chain has not produced yet: a block the protocol waits for (retryable). */
  CHAIN_NOT_READY: "DSAIN_CHAIN_NOT_READY",
  AUDIT_FAILED: "DSAIN_AUDIT_FAILED",
  /** Bad usage: a command-line option or argument the command cannot take (exit code 2). */
  BAD_ARGUMENT: "DSAIN_BAD_ARGUMENT",
  /** A configuration that cannot be used: a simulation or federation setting, a config file, a build profile (exit code 2). */
  CONFIG_INVALID: "DSAIN_CONFIG_INVALID",
  /** Input a function cannot take: a vector of the wrong shape, a parameter outside its domain. */
  INPUT_INVALID: "DSAIN_INPUT_INVALID",
  /** The machine lacks what the command needs: a runtime, a backend, a build artifact (exit code 2). */
  ENVIRONMENT: "DSAIN_ENVIRONMENT",
  /** Local training produced non-finite weights. */
  TRAINING_DIVERGED: "DSAIN_TRAINING_DIVERGED",
  DATA_MALFORMED: "DSAIN_DATA_MALFORMED",
  IPFS_INTEGRITY: "DSAIN_IPFS_INTEGRITY",
  PRIVACY_BUDGET_EXHAUSTED: "DSAIN_PRIVACY_BUDGET_EXHAUSTED",
  TOO_FEW_UPDATES: "DSAIN_TOO_FEW_UPDATES",
  DATA_UNREADABLE: "DSAIN_DATA_UNREADABLE",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The codes that mean "the command cannot run as invoked here": the CLI exits 2 on them, 1 on any other. */
export const USAGE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.BAD_ARGUMENT,
  ErrorCode.CONFIG_INVALID,
  ErrorCode.ENVIRONMENT,
  ErrorCode.CHAIN_UNAVAILABLE,
]);

/** The codes whose failures may pass if the same step is tried again later. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.CHAIN_UNAVAILABLE,
  ErrorCode.CHAIN_NOT_READY,
  ErrorCode.PEER_UNAVAILABLE,
]);

/** A contract's custom error, decoded with its ABI: `ProvenanceRoundExists(1, 2)` is `{ name, args: [1n, 2n] }`. */
export interface DecodedRevert {
  readonly name: string;
  readonly args: readonly unknown[];
}

export interface DsainErrorOptions {
  cause?: unknown;
  /** Overrides the code's default (CHAIN_UNAVAILABLE, CHAIN_NOT_READY and PEER_UNAVAILABLE are retryable, the others not). */
  retryable?: boolean;
  revert?: DecodedRevert;
}

export class DsainError extends Error {
  readonly code: ErrorCode;
  /** Whether the same step may succeed if tried again (a timeout, a block not mined yet); never for a revert. */
  readonly retryable: boolean;
  /** The custom error the ledger reverted with, when it did and its ABI knows it. */
  readonly revert?: DecodedRevert;

  constructor(code: ErrorCode, message: string, options: DsainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DsainError";
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
    if (options.revert !== undefined) this.revert = options.revert;
  }
}

/** Turns whatever was thrown into an Error, so catch blocks can rely on `.message`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : JSON.stringify(value));
}

/** Whether `e` is a DsainError that may pass if its step is tried again. */
export function isRetryable(e: unknown): boolean {
  return e instanceof DsainError && e.retryable;
}
