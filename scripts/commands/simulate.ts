// `dsain simulate`: federated training without chain or IPFS on the aggregators' engine, over a grid
// of methods × attacks × seeds (or the Table 2 and communication presets); writes the results table,
// the per-round JSON and SVG plots. Progress goes to stderr, the table to stdout.
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { ATTACK_NAMES, type AttackName, isAttackName } from "../../aggregator/lab/sim/config.js";
import { STRATEGY_NAMES, type StrategyName, isStrategyName } from "../../aggregator/lab/sim/strategies.js";
import { positiveInt, positiveNumber } from "./args.js";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";

function list(name: string, value: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === ""))
    throw new InvalidArgumentError(`${name} must be a comma-separated list, got "${value}"`);
  if (new Set(items).size !== items.length) throw new InvalidArgumentError(`${name} lists a value twice: "${value}"`);
  return items;
}

function methods(value: string): StrategyName[] {
  return list("--methods", value).map((m) => {
    if (!isStrategyName(m))
      throw new InvalidArgumentError(`--methods: unknown aggregation strategy "${m}"; choose from ${STRATEGY_NAMES.join(", ")}`);
    return m;
  });
}

function attacks(value: string): AttackName[] {
  return list("--attacks", value).map((a) => {
    if (!isAttackName(a)) throw new InvalidArgumentError(`--attacks: unknown attack "${a}"; choose from ${ATTACK_NAMES.join(", ")}`);
    return a;
  });
}

function intList(name: string, min: number, max: number) {
  return (value: string): number[] =>
    list(name, value).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new InvalidArgumentError(`${name}: "${s}" is not an integer in [${min}, ${max}]`);
      return n;
    });
}

function compressions(value: string): (number | null)[] {
  return list("--compression", value).map((s) => {
    if (s === "none") return null;
    const n = Number(s);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`--compression: "${s}" is neither "none" nor a top-k ratio in (0, 1]`);
    return n;
  });
}

function fraction(name: string, max: number) {
  return (value: string): number => {
    const n = value.trim() === "" ? NaN : Number(value);
    if (!(n >= 0 && n < max)) throw new InvalidArgumentError(`${name} must be a number in [0, ${max}), got "${value}"`);
    return n;
  };
}

function dataset(value: string): "mnist" | "synthetic" {
  if (value !== "mnist" && value !== "synthetic")
    throw new InvalidArgumentError(`--dataset must be "mnist" or "synthetic", got "${value}"`);
  return value;
}

function momentum(value: string): number {
  const n = value.trim() === "" ? NaN : Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`--momentum must lie in [0, 1), got "${value}"`);
  return n;
}

function stem(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value))
    throw new InvalidArgumentError(`--name must be a plain file stem (letters, digits, . _ -), got "${value}"`);
  return value;
}

interface Options {
  methods: StrategyName[];
  attacks: AttackName[];
  seeds: number[];
  compression: (number | null)[];
  rounds: number;
  localEpochs: number;
  clients: number;
  alpha: number;
  byzantine: number;
  hidden: number[];
  batchSize: number;
  lr: number;
  momentum: number;
  dataset: "mnist" | "synthetic";
  mnistDir?: string;
  poolSize: number;
  testSize: number;
  signFlipLambda: number;
  gaussianSigma: number;
  commit?: boolean;
  ipmEpsilon: number;
  workers: number;
  out: string;
  name?: string;
  table2?: boolean;
  communication?: boolean;
  render?: string;
}

export function register(program: Command): void {
  program
    .command("simulate")
    .description("simulate federated training under Byzantine attacks (no chain, no IPFS) and write results tables, JSON and SVG plots")
    .option("--methods <list>", `aggregation strategies, comma-separated: ${STRATEGY_NAMES.join(", ")}`, methods, ["fedavg", "byzfed"])
    .option("--attacks <list>", `attacks, comma-separated: ${ATTACK_NAMES.join(", ")}`, attacks, ["none"])
    .option("--seeds <list>", "seeds, comma-separated integers", intList("--seeds", 0, 0xffffffff), [1])
    .addOption(
      new Option("--compression <list>", 'upload compression, comma-separated: "none" (dense) or a top-k ratio with error feedback')
        .argParser(compressions)
        .default([null], '"none"'),
    )
    .option("--rounds <n>", "training rounds", positiveInt("--rounds"), 20)
    .option("--local-epochs <n>", "local epochs per round", positiveInt("--local-epochs"), 2)
    .option("--clients <n>", "clients (all take part in every round)", positiveInt("--clients"), 20)
    .option("--alpha <a>", "Dirichlet concentration of the label split", positiveNumber("--alpha"), 0.5)
    .option("--byzantine <fraction>", "fraction of Byzantine clients, in [0, 0.5)", fraction("--byzantine", 0.5), 0.2)
    .option("--hidden <list>", "MLP hidden layer widths, comma-separated", intList("--hidden", 1, 1 << 16), [200, 200])
    .option("--batch-size <n>", "local minibatch size", positiveInt("--batch-size"), 32)
    .option("--lr <x>", "local learning rate", positiveNumber("--lr"), 0.01)
    .option("--momentum <m>", "local heavy-ball momentum, in [0, 1)", momentum, 0.9)
    .option("--dataset <name>", 'training data: "mnist" (IDX files) or "synthetic"', dataset, "mnist")
    .option("--mnist-dir <dir>", "directory of t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) (default test/fixtures/mnist)")
    .option("--pool-size <n>", "the first N samples are the clients' training pool", positiveInt("--pool-size"), 8000)
    .option("--test-size <n>", "the last N samples are the test set", positiveInt("--test-size"), 2000)
    .option("--sign-flip-lambda <x>", "boosted sign flip: Byzantine clients send -lambda * update", positiveNumber("--sign-flip-lambda"), 5)
    .option("--gaussian-sigma <x>", "Gaussian attack: update + N(0, sigma^2 I)", positiveNumber("--gaussian-sigma"), 10)
    .option("--ipm-epsilon <x>", "IPM: Byzantine clients send -epsilon * mean of the honest updates", positiveNumber("--ipm-epsilon"), 0.1)
    .option("--commit", "compute the protocol's Poseidon commitments every round (update and model roots) and report their time")
    .option("--workers <n>", "worker processes running simulations side by side (one core each)", positiveInt("--workers"), 1)
    .option("--out <dir>", "output directory", "docs/results")
    .option("--name <stem>", 'output file stem (default "simulate", or the preset\'s name)', stem)
    .option(
      "--table2",
      "preset: FedAvg, Krum, trimmed mean, median, ByzFed × none, sign flip, Gaussian, label flip, ALIE, IPM × seeds 1,2,3",
    )
    .option("--communication", "preset: FedAvg and ByzFed, dense and top-k 10% + error feedback, no attack, seeds 1,2,3")
    .option("--render <file.json>", "run nothing: rewrite the table and plots from a results JSON written earlier (into --out)")
    .action(async (o: Options, command: Command) => {
      const { COMMUNICATION, TABLE2, gridConfigs, runGrid, summarize, writeResults, accuracyMatrix, table2Targets } =
        await import("../../aggregator/lab/sim/index.js");
      if (o.table2 && o.communication)
        throw new DsainError(ErrorCode.BAD_ARGUMENT, "--table2 and --communication are separate presets; run them one at a time");
      if (o.render !== undefined) {
        const { parseStoredResults } = await import("../../aggregator/lab/sim/output.js");
        const file = path.resolve(o.render);
        let text: string;
        try {
          text = await readFile(file, "utf8");
        } catch (e) {
          throw new DsainError(ErrorCode.BAD_ARGUMENT, `--render: cannot read ${o.render} (${(e as Error).message})`);
        }
        const stored = parseStoredResults(text, o.render);
        const kind = o.table2 ? "table2" : o.communication ? "communication" : (stored.kind ?? "grid");
        const name = o.name ?? stored.name ?? path.basename(file, ".json");
        const written = await writeResults(path.resolve(o.out), name, stored.runs, stored.meta, kind);
        console.log(accuracyMatrix(summarize(stored.runs)));
        console.error(`rendered ${stored.runs.length} runs; wrote ${written.map((f) => path.relative(process.cwd(), f)).join(", ")}`);
        return;
      }
      const preset = o.table2 ? TABLE2 : o.communication ? COMMUNICATION : undefined;
      // Options given on the command line override the preset's lists (e.g. `--table2 --seeds 1`).
      const given = (key: string) => command.getOptionValueSource(key) === "cli";
      const spec = {
        methods: preset && !given("methods") ? preset.methods : o.methods,
        attacks: preset && !given("attacks") ? preset.attacks : o.attacks,
        seeds: preset && !given("seeds") ? preset.seeds : o.seeds,
        compressions: preset?.compressions && !given("compression") ? preset.compressions : o.compression,
      };
      const configs = gridConfigs(spec, {
        dataset: o.dataset,
        mnistDir: o.mnistDir === undefined ? undefined : path.resolve(o.mnistDir),
        poolSize: o.poolSize,
        testSize: o.testSize,
        clients: o.clients,
        dirichletAlpha: o.alpha,
        hidden: o.hidden,
        rounds: o.rounds,
        localEpochs: o.localEpochs,
        batchSize: o.batchSize,
        learningRate: o.lr,
        momentum: o.momentum,
        byzantineFraction: o.byzantine,
        attackParams: { signFlipLambda: o.signFlipLambda, gaussianSigma: o.gaussianSigma, ipmEpsilon: o.ipmEpsilon },
        commit: o.commit === true,
      });
      const kind = o.table2 ? "table2" : o.communication ? "communication" : "grid";
      const name = o.name ?? (kind === "grid" ? "simulate" : kind);
      const log = (line: string) => console.error(line);
      log(`dsain simulate: ${configs.length} runs (${o.rounds} rounds × ${o.localEpochs} local epochs each) on ${o.workers} worker(s)`);
      const outcome = await runGrid(configs, { workers: o.workers, log });
      const cpus = os.cpus();
      const meta = {
        command: ["dsain", ...process.argv.slice(2)].join(" "),
        wallSeconds: outcome.wallSeconds,
        cpuSeconds: outcome.cpuSeconds,
        workers: outcome.workers,
        loadBefore: outcome.loadBefore,
        loadAfter: outcome.loadAfter,
        machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
        node: `Node ${process.versions.node}`,
        date: new Date().toISOString(),
      };
      const written = await writeResults(path.resolve(o.out), name, outcome.results, meta, kind);
      const summary = summarize(outcome.results);
      console.log(accuracyMatrix(summary));
      for (const t of table2Targets(summary)) console.log(`${t.met ? "met" : "NOT MET"}: ${t.target}: ${t.measured}`);
      if (o.commit) {
        const committed = outcome.results.flatMap((r) => r.rounds.filter((x) => x.commitSeconds !== undefined));
        const mean = committed.reduce((a, x) => a + (x.commitSeconds as number), 0) / Math.max(1, committed.length);
        log(
          `commitments: ${committed.length} rounds, ${mean.toFixed(2)} s per round on average for ${o.clients} update roots and the model root of ${outcome.results[0]?.parameters ?? 0} parameters`,
        );
      }
      log(
        `wall time ${outcome.wallSeconds.toFixed(1)} s, CPU time ${outcome.cpuSeconds.toFixed(1)} s; wrote ${written.map((f) => path.relative(process.cwd(), f)).join(", ")}`,
      );
    });
}
