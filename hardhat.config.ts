// Hardhat configuration: offline solc from the npm `solc` package, mocha + ethers toolbox, Ignition.
import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

// Hardhat downloads compilers from the internet by default; these machines are offline, so the
// WASM compiler shipped in the `solc` npm package is used instead (its version must match).
const require = createRequire(import.meta.url);
const solcPackage = require("solc/package.json") as { version: string };
const compiler = { version: solcPackage.version, path: require.resolve("solc/soljson.js") };
const settings = { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun", viaIR: true };
const localhostUrl = configVariable("DSAIN_LOCALHOST_URL", { default: "http://127.0.0.1:8545" });

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      // Tests, the demo, Hardhat's network, anvil and Besu with the Cancun milestone.
      default: { ...compiler, settings },
      // `ignition deploy` builds with `production`. Left undefined, Hardhat derives it from
      // `default` with the compiler only, dropping these settings (viaIR: "Stack too deep"), and
      // makes it isolated with tool versions in the build info. Here it is `default` exactly, so a
      // deployment reuses the default build's cache instead of recompiling every file (isolated
      // builds give the same bytecode), and a later default build needs no recompilation either.
      production: { ...compiler, settings, isolated: false, toolVersionsInBuildInfo: false },
      // GoQuorum (and Besu before Shanghai) run the London EVM: no PUSH0, MCOPY or transient
      // storage. `npx hardhat ignition deploy ... --build-profile london` (docs/deploy.md).
      london: { ...compiler, settings: { ...settings, evmVersion: "london" } },
    },
  },
  networks: {
    // An external JSON-RPC chain (`hardhat node`, anvil, Besu); `dsain demo --rpc URL` overrides the URL.
    rpc: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // `npx hardhat node --hostname 127.0.0.1` and anvil (`npx anvil`) on their default port; the
    // Ignition parameters for each are in ignition/parameters/ (docs/deploy.md). A node on another
    // port: DSAIN_LOCALHOST_URL (environment or keystore; test/contracts/deploy-docs.test.ts sets it
    // when 8545 is taken).
    localhost: { type: "http", chainType: "l1", url: localhostUrl },
    anvil: { type: "http", chainType: "l1", url: localhostUrl },
    // A permissioned chain (Besu QBFT, GoQuorum) with free gas: URL and deployer key come from
    // configuration variables (`npx hardhat keystore set DSAIN_RPC_URL`, or the environment), read
    // only when this network is used. Zero gas price everywhere; see docs/deploy.md for the pitfalls.
    permissioned: {
      type: "http",
      chainType: "l1",
      url: configVariable("DSAIN_RPC_URL"),
      accounts: [configVariable("DSAIN_DEPLOYER_KEY")],
      gasPrice: 0,
      ignition: { gasPrice: 0n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, disableFeeBumping: true },
    },
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
