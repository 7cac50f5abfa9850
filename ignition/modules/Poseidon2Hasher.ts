// Ignition module: circomlibjs' Poseidon(2) hasher, deployed from its generated, committed bytecode
// (contracts/hashers/Poseidon2Hasher.json, scripts/gen-poseidon-hasher.ts). A batched federation
// names its address in BatchedProofConfig.poseidon2 (docs/protocol.md §14); one serves every federation.
import { createRequire } from "node:module";
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

const artifact = createRequire(import.meta.url)("../../contracts/hashers/Poseidon2Hasher.json");

export default buildModule("Poseidon2Hasher", (m) => {
  const hasher = m.contract("Poseidon2Hasher", artifact);
  return { hasher };
});
