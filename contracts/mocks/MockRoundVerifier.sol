// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title MockRoundVerifier
 * @dev Test double of a snarkjs Groth16 verifier: answers any `verifyProof(...)` selector, and in
 * `Expected` mode accepts only the public inputs whose keccak256 was set, so ledger tests can
 * prove that the contract builds the inputs itself. Never deploy outside tests.
 */
contract MockRoundVerifier {
    /// @dev How the next verification answers.
    enum Mode {
        Accept,
        Reject,
        Revert,
        Expected
    }

    /// @dev The current answer mode.
    Mode public mode;

    /// @dev keccak256 of the public inputs (as uint256 words) that `Expected` mode accepts.
    bytes32 public expectedInputsHash;

    /// @dev The verifier was set to revert.
    error MockRoundVerifierReverted();

    /// @dev Sets the answer mode.
    function setMode(Mode newMode) external {
        mode = newMode;
    }

    /// @dev Switches to `Expected` mode for the inputs hashing to `inputsHash`.
    function expectInputs(bytes32 inputsHash) external {
        mode = Mode.Expected;
        expectedInputsHash = inputsHash;
    }

    /**
     * @dev Any verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n]) call: selector, then
     * 8 words of proof, then the n public inputs.
     */
    // A verifier's entry point has one selector per input count, hence a fallback.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata data) external returns (bytes memory) {
        Mode m = mode;
        if (m == Mode.Revert) revert MockRoundVerifierReverted();
        if (m == Mode.Reject) return abi.encode(false);
        if (m == Mode.Expected) return abi.encode(keccak256(data[4 + 8 * 32:]) == expectedInputsHash);
        return abi.encode(true);
    }
}
