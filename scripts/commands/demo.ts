// `dsain demo`: a federation end to end (chain, IPFS, training, proofs) followed by its audit.
import path from "node:path";
import { Option, type Command } from "commander";
import { nonNegativeInt, positiveInt } from "./args.js";
import { progressLog } from "./progress.js";

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "run a federation end to end: Hardhat chain + Ignition, Helia, tfjs training, exact FedAvg or ByzFed, published updates, attestations, proofs, audit",
    )
    .option("--rounds <n>", "training rounds", positiveInt("--rounds"), 2)
    .option(
      "--participants <n>",
      "participants per round: the circuit's K, 4 (default), or 2 with --zk-attestations",
      positiveInt("--participants"),
    )
    .option("--epochs <n>", "local epochs per round", positiveInt("--epochs"), 2)
    .option("--seed <n>", "seed of data, model and training", nonNegativeInt("--seed"), 1)
    .option("--rpc <url>", "JSON-RPC URL of an external chain (default: Hardhat's in-process network)")
    .option("--work-dir <dir>", "where IPFS blocks and summary.json go (cleared first)", ".dsain/demo")
    .addOption(new Option("--rule <rule>", "aggregation rule of the federation").choices(["fedavg", "byzfed"]).default("fedavg"))
    .option("--byzantine <n>", "roster indices 0…n-1 send -5 × their update (boosted sign flip)", nonNegativeInt("--byzantine"), 0)
    .option(
      "--dropouts <n>",
      "the last n selected participants of every round send no update: rounds close with K - n updates, proven with zero-weight padding slots",
      nonNegativeInt("--dropouts"),
      0,
    )
    .option(
      "--cheat-round <t>",
      "demonstration: the aggregator of round t commits a model wrong in one coordinate the proof does not sample; the audit must fail",
      positiveInt("--cheat-round"),
    )
    .option(
      "--zk-attestations",
      "batched rounds with in-circuit attestations (docs/protocol.md §14): BabyJubJub keys, EdDSA-signed updates, postBatchedRound, one RoundAttested proof per round (K = 2 of a roster of 4)",
      false,
    )
    .action(async (o) => {
      const { runDemo, formatSummary } = await import("../../aggregator/demo/demo.js");
      const started = Date.now();
      const progress = progressLog();
      const result = await runDemo({
        rounds: o.rounds,
        participants: o.participants ?? (o.zkAttestations ? 2 : 4),
        zkAttestations: o.zkAttestations,
        epochs: o.epochs,
        seed: o.seed,
        rpcUrl: o.rpc,
        rule: o.rule,
        byzantine: o.byzantine,
        dropouts: o.dropouts,
        cheats: o.cheatRound === undefined ? undefined : [{ round: o.cheatRound, kind: "model-outside-challenge" }],
        workDir: path.resolve(o.workDir),
        log: (line) => progress.log(line),
      }).finally(() => progress.stop());
      console.log(formatSummary(result));
      console.log(`  wall time ${((Date.now() - started) / 1000).toFixed(1)} s; summary in ${path.join(o.workDir, "summary.json")}`);
      if (result.audit && !result.audit.ok) process.exitCode = 1;
    });
}
