// `dsain devnet`: a federation of separate processes on 127.0.0.1 (aggregator/demo/devnet.ts).
import path from "node:path";
import type { Command } from "commander";
import { positiveInt } from "./args.js";

export function register(program: Command): void {
  program
    .command("devnet")
    .description(
      "run a federation as separate processes on 127.0.0.1: anvil, 3 `dsain aggregator` and 6 `dsain participant` daemons (own keystores, IPFS nodes, metrics), R rounds, then `dsain audit` in its own process; stops every process it started, also on Ctrl-C",
    )
    .option("--rounds <n>", "rounds the daemons run", positiveInt("--rounds"), 3)
    .option("--seed <n>", "seed of the data split and the genesis model", positiveInt("--seed"), 1)
    .option("--epochs <n>", "local epochs per round", positiveInt("--epochs"), 1)
    .option("--block-time <s>", "seconds between blocks once the daemons run (a QBFT network's period)", positiveInt("--block-time"), 1)
    .option("--slot-seconds <s>", "proposer slot length (docs/protocol.md §15)", positiveInt("--slot-seconds"), 20)
    .option("--collect-seconds <s>", "how long a proposer waits for every selected update", positiveInt("--collect-seconds"), 10)
    .option("--work-dir <dir>", "keystores, configs, logs and each daemon's folder (cleared first)", ".dsain/devnet")
    .action(async (o) => {
      const { runDevnet } = await import("../../aggregator/demo/devnet.js");
      const summary = await runDevnet({
        rounds: o.rounds,
        seed: o.seed,
        epochs: o.epochs,
        blockTime: o.blockTime,
        slotSeconds: o.slotSeconds,
        collectSeconds: o.collectSeconds,
        workDir: path.resolve(o.workDir),
        log: (line) => console.log(line),
      });
      console.log(
        `\n${summary.rounds} round(s) by the daemons in ${summary.seconds.toFixed(1)} s; ledger ${summary.ledger}, federation ${summary.federationId}; audit ${summary.auditPassed ? "PASS" : "FAIL"}; logs in ${path.join(summary.workDir, "logs")}`,
      );
      process.exitCode = summary.auditPassed ? 0 : 1;
    });
}
