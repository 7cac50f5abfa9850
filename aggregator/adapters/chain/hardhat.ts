// Starts Hardhat programmatically (config from the project root, lazily imported): compiles the
// contracts, opens a network connection (the in-process EDR chain, or a JSON-RPC URL) and deploys
// the Ignition module.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DsainError, ErrorCode } from "../../errors.js";
import { PROJECT_ROOT } from "../../paths.js";

export interface ChainSession {
  /** The Hardhat runtime (typed loosely: plugins extend it at run time). */
  hre: any;
  connection: any;
  ethers: any;
  close(): Promise<void>;
}

export interface OpenChainOptions {
  rpcUrl?: string;
  quiet?: boolean;
  network?: string;
  accounts?: string[];
  /** A build profile of hardhat.config.ts other than `default` (e.g. `london`, for GoQuorum). */
  buildProfile?: string;
  /** Artifacts and build cache in this directory instead of the project's (a second build beside it). */
  buildDir?: string;
}

/**
 * `rpcUrl` undefined: Hardhat's in-process network; otherwise an HTTP JSON-RPC endpoint reached
 * through the config's `network` entry (default `rpc`), its URL and, when given, its accounts
 * (private keys) overridden. The contracts are built with `buildProfile` (default: `default`).
 */
export async function openChain(options: OpenChainOptions = {}): Promise<ChainSession> {
  const { createHardhatRuntimeEnvironment } = await import("hardhat/hre");
  const configPath = path.join(PROJECT_ROOT, "hardhat.config.ts");
  const projectConfig = (await import(pathToFileURL(configPath).href)).default;
  const userConfig =
    options.buildDir === undefined
      ? projectConfig
      : {
          ...projectConfig,
          paths: {
            ...projectConfig.paths,
            artifacts: path.join(options.buildDir, "artifacts"),
            cache: path.join(options.buildDir, "cache"),
          },
        };
  const globalOptions = { config: configPath, ...(options.buildProfile === undefined ? {} : { buildProfile: options.buildProfile }) };
  const hre: any = await createHardhatRuntimeEnvironment(userConfig, globalOptions, PROJECT_ROOT);
  if (options.buildProfile !== undefined && !(options.buildProfile in hre.config.solidity.profiles)) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `unknown build profile "${options.buildProfile}" (hardhat.config.ts has ${Object.keys(hre.config.solidity.profiles).join(", ")})`,
    );
  }
  await hre.tasks.getTask("build").run({ quiet: options.quiet ?? true });
  let connection: any;
  try {
    connection =
      options.rpcUrl === undefined
        ? await hre.network.create()
        : await hre.network.create({
            network: options.network ?? "rpc",
            override: { url: options.rpcUrl, ...(options.accounts === undefined ? {} : { accounts: options.accounts }) },
          });
  } catch (e) {
    throw new DsainError(ErrorCode.CHAIN_UNAVAILABLE, `cannot connect to the chain${options.rpcUrl ? ` at ${options.rpcUrl}` : ""}`, {
      cause: e,
    });
  }
  return {
    hre,
    connection,
    ethers: connection.ethers,
    close: async () => {
      await connection.close?.();
    },
  };
}
