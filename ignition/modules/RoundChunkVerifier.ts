// Ignition module: the snarkjs-generated Groth16 verifier of the demo circuit instance RoundChunk(4, 1).
// Deployed on its own: a federation names its verifier (and the verifying-key hash) when it is created.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export default buildModule("RoundChunkVerifier", (m) => {
  const verifier = m.contract("RoundChunkVerifier_4_1");
  return { verifier };
});
