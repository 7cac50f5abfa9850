// `dsain simulate` as a specification: the strategy factory returns what the pure functions return,
// short federations on real MNIST learn, repeat themselves bit for bit given the seed, and show
// the boosted sign flip breaking FedAvg but not ByzFed; the command refuses bad options by name.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ErrorCode } from "../../aggregator/errors.js";
import {
  bulyan,
  byzFedRound,
  centeredClipping,
  coordinateMedian,
  fedAvg,
  krum,
  multiKrum,
  smoothedWeiszfeld,
  trimmedMean,
} from "../../aggregator/maths/robust/index.js";
import {
  STRATEGY_NAMES,
  type RunResult,
  type SimulationConfig,
  createStrategy,
  deriveSeed,
  gridConfigs,
  lineChartSvg,
  meanStd,
  runGrid,
  runSimulation,
  simulationConfig,
  summarize,
  table2Targets,
} from "../../aggregator/lab/sim/index.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { expectClose } from "../helpers/close.js";
import { expectDsainError } from "../helpers/errors.js";

const run = promisify(execFile);
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");

/** Runs `dsain …` in its own process; resolves with exit code and output, never throws on exit 1. */
async function dsain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DSAIN, ...args], { cwd: PROJECT_ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const vec = (...v: number[]) => Float64Array.from(v);

/** Seven updates in 3 dimensions, one far outlier; n = 7 >= 4f + 3 for f = 1, so Bulyan accepts them too. */
const UPDATES = [vec(1, 2, 0), vec(1.5, 1, 0.5), vec(0.5, 2.5, -0.5), vec(1, 1.5, 1), vec(2, 2, 0), vec(0, 1, 0.25), vec(40, -30, 25)];
const COUNTS = [10, 20, 30, 40, 50, 60, 70];
const IDS = UPDATES.map((_, i) => `c${i}`);
const ROUND = { updates: UPDATES, sampleCounts: COUNTS, clientIds: IDS };

/** A short federation on real MNIST: 2,000 training images over 10 clients, 3 rounds; about a second. */
const SMALL: Partial<SimulationConfig> = {
  poolSize: 2000,
  testSize: 500,
  clients: 10,
  dirichletAlpha: 1,
  hidden: [32],
  rounds: 3,
  localEpochs: 2,
  learningRate: 0.05,
  seed: 1,
};

/** A run's figures without its timings, for exact comparison. */
const figures = (r: RunResult) =>
  r.rounds.map(({ round, accuracy, loss, uploadBytes, byzantineWeight }) => ({ round, accuracy, loss, uploadBytes, byzantineWeight }));

describe("dsain simulate", function () {
  describe("createStrategy", function () {
    const expected: Record<(typeof STRATEGY_NAMES)[number], { params: object; value: () => Float64Array }> = {
      fedavg: { params: {}, value: () => fedAvg(UPDATES, COUNTS) },
      krum: { params: { f: 1 }, value: () => krum(UPDATES, 1) },
      "multi-krum": { params: { f: 1 }, value: () => multiKrum(UPDATES, 1) },
      "trimmed-mean": { params: { f: 1 }, value: () => trimmedMean(UPDATES, 1) },
      median: { params: {}, value: () => coordinateMedian(UPDATES) },
      byzfed: { params: {}, value: () => byzFedRound(UPDATES, IDS, new Map()).aggregate },
      "geometric-median": { params: {}, value: () => smoothedWeiszfeld(UPDATES) },
      bulyan: { params: { f: 1 }, value: () => bulyan(UPDATES, 1) },
      "centered-clipping": { params: {}, value: () => centeredClipping(UPDATES) },
    };

    for (const name of STRATEGY_NAMES) {
      it(`should make "${name}" return what its pure function returns`, function () {
        const { params, value } = expected[name];
        const out = createStrategy(name, params).aggregate(ROUND).aggregate;
        expect(Array.from(out)).to.deep.equal(Array.from(value()));
      });
    }

    it("should keep the outlier out of every robust rule and in FedAvg", function () {
      for (const name of STRATEGY_NAMES) {
        const out = createStrategy(name, expected[name].params).aggregate(ROUND).aggregate;
        if (name === "fedavg") expect(out[0]).to.be.greaterThan(10);
        else if (name !== "centered-clipping" && name !== "geometric-median") expect(Math.abs(out[0]), name).to.be.lessThan(3);
      }
    });

    it("should carry ByzFed's reputations from one round to the next", function () {
      const strategy = createStrategy("byzfed");
      strategy.aggregate(ROUND);
      const second = strategy.aggregate(ROUND);
      const first = byzFedRound(UPDATES, IDS, new Map());
      const again = byzFedRound(UPDATES, IDS, first.reputationState);
      expect(Array.from(second.aggregate)).to.deep.equal(Array.from(again.aggregate));
      expect(again.reputationsAfter[6]).to.be.lessThan(first.reputationsAfter[6]);
    });

    it("should carry centered clipping's center from one round to the next", function () {
      const strategy = createStrategy("centered-clipping", { centeredClipping: { tau: 1 } });
      const first = strategy.aggregate(ROUND).aggregate;
      const second = strategy.aggregate(ROUND).aggregate;
      expect(Array.from(second)).to.deep.equal(Array.from(centeredClipping(UPDATES, { tau: 1, center: first })));
    });

    it("should refuse an unknown name and list the known ones", function () {
      expectDsainError(
        () => createStrategy("mean-of-means"),
        ErrorCode.CONFIG_INVALID,
        /unknown aggregation strategy "mean-of-means".*fedavg, krum/,
      );
    });

    it("should refuse a rule that needs f without it, and a bad f", function () {
      expectDsainError(() => createStrategy("krum"), ErrorCode.CONFIG_INVALID, /krum needs f/);
      expectDsainError(
        () => createStrategy("trimmed-mean", { f: -1 }),
        ErrorCode.CONFIG_INVALID,
        /trimmed-mean: f must be an integer >= 0, got -1/,
      );
      expectDsainError(() => createStrategy("bulyan", { f: 1.5 }), ErrorCode.CONFIG_INVALID, /bulyan: f must be an integer/);
    });

    it("should refuse parameters that do not apply or do not exist", function () {
      expectDsainError(() => createStrategy("fedavg", { f: 1 }), ErrorCode.CONFIG_INVALID, /fedavg: parameter "f" does not apply/);
      expectDsainError(() => createStrategy("median", { tau: 3 } as object), ErrorCode.CONFIG_INVALID, /unknown strategy parameter "tau"/);
      expectDsainError(
        () => createStrategy("byzfed", { byzfed: { tua: 3 } as object }),
        ErrorCode.CONFIG_INVALID,
        /unknown byzfed parameter "tua"/,
      );
      expectDsainError(() => createStrategy("byzfed", { byzfed: { alpha: 2 } }), ErrorCode.INPUT_INVALID, /alpha must be in \(0, 1\]/);
      expectDsainError(
        () => createStrategy("krum", { f: 1, krumVariant: "blanchard" as "flower" }),
        ErrorCode.CONFIG_INVALID,
        /krumVariant/,
      );
      expectDsainError(
        () => createStrategy("geometric-median", { geometricMedian: { iterations: -2 } }),
        ErrorCode.CONFIG_INVALID,
        /geometricMedian.iterations must be an integer >= 0/,
      );
    });
  });

  describe("configuration", function () {
    it("should default to the issue's split and the Table 2 settings", function () {
      const c = simulationConfig();
      expect([c.poolSize, c.testSize, c.clients, c.dirichletAlpha, c.byzantineFraction]).to.deep.equal([8000, 2000, 20, 0.5, 0.2]);
      expect(c.attackParams).to.deep.equal({ signFlipLambda: 5, gaussianSigma: 10, ipmEpsilon: 0.1 });
    });

    it("should refuse bad fields by name", function () {
      expectDsainError(() => simulationConfig({ rounds: 0 }), ErrorCode.CONFIG_INVALID, /rounds must be an integer/);
      expectDsainError(
        () => simulationConfig({ byzantineFraction: 0.5 }),
        ErrorCode.CONFIG_INVALID,
        /byzantineFraction must lie in \[0, 0.5\)/,
      );
      expectDsainError(() => simulationConfig({ attack: "bit-flip" as "none" }), ErrorCode.CONFIG_INVALID, /unknown attack "bit-flip"/);
      expectDsainError(() => simulationConfig({ compression: 0 }), ErrorCode.CONFIG_INVALID, /compression must be a top-k ratio/);
      expectDsainError(() => simulationConfig({ attack: "ipm", byzantineFraction: 0.01 }), ErrorCode.CONFIG_INVALID, /rounds to 0/);
      expectDsainError(
        () => simulationConfig({ method: "bulyan", clients: 10 }),
        ErrorCode.CONFIG_INVALID,
        /bulyan needs clients >= 4f \+ 3 = 11 for f = 2/,
      );
    });

    it("should derive seeds that depend on every part", function () {
      expect(deriveSeed(1, "train", 2, 3)).to.equal(deriveSeed(1, "train", 2, 3));
      const seeds = new Set([
        deriveSeed(1, "train", 2, 3),
        deriveSeed(2, "train", 2, 3),
        deriveSeed(1, "train", 3, 2),
        deriveSeed(1, "init"),
      ]);
      expect(seeds.size).to.equal(4);
    });
  });

  describe("runSimulation on real MNIST", function () {
    let clean: RunResult;

    before(async function () {
      clean = await runSimulation({ ...SMALL, method: "fedavg", attack: "none" });
    });

    it("should learn: accuracy far above chance after 3 rounds", function () {
      expect(clean.initialAccuracy).to.be.lessThan(0.25);
      expect(clean.finalAccuracy).to.be.greaterThan(0.6);
      expect(clean.rounds.map((r) => r.round)).to.deep.equal([1, 2, 3]);
      expect(clean.clientSizes.reduce((a, b) => a + b, 0)).to.equal(2000);
      expect(clean.byzantine).to.have.length(2);
    });

    it("should repeat itself exactly given the seed, and differ for another seed", async function () {
      const again = await runSimulation({ ...SMALL, method: "fedavg", attack: "none" });
      expect(figures(again)).to.deep.equal(figures(clean));
      const other = await runSimulation({ ...SMALL, method: "fedavg", attack: "none", seed: 2 });
      expect(figures(other)).to.not.deep.equal(figures(clean));
    });

    it("should commit every round when asked: one model root per round, reproducible, timed, the run unchanged", async function () {
      const committed = await runSimulation({ ...SMALL, method: "fedavg", attack: "none", commit: true });
      // Committing observes the run, it does not change it.
      expect(figures(committed)).to.deep.equal(figures(clean));
      const roots = committed.rounds.map((r) => r.modelRoot);
      for (const r of committed.rounds) {
        expect(r.modelRoot).to.match(/^0x[0-9a-f]{64}$/);
        expect(r.commitSeconds).to.be.greaterThan(0);
      }
      expect(new Set(roots).size).to.equal(3);
      expect(
        (await runSimulation({ ...SMALL, method: "fedavg", attack: "none", commit: true })).rounds.map((r) => r.modelRoot),
      ).to.deep.equal(roots);
      expect(clean.rounds.every((r) => r.modelRoot === undefined && r.commitSeconds === undefined)).to.equal(true);
    });

    it("should collapse FedAvg under the boosted sign flip while ByzFed keeps learning", async function () {
      const fedavg = await runSimulation({ ...SMALL, method: "fedavg", attack: "sign-flip" });
      const byzfed = await runSimulation({ ...SMALL, method: "byzfed", attack: "sign-flip" });
      expect(fedavg.finalAccuracy).to.be.lessThan(0.2);
      expect(byzfed.finalAccuracy).to.be.greaterThan(0.6);
      expect(byzfed.rounds[2].byzantineWeight).to.equal(0);
    });

    it("should upload top-k values and indices when compressing: 8 bytes per kept coordinate", async function () {
      const sparse = await runSimulation({ ...SMALL, rounds: 1, method: "fedavg", attack: "none", compression: 0.1 });
      expect(clean.rounds[0].uploadBytes).to.equal(clean.parameters * 4);
      expect(sparse.rounds[0].uploadBytes).to.equal(Math.trunc(clean.parameters * 0.1) * 8);
    });
  });

  describe("runGrid", function () {
    it("should give in two worker processes exactly what it gives in this one, in input order", async function () {
      const tiny = { ...SMALL, poolSize: 500, testSize: 200, clients: 5, hidden: [16], rounds: 2, localEpochs: 1 };
      const configs = gridConfigs({ methods: ["fedavg", "byzfed"], attacks: ["sign-flip"], seeds: [1] }, tiny);
      const here = await runGrid(configs, { workers: 1 });
      const there = await runGrid(configs, { workers: 2 });
      expect(there.workers).to.equal(2);
      expect(there.results.map((r) => r.config.method)).to.deep.equal(["fedavg", "byzfed"]);
      expect(there.results.map(figures)).to.deep.equal(here.results.map(figures));
      expect(there.cpuSeconds).to.be.greaterThan(0);
    });
  });

  describe("reports", function () {
    const fake = (method: "fedavg" | "byzfed", attack: "none" | "sign-flip", seed: number, accuracy: number): RunResult => ({
      config: simulationConfig({ method, attack, seed }),
      data: "test",
      inputs: 784,
      classes: 10,
      parameters: 10,
      byzantine: [0],
      clientSizes: [1],
      initialAccuracy: 0.1,
      rounds: [{ round: 1, accuracy, loss: 1, uploadBytes: 40, byzantineWeight: null, trainSeconds: 0, aggregateSeconds: 0 }],
      finalAccuracy: accuracy,
      divergedAtRound: null,
      seconds: 0,
    });

    it("should give the mean and the sample standard deviation", function () {
      const s = meanStd([0.9, 0.92, 0.94]);
      expectClose(s.mean, 0.92, 1e-12);
      expectClose(s.std, 0.02, 1e-12);
      expect(meanStd([0.5]).std).to.equal(0);
    });

    it("should check the Table 2 targets on the summaries", function () {
      const results = [
        fake("fedavg", "sign-flip", 1, 0.1),
        fake("fedavg", "sign-flip", 2, 0.12),
        fake("byzfed", "none", 1, 0.9),
        fake("byzfed", "sign-flip", 1, 0.8),
      ];
      const checks = table2Targets(summarize(results));
      expect(checks.map((c) => c.met)).to.deep.equal([true, false]);
      expect(checks[1].measured).to.contain("88.9%");
    });

    it("should draw one line and one legend entry per series", function () {
      const svg = lineChartSvg({
        title: "t <1>",
        xLabel: "round",
        yLabel: "%",
        series: [
          { name: "A", mean: [10, 20] },
          { name: "B", mean: [30, 40], std: [1, 2] },
        ],
      });
      expect(svg.startsWith("<svg")).to.equal(true);
      expect(svg.match(/<polyline/g)).to.have.length(2);
      expect(svg.match(/<polygon/g)).to.have.length(1);
      expect(svg).to.contain("t &lt;1&gt;");
    });
  });

  describe("command line", function () {
    it("should refuse bad options with a message that names them", async function () {
      const cases: [string[], RegExp][] = [
        [["--methods", "fedavg,nope"], /--methods: unknown aggregation strategy "nope"/],
        [["--attacks", "sign-flip,bit-flip"], /--attacks: unknown attack "bit-flip"/],
        [["--rounds", "0"], /--rounds must be a positive integer, got "0"/],
        [["--byzantine", "0.6"], /--byzantine must be a number in \[0, 0.5\), got "0.6"/],
        [["--seeds", "1,x"], /--seeds: "x" is not an integer/],
        [["--compression", "0"], /--compression: "0" is neither "none" nor a top-k ratio/],
        [["--table2", "--communication"], /--table2 and --communication are separate presets/],
      ];
      const outs = await Promise.all(cases.map(([args]) => dsain(["simulate", ...args])));
      outs.forEach((out, i) => {
        expect(out.code, cases[i][0].join(" ")).to.equal(2);
        expect(out.stderr).to.match(cases[i][1]);
      });
    });

    it("should write the table, the per-round JSON and one plot per attack, and render them again from the JSON", async function () {
      const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-simulate-"));
      try {
        const out = await dsain([
          "simulate",
          ...["--methods", "fedavg,median", "--attacks", "none,sign-flip", "--rounds", "2", "--local-epochs", "1", "--clients", "5"],
          ...["--pool-size", "500", "--test-size", "200", "--hidden", "16", "--out", dir, "--name", "tiny"],
        ]);
        expect(out.code, out.stderr).to.equal(0);
        expect(out.stderr).to.match(/\[4\/4\] median \/ sign-flip \/ seed 1/);
        expect((await readdir(dir)).sort()).to.deep.equal(["tiny-none.svg", "tiny-sign-flip.svg", "tiny.json", "tiny.md"]);
        const json = JSON.parse(await readFile(path.join(dir, "tiny.json"), "utf8"));
        expect(json.runs).to.have.length(4);
        expect(json.runs[0].rounds).to.have.length(2);
        expect(json.runs[0].config).to.include({ poolSize: 500, clients: 5, rounds: 2, mnistDir: path.join("test", "fixtures", "mnist") });
        const md = await readFile(path.join(dir, "tiny.md"), "utf8");
        expect(md).to.match(/\| Median +\| \d+\.\d\d ± 0\.00 +\| \d+\.\d\d ± 0\.00 +\|/);
        const again = await dsain(["simulate", "--render", path.join(dir, "tiny.json"), "--out", dir, "--name", "again"]);
        expect(again.code, again.stderr).to.equal(0);
        expect(await readFile(path.join(dir, "again.md"), "utf8")).to.equal(md);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
