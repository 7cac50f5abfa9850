// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IProvenanceLedgerTypes} from "../../contracts/interfaces/IProvenanceLedger.sol";
import {BatchedRounds} from "../../contracts/libraries/BatchedRounds.sol";
import {ProtocolHashes} from "../../contracts/libraries/ProtocolHashes.sol";
import {vm} from "./Vm.sol";

/// @dev Checks the Solidity twins of the batched path against test/vectors/proof-of-training.json
/// (docs/proof-of-training.md §3-§4, docs/protocol.md §14).
contract BatchedVectorsTest {
    string private constant POT = "test/vectors/proof-of-training.json";

    function _at(string memory array, uint256 i, string memory field) private pure returns (string memory) {
        return string.concat(array, "[", vm.toString(i), "].", field);
    }

    function testRoundScopeMatchesVectors() public view {
        string memory json = vm.readFile(POT);
        require(ProtocolHashes.ROUND_SCOPE_TAG == vm.parseJsonBytes32(json, ".roundScopeTag"), "scope tag differs");
        for (uint256 i = 0; i < 5; ++i) {
            uint256 scope = ProtocolHashes.roundScope(
                vm.parseJsonUint(json, _at(".roundScope", i, "chainId")),
                vm.parseJsonAddress(json, _at(".roundScope", i, "ledger")),
                vm.parseJsonUint(json, _at(".roundScope", i, "federationId")),
                uint64(vm.parseJsonUint(json, _at(".roundScope", i, "round")))
            );
            require(scope == vm.parseJsonUint(json, _at(".roundScope", i, "scope")), "roundScope differs from vector");
        }
    }

    function testChallengeIndicesMatchVectors() public view {
        string memory json = vm.readFile(POT);
        for (uint256 i = 0; i < 6; ++i) {
            uint256 chunks = ProtocolHashes.challengeChunkCount(
                vm.parseJsonUint(json, _at(".challenge", i, "modelLength")),
                vm.parseJsonUint(json, _at(".challenge", i, "level"))
            );
            require(chunks == vm.parseJsonUint(json, _at(".challenge", i, "chunks")), "chunk count differs");
            uint256[] memory idx = ProtocolHashes.challengeIndices(
                vm.parseJsonBytes32(json, _at(".challenge", i, "seed")),
                chunks,
                vm.parseJsonUint(json, _at(".challenge", i, "samples"))
            );
            _requireEqual(idx, vm.parseJsonUintArray(json, _at(".challenge", i, "indices")));
        }
    }

    function testBatchedChallengeSeedMatchesVector() public view {
        string memory json = vm.readFile(POT);
        bytes32 seed = ProtocolHashes.challengeSeed(
            vm.parseJsonBytes32(json, ".ledger.challenge.commitment"),
            vm.parseJsonBytes32(json, ".ledger.challenge.nextBlockHash")
        );
        require(seed == vm.parseJsonBytes32(json, ".ledger.challenge.seed"), "challengeSeed differs");
        uint256 chunks = ProtocolHashes.challengeChunkCount(vm.parseJsonUint(json, ".ledger.challenge.modelLength"), 0);
        require(chunks == vm.parseJsonUint(json, ".ledger.challenge.chunks"), "chunk count differs");
        _requireEqual(
            ProtocolHashes.challengeIndices(seed, chunks, vm.parseJsonUint(json, ".ledger.challenge.samples")),
            vm.parseJsonUintArray(json, ".ledger.challenge.indices")
        );
    }

    function testRegistryZeroHashesMatchVector() public view {
        uint256[] memory zeros = vm.parseJsonUintArray(vm.readFile(POT), ".ledger.zeroHashes");
        require(zeros.length == 33, "vector has Z_0 .. Z_32");
        for (uint256 d = 0; d < zeros.length; ++d) {
            require(BatchedRounds.zeroHash(d) == zeros[d], "zero hash differs from vector");
        }
    }

    function testBatchedRecordMatchesVector() public view {
        string memory json = vm.readFile(POT);
        IProvenanceLedgerTypes.BatchedEntry[] memory entries = new IProvenanceLedgerTypes.BatchedEntry[](2);
        for (uint256 i = 0; i < 2; ++i) {
            entries[i] = IProvenanceLedgerTypes.BatchedEntry({
                participant: vm.parseJsonAddress(json, _at(".ledger.record.entries", i, "participant")),
                updateRoot: vm.parseJsonBytes32(json, _at(".ledger.record.entries", i, "updateRoot")),
                sampleCount: uint64(vm.parseJsonUint(json, _at(".ledger.record.entries", i, "sampleCount"))),
                weight: uint32(vm.parseJsonUint(json, _at(".ledger.record.entries", i, "weight"))),
                epsilonMicros: uint64(vm.parseJsonUint(json, _at(".ledger.record.entries", i, "epsilonMicros"))),
                reputationMicros: uint32(vm.parseJsonUint(json, _at(".ledger.record.entries", i, "reputationMicros")))
            });
        }
        bytes32 entriesDigest = ProtocolHashes.batchedEntriesDigest(entries);
        require(entriesDigest == vm.parseJsonBytes32(json, ".ledger.record.entriesDigest"), "entriesDigest differs");
        require(
            ProtocolHashes.BATCHED_ROUND_RECORD_TYPEHASH == vm.parseJsonBytes32(json, ".ledger.record.typeHash"),
            "typehash differs"
        );
        bytes32 structHash = ProtocolHashes.batchedRoundRecordStructHash(
            vm.parseJsonUint(json, ".ledger.record.message.federationId"),
            uint64(vm.parseJsonUint(json, ".ledger.record.message.round")),
            uint64(vm.parseJsonUint(json, ".ledger.record.message.parentRound")),
            vm.parseJsonBytes32(json, ".ledger.record.message.commitment"),
            vm.parseJsonBytes32(json, ".ledger.record.message.updatesCommitment"),
            entriesDigest
        );
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(vm.parseJsonString(json, ".ledger.record.domain.name"))),
                keccak256(bytes(vm.parseJsonString(json, ".ledger.record.domain.version"))),
                vm.parseJsonUint(json, ".ledger.record.domain.chainId"),
                vm.parseJsonAddress(json, ".ledger.record.domain.verifyingContract")
            )
        );
        require(
            MessageHashUtils.toTypedDataHash(domainSeparator, structHash) ==
                vm.parseJsonBytes32(json, ".ledger.record.digest"),
            "BatchedRoundRecord digest differs"
        );
    }

    function _requireEqual(uint256[] memory a, uint256[] memory b) private pure {
        require(a.length == b.length, "length differs");
        for (uint256 i = 0; i < a.length; ++i) require(a[i] == b[i], "element differs");
    }
}
