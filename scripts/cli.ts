// The `dsain` command line; each subcommand lives in scripts/commands/<name>.ts and registers itself.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { DsainError, USAGE_ERROR_CODES, ensureError } from "../aggregator/errors.js";
import { PROJECT_ROOT } from "../aggregator/paths.js";
import { register as audit } from "./commands/audit.js";
import { register as conformance } from "./commands/conformance.js";
import { register as demo } from "./commands/demo.js";
import { register as devnet } from "./commands/devnet.js";
import { register as nodes } from "./commands/node.js";
import { register as privacy } from "./commands/privacy.js";
import { register as simulate } from "./commands/simulate.js";
import { register as zk } from "./commands/zk.js";

const program = new Command()
  .name("dsain")
  .description("Verifiable federated learning: on-chain round commitments, Groth16 proofs of aggregation, IPFS checkpoints")
  .version(packageVersion(), "-V, --version", "print dsain's version")
  .showHelpAfterError()
  // Usage errors are thrown (not exited on) so that every command ends through one exit-code rule.
  .exitOverride();

// One line per subcommand module, in the order `dsain --help` lists them.
for (const register of [demo, devnet, nodes, audit, conformance, simulate, privacy, zk]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = exitCodeOf(e);
}

/**
 * Every command's exit code: 0 success, 1 a check or job failed, 2 bad usage or an environment the
 * command cannot run in (commander's own refusals, a DsainError whose code is in USAGE_ERROR_CODES:
 * a bad argument, an invalid configuration, a missing runtime, an unreachable chain). Commands that
 * judge something (audit, conformance, zk verify, the demo's audit) set 1 themselves when the
 * verdict is negative.
 */
function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // help and --version exit 0; commander printed the message
  const err = ensureError(e);
  console.error(`dsain: ${err instanceof DsainError ? `[${err.code}] ` : ""}${err.message}`);
  if (process.env.DSAIN_DEBUG) console.error(err);
  return err instanceof DsainError && USAGE_ERROR_CODES.has(err.code) ? 2 : 1;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
}
