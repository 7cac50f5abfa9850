// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IProvenanceLedgerTypes} from "../interfaces/IProvenanceLedger.sol";
import {FederationLogic} from "./FederationLogic.sol";
import {ProtocolHashes} from "./ProtocolHashes.sol";

/**
 * @title BatchedRounds
 * @dev The ledger's batched proof path (docs/protocol.md §14): the federation's key registry of
 * BabyJubJub keys (a Poseidon(2) tree maintained on-chain at enrolment and revocation), batched round
 * records whose participants' EdDSA-Poseidon attestations are checked inside a RoundAttested proof
 * rather than one by one here, and the public inputs of that proof, with a challenge seeded by the
 * hash of the block after the record's. A linked library: its external functions run by DELEGATECALL
 * on the ledger's storage (their events and errors are the ledger's, declared in
 * {IProvenanceLedgerTypes}); the ledger calls `post` and `publicInputs`, its extension the others.
 */
library BatchedRounds {
    /// @dev Everything the ledger stores about a federation's batched path.
    struct Batched {
        IProvenanceLedgerTypes.BatchedProofConfig config;
        // Root with every enrolment and revocation so far.
        bytes32 registryRoot;
        // The root in force for round `rootRound`, kept when the registry changed while that round was open.
        bytes32 openRegistryRoot;
        uint64 rootRound;
        // Registry nodes by (level << 32 | index); 0 stands for the empty subtree's hash {zeroHash}(level).
        mapping(uint256 node => uint256) registry;
        mapping(uint256 leaf => bool) keyEnrolled;
        mapping(uint64 round => IProvenanceLedgerTypes.BatchedRound) rounds;
    }

    /// @dev Entries of a batched record: one field element each in the circuit's Poseidon(K) commitment.
    uint256 internal constant MAX_BATCHED_UPDATES = 16;

    /// @dev participantSlots is stored in 192 bits beside the posting block: K * R must fit.
    uint256 internal constant MAX_SLOT_BITS = 192;

    /// @dev Registry depths the zero-hash table covers (the TypeScript twin allows the same).
    uint256 internal constant MAX_REGISTRY_DEPTH = 32;

    /// @dev A proof must be mined while blockhash(postedBlock + 1) is readable: blocks postedBlock + 2 to + 257.
    uint256 internal constant CHALLENGE_WINDOW = 256;

    /// @dev Selector of circomlibjs' `poseidon(uint256[2])`.
    bytes4 private constant _POSEIDON2_SELECTOR = 0x29a5f2f6;

    /**
     * @dev Z_1 .. Z_32 with Z_0 = 0 and Z_{d+1} = Poseidon(Z_d, Z_d): the root of an empty subtree of
     * height d, since unused registry slots are 0 (docs/protocol.md §2, §14). Checked against
     * circomlibjs by test/vectors/proof-of-training.json (`ledger.zeroHashes`).
     */
    bytes private constant _ZERO_HASHES =
        hex"2098f5fb9e239eab3ceac3f27b81e481dc3124d55ffed523a839ee8446b64864"
        hex"1069673dcdb12263df301a6ff584a7ec261a44cb9dc68df067a4774460b1f1e1"
        hex"18f43331537ee2af2e3d758d50f72106467c6eea50371dd528d57eb2b856d238"
        hex"07f9d837cb17b0d36320ffe93ba52345f1b728571a568265caac97559dbc952a"
        hex"2b94cf5e8746b3f5c9631f4c5df32907a699c58c94b2ad4d7b5cec1639183f55"
        hex"2dee93c5a666459646ea7d22cca9e1bcfed71e6951b953611d11dda32ea09d78"
        hex"078295e5a22b84e982cf601eb639597b8b0515a88cb5ac7fa8a4aabe3c87349d"
        hex"2fa5e5f18f6027a6501bec864564472a616b2e274a41211a444cbe3a99f3cc61"
        hex"0e884376d0d8fd21ecb780389e941f66e45e7acce3e228ab3e2156a614fcd747"
        hex"1b7201da72494f1e28717ad1a52eb469f95892f957713533de6175e5da190af2"
        hex"1f8d8822725e36385200c0b201249819a6e6e1e4650808b5bebc6bface7d7636"
        hex"2c5d82f66c914bafb9701589ba8cfcfb6162b0a12acf88a8d0879a0471b5f85a"
        hex"14c54148a0940bb820957f5adf3fa1134ef5c4aaa113f4646458f270e0bfbfd0"
        hex"190d33b12f986f961e10c0ee44d8b9af11be25588cad89d416118e4bf4ebe80c"
        hex"22f98aa9ce704152ac17354914ad73ed1167ae6596af510aa5b3649325e06c92"
        hex"2a7c7c9b6ce5880b9f6f228d72bf6a575a526f29c66ecceef8b753d38bba7323"
        hex"2e8186e558698ec1c67af9c14d463ffc470043c9c2988b954d75dd643f36b992"
        hex"0f57c5571e9a4eab49e2c8cf050dae948aef6ead647392273546249d1c1ff10f"
        hex"1830ee67b5fb554ad5f63d4388800e1cfe78e310697d46e43c9ce36134f72cca"
        hex"2134e76ac5d21aab186c2be1dd8f84ee880a1e46eaf712f9d371b6df22191f3e"
        hex"19df90ec844ebc4ffeebd866f33859b0c051d8c958ee3aa88f8f8df3db91a5b1"
        hex"18cca2a66b5c0787981e69aefd84852d74af0e93ef4912b4648c05f722efe52b"
        hex"2388909415230d1b4d1304d2d54f473a628338f2efad83fadf05644549d2538d"
        hex"27171fb4a97b6cc0e9e8f543b5294de866a2af2c9c8d0b1d96e673e4529ed540"
        hex"2ff6650540f629fd5711a0bc74fc0d28dcb230b9392583e5f8d59696dde6ae21"
        hex"120c58f143d491e95902f7f5277778a2e0ad5168f6add75669932630ce611518"
        hex"1f21feb70d3f21b07bf853d5e5db03071ec495a0a565a21da2d665d279483795"
        hex"24be905fa71335e14c638cc0f66a8623a826e768068a9e968bb1a1dde18a72d2"
        hex"0f8666b62ed17491c50ceadead57d4cd597ef3821d65c328744c74e553dac26d"
        hex"0918d46bf52d98b034413f4a1a1c41594e7a7a3f6ae08cb43d1a2a230e1959ef"
        hex"1bbeb01b4c479ecde76917645e404dfa2e26f90d0afc5a65128513ad375c5ff2"
        hex"2f68a1c58e257e42a17a6c61dff5551ed560b9922ab119d5ac8e184c9734ead9";

    // ---------------------------------------------------------------- creation and key registry

    /**
     * @dev Checks `cfg` against the federation's config, stores it and builds the key registry from the
     * initial roster `participants` (already enrolled by {FederationLogic.create}, roster index = slot).
     */
    function create(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        IProvenanceLedgerTypes.BatchedProofConfig calldata cfg,
        IProvenanceLedgerTypes.ParticipantInfo[] calldata participants
    ) external {
        _checkConfig(fed.config, cfg);
        b.config = cfg;
        bytes32 root = _build(b, federationId, participants, cfg.poseidon2, cfg.registryDepth);
        b.registryRoot = root;
        emit IProvenanceLedgerTypes.BatchedFederationCreated(federationId, cfg, root);
    }

    /**
     * @dev Puts the key of the participant just enrolled (the roster's last) in its registry slot;
     * a participant without a key leaves its slot 0. The change applies from the next round opened.
     */
    function enrolKey(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        address account,
        uint256[2] calldata key
    ) external {
        uint256 slot = fed.roster.length - 1;
        uint256 depth = b.config.registryDepth;
        if (slot >> depth != 0) revert IProvenanceLedgerTypes.ProvenanceRegistryFull(federationId, 1 << depth);
        if (key[0] == 0 && key[1] == 0) return;
        uint256 leaf = _hash(b.config.poseidon2, key[0], key[1]);
        if (b.keyEnrolled[leaf]) revert IProvenanceLedgerTypes.ProvenanceKeyAlreadyEnrolled(federationId, account);
        b.keyEnrolled[leaf] = true;
        _setLeaf(b, fed, federationId, account, slot, leaf);
    }

    /// @dev Zeroes the registry slot of `account`, just revoked; the change applies from the next round opened.
    function revokeKey(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        address account
    ) external {
        // {FederationLogic.revoke} succeeded, so the account is enrolled (id >= 1).
        uint256 slot = fed.participants[account].id - 1;
        if (b.registry[slot] != 0) _setLeaf(b, fed, federationId, account, slot, 0);
    }

    // ---------------------------------------------------------------- rounds

    /**
     * @dev Checks and records the batched record of the open round and opens the next one; returns
     * the EIP-712 digest the committee's quorum must have signed, which the ledger then checks.
     */
    function post(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        IProvenanceLedgerTypes.RoundPost calldata roundPost,
        IProvenanceLedgerTypes.BatchedEntry[] calldata entries,
        bytes32 updatesCommitment,
        bytes[] calldata quorumSignatures,
        bytes32 domainSeparator
    ) external returns (bytes32 digest) {
        IProvenanceLedgerTypes.FederationState memory st = fed.state;
        uint64 round = roundPost.round;
        if (round != st.lastRound + 1) {
            revert IProvenanceLedgerTypes.ProvenanceRoundOutOfOrder(federationId, st.lastRound + 1, round);
        }
        if (roundPost.parentRound != st.head) {
            revert IProvenanceLedgerTypes.ProvenanceWrongParent(federationId, st.head, roundPost.parentRound);
        }
        if (fed.rounds[st.head].status == IProvenanceLedgerTypes.RoundStatus.Proposed) {
            revert IProvenanceLedgerTypes.ProvenanceRoundNotAttested(federationId, st.head);
        }
        {
            uint64 deadline = st.openedAt + fed.config.roundDeadline;
            if (block.timestamp > deadline)
                revert IProvenanceLedgerTypes.ProvenanceDeadlinePassed(federationId, round, deadline);
        }
        // Attestations made on-chain for this round bind it to the direct path: a batched record names none.
        if (st.openAttestations != 0) {
            revert IProvenanceLedgerTypes.ProvenanceAttestationOmitted(federationId, round, st.openAttestations, 0);
        }
        // The circuit has exactly K entries and the federation was created with minUpdates = K.
        uint256 k = fed.config.participantsPerRound;
        if (entries.length != k)
            revert IProvenanceLedgerTypes.ProvenanceWrongUpdateCount(federationId, k, k, entries.length);

        (address[] memory sorted, uint256 slots) = _recordEntries(b, fed, federationId, round, st, entries);

        bytes32 pRoot = ProtocolHashes.participantsRoot(sorted);
        bytes32 commitment = ProtocolHashes.roundCommitment(
            roundPost.modelRoot,
            roundPost.cidCodec,
            roundPost.cidDigest,
            pRoot,
            round
        );
        if (commitment != roundPost.commitment) {
            revert IProvenanceLedgerTypes.ProvenanceCommitmentMismatch(
                federationId,
                round,
                commitment,
                roundPost.commitment
            );
        }
        bytes32 eDigest = _entriesDigest(entries);
        digest = MessageHashUtils.toTypedDataHash(
            domainSeparator,
            ProtocolHashes.batchedRoundRecordStructHash(
                federationId,
                round,
                roundPost.parentRound,
                commitment,
                updatesCommitment,
                eDigest
            )
        );

        bytes32 registryRoot = _store(b, fed, roundPost, st.openedAt, k, commitment, updatesCommitment, slots);
        emit IProvenanceLedgerTypes.BatchedRoundProposed(
            federationId,
            round,
            roundPost,
            pRoot,
            updatesCommitment,
            eDigest,
            registryRoot,
            slots,
            entries,
            quorumSignatures
        );
        FederationLogic.openRound(fed, federationId, round + 1, commitment);
    }

    /**
     * @dev Public inputs of batched round `round`'s proof and the challenge seed they derive from:
     * [scope, prevRoot, newRoot, keyRegistryRoot, participantSlots, updatesCommitment, chunkIndex_1..S].
     */
    function publicInputs(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        uint64 round
    ) external view returns (uint256[] memory inputs, bytes32 seed) {
        IProvenanceLedgerTypes.BatchedRound memory br = b.rounds[round];
        if (br.postedBlock == 0) revert IProvenanceLedgerTypes.ProvenanceNotBatchedRound(federationId, round);
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[round];
        seed = _challengeSeed(rec, br, federationId, round);
        uint256 s = b.config.samples;
        uint256[] memory indices = ProtocolHashes.challengeIndices(
            seed,
            ProtocolHashes.challengeChunkCount(fed.config.modelLength, b.config.chunkLevel),
            s
        );
        inputs = new uint256[](6 + s);
        inputs[0] = ProtocolHashes.roundScope(block.chainid, address(this), federationId, round);
        inputs[1] = uint256(fed.rounds[rec.parentRound].modelRoot);
        inputs[2] = uint256(rec.modelRoot);
        inputs[3] = uint256(br.keyRegistryRoot);
        inputs[4] = br.participantSlots;
        inputs[5] = uint256(rec.updatesDigest);
        for (uint256 j = 0; j < s; ++j) inputs[6 + j] = indices[j];
    }

    /**
     * @dev Whether `round` is a batched round still Proposed whose challenge block hash is out of reach:
     * it can no longer be proven, so it may be expired at once.
     */
    function challengeLapsed(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint64 round
    ) internal view returns (bool) {
        uint64 posted = b.rounds[round].postedBlock;
        return
            posted != 0 &&
            fed.rounds[round].status == IProvenanceLedgerTypes.RoundStatus.Proposed &&
            block.number > posted + 1 + CHALLENGE_WINDOW;
    }

    /// @dev The registry root in force for round `round` if it is the open round (or any later one).
    function rootFor(Batched storage b, uint64 round) internal view returns (bytes32) {
        return _rootFor(b, round);
    }

    /// @dev Root of an empty registry subtree of height `level` <= 32: Z_0 = 0, Z_{d+1} = Poseidon(Z_d, Z_d).
    function zeroHash(uint256 level) internal pure returns (uint256) {
        return _zero(_ZERO_HASHES, level);
    }

    // ---------------------------------------------------------------- internals

    /**
     * @dev Checks the entries of a batched record (strictly ascending roster index, enrolled, not
     * revoked, selected, within budget, weights summing to 65536), applies the budget debits and
     * reputations, and returns the participants sorted by address (for participantsRoot, §4) and
     * their registry slots packed as sum slot_i * 2^(R*i).
     */
    function _recordEntries(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        uint64 round,
        IProvenanceLedgerTypes.FederationState memory st,
        IProvenanceLedgerTypes.BatchedEntry[] calldata entries
    ) private returns (address[] memory sorted, uint256 slots) {
        uint256 n = entries.length;
        sorted = new address[](n);
        uint256 bound = st.selectionBound;
        uint64 budget = fed.config.epsilonBudgetMicros;
        // What every entry must debit: the epsilon its participant attested (docs/protocol.md §13).
        uint64 attested = fed.config.dp.epsilonMicros;
        uint256 depth = b.config.registryDepth;
        uint256 size = st.rosterSize;
        // S_t as a bit mask when the roster snapshot is small enough and the record long enough to repay
        // it; else each index is shuffled on its own.
        bool masked = FederationLogic.usesSelectionMask(size, bound, n);
        uint256 mask = masked ? FederationLogic.selectionMaskOf(st.selectionSeed, size, bound) : 0;
        uint256[] memory pivots =
            size > bound && !masked ? ProtocolHashes.shufflePivots(st.selectionSeed, size) : new uint256[](0);
        uint256 weightSum;
        uint256 previousSlot;
        for (uint256 i = 0; i < n; ++i) {
            IProvenanceLedgerTypes.BatchedEntry calldata e = entries[i];
            address account = e.participant;
            IProvenanceLedgerTypes.ParticipantState memory p = fed.participants[account];
            FederationLogic.checkActive(federationId, account, p, round);
            uint256 slot = p.id - 1;
            // Strict ascent by registry slot is the circuit's order and makes the entries a set.
            if (i > 0 && slot <= previousSlot)
                revert IProvenanceLedgerTypes.ProvenanceParticipantsNotAscending(federationId, i);
            previousSlot = slot;
            // The mask has no bit at or above the roster size.
            if (
                masked
                    ? (mask >> slot) & 1 == 0
                    : !FederationLogic.isSelected(slot, size, bound, st.selectionSeed, pivots)
            ) {
                revert IProvenanceLedgerTypes.ProvenanceNotSelected(federationId, round, account);
            }
            if (e.epsilonMicros != attested) {
                revert IProvenanceLedgerTypes.ProvenanceWrongDebit(federationId, account, e.epsilonMicros, attested);
            }
            // Invariant: spent <= budget, so budget - spent cannot underflow.
            if (e.epsilonMicros > budget - p.epsilonSpentMicros) {
                revert IProvenanceLedgerTypes.ProvenanceBudgetExceeded(
                    federationId,
                    account,
                    p.epsilonSpentMicros,
                    e.epsilonMicros,
                    budget
                );
            }
            p.epsilonSpentMicros += e.epsilonMicros;
            p.reputationMicros = e.reputationMicros;
            p.lastAttestedRound = round;
            FederationLogic.storeState(fed.participants[account], p);
            // slot < 2^R (enrolment refuses more) and i < K with K * R <= 192: no overlap, no overflow.
            slots |= slot << (depth * i);
            weightSum += e.weight;
            // Insertion sort by address: at most K = 16 entries.
            uint256 j = i;
            while (j > 0 && uint160(sorted[j - 1]) > uint160(account)) {
                sorted[j] = sorted[j - 1];
                --j;
            }
            sorted[j] = account;
        }
        if (weightSum != ProtocolHashes.WEIGHT_TOTAL) {
            revert IProvenanceLedgerTypes.ProvenanceWeightsDoNotSum(federationId, weightSum);
        }
    }

    /**
     * @dev Stores a batched record (Proposed) with its registry snapshot, slots and posting block, and
     * makes it the head; returns the registry root in force for the round.
     */
    function _store(
        Batched storage b,
        FederationLogic.Federation storage fed,
        IProvenanceLedgerTypes.RoundPost calldata roundPost,
        uint64 openedAt,
        uint256 k,
        bytes32 commitment,
        bytes32 updatesCommitment,
        uint256 slots
    ) private returns (bytes32 registryRoot) {
        uint64 round = roundPost.round;
        registryRoot = _rootFor(b, round);
        IProvenanceLedgerTypes.RoundRecord storage rec = fed.rounds[round];
        rec.status = IProvenanceLedgerTypes.RoundStatus.Proposed;
        rec.parentRound = roundPost.parentRound;
        rec.openedAt = openedAt;
        // updateCount = pendingAttestations = K: the attestations are pending until the proof checks them.
        rec.updateCount = uint16(k);
        rec.pendingAttestations = uint16(k);
        rec.commitment = commitment;
        rec.modelRoot = roundPost.modelRoot;
        // A batched round's updatesDigest is the Poseidon updatesCommitment its proof opens (§14).
        rec.updatesDigest = updatesCommitment;
        // slots < 2^(K*R) <= 2^192 (checked at creation); block numbers fit 64 bits.
        b.rounds[round] = IProvenanceLedgerTypes.BatchedRound(registryRoot, uint192(slots), uint64(block.number));
        fed.state.lastRound = round;
        fed.state.head = round;
    }

    /**
     * @dev {ProtocolHashes.batchedEntriesDigest} of calldata entries without re-encoding them field by
     * field: abi.encode of a static-struct array is 0x20, its length and the structs' words as they
     * sit in calldata. A non-canonical encoding (dirty high bits in a field) hashes differently from
     * the canonical one the committee signed, so it fails the quorum check.
     */
    function _entriesDigest(
        IProvenanceLedgerTypes.BatchedEntry[] calldata entries
    ) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := mul(entries.length, 0xc0)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), entries.length)
            calldatacopy(add(ptr, 0x40), entries.offset, size)
            digest := keccak256(ptr, add(size, 0x40))
        }
    }

    /// @dev The stored seed of a proven round, else keccak256(abi.encode(h_t, blockhash(postedBlock + 1))).
    function _challengeSeed(
        IProvenanceLedgerTypes.RoundRecord storage rec,
        IProvenanceLedgerTypes.BatchedRound memory br,
        uint256 federationId,
        uint64 round
    ) private view returns (bytes32) {
        bytes32 stored = rec.challengeSeed;
        if (stored != bytes32(0)) return stored;
        uint64 next = br.postedBlock + 1;
        if (block.number <= next)
            revert IProvenanceLedgerTypes.ProvenanceChallengeNotReady(federationId, round, next + 1);
        bytes32 hash = blockhash(next);
        if (hash == bytes32(0)) {
            revert IProvenanceLedgerTypes.ProvenanceChallengeExpired(
                federationId,
                round,
                next + uint64(CHALLENGE_WINDOW)
            );
        }
        return ProtocolHashes.challengeSeed(rec.commitment, hash);
    }

    function _rootFor(Batched storage b, uint64 round) private view returns (bytes32) {
        return b.rootRound == round ? b.openRegistryRoot : b.registryRoot;
    }

    /**
     * @dev Writes `leaf` at `slot` and the path above it. Like enrolment and revocation themselves
     * (§9), the change applies from the next round opened: the open round keeps the root it opened with.
     */
    function _setLeaf(
        Batched storage b,
        FederationLogic.Federation storage fed,
        uint256 federationId,
        address account,
        uint256 slot,
        uint256 leaf
    ) private {
        uint64 open = fed.state.lastRound + 1;
        if (b.rootRound != open) {
            b.openRegistryRoot = b.registryRoot;
            b.rootRound = open;
        }
        bytes memory zeros = _ZERO_HASHES;
        address hasher = b.config.poseidon2;
        uint256 depth = b.config.registryDepth;
        b.registry[slot] = leaf;
        uint256 node = leaf;
        uint256 index = slot;
        for (uint256 d = 0; d < depth; ++d) {
            uint256 zero = _zero(zeros, d);
            uint256 sibling = b.registry[(d << 32) | (index ^ 1)];
            if (sibling == 0) sibling = zero;
            (uint256 left, uint256 right) = index & 1 == 0 ? (node, sibling) : (sibling, node);
            uint256 up = _zero(zeros, d + 1);
            node = left == zero && right == zero ? up : _hash(hasher, left, right);
            index >>= 1;
            if (d + 1 < depth) b.registry[((d + 1) << 32) | index] = node == up ? 0 : node;
        }
        bytes32 root = bytes32(node);
        b.registryRoot = root;
        emit IProvenanceLedgerTypes.KeyRegistryUpdated(federationId, account, uint32(slot), leaf, root, open + 1);
    }

    /// @dev Builds the registry of the initial roster level by level, hashing each occupied node once.
    function _build(
        Batched storage b,
        uint256 federationId,
        IProvenanceLedgerTypes.ParticipantInfo[] calldata participants,
        address hasher,
        uint256 depth
    ) private returns (bytes32) {
        uint256 width = participants.length;
        if (width > 1 << depth) revert IProvenanceLedgerTypes.ProvenanceRegistryFull(federationId, 1 << depth);
        bytes memory zeros = _ZERO_HASHES;
        uint256[] memory level = new uint256[](width);
        for (uint256 i = 0; i < width; ++i) {
            uint256[2] calldata key = participants[i].babyJubJubKey;
            if (key[0] == 0 && key[1] == 0) continue;
            uint256 leaf = _hash(hasher, key[0], key[1]);
            if (b.keyEnrolled[leaf]) {
                revert IProvenanceLedgerTypes.ProvenanceKeyAlreadyEnrolled(federationId, participants[i].signer);
            }
            b.keyEnrolled[leaf] = true;
            b.registry[i] = leaf;
            level[i] = leaf;
        }
        for (uint256 d = 0; d < depth; ++d) {
            uint256 zero = _zero(zeros, d);
            uint256 up = _zero(zeros, d + 1);
            uint256 next = (width + 1) / 2;
            for (uint256 j = 0; j < next; ++j) {
                uint256 left = level[2 * j];
                uint256 right = 2 * j + 1 < width ? level[2 * j + 1] : zero;
                uint256 node = left == zero && right == zero ? up : _hash(hasher, left, right);
                level[j] = node;
                if (d + 1 < depth && node != up) b.registry[((d + 1) << 32) | j] = node;
            }
            width = next;
        }
        return bytes32(width == 0 ? _zero(zeros, depth) : level[0]);
    }

    function _checkConfig(
        IProvenanceLedgerTypes.FederationConfig storage config,
        IProvenanceLedgerTypes.BatchedProofConfig calldata cfg
    ) private view {
        if (cfg.verifier == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("batched.verifier");
        if (cfg.poseidon2 == address(0)) revert IProvenanceLedgerTypes.ProvenanceZeroAddress("batched.poseidon2");
        if (cfg.verifyingKeyHash == bytes32(0)) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.verifyingKeyHash");
        }
        FederationLogic.checkVerifyingKey(cfg.verifier, cfg.verifyingKeyHash);
        if (cfg.samples == 0) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.samples");
        uint256 k = config.participantsPerRound;
        if (k > MAX_BATCHED_UPDATES) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("participantsPerRound");
        // One verifier proves exactly K entries: a batched federation has no dropouts.
        if (config.minUpdates != k) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("minUpdates");
        uint256 depth = cfg.registryDepth;
        if (depth == 0 || depth > MAX_REGISTRY_DEPTH || k * depth > MAX_SLOT_BITS) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.registryDepth");
        }
        // A level-C chunk must be 2^C whole leaves: padding leaves are 0 and cannot be opened (§14).
        uint256 leaves = ProtocolHashes.leafCount(config.modelLength);
        if (cfg.chunkLevel > MAX_REGISTRY_DEPTH || leaves % (1 << cfg.chunkLevel) != 0) {
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.chunkLevel");
        }
        (bool ok, uint256 z1) = _tryHash(cfg.poseidon2, 0, 0);
        if (!ok || z1 != _zero(_ZERO_HASHES, 1))
            revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.poseidon2");
    }

    function _hash(address hasher, uint256 left, uint256 right) private view returns (uint256 out) {
        bool ok;
        (ok, out) = _tryHash(hasher, left, right);
        // The hasher answered Poseidon(0, 0) correctly at creation; it cannot stop answering.
        if (!ok) revert IProvenanceLedgerTypes.ProvenanceInvalidConfig("batched.poseidon2");
    }

    /// @dev Poseidon(left, right) by the hasher contract, without allocating memory.
    function _tryHash(address hasher, uint256 left, uint256 right) private view returns (bool ok, uint256 out) {
        bytes4 selector = _POSEIDON2_SELECTOR;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), left)
            mstore(add(ptr, 0x24), right)
            // Yul evaluates arguments right to left: read returndatasize only after the call.
            ok := staticcall(gas(), hasher, ptr, 0x44, 0x00, 0x20)
            ok := and(ok, eq(returndatasize(), 0x20))
            out := mload(0x00)
        }
    }

    function _zero(bytes memory zeros, uint256 level) private pure returns (uint256 z) {
        if (level == 0) return 0;
        // zeros holds Z_1 .. Z_32 after its length word; level <= 32 is the caller's.
        assembly ("memory-safe") {
            z := mload(add(zeros, shl(5, level)))
        }
    }
}
