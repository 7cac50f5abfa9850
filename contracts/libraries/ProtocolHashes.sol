// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProvenanceLedgerTypes} from "../interfaces/IProvenanceLedger.sol";

/**
 * @title ProtocolHashes
 * @dev The on-chain twins of aggregator/protocol/commitment.ts, attestation.ts, quorum.ts and
 * selection.ts, eddsa.ts and challenge.ts: same names, same byte layouts
 * (docs/protocol.md, docs/proof-of-training.md), tied together by the vectors in test/vectors/.
 */
library ProtocolHashes {
    /// @dev EIP-712 type of a participant attestation (docs/protocol.md §6).
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 federationId,uint64 round,bytes32 baseModelRoot,bytes32 updateRoot,uint64 sampleCount,uint64 dpEpsilonMicros,uint64 dpDeltaPicos,uint64 dpClipMicros,uint64 dpNoiseMicros)"
    );

    /// @dev EIP-712 type the aggregator committee signs to accept a round record (docs/protocol.md §12).
    bytes32 internal constant ROUND_RECORD_TYPEHASH = keccak256(
        "RoundRecord(uint256 federationId,uint64 round,uint64 parentRound,bytes32 commitment,bytes32 updatesDigest,bytes32 accountingDigest)"
    );

    /// @dev EIP-712 type the aggregator committee signs to roll a federation back (docs/protocol.md §12).
    bytes32 internal constant ROLLBACK_TYPEHASH = keccak256(
        "Rollback(uint256 federationId,uint64 toRound,uint64 head,bytes32 reasonHash)"
    );

    /// @dev EIP-712 type the aggregator committee signs to accept a batched round record (docs/protocol.md §14).
    bytes32 internal constant BATCHED_ROUND_RECORD_TYPEHASH = keccak256(
        "BatchedRoundRecord(uint256 federationId,uint64 round,uint64 parentRound,bytes32 commitment,bytes32 updatesCommitment,bytes32 entriesDigest)"
    );

    /// @dev Domain tag of a batched round's scope: keccak256("DSAIN.roundScope.v1") (docs/proof-of-training.md §4).
    bytes32 internal constant ROUND_SCOPE_TAG = keccak256("DSAIN.roundScope.v1");

    /// @dev p, the order of the BN254 scalar field: every public input of a proof is below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Integer aggregation weights of a round sum to this total (docs/protocol.md §3).
    uint256 internal constant WEIGHT_TOTAL = 65536;

    /// @dev Rounds of the swap-or-not shuffle that draws S_t (docs/protocol.md §10).
    uint256 internal constant SELECTION_ROUNDS = 16;

    /// @dev Coordinates per leaf of a vector commitment (docs/protocol.md §2, version 2): 16 field elements of 7 coordinates.
    uint256 internal constant CHUNK_SIZE = 112;

    /// @dev Leaves of the vector tree of a model of `modelLength` parameters: ceil(D / 112).
    function leafCount(uint256 modelLength) internal pure returns (uint256) {
        return (modelLength + CHUNK_SIZE - 1) / CHUNK_SIZE;
    }

    /**
     * @dev Bytes per entry of a round record as {IProvenanceLedger.postRound} takes it and
     * {IProvenanceLedgerTypes.RoundProposed} publishes it (docs/protocol.md §11): participant (20),
     * updateRoot (32), sampleCount (8), weight (4), epsilonMicros (8), reputationMicros (4), big-endian,
     * then the participant's attestation signature r, s, v (65), all zero for an entry attested by
     * its own {IProvenanceLedger.attest} transaction.
     */
    uint256 internal constant RECORD_ENTRY_SIZE = 141;

    /// @dev Differential-privacy parameters a participant declares for its update, fixed point.
    struct DpParams {
        uint64 epsilonMicros;
        uint64 deltaPicos;
        uint64 clipMicros;
        uint64 noiseMicros;
    }

    /// @dev keccak256 of the strictly ascending participant addresses, each as a 32-byte word.
    function participantsRoot(address[] memory sortedParticipants) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(sortedParticipants));
    }

    /**
     * @dev The fields of entry `i` of packed round-record `entries` ({RECORD_ENTRY_SIZE}); the caller
     * keeps i below entries.length / RECORD_ENTRY_SIZE.
     */
    function recordEntry(
        bytes calldata entries,
        uint256 i
    )
        internal
        pure
        returns (
            address participant,
            bytes32 updateRoot,
            uint64 sampleCount,
            uint32 weight,
            uint64 epsilonMicros,
            uint32 reputationMicros
        )
    {
        uint256 fields;
        assembly ("memory-safe") {
            let at := add(entries.offset, mul(i, RECORD_ENTRY_SIZE))
            participant := shr(96, calldataload(at))
            updateRoot := calldataload(add(at, 20))
            fields := calldataload(add(at, 52))
        }
        sampleCount = uint64(fields >> 192);
        weight = uint32(fields >> 160);
        epsilonMicros = uint64(fields >> 96);
        reputationMicros = uint32(fields >> 64);
    }

    /// @dev The attestation signature (r, s, v) of entry `i` of `entries`; all zero: attested directly.
    function recordEntrySignature(
        bytes calldata entries,
        uint256 i
    ) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly ("memory-safe") {
            let at := add(add(entries.offset, mul(i, RECORD_ENTRY_SIZE)), 76)
            r := calldataload(at)
            s := calldataload(add(at, 32))
            v := shr(248, calldataload(add(at, 64)))
        }
    }

    /**
     * @dev A buffer laid out as abi.encode(a, b, c) of three n-word columns (arrays of static
     * types), filled row by row with {setRow}: hashing it gives {updatesDigest} or {accountingDigest}
     * without building the arrays and encoding them again.
     */
    function columnsBuffer(uint256 n) internal pure returns (bytes memory buffer) {
        buffer = new bytes(32 * (6 + 3 * n));
        assembly ("memory-safe") {
            let data := add(buffer, 0x20)
            let stride := mul(0x20, add(n, 1))
            // The three head words are the columns' offsets; each column is its length, then its words.
            mstore(data, 0x60)
            mstore(add(data, 0x20), add(0x60, stride))
            mstore(add(data, 0x40), add(0x60, mul(2, stride)))
            mstore(add(data, 0x60), n)
            mstore(add(add(data, 0x60), stride), n)
            mstore(add(add(data, 0x60), mul(2, stride)), n)
        }
    }

    /// @dev Sets row `i` < n of a {columnsBuffer} of n rows to (a, b, c).
    function setRow(bytes memory buffer, uint256 n, uint256 i, uint256 a, uint256 b, uint256 c) internal pure {
        assembly ("memory-safe") {
            let at := add(add(buffer, 0xa0), mul(0x20, i))
            let stride := mul(0x20, add(n, 1))
            mstore(at, a)
            mstore(add(at, stride), b)
            mstore(add(at, mul(2, stride)), c)
        }
    }

    /// @dev {participantsRoot} of the first column of a {columnsBuffer} of n rows whose first column is S_t.
    function participantsRoot(bytes memory buffer, uint256 n) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            root := keccak256(add(buffer, 0xa0), mul(0x20, n))
        }
    }

    /// @dev keccak256(abi.encode(participants, updateRoots, weights)).
    function updatesDigest(
        address[] memory sortedParticipants,
        bytes32[] memory updateRoots,
        uint32[] memory weights
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(sortedParticipants, updateRoots, weights));
    }

    /// @dev h_t = keccak256(abi.encode(modelRoot, cidCodec, cidDigest, participantsRoot, round)).
    function roundCommitment(
        bytes32 modelRoot,
        uint64 cidCodec,
        bytes32 cidDigest,
        bytes32 participantsRoot_,
        uint64 round
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(modelRoot, cidCodec, cidDigest, participantsRoot_, round));
    }

    /// @dev EIP-712 struct hash of an attestation (the domain is applied by the caller).
    function attestationStructHash(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        DpParams memory dp
    ) internal pure returns (bytes32) {
        return
            attestationStructHash(attestationPreimage(federationId, round, baseModelRoot, dp), updateRoot, sampleCount);
    }

    /**
     * @dev The encoded attestation struct of a round, its update fields left zero: a record hashes its
     * entries' attestations by filling them in ({attestationStructHash} below) instead of encoding
     * the eight fields the entries share once per entry.
     */
    function attestationPreimage(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        DpParams memory dp
    ) internal pure returns (bytes memory) {
        return
            abi.encode(
                ATTESTATION_TYPEHASH,
                federationId,
                round,
                baseModelRoot,
                bytes32(0),
                uint64(0),
                dp.epsilonMicros,
                dp.deltaPicos,
                dp.clipMicros,
                dp.noiseMicros
            );
    }

    /// @dev The struct hash of `preimage` ({attestationPreimage}) with its update fields set; writes them into it.
    function attestationStructHash(
        bytes memory preimage,
        bytes32 updateRoot,
        uint64 sampleCount
    ) internal pure returns (bytes32 structHash) {
        // Words 4 and 5 of the ten-word encoding after the length word.
        assembly ("memory-safe") {
            mstore(add(preimage, 0xa0), updateRoot)
            mstore(add(preimage, 0xc0), sampleCount)
            structHash := keccak256(add(preimage, 0x20), 0x140)
        }
    }

    /**
     * @dev Seed of a round's proof challenge (docs/protocol.md §8, §14): keccak256(abi.encode(h_t,
     * blockhash(b + 1))) where b is the block that completed the round's record (attested, or posted
     * for a batched round), so that no poster knows its chunks when it commits to the round.
     */
    function challengeSeed(bytes32 commitment, bytes32 nextBlockHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(commitment, nextBlockHash));
    }

    /// @dev keccak256(abi.encode(participants, epsilonMicros, reputationMicros)): the round's accounting.
    function accountingDigest(
        address[] memory sortedParticipants,
        uint64[] memory epsilonMicros,
        uint32[] memory reputationMicros
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(sortedParticipants, epsilonMicros, reputationMicros));
    }

    /// @dev EIP-712 struct hash of a round record the committee signs (the domain is applied by the caller).
    function roundRecordStructHash(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesDigest_,
        bytes32 accountingDigest_
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    ROUND_RECORD_TYPEHASH,
                    federationId,
                    round,
                    parentRound,
                    commitment,
                    updatesDigest_,
                    accountingDigest_
                )
            );
    }

    /// @dev EIP-712 struct hash of a rollback the committee signs.
    function rollbackStructHash(
        uint256 federationId,
        uint64 toRound,
        uint64 head,
        bytes32 reasonHash
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(ROLLBACK_TYPEHASH, federationId, toRound, head, reasonHash));
    }

    /// @dev keccak256(abi.encode(entries)): a batched record's entries as posted (docs/protocol.md §14).
    function batchedEntriesDigest(
        IProvenanceLedgerTypes.BatchedEntry[] memory entries
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(entries));
    }

    /// @dev EIP-712 struct hash of a batched round record the committee signs (the domain is applied by the caller).
    function batchedRoundRecordStructHash(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesCommitment,
        bytes32 entriesDigest
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    BATCHED_ROUND_RECORD_TYPEHASH,
                    federationId,
                    round,
                    parentRound,
                    commitment,
                    updatesCommitment,
                    entriesDigest
                )
            );
    }

    /**
     * @dev The scope a batched round's attestations sign and its proof takes as first public input:
     * uint256(keccak256(abi.encode(ROUND_SCOPE_TAG, chainId, ledger, federationId, round))) mod p
     * (docs/proof-of-training.md §4).
     */
    function roundScope(
        uint256 chainId,
        address ledger,
        uint256 federationId,
        uint64 round
    ) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(ROUND_SCOPE_TAG, chainId, ledger, federationId, round))) % FIELD_MODULUS;
    }

    /// @dev Challengeable chunks of a model of `modelLength` parameters at level `level`: ceil(ceil(D / 112) / 2^level).
    function challengeChunkCount(uint256 modelLength, uint256 level) internal pure returns (uint256) {
        uint256 leaves = leafCount(modelLength);
        uint256 width = 1 << level;
        return (leaves + width - 1) / width;
    }

    /**
     * @dev The `s` chunk indices a proof opens, in draw order (docs/proof-of-training.md §3): every
     * chunk (j mod chunks) when chunks <= s, else uint256(keccak256(abi.encode(seed, counter))) mod
     * chunks for counter = 0, 1, ..., skipping repeats. Requires chunks >= 1.
     */
    function challengeIndices(bytes32 seed, uint256 chunks, uint256 s) internal pure returns (uint256[] memory idx) {
        idx = new uint256[](s);
        if (chunks <= s) {
            for (uint256 j = 0; j < s; ++j) idx[j] = j % chunks;
            return idx;
        }
        uint256 kept;
        for (uint256 counter = 0; kept < s; ++counter) {
            uint256 x = uint256(keccak256(abi.encode(seed, counter))) % chunks;
            bool seen;
            for (uint256 k = 0; k < kept; ++k) {
                if (idx[k] == x) seen = true;
            }
            if (!seen) {
                idx[kept] = x;
                ++kept;
            }
        }
    }

    /**
     * @dev Seed of S_t, fixed when round `round` opens: the parent round's commitment, which the
     * committee fixed before this block existed, and the opening block's prevrandao.
     */
    function selectionSeed(
        uint256 federationId,
        uint64 round,
        bytes32 parentCommitment,
        uint256 prevrandao
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(federationId, round, parentCommitment, prevrandao));
    }

    /// @dev Rosters of at most this many get the shuffle's source words precomputed by {shufflePivots}.
    uint256 internal constant SELECTION_TABLE_ROSTER = 256;

    /**
     * @dev The pivot of each shuffle round, pivots[r] = uint256(keccak256(abi.encode(seed, r))) mod
     * count for r < SELECTION_ROUNDS. When count <= {SELECTION_TABLE_ROSTER} every position is below
     * 256, so round r's source word keccak256(abi.encode(seed, r, position >> 8)) is the same for
     * every index: the array then also holds them, pivots[SELECTION_ROUNDS + r] =
     * uint256(keccak256(abi.encode(seed, r, 0))), and {shuffledIndex} reads them instead of hashing
     * sixteen times per check. The array has 2 * SELECTION_ROUNDS entries then, else
     * SELECTION_ROUNDS. A larger roster gets no table: its source words depend on position >> 8, and
     * precomputing them for several blocks of 256 would cost an attestation, which checks a single
     * index, more than it saves. Requires count > 0.
     */
    function shufflePivots(bytes32 seed, uint256 count) internal pure returns (uint256[] memory pivots) {
        bool table = count <= SELECTION_TABLE_ROSTER;
        pivots = new uint256[](table ? 2 * SELECTION_ROUNDS : SELECTION_ROUNDS);
        // Hashes abi.encode(seed, r) (64 bytes) and abi.encode(seed, r, 0) (96 bytes), the same bytes
        // as the Solidity expressions, above the free memory pointer, which is not advanced: no
        // memory is allocated in the loop.
        assembly ("memory-safe") {
            let out := add(pivots, 0x20)
            let ptr := mload(0x40)
            mstore(ptr, seed)
            mstore(add(ptr, 0x40), 0)
            for {
                let r := 0
            } lt(r, SELECTION_ROUNDS) {
                r := add(r, 1)
            } {
                mstore(add(ptr, 0x20), r)
                let at := add(out, shl(5, r))
                mstore(at, mod(keccak256(ptr, 0x40), count))
                if table {
                    mstore(add(at, shl(5, SELECTION_ROUNDS)), keccak256(ptr, 0x60))
                }
            }
        }
    }

    /**
     * @dev Position of roster index `index` after the swap-or-not shuffle of `count` elements
     * (Hoang, Morris and Rogaway 2012; the Ethereum consensus `compute_shuffled_index` with
     * keccak256): in round r, flip = (pivot_r + count - index) mod count, position =
     * max(index, flip), and index becomes flip when bit (position mod 256) of the source word
     * keccak256(abi.encode(seed, r, position >> 8)) is set. `pivots` must be
     * {shufflePivots}(seed, count), or its first SELECTION_ROUNDS entries: the source words are read
     * from its table when it has one and count <= {SELECTION_TABLE_ROSTER}, else hashed. Requires
     * index < count.
     */
    function shuffledIndex(
        uint256 index,
        uint256 count,
        bytes32 seed,
        uint256[] memory pivots
    ) internal pure returns (uint256) {
        // pivot < count and index < count, so pivot + count - index neither overflows nor underflows.
        assembly ("memory-safe") {
            let p := add(pivots, 0x20)
            switch and(gt(mload(pivots), SELECTION_ROUNDS), iszero(gt(count, SELECTION_TABLE_ROSTER)))
            case 0 {
                // No table: the 96-byte preimage is written above the free memory pointer, which is
                // not advanced, so sixteen rounds allocate nothing.
                let ptr := mload(0x40)
                mstore(ptr, seed)
                for {
                    let r := 0
                } lt(r, SELECTION_ROUNDS) {
                    r := add(r, 1)
                } {
                    let flip := mod(sub(add(mload(add(p, shl(5, r))), count), index), count)
                    let position := index
                    if gt(flip, index) {
                        position := flip
                    }
                    mstore(add(ptr, 0x20), r)
                    mstore(add(ptr, 0x40), shr(8, position))
                    if and(shr(and(position, 0xff), keccak256(ptr, 0x60)), 1) {
                        index := flip
                    }
                }
            }
            default {
                // position < count <= 256; round r's source word sits SELECTION_ROUNDS words after its pivot.
                let end := add(p, shl(5, SELECTION_ROUNDS))
                for {} lt(p, end) {
                    p := add(p, 0x20)
                } {
                    let flip := mod(sub(add(mload(p), count), index), count)
                    let position := index
                    if gt(flip, index) {
                        position := flip
                    }
                    if and(shr(position, mload(add(p, shl(5, SELECTION_ROUNDS)))), 1) {
                        index := flip
                    }
                }
            }
        }
        return index;
    }

    /**
     * @dev The selection bound T of a round (docs/protocol.md §10): S_t is every roster index whose
     * shuffled position is below T and that is not revoked for the round, the first k non-revoked
     * participants in shuffle order. T is k plus the revoked indices whose positions fall below it,
     * taken in ascending position, at most `count`. `revoked` are the roster indices revoked for the
     * round (each below `count`, no repeats); `pivots` = {shufflePivots}(seed, count) when count > k.
     */
    function selectionBound(
        uint256 count,
        uint256 k,
        bytes32 seed,
        uint256[] memory pivots,
        uint256[] memory revoked
    ) internal pure returns (uint256 bound) {
        if (count <= k) return count;
        uint256 r = revoked.length;
        uint256[] memory positions = new uint256[](r);
        // Insertion sort: a federation revokes few participants.
        for (uint256 i = 0; i < r; ++i) {
            uint256 p = shuffledIndex(revoked[i], count, seed, pivots);
            uint256 j = i;
            for (; j > 0 && positions[j - 1] > p; --j) positions[j] = positions[j - 1];
            positions[j] = p;
        }
        bound = k;
        for (uint256 i = 0; i < r && positions[i] < bound; ++i) ++bound;
        if (bound > count) bound = count;
    }

    /**
     * @dev S_t of a roster of `count` <= {SELECTION_TABLE_ROSTER} as a bit mask: bit i is set iff
     * {shuffledIndex}(i, count, seed, pivots) < k. Instead of shuffling each index, it shuffles the
     * set of positions {0, .., k - 1} back through the rounds, last round first, all indices at once.
     * A round is an involution: it swaps i with its reflection F(i) = (pivot - i) mod count when bit
     * max(i, F(i)) of the round's source word is set. On a set M it gives (M \ D) ∪ F(M ∩ D), where
     * D = B ∪ F(B) are the indices that move and B the source word's bits at the indices i >= F(i).
     * F of a mask is its bit reversal shifted, and the reversal of F of a mask is the mask shifted, so
     * the set is carried with its reversal and each round reverses one word, its source word.
     * Requires `pivots` = {shufflePivots}(seed, count) with its table, 0 < count <= 256, k <= count.
     */
    function selectionMask(uint256[] memory pivots, uint256 count, uint256 k) internal pure returns (uint256 mask) {
        assembly ("memory-safe") {
            // Bit i of x to bit 255 - i: swap the halves of every 2-, 4-, .., 256-bit block.
            function reverse(x) -> r {
                let m := 0x5555555555555555555555555555555555555555555555555555555555555555
                x := or(and(shr(1, x), m), shl(1, and(x, m)))
                m := 0x3333333333333333333333333333333333333333333333333333333333333333
                x := or(and(shr(2, x), m), shl(2, and(x, m)))
                m := 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f
                x := or(and(shr(4, x), m), shl(4, and(x, m)))
                m := 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
                x := or(and(shr(8, x), m), shl(8, and(x, m)))
                m := 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff
                x := or(and(shr(16, x), m), shl(16, and(x, m)))
                m := 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff
                x := or(and(shr(32, x), m), shl(32, and(x, m)))
                m := 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff
                x := or(and(shr(64, x), m), shl(64, and(x, m)))
                r := or(shr(128, x), shl(128, x))
            }
            // Bits [a, b] set, for a <= b + 1 (a = b + 1: none) and b <= 255.
            function bits(a, b) -> r {
                r := xor(sub(shl(add(b, 1), 1), 1), sub(shl(a, 1), 1))
            }
            // F(X) for X within [0, n), from v = reverse(X), where i sits at 255 - i: the indices
            // i <= p (at 255 - p and above) go to p - i, the others to p + n - i.
            function reflected(v, p, n) -> r {
                r := shr(sub(255, p), v)
                let high := and(v, sub(shl(sub(255, p), 1), 1))
                switch gt(add(p, n), 255)
                case 0 {
                    r := or(r, shr(sub(sub(255, p), n), high))
                }
                default {
                    r := or(r, shl(sub(add(p, n), 255), high))
                }
            }
            // reverse(F(X)) for X within [0, n): i <= p goes to 255 - p + i, the others to 255 - p - n + i.
            function reflectedReverse(x, p, n) -> r {
                let low := bits(0, p)
                r := shl(sub(255, p), and(x, low))
                let high := and(x, not(low))
                switch gt(add(p, n), 255)
                case 0 {
                    r := or(r, shl(sub(sub(255, p), n), high))
                }
                default {
                    r := or(r, shr(sub(add(p, n), 255), high))
                }
            }
            // Positions 0 .. k - 1, and their reversal 256 - k .. 255.
            mask := sub(shl(k, 1), 1)
            let image := not(sub(shl(sub(256, k), 1), 1))
            let table := add(pivots, 0x20)
            for {
                let r := SELECTION_ROUNDS
            } r {} {
                r := sub(r, 1)
                let p := mload(add(table, shl(5, r)))
                // i >= F(i): ceil(p / 2) <= i <= p, or ceil((p + n) / 2) <= i < n.
                let a1 := shr(1, add(p, 1))
                let a2 := shr(1, add(add(p, count), 1))
                let source := mload(add(table, shl(5, add(r, SELECTION_ROUNDS))))
                let b := and(source, or(bits(a1, p), bits(a2, sub(count, 1))))
                let rb := and(reverse(source), or(bits(sub(255, p), sub(255, a1)), bits(sub(256, count), sub(255, a2))))
                let d := or(b, reflected(rb, p, count))
                let rd := or(rb, reflectedReverse(b, p, count))
                let moved := and(mask, d)
                let rmoved := and(image, rd)
                mask := or(and(mask, not(d)), reflected(rmoved, p, count))
                image := or(and(image, not(rd)), reflectedReverse(moved, p, count))
            }
        }
    }
}
