// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IProvenanceLedgerTypes} from "./interfaces/IProvenanceLedger.sol";
import {BatchedRounds} from "./libraries/BatchedRounds.sol";
import {FederationLogic} from "./libraries/FederationLogic.sol";
import {ProtocolHashes} from "./libraries/ProtocolHashes.sol";

/**
 * @title ProvenanceLedgerBase
 * @dev What the ledger ({ProvenanceLedger}) and its extension ({ProvenanceLedgerExtension}) share: the
 * storage layout (AccessControl's roles, EIP-712's name and version, then the federations), the
 * EIP-712 domain ("DSAIN", "1", verifying contract the ledger's address: the extension runs by
 * DELEGATECALL, so `address(this)` is the ledger's there too) and the checks both run. Both inherit
 * it and declare no storage of their own, so the extension's code reads and writes the ledger's
 * storage exactly as the ledger's own code does.
 */
abstract contract ProvenanceLedgerBase is IProvenanceLedgerTypes, AccessControl, EIP712 {
    using FederationLogic for FederationLogic.Federation;

    uint256 internal _federationCount;
    mapping(uint256 federationId => FederationLogic.Federation) internal _federations;
    mapping(uint256 federationId => BatchedRounds.Batched) internal _batched;

    constructor() EIP712("DSAIN", "1") {}

    /**
     * @dev Public inputs of round `round`'s proof, in the circuit's order:
     * [parentModelRoot, modelRoot, chunkIndex, updateRoot_1..K, weight_1..K] (docs/protocol.md §8),
     * the n < K updates of a dropout round padded with the first update's root at weight 0.
     * The model roots come from storage, the challenge seed from h_t and the hash of the block after
     * the one that completed the record's attestations (stored once proven); the columns are accepted
     * only when they hash to the record's updatesDigest, so they are the recorded ones.
     */
    function _publicInputs(
        FederationLogic.Federation storage fed,
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns
    ) internal view returns (uint256[] memory inputs, bytes32 seed) {
        RoundRecord storage rec = fed.rounds[round];
        // attestedBlock is set for direct rounds only, when their record is complete.
        if (rec.attestedBlock == 0) revert ProvenanceRoundNotAttested(federationId, round);
        if (
            ProtocolHashes.updatesDigest(columns.participants, columns.updateRoots, columns.weights) !=
            rec.updatesDigest
        ) revert ProvenanceColumnsMismatch(federationId, round);
        seed = rec.challengeSeed;
        if (seed == bytes32(0)) {
            uint64 next = uint64(rec.attestedBlock) + 1;
            if (block.number <= next) revert ProvenanceChallengeNotReady(federationId, round, next + 1);
            bytes32 hash = blockhash(next);
            if (hash == bytes32(0)) revert ProvenanceChallengeExpired(federationId, round, next + 256);
            seed = ProtocolHashes.challengeSeed(rec.commitment, hash);
        }
        // The verifier proves K slots; a round with n < K updates (a dropout round, minUpdates <= n)
        // fills slots n+1..K with the first update's root at weight 0 (§8). The recorded n is in 1..K.
        uint256 n = columns.updateRoots.length;
        uint256 k = fed.config.participantsPerRound;
        inputs = new uint256[](3 + 2 * k);
        inputs[0] = uint256(fed.rounds[rec.parentRound].modelRoot);
        inputs[1] = uint256(rec.modelRoot);
        inputs[2] = uint256(seed) % ProtocolHashes.leafCount(fed.config.modelLength);
        for (uint256 i = 0; i < k; ++i) {
            bool real = i < n;
            inputs[3 + i] = uint256(columns.updateRoots[real ? i : 0]);
            if (real) inputs[3 + k + i] = columns.weights[i];
        }
    }

    /**
     * @dev Requires f+1 (the configured quorum) distinct committee members' signatures over
     * `digest`; any signature that recovers no committee member over `digest`, or a member already
     * counted, is refused outright.
     */
    function _checkQuorum(
        FederationLogic.Federation storage fed,
        uint256 federationId,
        bytes32 digest,
        bytes[] calldata signatures
    ) internal view {
        uint256 seen;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i]);
            uint256 position = signer == address(0) ? 0 : fed.committeePosition[signer];
            if (position == 0) revert ProvenanceInvalidQuorumSignature(federationId, i, signer);
            // position <= FederationLogic.MAX_COMMITTEE = 255, so the shift stays within the word.
            uint256 bit = 1 << (position - 1);
            if (seen & bit != 0) revert ProvenanceDuplicateQuorumSigner(federationId, signer);
            seen |= bit;
        }
        uint256 quorum = fed.config.quorum;
        if (signatures.length < quorum) revert ProvenanceQuorumNotReached(federationId, signatures.length, quorum);
    }

    function _attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams memory dp
    ) internal view returns (bytes32) {
        return
            _hashTypedDataV4(
                ProtocolHashes.attestationStructHash(federationId, round, baseModelRoot, updateRoot, sampleCount, dp)
            );
    }

    /**
     * @dev {_recover} of a 65-byte (r, s, v) signature read straight from calldata (no copy to
     * memory); zero for any other length.
     */
    function _recover(bytes32 digest, bytes calldata signature) internal view returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        // r and s are the first two words; v is the top byte of the word from offset 64, the 65th byte.
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 32))
            v := shr(248, calldataload(add(signature.offset, 64)))
        }
        return _recover(digest, r, s, v);
    }

    /**
     * @dev The signer of (r, s, v) over `digest`, or zero when there is none: s above half the curve
     * order (the malleable twin of a valid signature, refused as OpenZeppelin's ECDSA does), v other
     * than 27 or 28, or no point; the precompile returns nothing for the last two.
     */
    function _recover(bytes32 digest, bytes32 r, bytes32 s, uint8 v) internal view returns (address signer) {
        assembly ("memory-safe") {
            if iszero(gt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0)) {
                // The four arguments go above the free memory pointer, not advanced; the result to scratch space.
                let ptr := mload(0x40)
                mstore(ptr, digest)
                mstore(add(ptr, 0x20), v)
                mstore(add(ptr, 0x40), r)
                mstore(add(ptr, 0x60), s)
                mstore(0x00, 0)
                if staticcall(gas(), 0x01, ptr, 0x80, 0x00, 0x20) {
                    signer := mload(0x00)
                }
            }
        }
    }

    function _liveFederation(uint256 federationId) internal view returns (FederationLogic.Federation storage fed) {
        fed = _federation(federationId);
        if (fed.state.isSealed) revert ProvenanceFederationSealed(federationId);
    }

    function _batchedFederation(uint256 federationId) internal view returns (BatchedRounds.Batched storage b) {
        b = _batched[federationId];
        if (b.config.verifier == address(0)) {
            _federation(federationId);
            revert ProvenanceNotBatched(federationId);
        }
    }

    function _federation(uint256 federationId) internal view returns (FederationLogic.Federation storage fed) {
        fed = _federations[federationId];
        if (fed.config.verifier == address(0)) revert ProvenanceUnknownFederation(federationId);
    }
}
