// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProtocolHashes} from "../libraries/ProtocolHashes.sol";

/**
 * @title IProvenanceLedger
 * @dev The on-chain record of federated-learning rounds: commitments, participant attestations
 * and Proof-of-Training verification (docs/protocol.md). Custom errors follow EIP-6093 style.
 */
interface IProvenanceLedger {
    enum RoundStatus {
        None,
        Genesis,
        Attested,
        Proven
    }

    /// @dev Parameters fixed when a federation is created.
    struct FederationConfig {
        string modelId;
        uint32 modelLength;
        uint16 participantsPerRound;
        address verifier;
        bytes32 verifyingKeyHash;
        bytes32 genesisModelRoot;
        uint64 genesisCidCodec;
        bytes32 genesisCidDigest;
    }

    /// @dev One participant's signed update, as the aggregator relays it.
    struct SignedUpdate {
        address participant;
        uint64 sampleCount;
        uint32 weight;
        bytes32 updateRoot;
        ProtocolHashes.DpParams dp;
        bytes signature;
    }

    /// @dev The aggregator's claim for round t.
    struct RoundPost {
        uint64 round;
        uint64 cidCodec;
        bytes32 modelRoot;
        bytes32 cidDigest;
        bytes32 commitment;
    }

    struct RoundRecord {
        RoundStatus status;
        uint64 postedBlock;
        uint64 cidCodec;
        bytes32 commitment;
        bytes32 modelRoot;
        bytes32 cidDigest;
        bytes32 participantsRoot;
        bytes32 updatesDigest;
        bytes32 challengeSeed;
    }

    event FederationCreated(
        uint256 indexed federationId,
        address indexed admin,
        FederationConfig config,
        bytes32 genesisCommitment
    );
    event ParticipantEnrolled(uint256 indexed federationId, address indexed participant);
    event UpdateAttested(
        uint256 indexed federationId,
        uint64 indexed round,
        address indexed participant,
        bytes32 updateRoot,
        uint64 sampleCount,
        uint32 weight,
        ProtocolHashes.DpParams dp,
        bytes signature
    );
    event RoundPosted(
        uint256 indexed federationId,
        uint64 indexed round,
        bytes32 commitment,
        bytes32 modelRoot,
        uint64 cidCodec,
        bytes32 cidDigest,
        bytes32 participantsRoot,
        bytes32 updatesDigest,
        bytes32 challengeSeed
    );
    event RoundProven(uint256 indexed federationId, uint64 indexed round, uint256[2] a, uint256[2][2] b, uint256[2] c);

    error ProvenanceZeroAddress(string field);
    error ProvenanceInvalidConfig(string field);
    error ProvenanceUnknownFederation(uint256 federationId);
    error ProvenanceAlreadyEnrolled(uint256 federationId, address participant);
    error ProvenanceNotEnrolled(uint256 federationId, address participant);
    error ProvenanceRoundOutOfOrder(uint256 federationId, uint64 expected, uint64 given);
    error ProvenanceWrongUpdateCount(uint256 federationId, uint256 expected, uint256 given);
    error ProvenanceParticipantsNotAscending(uint256 federationId, uint256 index);
    error ProvenanceWeightsDoNotSum(uint256 federationId, uint256 sum);
    error ProvenanceInvalidSignature(uint256 federationId, address participant, address recovered);
    error ProvenanceCommitmentMismatch(uint256 federationId, uint64 round, bytes32 expected, bytes32 given);
    error ProvenanceRoundNotAttested(uint256 federationId, uint64 round);
    error ProvenanceVerifierCallFailed(uint256 federationId, uint64 round);
    error ProvenanceProofRejected(uint256 federationId, uint64 round);

    function createFederation(FederationConfig calldata config) external returns (uint256 federationId);

    function enrol(uint256 federationId, address participant) external;

    function postRound(uint256 federationId, RoundPost calldata post, SignedUpdate[] calldata updates) external;

    function proveRound(
        uint256 federationId,
        uint64 round,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external;

    function publicInputs(uint256 federationId, uint64 round) external view returns (uint256[] memory);

    function federation(uint256 federationId) external view returns (FederationConfig memory config, uint64 lastRound);

    function roundRecord(uint256 federationId, uint64 round) external view returns (RoundRecord memory);

    function attestationDigest(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        bytes32 updateRoot,
        uint64 sampleCount,
        ProtocolHashes.DpParams calldata dp
    ) external view returns (bytes32);
}
