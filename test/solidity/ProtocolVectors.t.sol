// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProtocolHashes} from "../../contracts/libraries/ProtocolHashes.sol";
import {vm} from "./Vm.sol";

/// @dev Checks the Solidity twins of the protocol hashes against test/vectors (docs/protocol.md).
contract ProtocolVectorsTest {
    string private constant COMMITMENT = "test/vectors/commitment.json";
    string private constant ATTESTATION = "test/vectors/attestation.json";
    string private constant SELECTION = "test/vectors/selection.json";
    string private constant QUORUM = "test/vectors/quorum.json";
    string private constant RECORD = "test/vectors/record.json";

    function testParticipantsRootMatchesVector() public view {
        string memory json = vm.readFile(COMMITMENT);
        address[] memory sorted = vm.parseJsonAddressArray(json, ".participants.sorted");
        require(
            ProtocolHashes.participantsRoot(sorted) == vm.parseJsonBytes32(json, ".participants.participantsRoot"),
            "participantsRoot differs from vector"
        );
        require(
            ProtocolHashes.participantsRoot(new address[](0)) == vm.parseJsonBytes32(json, ".participants.emptyRoot"),
            "empty participantsRoot differs from vector"
        );
    }

    function testUpdatesDigestMatchesVector() public view {
        string memory json = vm.readFile(COMMITMENT);
        address[] memory sorted = vm.parseJsonAddressArray(json, ".participants.sorted");
        bytes32[] memory roots = vm.parseJsonBytes32Array(json, ".updates.updateRoots");
        uint256[] memory w = vm.parseJsonUintArray(json, ".updates.weights");
        uint32[] memory weights = new uint32[](w.length);
        for (uint256 i = 0; i < w.length; ++i) weights[i] = uint32(w[i]);
        require(
            ProtocolHashes.updatesDigest(sorted, roots, weights) == vm.parseJsonBytes32(json, ".updates.updatesDigest"),
            "updatesDigest differs from vector"
        );
    }

    function testRoundCommitmentMatchesVector() public view {
        string memory json = vm.readFile(COMMITMENT);
        bytes32 h = ProtocolHashes.roundCommitment(
            vm.parseJsonBytes32(json, ".commitment.modelRoot"),
            uint64(vm.parseJsonUint(json, ".commitment.cidCodec")),
            vm.parseJsonBytes32(json, ".commitment.cidDigest"),
            vm.parseJsonBytes32(json, ".commitment.participantsRoot"),
            uint64(vm.parseJsonUint(json, ".commitment.round"))
        );
        require(h == vm.parseJsonBytes32(json, ".commitment.commitment"), "roundCommitment differs from vector");
    }

    function testChallengeSeedMatchesVector() public view {
        string memory json = vm.readFile(COMMITMENT);
        bytes32 seed = ProtocolHashes.challengeSeed(
            vm.parseJsonBytes32(json, ".challenge.commitment"),
            vm.parseJsonBytes32(json, ".challenge.nextBlockHash")
        );
        require(seed == vm.parseJsonBytes32(json, ".challenge.seed"), "challengeSeed differs from vector");
        require(
            uint256(seed) % vm.parseJsonUint(json, ".challenge.chunks") ==
                vm.parseJsonUint(json, ".challenge.chunkIndex"),
            "challenge chunk differs from vector"
        );
    }

    function testAttestationHashesMatchVector() public view {
        string memory json = vm.readFile(ATTESTATION);
        require(ProtocolHashes.ATTESTATION_TYPEHASH == vm.parseJsonBytes32(json, ".typeHash"), "typehash differs");
        bytes32 structHash = ProtocolHashes.attestationStructHash(
            vm.parseJsonUint(json, ".message.federationId"),
            uint64(vm.parseJsonUint(json, ".message.round")),
            vm.parseJsonBytes32(json, ".message.baseModelRoot"),
            vm.parseJsonBytes32(json, ".message.updateRoot"),
            uint64(vm.parseJsonUint(json, ".message.sampleCount")),
            ProtocolHashes.DpParams({
                epsilonMicros: uint64(vm.parseJsonUint(json, ".message.dpEpsilonMicros")),
                deltaPicos: uint64(vm.parseJsonUint(json, ".message.dpDeltaPicos")),
                clipMicros: uint64(vm.parseJsonUint(json, ".message.dpClipMicros")),
                noiseMicros: uint64(vm.parseJsonUint(json, ".message.dpNoiseMicros"))
            })
        );
        require(structHash == vm.parseJsonBytes32(json, ".structHash"), "struct hash differs");
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(vm.parseJsonString(json, ".domain.name"))),
                keccak256(bytes(vm.parseJsonString(json, ".domain.version"))),
                vm.parseJsonUint(json, ".domain.chainId"),
                vm.parseJsonAddress(json, ".domain.verifyingContract")
            )
        );
        require(domainSeparator == vm.parseJsonBytes32(json, ".domainSeparator"), "domain separator differs");
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash));
        require(digest == vm.parseJsonBytes32(json, ".digest"), "digest differs");
        bytes memory sig = vm.parseJsonBytes(json, ".signature");
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        require(
            ecrecover(digest, v, r, s) == vm.parseJsonAddress(json, ".signer"),
            "signature does not recover the signer"
        );
    }

    function testAccountingDigestMatchesVector() public view {
        string memory json = vm.readFile(COMMITMENT);
        address[] memory sorted = vm.parseJsonAddressArray(json, ".participants.sorted");
        uint256[] memory e = vm.parseJsonUintArray(json, ".accounting.epsilonMicros");
        uint256[] memory r = vm.parseJsonUintArray(json, ".accounting.reputationMicros");
        uint64[] memory eps = new uint64[](e.length);
        uint32[] memory reps = new uint32[](r.length);
        for (uint256 i = 0; i < e.length; ++i) eps[i] = uint64(e[i]);
        for (uint256 i = 0; i < r.length; ++i) reps[i] = uint32(r[i]);
        require(
            ProtocolHashes.accountingDigest(sorted, eps, reps) ==
                vm.parseJsonBytes32(json, ".accounting.accountingDigest"),
            "accountingDigest differs from vector"
        );
    }

    /// The ledger's reading of a record's packed entries and its digests over them, against the TS encoder's bytes.
    function testRecordEntriesMatchVector() public view {
        string memory json = vm.readFile(RECORD);
        bytes memory packed = vm.parseJsonBytes(json, ".bytes");
        require(vm.parseJsonUint(json, ".entrySize") == ProtocolHashes.RECORD_ENTRY_SIZE, "entry size differs");
        uint256 n = packed.length / ProtocolHashes.RECORD_ENTRY_SIZE;
        require(n == 4 && n * ProtocolHashes.RECORD_ENTRY_SIZE == packed.length, "vector is not four whole entries");
        for (uint256 i = 0; i < n; ++i) this.checkRecordEntry(packed, i, json);
        (bytes32 pRoot, bytes32 uDigest, bytes32 aDigest) = this.recordDigests(packed);
        require(pRoot == vm.parseJsonBytes32(json, ".participantsRoot"), "participantsRoot differs from vector");
        require(uDigest == vm.parseJsonBytes32(json, ".updatesDigest"), "updatesDigest differs from vector");
        require(aDigest == vm.parseJsonBytes32(json, ".accountingDigest"), "accountingDigest differs from vector");
    }

    /// @dev Entry i of `packed` read by ProtocolHashes has the vector's fields (calldata, as the ledger reads it).
    function checkRecordEntry(bytes calldata packed, uint256 i, string calldata json) external pure {
        string memory at = string.concat(".entries[", vm.toString(i), "]");
        (
            address participant,
            bytes32 updateRoot,
            uint64 sampleCount,
            uint32 weight,
            uint64 epsilon,
            uint32 reputation
        ) = ProtocolHashes.recordEntry(packed, i);
        require(participant == vm.parseJsonAddress(json, string.concat(at, ".participant")), "participant");
        require(updateRoot == vm.parseJsonBytes32(json, string.concat(at, ".updateRoot")), "updateRoot");
        require(sampleCount == vm.parseJsonUint(json, string.concat(at, ".sampleCount")), "sampleCount");
        require(weight == vm.parseJsonUint(json, string.concat(at, ".weight")), "weight");
        require(epsilon == vm.parseJsonUint(json, string.concat(at, ".epsilonMicros")), "epsilonMicros");
        require(reputation == vm.parseJsonUint(json, string.concat(at, ".reputationMicros")), "reputationMicros");
        (bytes32 r, bytes32 s, uint8 v) = ProtocolHashes.recordEntrySignature(packed, i);
        bytes memory signature = vm.parseJsonBytes(json, string.concat(at, ".signature"));
        if (signature.length == 0) {
            require(r == 0 && s == 0 && v == 0, "a direct entry's signature is not zero");
        } else {
            require(keccak256(abi.encodePacked(r, s, v)) == keccak256(signature), "signature");
        }
    }

    /// @dev The three digests of a record's columns, made as the ledger makes them.
    function recordDigests(bytes calldata packed) external pure returns (bytes32, bytes32, bytes32) {
        uint256 n = packed.length / ProtocolHashes.RECORD_ENTRY_SIZE;
        bytes memory updates = ProtocolHashes.columnsBuffer(n);
        bytes memory accounting = ProtocolHashes.columnsBuffer(n);
        for (uint256 i = 0; i < n; ++i) {
            (address p, bytes32 root, , uint32 weight, uint64 epsilon, uint32 reputation) = ProtocolHashes.recordEntry(
                packed,
                i
            );
            ProtocolHashes.setRow(updates, n, i, uint160(p), uint256(root), weight);
            ProtocolHashes.setRow(accounting, n, i, uint160(p), epsilon, reputation);
        }
        return (ProtocolHashes.participantsRoot(updates, n), keccak256(updates), keccak256(accounting));
    }

    /// Random columns of 0 to 40 rows: the row-by-row buffers hash as the arrays' abi.encode does.
    function testColumnsBufferMatchesArrays(bytes32 seed, uint256 n) public pure {
        n = n % 41;
        address[] memory participants = new address[](n);
        bytes32[] memory roots = new bytes32[](n);
        uint32[] memory weights = new uint32[](n);
        uint64[] memory epsilons = new uint64[](n);
        uint32[] memory reputations = new uint32[](n);
        bytes memory updates = ProtocolHashes.columnsBuffer(n);
        bytes memory accounting = ProtocolHashes.columnsBuffer(n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 word = uint256(keccak256(abi.encode(seed, i)));
            participants[i] = address(uint160(word));
            roots[i] = keccak256(abi.encode(word));
            weights[i] = uint32(word >> 160);
            epsilons[i] = uint64(word >> 192);
            reputations[i] = uint32(word >> 224);
            ProtocolHashes.setRow(updates, n, i, uint160(participants[i]), uint256(roots[i]), weights[i]);
            ProtocolHashes.setRow(accounting, n, i, uint160(participants[i]), epsilons[i], reputations[i]);
        }
        require(
            ProtocolHashes.participantsRoot(updates, n) == ProtocolHashes.participantsRoot(participants),
            "participantsRoot of the buffer differs"
        );
        require(
            keccak256(updates) == ProtocolHashes.updatesDigest(participants, roots, weights),
            "updatesDigest of the buffer differs"
        );
        require(
            keccak256(accounting) == ProtocolHashes.accountingDigest(participants, epsilons, reputations),
            "accountingDigest of the buffer differs"
        );
    }

    function testSelectionSeedMatchesVector() public view {
        string memory json = vm.readFile(SELECTION);
        bytes32 seed = ProtocolHashes.selectionSeed(
            vm.parseJsonUint(json, ".seedInput.federationId"),
            uint64(vm.parseJsonUint(json, ".seedInput.round")),
            vm.parseJsonBytes32(json, ".seedInput.parentCommitment"),
            vm.parseJsonUint(json, ".seedInput.prevrandao")
        );
        require(seed == vm.parseJsonBytes32(json, ".seedInput.seed"), "selectionSeed differs from vector");
    }

    function testShuffleMatchesVector() public view {
        string memory json = vm.readFile(SELECTION);
        for (uint256 c = 0; c < 3; ++c) {
            string memory at = string.concat(".cases[", vm.toString(c), "]");
            bytes32 seed = vm.parseJsonBytes32(json, string.concat(at, ".seed"));
            uint256 count = vm.parseJsonUint(json, string.concat(at, ".count"));
            uint256[] memory pivots = ProtocolHashes.shufflePivots(seed, count);
            uint256[] memory expectedPivots = vm.parseJsonUintArray(json, string.concat(at, ".pivots"));
            uint256 rounds = ProtocolHashes.SELECTION_ROUNDS;
            require(expectedPivots.length == rounds, "pivot count differs from vector");
            // Rosters of at most SELECTION_TABLE_ROSTER get the source words after the pivots.
            bool table = count <= ProtocolHashes.SELECTION_TABLE_ROSTER;
            require(pivots.length == (table ? 2 * rounds : rounds), "pivot table length");
            for (uint256 r = 0; r < rounds; ++r) require(pivots[r] == expectedPivots[r], "pivot differs from vector");
            for (uint256 j = rounds; j < pivots.length; ++j) {
                require(
                    pivots[j] == uint256(keccak256(abi.encode(seed, j - rounds, uint256(0)))),
                    "source word differs"
                );
            }
            // The pivots alone (no table): shuffledIndex hashes the source words itself.
            uint256[] memory bare = new uint256[](rounds);
            for (uint256 r = 0; r < rounds; ++r) bare[r] = pivots[r];
            uint256[] memory shuffled = vm.parseJsonUintArray(json, string.concat(at, ".shuffled"));
            for (uint256 i = 0; i < count; ++i) {
                require(
                    ProtocolHashes.shuffledIndex(i, count, seed, pivots) == shuffled[i],
                    "shuffled index differs from vector"
                );
                require(
                    ProtocolHashes.shuffledIndex(i, count, seed, bare) == shuffled[i],
                    "shuffled index without the table differs from vector"
                );
            }
        }
    }

    function testSelectionBoundMatchesVector() public view {
        string memory json = vm.readFile(SELECTION);
        for (uint256 c = 0; c < 12; ++c) {
            string memory at = string.concat(".revokedCases[", vm.toString(c), "]");
            bytes32 seed = vm.parseJsonBytes32(json, string.concat(at, ".seed"));
            uint256 count = vm.parseJsonUint(json, string.concat(at, ".count"));
            uint256 k = vm.parseJsonUint(json, string.concat(at, ".k"));
            uint256[] memory revoked = vm.parseJsonUintArray(json, string.concat(at, ".revoked"));
            uint256[] memory pivots = ProtocolHashes.shufflePivots(seed, count);
            uint256 bound = ProtocolHashes.selectionBound(count, k, seed, pivots, revoked);
            require(
                bound == vm.parseJsonUint(json, string.concat(at, ".bound")),
                "selection bound differs from vector"
            );
            uint256[] memory selected = vm.parseJsonUintArray(json, string.concat(at, ".selectedIndices"));
            uint256 n;
            for (uint256 i = 0; i < count; ++i) {
                bool out;
                for (uint256 j = 0; j < revoked.length; ++j) out = out || revoked[j] == i;
                if (out || (count > bound && ProtocolHashes.shuffledIndex(i, count, seed, pivots) >= bound)) continue;
                require(n < selected.length && selected[n] == i, "S_t with revocations differs from vector");
                ++n;
            }
            require(n == selected.length, "S_t with revocations is short of the vector");
        }
    }

    function testShuffleTableMatchesHashingAtItsLimit() public pure {
        // Rosters of 255 and 256 take the table (the last positions of a block), 257 does not.
        bytes32 seed = keccak256("dsain selection table limit");
        uint256 limit = ProtocolHashes.SELECTION_TABLE_ROSTER;
        uint256 rounds = ProtocolHashes.SELECTION_ROUNDS;
        for (uint256 count = limit - 1; count <= limit + 1; ++count) {
            uint256[] memory pivots = ProtocolHashes.shufflePivots(seed, count);
            require(pivots.length == (count <= limit ? 2 * rounds : rounds), "pivot table length");
            uint256[] memory bare = new uint256[](rounds);
            for (uint256 r = 0; r < rounds; ++r) bare[r] = pivots[r];
            bool[] memory hit = new bool[](count);
            for (uint256 i = 0; i < count; ++i) {
                uint256 position = ProtocolHashes.shuffledIndex(i, count, seed, pivots);
                require(position == ProtocolHashes.shuffledIndex(i, count, seed, bare), "table and hashing differ");
                require(!hit[position], "not a permutation");
                hit[position] = true;
            }
        }
    }

    function testSelectionMaskMatchesShuffledIndicesAtTheEdges() public pure {
        uint16[10] memory counts = [uint16(1), 2, 3, 5, 64, 127, 128, 129, 255, 256];
        for (uint256 c = 0; c < counts.length; ++c) {
            uint256 count = counts[c];
            bytes32 seed = keccak256(abi.encode("dsain selection mask", count));
            uint256[4] memory ks = [uint256(1), (count + 1) / 2, count > 1 ? count - 1 : 1, count];
            for (uint256 j = 0; j < ks.length; ++j) _checkMask(seed, count, ks[j]);
        }
    }

    /// Random seeds, roster sizes 1..256 and K 1..size: the mask is S_t index by index.
    function testSelectionMaskMatchesShuffledIndices(bytes32 seed, uint256 count, uint256 k) public pure {
        count = 1 + (count % ProtocolHashes.SELECTION_TABLE_ROSTER);
        k = 1 + (k % count);
        _checkMask(seed, count, k);
    }

    function _checkMask(bytes32 seed, uint256 count, uint256 k) private pure {
        uint256[] memory pivots = ProtocolHashes.shufflePivots(seed, count);
        uint256 mask = ProtocolHashes.selectionMask(pivots, count, k);
        uint256 selected;
        for (uint256 i = 0; i < count; ++i) {
            bool inMask = (mask >> i) & 1 == 1;
            require(
                inMask == (ProtocolHashes.shuffledIndex(i, count, seed, pivots) < k),
                "mask differs from the shuffle"
            );
            if (inMask) ++selected;
        }
        require(selected == k, "mask does not hold K indices");
        require(count == 256 || mask >> count == 0, "mask has bits at or above the roster size");
    }

    function testRoundRecordHashesMatchVector() public view {
        string memory json = vm.readFile(QUORUM);
        require(
            ProtocolHashes.ROUND_RECORD_TYPEHASH == vm.parseJsonBytes32(json, ".roundRecord.typeHash"),
            "round record typehash differs"
        );
        bytes32 structHash = ProtocolHashes.roundRecordStructHash(
            vm.parseJsonUint(json, ".roundRecord.message.federationId"),
            uint64(vm.parseJsonUint(json, ".roundRecord.message.round")),
            uint64(vm.parseJsonUint(json, ".roundRecord.message.parentRound")),
            vm.parseJsonBytes32(json, ".roundRecord.message.commitment"),
            vm.parseJsonBytes32(json, ".roundRecord.message.updatesDigest"),
            vm.parseJsonBytes32(json, ".roundRecord.message.accountingDigest")
        );
        require(structHash == vm.parseJsonBytes32(json, ".roundRecord.structHash"), "round record struct hash differs");
        _checkSigned(json, ".roundRecord", structHash);
    }

    function testRollbackHashesMatchVector() public view {
        string memory json = vm.readFile(QUORUM);
        require(
            ProtocolHashes.ROLLBACK_TYPEHASH == vm.parseJsonBytes32(json, ".rollback.typeHash"),
            "rollback typehash differs"
        );
        bytes32 reasonHash = keccak256(bytes(vm.parseJsonString(json, ".rollback.reason")));
        require(reasonHash == vm.parseJsonBytes32(json, ".rollback.message.reasonHash"), "reason hash differs");
        bytes32 structHash = ProtocolHashes.rollbackStructHash(
            vm.parseJsonUint(json, ".rollback.message.federationId"),
            uint64(vm.parseJsonUint(json, ".rollback.message.toRound")),
            uint64(vm.parseJsonUint(json, ".rollback.message.head")),
            reasonHash
        );
        require(structHash == vm.parseJsonBytes32(json, ".rollback.structHash"), "rollback struct hash differs");
        _checkSigned(json, ".rollback", structHash);
    }

    /// @dev Domain separator, EIP-712 digest and signature of one typed message of quorum.json.
    function _checkSigned(string memory json, string memory at, bytes32 structHash) private pure {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(vm.parseJsonString(json, ".domain.name"))),
                keccak256(bytes(vm.parseJsonString(json, ".domain.version"))),
                vm.parseJsonUint(json, ".domain.chainId"),
                vm.parseJsonAddress(json, ".domain.verifyingContract")
            )
        );
        require(domainSeparator == vm.parseJsonBytes32(json, ".domainSeparator"), "domain separator differs");
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash));
        require(digest == vm.parseJsonBytes32(json, string.concat(at, ".digest")), "digest differs");
        bytes memory sig = vm.parseJsonBytes(json, string.concat(at, ".signature"));
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
        require(
            ecrecover(digest, v, r, s) == vm.parseJsonAddress(json, ".signer"),
            "signature does not recover the signer"
        );
    }
}
