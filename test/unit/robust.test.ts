// The robust aggregators and ByzFed as specifications: every case of the reference vectors (ByzFL,
// Flower, the DSAIN authors' code), small hand-computed cases, refusals, and property tests.
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, decodeVector, encodeVector, encodedDelta, integerWeights, WEIGHT_TOTAL } from "../../aggregator/protocol/index.js";
import {
  arc,
  bulyan,
  bulyanSelect,
  ByzFed,
  byzFedRound,
  centeredClipping,
  CenteredClipping,
  coordinateMedian,
  CoordinateMedian,
  dsainWeiszfeld,
  fedAvg,
  FedAvg,
  krum,
  krumSelect,
  mda,
  meamed,
  mean,
  monna,
  multiKrum,
  multiKrumSelect,
  nnm,
  pairwiseSquaredDistances,
  PreAggregated,
  robustScale,
  smoothedWeiszfeld,
  staticClipping,
  toIntegerWeights,
  trimmedMean,
  trimmedMeanProportion,
  weightedMean,
  type Vec,
} from "../../aggregator/maths/robust/index.js";
import { weightedSum, weightedSumPlain } from "../../aggregator/maths/robust/common.js";
import { selectInPlace } from "../../aggregator/maths/robust/select.js";
import { SimdWeiszfeld, simdEnabled, weightedSumSimd } from "../../aggregator/maths/robust/simd.js";
import {
  gamma,
  KAPPA,
  passDepth,
  PlainWeiszfeld,
  SquaredDistances,
  weiszfeldEngine,
  type WeiszfeldEngine,
} from "../../aggregator/maths/robust/weiszfeld-pass.js";

const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures", "vectors");
const readFixture = (name: string): any => JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"));

/** The vectors' tolerance: |a - b| <= 1e-12 + 1e-9 |b|. */
function expectClose(actual: unknown, expected: unknown, what: string): void {
  if (typeof expected === "number") {
    const a = actual as number;
    expect(Math.abs(a - expected) <= 1e-12 + 1e-9 * Math.abs(expected), `${what}: ${a} vs ${expected}`).to.equal(true);
    return;
  }
  const e = expected as unknown[];
  const a = actual as ArrayLike<unknown>;
  expect(a.length, `${what}: length`).to.equal(e.length);
  for (let i = 0; i < e.length; i++) expectClose(a[i], e[i], `${what}[${i}]`);
}

function expectRefusal(fn: () => unknown, code: string, ...mentions: string[]): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    for (const m of mentions) expect((e as DsainError).message).to.contain(m);
    return;
  }
  expect.fail(`expected a DsainError with code ${code}`);
}

const rows = (...xs: number[][]): Float64Array[] => xs.map((x) => Float64Array.from(x));

describe("robust aggregation", function () {
  describe("against ByzFL and Flower (robust-aggregation-vectors.json)", function () {
    const file = readFixture("robust/robust-aggregation-vectors.json");
    type Case = { inputs: number[][]; num_examples: number[] };
    type Out = { value: Float64Array | Float64Array[]; index?: number };
    const weightsOf = (c: Case, p: any): number[] => (p.weights === "all 1" ? c.num_examples.map(() => 1) : c.num_examples);
    // One entry per method the file names (the output key up to "@" or "("); parameters from `params`.
    const methods: Record<string, (u: Vec[], p: any, c: Case) => Out> = {
      "byzfl.Average": (u) => ({ value: mean(u) }),
      "byzfl.Median": (u) => ({ value: coordinateMedian(u) }),
      "byzfl.TrMean": (u, p) => ({ value: trimmedMean(u, p.f) }),
      "byzfl.GeometricMedian": (u, p) => ({ value: smoothedWeiszfeld(u, { nu: p.nu, iterations: p.T }) }),
      "byzfl.Krum": (u, p) => {
        const { index } = krumSelect(u, p.f, "byzfl");
        return { value: krum(u, p.f, "byzfl"), index };
      },
      "byzfl.MultiKrum": (u, p) => ({ value: multiKrum(u, p.f, { variant: "byzfl" }) }),
      "byzfl.CenteredClipping": (u, p) => {
        expect(p.m).to.equal("zeros");
        return { value: centeredClipping(u, { iterations: p.L, tau: p.tau }) };
      },
      "byzfl.MDA": (u, p) => ({ value: mda(u, p.f) }),
      "byzfl.MoNNA": (u, p) => ({ value: monna(u, p.f, p.idx) }),
      "byzfl.Meamed": (u, p) => ({ value: meamed(u, p.f) }),
      "byzfl.pre.NNM": (u, p) => ({ value: nnm(u, p.f) }),
      "byzfl.pre.Clipping": (u, p) => ({ value: staticClipping(u, p.c) }),
      "byzfl.pre.ARC": (u, p) => ({ value: arc(u, p.f) }),
      "flwr.aggregate": (u, p, c) => ({ value: weightedMean(u, weightsOf(c, p)) }),
      "flwr.aggregate_median": (u) => ({ value: coordinateMedian(u) }),
      "flwr.aggregate_krum": (u, p, c) => {
        if (p.to_keep > 0)
          return { value: multiKrum(u, p.num_malicious, { variant: "flower", keep: p.to_keep, sampleCounts: weightsOf(c, p) }) };
        const { index } = krumSelect(u, p.num_malicious, "flower");
        return { value: krum(u, p.num_malicious, "flower"), index };
      },
      "flwr.aggregate_trimmed_avg": (u, p) => ({ value: trimmedMeanProportion(u, p.proportiontocut) }),
      "flwr.aggregate_bulyan": (u, p) => {
        expect(p.aggregation_rule).to.equal("aggregate_krum");
        return { value: bulyan(u, p.num_malicious, "flower") };
      },
      "flwr.squared_distance_matrix": (u) => {
        const flat = pairwiseSquaredDistances(u);
        return { value: u.map((_, i) => flat.slice(i * u.length, (i + 1) * u.length)) };
      },
    };
    const methodOf = (key: string) => key.split("@")[0].replace(/\(.*\)$/, "");

    it("should name only methods this suite checks (no output key is left out)", function () {
      const keys = new Set<string>(file.cases.flatMap((c: any) => Object.keys(c.outputs)));
      expect([...keys].filter((k) => !(methodOf(k) in methods))).to.deep.equal([]);
      expect(file.cases.length).to.equal(20);
    });

    for (const c of file.cases) {
      describe(`${c.id} (n=${c.n}, d=${c.d}, f=${c.f}, ${c.adversary})`, function () {
        const updates = rows(...c.inputs);
        for (const [key, expected] of Object.entries<any>(c.outputs)) {
          const run = () => methods[methodOf(key)](updates, expected.params, c);
          if ("error" in expected) {
            it(`should refuse ${key} as the reference does`, function () {
              expectRefusal(run, ErrorCode.TOO_FEW_UPDATES, `n=${c.n}`, `f=${expected.params.num_malicious ?? expected.params.f}`);
            });
          } else {
            it(`should match ${key}`, function () {
              const out = run();
              expectClose(out.value, expected.value, key);
              if ("selected_index" in expected) expect(out.index).to.equal(expected.selected_index);
            });
          }
        }
      });
    }
  });

  describe("ByzFed against the DSAIN authors' code (byzfed-vectors.json)", function () {
    const file = readFixture("dsain/byzfed-vectors.json");

    it("should include multi-round and fallback cases", function () {
      expect(file.cases.some((c: any) => c.rounds.length > 1)).to.equal(true);
      expect(file.cases.some((c: any) => c.rounds.some((r: any) => r.outputs.fallback_all_used))).to.equal(true);
    });

    for (const c of file.cases) {
      it(`should reproduce ${c.id}: ${c.description}`, function () {
        const p = c.params;
        const byzfed = new ByzFed(
          { tau: p.threshold_tau, alpha: p.reputation_decay_alpha, maxIter: p.gm_max_iter, tol: p.gm_tol },
          Object.entries<number>(c.rounds[0].reputation_state_before),
        );
        for (const [t, round] of c.rounds.entries()) {
          const at = `round ${t}`;
          const before = byzfed.reputations;
          expect([...before.keys()].sort(), `${at} reputations before`).to.deep.equal(Object.keys(round.reputation_state_before).sort());
          for (const [id, r] of Object.entries<number>(round.reputation_state_before))
            expectClose(before.get(id)!, r, `${at} reputation of ${id}`);
          const ids = round.client_ids.map(String);
          const r = byzfed.round(rows(...round.updates), ids);
          const o = round.outputs;
          expectClose(r.geometricMedian, o.geometric_median, `${at} geometric median`);
          expect(r.weiszfeld.updatesApplied, `${at} Weiszfeld steps`).to.equal(o.weiszfeld.updates_applied);
          expect(r.weiszfeld.converged).to.equal(o.weiszfeld.converged_before_max_iter);
          expect(r.weiszfeld.stepNorms.length).to.equal(o.weiszfeld.num_step_norms_computed);
          expectClose(r.weiszfeld.stepNorms.slice(-2), o.weiszfeld.step_norms_last2, `${at} last steps`);
          expectClose(r.distances, o.distances, `${at} distances`);
          expectClose(r.medianDistance, o.median_distance, `${at} median distance`);
          expectClose(r.robustScale, o.robust_scale, `${at} robust scale`);
          expectClose(r.threshold, o.filter_threshold_value, `${at} threshold`);
          expect(r.kept, `${at} kept`).to.deep.equal(o.kept_indices);
          expect(r.kept.map((i) => ids[i])).to.deep.equal(o.kept_client_ids.map(String));
          expect(r.fallback, `${at} fallback`).to.equal(o.fallback_all_used);
          expect(r.used, `${at} used`).to.deep.equal(o.used_indices);
          for (const [id, rep] of Object.entries<number>(o.reputation_state_after))
            expectClose(r.reputationState.get(id)!, rep, `${at} reputation after of ${id}`);
          expectClose(
            r.used.map((i) => r.reputationsAfter[i]),
            o.weights_unnormalised,
            `${at} unnormalised weights`,
          );
          expectClose(r.totalWeight, o.total_weight, `${at} total weight`);
          expectClose(
            r.used.map((i) => r.weights[i]),
            o.weights,
            `${at} weights`,
          );
          expectClose(r.aggregate, o.aggregate, `${at} aggregate`);
        }
      });
    }
  });

  describe("hand-computed cases", function () {
    it("should weight FedAvg by sample counts", function () {
      // Prepare
      const updates = rows([1, 2], [3, 4]);
      // Execute
      const out = fedAvg(updates, [1, 3]);
      // Assert: (1*[1,2] + 3*[3,4]) / 4
      expect(Array.from(out)).to.deep.equal([2.5, 3.5]);
      expect(Array.from(new FedAvg().aggregate({ updates, sampleCounts: [1, 3] }).weights!)).to.deep.equal([0.25, 0.75]);
    });

    it("should take the middle value, or the mean of the middle pair, per coordinate", function () {
      expect(Array.from(coordinateMedian(rows([1, 10], [3, -2], [2, 0])))).to.deep.equal([2, 0]);
      expect(Array.from(coordinateMedian(rows([1], [4], [2], [3])))).to.deep.equal([2.5]);
    });

    it("should drop f values on each side in the trimmed mean", function () {
      const updates = rows([1, -7], [2, 0], [3, 1], [100, 2]);
      expect(Array.from(trimmedMean(updates, 1))).to.deep.equal([2.5, 0.5]);
      expect(Array.from(trimmedMeanProportion(updates, 0.25))).to.deep.equal([2.5, 0.5]);
    });

    // Points 0, 1, 2, 10, 11 with f = 1. Squared distances of 0: 1, 4, 100, 121; of 1: 1, 1, 81, 100;
    // of 2: 1, 4, 64, 81; of 10: 1, 64, 81, 100; of 11: 1, 81, 100, 121.
    // Flower sums the 2 nearest: 5, 2, 5, 65, 82 -> picks 1. ByzFL averages the 3 nearest:
    // 35, 27.67, 23, 48.67, 60.67 -> picks 2.
    const line = rows([0], [1], [2], [10], [11]);

    it("should pick different updates under Flower's and ByzFL's Krum scores", function () {
      expect(krumSelect(line, 1, "flower").index).to.equal(1);
      expect(Array.from(krumSelect(line, 1, "flower").scores)).to.deep.equal([5, 2, 5, 65, 82]);
      expect(krumSelect(line, 1, "byzfl").index).to.equal(2);
      expectClose(krumSelect(line, 1, "byzfl").scores, [35, 83 / 3, 23, 146 / 3, 182 / 3], "ByzFL scores");
    });

    it("should average the best-scored updates in Multi-Krum", function () {
      expect(multiKrumSelect(line, 1, { variant: "flower", keep: 3 })).to.deep.equal([1, 0, 2]);
      expect(Array.from(multiKrum(line, 1, { variant: "flower", keep: 3 }))).to.deep.equal([1]);
      // ByzFL keeps n - f = 4: scores 23 (2), 27.67 (1), 35 (0), 48.67 (10).
      expect(Array.from(multiKrum(line, 1, { variant: "byzfl" }))).to.deep.equal([3.25]);
    });

    it("should let Bulyan's Krum stage select the five agreeing updates and average around their median", function () {
      const updates = rows([0], [0], [0], [0], [0], [100], [-100]);
      expect(bulyanSelect(updates, 1).sort()).to.deep.equal([0, 1, 2, 3, 4]);
      expect(Array.from(bulyan(updates, 1))).to.deep.equal([0]);
    });

    it("should run smoothed Weiszfeld from the origin with distances floored at nu", function () {
      // Betas (1/3)/0.1, (1/3)/0.1, (1/3)/3: z = (3/9) / (20/3 + 1/9) = 3/61.
      expectClose(smoothedWeiszfeld(rows([0], [0], [3]), { nu: 0.1, iterations: 1 }), [3 / 61], "z");
    });

    it("should clip differences to the center at tau in centered clipping", function () {
      expectClose(centeredClipping(rows([3, 4]), { tau: 1 }), [0.6, 0.8], "one update");
      // A zero difference has factor min(1, tau/0) = 1.
      expectClose(centeredClipping(rows([3, 4], [0, 0]), { tau: 1 }), [0.3, 0.4], "two updates");
    });

    it("should carry the center between rounds in the CenteredClipping strategy", function () {
      const cc = new CenteredClipping({ tau: 1 });
      expectClose(cc.aggregate({ updates: rows([3, 4]) }).aggregate, [0.6, 0.8], "round 1");
      // From [0.6, 0.8] the difference [2.4, 3.2] has norm 4: clipped to [0.6, 0.8].
      expectClose(cc.aggregate({ updates: rows([3, 4]) }).aggregate, [1.2, 1.6], "round 2");
    });

    it("should average the smallest-diameter subset (MDA), the neighbours of idx (MoNNA), the values around the median (Meamed)", function () {
      const u = rows([0], [1], [5]);
      expect(Array.from(mda(u, 1))).to.deep.equal([0.5]);
      expect(Array.from(monna(u, 1, 2))).to.deep.equal([3]);
      expect(Array.from(meamed(u, 1))).to.deep.equal([0.5]);
    });

    it("should mix every update with its nearest neighbours (NNM)", function () {
      expect(nnm(rows([0], [1], [5]), 1).map((v) => Array.from(v))).to.deep.equal([[0.5], [0.5], [3]]);
    });

    it("should run pre-aggregators before the aggregator (NNM then the median)", function () {
      // NNM with f = 1 mixes 0, 1, 5 into 0.5, 0.5, 3; their median is 0.5 (the plain median is 1).
      const pipeline = new PreAggregated([{ name: "nnm", apply: (u) => nnm(u, 1) }], new CoordinateMedian());
      expect(pipeline.name).to.equal("nnm+median");
      expect(Array.from(pipeline.aggregate({ updates: rows([0], [1], [5]) }).aggregate)).to.deep.equal([0.5]);
    });

    it("should clip to c (Clipping) and the largest updates to the next norm (ARC)", function () {
      expectClose(
        staticClipping(rows([3, 4], [1, 0]), 2),
        [
          [1.2, 1.6],
          [1, 0],
        ],
        "clipping",
      );
      // n = 3, f = 1: int(2/3 * 2) = 1 update clipped, to the norm 2 of the next largest.
      expectClose(
        arc(rows([3, 4], [1, 0], [0, 2]), 1),
        [
          [1.2, 1.6],
          [1, 0],
          [0, 2],
        ],
        "ARC",
      );
    });

    it("should take one Weiszfeld step from the mean to 16/11 for points 0, 1, 5", function () {
      // Mean 2; distances 2, 1, 3; weights 1/2, 1, 1/3: y = (1 + 5/3) / (11/6) = 16/11.
      const one = dsainWeiszfeld(rows([0], [1], [5]), { maxIter: 1, tol: 1e-6, distanceFloor: 1e-10 });
      expectClose(one.median, [16 / 11], "median");
      expect(one.updatesApplied).to.equal(1);
      expect(one.converged).to.equal(false);
      expectClose(one.stepNorms, [2 - 16 / 11], "step");
      expectClose(one.distances, [16 / 11, 5 / 11, 39 / 11], "distances to the returned iterate");
    });

    it("should return the iterate before the step that fell under the tolerance", function () {
      // With a tolerance above the first step (6/11), the mean itself is returned after one computed step.
      const r = dsainWeiszfeld(rows([0], [1], [5]), { maxIter: 100, tol: 1, distanceFloor: 1e-10 });
      expect(Array.from(r.median)).to.deep.equal([2]);
      expect(r.updatesApplied).to.equal(0);
      expect(r.stepNorms.length).to.equal(1);
      expect(r.converged).to.equal(true);
    });

    it("should compute the robust scale as 1.4826 times the median distance (middle pair averaged)", function () {
      expectClose(robustScale([4, 1, 3, 2], 1.4826, 1e-10).scale, 2.5 * 1.4826, "scale");
      expect(robustScale([0, 0, 0], 1.4826, 1e-10).scale).to.equal(1e-10);
    });

    it("should weight the kept clients by their updated reputations", function () {
      // Points 0, 1, 2: the median 1 is the mean, all distances are <= 3 * 1.4826.
      // Reputations: a new (1 -> 1), b new (1 -> 1), c 0.5 -> 0.9 * 0.5 + 0.1 = 0.55.
      const r = byzFedRound(rows([0], [1], [2]), ["a", "b", "c"], new Map([["c", 0.5]]));
      expect(r.kept).to.deep.equal([0, 1, 2]);
      expectClose(r.reputationsAfter, [1, 1, 0.55], "reputations");
      expectClose(r.totalWeight, 2.55, "total");
      expectClose(r.aggregate, [(1 + 2 * 0.55) / 2.55], "aggregate");
    });

    it("should filter far updates, decay their reputations round after round, and fall back to everyone when nobody passes", function () {
      // Mean (0, 0) is the median; distances 2, 2, 1, 1, median 1.5, scale 2.2239; tau 0.5 keeps
      // distances <= 1.11195: clients c and d.
      const updates = rows([2, 0], [-2, 0], [0, 1], [0, -1]);
      const ids = ["a", "b", "c", "d"];
      const byzfed = new ByzFed({ tau: 0.5 });
      const first = byzfed.round(updates, ids);
      expect(first.kept).to.deep.equal([2, 3]);
      expectClose(first.reputationsAfter, [0.9, 0.9, 1, 1], "round 1 reputations");
      expect(Array.from(first.weights)).to.deep.equal([0, 0, 0.5, 0.5]);
      const second = byzfed.round(updates, ids);
      expectClose(second.reputationsAfter, [0.81, 0.81, 1, 1], "round 2 reputations");
      const none = byzFedRound(updates, ids, new Map(), { tau: 0.1 });
      expect(none.kept).to.deep.equal([]);
      expect(none.fallback).to.equal(true);
      expect(none.used).to.deep.equal([0, 1, 2, 3]);
      expectClose(none.reputationsAfter, [0.9, 0.9, 0.9, 0.9], "decayed reputations");
      expectClose(none.aggregate, [0, 0], "aggregate of everyone");
    });

    it("should leave the reputations of clients absent from a round unchanged", function () {
      const byzfed = new ByzFed({}, [["gone", 0.3]]);
      byzfed.round(rows([0], [1], [2]), ["a", "b", "c"]);
      expect(byzfed.reputations.get("gone")).to.equal(0.3);
    });

    it("should use 1 in the scale when the paper's text (scaleFactor 1) is chosen", function () {
      const r = byzFedRound(rows([0], [1], [2]), ["a", "b", "c"], new Map(), { scaleFactor: 1 });
      expectClose(r.robustScale, 1, "scale");
    });
  });

  describe("refusals", function () {
    const five = rows([0], [1], [2], [3], [4]);

    it("should refuse the inputs ByzFL refuses (2f >= n), naming n and f", function () {
      expectRefusal(() => trimmedMean(five, 3), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => krum(five, 3, "byzfl"), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => multiKrum(five, 3, { variant: "byzfl" }), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => mda(five, 3), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => monna(five, 3), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => meamed(five, 3), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=3");
      expectRefusal(() => nnm(five, 5), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=5");
      expectRefusal(() => arc(five, 6), ErrorCode.TOO_FEW_UPDATES, "n=5", "f=6");
    });

    it("should refuse Bulyan below n = 4f + 3, naming n and f", function () {
      expectRefusal(() => bulyan(rows([0], [1], [2], [3], [4], [5]), 1), ErrorCode.TOO_FEW_UPDATES, "n=6", "f=1", "4f + 3 = 7");
    });

    it("should accept what Flower's Krum accepts (it has no bound on f)", function () {
      // Nearest squared distances 4, 1, 1 (one neighbour: max(1, n - f - 2)).
      expect(krumSelect(rows([0], [2], [3]), 2, "flower").index).to.equal(1);
    });

    it("should refuse a trimmed mean that cuts everything", function () {
      expectRefusal(() => trimmedMeanProportion(rows([0], [1]), 0.5), ErrorCode.TOO_FEW_UPDATES, "n=2");
    });

    it("should refuse empty rounds, ragged updates and bad parameters", function () {
      expectRefusal(() => coordinateMedian([]), ErrorCode.EMPTY_INPUT);
      expectRefusal(() => mean(rows([1, 2], [3])), ErrorCode.VECTOR_LENGTH_MISMATCH, "update 1 has 1");
      expectRefusal(() => trimmedMean(five, -1), ErrorCode.INPUT_INVALID, "f must be a non-negative integer");
      expectRefusal(() => krum(five, 1, "median" as never), ErrorCode.INPUT_INVALID, "variant");
      expectRefusal(() => multiKrum(five, 1, { keep: 6 }), ErrorCode.INPUT_INVALID, "keep");
      expectRefusal(() => fedAvg(five, [1, 1, 1, 1, 0]), ErrorCode.BAD_SAMPLE_COUNT, "sample count 4");
      expectRefusal(() => new ByzFed({ alpha: 0 }), ErrorCode.INPUT_INVALID, "alpha");
      expectRefusal(() => byzFedRound(five, ["a", "b", "c", "d", "a"], new Map()), ErrorCode.BAD_PARTICIPANT_SET, '"a"');
      expectRefusal(() => byzFedRound(five, ["a"], new Map()), ErrorCode.BAD_PARTICIPANT_SET, "1 client ids for 5 updates");
    });
  });

  describe("the link to the exact integer path", function () {
    it("should split exactly representable weights exactly", function () {
      expect(toIntegerWeights([0.25, 0.75])).to.deep.equal([16384, 49152]);
      expect(toIntegerWeights([0, 3, 1])).to.deep.equal([0, 49152, 16384]);
    });

    it("should hand the remainder to the largest fractions, ties to the lower position", function () {
      expect(toIntegerWeights([1, 1, 1])).to.deep.equal([21846, 21845, 21845]);
    });

    it("should refuse weights that cannot be split", function () {
      expectRefusal(() => toIntegerWeights([]), ErrorCode.EMPTY_INPUT);
      expectRefusal(() => toIntegerWeights([0, 0]), ErrorCode.BAD_WEIGHTS, "every weight is 0");
      expectRefusal(() => toIntegerWeights([1, -1]), ErrorCode.BAD_WEIGHTS, "weight 1 is -1");
      expectRefusal(() => toIntegerWeights([1, Number.NaN]), ErrorCode.BAD_WEIGHTS, "weight 1 is NaN");
    });

    it("should commit ByzFed's decision through aggregateExact within the fixed-point resolution", function () {
      // Prepare: encoded base and local models; the float path decides on the decoded deltas.
      const base = encodeVector([0.5, -1, 2]);
      const locals = [
        [0.6, -0.9, 2.1],
        [0.55, -1.05, 2.05],
        [0.45, -0.95, 1.9],
        [9, 9, -9],
      ].map((w) => encodeVector(w));
      const deltas = locals.map((l) => encodedDelta(l, base));
      const floatDeltas = deltas.map((d) => Float64Array.from(d, (x) => x / 65536));
      // Execute
      const decision = byzFedRound(floatDeltas, ["a", "b", "c", "z"], new Map());
      const weights = toIntegerWeights(decision.weights);
      const committed = decodeVector(aggregateExact(base, deltas, weights));
      // Assert: the outlier carries no weight; the committed model is base + the float aggregate
      // up to the weights' 1/65536 rounding and the floor.
      expect(decision.kept).to.deep.equal([0, 1, 2]);
      expect(weights[3]).to.equal(0);
      expect(weights.reduce((a, b) => a + b, 0)).to.equal(WEIGHT_TOTAL);
      const baseF = decodeVector(base);
      for (let j = 0; j < 3; j++) {
        const bound = (floatDeltas.reduce((s, d) => s + Math.abs(d[j]), 0) + 2) / 65536;
        expect(Math.abs(committed[j] - (baseF[j] + decision.aggregate[j]))).to.be.at.most(bound);
      }
    });
  });

  describe("properties", function () {
    const finite = fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true });
    /** n updates of dimension d. */
    const matrix = (minN: number, maxN: number, maxD = 6) =>
      fc
        .tuple(fc.integer({ min: minN, max: maxN }), fc.integer({ min: 1, max: maxD }))
        .chain(([n, d]) => fc.array(fc.array(finite, { minLength: d, maxLength: d }), { minLength: n, maxLength: n }));
    const withPermutation = (m: fc.Arbitrary<number[][]>) =>
      m.chain((x) =>
        fc
          .shuffledSubarray(
            x.map((_, i) => i),
            { minLength: x.length, maxLength: x.length },
          )
          .map((perm) => ({ x, perm })),
      );
    const near = (a: ArrayLike<number>, b: ArrayLike<number>, scale: number) => {
      for (let j = 0; j < a.length; j++) if (!(Math.abs(a[j] - b[j]) <= 1e-9 * (1 + scale))) return false;
      return true;
    };
    const maxAbs = (x: number[][]) => Math.max(1, ...x.flat().map(Math.abs));

    it("should not depend on the order of the updates (median exactly; means, trimmed mean, ByzFed up to rounding)", function () {
      fc.assert(
        fc.property(withPermutation(matrix(1, 9)), ({ x, perm }) => {
          const u = rows(...x);
          const p = perm.map((i) => u[i]);
          const s = maxAbs(x);
          const f = Math.floor((x.length - 1) / 2);
          expect(Array.from(coordinateMedian(p))).to.deep.equal(Array.from(coordinateMedian(u)));
          expect(near(mean(p), mean(u), s)).to.equal(true);
          expect(near(trimmedMean(p, f), trimmedMean(u, f), s)).to.equal(true);
          const ids = x.map((_, i) => `c${i}`);
          const a = byzFedRound(u, ids, new Map()).aggregate;
          const b = byzFedRound(
            p,
            perm.map((i) => ids[i]),
            new Map(),
          ).aggregate;
          expect(near(a, b, s * 1e3)).to.equal(true);
        }),
      );
    });

    it("should give a zero median as +0 whatever the order of -0 and +0 (fast-check seed 2102299509)", function () {
      const x = [[-5e-324], [0], [0], [-5e-324], [-5e-324], [5e-324], [-0]];
      for (const order of [
        [0, 1, 2, 3, 4, 5, 6],
        [5, 6, 2, 3, 4, 1, 0],
      ]) {
        expect(Object.is(coordinateMedian(rows(...order.map((i) => x[i])))[0], 0), `order ${order}`).to.equal(true);
      }
      for (const pair of [
        [[-0], [0]],
        [[0], [-0]],
        [[-0], [-0]],
      ]) {
        expect(Object.is(coordinateMedian(rows(...pair))[0], 0), `pair ${pair}`).to.equal(true);
      }
    });

    it("should keep the median and the trimmed mean within each coordinate's range", function () {
      fc.assert(
        fc.property(matrix(1, 9), (x) => {
          const u = rows(...x);
          const med = coordinateMedian(u);
          const tm = trimmedMean(u, Math.floor((x.length - 1) / 2));
          for (let j = 0; j < x[0].length; j++) {
            const col = x.map((r) => r[j]);
            expect(med[j]).to.be.within(Math.min(...col), Math.max(...col));
            expect(tm[j]).to.be.within(Math.min(...col) - 1e-9, Math.max(...col) + 1e-9);
          }
        }),
      );
    });

    it("should make the trimmed mean with f = 0 the mean", function () {
      fc.assert(
        fc.property(matrix(1, 9), (x) => {
          const u = rows(...x);
          expect(Array.from(trimmedMean(u, 0))).to.deep.equal(Array.from(mean(u)));
          expect(Array.from(trimmedMeanProportion(u, 0.99 / x.length))).to.deep.equal(Array.from(mean(u)));
        }),
      );
    });

    it("should make FedAvg with equal sample counts the mean", function () {
      fc.assert(
        fc.property(matrix(1, 9), fc.integer({ min: 1, max: 1000 }), (x, k) => {
          const u = rows(...x);
          expect(
            near(
              fedAvg(
                u,
                x.map(() => k),
              ),
              mean(u),
              maxAbs(x),
            ),
          ).to.equal(true);
        }),
      );
    });

    it("should make Krum return one of the inputs, and equal inputs' Krum, MDA, MoNNA and ByzFed that input", function () {
      fc.assert(
        fc.property(matrix(1, 9), fc.array(finite, { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 7 }), (x, v, copies) => {
          const u = rows(...x);
          const { index } = krumSelect(u, 0, "flower");
          expect(Array.from(krum(u, 0, "flower"))).to.deep.equal(x[index]);
          const same = rows(...Array.from({ length: copies }, () => v));
          const f = Math.floor((copies - 1) / 2);
          for (const out of [
            krum(same, f, "byzfl"),
            mda(same, f),
            monna(same, f),
            byzFedRound(
              same,
              same.map((_, i) => `${i}`),
              new Map(),
            ).aggregate,
          ]) {
            expect(near(out, v, maxAbs([v]))).to.equal(true);
          }
        }),
      );
    });

    it("should give a symmetric distance matrix with a zero diagonal equal to the naive sums", function () {
      fc.assert(
        fc.property(matrix(1, 7, 2000), (x) => {
          const n = x.length;
          const m = pairwiseSquaredDistances(rows(...x));
          for (let i = 0; i < n; i++) {
            expect(m[i * n + i]).to.equal(0);
            for (let j = 0; j < n; j++) {
              expect(m[i * n + j]).to.equal(m[j * n + i]);
              const naive = x[i].reduce((s, a, t) => s + (a - x[j][t]) ** 2, 0);
              expect(Math.abs(m[i * n + j] - naive)).to.be.at.most(1e-12 * (1 + naive));
            }
          }
        }),
      );
    });

    it("should give ByzFed convex weights that are zero outside the used set", function () {
      fc.assert(
        fc.property(matrix(1, 9), fc.double({ min: 0.1, max: 10, noNaN: true }), (x, tau) => {
          const r = byzFedRound(
            rows(...x),
            x.map((_, i) => `${i}`),
            new Map(),
            { tau },
          );
          const sum = r.weights.reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - 1)).to.be.below(1e-12);
          r.weights.forEach((w, i) => expect(w > 0).to.equal(r.used.includes(i)));
          expect(r.fallback).to.equal(r.kept.length === 0);
        }),
      );
    });

    it("should split float weights into integers summing to 65536, each within one unit of its share", function () {
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }), (w) => {
          fc.pre(w.some((x) => x > 0));
          const a = toIntegerWeights(w);
          expect(a.reduce((s, x) => s + x, 0)).to.equal(WEIGHT_TOTAL);
          const total = w.reduce((s, x) => s + x, 0);
          a.forEach((ai, i) => {
            expect(Math.abs(ai - (w[i] / total) * WEIGHT_TOTAL)).to.be.below(1 + 1e-6);
            if (w[i] === 0) expect(ai).to.equal(0);
          });
        }),
      );
    });

    it("should agree with the protocol's integerWeights on sample counts", function () {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 1, maxLength: 20 }), (counts) => {
          expect(toIntegerWeights(counts)).to.deep.equal(integerWeights(counts));
        }),
      );
    });

    it("should select the k-th smallest value like a sort, also with many equal values", function () {
      fc.assert(
        fc.property(
          fc
            .array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 80 })
            .chain((a) => fc.tuple(fc.constant(a), fc.nat(a.length - 1))),
          ([a, k]) => {
            const buf = Float64Array.from(a);
            selectInPlace(buf, 0, buf.length, k);
            const sorted = [...a].sort((p, q) => p - q);
            expect(buf[k]).to.equal(sorted[k]);
            for (let i = 0; i < k; i++) expect(buf[i]).to.be.at.most(buf[k]);
            for (let i = k + 1; i < buf.length; i++) expect(buf[i]).to.be.at.least(buf[k]);
          },
        ),
      );
    });

    it("should keep Bulyan within each coordinate's range", function () {
      fc.assert(
        fc.property(matrix(7, 12), (x) => {
          const f = Math.floor((x.length - 3) / 4);
          const out = bulyan(rows(...x), f);
          for (let j = 0; j < x[0].length; j++) {
            const col = x.map((r) => r[j]);
            expect(out[j]).to.be.within(Math.min(...col) - 1e-9, Math.max(...col) + 1e-9);
          }
        }),
      );
    });
  });

  describe("Weiszfeld passes and the update form of the distances (weiszfeld-pass.ts, simd.ts)", function () {
    /** A seeded generator of uniform values in [-0.5, 0.5). */
    const uniform = (seed: number) => {
      let x = seed | 1;
      return () => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ (x + 0x6d2b79f5)) >>> 0) / 2 ** 32 - 0.5;
    };
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let s = 0;
      for (let j = 0; j < a.length; j++) s += a[j] * b[j];
      return s;
    };
    const twoSum = (a: number, b: number): [number, number] => {
      const s = a + b;
      const v = s - a;
      return [s, a - (s - v) + (b - v)];
    };
    const split = (a: number): [number, number] => {
      const c = 134217729 * a;
      const hi = c - (c - a);
      return [hi, a - hi];
    };
    /** ||u - y||^2 in double-double arithmetic (Knuth's TwoSum, Dekker's product): exact to about 1e-30. */
    const exactSquaredDistance = (u: ArrayLike<number>, y: ArrayLike<number>): number => {
      let hi = 0;
      let lo = 0;
      for (let j = 0; j < u.length; j++) {
        const [eh, el] = twoSum(u[j], -y[j]);
        const p = eh * eh;
        const [ah, al] = split(eh);
        const pl = ah * ah - p + 2 * ah * al + al * al;
        const [s, e] = twoSum(hi, p);
        hi = s;
        lo += e + pl + 2 * eh * el + el * el;
      }
      return hi + lo;
    };
    /** DSAIN's Weiszfeld with direct distances, written plainly: the yardstick of the hybrid. */
    const directWeiszfeld = (u: readonly Vec[], maxIter = 100, tol = 1e-6) => {
      const n = u.length;
      const d = u[0].length;
      const avg = (w: number[]) => {
        const total = w.reduce((a, b) => a + b, 0);
        return Float64Array.from({ length: d }, (_, j) => u.reduce((s, r, i) => s + w[i] * r[j], 0) / total);
      };
      const dists = (y: Float64Array) => u.map((r) => Math.sqrt(Array.from(r).reduce((s, x, j) => s + (x - y[j]) ** 2, 0)));
      let y = avg(u.map(() => 1));
      let dist = dists(y);
      let steps = 0;
      for (let it = 0; it < maxIter; it++) {
        const next = avg(dist.map((x) => 1 / Math.max(x, 1e-10)));
        if (Math.sqrt(next.reduce((s, x, j) => s + (x - y[j]) ** 2, 0)) < tol) break;
        y = next;
        dist = dists(y);
        steps++;
      }
      expect(n).to.equal(dist.length);
      return { median: y, distances: dist, steps };
    };
    /** A shared direction plus per-client noise, the last 20% sending -5 times theirs (the benchmark's data). */
    const flipped = (k: number, d: number, seed: number, f32: boolean): Vec[] => {
      const rand = uniform(seed);
      const g = Float64Array.from({ length: d }, rand);
      return Array.from({ length: k }, (_, i) => {
        const row = Float64Array.from(g, (x) => (i >= k - Math.floor(0.2 * k) ? -5 : 1) * (x + rand()));
        return f32 ? Float32Array.from(row) : row;
      });
    };
    /** Inputs that make the update form cancel: copies, an outlier, a huge common offset, a median on an update. */
    const adversarial = (f32: boolean): [string, Vec[]][] => {
      const rand = uniform(7);
      const v = Float64Array.from({ length: 3000 }, rand);
      const cast = (rs: Float64Array[]) => (f32 ? rs.map((r) => Float32Array.from(r)) : rs);
      return [
        ["identical updates", cast(Array.from({ length: 6 }, () => Float64Array.from(v)))],
        ["one update 1e6 away", cast(Array.from({ length: 7 }, (_, i) => Float64Array.from(v, (x) => x + rand() + (i === 3 ? 1e6 : 0))))],
        ["norms 1e7 times the spread", cast(Array.from({ length: 8 }, () => Float64Array.from(v, () => 1e4 + 1e-3 * rand())))],
        ["the median on an update (0, 1, 5 along a line)", cast([0, 1, 5, 1.2, 0.9].map((t) => Float64Array.from(v, (x) => t * x)))],
        ["sign flip over three SIMD blocks", flipped(6, 40_000, 11, f32)],
      ];
    };
    /** Runs `body` with the WebAssembly kernels switched off. */
    const plainLoops = <T>(body: () => T): T => {
      process.env.DSAIN_NO_SIMD = "1";
      try {
        return body();
      } finally {
        delete process.env.DSAIN_NO_SIMD;
      }
    };

    it("should make the SIMD engine equal the plain loops: iterates and weighted sums to the bit, the rest within the rounding bound", function () {
      expect(simdEnabled(), "WebAssembly SIMD on this Node").to.equal(true);
      const shape = fc.record({
        k: fc.integer({ min: 1, max: 13 }),
        d: fc.integer({ min: 1, max: 40_000 }),
        f32: fc.boolean(),
        seed: fc.integer(),
      });
      fc.assert(
        fc.property(shape, ({ k, d, f32, seed }) => {
          const rand = uniform(seed);
          const u: Vec[] = Array.from({ length: k }, () =>
            f32 ? Float32Array.from({ length: d }, rand) : Float64Array.from({ length: d }, rand),
          );
          const w1 = Float64Array.from({ length: k }, () => rand() + 1);
          const w2 = Float64Array.from({ length: k }, () => rand() + 1);
          const direct = Uint8Array.from({ length: k }, () => (rand() < 0 ? 1 : 0));
          const rows = u.map((_, i) => i).filter((i) => i % 3 !== 1);
          // Two passes (the first one direct, from no iterate), then the candidate's distances.
          const run = (engine: WeiszfeldEngine) => {
            const first = new Float64Array(k);
            engine.pass(
              w1,
              w1.reduce((a, b) => a + b, 0),
              new Uint8Array(k).fill(1),
              first,
            );
            engine.accept();
            const prev = Float64Array.from(engine.current());
            const out = new Float64Array(k);
            const into = new Float64Array(d);
            const sums = engine.pass(
              w2,
              w2.reduce((a, b) => a + b, 0),
              direct,
              out,
              { weights: w2, divisor: 3, rows, into },
            );
            const redone = new Float64Array(k);
            engine.candidateDistances(rows, redone);
            engine.accept();
            return { first, prev, out, into, sums, redone, next: Float64Array.from(engine.current()) };
          };
          const a = run(new PlainWeiszfeld(u));
          const b = run(SimdWeiszfeld.open(u)!);
          expect(Array.from(b.prev)).to.deep.equal(Array.from(a.prev));
          expect(Array.from(b.next)).to.deep.equal(Array.from(a.next));
          expect(Array.from(b.into)).to.deep.equal(Array.from(a.into));
          expect(Array.from(weightedSumSimd(u, w2, 3, rows)!)).to.deep.equal(Array.from(weightedSumPlain(u, w2, 3, rows)));
          const h = passDepth(d);
          const step = Float64Array.from(a.next, (y, j) => y - a.prev[j]);
          const stepNorm = Math.sqrt(dot(step, step));
          const within = (x: number, y: number, bound: number, what: string) =>
            expect(Math.abs(x - y), `${what}: ${x} vs ${y}`).to.be.at.most(2 * bound);
          for (let i = 0; i < k; i++) {
            within(b.first[i], a.first[i], gamma(h + 3) * a.first[i], `first pass, row ${i}`);
            const bound = direct[i] ? gamma(h + 3) * Math.abs(a.out[i]) : gamma(h + 1) * Math.sqrt(dot(u[i], u[i])) * stepNorm;
            within(b.out[i], a.out[i], bound, `row ${i}`);
          }
          within(b.sums.step2, a.sums.step2, gamma(h + 1) * a.sums.step2, "squared step");
          within(b.sums.prevDotStep, a.sums.prevDotStep, gamma(h + 1) * Math.sqrt(dot(a.prev, a.prev)) * stepNorm, "prev . step");
          for (const i of rows) within(b.redone[i], a.redone[i], gamma(h + 3) * a.redone[i], `distance ${i}`);
        }),
        { numRuns: 60 },
      );
    });

    for (const f32 of [true, false]) {
      for (const backend of ["SIMD", "plain loops"]) {
        it(`should keep each squared distance within its tracked bound of the exact value, and that bound within KAPPA times the direct form's (${f32 ? "float32" : "float64"}, ${backend})`, function () {
          const run = backend === "SIMD" ? <T>(f: () => T) => f() : plainLoops;
          for (const [name, u] of adversarial(f32)) {
            run(() => {
              // Prepare: the first pass (the mean, every row direct).
              const n = u.length;
              const d = u[0].length;
              const g3 = gamma(passDepth(d) + 3);
              const engine = weiszfeldEngine(u);
              expect(engine instanceof SimdWeiszfeld).to.equal(backend === "SIMD");
              const w = new Float64Array(n).fill(1);
              const direct = new Uint8Array(n).fill(1);
              const out = new Float64Array(n);
              const dist = new SquaredDistances(n, d);
              dist.start(out, engine.pass(w, n, direct, out));
              engine.accept();
              let last = Infinity;
              let updateForm = 0;
              for (let it = 0; it < 12; it++) {
                // Execute: one iteration as dsainWeiszfeld makes it.
                let total = 0;
                for (let i = 0; i < n; i++) total += w[i] = 1 / Math.max(Math.sqrt(dist.d2[i]), 1e-10);
                dist.plan(direct, last);
                updateForm += direct.filter((x) => x === 0).length;
                const sums = engine.pass(w, total, direct, out);
                const redo = dist.advance(direct, out, sums);
                engine.candidateDistances(redo, out);
                for (const i of redo) dist.setNextDirect(i, out[i]);
                dist.commit();
                engine.accept();
                last = Math.sqrt(sums.step2);
                const y = engine.current();
                // Assert: within the bound of the exact value, and the bound within KAPPA times the direct
                // one; the iterate's norm within its bound.
                expect(dist.iterateNorm2, `${name}, iteration ${it}: ||y||^2`).to.be.at.least(exactSquaredDistance(y, new Float64Array(d)));
                for (let i = 0; i < n; i++) {
                  const exact = exactSquaredDistance(u[i], y);
                  expect(Math.abs(dist.d2[i] - exact), `${name}, iteration ${it}, row ${i}`).to.be.at.most(dist.err[i]);
                  expect(dist.err[i], `${name}, iteration ${it}, row ${i}: bound`).to.be.at.most(
                    KAPPA * g3 * dist.d2[i] + Number.MIN_VALUE,
                  );
                }
              }
              // The update form did serve where it is safe: the sign-flip data after the first steps.
              if (name.startsWith("sign flip")) expect(updateForm, `${name}: rows served by the update form`).to.be.greaterThan(n * 6);
            });
          }
        });
      }
    }

    it("should keep a round's median and aggregate when later rounds reuse the module's memory for their iterates", function () {
      const next = uniform(41);
      const make = (k: number, d: number, shift: number) =>
        Array.from({ length: k }, () => Float32Array.from({ length: d }, () => shift + next()));
      const ids = (k: number) => Array.from({ length: k }, (_, i) => `p${i}`);
      const first = byzFedRound(make(6, 5_000, 0), ids(6), new Map());
      const median = Float64Array.from(first.geometricMedian);
      const aggregate = Float64Array.from(first.aggregate);
      // Larger and smaller rounds after it, on other values: the same WebAssembly instances serve them.
      for (const [k, d] of [
        [9, 7_000],
        [4, 3_000],
        [6, 5_000],
      ] as const)
        byzFedRound(make(k, d, 10), ids(k), new Map());
      expect(Array.from(first.geometricMedian)).to.deep.equal(Array.from(median));
      expect(Array.from(first.aggregate)).to.deep.equal(Array.from(aggregate));
      expect(simdEnabled(), "the SIMD engine ran").to.equal(!process.env.DSAIN_NO_SIMD);
    });

    it("should give the direct form's Weiszfeld (median, distances, steps) on adversarial inputs, SIMD and plain loops", function () {
      for (const f32 of [true, false]) {
        for (const [name, u] of adversarial(f32)) {
          if (u[0].length > 5000) continue; // the yardstick is slow; the sign-flip case is checked below
          const ref = directWeiszfeld(u);
          for (const r of [dsainWeiszfeld(u), plainLoops(() => dsainWeiszfeld(u))]) {
            expect(r.updatesApplied, `${name}: steps`).to.equal(ref.steps);
            // Besides the vectors' tolerance, the iterate's own rounding: about 1e-15 ||y|| (the huge offset).
            const scale = Math.max(...ref.distances) + 1e-3 * Math.sqrt(ref.median.reduce((a, x) => a + x * x, 0));
            r.median.forEach((x, j) =>
              expect(Math.abs(x - ref.median[j]), `${name}: median[${j}]`).to.be.at.most(1e-12 + 1e-9 * Math.abs(ref.median[j])),
            );
            r.distances.forEach((x, i) =>
              expect(Math.abs(x - ref.distances[i]), `${name}: distance ${i}`).to.be.at.most(1e-12 * (1 + scale) + 1e-9 * ref.distances[i]),
            );
          }
        }
      }
      const u = flipped(6, 40_000, 11, true);
      const [a, b] = [dsainWeiszfeld(u), plainLoops(() => dsainWeiszfeld(u))];
      expect(a.stepNorms.length).to.equal(b.stepNorms.length);
      a.distances.forEach((x, i) => expectClose(x, b.distances[i], `sign flip: distance ${i}`));
      expectClose(a.median, b.median, "sign flip: median");
    });

    it("should make ByzFed's aggregate in its last Weiszfeld pass, equal to the bit to a separate weighted mean, reading the input steps + 1 times", function () {
      for (const run of [<T>(f: () => T) => f(), plainLoops]) {
        run(() => {
          const u = flipped(10, 5000, 3, true);
          const r = byzFedRound(
            u,
            u.map((_, i) => `c${i}`),
            new Map(),
          );
          expect(r.kept).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
          // The mean's pass and one per step computed; no pass for the aggregate.
          expect(r.passes).to.equal(r.weiszfeld.stepNorms.length + 1);
          expect(r.weiszfeld.passes).to.equal(r.passes);
          expect(Array.from(r.aggregate)).to.deep.equal(Array.from(weightedSum(u, r.reputationsAfter, r.totalWeight, r.used)));
        });
      }
    });

    it("should still aggregate in a pass of its own when no pass was predicted to be the last", function () {
      // Points 0, 1, 5: the tolerance is met at the first step, before two steps exist to predict from.
      const r = byzFedRound(rows([0], [1], [5]), ["a", "b", "c"], new Map(), { tol: 1 });
      expect(r.weiszfeld.stepNorms.length).to.equal(1);
      expect(r.passes).to.equal(3);
      expectClose(r.aggregate, [2], "aggregate");
    });
  });
});
