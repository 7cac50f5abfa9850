// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ProtocolHashes
 * @dev The on-chain twins of aggregator/protocol/commitment.ts, attestation.ts, quorum.ts and
 * selection.ts: same names, same byte layouts (docs/protocol.md), tied together by the vectors in
 * test/vectors/.
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

    /// @dev Integer aggregation weights of a round sum to this total (docs/protocol.md §3).
    uint256 internal constant WEIGHT_TOTAL = 65536;

    /// @dev Rounds of the swap-or-not shuffle that draws S_t (docs/protocol.md §10).
    uint256 internal constant SELECTION_ROUNDS = 16;

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
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    federationId,
                    round,
                    baseModelRoot,
                    updateRoot,
                    sampleCount,
                    dp.epsilonMicros,
                    dp.deltaPicos,
                    dp.clipMicros,
                    dp.noiseMicros
                )
            );
    }

    /// @dev Seed of the round's proof challenge: fixed by the block that records the round.
    function challengeSeed(
        bytes32 commitment,
        uint256 prevrandao,
        uint256 blockNumber
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(commitment, prevrandao, blockNumber));
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

    /// @dev The pivot of each shuffle round: uint256(keccak256(abi.encode(seed, r))) mod count.
    function shufflePivots(bytes32 seed, uint256 count) internal pure returns (uint256[] memory pivots) {
        pivots = new uint256[](SELECTION_ROUNDS);
        // Hashes abi.encode(seed, r) in the scratch space (0x00-0x3f): the same 64 bytes as the
        // Solidity expression, without allocating memory in a loop. count > 0 is the caller's.
        assembly ("memory-safe") {
            mstore(0x00, seed)
            for {
                let r := 0
            } lt(r, SELECTION_ROUNDS) {
                r := add(r, 1)
            } {
                mstore(0x20, r)
                mstore(add(add(pivots, 0x20), shl(5, r)), mod(keccak256(0x00, 0x40), count))
            }
        }
    }

    /**
     * @dev Position of roster index `index` after the swap-or-not shuffle of `count` elements
     * (Hoang, Morris and Rogaway 2012; the Ethereum consensus `compute_shuffled_index` with
     * keccak256): in round r, flip = (pivot_r + count - index) mod count, position =
     * max(index, flip), and index becomes flip when bit (position mod 256) of
     * keccak256(abi.encode(seed, r, position >> 8)) is set. `pivots` must be
     * {shufflePivots}(seed, count); requires index < count.
     */
    function shuffledIndex(
        uint256 index,
        uint256 count,
        bytes32 seed,
        uint256[] memory pivots
    ) internal pure returns (uint256) {
        // The 96-byte preimage is written above the free memory pointer, which is not advanced, so
        // sixteen rounds allocate nothing. pivot < count and index < count, so pivot + count -
        // index neither overflows nor underflows.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, seed)
            for {
                let r := 0
            } lt(r, SELECTION_ROUNDS) {
                r := add(r, 1)
            } {
                let flip := mod(sub(add(mload(add(add(pivots, 0x20), shl(5, r))), count), index), count)
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
        return index;
    }
}
