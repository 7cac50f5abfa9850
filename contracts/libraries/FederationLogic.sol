// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProvenanceLedgerExtension, IProvenanceLedgerTypes} from "../interfaces/IProvenanceLedger.sol";
import {BatchedRounds} from "./BatchedRounds.sol";
import {ProtocolHashes} from "./ProtocolHashes.sol";

/**
 * @title FederationLogic
 * @dev The ledger's cold paths, linked as an external library so that the ledger and its extension
 * stay 4 KB under the EIP-170 code-size limit: federation creation and its parameter checks,
 * enrolment and revocation, rejection and rollback, sealing, the verifier call. Its external
 * functions run by DELEGATECALL on the ledger's storage, so their events and errors are the ledger's
 * (declared in {IProvenanceLedgerTypes}). The round hot paths (attest, post, prove) stay in the
 * ledger; the batched path is {BatchedRounds}, a library of its own.
 */
library FederationLogic {
    /// @dev BabyJubJub twisted Edwards curve over the BN254 scalar field: a x^2 + y^2 = 1 + d x^2 y^2.
    uint256 private constant _BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 private constant _BABYJUB_A = 168700;
    uint256 private constant _BABYJUB_D = 168696;

    /// @dev Committee positions are bits of a uint256 when quorum signatures are deduplicated.
    uint256 internal constant MAX_COMMITTEE = 255;

    struct ParticipantProfile {
        string did;
        uint256[2] babyJubJubKey;
    }

    /// @dev Everything the ledger stores about one federation.
    struct Federation {
        IProvenanceLedgerTypes.FederationConfig config;
        IProvenanceLedgerTypes.FederationState state;
        address[] roster;
        mapping(address account => IProvenanceLedgerTypes.ParticipantState) participants;
        mapping(address account => ParticipantProfile) profiles;
        mapping(address member => uint256) committeePosition;
        mapping(uint64 round => IProvenanceLedgerTypes.RoundRecord) rounds;
        mapping(uint64 round => mapping(address participant => bytes32)) entries;
        /// @dev Roster indices revoked so far, in order of revocation: each round's selection skips them (§10).
        uint256[] revoked;
    }

    /**
     * @dev Checks `config`, stores it with its committee, records round 0 (the genesis model),
     * enrols the initial roster and opens round 1.
     */
    function create(
        Federation storage fed,
        uint256 federationId,
        IProvenanceLedgerTypes.FederationConfig calldata config,
        IProvenanceLedgerTypes.ParticipantInfo[] calldata participants,
        address admin
    ) external {
        _checkConfig(config);
        fed.config = config;
        for (uint256 i = 0; i < config.committee.length; ++i) {
            address member = config.committee[i];
            if (member == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("committee");
            if (fed.committeePosition[member] != 0) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("committee");
            fed.committeePosition[member] = i + 1;
        }
        bytes32 genesis = ProtocolHashes.roundCommitment(
            config.genesisModelRoot,
            config.genesisCidCodec,
            config.genesisCidDigest,
            ProtocolHashes.participantsRoot(new address[](0)),
            0
        );
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[0];
        rec.status = IProvenanceLedgerTypes.RoundStatus.Genesis;
        rec.openedAt = uint64(block.timestamp);
        rec.commitment = genesis;
        rec.modelRoot = config.genesisModelRoot;
        emit IProvenanceLedgerTypes.FederationCreated(federationId, admin, config, genesis);
        for (uint256 i = 0; i < participants.length; ++i) {
            enrol(fed, federationId, participants[i]);
        }
        openRound(fed, federationId, 1, genesis);
    }

    /// @dev Adds a participant to the roster; the next round opened may select it.
    function enrol(
        Federation storage fed,
        uint256 federationId,
        IProvenanceLedgerTypes.ParticipantInfo calldata info
    ) public {
        address account = info.signer;
        if (account == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("participant");
        if (fed.participants[account].id != 0)
            revert IProvenanceLedgerTypes.ProvenanceAlreadyEnrolled(federationId, account);
        bytes calldata did = bytes(info.did);
        if (did.length < 5 || bytes4(did[:4]) != bytes4("did:")) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidParticipant(federationId, account, "did");
        }
        if (!_validBabyJubJubKey(info.babyJubJubKey)) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidParticipant(federationId, account, "babyJubJubKey");
        }
        fed.roster.push(account);
        uint32 index = uint32(fed.roster.length - 1);
        IProvenanceLedgerTypes.ParticipantState storage p = fed.participants[account];
        p.id = index + 1;
        ParticipantProfile storage profile = fed.profiles[account];
        profile.did = info.did;
        profile.babyJubJubKey = info.babyJubJubKey;
        emit IProvenanceLedgerTypes.ParticipantEnrolled(federationId, account, index, info.did, info.babyJubJubKey);
        IProvenanceLedgerTypes.Predecessor storage pred = fed.config.predecessor;
        if (pred.ledger != address(0)) {
            // The predecessor answered as a ledger when this federation was created (_checkConfig).
            (IProvenanceLedgerTypes.ParticipantState memory old, , ) = IProvenanceLedgerExtension(pred.ledger)
                .participant(pred.federationId, account);
            p.epsilonSpentMicros = old.epsilonSpentMicros;
            p.reputationMicros = old.reputationMicros;
            emit IProvenanceLedgerTypes.ParticipantCarriedOver(
                federationId,
                account,
                old.epsilonSpentMicros,
                old.reputationMicros
            );
        }
    }

    /// @dev Revokes `account` from the round after the open one on; its past records stay.
    function revoke(Federation storage fed, uint256 federationId, address account) external {
        IProvenanceLedgerTypes.ParticipantState storage p = fed.participants[account];
        if (p.id == 0) revert IProvenanceLedgerTypes.ProvenanceNotEnrolled(federationId, account);
        if (p.revokedFrom != 0) revert IProvenanceLedgerTypes.ProvenanceAlreadyRevoked(federationId, account);
        // The open round (lastRound + 1) keeps its selection; the revocation starts after it.
        uint64 from = fed.state.lastRound + 2;
        p.revokedFrom = from;
        fed.revoked.push(p.id - 1);
        emit IProvenanceLedgerTypes.ParticipantRevoked(federationId, account, from);
    }

    /**
     * @dev Rejects `round` for `reason`: the open round alone (`round` = lastRound + 1), or a posted
     * round that is not final, with every round after it. `onlyStale` limits it to what a missed
     * deadline allows: the open round, or a Proposed or Attested one.
     */
    function reject(
        Federation storage fed,
        uint256 federationId,
        uint64 round,
        string calldata reason,
        bool onlyStale
    ) external {
        _reject(fed, federationId, round, reason, onlyStale);
    }

    /**
     * @dev Expires `round`: at once, with reason "challenge window", a round whose challenge block hash
     * is out of reach (it can never be proven, docs/protocol.md §8 and §14); otherwise, with reason
     * "deadline", the open round or a Proposed or Attested round once its deadline has passed.
     */
    function expire(
        Federation storage fed,
        BatchedRounds.Batched storage batched,
        uint256 federationId,
        uint64 round
    ) external {
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[round];
        bool lapsed =
            rec.status == IProvenanceLedgerTypes.RoundStatus.Attested &&
                block.number > uint256(rec.attestedBlock) + 257;
        if (lapsed || BatchedRounds.challengeLapsed(batched, fed, round)) {
            _reject(fed, federationId, round, "challenge window", false);
        } else {
            _reject(fed, federationId, round, "deadline", true);
        }
    }

    function _reject(
        Federation storage fed,
        uint256 federationId,
        uint64 round,
        string memory reason,
        bool onlyStale
    ) private {
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        if (round == st.lastRound + 1) {
            if (onlyStale) _requireDeadlinePassed(fed, federationId, round, st.openedAt);
            IProvenanceLedgerTypes.RoundRecord storage open = fed.rounds[round];
            open.status = IProvenanceLedgerTypes.RoundStatus.Rejected;
            open.parentRound = st.head;
            open.openedAt = st.openedAt;
            st.lastRound = round;
            emit IProvenanceLedgerTypes.RoundRejected(federationId, round, reason);
            openRound(fed, federationId, round + 1, fed.rounds[st.head].commitment);
            return;
        }
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[round];
        IProvenanceLedgerTypes.RoundStatus s = rec.status;
        bool pending =
            round != 0 &&
                round <= st.lastRound &&
                (s == IProvenanceLedgerTypes.RoundStatus.Proposed ||
                    s == IProvenanceLedgerTypes.RoundStatus.Attested ||
                    (s == IProvenanceLedgerTypes.RoundStatus.Proven && !onlyStale));
        if (!pending) revert IProvenanceLedgerTypes.ProvenanceRoundNotPending(federationId, round);
        if (onlyStale) _requireDeadlinePassed(fed, federationId, round, rec.openedAt);
        _rejectFrom(fed, federationId, round, rec.parentRound, reason);
    }

    /**
     * @dev Finalizes `round`: it must be Proven, its parent the last finalized round, and its
     * finality delay over.
     */
    function finalize(Federation storage fed, uint256 federationId, uint64 round) external {
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[round];
        if (rec.status != IProvenanceLedgerTypes.RoundStatus.Proven) {
            revert IProvenanceLedgerTypes.ProvenanceRoundNotProven(federationId, round);
        }
        if (rec.parentRound != fed.state.lastFinalized) {
            revert IProvenanceLedgerTypes.ProvenanceParentNotFinalized(federationId, round, rec.parentRound);
        }
        uint64 at = rec.provenAt + fed.config.finalityDelay;
        if (block.timestamp < at) revert IProvenanceLedgerTypes.ProvenanceFinalityDelayPending(federationId, round, at);
        rec.status = IProvenanceLedgerTypes.RoundStatus.Finalized;
        fed.state.lastFinalized = round;
        emit IProvenanceLedgerTypes.RoundFinalized(federationId, round);
    }

    /// @dev Whether `account` is enrolled, not revoked for the open round and in its S_t.
    function selects(Federation storage fed, address account) external view returns (bool) {
        IProvenanceLedgerTypes.ParticipantState storage p = fed.participants[account];
        uint32 id = p.id;
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        uint64 revokedFrom = p.revokedFrom;
        if (id == 0 || (revokedFrom != 0 && st.lastRound + 1 >= revokedFrom)) return false;
        uint256 bound = st.selectionBound;
        uint256 size = st.rosterSize;
        uint256[] memory pivots =
            size > bound ? ProtocolHashes.shufflePivots(st.selectionSeed, size) : new uint256[](0);
        return isSelected(id - 1, size, bound, st.selectionSeed, pivots);
    }

    /// @dev Rolls back to the last finalized round `toRound`; `by` authorised it.
    function rollback(
        Federation storage fed,
        uint256 federationId,
        uint64 toRound,
        string calldata reason,
        address by,
        bytes[] calldata quorumSignatures
    ) external {
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        if (toRound != st.lastFinalized) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidRollbackTarget(federationId, toRound, st.lastFinalized);
        }
        uint64 fromHead = st.head;
        if (fromHead == toRound) revert IProvenanceLedgerTypes.ProvenanceNothingToRollBack(federationId, fromHead);
        _rejectFrom(fed, federationId, toRound + 1, toRound, reason);
        emit IProvenanceLedgerTypes.FederationRolledBack(federationId, fromHead, toRound, by, reason, quorumSignatures);
    }

    /**
     * @dev Seals the federation once nothing is pending, after checking that the successor names
     * this federation's last finalized round as its predecessor.
     */
    function seal(
        Federation storage fed,
        uint256 federationId,
        address successorLedger,
        uint256 successorFederationId
    ) external {
        if (successorLedger == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("successorLedger");
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        if (st.head != st.lastFinalized) {
            revert IProvenanceLedgerTypes.ProvenanceRoundsPending(federationId, st.head, st.lastFinalized);
        }
        // A low-level call: a non-ledger successor must give our error, not a decoding revert.
        (bool ok, bytes memory ret) = successorLedger.staticcall(
            abi.encodeCall(IProvenanceLedgerExtension.predecessorOf, (successorFederationId))
        );
        if (!ok || ret.length != 128) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidSuccessor(successorLedger, successorFederationId);
        }
        IProvenanceLedgerTypes.Predecessor memory pred = abi.decode(ret, (IProvenanceLedgerTypes.Predecessor));
        if (
            pred.ledger != address(this) ||
            pred.federationId != federationId ||
            pred.round != st.lastFinalized ||
            pred.commitment != fed.rounds[st.lastFinalized].commitment
        ) revert IProvenanceLedgerTypes.ProvenanceInvalidSuccessor(successorLedger, successorFederationId);
        st.isSealed = true;
        st.successorLedger = successorLedger;
        st.successorFederationId = successorFederationId;
        emit IProvenanceLedgerTypes.FederationSealed(
            federationId,
            successorLedger,
            successorFederationId,
            st.lastFinalized
        );
    }

    /**
     * @dev Calls the snarkjs verifier with `inputs`; reverts unless it returns true. snarkjs verifiers
     * take a fixed-size array whose length is part of the selector. In the library to keep the
     * ledger's code small.
     */
    function verifyProof(
        address verifier,
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata inputs
    ) external view {
        bytes4 selector = bytes4(
            keccak256(
                bytes(
                    string.concat(
                        "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[",
                        _decimal(inputs.length),
                        "])"
                    )
                )
            )
        );
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodePacked(selector, a, b, c, inputs));
        if (!ok || ret.length != 32) revert IProvenanceLedgerTypes.ProvenanceVerifierCallFailed(federationId, round);
        if (!abi.decode(ret, (bool))) revert IProvenanceLedgerTypes.ProvenanceProofRejected(federationId, round);
    }

    /**
     * @dev Refuses a pinned verifying-key hash other than the one `verifier` was generated from: every
     * verifier of contracts/verifiers/ declares it as VERIFYING_KEY_HASH() (docs/protocol.md §9).
     */
    function checkVerifyingKey(address verifier, bytes32 pinned) internal view {
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodeWithSignature("VERIFYING_KEY_HASH()"));
        bytes32 actual = ok && ret.length == 32 ? abi.decode(ret, (bytes32)) : bytes32(0);
        if (actual != pinned) revert IProvenanceLedgerTypes.ProvenanceVerifyingKeyMismatch(verifier, pinned, actual);
    }

    /// @dev Refuses a participant that is not enrolled, or revoked for `round`.
    function checkActive(
        uint256 federationId,
        address account,
        IProvenanceLedgerTypes.ParticipantState memory p,
        uint64 round
    ) internal pure {
        checkActive(federationId, account, p.id, p.revokedFrom, round);
    }

    /// @dev {checkActive} on the two members of a participant's state it reads.
    function checkActive(
        uint256 federationId,
        address account,
        uint32 id,
        uint64 revokedFrom,
        uint64 round
    ) internal pure {
        if (id == 0) revert IProvenanceLedgerTypes.ProvenanceNotEnrolled(federationId, account);
        if (revokedFrom != 0 && round >= revokedFrom) {
            revert IProvenanceLedgerTypes.ProvenanceParticipantRevoked(federationId, account, revokedFrom);
        }
    }

    /**
     * @dev A record of at least this many entries checks them against S_t made as a bit mask
     * ({selectionMaskOf}) rather than index by index: the mask costs about as much as shuffling 10
     * indices (about 26,000 gas against 2,600 per index, docs/gas.md): from 12 entries on it saves at
     * least two indices' worth; at 10 or 11 the two ways cost about the same.
     */
    uint256 internal constant SELECTION_MASK_FROM = 12;

    /**
     * @dev Whether a record of `n` entries checks them against S_t made as a bit mask: the roster snapshot
     * has a shuffle table (at most 256) and the record is long enough to repay the mask.
     */
    function usesSelectionMask(uint256 size, uint256 k, uint256 n) internal pure returns (bool) {
        return size > k && size <= ProtocolHashes.SELECTION_TABLE_ROSTER && n >= SELECTION_MASK_FROM;
    }

    /// @dev S_t of a roster snapshot of `size` as a bit mask ({ProtocolHashes.selectionMask}). Requires k < size <= 256.
    function selectionMaskOf(bytes32 seed, uint256 size, uint256 k) internal pure returns (uint256) {
        return ProtocolHashes.selectionMask(ProtocolHashes.shufflePivots(seed, size), size, k);
    }

    /**
     * @dev Whether roster index `index` is in S_t: index < size and its shuffled position < k
     * (docs/protocol.md §10); `pivots` are {ProtocolHashes.shufflePivots}(seed, size) when size > k.
     */
    function isSelected(
        uint256 index,
        uint256 size,
        uint256 k,
        bytes32 seed,
        uint256[] memory pivots
    ) internal pure returns (bool) {
        if (index >= size) return false;
        // With no more participants than places everyone is selected (the shuffle is a permutation).
        if (size <= k) return true;
        return ProtocolHashes.shuffledIndex(index, size, seed, pivots) < k;
    }

    /**
     * @dev Writes `p` to `slot` as one word. Assigning the struct writes it member by member (one
     * SSTORE each, the later ones at 100 gas on the now-dirty slot); the layout is Solidity's packing
     * of {IProvenanceLedgerTypes.ParticipantState}, members from the low-order bits up.
     */
    function storeState(
        IProvenanceLedgerTypes.ParticipantState storage slot,
        IProvenanceLedgerTypes.ParticipantState memory p
    ) internal {
        uint256 word =
            uint256(p.id) |
                (uint256(p.revokedFrom) << 32) |
                (uint256(p.lastAttestedRound) << 96) |
                (uint256(p.epsilonSpentMicros) << 160) |
                (uint256(p.reputationMicros) << 224);
        assembly ("memory-safe") {
            sstore(slot.slot, word)
        }
    }

    /**
     * @dev Writes a participant's state read as one `word` with the last three members changed: id and
     * revokedFrom stay (the layout of {storeState}).
     */
    function storeState(
        IProvenanceLedgerTypes.ParticipantState storage slot,
        uint256 word,
        uint64 lastAttestedRound,
        uint64 epsilonSpentMicros,
        uint32 reputationMicros
    ) internal {
        uint256 updated =
            (word & type(uint96).max) |
                (uint256(lastAttestedRound) << 96) |
                (uint256(epsilonSpentMicros) << 160) |
                (uint256(reputationMicros) << 224);
        assembly ("memory-safe") {
            sstore(slot.slot, updated)
        }
    }

    /**
     * @dev Opens round `round` on the current head: fixes its selection seed, roster snapshot and
     * selection bound (every revocation made so far applies to it: revoke() starts after the open
     * round), and starts its count of on-chain attestations.
     */
    function openRound(Federation storage fed, uint256 federationId, uint64 round, bytes32 parentCommitment) internal {
        bytes32 seed = ProtocolHashes.selectionSeed(federationId, round, parentCommitment, block.prevrandao);
        uint32 size = uint32(fed.roster.length);
        uint256 k = fed.config.participantsPerRound;
        uint256 bound = k;
        // Every revoked index is below the roster size (the roster only grows).
        if (size > k && fed.revoked.length != 0) {
            bound = ProtocolHashes.selectionBound(size, k, seed, ProtocolHashes.shufflePivots(seed, size), fed.revoked);
        }
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        st.openedAt = uint64(block.timestamp);
        st.selectionSeed = seed;
        st.rosterSize = size;
        st.selectionBound = uint32(bound);
        st.openAttestations = 0;
        emit IProvenanceLedgerTypes.RoundOpened(federationId, round, st.head, block.prevrandao, size, seed);
    }

    /**
     * @dev Marks every round from `from` to the open one Rejected (history stays), moves the head
     * to `newHead` and opens a fresh round on it. The open round's number is consumed too: direct
     * attestations made for it were signed over the old head's model.
     *
     * NOTE: the loop runs over the rounds after the last finalized one, which the committee keeps
     * few by proving and finalizing as it goes.
     */
    function _rejectFrom(
        Federation storage fed,
        uint256 federationId,
        uint64 from,
        uint64 newHead,
        string memory reason
    ) private {
        IProvenanceLedgerTypes.FederationState storage st = fed.state;
        uint64 open = st.lastRound + 1;
        for (uint64 r = from; r < open; ++r) {
            IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[r];
            if (rec.status != IProvenanceLedgerTypes.RoundStatus.Rejected) {
                rec.status = IProvenanceLedgerTypes.RoundStatus.Rejected;
                emit IProvenanceLedgerTypes.RoundRejected(federationId, r, reason);
            }
        }
        IProvenanceLedgerTypes.RoundRecord storage openRec = fed.rounds[open];
        openRec.status = IProvenanceLedgerTypes.RoundStatus.Rejected;
        openRec.parentRound = st.head;
        openRec.openedAt = st.openedAt;
        st.lastRound = open;
        st.head = newHead;
        emit IProvenanceLedgerTypes.RoundRejected(federationId, open, reason);
        openRound(fed, federationId, open + 1, fed.rounds[newHead].commitment);
    }

    function _requireDeadlinePassed(
        Federation storage fed,
        uint256 federationId,
        uint64 round,
        uint64 openedAt
    ) private view {
        uint64 deadline = openedAt + fed.config.roundDeadline;
        if (block.timestamp <= deadline) {
            revert IProvenanceLedgerTypes.ProvenanceDeadlineNotReached(federationId, round, deadline);
        }
    }

    function _checkConfig(IProvenanceLedgerTypes.FederationConfig calldata config) private view {
        if (config.verifier == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("verifier");
        if (bytes(config.modelId).length == 0) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("modelId");
        if (config.modelLength == 0) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("modelLength");
        if (config.participantsPerRound == 0)
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("participantsPerRound");
        if (config.minUpdates == 0 || config.minUpdates > config.participantsPerRound) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("minUpdates");
        }
        if (config.roundDeadline == 0) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("roundDeadline");
        uint256 n = config.committee.length;
        // 2f + 1 aggregators, of which f + 1 must sign: f faulty ones can neither forge nor stall.
        if (n == 0 || n % 2 == 0 || n > MAX_COMMITTEE)
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("committee");
        if (config.quorum != n / 2 + 1) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("quorum");
        if (config.verifyingKeyHash == bytes32(0))
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("verifyingKeyHash");
        checkVerifyingKey(config.verifier, config.verifyingKeyHash);
        if (config.genesisModelRoot == bytes32(0))
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("genesisModelRoot");
        if (config.genesisCidDigest == bytes32(0))
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("genesisCidDigest");
        IProvenanceLedgerTypes.Predecessor calldata pred = config.predecessor;
        if (pred.ledger != address(0)) {
            (bool ok, bytes memory ret) = pred.ledger.staticcall(
                abi.encodeCall(IProvenanceLedgerExtension.roundRecord, (pred.federationId, pred.round))
            );
            // RoundRecord is eleven static words; anything else is not a ledger's answer.
            if (!ok || ret.length != 352) {
                revert IProvenanceLedgerTypes.ProvenanceInvalidPredecessor(pred.ledger, pred.federationId, pred.round);
            }
            IProvenanceLedgerTypes.RoundRecord memory r = abi.decode(ret, (IProvenanceLedgerTypes.RoundRecord));
            if (
                (r.status != IProvenanceLedgerTypes.RoundStatus.Finalized &&
                    r.status != IProvenanceLedgerTypes.RoundStatus.Genesis) ||
                r.commitment != pred.commitment ||
                r.modelRoot != config.genesisModelRoot
            ) revert IProvenanceLedgerTypes.ProvenanceInvalidPredecessor(pred.ledger, pred.federationId, pred.round);
        }
    }

    /// @dev A key is absent (0, 0) or a point of BabyJubJub other than the identity (0, 1).
    function _validBabyJubJubKey(uint256[2] calldata key) private pure returns (bool) {
        uint256 x = key[0];
        uint256 y = key[1];
        if (x == 0 && y == 0) return true;
        if (x >= _BN254_R || y >= _BN254_R || (x == 0 && y == 1)) return false;
        uint256 x2 = mulmod(x, x, _BN254_R);
        uint256 y2 = mulmod(y, y, _BN254_R);
        return
            addmod(mulmod(_BABYJUB_A, x2, _BN254_R), y2, _BN254_R) ==
            addmod(1, mulmod(mulmod(_BABYJUB_D, x2, _BN254_R), y2, _BN254_R), _BN254_R);
    }

    /// @dev `value` in decimal digits (the verifier's array length in its selector).
    function _decimal(uint256 value) private pure returns (string memory) {
        uint256 length = 1;
        for (uint256 rest = value / 10; rest != 0; rest /= 10) ++length;
        bytes memory digits = new bytes(length);
        for (uint256 i = length; i != 0; --i) {
            digits[i - 1] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
        return string(digits);
    }
}
