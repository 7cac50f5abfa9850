// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IProvenanceLedger} from "./interfaces/IProvenanceLedger.sol";
import {ProtocolHashes} from "./libraries/ProtocolHashes.sol";

/**
 * @title ProvenanceLedger
 * @dev Records each federated-learning round: the commitment h_t, the participants' EIP-712
 * attestations (checked here), and the round's Groth16 Proof-of-Training, whose public inputs
 * this contract builds from its own storage so that a proof binds to exactly one recorded round.
 *
 * NOTE: first cut (foundation). Participant selection, aggregator quorum, budgets and rollback
 * are specified in docs/protocol.md as later work.
 */
contract ProvenanceLedger is IProvenanceLedger, AccessControl, EIP712 {
    /// @dev Holders may post rounds and proofs.
    bytes32 public constant AGGREGATOR_ROLE = keccak256("AGGREGATOR_ROLE");

    /// @dev Coordinates per Poseidon leaf; the challenge picks one leaf (docs/protocol.md §2, §8).
    uint256 public constant CHUNK_SIZE = 16;

    struct Federation {
        FederationConfig config;
        uint64 lastRound;
        mapping(address participant => bool) enrolled;
        mapping(uint64 round => RoundRecord) rounds;
        mapping(uint64 round => bytes32[]) updateRoots;
        mapping(uint64 round => uint32[]) weights;
    }

    uint256 private _federationCount;
    mapping(uint256 federationId => Federation) private _federations;

    constructor(address admin) EIP712("DSAIN", "1") {
        if (admin == address(0)) revert ProvenanceZeroAddress("admin");
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IProvenanceLedger
    function createFederation(
        FederationConfig calldata config
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 federationId) {
        if (config.verifier == address(0)) revert ProvenanceZeroAddress("verifier");
        if (bytes(config.modelId).length == 0) revert ProvenanceInvalidConfig("modelId");
        if (config.modelLength == 0) revert ProvenanceInvalidConfig("modelLength");
        if (config.participantsPerRound == 0) revert ProvenanceInvalidConfig("participantsPerRound");
        if (config.genesisModelRoot == bytes32(0)) revert ProvenanceInvalidConfig("genesisModelRoot");
        if (config.genesisCidDigest == bytes32(0)) revert ProvenanceInvalidConfig("genesisCidDigest");

        federationId = ++_federationCount;
        Federation storage fed = _federations[federationId];
        fed.config = config;
        bytes32 genesis = ProtocolHashes.roundCommitment(
            config.genesisModelRoot,
            config.genesisCidCodec,
            config.genesisCidDigest,
            ProtocolHashes.participantsRoot(new address[](0)),
            0
        );
        fed.rounds[0] = RoundRecord({
            status: RoundStatus.Genesis,
            postedBlock: uint64(block.number),
            cidCodec: config.genesisCidCodec,
            commitment: genesis,
            modelRoot: config.genesisModelRoot,
            cidDigest: config.genesisCidDigest,
            participantsRoot: ProtocolHashes.participantsRoot(new address[](0)),
            updatesDigest: bytes32(0),
            challengeSeed: bytes32(0)
        });
        emit FederationCreated(federationId, _msgSender(), config, genesis);
    }

    /// @inheritdoc IProvenanceLedger
    function enrol(uint256 federationId, address participant) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Federation storage fed = _federation(federationId);
        if (participant == address(0)) revert ProvenanceZeroAddress("participant");
        if (fed.enrolled[participant]) revert ProvenanceAlreadyEnrolled(federationId, participant);
        fed.enrolled[participant] = true;
        emit ParticipantEnrolled(federationId, participant);
    }

    /// @inheritdoc IProvenanceLedger
    function postRound(
        uint256 federationId,
        RoundPost calldata post,
        SignedUpdate[] calldata updates
    ) external onlyRole(AGGREGATOR_ROLE) {
        Federation storage fed = _federation(federationId);
        if (post.round != fed.lastRound + 1)
            revert ProvenanceRoundOutOfOrder(federationId, fed.lastRound + 1, post.round);
        if (updates.length != fed.config.participantsPerRound) {
            revert ProvenanceWrongUpdateCount(federationId, fed.config.participantsPerRound, updates.length);
        }

        (address[] memory participants, bytes32[] memory updateRoots, uint32[] memory weights) = _checkUpdates(
            fed,
            federationId,
            post.round,
            updates
        );

        bytes32 pRoot = ProtocolHashes.participantsRoot(participants);
        bytes32 expected = ProtocolHashes.roundCommitment(
            post.modelRoot,
            post.cidCodec,
            post.cidDigest,
            pRoot,
            post.round
        );
        if (expected != post.commitment) {
            revert ProvenanceCommitmentMismatch(federationId, post.round, expected, post.commitment);
        }

        bytes32 seed = ProtocolHashes.challengeSeed(expected, block.prevrandao, block.number);
        bytes32 uDigest = ProtocolHashes.updatesDigest(participants, updateRoots, weights);
        fed.lastRound = post.round;
        fed.rounds[post.round] = RoundRecord({
            status: RoundStatus.Attested,
            postedBlock: uint64(block.number),
            cidCodec: post.cidCodec,
            commitment: expected,
            modelRoot: post.modelRoot,
            cidDigest: post.cidDigest,
            participantsRoot: pRoot,
            updatesDigest: uDigest,
            challengeSeed: seed
        });
        fed.updateRoots[post.round] = updateRoots;
        fed.weights[post.round] = weights;

        for (uint256 i = 0; i < updates.length; ++i) {
            SignedUpdate calldata u = updates[i];
            emit UpdateAttested(
                federationId,
                post.round,
                u.participant,
                u.updateRoot,
                u.sampleCount,
                u.weight,
                u.dp,
                u.signature
            );
        }
        emit RoundPosted(
            federationId,
            post.round,
            expected,
            post.modelRoot,
            post.cidCodec,
            post.cidDigest,
            pRoot,
            uDigest,
            seed
        );
    }

    /// @inheritdoc IProvenanceLedger
    function proveRound(
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external onlyRole(AGGREGATOR_ROLE) {
        Federation storage fed = _federation(federationId);
        RoundRecord storage record = fed.rounds[round];
        if (record.status != RoundStatus.Attested) revert ProvenanceRoundNotAttested(federationId, round);

        uint256[] memory inputs = _publicInputs(fed, round);
        // snarkjs verifiers take a fixed-size array whose length is part of the selector.
        bytes4 selector = bytes4(
            keccak256(
                bytes(
                    string.concat(
                        "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[",
                        Strings.toString(inputs.length),
                        "])"
                    )
                )
            )
        );
        (bool ok, bytes memory ret) = fed.config.verifier.staticcall(abi.encodePacked(selector, a, b, c, inputs));
        if (!ok || ret.length != 32) revert ProvenanceVerifierCallFailed(federationId, round);
        if (!abi.decode(ret, (bool))) revert ProvenanceProofRejected(federationId, round);

        record.status = RoundStatus.Proven;
        emit RoundProven(federationId, round, a, b, c);
    }

    /// @inheritdoc IProvenanceLedger
    function publicInputs(uint256 federationId, uint64 round) external view returns (uint256[] memory) {
        Federation storage fed = _federation(federationId);
        if (fed.rounds[round].status < RoundStatus.Attested) revert ProvenanceRoundNotAttested(federationId, round);
        return _publicInputs(fed, round);
    }

    /// @inheritdoc IProvenanceLedger
    function federation(uint256 federationId) external view returns (FederationConfig memory config, uint64 lastRound) {
        Federation storage fed = _federation(federationId);
        return (fed.config, fed.lastRound);
    }

    /// @inheritdoc IProvenanceLedger
    function roundRecord(uint256 federationId, uint64 round) external view returns (RoundRecord memory) {
        return _federation(federationId).rounds[round];
    }

    /// @inheritdoc IProvenanceLedger
    function attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams calldata dp
    ) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                ProtocolHashes.attestationStructHash(federationId, round, baseModelRoot, updateRoot, sampleCount, dp)
            );
    }

    function isEnrolled(uint256 federationId, address participant) external view returns (bool) {
        return _federation(federationId).enrolled[participant];
    }

    /**
     * @dev Public inputs of round `round`'s proof, in the circuit's order:
     * [prevModelRoot, modelRoot, chunkIndex, updateRoot_1..K, weight_1..K] (docs/protocol.md §8).
     */
    function _publicInputs(Federation storage fed, uint64 round) private view returns (uint256[] memory inputs) {
        RoundRecord storage record = fed.rounds[round];
        bytes32[] storage roots = fed.updateRoots[round];
        uint32[] storage weights = fed.weights[round];
        uint256 k = roots.length;
        inputs = new uint256[](3 + 2 * k);
        inputs[0] = uint256(fed.rounds[round - 1].modelRoot);
        inputs[1] = uint256(record.modelRoot);
        uint256 chunks = (uint256(fed.config.modelLength) + CHUNK_SIZE - 1) / CHUNK_SIZE;
        inputs[2] = uint256(record.challengeSeed) % chunks;
        for (uint256 i = 0; i < k; ++i) {
            inputs[3 + i] = uint256(roots[i]);
            inputs[3 + k + i] = weights[i];
        }
    }

    /**
     * @dev Checks every update of a round (strictly ascending enrolled participants, valid EIP-712
     * signatures over the previous round's model root, weights summing to WEIGHT_TOTAL) and
     * returns the columns the record keeps.
     */
    function _checkUpdates(
        Federation storage fed,
        uint256 federationId,
        uint64 round,
        SignedUpdate[] calldata updates
    ) private view returns (address[] memory participants, bytes32[] memory updateRoots, uint32[] memory weights) {
        bytes32 baseModelRoot = fed.rounds[round - 1].modelRoot;
        participants = new address[](updates.length);
        updateRoots = new bytes32[](updates.length);
        weights = new uint32[](updates.length);
        uint256 weightSum;
        for (uint256 i = 0; i < updates.length; ++i) {
            SignedUpdate calldata u = updates[i];
            // Strict ascent makes S_t a set and its encoding canonical.
            if (i > 0 && uint160(u.participant) <= uint160(updates[i - 1].participant)) {
                revert ProvenanceParticipantsNotAscending(federationId, i);
            }
            if (!fed.enrolled[u.participant]) revert ProvenanceNotEnrolled(federationId, u.participant);
            _checkAttestation(federationId, round, baseModelRoot, u);
            participants[i] = u.participant;
            updateRoots[i] = u.updateRoot;
            weights[i] = u.weight;
            weightSum += u.weight;
        }
        if (weightSum != ProtocolHashes.WEIGHT_TOTAL) revert ProvenanceWeightsDoNotSum(federationId, weightSum);
    }

    function _checkAttestation(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        SignedUpdate calldata u
    ) private view {
        bytes32 digest = attestationDigest(federationId, round, baseModelRoot, u.updateRoot, u.sampleCount, u.dp);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, u.signature);
        if (err != ECDSA.RecoverError.NoError || recovered != u.participant) {
            revert ProvenanceInvalidSignature(federationId, u.participant, recovered);
        }
    }

    function _federation(uint256 federationId) private view returns (Federation storage fed) {
        fed = _federations[federationId];
        if (fed.config.verifier == address(0)) revert ProvenanceUnknownFederation(federationId);
    }
}
