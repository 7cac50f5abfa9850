// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProtocolHashes} from "../libraries/ProtocolHashes.sol";

/**
 * @title IProvenanceLedgerTypes
 * @dev The types, events and errors of {IProvenanceLedger}, the on-chain record of federated-learning federations: their parameters, participants,
 * the verifiable selection of each round's participants, round records accepted by an aggregator
 * quorum, privacy budgets, reputations, Proof-of-Training and the round lifecycle
 * (docs/protocol.md §9-§13). Every refusal is a custom error declared here (EIP-6093 style);
 * every state change emits an event indexed by federation and, where there is one, by round, so
 * that an auditor can page a federation's history round by round from events alone.
 */
interface IProvenanceLedgerTypes {
    /**
     * @dev Lifecycle of a round (docs/protocol.md §11). `None`: the number is unused or the round
     * is open for attestations. `Proposed`: the record is on-chain with its quorum but some
     * participants named in it have not attested yet (for a batched round: until its proof checks
     * their attestations, which takes it straight to `Proven`). `Attested`: every update of the record is
     * attested. `Proven`: its Groth16 proof verified. `Finalized`: proven, parent finalized and
     * the finality delay elapsed; final forever. `Rejected`: rejected, expired or rolled back;
     * the record stays, the federation no longer builds on it.
     */
    enum RoundStatus {
        None,
        Genesis,
        Proposed,
        Attested,
        Proven,
        Finalized,
        Rejected
    }

    /// @dev Aggregation rule the committee applies; the auditor re-derives FedAvg weights itself.
    enum AggregationRule {
        FedAvg,
        ByzFed
    }

    /// @dev The aggregation rule and its parameters, fixed point in millionths.
    struct AggregationParams {
        AggregationRule rule;
        uint64 tauMicros;
        uint64 reputationDecayMicros;
    }

    /**
     * @dev A federation continued from a finalized round of another (older) ledger: its genesis is
     * that round's model (docs/protocol.md §13). All zero for a fresh federation.
     */
    struct Predecessor {
        address ledger;
        uint64 round;
        uint256 federationId;
        bytes32 commitment;
    }

    /**
     * @dev Parameters fixed when a federation is created (docs/protocol.md §9). Deadline and
     * finality delay are in seconds; epsilon budget, DP and aggregation parameters in fixed point.
     */
    struct FederationConfig {
        string modelId;
        uint32 modelLength;
        uint16 participantsPerRound;
        uint16 minUpdates;
        uint16 quorum;
        uint32 roundDeadline;
        uint32 finalityDelay;
        uint64 genesisCidCodec;
        address verifier;
        uint64 epsilonBudgetMicros;
        AggregationParams aggregation;
        ProtocolHashes.DpParams dp;
        address[] committee;
        bytes32 verifyingKeyHash;
        bytes32 genesisModelRoot;
        bytes32 genesisCidDigest;
        Predecessor predecessor;
    }

    /// @dev The moving parts of a federation: round pointers, the open round's selection, sealing.
    struct FederationState {
        uint64 lastRound;
        uint64 head;
        uint64 lastFinalized;
        uint64 openedAt;
        bytes32 selectionSeed;
        uint32 rosterSize;
        bool isSealed;
        address successorLedger;
        /**
         * The open round's selection bound T (docs/protocol.md §10): S_t is the roster indices below
         * rosterSize whose shuffled position is below T and that are not revoked; K when none is revoked.
         */
        uint32 selectionBound;
        /// Attestations made on-chain ({attest}) for the open round so far: its record must name them all.
        uint16 openAttestations;
        uint256 successorFederationId;
    }

    /// @dev A participant as the admin enrols it: DID, signing address, optional BabyJubJub key.
    struct ParticipantInfo {
        address signer;
        string did;
        uint256[2] babyJubJubKey;
    }

    /**
     * @dev Per-participant state read and written by every round (one storage slot): `id` is the
     * roster index + 1 (0: not enrolled), `revokedFrom` the first round it may not attest in
     * (0: active), cumulative epsilon spent and the reputation after its latest round, fixed point.
     */
    struct ParticipantState {
        uint32 id;
        uint64 revokedFrom;
        uint64 lastAttestedRound;
        uint64 epsilonSpentMicros;
        uint32 reputationMicros;
    }

    /// @dev The committee's claim for round `round`, built on round `parentRound`.
    struct RoundPost {
        uint64 round;
        uint64 parentRound;
        uint64 cidCodec;
        bytes32 modelRoot;
        bytes32 cidDigest;
        bytes32 commitment;
    }

    /// @dev The per-participant columns of a round, in S_t order, bound by its updatesDigest.
    struct RoundColumns {
        address[] participants;
        bytes32[] updateRoots;
        uint32[] weights;
    }

    /// @dev What the chain stores of a round; the rest is in its events.
    struct RoundRecord {
        RoundStatus status;
        uint64 parentRound;
        uint64 openedAt;
        uint40 provenAt;
        uint16 updateCount;
        uint16 pendingAttestations;
        // The block that completed the record's attestations (0 until then; direct path): the hash of
        // the block after it seeds the proof challenge (docs/protocol.md §8).
        uint40 attestedBlock;
        bytes32 commitment;
        bytes32 modelRoot;
        bytes32 updatesDigest;
        bytes32 challengeSeed;
    }

    /**
     * @dev A federation's batched proof path (docs/protocol.md §14), fixed at creation beside its
     * {FederationConfig}: rounds posted with {postBatchedRound} are proven by `verifier`, a
     * RoundAttested(K, DEPTH, C, S, R) Groth16 verifier whose verifying key hashes (sha256) to
     * `verifyingKeyHash`, with K = `participantsPerRound`, C = `chunkLevel`, S = `samples` and
     * R = `registryDepth`; `poseidon2` is the Poseidon(2) hasher (circomlibjs' generated contract)
     * that maintains the key registry on-chain.
     */
    struct BatchedProofConfig {
        address verifier;
        bytes32 verifyingKeyHash;
        address poseidon2;
        uint8 samples;
        uint8 chunkLevel;
        uint8 registryDepth;
    }

    /**
     * @dev One participant's entry in a batched round record, in ascending roster-index order. The
     * participant's EdDSA-Poseidon signature over (updateRoot, sampleCount and the federation's DP
     * parameters) is checked inside the round's proof, not here; the committee supplies weight and
     * reputation, and the epsilon debit must be the attested one (dp.epsilonMicros, docs/protocol.md §13).
     */
    struct BatchedEntry {
        address participant;
        bytes32 updateRoot;
        uint64 sampleCount;
        uint32 weight;
        uint64 epsilonMicros;
        uint32 reputationMicros;
    }

    /**
     * @dev What the chain stores of a batched round besides its {RoundRecord}: the key-registry root in
     * force for the round, the participants' registry slots packed as sum slot_i * 2^(R*i), and the
     * block that recorded it (its successor's hash seeds the challenge).
     */
    struct BatchedRound {
        bytes32 keyRegistryRoot;
        uint192 participantSlots;
        uint64 postedBlock;
    }

    /// @dev A federation was created with `config`; its round 0 commits to the genesis model.
    event FederationCreated(
        uint256 indexed federationId,
        address indexed admin,
        FederationConfig config,
        bytes32 genesisCommitment
    );

    /// @dev `participant` joined the roster at `index`; selectable from the next round opened.
    event ParticipantEnrolled(
        uint256 indexed federationId,
        address indexed participant,
        uint32 index,
        string did,
        uint256[2] babyJubJubKey
    );

    /**
     * @dev A federation continuing a predecessor enrolled `participant` with the epsilon it had spent
     * and the reputation it had there, so a migration never resets a privacy budget.
     */
    event ParticipantCarriedOver(
        uint256 indexed federationId,
        address indexed participant,
        uint64 epsilonSpentMicros,
        uint32 reputationMicros
    );

    /// @dev `participant` may not attest in round `effectiveFromRound` or later.
    event ParticipantRevoked(uint256 indexed federationId, address indexed participant, uint64 effectiveFromRound);

    /**
     * @dev Round `round` opened on `parentRound`: S_t is the roster indices i < rosterSize with
     * shuffledIndex(i, rosterSize, selectionSeed) < K (docs/protocol.md §10).
     */
    event RoundOpened(
        uint256 indexed federationId,
        uint64 indexed round,
        uint64 parentRound,
        uint256 prevrandao,
        uint32 rosterSize,
        bytes32 selectionSeed
    );

    /**
     * @dev `participant`'s EIP-712 attestation of its update for `round`, sent in its own {attest}
     * transaction, was verified. Attestations carried in a record are published by its {RoundProposed}.
     */
    event UpdateAttested(
        uint256 indexed federationId,
        uint64 indexed round,
        address indexed participant,
        bytes32 updateRoot,
        uint64 sampleCount,
        bytes signature
    );

    /**
     * @dev The committee's record of `round` was accepted: `post`, its recomputed hashes, its
     * entries (`updates`) in S_t order as {postRound} took them (docs/protocol.md §11: 141 bytes each,
     * participant, updateRoot, sampleCount, weight, epsilon debit, reputation and the attestation the
     * record carried, published here once; its 65 bytes are zero where the participant attests with
     * its own {attest} transaction, whose {UpdateAttested} carries it), and the quorum signatures.
     */
    event RoundProposed(
        uint256 indexed federationId,
        uint64 indexed round,
        RoundPost post,
        bytes32 participantsRoot,
        bytes32 updatesDigest,
        bytes32 accountingDigest,
        bytes updates,
        bytes[] quorumSignatures
    );

    /// @dev Every update named in the record of `round` is attested.
    event RoundAttested(uint256 indexed federationId, uint64 indexed round);

    /**
     * @dev The proof of direct round `round` opened the chunk `challengeSeed` derives (docs/protocol.md §8):
     * keccak256(abi.encode(h_t, blockhash(b + 1))) with b the block of {RoundAttested}; {RoundProven} follows.
     */
    event RoundChallenged(
        uint256 indexed federationId,
        uint64 indexed round,
        bytes32 challengeSeed,
        uint256 chunkIndex
    );

    /// @dev The Groth16 proof of `round` verified against the inputs built from the record.
    event RoundProven(uint256 indexed federationId, uint64 indexed round, uint256[2] a, uint256[2][2] b, uint256[2] c);

    /// @dev `round` is final.
    event RoundFinalized(uint256 indexed federationId, uint64 indexed round);

    /// @dev `round` was rejected (by the admin, a deadline or a rollback) for `reason`.
    event RoundRejected(uint256 indexed federationId, uint64 indexed round, string reason);

    /**
     * @dev The federation went back from `fromHead` to its last finalized round `toRound`, by the
     * admin (`quorumSignatures` empty) or by the committee's quorum signatures relayed by `by`.
     */
    event FederationRolledBack(
        uint256 indexed federationId,
        uint64 indexed fromHead,
        uint64 indexed toRound,
        address by,
        string reason,
        bytes[] quorumSignatures
    );

    /// @dev No more rounds here: the federation continues at `successorFederationId` of `successorLedger`.
    event FederationSealed(
        uint256 indexed federationId,
        address indexed successorLedger,
        uint256 successorFederationId,
        uint64 lastFinalized
    );

    /**
     * @dev Federation `federationId` takes batched rounds proven by `batched.verifier`; its key
     * registry starts at `keyRegistryRoot` (the initial roster's BabyJubJub keys).
     */
    event BatchedFederationCreated(uint256 indexed federationId, BatchedProofConfig batched, bytes32 keyRegistryRoot);

    /**
     * @dev Registry slot `slot` (the roster index of `participant`) now holds `leaf` (Poseidon of its
     * key, or 0 once revoked); the root becomes `keyRegistryRoot` for the rounds opened from
     * `effectiveFromRound` on.
     */
    event KeyRegistryUpdated(
        uint256 indexed federationId,
        address indexed participant,
        uint32 slot,
        uint256 leaf,
        bytes32 keyRegistryRoot,
        uint64 effectiveFromRound
    );

    /**
     * @dev The committee's batched record of `round` was accepted: `post`, the recomputed
     * participantsRoot, the Poseidon commitment to the entries the proof opens, the digest of the
     * entries as posted, the key-registry root and participant slots of the proof's public inputs,
     * the entries and the quorum signatures. Its participants' signatures are checked by the proof.
     */
    event BatchedRoundProposed(
        uint256 indexed federationId,
        uint64 indexed round,
        RoundPost post,
        bytes32 participantsRoot,
        bytes32 updatesCommitment,
        bytes32 entriesDigest,
        bytes32 keyRegistryRoot,
        uint256 participantSlots,
        BatchedEntry[] entries,
        bytes[] quorumSignatures
    );

    /**
     * @dev The batched round's proof verified against `publicInputs` (docs/protocol.md §14), whose
     * chunk indices derive from `challengeSeed`; {RoundProven} follows.
     */
    event BatchedRoundChallenged(
        uint256 indexed federationId,
        uint64 indexed round,
        bytes32 challengeSeed,
        uint256[] publicInputs
    );

    /// @dev `field` must not be the zero address.
    error ProvenanceZeroAddress(string field);
    /// @dev Federation parameter `field` is empty or inconsistent.
    error ProvenanceInvalidConfig(string field);
    /// @dev The predecessor round is not a finalized round with this commitment and model.
    error ProvenanceInvalidPredecessor(address ledger, uint256 federationId, uint64 round);
    /// @dev No federation has this id.
    error ProvenanceUnknownFederation(uint256 federationId);
    /// @dev The federation was sealed and continues on another ledger.
    error ProvenanceFederationSealed(uint256 federationId);
    /// @dev `participant` is already on the roster.
    error ProvenanceAlreadyEnrolled(uint256 federationId, address participant);
    /// @dev Participant field `field` is malformed (DID, BabyJubJub key).
    error ProvenanceInvalidParticipant(uint256 federationId, address participant, string field);
    /// @dev `participant` is not on the roster.
    error ProvenanceNotEnrolled(uint256 federationId, address participant);
    /// @dev `participant` was already revoked.
    error ProvenanceAlreadyRevoked(uint256 federationId, address participant);
    /// @dev `participant` is revoked from round `revokedFrom` on.
    error ProvenanceParticipantRevoked(uint256 federationId, address participant, uint64 revokedFrom);
    /// @dev `participant` is not in S_t of `round`.
    error ProvenanceNotSelected(uint256 federationId, uint64 round, address participant);
    /// @dev The round given is not the one this call applies to.
    error ProvenanceRoundOutOfOrder(uint256 federationId, uint64 expected, uint64 given);
    /// @dev A round must build on the federation's head.
    error ProvenanceWrongParent(uint256 federationId, uint64 expected, uint64 given);
    /// @dev A record's packed entries are `length` bytes, not a whole number of 141-byte entries.
    error ProvenanceMalformedEntries(uint256 federationId, uint256 length);
    /// @dev A record carries between `min` and `max` updates.
    error ProvenanceWrongUpdateCount(uint256 federationId, uint256 min, uint256 max, uint256 given);
    /// @dev Participants of a record must be strictly ascending (by address; by roster index in a batched record); position `index` is not.
    error ProvenanceParticipantsNotAscending(uint256 federationId, uint256 index);
    /// @dev `participant` already attested in `round`.
    error ProvenanceDuplicateAttestation(uint256 federationId, uint64 round, address participant);
    /// @dev The record's entry for `participant` (`recorded`, 0 if none) differs from its attestation.
    error ProvenanceAttestationMismatch(
        uint256 federationId,
        uint64 round,
        address participant,
        bytes32 recorded,
        bytes32 attested
    );
    /// @dev Weights of a record must sum to 65536.
    error ProvenanceWeightsDoNotSum(uint256 federationId, uint256 sum);
    /// @dev The attestation of `participant` does not recover to it.
    error ProvenanceInvalidSignature(uint256 federationId, address participant, address recovered);
    /// @dev The posted h_t differs from the one recomputed from the record.
    error ProvenanceCommitmentMismatch(uint256 federationId, uint64 round, bytes32 expected, bytes32 given);
    /// @dev Debiting `debit` would take `participant` past its budget.
    error ProvenanceBudgetExceeded(
        uint256 federationId,
        address participant,
        uint64 spentMicros,
        uint64 debitMicros,
        uint64 budgetMicros
    );
    /**
     * @dev The record of `round` names `included` of the `attested` participants who attested on-chain
     * for it ({attest}) before it was posted: a record must name every one (a batched record, none may exist).
     */
    error ProvenanceAttestationOmitted(uint256 federationId, uint64 round, uint256 attested, uint256 included);
    /**
     * @dev `participant`'s entry debits `debit`, not the epsilon its update was attested under
     * (`attested`, the federation's dp.epsilonMicros: docs/protocol.md §13).
     */
    error ProvenanceWrongDebit(uint256 federationId, address participant, uint64 debit, uint64 attested);
    /**
     * @dev Quorum signature `index` does not recover a committee member over this record: it was made
     * by someone off the committee, or by a member over another record (the EVM cannot tell the two
     * apart), or it is malformed. `recovered` is what it recovers over this record (zero if nothing).
     */
    error ProvenanceInvalidQuorumSignature(uint256 federationId, uint256 index, address recovered);
    /// @dev `signer` signed twice.
    error ProvenanceDuplicateQuorumSigner(uint256 federationId, address signer);
    /// @dev Only `signatures` valid committee signatures; `quorum` are needed.
    error ProvenanceQuorumNotReached(uint256 federationId, uint256 signatures, uint256 quorum);
    /// @dev `round`'s deadline `deadline` (unix seconds) has passed.
    error ProvenanceDeadlinePassed(uint256 federationId, uint64 round, uint64 deadline);
    /// @dev `round`'s deadline `deadline` has not passed yet.
    error ProvenanceDeadlineNotReached(uint256 federationId, uint64 round, uint64 deadline);
    /// @dev The round is not Attested.
    error ProvenanceRoundNotAttested(uint256 federationId, uint64 round);
    /// @dev The columns given do not hash to the round's updatesDigest.
    error ProvenanceColumnsMismatch(uint256 federationId, uint64 round);
    /// @dev The verifier reverted or returned something other than a bool.
    error ProvenanceVerifierCallFailed(uint256 federationId, uint64 round);
    /// @dev The verifier rejected the proof.
    error ProvenanceProofRejected(uint256 federationId, uint64 round);
    /// @dev The round is not Proven.
    error ProvenanceRoundNotProven(uint256 federationId, uint64 round);
    /// @dev A round is finalized only after its parent `parentRound`.
    error ProvenanceParentNotFinalized(uint256 federationId, uint64 round, uint64 parentRound);
    /// @dev The finality delay of `round` ends at `finalizableAt`.
    error ProvenanceFinalityDelayPending(uint256 federationId, uint64 round, uint64 finalizableAt);
    /// @dev The round is neither open nor Proposed, Attested or Proven, so it cannot be rejected.
    error ProvenanceRoundNotPending(uint256 federationId, uint64 round);
    /// @dev A rollback goes to exactly the last finalized round `lastFinalized`: no further, no less.
    error ProvenanceInvalidRollbackTarget(uint256 federationId, uint64 toRound, uint64 lastFinalized);
    /// @dev The head `head` is already the last finalized round (at genesis: nothing before it).
    error ProvenanceNothingToRollBack(uint256 federationId, uint64 head);
    /// @dev Rounds after the last finalized one are pending; finalize or roll them back first.
    error ProvenanceRoundsPending(uint256 federationId, uint64 head, uint64 lastFinalized);
    /// @dev The successor federation does not name this federation's last finalized round.
    error ProvenanceInvalidSuccessor(address ledger, uint256 federationId);
    /// @dev The federation was created without a batched proof path ({createBatchedFederation}).
    error ProvenanceNotBatched(uint256 federationId);
    /// @dev `round` was not posted with {postBatchedRound}.
    error ProvenanceNotBatchedRound(uint256 federationId, uint64 round);
    /// @dev The batched round is not Proposed (already proven, or rejected), so it takes no proof.
    error ProvenanceRoundNotProposed(uint256 federationId, uint64 round);
    /// @dev The challenge of `round` is fixed by the hash of the block after its record completed: ask from block `readyAt`.
    error ProvenanceChallengeNotReady(uint256 federationId, uint64 round, uint64 readyAt);
    /// @dev The challenge block's hash is out of reach since block `lastBlock`: the round can only be expired.
    error ProvenanceChallengeExpired(uint256 federationId, uint64 round, uint64 lastBlock);
    /**
     * @dev The verifying-key hash a federation pins (`pinned`) is not the one its verifier was generated
     * from (`verifierKeyHash`, its VERIFYING_KEY_HASH(); zero when the verifier does not answer it).
     */
    error ProvenanceVerifyingKeyMismatch(address verifier, bytes32 pinned, bytes32 verifierKeyHash);
    /// @dev The key registry holds `capacity` = 2^R slots, all used by the roster.
    error ProvenanceRegistryFull(uint256 federationId, uint256 capacity);
    /// @dev `participant`'s BabyJubJub key is already in the federation's key registry.
    error ProvenanceKeyAlreadyEnrolled(uint256 federationId, address participant);
}

/**
 * @title IProvenanceLedgerRounds
 * @dev The round hot paths, carried by the ledger's own code (ProvenanceLedger): attestations,
 * records and proofs, where gas is spent per participant.
 */
interface IProvenanceLedgerRounds is IProvenanceLedgerTypes {
    /**
     * @dev Direct mode: records `participant`'s EIP-712 attestation of its update for `round`,
     * either the open round (before the record) or a Proposed round naming it. Anyone may relay.
     */
    function attest(
        uint256 federationId,
        address participant,
        uint64 round,
        bytes32 updateRoot,
        uint64 sampleCount,
        bytes calldata signature
    ) external;

    /**
     * @dev Posts the record of the open round with at least `quorum` committee signatures.
     * `updates` packs one entry per participant in S_t order, 141 bytes each (docs/protocol.md §11):
     * participant, updateRoot, sampleCount, weight, epsilonMicros, reputationMicros (20, 32, 8, 4,
     * 8 and 4 bytes, big-endian) and the participant's EIP-712 attestation (r, s, v). Entries with a
     * signature are attested inline (batched mode); entries whose 65 signature bytes are zero must
     * match an earlier {attest} or wait for one (direct mode). AGGREGATOR_ROLE only.
     */
    function postRound(
        uint256 federationId,
        RoundPost calldata post,
        bytes calldata updates,
        bytes[] calldata quorumSignatures
    ) external;

    /**
     * @dev Verifies the Groth16 proof of an Attested round against the public inputs the contract
     * builds from its record (`columns` must hash to the stored updatesDigest). AGGREGATOR_ROLE only.
     */
    function proveRound(
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external;

    /**
     * @dev Posts the batched record of the open round with at least `quorum` committee signatures over
     * its BatchedRoundRecord (docs/protocol.md §14): K entries in strictly ascending roster index, each
     * enrolled, not revoked, selected and within budget, weights summing to 65536, h_t as posted; no
     * participant signature is checked here (the proof does). The round stays Proposed until
     * {proveBatchedRound}. AGGREGATOR_ROLE only.
     */
    function postBatchedRound(
        uint256 federationId,
        RoundPost calldata post,
        BatchedEntry[] calldata entries,
        bytes32 updatesCommitment,
        bytes[] calldata quorumSignatures
    ) external;

    /**
     * @dev Verifies the RoundAttested proof of a Proposed batched round against the public inputs of
     * {batchedPublicInputs}, from the block after next of its posting up to 256 blocks later and before
     * its deadline; the round becomes Proven. AGGREGATOR_ROLE only.
     */
    function proveBatchedRound(
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external;
}

/**
 * @title IProvenanceLedgerExtension
 * @dev Federations, roster, lifecycle and views: the functions the ledger runs by DELEGATECALL in
 * its extension (ProvenanceLedgerExtension), at the ledger's address and on its storage.
 */
interface IProvenanceLedgerExtension is IProvenanceLedgerTypes {
    /**
     * @dev Creates a federation with `config` and its initial roster, and opens round 1.
     * Requirements: caller has DEFAULT_ADMIN_ROLE; non-empty parameters; committee of 2f+1
     * distinct non-zero addresses with quorum f+1; a predecessor, if any, finalized with this model.
     */
    function createFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants
    ) external returns (uint256 federationId);

    /// @dev Enrols a participant; it can be selected from the next round opened. Admin only.
    function enrol(uint256 federationId, ParticipantInfo calldata info) external;

    /// @dev Revokes `participant` from the round after the open one on; history stays. Admin only.
    function revoke(uint256 federationId, address participant) external;

    /**
     * @dev Creates a federation like {createFederation} that also takes batched rounds
     * ({postBatchedRound}), proven with `batched`, and builds its key registry from the initial roster.
     * Requirements, besides {createFederation}'s: non-zero verifier, hasher and key hash; `samples` >= 1;
     * `minUpdates` = `participantsPerRound` = K <= 16; 1 <= R <= 32 and K * R <= 192; the roster fits
     * 2^R slots; the level-C chunks tile the model; `poseidon2` hashes like circomlib's Poseidon(2).
     */
    function createBatchedFederation(
        FederationConfig calldata config,
        ParticipantInfo[] calldata participants,
        BatchedProofConfig calldata batched
    ) external returns (uint256 federationId);

    /// @dev Finalizes a Proven round whose parent is finalized, after the finality delay. Anyone.
    function finalizeRound(uint256 federationId, uint64 round) external;

    /// @dev Rejects a pending round (open, Proposed, Attested or Proven) and every round after it. Admin only.
    function rejectRound(uint256 federationId, uint64 round, string calldata reason) external;

    /**
     * @dev Rejects a round that missed its deadline (unposted, or posted and unproven), or at once a
     * batched round whose challenge block hash is out of reach (docs/protocol.md §14). Anyone.
     */
    function expireRound(uint256 federationId, uint64 round) external;

    /// @dev Rolls the federation back to its last finalized round `toRound`, with a reason. Admin only.
    function rollback(uint256 federationId, uint64 toRound, string calldata reason) external;

    /// @dev Same as {rollback}, authorised by `quorum` committee EIP-712 signatures. Anyone may relay.
    function rollbackByQuorum(
        uint256 federationId,
        uint64 toRound,
        string calldata reason,
        bytes[] calldata quorumSignatures
    ) external;

    /// @dev Ends the federation here; it continues as `successorFederationId` of `successorLedger`. Admin only.
    function sealFederation(uint256 federationId, address successorLedger, uint256 successorFederationId) external;

    /**
     * @dev Public inputs of `round`'s proof in the circuit's order (docs/protocol.md §8). Reverts until
     * the record is attested and the block after that is mined, and for an unproven round once that
     * block's hash is out of reach (256 blocks later).
     */
    function publicInputs(
        uint256 federationId,
        uint64 round,
        RoundColumns calldata columns
    ) external view returns (uint256[] memory);

    /**
     * @dev Public inputs of batched round `round`'s proof, in the circuit's order: [scope, prevRoot,
     * newRoot, keyRegistryRoot, participantSlots, updatesCommitment, chunkIndex_1..S]
     * (docs/protocol.md §14). Reverts until the challenge is fixed and, for an unproven round, once
     * it is out of reach.
     */
    function batchedPublicInputs(uint256 federationId, uint64 round) external view returns (uint256[] memory);

    /// @dev The challenge of batched round `round`: its seed and the S chunk indices it opens.
    function batchedChallenge(
        uint256 federationId,
        uint64 round
    ) external view returns (bytes32 seed, uint256[] memory chunkIndices);

    /**
     * @dev The federation's batched proof path, its key-registry root with every enrolment and
     * revocation so far, and the root in force for the open round.
     */
    function batchedFederation(
        uint256 federationId
    ) external view returns (BatchedProofConfig memory batched, bytes32 keyRegistryRoot, bytes32 openRoundRegistryRoot);

    /// @dev What the chain stores of batched round `round` besides its {RoundRecord} (zero if none).
    function batchedRound(uint256 federationId, uint64 round) external view returns (BatchedRound memory);

    /// @dev EIP-712 digest the committee signs to accept a batched round record (docs/protocol.md §14).
    function batchedRoundRecordDigest(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesCommitment,
        bytes32 entriesDigest
    ) external view returns (bytes32);

    /// @dev The federation's parameters and state.
    function federation(
        uint256 federationId
    ) external view returns (FederationConfig memory config, FederationState memory state);

    /// @dev The finalized round of an older ledger this federation continues (zero when fresh).
    function predecessorOf(uint256 federationId) external view returns (Predecessor memory);

    /// @dev What the chain stores of `round`.
    function roundRecord(uint256 federationId, uint64 round) external view returns (RoundRecord memory);

    /// @dev A participant's state, DID and BabyJubJub key (zero when none).
    function participant(
        uint256 federationId,
        address account
    ) external view returns (ParticipantState memory state, string memory did, uint256[2] memory babyJubJubKey);

    /// @dev The roster in enrolment order.
    function roster(uint256 federationId) external view returns (address[] memory);

    /// @dev Whether `account` is in S_t of the open round.
    function isSelected(uint256 federationId, address account) external view returns (bool);

    /// @dev EIP-712 digest of a participant attestation under this ledger's domain (docs/protocol.md §6).
    function attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams calldata dp
    ) external view returns (bytes32);

    /// @dev EIP-712 digest the committee signs to accept a round record (docs/protocol.md §12).
    function roundRecordDigest(
        uint256 federationId,
        uint64 round,
        uint64 parentRound,
        bytes32 commitment,
        bytes32 updatesDigest,
        bytes32 accountingDigest
    ) external view returns (bytes32);

    /// @dev EIP-712 digest the committee signs to roll back (docs/protocol.md §12).
    function rollbackDigest(
        uint256 federationId,
        uint64 toRound,
        uint64 head,
        bytes32 reasonHash
    ) external view returns (bytes32);
}

/**
 * @title IProvenanceLedger
 * @dev What a ledger address answers: {IProvenanceLedgerRounds} and {IProvenanceLedgerExtension}, with
 * the types, events and errors of {IProvenanceLedgerTypes}.
 */
// solhint-disable-next-line no-empty-blocks
interface IProvenanceLedger is IProvenanceLedgerRounds, IProvenanceLedgerExtension {}
