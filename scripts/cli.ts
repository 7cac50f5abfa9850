// The `dsain` command line: `demo` runs a real federation end to end, `audit` judges one.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { DsainError, ensureError } from "../aggregator/errors.js";

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new InvalidArgumentError(`${name} must be an integer in [0, 2^32), got "${value}"`);
    return n;
  };
}

const program = new Command()
  .name("dsain")
  .description("Verifiable federated learning: on-chain round commitments, Groth16 proofs of aggregation, IPFS checkpoints")
  .showHelpAfterError();

program
  .command("demo")
  .description("run a federation end to end: Hardhat chain + Ignition, Helia, tfjs training, exact FedAvg, attestations, proofs, audit")
  .option("--rounds <n>", "training rounds", positiveInt("--rounds"), 2)
  .option("--participants <n>", "participants per round (the demo circuit takes 4)", positiveInt("--participants"), 4)
  .option("--epochs <n>", "local epochs per round", positiveInt("--epochs"), 2)
  .option("--seed <n>", "seed of data, model and training", nonNegativeInt("--seed"), 1)
  .option("--rpc <url>", "JSON-RPC URL of an external chain (default: Hardhat's in-process network)")
  .option("--work-dir <dir>", "where IPFS blocks and summary.json go (cleared first)", ".dsain/demo")
  .action(async (o) => {
    const { runDemo, formatSummary } = await import("../aggregator/demo/demo.js");
    const started = Date.now();
    const result = await runDemo({
      rounds: o.rounds,
      participants: o.participants,
      epochs: o.epochs,
      seed: o.seed,
      rpcUrl: o.rpc,
      workDir: path.resolve(o.workDir),
      log: (line) => console.log(line),
    });
    console.log(formatSummary(result));
    console.log(`  wall time ${((Date.now() - started) / 1000).toFixed(1)} s; summary in ${path.join(o.workDir, "summary.json")}`);
    if (result.audit && !result.audit.ok) process.exitCode = 1;
  });

program
  .command("audit")
  .description("verify a federation's whole history from chain events and IPFS alone; exits 1 on any broken link")
  .option("--rpc <url>", "JSON-RPC URL of the chain", "http://127.0.0.1:8545")
  .option("--ledger <address>", "ProvenanceLedger address (default: from --summary)")
  .option("--federation <id>", "federation id (default: from --summary)")
  .option("--ipfs <dir>", "directory of the Helia node holding the checkpoints (default: from --summary)")
  .option("--summary <file>", "summary.json written by `dsain demo`", ".dsain/demo/summary.json")
  .addOption(new Option("--instance <name>", "circuit instance whose verifying key to use").default("RoundChunk_4-4_test"))
  .action(async (o) => {
    const { runAuditCommand } = await import("../aggregator/audit/command.js");
    let summary: Record<string, string> = {};
    if (o.ledger === undefined || o.federation === undefined || o.ipfs === undefined) {
      try {
        summary = JSON.parse(await readFile(o.summary, "utf8"));
      } catch (e) {
        throw new DsainError(
          "DSAIN_BAD_ARGUMENT",
          `--ledger, --federation and --ipfs are needed, or a readable --summary (${o.summary}: ${ensureError(e).message})`,
        );
      }
    }
    const ok = await runAuditCommand({
      rpcUrl: o.rpc,
      ledger: o.ledger ?? summary.ledger,
      federationId: BigInt(o.federation ?? summary.federationId),
      ipfsDir: path.resolve(o.ipfs ?? summary.ipfsDir),
      instance: o.instance,
      log: (l) => console.log(l),
    });
    process.exitCode = ok ? 0 : 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = ensureError(e);
  console.error(`dsain: ${err instanceof DsainError ? `[${err.code}] ` : ""}${err.message}`);
  if (process.env.DSAIN_DEBUG) console.error(err);
  process.exitCode = 1;
}
