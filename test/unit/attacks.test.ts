// Specification of the Byzantine attacks: hand-computed cases, the properties their papers rely on, and refusals.
import { expect } from "chai";
import fc from "fast-check";
import {
  additiveGaussianAttack,
  alie,
  alieZ,
  attackSuccessRate,
  backdoorTestSet,
  flipLabel,
  flipLabels,
  gaussianAttack,
  ipm,
  minMaxAttack,
  minSumAttack,
  normalQuantile,
  poisonWithTrigger,
  signFlip,
  squaredDistance,
  stampTrigger,
  triggerPositions,
} from "../../aggregator/maths/attacks/index.js";
import { ErrorCode } from "../../aggregator/errors.js";
import { Prng, syntheticClassification } from "../../aggregator/maths/learning/data.js";
import { evaluate, initialWeights, mlpSpec, predictLabels, trainLocal } from "../../aggregator/maths/learning/model.js";
import { initTf } from "../../aggregator/maths/learning/tf.js";
import { expectClose } from "../helpers/close.js";
import { expectDsainError } from "../helpers/errors.js";

const vec = (...v: number[]) => Float64Array.from(v);
const list = (a: Float64Array) => Array.from(a);

/** n honest vectors of dimension d with coordinates drawn from a small integer grid (exact in float64). */
const honestArb = (minN = 2) =>
  fc
    .record({ n: fc.integer({ min: minN, max: 8 }), d: fc.integer({ min: 1, max: 6 }) })
    .chain(({ n, d }) =>
      fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: d, maxLength: d }), { minLength: n, maxLength: n }),
    )
    .map((rows) => rows.map((r) => Float64Array.from(r, (v) => v / 4)));

describe("attacks: sign flip", function () {
  it("should send -lambda times the update", function () {
    // Prepare
    const u = Float32Array.from([1, -2, 0.5]);
    // Execute
    const plain = signFlip(u);
    const boosted = signFlip(u, 5);
    // Assert
    expect(list(plain)).to.deep.equal([-1, 2, -0.5]);
    expect(list(boosted)).to.deep.equal([-5, 10, -2.5]);
  });

  it("should refuse a non-positive lambda and non-finite updates", function () {
    expectDsainError(() => signFlip(vec(1), 0), ErrorCode.INPUT_INVALID, /sign flip: lambda is 0/);
    expectDsainError(() => signFlip(vec(1), Number.NaN), ErrorCode.INPUT_INVALID, /lambda is NaN/);
    expectDsainError(() => signFlip(vec(1, Infinity)), ErrorCode.INPUT_INVALID, /coordinate 1 = Infinity/);
  });
});

describe("attacks: Gaussian", function () {
  it("should replace the update with N(mu, sigma^2) draws from the given source", function () {
    const source = {
      draws: [1, -1, 0.5],
      nextGaussian() {
        return this.draws.shift() as number;
      },
    };
    expect(list(gaussianAttack(3, 2, source, 10))).to.deep.equal([12, 8, 11]);
  });

  it("should add sigma-scaled noise to the update in the additive form", function () {
    const source = { nextGaussian: () => 0.25 };
    expect(list(additiveGaussianAttack(vec(1, 2), 4, source))).to.deep.equal([2, 3]);
  });

  it("should draw with the requested spread from the seeded Prng", function () {
    const v = gaussianAttack(20000, 3, new Prng(1));
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    expect(Math.abs(m)).to.be.below(0.1);
    expect(Math.abs(sd - 3)).to.be.below(0.1);
  });

  it("should refuse a negative sigma and a bad dimension", function () {
    expectDsainError(() => gaussianAttack(3, -1, new Prng(1)), ErrorCode.INPUT_INVALID, /sigma is -1/);
    expectDsainError(() => gaussianAttack(0, 1, new Prng(1)), ErrorCode.INPUT_INVALID, /dimension is 0/);
    expectDsainError(() => additiveGaussianAttack(vec(1), Infinity, new Prng(1)), ErrorCode.INPUT_INVALID, /sigma is Infinity/);
  });
});

describe("attacks: label flipping", function () {
  it("should map y to C - 1 - y and keep the inputs", function () {
    const data = { x: Float32Array.from([1, 2, 3]), y: Uint8Array.from([0, 9, 4]), features: 1, classes: 10 };
    const flipped = flipLabels(data);
    expect(Array.from(flipped.y)).to.deep.equal([9, 0, 5]);
    expect(flipped.x).to.equal(data.x);
    expect(Array.from(data.y)).to.deep.equal([0, 9, 4]);
    expect(flipLabel(2, 3)).to.equal(0);
  });

  it("should be an involution", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 256 }).chain((c) => fc.tuple(fc.constant(c), fc.integer({ min: 0, max: c - 1 }))),
        ([c, y]) => {
          expect(flipLabel(flipLabel(y, c), c)).to.equal(y);
        },
      ),
    );
  });

  it("should refuse a label outside the classes", function () {
    expectDsainError(() => flipLabel(3, 3), ErrorCode.INPUT_INVALID, /label 3 is outside \[0, 3\)/);
    const bad = { x: new Float32Array(1), y: Uint8Array.from([5]), features: 1, classes: 4 };
    expectDsainError(() => flipLabels(bad), ErrorCode.DATA_MALFORMED, /label 0 is 5/);
  });
});

describe("attacks: A Little Is Enough", function () {
  it("should compute z_max from n and f with Baruch et al.'s formula", function () {
    // n = 50, f = 12: s = floor(26) - 12 = 14, Phi^{-1}(36/50) = Phi^{-1}(0.72).
    expectClose(alieZ(50, 12), 0.5828415072712162, 1e-12);
    // n = 20, f = 4 (DSAIN's 20%): s = 7, Phi^{-1}(0.65).
    expectClose(alieZ(20, 4), 0.38532046640756773, 1e-12);
    // Reference values from scipy.stats.norm.ppf.
    expectClose(normalQuantile(0.975), 1.959963984540054, 1e-12);
    expectClose(normalQuantile(0.02), -2.053748910631823, 1e-12);
    expectClose(normalQuantile(1e-10), -6.361340902404056, 1e-12);
    expectClose(normalQuantile(1e-300), -37.0470962993612, 1e-12);
    expectClose(normalQuantile(0.5), 0, 1e-15);
  });

  it("should send mean - z * std (ddof 1) coordinate-wise", function () {
    // Prepare: coordinate 0 has mean 2 and std 2; coordinate 1 is constant.
    const honest = [vec(0, 1), vec(2, 1), vec(4, 1)];
    // Execute
    const a = alie(honest, { z: 0.5 });
    const up = alie(honest, { z: 0.5, direction: 1 });
    const pop = alie(honest, { z: 0.5, ddof: 0 });
    // Assert
    expect(list(a)).to.deep.equal([1, 1]);
    expect(list(up)).to.deep.equal([3, 1]);
    expectClose(pop[0], 2 - 0.5 * Math.sqrt(8 / 3), 1e-15);
    const fromNf = alie(honest, { n: 10, f: 2 });
    expectClose(fromNf[0], 2 - 2 * 0.2533471031357997, 1e-12);
  });

  it("should stay inside every honest coordinate's range when z <= 1/sqrt(m) (Samuelson and Bhatia-Davis bounds)", function () {
    fc.assert(
      fc.property(honestArb(), fc.double({ min: 0, max: 1, noNaN: true }), (honest, t) => {
        const z = t / Math.sqrt(honest.length);
        const a = alie(honest, { z });
        for (let j = 0; j < a.length; j++) {
          const column = honest.map((h) => h[j]);
          expect(a[j]).to.be.at.least(Math.min(...column) - 1e-9);
          expect(a[j]).to.be.at.most(Math.max(...column) + 1e-9);
        }
      }),
    );
  });

  it("should move each coordinate exactly z standard deviations below the honest mean", function () {
    fc.assert(
      fc.property(honestArb(), fc.double({ min: 0, max: 3, noNaN: true }), (honest, z) => {
        const a = alie(honest, { z });
        const m = honest.length;
        for (let j = 0; j < a.length; j++) {
          const mu = honest.reduce((s, h) => s + h[j], 0) / m;
          const sd = Math.sqrt(honest.reduce((s, h) => s + (h[j] - mu) ** 2, 0) / (m - 1));
          expectClose(a[j], mu - z * sd, 1e-9 * (1 + Math.abs(mu) + z * sd));
        }
      }),
    );
  });

  it("should refuse an n and f for which z is unbounded, and conflicting options", function () {
    expectDsainError(
      () => alieZ(10, 6),
      ErrorCode.INPUT_INVALID,
      /s = floor\(n\/2 \+ 1\) - f = 0 .* Byzantine clients already form a majority/,
    );
    expectDsainError(() => alieZ(10, 0), ErrorCode.INPUT_INVALID, /f is 0/);
    expectDsainError(() => alie([vec(1), vec(2)], { z: 1, n: 5, f: 1 }), ErrorCode.INPUT_INVALID, /either z or n and f/);
    expectDsainError(() => alie([vec(1), vec(2)], {}), ErrorCode.INPUT_INVALID, /give n and f/);
    expectDsainError(() => alie([vec(1)], { z: 1 }), ErrorCode.EMPTY_INPUT, /at least 2 honest updates/);
    expectDsainError(() => alie([vec(1), vec(2, 3)], { z: 1 }), ErrorCode.VECTOR_LENGTH_MISMATCH, /update 1 has 2 coordinates/);
    expectDsainError(() => normalQuantile(1), ErrorCode.INPUT_INVALID, /p is 1/);
  });
});

describe("attacks: Inner Product Manipulation", function () {
  it("should send -epsilon times the honest mean", function () {
    expect(list(ipm([vec(1, 2), vec(3, 4)], 0.5))).to.deep.equal([-1, -1.5]);
  });

  it("should have a non-positive inner product with the honest mean", function () {
    fc.assert(
      fc.property(honestArb(1), fc.double({ min: 1e-3, max: 100, noNaN: true }), (honest, eps) => {
        const a = ipm(honest, eps);
        const mu = honest[0].map((_, j) => honest.reduce((s, h) => s + h[j], 0) / honest.length);
        expect(a.reduce((s, v, j) => s + v * mu[j], 0)).to.be.at.most(0);
      }),
    );
  });

  it("should refuse a non-positive epsilon and an empty honest set", function () {
    expectDsainError(() => ipm([vec(1)], 0), ErrorCode.INPUT_INVALID, /IPM: epsilon is 0/);
    expectDsainError(() => ipm([], 1), ErrorCode.EMPTY_INPUT, /IPM: needs at least 1 honest update/);
  });
});

describe("attacks: min-max and min-sum", function () {
  // Honest values 0, 1, 3 (one coordinate): mean 4/3, pairwise squared distances 1, 9, 4,
  // per-update sums 10, 5, 13, sample std sqrt(7/3).
  const honest = [vec(0), vec(1), vec(3)];

  it("should find min-max's gamma by hand: the farthest honest update (3) bounds the shift to 4/3", function () {
    // (4/3 - gamma - 3)^2 <= 9  <=>  gamma <= 4/3, so the update is 0.
    const { update, gamma } = minMaxAttack(honest);
    expect(gamma).to.be.at.most(4 / 3);
    expectClose(gamma, 4 / 3, 2e-5);
    expectClose(update[0], 0, 2e-5);
  });

  it("should find min-sum's gamma by hand, for the paper's max bound and the release's min bound", function () {
    // sum_i (m - g_i)^2 = 3 gamma^2 + 14/3 <= 13 gives gamma <= 5/3; <= 5 gives gamma <= 1/3.
    expectClose(minSumAttack(honest).gamma, 5 / 3, 2e-5);
    expectClose(minSumAttack(honest, { sumBound: "min" }).gamma, 1 / 3, 2e-5);
  });

  it("should scale the inverse std and inverse sign perturbations", function () {
    const std = minMaxAttack(honest, { direction: "std" });
    expectClose(std.perturbation[0], -Math.sqrt(7 / 3), 1e-15);
    expectClose(std.gamma, 4 / 3 / Math.sqrt(7 / 3), 2e-5);
    const sign = minMaxAttack([vec(1, -2), vec(3, -4)], { direction: "sign" });
    expect(list(sign.perturbation)).to.deep.equal([-1, 1]);
    // Mean (2, -3), update (2 - g, -3 + g); farthest honest is (3, -4): 2 (1 + g)^2 <= 8 gives g <= 1.
    expectClose(sign.gamma, 1, 2e-5);
  });

  it("should stop the search at 2 * gammaInit, the most the halving search can reach", function () {
    const { gamma } = minMaxAttack([vec(0, 0), vec(100, 0)], { gammaInit: 1 });
    expect(gamma).to.be.below(2);
    expect(gamma).to.be.above(2 - 2e-5);
  });

  it("should keep min-max's largest distance to an honest update within the largest honest pairwise distance", function () {
    fc.assert(
      fc.property(honestArb(), fc.constantFrom("unit", "std", "sign"), (h, direction) => {
        if (direction === "unit" && h[0].every((_, j) => h.reduce((s, v) => s + v[j], 0) === 0)) return;
        const { update } = minMaxAttack(h, { direction: direction as "unit" | "std" | "sign" });
        let maxPair = 0;
        for (let i = 0; i < h.length; i++) for (let k = i + 1; k < h.length; k++) maxPair = Math.max(maxPair, squaredDistance(h[i], h[k]));
        for (const g of h) expect(squaredDistance(update, g)).to.be.at.most(maxPair);
      }),
    );
  });

  it("should keep min-sum's summed distance within the largest honest sum, and the gamma nearly maximal", function () {
    fc.assert(
      fc.property(honestArb(), (h) => {
        if (h[0].every((_, j) => h.reduce((s, v) => s + v[j], 0) === 0)) return;
        const { update, gamma, perturbation } = minSumAttack(h);
        const sums = h.map((g) => h.reduce((s, o) => s + squaredDistance(g, o), 0));
        const total = (m: Float64Array) => h.reduce((s, g) => s + squaredDistance(m, g), 0);
        expect(total(update)).to.be.at.most(Math.max(...sums));
        if (gamma < 19.99) {
          // A step of 1e-4 beyond the found gamma breaks the bound (the search is tolerant to 1e-5).
          const beyond = update.map((v, j) => v + 1e-4 * perturbation[j]);
          expect(total(beyond)).to.be.above(Math.max(...sums));
        }
      }),
    );
  });

  it("should refuse a single honest update, a zero mean for the unit direction and bad parameters", function () {
    expectDsainError(() => minMaxAttack([vec(1)]), ErrorCode.EMPTY_INPUT, /min-max: needs at least 2 honest updates/);
    expectDsainError(() => minMaxAttack([vec(1), vec(-1)]), ErrorCode.INPUT_INVALID, /honest mean is zero.*use direction "std"/);
    expectDsainError(() => minMaxAttack(honest, { gammaInit: 0 }), ErrorCode.INPUT_INVALID, /gammaInit is 0/);
    expectDsainError(() => minSumAttack(honest, { tolerance: -1 }), ErrorCode.INPUT_INVALID, /tolerance is -1/);
    expectDsainError(() => minMaxAttack(honest, { direction: "up" as "unit" }), ErrorCode.INPUT_INVALID, /direction is up/);
    expectDsainError(() => minSumAttack(honest, { sumBound: "mean" as "max" }), ErrorCode.INPUT_INVALID, /sumBound is mean/);
  });
});

describe("attacks: pixel-trigger backdoor", function () {
  // Two 4x4 grey images (16 features), pixels 0.1 * (index + 1) for the first, 0 for the second.
  const data = {
    x: Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? 0.1 * (i + 1) : 0)),
    y: Uint8Array.from([1, 2]),
    features: 16,
    classes: 3,
  };
  const trigger = { imageShape: [4, 4, 1] as [number, number, number], size: 2 };

  it("should stamp a bottom-right patch by default and nowhere else", function () {
    expect(Array.from(triggerPositions(trigger, 16))).to.deep.equal([10, 11, 14, 15]);
    const stamped = stampTrigger(data, trigger, [1]);
    expect(Array.from(stamped.x.subarray(16))).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(stamped.x.subarray(0, 16))).to.deep.equal(Array.from(data.x.subarray(0, 16)));
    expect(Array.from(triggerPositions({ imageShape: [3, 3, 2], size: 1, row: 0, col: 1 }, 18))).to.deep.equal([2, 3]);
  });

  it("should poison round(fraction * n) samples chosen by the seed, relabelled to the target", function () {
    const big = syntheticClassification({ seed: 1, samples: 40, features: 16, classes: 3 });
    const { dataset, poisoned } = poisonWithTrigger(big, { trigger, fraction: 0.25, targetClass: 0, seed: 5 });
    expect(poisoned.length).to.equal(10);
    expect(poisonWithTrigger(big, { trigger, fraction: 0.25, targetClass: 0, seed: 5 }).poisoned).to.deep.equal(poisoned);
    for (let i = 0; i < 40; i++) {
      const hit = poisoned.includes(i);
      expect(dataset.y[i]).to.equal(hit ? 0 : big.y[i]);
      expect(dataset.x[i * 16 + 15]).to.equal(hit ? 1 : big.x[i * 16 + 15]);
    }
  });

  it("should build the triggered test set from non-target samples only", function () {
    const test = backdoorTestSet(data, trigger, 2);
    expect(test.y.length).to.equal(1);
    expect(Array.from(test.y)).to.deep.equal([2]);
    expect(test.x[15]).to.equal(1);
    expect(test.x[0]).to.equal(Math.fround(0.1));
  });

  it("should count the attack success rate over samples whose true class is not the target", function () {
    // Labels 0, 1, 2, 1 with target 1: eligible are samples 0 and 2, of which sample 0 is hit.
    expect(attackSuccessRate([1, 1, 0, 0], [0, 1, 2, 1], 1)).to.equal(0.5);
    expect(attackSuccessRate([1, 1], [0, 2], 1)).to.equal(1);
  });

  it("should implant a backdoor through local training while clean accuracy stays high", async function () {
    const { tf } = await initTf();
    const shape = { imageShape: [4, 4, 1] as [number, number, number], size: 2, value: 6 };
    const pool = syntheticClassification({ seed: 21, samples: 900, features: 16, classes: 3, separation: 2 });
    const train = { ...pool, x: pool.x.slice(0, 600 * 16), y: pool.y.slice(0, 600) };
    const test = { ...pool, x: pool.x.slice(600 * 16), y: pool.y.slice(600) };
    const spec = mlpSpec({ inputs: 16, hidden: [32], classes: 3 });
    const w0 = initialWeights(spec, 4);
    const { dataset } = poisonWithTrigger(train, { trigger: shape, fraction: 0.2, targetClass: 2, seed: 8 });
    const options = { epochs: 8, batchSize: 32, learningRate: 0.05, momentum: 0.9, seed: 2 };
    const clean = await trainLocal(tf, spec, w0, train, options);
    const poisoned = await trainLocal(tf, spec, w0, dataset, options);
    const triggered = backdoorTestSet(test, shape, 2);
    const truth = test.y.filter((v) => v !== 2);
    const asr = (w: Float32Array) => attackSuccessRate(predictLabels(tf, spec, w, triggered), truth, 2);
    expect(asr(poisoned)).to.be.above(0.9);
    expect(asr(poisoned)).to.equal(evaluate(tf, spec, poisoned, triggered).accuracy);
    expect(asr(clean)).to.be.below(0.6);
    expect(evaluate(tf, spec, poisoned, test).accuracy).to.be.above(evaluate(tf, spec, clean, test).accuracy - 0.05);
  });

  it("should refuse a trigger that does not fit, a bad fraction and a target outside the classes", function () {
    expectDsainError(() => triggerPositions({ imageShape: [4, 4, 1], size: 5 }, 16), ErrorCode.INPUT_INVALID, /trigger size is 5/);
    expectDsainError(
      () => triggerPositions({ imageShape: [4, 4, 1], row: 3, size: 2 }, 16),
      ErrorCode.INPUT_INVALID,
      /at row 3, column 2 does not fit a 4x4 image/,
    );
    expectDsainError(
      () => triggerPositions({ imageShape: [4, 4, 2] }, 16),
      ErrorCode.INPUT_INVALID,
      /has 32 values but the data has 16 features/,
    );
    expectDsainError(
      () => poisonWithTrigger(data, { trigger, fraction: 0, targetClass: 0, seed: 1 }),
      ErrorCode.INPUT_INVALID,
      /fraction is 0/,
    );
    expectDsainError(
      () => poisonWithTrigger(data, { trigger, fraction: 0.5, targetClass: 3, seed: 1 }),
      ErrorCode.INPUT_INVALID,
      /target class 3 is outside \[0, 3\)/,
    );
    expectDsainError(() => attackSuccessRate([1], [1], 1), ErrorCode.EMPTY_INPUT, /no sample has a true class other than the target/);
    expectDsainError(() => attackSuccessRate([1, 2], [1], 1), ErrorCode.VECTOR_LENGTH_MISMATCH, /2 predictions for 1 labels/);
  });
});
