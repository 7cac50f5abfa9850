// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IProvenanceLedger} from "./interfaces/IProvenanceLedger.sol";
import {BatchedRounds} from "./libraries/BatchedRounds.sol";
import {FederationLogic} from "./libraries/FederationLogic.sol";
import {ProtocolHashes} from "./libraries/ProtocolHashes.sol";

/**
 * @title ProvenanceLedger
 * @dev The trust anchor of dsain: for each federation it records the parameters, the roster of
 * participants, which of them are selected in each round (a seed no single party controls at
 * selection time), each round's commitment h_t with the participants' EIP-712 attestations and the
 * aggregator committee's quorum signatures, privacy-budget debits and reputations, the round's
 * Groth16 Proof-of-Training (public inputs built here, never passed in) and its lifecycle up to
 * finality or rejection. An auditor can rebuild and judge the whole history from the events.
 * Federations created with {createBatchedFederation} also take batched rounds ({BatchedRounds},
 * docs/protocol.md §14), whose participants' attestations are checked inside the round's proof
 * against a key registry kept here, so that posting them costs no signature check per participant.
 *
 * NOTE: deployments are immutable. A new version is a new deployment to which a federation
 * migrates: the new federation names a finalized round of the old one as its predecessor and the
 * old one is sealed pointing at it (docs/deploy.md, "How the contracts evolve").
 */
contract ProvenanceLedger is IProvenanceLedger, AccessControl, EIP712 {
    using FederationLogic for FederationLogic.Federation;

    /// @dev Holders may post rounds and proofs; the quorum signatures authorise the content.
    bytes32 public constant AGGREGATOR_ROLE = keccak256("AGGREGATOR_ROLE");

    /// @dev The DSAIN protocol version this ledger speaks (docs/protocol.md): 2 packs seven coordinates per field element.
    uint256 public constant PROTOCOL_VERSION = 2;

    /// @dev Coordinates per Poseidon leaf (16 elements of 7); the challenge picks one leaf (docs/protocol.md §2, §8).
    uint256 public constant CHUNK_SIZE = ProtocolHashes.CHUNK_SIZE;

    /// @dev What checking a record's entries yields: its S_t root, updates and accounting digests, pending entries.
    struct Columns {
        bytes32 participantsRoot;
        bytes32 updatesDigest;
        bytes32 accountingDigest;
        uint16 pending;
    }

    /// @dev S_t of the open round as a record checks it: a bit mask, or the pivots of the per-index shuffle.
    struct Selection {
        bool masked;
        uint256 mask;
        uint256 size;
        uint256 k;
        bytes32 seed;
        uint256[] pivots;
    }

    uint256 private _federationCount;
    mapping(uint256 federationId => FederationLogic.Federation) private _federations;
    mapping(uint256 federationId => BatchedRounds.Batched) private _batched;

    constructor(address admin) EIP712("DSAIN", "1") {
        if (admin == address(0)) revert ProvenanceZeroAddress("admin");
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- federations and roster

    /// @inheritdoc IProvenanceLedger
    function createFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 federationId) {
        federationId = ++_federationCount;
        _federations[federationId].create(federationId, config, participants, _msgSender());
    }

    /// @inheritdoc IProvenanceLedger
    function createBatchedFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants,
        BatchedProofConfig calldata batched
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 federationId) {
        federationId = ++_federationCount;
        FederationLogic.Federation storage fed = _federations[federationId];
        fed.create(federationId, config, participants, _msgSender());
        fed.createBatched(_batched[federationId], federationId, batched, participants);
    }

    /// @inheritdoc IProvenanceLedger
    function enrol(uint256 federationId, ParticipantInfo calldata info) external onlyRole(DEFAULT_ADMIN_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        fed.enrol(federationId, info);
        BatchedRounds.Batched storage b = _batched[federationId];
        if (b.config.verifier != address(0)) {
            fed.enrolKey(b, federationId, info.signer, info.babyJubJubKey);
        }
    }

    /// @inheritdoc IProvenanceLedger
    function revoke(uint256 federationId, address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        fed.revoke(federationId, account);
        BatchedRounds.Batched storage b = _batched[federationId];
        if (b.config.verifier != address(0)) fed.revokeKey(b, federationId, account);
    }

    // ---------------------------------------------------------------- rounds

    /// @inheritdoc IProvenanceLedger
    function attest(
        uint256 federationId,
        address account,
        uint64 round,
        bytes32 updateRoot,
        uint64 sampleCount,
        bytes calldata signature
    ) external {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        FederationState storage st = fed.state;
        ParticipantState memory p = fed.participants[account];
        _checkActive(federationId, account, p, round);
        if (p.lastAttestedRound == round) revert ProvenanceDuplicateAttestation(federationId, round, account);

        bytes32 entry = _entryHash(updateRoot, sampleCount);
        RoundRecord storage rec = fed.rounds[round];
        bool open = round == st.lastRound + 1;
        uint64 parent;
        uint64 openedAt;
        if (open) {
            // Until the head's record is fully attested, its round is the only one taking
            // attestations: lastAttestedRound then tells its duplicates apart exactly.
            if (fed.rounds[st.head].status == RoundStatus.Proposed) {
                revert ProvenanceRoundNotAttested(federationId, st.head);
            }
            uint256 k = fed.config.participantsPerRound;
            uint256 size = st.rosterSize;
            uint256[] memory pivots =
                size > k ? ProtocolHashes.shufflePivots(st.selectionSeed, size) : new uint256[](0);
            if (!_selected(p.id - 1, size, k, st.selectionSeed, pivots)) {
                revert ProvenanceNotSelected(federationId, round, account);
            }
            (parent, openedAt) = (st.head, st.openedAt);
        } else if (round == st.lastRound && rec.status == RoundStatus.Proposed) {
            bytes32 recorded = fed.entries[round][account];
            if (recorded != entry) revert ProvenanceAttestationMismatch(federationId, round, account, recorded, entry);
            (parent, openedAt) = (rec.parentRound, rec.openedAt);
        } else {
            revert ProvenanceRoundOutOfOrder(federationId, st.lastRound + 1, round);
        }
        _checkDeadline(federationId, round, openedAt);
        _checkAttestation(
            federationId,
            round,
            fed.rounds[parent].modelRoot,
            account,
            updateRoot,
            sampleCount,
            signature,
            fed.config.dp
        );

        fed.participants[account].lastAttestedRound = round;
        if (open) fed.entries[round][account] = entry;
        emit UpdateAttested(federationId, round, account, updateRoot, sampleCount, signature);
        if (!open && --rec.pendingAttestations == 0) {
            rec.status = RoundStatus.Attested;
            rec.attestedBlock = uint40(block.number);
            emit RoundAttested(federationId, round);
        }
    }

    /// @inheritdoc IProvenanceLedger
    function postRound(
        uint256 federationId,
        RoundPost calldata post,
        bytes calldata updates,
        bytes[] calldata quorumSignatures
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        FederationState memory st = _recordState(fed);
        uint64 round = post.round;
        if (round != st.lastRound + 1) revert ProvenanceRoundOutOfOrder(federationId, st.lastRound + 1, round);
        if (post.parentRound != st.head) revert ProvenanceWrongParent(federationId, st.head, post.parentRound);
        // A round builds only on a record whose updates are all attested.
        if (fed.rounds[st.head].status == RoundStatus.Proposed)
            revert ProvenanceRoundNotAttested(federationId, st.head);
        _checkDeadline(federationId, round, st.openedAt);
        uint256 n = updates.length / ProtocolHashes.RECORD_ENTRY_SIZE;
        if (n * ProtocolHashes.RECORD_ENTRY_SIZE != updates.length) {
            revert ProvenanceMalformedEntries(federationId, updates.length);
        }
        {
            uint256 min = fed.config.minUpdates;
            uint256 max = fed.config.participantsPerRound;
            if (n < min || n > max) revert ProvenanceWrongUpdateCount(federationId, min, max, n);
        }

        Columns memory cols = _recordEntries(fed, federationId, round, st, updates, n);

        bytes32 pRoot = cols.participantsRoot;
        bytes32 expected = ProtocolHashes.roundCommitment(post.modelRoot, post.cidCodec, post.cidDigest, pRoot, round);
        if (expected != post.commitment) {
            revert ProvenanceCommitmentMismatch(federationId, round, expected, post.commitment);
        }
        bytes32 uDigest = cols.updatesDigest;
        bytes32 aDigest = cols.accountingDigest;
        _checkQuorum(
            fed,
            federationId,
            _hashTypedDataV4(
                ProtocolHashes.roundRecordStructHash(federationId, round, post.parentRound, expected, uDigest, aDigest)
            ),
            quorumSignatures
        );

        RoundRecord storage rec = fed.rounds[round];
        if (cols.pending == 0) {
            rec.status = RoundStatus.Attested;
            rec.attestedBlock = uint40(block.number);
        } else {
            rec.status = RoundStatus.Proposed;
        }
        rec.parentRound = post.parentRound;
        rec.openedAt = st.openedAt;
        rec.updateCount = uint16(n);
        rec.pendingAttestations = cols.pending;
        rec.commitment = expected;
        rec.modelRoot = post.modelRoot;
        rec.updatesDigest = uDigest;
        fed.state.lastRound = round;
        fed.state.head = round;
        emit RoundProposed(federationId, round, post, pRoot, uDigest, aDigest, updates, quorumSignatures);
        if (cols.pending == 0) emit RoundAttested(federationId, round);
        fed.openRound(federationId, round + 1, expected);
    }

    /// @inheritdoc IProvenanceLedger
    function proveRound(
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        RoundRecord storage rec = fed.rounds[round];
        if (rec.status != RoundStatus.Attested) revert ProvenanceRoundNotAttested(federationId, round);
        _checkDeadline(federationId, round, rec.openedAt);

        (uint256[] memory inputs, bytes32 seed) = _publicInputs(fed, federationId, round, columns);
        FederationLogic.verifyProof(fed.config.verifier, federationId, round, a, b, c, inputs);

        rec.status = RoundStatus.Proven;
        rec.provenAt = uint40(block.timestamp);
        rec.challengeSeed = seed;
        emit RoundChallenged(federationId, round, seed, inputs[2]);
        emit RoundProven(federationId, round, a, b, c);
    }

    /// @inheritdoc IProvenanceLedger
    function postBatchedRound(
        uint256 federationId,
        RoundPost calldata post,
        BatchedEntry[] calldata entries,
        bytes32 updatesCommitment,
        bytes[] calldata quorumSignatures
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        bytes32 digest = fed.postBatched(
            _batchedFederation(federationId),
            federationId,
            post,
            entries,
            updatesCommitment,
            quorumSignatures,
            _domainSeparatorV4()
        );
        _checkQuorum(fed, federationId, digest, quorumSignatures);
    }

    /// @inheritdoc IProvenanceLedger
    function proveBatchedRound(
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        BatchedRounds.Batched storage batched = _batchedFederation(federationId);
        (uint256[] memory inputs, bytes32 seed) = fed.batchedPublicInputs(batched, federationId, round);
        RoundRecord storage rec = fed.rounds[round];
        if (rec.status != RoundStatus.Proposed) revert ProvenanceRoundNotProposed(federationId, round);
        _checkDeadline(federationId, round, rec.openedAt);
        FederationLogic.verifyProof(batched.config.verifier, federationId, round, a, b, c, inputs);

        rec.status = RoundStatus.Proven;
        rec.provenAt = uint40(block.timestamp);
        rec.pendingAttestations = 0;
        rec.challengeSeed = seed;
        emit BatchedRoundChallenged(federationId, round, seed, inputs);
        emit RoundProven(federationId, round, a, b, c);
    }

    // ---------------------------------------------------------------- lifecycle

    /// @inheritdoc IProvenanceLedger
    function finalizeRound(uint256 federationId, uint64 round) external {
        _liveFederation(federationId).finalize(federationId, round);
    }

    /// @inheritdoc IProvenanceLedger
    function rejectRound(
        uint256 federationId,
        uint64 round,
        string calldata reason
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).reject(federationId, round, reason, false);
    }

    /// @inheritdoc IProvenanceLedger
    function expireRound(uint256 federationId, uint64 round) external {
        _liveFederation(federationId).expire(_batched[federationId], federationId, round);
    }

    /// @inheritdoc IProvenanceLedger
    function rollback(
        uint256 federationId,
        uint64 toRound,
        string calldata reason
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).rollback(federationId, toRound, reason, _msgSender(), new bytes[](0));
    }

    /// @inheritdoc IProvenanceLedger
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

    /// @inheritdoc IProvenanceLedger
    function sealFederation(
        uint256 federationId,
        address successorLedger,
        uint256 successorFederationId
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _liveFederation(federationId).seal(federationId, successorLedger, successorFederationId);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IProvenanceLedger
    function publicInputs(
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns
    ) external view returns (uint256[] memory inputs) {
        (inputs, ) = _publicInputs(_federation(federationId), federationId, round, columns);
    }

    /// @inheritdoc IProvenanceLedger
    function batchedPublicInputs(uint256 federationId, uint64 round) external view returns (uint256[] memory inputs) {
        (inputs, ) = _federation(federationId).batchedPublicInputs(
            _batchedFederation(federationId),
            federationId,
            round
        );
    }

    /// @inheritdoc IProvenanceLedger
    function batchedChallenge(
        uint256 federationId,
        uint64 round
    ) external view returns (bytes32 seed, uint256[] memory chunkIndices) {
        uint256[] memory inputs;
        (inputs, seed) = _federation(federationId).batchedPublicInputs(
            _batchedFederation(federationId),
            federationId,
            round
        );
        chunkIndices = new uint256[](inputs.length - 6);
        for (uint256 j = 0; j < chunkIndices.length; ++j) chunkIndices[j] = inputs[6 + j];
    }

    /// @inheritdoc IProvenanceLedger
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

    /// @inheritdoc IProvenanceLedger
    function batchedRound(uint256 federationId, uint64 round) external view returns (BatchedRound memory) {
        return _batchedFederation(federationId).rounds[round];
    }

    /// @inheritdoc IProvenanceLedger
    function federation(
        uint256 federationId
    ) external view returns (FederationConfig memory config, FederationState memory state) {
        FederationLogic.Federation storage fed = _federation(federationId);
        return (fed.config, fed.state);
    }

    /// @inheritdoc IProvenanceLedger
    function predecessorOf(uint256 federationId) external view returns (Predecessor memory) {
        return _federation(federationId).config.predecessor;
    }

    /// @inheritdoc IProvenanceLedger
    function roundRecord(uint256 federationId, uint64 round) external view returns (RoundRecord memory) {
        return _federation(federationId).rounds[round];
    }

    /// @inheritdoc IProvenanceLedger
    function participant(
        uint256 federationId,
        address account
    ) external view returns (ParticipantState memory state, string memory did, uint256[2] memory babyJubJubKey) {
        FederationLogic.Federation storage fed = _federation(federationId);
        FederationLogic.ParticipantProfile storage profile = fed.profiles[account];
        return (fed.participants[account], profile.did, profile.babyJubJubKey);
    }

    /// @inheritdoc IProvenanceLedger
    function roster(uint256 federationId) external view returns (address[] memory) {
        return _federation(federationId).roster;
    }

    /// @inheritdoc IProvenanceLedger
    function isSelected(uint256 federationId, address account) external view returns (bool) {
        return _federation(federationId).selects(account);
    }

    /// @inheritdoc IProvenanceLedger
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

    /// @inheritdoc IProvenanceLedger
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

    /// @inheritdoc IProvenanceLedger
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

    /// @inheritdoc IProvenanceLedger
    function rollbackDigest(
        uint256 federationId,
        uint64 toRound,
        uint64 head,
        bytes32 reasonHash
    ) external view returns (bytes32) {
        return _hashTypedDataV4(ProtocolHashes.rollbackStructHash(federationId, toRound, head, reasonHash));
    }

    // ---------------------------------------------------------------- internals

    /**
     * @dev Checks every entry of packed record `entries` (n of {ProtocolHashes.RECORD_ENTRY_SIZE} bytes:
     * strictly ascending, enrolled, not revoked, selected, attested inline or directly, within budget),
     * applies the budget debits and reputations, and returns the digests over the record's columns.
     */
    function _recordEntries(
        FederationLogic.Federation storage fed,
        uint256 federationId,
        uint64 round,
        FederationState memory st,
        bytes calldata entries,
        uint256 n
    ) private returns (Columns memory cols) {
        // abi.encode(S_t, updateRoots, weights) and abi.encode(S_t, epsilonMicros, reputationMicros), row by row.
        bytes memory updatesColumns = ProtocolHashes.columnsBuffer(n);
        bytes memory accountingColumns = ProtocolHashes.columnsBuffer(n);
        uint16 pending;
        uint64 budget = fed.config.epsilonBudgetMicros;
        Selection memory selection = _selectionOf(st, fed.config.participantsPerRound, n);
        // Encoded once; each inline attestation fills in its update fields.
        bytes memory preimage = ProtocolHashes.attestationPreimage(
            federationId,
            round,
            fed.rounds[st.head].modelRoot,
            fed.config.dp
        );
        bytes32 domain = _domainSeparatorV4();
        uint256 weightSum;
        address previous;
        for (uint256 i = 0; i < n; ++i) {
            (
                address account,
                bytes32 updateRoot,
                uint64 sampleCount,
                uint32 weight,
                uint64 epsilon,
                uint32 reputation
            ) = ProtocolHashes.recordEntry(entries, i);
            // Strict ascent makes S_t a set and its encoding canonical.
            if (i > 0 && uint160(account) <= uint160(previous))
                revert ProvenanceParticipantsNotAscending(federationId, i);
            previous = account;
            ParticipantState storage slot = fed.participants[account];
            // The state word, read once (FederationLogic.storeState's layout): id, revokedFrom,
            // lastAttestedRound, epsilonSpentMicros, reputationMicros from the low-order bits up.
            uint256 state;
            assembly ("memory-safe") {
                state := sload(slot.slot)
            }
            FederationLogic.checkActive(federationId, account, uint32(state), uint64(state >> 32), round);
            if (!_inSelection(selection, uint32(state) - 1)) revert ProvenanceNotSelected(federationId, round, account);
            uint64 lastAttested = uint64(state >> 96);
            (bytes32 r, bytes32 s, uint8 v) = ProtocolHashes.recordEntrySignature(entries, i);
            if (r != 0 || s != 0 || v != 0) {
                if (lastAttested == round) revert ProvenanceDuplicateAttestation(federationId, round, account);
                bytes32 structHash = ProtocolHashes.attestationStructHash(preimage, updateRoot, sampleCount);
                address recovered = _recover(MessageHashUtils.toTypedDataHash(domain, structHash), r, s, v);
                if (recovered != account) revert ProvenanceInvalidSignature(federationId, account, recovered);
                lastAttested = round;
            } else if (_recordDirect(fed, federationId, round, account, lastAttested, updateRoot, sampleCount)) {
                ++pending;
            }
            uint64 spent = uint64(state >> 160);
            // Invariant: spent <= budget, so budget - spent cannot underflow.
            if (epsilon > budget - spent)
                revert ProvenanceBudgetExceeded(federationId, account, spent, epsilon, budget);
            FederationLogic.storeState(slot, state, lastAttested, spent + epsilon, reputation);

            ProtocolHashes.setRow(updatesColumns, n, i, uint160(account), uint256(updateRoot), weight);
            ProtocolHashes.setRow(accountingColumns, n, i, uint160(account), epsilon, reputation);
            weightSum += weight;
        }
        if (weightSum != ProtocolHashes.WEIGHT_TOTAL) revert ProvenanceWeightsDoNotSum(federationId, weightSum);
        cols = Columns(
            ProtocolHashes.participantsRoot(updatesColumns, n),
            keccak256(updatesColumns),
            keccak256(accountingColumns),
            pending
        );
    }

    /**
     * @dev S_t of the open round for a record of `n` entries: as a bit mask
     * when the roster snapshot is small enough and the record long enough to repay it
     * ({FederationLogic.usesSelectionMask}); else the pivots to shuffle each index on its own.
     */
    function _selectionOf(
        FederationState memory st,
        uint256 k,
        uint256 n
    ) private pure returns (Selection memory selection) {
        uint256 size = st.rosterSize;
        selection.size = size;
        selection.k = k;
        selection.seed = st.selectionSeed;
        if (size <= k) return selection;
        if (FederationLogic.usesSelectionMask(size, k, n)) {
            selection.masked = true;
            selection.mask = FederationLogic.selectionMaskOf(st.selectionSeed, size, k);
        } else {
            selection.pivots = ProtocolHashes.shufflePivots(st.selectionSeed, size);
        }
    }

    /// @dev Whether roster index `index` is in `selection` (the mask has no bit at or above the roster size).
    function _inSelection(Selection memory selection, uint256 index) private pure returns (bool) {
        if (selection.masked) return (selection.mask >> index) & 1 == 1;
        return _selected(index, selection.size, selection.k, selection.seed, selection.pivots);
    }

    /**
     * @dev A record entry whose participant attests with its own transaction: it must match that
     * attestation if already made, else it is stored for {attest} to match. Returns whether it is pending.
     */
    function _recordDirect(
        FederationLogic.Federation storage fed,
        uint256 federationId,
        uint64 round,
        address account,
        uint64 lastAttestedRound,
        bytes32 updateRoot,
        uint64 sampleCount
    ) private returns (bool pending) {
        bytes32 entry = _entryHash(updateRoot, sampleCount);
        if (lastAttestedRound == round) {
            bytes32 attested = fed.entries[round][account];
            if (attested != entry) revert ProvenanceAttestationMismatch(federationId, round, account, entry, attested);
            return false;
        }
        // Direct mode, record first: the participant confirms with attest() later.
        fed.entries[round][account] = entry;
        return true;
    }

    /**
     * @dev Requires f+1 (the configured quorum) distinct committee members' signatures over
     * `digest`; any signature from outside the committee or repeated is refused outright.
     */
    function _checkQuorum(
        FederationLogic.Federation storage fed,
        uint256 federationId,
        bytes32 digest,
        bytes[] calldata signatures
    ) private view {
        uint256 seen;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i]);
            uint256 position = signer == address(0) ? 0 : fed.committeePosition[signer];
            if (position == 0) revert ProvenanceNotCommitteeMember(federationId, signer);
            // position <= FederationLogic.MAX_COMMITTEE = 255, so the shift stays within the word.
            uint256 bit = 1 << (position - 1);
            if (seen & bit != 0) revert ProvenanceDuplicateQuorumSigner(federationId, signer);
            seen |= bit;
        }
        uint256 quorum = fed.config.quorum;
        if (signatures.length < quorum) revert ProvenanceQuorumNotReached(federationId, signatures.length, quorum);
    }

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
    ) private view returns (uint256[] memory inputs, bytes32 seed) {
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

    function _checkActive(uint256 federationId, address account, ParticipantState memory p, uint64 round) private pure {
        FederationLogic.checkActive(federationId, account, p, round);
    }

    function _checkDeadline(uint256 federationId, uint64 round, uint64 openedAt) private view {
        uint64 deadline = openedAt + _federations[federationId].config.roundDeadline;
        if (block.timestamp > deadline) revert ProvenanceDeadlinePassed(federationId, round, deadline);
    }

    function _checkAttestation(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        address account,
        bytes32 updateRoot,
        uint64 sampleCount,
        bytes calldata signature,
        ProtocolHashes.DpParams memory dp
    ) private view {
        _checkRecovered(
            federationId,
            account,
            _attestationDigest(federationId, round, baseModelRoot, updateRoot, sampleCount, dp),
            signature
        );
    }

    /// @dev Reverts unless `signature` over `digest` recovers `account` (never zero: enrolled).
    function _checkRecovered(
        uint256 federationId,
        address account,
        bytes32 digest,
        bytes calldata signature
    ) private view {
        address recovered = _recover(digest, signature);
        if (recovered != account) revert ProvenanceInvalidSignature(federationId, account, recovered);
    }

    function _attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams memory dp
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                ProtocolHashes.attestationStructHash(federationId, round, baseModelRoot, updateRoot, sampleCount, dp)
            );
    }

    /// @dev Whether roster index `index` is in S_t: index < size and its shuffled position < k.
    function _selected(
        uint256 index,
        uint256 size,
        uint256 k,
        bytes32 seed,
        uint256[] memory pivots
    ) private pure returns (bool) {
        return FederationLogic.isSelected(index, size, k, seed, pivots);
    }

    /// @dev What a direct attestation stores and a record entry must match.
    function _entryHash(bytes32 updateRoot, uint64 sampleCount) private pure returns (bytes32) {
        return keccak256(abi.encode(updateRoot, sampleCount));
    }

    /**
     * @dev {_recover} of a 65-byte (r, s, v) signature read straight from calldata (no copy to
     * memory); zero for any other length.
     */
    function _recover(bytes32 digest, bytes calldata signature) private view returns (address) {
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
    function _recover(bytes32 digest, bytes32 r, bytes32 s, uint8 v) private view returns (address signer) {
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

    /// @dev The members of a federation's state that posting a record reads (not the successor's, never set while live).
    function _recordState(FederationLogic.Federation storage fed) private view returns (FederationState memory st) {
        FederationState storage stored = fed.state;
        st.lastRound = stored.lastRound;
        st.head = stored.head;
        st.openedAt = stored.openedAt;
        st.selectionSeed = stored.selectionSeed;
        st.rosterSize = stored.rosterSize;
    }

    function _liveFederation(uint256 federationId) private view returns (FederationLogic.Federation storage fed) {
        fed = _federation(federationId);
        if (fed.state.isSealed) revert ProvenanceFederationSealed(federationId);
    }

    function _batchedFederation(uint256 federationId) private view returns (BatchedRounds.Batched storage b) {
        b = _batched[federationId];
        if (b.config.verifier == address(0)) {
            _federation(federationId);
            revert ProvenanceNotBatched(federationId);
        }
    }

    function _federation(uint256 federationId) private view returns (FederationLogic.Federation storage fed) {
        fed = _federations[federationId];
        if (fed.config.verifier == address(0)) revert ProvenanceUnknownFederation(federationId);
    }
}
