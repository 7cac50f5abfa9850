// Hardhat configuration: offline solc from the npm `solc` package, mocha + ethers toolbox, Ignition.
import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// Hardhat downloads compilers from the internet by default; these machines are offline, so the
// WASM compiler shipped in the `solc` npm package is used instead (its version must match).
const require = createRequire(import.meta.url);
const solcPackage = require("solc/package.json") as { version: string };

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: solcPackage.version,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: true,
    },
  },
  networks: {
    // An external JSON-RPC chain (`hardhat node`, anvil, Besu); `dsain demo --rpc URL` overrides the URL.
    rpc: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
  },
  paths: {
    tests: {
      mocha: "test",
      solidity: "test/solidity",
    },
  },
  test: {
    mocha: { timeout: 600_000 },
    solidity: {
      fsPermissions: { readDirectory: ["./test/vectors"] },
    },
  },
});
