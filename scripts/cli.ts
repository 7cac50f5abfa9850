// The `dsain` command line; each subcommand lives in scripts/commands/<name>.ts and registers itself.
import { Command } from "commander";
import { DsainError, ensureError } from "../aggregator/errors.js";
import { register as audit } from "./commands/audit.js";
import { register as conformance } from "./commands/conformance.js";
import { register as demo } from "./commands/demo.js";
import { register as privacy } from "./commands/privacy.js";
import { register as simulate } from "./commands/simulate.js";
import { register as zk } from "./commands/zk.js";

const program = new Command()
  .name("dsain")
  .description("Verifiable federated learning: on-chain round commitments, Groth16 proofs of aggregation, IPFS checkpoints")
  .showHelpAfterError();

// One line per subcommand module, in the order `dsain --help` lists them.
for (const register of [demo, audit, conformance, simulate, privacy, zk]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = ensureError(e);
  console.error(`dsain: ${err instanceof DsainError ? `[${err.code}] ` : ""}${err.message}`);
  if (process.env.DSAIN_DEBUG) console.error(err);
  process.exitCode = 1;
}
