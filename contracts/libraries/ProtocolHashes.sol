// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ProtocolHashes
 * @dev The on-chain twins of aggregator/protocol/commitment.ts and attestation.ts: same names,
 * same byte layouts (docs/protocol.md), tied together by the vectors in test/vectors/.
 */
library ProtocolHashes {
    /// @dev EIP-712 type of a participant attestation (docs/protocol.md §6).
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(uint256 federationId,uint64 round,bytes32 baseModelRoot,bytes32 updateRoot,uint64 sampleCount,uint64 dpEpsilonMicros,uint64 dpDeltaPicos,uint64 dpClipMicros,uint64 dpNoiseMicros)"
    );

    /// @dev Integer aggregation weights of a round sum to this total (docs/protocol.md §3).
    uint256 internal constant WEIGHT_TOTAL = 65536;

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
}
