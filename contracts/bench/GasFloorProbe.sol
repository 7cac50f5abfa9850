// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProtocolHashes} from "../libraries/ProtocolHashes.sol";

/**
 * @title GasFloorProbe
 * @notice Benchmark only (scripts/gen-gas-table.ts, docs/gas.md "The floor"); never part of a deployment.
 * It posts a batched round doing only the part of the ledger's work that each participant makes
 * unavoidable, in the cheapest layout known, so that its gas, less its loop's own code (which
 * docs/gas.md traces and takes away), bounds from below any ledger that records the same evidence:
 * per participant, its entry in calldata and once in an event, the recovery of its EIP-712
 * attestation (the ledger's `Attestation` type and domain, low-s enforced) and its cumulative epsilon
 * and reputation rewritten in storage; per round, the roster read from contract code, two committee
 * signatures over the record and one new storage word.
 * @dev What the ledger must also do and this probe leaves out, so that the bound stays a bound: the
 * selection check, revocation and duplicate checks, the round commitment and the digests over the
 * record's columns, the round's order and deadline, the next round's opening, the weights' sum.
 *
 * Participants' state is packed by roster index, `PARTICIPANTS_PER_WORD` lanes of 2·{HALF_LANE_BITS} bits to a
 * storage word (spent epsilon in a lane's low half, reputation in its high half), so that participants who
 * share a word share its cold read and its rewrite. The roster is the code of a contract (a STOP
 * byte, then 20 bytes per address): one account access reads all of it, with no storage slot per
 * participant.
 */
contract GasFloorProbe {
    /// @notice A packed entry: roster index (2 bytes), update root (32), sample count (8), weight (4),
    /// epsilon debit (8), reputation (4), then the attestation's r, s (32 each) and v (1).
    uint256 public constant ENTRY_SIZE = 123;

    /// @notice The longest roster whose code fits the 24,576-byte limit (EIP-170): a STOP byte and 20 bytes each.
    uint256 public constant MAX_ROSTER = 1228;

    /// @dev EIP-712 type the probe's committee signs: the record word and a hash of the entries.
    bytes32 private constant _PROBE_ROUND_TYPEHASH = keccak256(
        "ProbeRound(uint64 round,bytes32 record,bytes32 entriesDigest)"
    );

    /// @dev s of a valid low-s secp256k1 signature is at most n/2 (EIP-2).
    uint256 private constant _HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice How many participants' states share one storage word: 1 to 8.
    uint256 public immutable PARTICIPANTS_PER_WORD;

    /// @notice Bits of each half of a participant's lane (spent epsilon, then reputation): 128 / PARTICIPANTS_PER_WORD.
    uint256 public immutable HALF_LANE_BITS;

    /// @notice The EIP-712 domain separator: name "DSAIN", version "1", this chain and this contract.
    bytes32 public immutable DOMAIN_SEPARATOR;

    /// @dev The committee of three; any two of them sign a round.
    address private immutable _AGGREGATOR_0;
    address private immutable _AGGREGATOR_1;
    address private immutable _AGGREGATOR_2;

    /// @dev The roster's code address in the low 160 bits, its size above them.
    uint256 private _roster;

    /// @dev Participants' states, `PARTICIPANTS_PER_WORD` lanes to a word, by roster index.
    mapping(uint256 word => uint256 lanes) private _lanes;

    /// @notice The word posted for each round.
    mapping(uint256 round => bytes32 record) public records;

    /// @notice The lanes layout is not 1 to 8 participants per word.
    error ProbeUnsupportedLayout(uint256 participantsPerWord);
    /// @notice `entries` is not a whole number of {ENTRY_SIZE}-byte entries.
    error ProbeMalformedEntries(uint256 length);
    /// @notice Entry `index` does not name a roster index above the previous entry's.
    error ProbeNotAscending(uint256 index);
    /// @notice Entry `index` names a roster index at or above the roster's size.
    error ProbeUnknownParticipant(uint256 index);
    /// @notice Entry `index`'s signature does not recover its participant (`recovered` is zero when it recovers nothing).
    error ProbeInvalidSignature(uint256 index, address recovered);
    /// @notice Entry `index`'s debit takes its participant beyond `budget`.
    error ProbeBudgetExceeded(uint256 index, uint256 budget);
    /// @notice A value does not fit half a lane (`budget` or a reputation).
    error ProbeValueTooWide(uint256 value);
    /// @notice Round `round` already has a record.
    error ProbeRoundTaken(uint256 round);
    /// @notice Fewer than two distinct committee signatures over the round (`signer` is the first bad one, or zero).
    error ProbeQuorumNotReached(address signer);
    /// @notice The roster is empty or longer than {MAX_ROSTER}.
    error ProbeBadRoster(uint256 size);

    /// @notice The roster was replaced by `size` participants whose addresses are the code of `pointer`.
    event RosterSet(address pointer, uint256 size);
    /// @notice Round `round` was posted with `record` and the packed entries it checked (`updates`, named as the ledger's RoundProposed field).
    event RoundPosted(uint256 indexed round, bytes32 record, bytes updates);

    /**
     * @notice A probe whose states are packed `perWord` to a storage word, with a committee of three.
     * @param perWord Participants per storage word: 1 to 8.
     * @param committee The three aggregators; two of them sign each round.
     */
    constructor(uint256 perWord, address[3] memory committee) {
        if (perWord == 0 || perWord > 8) revert ProbeUnsupportedLayout(perWord);
        PARTICIPANTS_PER_WORD = perWord;
        HALF_LANE_BITS = 128 / perWord;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("DSAIN"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
        _AGGREGATOR_0 = committee[0];
        _AGGREGATOR_1 = committee[1];
        _AGGREGATOR_2 = committee[2];
    }

    /**
     * @notice Replaces the roster by `accounts` (stored as contract code) and gives every lane of its
     * words a non-zero state, as the ledger's participant words hold their roster id from enrolment.
     * @param accounts The roster, in index order.
     */
    function setRoster(address[] calldata accounts) external {
        uint256 size = accounts.length;
        if (size == 0 || size > MAX_ROSTER) revert ProbeBadRoster(size);
        // Creation code: a 10-byte header that returns what follows it, a STOP byte, the addresses.
        uint256 length = 1 + 20 * size;
        bytes memory creation = new bytes(10 + length);
        address pointer;
        assembly ("memory-safe") {
            let code := add(creation, 0x20)
            // PUSH2 length, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
            mstore(code, or(shl(248, 0x61), or(shl(232, length), shl(176, 0x80600a3d393df3))))
            for {
                let i := 0
            } lt(i, size) {
                i := add(i, 1)
            } {
                mstore(add(code, add(11, mul(i, 20))), shl(96, calldataload(add(accounts.offset, mul(i, 32)))))
            }
            pointer := create(0, code, mload(creation))
        }
        if (pointer == address(0)) revert ProbeBadRoster(size);
        _roster = (size << 160) | uint160(pointer);
        uint256 perWord = PARTICIPANTS_PER_WORD;
        uint256 half = HALF_LANE_BITS;
        uint256 initial;
        for (uint256 i = 0; i < perWord; ++i) initial |= 1 << ((2 * i + 1) * half); // reputation 1 in each lane
        for (uint256 w = 0; w < (size + perWord - 1) / perWord; ++w) {
            if (_lanes[w] == 0) _lanes[w] = initial;
        }
        emit RosterSet(pointer, size);
    }

    /**
     * @notice Posts round `round`: checks every entry's attestation and debit, rewrites the states,
     * checks two committee signatures over `record` and the entries, stores `record`, emits the entries.
     * @param federationId Federation of the attestations.
     * @param round Round of the attestations and of the record.
     * @param baseModelRoot Model root the updates were trained from.
     * @param dp The DP parameters the attestations name: epsilon, delta, clip, noise (fixed point).
     * @param budget Per-participant epsilon budget, in the debits' unit.
     * @param record The round's record word.
     * @param entries Packed entries ({ENTRY_SIZE} bytes each), roster indices strictly ascending.
     * @param quorum Two or three 65-byte committee signatures, concatenated.
     */
    function post(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        uint64[4] calldata dp,
        uint256 budget,
        bytes32 record,
        bytes calldata entries,
        bytes calldata quorum
    ) external {
        uint256 n = entries.length / ENTRY_SIZE;
        if (n * ENTRY_SIZE != entries.length) revert ProbeMalformedEntries(entries.length);
        uint256 half = HALF_LANE_BITS;
        if (budget >> half != 0) revert ProbeValueTooWide(budget);
        if (records[round] != 0) revert ProbeRoundTaken(round);
        (uint256 buffer, uint256 rosterSize) = _workspace(federationId, round, baseModelRoot, dp);
        uint256 failure = _checkEntries(buffer, rosterSize, budget, entries);
        if (failure != 0) _refuse(failure, budget);
        _checkQuorum(round, record, entries, quorum);
        records[round] = record;
        emit RoundPosted(round, record, entries);
    }

    /// @notice The roster's size and the address whose code holds it.
    function roster() external view returns (address pointer, uint256 size) {
        return (address(uint160(_roster)), _roster >> 160);
    }

    /// @notice Spent epsilon and reputation of roster index `index`.
    function stateOf(uint256 index) external view returns (uint256 spent, uint256 reputation) {
        uint256 perWord = PARTICIPANTS_PER_WORD;
        uint256 half = HALF_LANE_BITS;
        uint256 word = _lanes[index / perWord] >> ((index % perWord) * 2 * half);
        uint256 mask = (1 << half) - 1;
        return (word & mask, (word >> half) & mask);
    }

    /**
     * @dev Lays out the loop's memory in one new buffer: at 0x000 the encoded `Attestation` struct
     * (ProtocolHashes.ATTESTATION_TYPEHASH; ten words, the update root and sample count at 0x80 and 0xa0
     * left to fill), at 0x140 the 66-byte EIP-712 digest input (0x1901 ‖ domain separator ‖ struct hash at
     * 0x162), at 0x1a0 the recovery's input (digest, v, r, s), and from 0x220 the roster's addresses,
     * 20 bytes each, copied from its code.
     */
    function _workspace(
        uint256 federationId,
        uint64 round,
        bytes32 baseModelRoot,
        uint64[4] calldata dp
    ) private view returns (uint256 buffer, uint256 rosterSize) {
        uint256 rosterWord = _roster;
        bytes32 domain = DOMAIN_SEPARATOR;
        bytes32 typeHash = ProtocolHashes.ATTESTATION_TYPEHASH;
        rosterSize = rosterWord >> 160;
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(buffer, typeHash)
            mstore(add(buffer, 0x20), federationId)
            mstore(add(buffer, 0x40), round)
            mstore(add(buffer, 0x60), baseModelRoot)
            mstore(add(buffer, 0x80), 0)
            mstore(add(buffer, 0xa0), 0)
            calldatacopy(add(buffer, 0xc0), dp, 0x80)
            mstore(add(buffer, 0x140), 0x1901000000000000000000000000000000000000000000000000000000000000)
            mstore(add(buffer, 0x142), domain)
            let rosterBytes := mul(rosterSize, 20)
            extcodecopy(and(rosterWord, 0xffffffffffffffffffffffffffffffffffffffff), add(buffer, 0x220), 1, rosterBytes)
            mstore(0x40, add(add(buffer, 0x220), and(add(rosterBytes, 31), not(31))))
        }
    }

    /**
     * @dev The per-participant loop, in assembly so that nothing but the work itself is paid: read
     * the entry, bind its index to the roster, recover its attestation, debit and rewrite its lane.
     * A storage word is read when the first entry in it comes and written when the last has passed.
     * A failed check stops the loop and returns, packed: its code (low byte, see {_refuse}), the
     * entry's position (bits 8 to 95) and a value (from bit 96).
     */
    function _checkEntries(
        uint256 buffer,
        uint256 rosterSize,
        uint256 budget,
        bytes calldata entries
    ) private returns (uint256 failure) {
        uint256 perWord = PARTICIPANTS_PER_WORD;
        uint256 half = HALF_LANE_BITS;
        assembly ("memory-safe") {
            let wordIndex := not(0)
            let word := 0
            let next := 0
            for {
                let at := entries.offset
            } lt(at, add(entries.offset, entries.length)) {
                at := add(at, 123)
            } {
                let index := shr(240, calldataload(at))
                // 1: not above the previous index; 2: outside the roster.
                if or(lt(index, next), iszero(lt(index, rosterSize))) {
                    failure := or(add(1, iszero(lt(index, next))), shl(8, div(sub(at, entries.offset), 123)))
                    break
                }
                next := add(index, 1)
                let fields := calldataload(add(at, 34))
                mstore(add(buffer, 0x80), calldataload(add(at, 2)))
                mstore(add(buffer, 0xa0), shr(192, fields))
                mstore(add(buffer, 0x162), keccak256(buffer, 0x140))
                mstore(add(buffer, 0x1a0), keccak256(add(buffer, 0x140), 66))
                mstore(add(buffer, 0x1c0), shr(248, calldataload(add(at, 122))))
                mstore(add(buffer, 0x1e0), calldataload(add(at, 58)))
                let s := calldataload(add(at, 90))
                mstore(add(buffer, 0x200), s)
                mstore(0x00, 0)
                pop(staticcall(gas(), 1, add(buffer, 0x1a0), 0x80, 0x00, 0x20))
                let recovered := mload(0x00)
                // 3: a high s, or a signature that does not recover the roster's address at the index.
                let account := shr(96, mload(add(add(buffer, 0x220), mul(index, 20))))
                if or(gt(s, _HALF_ORDER), or(iszero(recovered), xor(recovered, account))) {
                    recovered := mul(recovered, iszero(gt(s, _HALF_ORDER)))
                    failure := or(or(3, shl(8, div(sub(at, entries.offset), 123))), shl(96, recovered))
                    break
                }
                let w := div(index, perWord)
                if xor(w, wordIndex) {
                    if iszero(eq(wordIndex, not(0))) {
                        mstore(0x00, wordIndex)
                        mstore(0x20, _lanes.slot)
                        sstore(keccak256(0x00, 0x40), word)
                    }
                    wordIndex := w
                    mstore(0x00, w)
                    mstore(0x20, _lanes.slot)
                    word := sload(keccak256(0x00, 0x40))
                }
                let shift := mul(mod(index, perWord), shl(1, half))
                let spent := add(and(shr(shift, word), sub(shl(half, 1), 1)), and(shr(96, fields), 0xffffffffffffffff))
                let reputation := and(shr(64, fields), 0xffffffff)
                // 4: over budget; 5: a reputation wider than half a lane.
                if or(gt(spent, budget), gt(reputation, sub(shl(half, 1), 1))) {
                    failure := or(add(4, iszero(gt(spent, budget))), shl(8, div(sub(at, entries.offset), 123)))
                    failure := or(failure, shl(96, reputation))
                    break
                }
                let lane := sub(shl(shl(1, half), 1), 1)
                word := or(and(word, not(shl(shift, lane))), shl(shift, or(spent, shl(half, reputation))))
            }
            if iszero(or(failure, eq(wordIndex, not(0)))) {
                mstore(0x00, wordIndex)
                mstore(0x20, _lanes.slot)
                sstore(keccak256(0x00, 0x40), word)
            }
        }
    }

    /// @dev Raises the error of {_checkEntries}' packed `failure`.
    function _refuse(uint256 failure, uint256 budget) private pure {
        uint256 code = failure & 0xff;
        uint256 at = uint88(failure >> 8);
        uint256 value = failure >> 96;
        if (code == 1) revert ProbeNotAscending(at);
        if (code == 2) revert ProbeUnknownParticipant(at);
        if (code == 3) revert ProbeInvalidSignature(at, address(uint160(value)));
        if (code == 4) revert ProbeBudgetExceeded(at, budget);
        revert ProbeValueTooWide(value);
    }

    /// @dev Requires two distinct committee signatures over (round, record, keccak256(entries)).
    function _checkQuorum(uint64 round, bytes32 record, bytes calldata entries, bytes calldata quorum) private view {
        bytes32 structHash = keccak256(abi.encode(_PROBE_ROUND_TYPEHASH, round, record, keccak256(entries)));
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash));
        uint256 count = quorum.length / 65;
        if (count < 2 || count * 65 != quorum.length) revert ProbeQuorumNotReached(address(0));
        uint256 seen;
        for (uint256 j = 0; j < count; ++j) {
            bytes32 r = bytes32(quorum[j * 65:j * 65 + 32]);
            bytes32 s = bytes32(quorum[j * 65 + 32:j * 65 + 64]);
            uint8 v = uint8(quorum[j * 65 + 64]);
            address signer = uint256(s) > _HALF_ORDER ? address(0) : ecrecover(digest, v, r, s);
            uint256 bit;
            if (signer == address(0)) bit = 0;
            else if (signer == _AGGREGATOR_0) bit = 1;
            else if (signer == _AGGREGATOR_1) bit = 2;
            else if (signer == _AGGREGATOR_2) bit = 4;
            if (bit == 0 || seen & bit != 0) revert ProbeQuorumNotReached(signer);
            seen |= bit;
        }
    }
}
