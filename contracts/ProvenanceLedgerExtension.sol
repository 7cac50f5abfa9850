// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProvenanceLedgerExtension} from "./interfaces/IProvenanceLedger.sol";
import {ProvenanceLedgerBase} from "./ProvenanceLedgerBase.sol";
import {BatchedRounds} from "./libraries/BatchedRounds.sol";
import {FederationLogic} from "./libraries/FederationLogic.sol";
import {ProtocolHashes} from "./libraries/ProtocolHashes.sol";

/**
 * @title ProvenanceLedgerExtension
 * @dev The ledger's functions outside the round hot paths: federation creation, enrolment and
 * revocation, the round lifecycle (finalize, reject, expire, roll back, seal) and the views. It is
 * the code of a {ProvenanceLedger}, never a ledger itself: the ledger's fallback runs it by
 * DELEGATECALL on the ledger's storage, so its events and errors come from the ledger's address and
 * its EIP-712 digests name the ledger as verifying contract.
 *
 * Called directly it acts on its own storage, which stays empty forever: its constructor grants no
 * role, so no account can create a federation or grant a role in it, and every other function
 * needs a federation.
 */
contract ProvenanceLedgerExtension is ProvenanceLedgerBase, IProvenanceLedgerExtension {
    using FederationLogic for FederationLogic.Federation;

    // ---------------------------------------------------------------- federations, roster, lifecycle and views

    /// @inheritdoc IProvenanceLedgerExtension
    function createFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 federationId) {
        federationId = ++_federationCount;
        _federations[federationId].create(federationId, config, participants, _msgSender());
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function createBatchedFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants,
        BatchedProofConfig calldata batched
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 federationId) {
        federationId = ++_federationCount;
        FederationLogic.Federation storage fed = _federations[federationId];
        fed.create(federationId, config, participants, _msgSender());
        BatchedRounds.create(_batched[federationId], fed, federationId, batched, participants);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function enrol(uint256 federationId, ParticipantInfo calldata info) external onlyRole(DEFAULT_ADMIN_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        fed.enrol(federationId, info);
        BatchedRounds.Batched storage b = _batched[federationId];
        if (b.config.verifier != address(0)) {
            BatchedRounds.enrolKey(b, fed, federationId, info.signer, info.babyJubJubKey);
        }
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function revoke(uint256 federationId, address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        fed.revoke(federationId, account);
        BatchedRounds.Batched storage b = _batched[federationId];
        if (b.config.verifier != address(0)) BatchedRounds.revokeKey(b, fed, federationId, account);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function finalizeRound(uint256 federationId, uint64 round) external {
        _liveFederation(federationId).finalize(federationId, round);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function rejectRound(
        uint256 federationId,
        uint64 round,
        string calldata reason
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).reject(federationId, round, reason, false);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function expireRound(uint256 federationId, uint64 round) external {
        _liveFederation(federationId).expire(_batched[federationId], federationId, round);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function rollback(
        uint256 federationId,
        uint64 toRound,
        string calldata reason
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).rollback(federationId, toRound, reason, _msgSender(), new bytes[](0));
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function rollbackByQuorum(
        uint256 federationId,
        uint64 toRound,
        string calldata reason,
        bytes[] calldata quorumSignatures
    ) external {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        bytes32 digest = _hashTypedDataV4(
            ProtocolHashes.rollbackStructHash(federationId, toRound, fed.state.head, keccak256(bytes(reason)))
        );
        _checkQuorum(fed, federationId, digest, quorumSignatures);
        fed.rollback(federationId, toRound, reason, _msgSender(), quorumSignatures);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function sealFederation(
        uint256 federationId,
        address successorLedger,
        uint256 successorFederationId
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).seal(federationId, successorLedger, successorFederationId);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function publicInputs(
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns
    ) external view returns (uint256[] memory inputs) {
        (inputs, ) = _publicInputs(_federation(federationId), federationId, round, columns);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function batchedPublicInputs(uint256 federationId, uint64 round) external view returns (uint256[] memory inputs) {
        (inputs, ) = BatchedRounds.publicInputs(
            _batchedFederation(federationId),
            _federation(federationId),
            federationId,
            round
        );
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function batchedChallenge(
        uint256 federationId,
        uint64 round
    ) external view returns (bytes32 seed, uint256[] memory chunkIndices) {
        uint256[] memory inputs;
        (inputs, seed) = BatchedRounds.publicInputs(
            _batchedFederation(federationId),
            _federation(federationId),
            federationId,
            round
        );
        chunkIndices = new uint256[](inputs.length - 6);
        for (uint256 j = 0; j < chunkIndices.length; ++j) chunkIndices[j] = inputs[6 + j];
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function batchedFederation(
        uint256 federationId
    )
        external
        view
        returns (BatchedProofConfig memory batched, bytes32 keyRegistryRoot, bytes32 openRoundRegistryRoot)
    {
        BatchedRounds.Batched storage b = _batchedFederation(federationId);
        return (b.config, b.registryRoot, BatchedRounds.rootFor(b, _federations[federationId].state.lastRound + 1));
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function batchedRound(uint256 federationId, uint64 round) external view returns (BatchedRound memory) {
        return _batchedFederation(federationId).rounds[round];
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function federation(
        uint256 federationId
    ) external view returns (FederationConfig memory config, FederationState memory state) {
        FederationLogic.Federation storage fed = _federation(federationId);
        return (fed.config, fed.state);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function predecessorOf(uint256 federationId) external view returns (Predecessor memory) {
        return _federation(federationId).config.predecessor;
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function roundRecord(uint256 federationId, uint64 round) external view returns (RoundRecord memory) {
        return _federation(federationId).rounds[round];
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function participant(
        uint256 federationId,
        address account
    ) external view returns (ParticipantState memory state, string memory did, uint256[2] memory babyJubJubKey) {
        FederationLogic.Federation storage fed = _federation(federationId);
        FederationLogic.ParticipantProfile storage profile = fed.profiles[account];
        return (fed.participants[account], profile.did, profile.babyJubJubKey);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function roster(uint256 federationId) external view returns (address[] memory) {
        return _federation(federationId).roster;
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function isSelected(uint256 federationId, address account) external view returns (bool) {
        return _federation(federationId).selects(account);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams calldata dp
    ) external view returns (bytes32) {
        return _attestationDigest(federationId, round, baseModelRoot, updateRoot, sampleCount, dp);
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function roundRecordDigest(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesDigest,
        bytes32 accountingDigest
    ) external view returns (bytes32) {
        return
            _hashTypedDataV4(
                ProtocolHashes.roundRecordStructHash(
                    federationId,
                    round,
                    parentRound,
                    commitment,
                    updatesDigest,
                    accountingDigest
                )
            );
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function batchedRoundRecordDigest(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesCommitment,
        bytes32 entriesDigest
    ) external view returns (bytes32) {
        return
            _hashTypedDataV4(
                ProtocolHashes.batchedRoundRecordStructHash(
                    federationId,
                    round,
                    parentRound,
                    commitment,
                    updatesCommitment,
                    entriesDigest
                )
            );
    }

    /// @inheritdoc IProvenanceLedgerExtension
    function rollbackDigest(
        uint256 federationId,
        uint64 toRound,
        uint64 head,
        bytes32 reasonHash
    ) external view returns (bytes32) {
        return _hashTypedDataV4(ProtocolHashes.rollbackStructHash(federationId, toRound, head, reasonHash));
    }
}
