// Protocol constants, defined once for TypeScript; docs/protocol.md explains each and
// contracts/libraries/ProtocolHashes.sol and circuits/ mirror them (tied by test/vectors/).

/** Order of the BN254 scalar field: every circuit value and Poseidon root lives below it. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Fixed-point fraction bits: a parameter w is committed as round_half_even(w * 2^16). */
export const FRAC_BITS = 16;
export const SCALE = 2 ** FRAC_BITS;

/** Encoded parameters and updates are signed 32-bit integers. */
export const INT_MIN = -(2 ** 31);
export const INT_MAX = 2 ** 31 - 1;

/**
 * Version of this protocol (docs/protocol.md): 2 since vector commitments pack 7 coordinates per
 * field element (§2). The ledger exposes the same number as PROTOCOL_VERSION.
 */
export const PROTOCOL_VERSION = 2;

/** Field elements per Poseidon leaf (circomlib's Poseidon takes at most 16 inputs). */
export const LEAF_ELEMENTS = 16;
/** Coordinates packed into one field element: 7 × 32 bits = 224 bits < 253 (docs/protocol.md §2). */
export const PACK_COORDINATES = 7;
/** Offset that maps an int32 coordinate q onto the unsigned 32-bit limb u = q + 2^31. */
export const PACK_OFFSET = 2 ** 31;
/** Coordinates per leaf (a "chunk"): 16 elements × 7 coordinates. */
export const CHUNK_SIZE = LEAF_ELEMENTS * PACK_COORDINATES;

/** Integer aggregation weights of a round sum to exactly this total. */
export const WEIGHT_TOTAL = 65536;

/** EIP-712 domain name and version of participant attestations. */
export const EIP712_NAME = "DSAIN";
export const EIP712_VERSION = "1";

/** First eight bytes of every checkpoint file and of every published update file. */
export const CHECKPOINT_MAGIC = "DSAINCK1";
/** A model checkpoint without the list of the round's published updates (genesis, older rounds). */
export const CHECKPOINT_VERSION = 1;
/** A model checkpoint whose header lists the CIDs of the updates it aggregates. */
export const CHECKPOINT_VERSION_WITH_UPDATES = 2;
/** A participant's published update Δ_i (docs/protocol.md §7). */
export const UPDATE_FILE_VERSION = 1;

/** Multicodec codes a checkpoint CID may carry on-chain, and its only hash function. */
export const CODEC_RAW = 0x55;
export const CODEC_DAG_PB = 0x70;
export const MULTIHASH_SHA2_256 = 0x12;

/**
 * UnixFS import parameters of checkpoints, pinned so that anyone can recompute a CID. 174 links
 * per node is the balanced-layout default that goes with 256 KiB chunks (ipfs-unixfs-importer 17
 * with no options, Kubo `ipfs add --cid-version=1`); 1024 belongs with 1 MiB chunks (the
 * @helia/unixfs and "unixfs-v1-2025" defaults). The two differ only for files above 174 chunks.
 */
export const UNIXFS_CHUNK_BYTES = 262_144;
export const UNIXFS_MAX_CHILDREN = 174;

/** Rounds of the swap-or-not shuffle that draws a round's participants S_t (docs/protocol.md §10). */
export const SELECTION_ROUNDS = 16;

/** Fixed point of DP parameters, epsilon budgets and reputations: value × 10^6 (“micros”). */
export const MICROS = 1_000_000;
