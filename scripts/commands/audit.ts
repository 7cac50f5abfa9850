// `dsain audit`: judges a federation's whole history from chain events and IPFS alone.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import { DsainError, ErrorCode, ensureError } from "../../aggregator/errors.js";

export function register(program: Command): void {
  program
    .command("audit")
    .description(
      "verify a federation's whole history from chain events and IPFS alone, recomputing every round from its published updates; exits 1 on any broken link",
    )
    .option("--rpc <url>", "JSON-RPC URL of the chain", "http://127.0.0.1:8545")
    .option("--ledger <address>", "ProvenanceLedger address (default: from --summary)")
    .option("--federation <id>", "federation id (default: from --summary)")
    .option("--ipfs <dir>", "directory of the Helia node holding the checkpoints (default: from --summary)")
    .option("--summary <file>", "summary.json written by `dsain demo`", ".dsain/demo/summary.json")
    .addOption(new Option("--instance <name>", "circuit instance whose verifying key to use").default("RoundChunk_4-1_test"))
    .option(
      "--batched-instance <name>",
      "RoundAttested instance whose verifying key checks a batched federation's proofs (docs/protocol.md §14)",
      "RoundAttested_2-1-0-2-2_test",
    )
    .option(
      "--allow-missing-updates",
      "report rounds whose updates are unpublished or unavailable as warnings, not failures (their aggregation is then not recomputed)",
      false,
    )
    .action(async (o) => {
      const { runAuditCommand } = await import("../../aggregator/roles/auditor/command.js");
      let summary: Record<string, string> = {};
      if (o.ledger === undefined || o.federation === undefined || o.ipfs === undefined) {
        try {
          summary = JSON.parse(await readFile(o.summary, "utf8"));
        } catch (e) {
          throw new DsainError(
            ErrorCode.BAD_ARGUMENT,
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
        batchedInstance: o.batchedInstance,
        allowMissingUpdates: o.allowMissingUpdates,
        log: (l) => console.log(l),
      });
      process.exitCode = ok ? 0 : 1;
    });
}
