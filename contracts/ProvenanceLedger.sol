// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IProvenanceLedgerRounds} from "./interfaces/IProvenanceLedger.sol";
import {ProvenanceLedgerBase} from "./ProvenanceLedgerBase.sol";
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
 * The ledger is one address with two pieces of code (EIP-170 bounds each to 24,576 bytes): this
 * contract carries the round hot paths ({IProvenanceLedgerRounds}: attest, post, prove, where gas is
 * spent per participant) and AccessControl; every other function of {IProvenanceLedger}
 * (federations, roster, lifecycle, views) reaches {ProvenanceLedgerExtension} through the fallback,
 * which runs it by DELEGATECALL on this contract's storage, so its events, errors and EIP-712
 * domain are this address's. The extension is fixed at construction (immutable): there is no
 * upgrade path, and the ABI of the address is the union of both (aggregator/adapters/chain/abi/).
 *
 * NOTE: deployments are immutable. A new version is a new deployment to which a federation
 * migrates: the new federation names a finalized round of the old one as its predecessor and the
 * old one is sealed pointing at it (docs/deploy.md, "How the contracts evolve").
 */
contract ProvenanceLedger is ProvenanceLedgerBase, IProvenanceLedgerRounds {
    using FederationLogic for FederationLogic.Federation;

    /// @dev Holders may post rounds and proofs; the quorum signatures authorise the content.
    bytes32 public constant AGGREGATOR_ROLE = keccak256("AGGREGATOR_ROLE");

    /// @dev The DSAIN protocol version this ledger speaks (docs/protocol.md): 2 packs seven coordinates per field element.
    uint256 public constant PROTOCOL_VERSION = 2;

    /// @dev Coordinates per Poseidon leaf (16 elements of 7); the challenge picks one leaf (docs/protocol.md §2, §8).
    uint256 public constant CHUNK_SIZE = ProtocolHashes.CHUNK_SIZE;

    /// @dev The code every function outside {IProvenanceLedgerRounds} runs (by DELEGATECALL from the fallback).
    address private immutable _EXTENSION;

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

    constructor(address admin, address extensionCode) {
        if (admin == address(0)) revert ProvenanceZeroAddress("admin");
        if (extensionCode.code.length == 0) revert ProvenanceZeroAddress("extension");
        _EXTENSION = extensionCode;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @dev Runs every other call in {ProvenanceLedgerExtension} on this contract's storage and returns
     * (or reverts with) exactly what it returns. Calls with value are refused (no payable function).
     */
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        address target = _EXTENSION;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }

    /// @dev The extension this ledger runs every function outside {IProvenanceLedgerRounds} in.
    function extension() external view returns (address) {
        return _EXTENSION;
    }

    // ---------------------------------------------------------------- rounds

    /// @inheritdoc IProvenanceLedgerRounds
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
            uint256 bound = st.selectionBound;
            uint256 size = st.rosterSize;
            uint256[] memory pivots =
                size > bound ? ProtocolHashes.shufflePivots(st.selectionSeed, size) : new uint256[](0);
            if (!_selected(p.id - 1, size, bound, st.selectionSeed, pivots)) {
                revert ProvenanceNotSelected(federationId, round, account);
            }
            // Its record must name this attestation, so it must fit the budget: a participant that could be
            // neither named nor left out would block every record of the round.
            uint64 debit = fed.config.dp.epsilonMicros;
            uint64 budget = fed.config.epsilonBudgetMicros;
            if (debit > budget - p.epsilonSpentMicros) {
                revert ProvenanceBudgetExceeded(federationId, account, p.epsilonSpentMicros, debit, budget);
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
        if (open) {
            fed.entries[round][account] = entry;
            // At most K selected participants attest a round, so the count fits its uint16.
            ++st.openAttestations;
        }
        emit UpdateAttested(federationId, round, account, updateRoot, sampleCount, signature);
        if (!open && --rec.pendingAttestations == 0) {
            rec.status = RoundStatus.Attested;
            rec.attestedBlock = uint40(block.number);
            emit RoundAttested(federationId, round);
        }
    }

    /// @inheritdoc IProvenanceLedgerRounds
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

    /// @inheritdoc IProvenanceLedgerRounds
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

    /// @inheritdoc IProvenanceLedgerRounds
    function postBatchedRound(
        uint256 federationId,
        RoundPost calldata post,
        BatchedEntry[] calldata entries,
        bytes32 updatesCommitment,
        bytes[] calldata quorumSignatures
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        bytes32 digest = BatchedRounds.post(
            _batchedFederation(federationId),
            fed,
            federationId,
            post,
            entries,
            updatesCommitment,
            quorumSignatures,
            _domainSeparatorV4()
        );
        _checkQuorum(fed, federationId, digest, quorumSignatures);
    }

    /// @inheritdoc IProvenanceLedgerRounds
    function proveBatchedRound(
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external onlyRole(AGGREGATOR_ROLE) {
        FederationLogic.Federation storage fed = _liveFederation(federationId);
        BatchedRounds.Batched storage batched = _batchedFederation(federationId);
        (uint256[] memory inputs, bytes32 seed) = BatchedRounds.publicInputs(batched, fed, federationId, round);
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
        uint256 included; // direct entries whose attestation was on-chain already
        uint64 budget = fed.config.epsilonBudgetMicros;
        uint64 attested = fed.config.dp.epsilonMicros; // what every entry debits (§13)
        Selection memory selection = _selectionOf(st, st.selectionBound, n);
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
            } else {
                ++included;
            }
            uint64 spent = uint64(state >> 160);
            _checkDebit(federationId, account, epsilon, attested, spent, budget);
            FederationLogic.storeState(slot, state, lastAttested, spent + epsilon, reputation);

            ProtocolHashes.setRow(updatesColumns, n, i, uint160(account), uint256(updateRoot), weight);
            ProtocolHashes.setRow(accountingColumns, n, i, uint160(account), epsilon, reputation);
            weightSum += weight;
        }
        if (weightSum != ProtocolHashes.WEIGHT_TOTAL) revert ProvenanceWeightsDoNotSum(federationId, weightSum);
        // Every attestation made on-chain for this round before its record is in the record.
        if (included != st.openAttestations) {
            revert ProvenanceAttestationOmitted(federationId, round, st.openAttestations, included);
        }
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

    /// @dev Refuses a debit other than the attested epsilon (§13), or one past the budget.
    function _checkDebit(
        uint256 federationId,
        address account,
        uint64 debit,
        uint64 attested,
        uint64 spent,
        uint64 budget
    ) private pure {
        if (debit != attested) revert ProvenanceWrongDebit(federationId, account, debit, attested);
        // Invariant: spent <= budget, so budget - spent cannot underflow.
        if (debit > budget - spent) revert ProvenanceBudgetExceeded(federationId, account, spent, debit, budget);
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

    /// @dev The members of a federation's state that posting a record reads (not the successor's, never set while live).
    function _recordState(FederationLogic.Federation storage fed) private view returns (FederationState memory st) {
        FederationState storage stored = fed.state;
        st.lastRound = stored.lastRound;
        st.head = stored.head;
        st.openedAt = stored.openedAt;
        st.selectionSeed = stored.selectionSeed;
        st.rosterSize = stored.rosterSize;
        st.selectionBound = stored.selectionBound;
        st.openAttestations = stored.openAttestations;
    }
}
