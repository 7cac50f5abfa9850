// Specification of the FedSov client step: the DSAIN reference vectors, top-k + error feedback, clipping, noise modes, bytes.
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ErrorCode } from "../../aggregator/errors.js";
import { Prng, syntheticClassification } from "../../aggregator/maths/learning/data.js";
import {
  type FedsovVectorSchema,
  type GaussianSource,
  TopKCompressor,
  addGaussianNoise,
  addGaussianNoiseOnSupport,
  clipToNorm,
  compressWithErrorFeedback,
  densify,
  fedsovClientStep,
  fedsovEncode,
  fedsovSchemaOf,
  gaussianNoiseScale,
  l2Norm,
  linearLocalUpdate,
  runFedsovVectorCase,
  topKCount,
  topKIndices,
  wireBytes,
  wireToDense,
} from "../../aggregator/maths/fedsov/index.js";
import { initialWeights, mlpSpec } from "../../aggregator/maths/learning/model.js";
import { initTf } from "../../aggregator/maths/learning/tf.js";
import { expectClose } from "../helpers/close.js";
import { expectDsainError } from "../helpers/errors.js";

const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures", "vectors", "dsain");

function readVectors(name: string): { meta: Record<string, any>; cases: Record<string, any>[] } {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"));
}

/** A noise source that always draws 0: the pipeline without its randomness. */
const NO_NOISE: GaussianSource = { nextGaussian: () => 0 };

/** The reference's selection: the k largest |x|, ties to the lower index (sort-based, O(d log d)). */
function slowTopK(values: number[], k: number): number[] {
  return values
    .map((v, i) => [Math.abs(v), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

describe("fedsov: DSAIN reference vectors", function () {
  for (const [file, schema] of [
    ["topk-ef-vectors.json", "dsain/topk-ef"],
    ["fedsov-dp-vectors.json", "dsain/fedsov-dp"],
  ] as const) {
    const vectors = readVectors(file);

    describe(file, function () {
      it("should carry the reference's source and commit in its meta", function () {
        expect(vectors.meta.source.repo).to.equal("https://github.com/TerexSpace/dsain-framework");
        expect(vectors.meta.source.commit).to.equal("1ef69cb6275cc8593b6f997c1f0903fd76dcf7e8");
        expect(vectors.cases.length).to.be.greaterThan(0);
      });

      it(`should be recognised as ${schema} from its name`, function () {
        expect(fedsovSchemaOf(`../shared/vectors/dsain/${file}`)).to.equal(schema);
      });

      for (const c of vectors.cases) {
        it(`should match case ${c.id}`, function () {
          const r = runFedsovVectorCase(schema, c);
          expect(r.message).to.be.a("string");
          expect(r.ok, r.message).to.equal(true);
          expect(r.id).to.equal(c.id);
        });
      }
    });
  }

  it("should fail a top-k case whose output was altered, naming the round and coordinate", function () {
    const c = structuredClone(readVectors("topk-ef-vectors.json").cases[2]);
    const i = c.rounds[1].selected_indices[0];
    c.rounds[1].output[i] += 1e-15;
    const r = runFedsovVectorCase("dsain/topk-ef", c);
    expect(r.ok).to.equal(false);
    expect(r.message).to.include(`round 1 output[${i}]`);
  });

  it("should fail a top-k case whose stored residual disagrees with the compressor's", function () {
    const c = structuredClone(readVectors("topk-ef-vectors.json").cases[0]);
    c.rounds[2].residual_before[3] = 7;
    const r = runFedsovVectorCase("dsain/topk-ef", c);
    expect(r.ok).to.equal(false);
    expect(r.message).to.include("round 2 residual_before[3]");
  });

  it("should fail DP cases whose expected numbers were altered beyond the tolerance", function () {
    const cases = readVectors("fedsov-dp-vectors.json").cases;
    const scale = structuredClone(cases.find((c) => c.kind === "dp_noise_scale")!);
    scale.noise_scale *= 1 + 1e-8;
    expect(runFedsovVectorCase("dsain/fedsov-dp", scale).message).to.match(/noise_scale is .* expected/);
    const update = structuredClone(cases.find((c) => c.kind === "local_update")!);
    update.momentum_buffer_after[1] += 1e-6;
    const r = runFedsovVectorCase("dsain/fedsov-dp", update);
    expect(r.ok).to.equal(false);
    expect(r.message).to.include("momentum_buffer_after[1]");
  });

  it("should refuse unknown kinds, unknown schemas and malformed cases without throwing", function () {
    expect(runFedsovVectorCase("dsain/fedsov-dp", { id: "x", kind: "dp_other" })).to.deep.include({ ok: false, id: "x" });
    expect(runFedsovVectorCase("dsain/other" as FedsovVectorSchema, { id: "y" }).message).to.match(/unknown schema/);
    expect(runFedsovVectorCase("dsain/topk-ef", { id: "z", d: 3, compression_ratio: 0.5, rounds: "no" }).message).to.match(/malformed/);
    expect(runFedsovVectorCase("dsain/topk-ef", null).ok).to.equal(false);
  });

  it("should report a local update with fewer batch rows than samples as not reproducible (numpy's generator)", function () {
    const c = structuredClone(readVectors("fedsov-dp-vectors.json").cases.find((x) => x.kind === "local_update")!);
    c.batch_size = 2;
    const r = runFedsovVectorCase("dsain/fedsov-dp", c);
    expect(r.ok).to.equal(false);
    expect(r.message).to.match(/MT19937/);
  });
});

describe("fedsov: topKCount", function () {
  it("should truncate d * ratio like Python's int() and never go below 1", function () {
    expect(topKCount(100, 0.29)).to.equal(28); // 100 * 0.29 = 28.999999999999996
    expect(topKCount(5, 0.1)).to.equal(1);
    expect(topKCount(1, 0.5)).to.equal(1);
    expect(topKCount(64, 0.25)).to.equal(16);
    expect(topKCount(50, 1)).to.equal(50);
  });

  it("should refuse a ratio outside (0, 1] and a dimension below 1", function () {
    expectDsainError(() => topKCount(10, 0), ErrorCode.INPUT_INVALID, /compression ratio is 0/);
    expectDsainError(() => topKCount(10, 1.5), ErrorCode.INPUT_INVALID, /compression ratio is 1.5/);
    expectDsainError(() => topKCount(0, 0.5), ErrorCode.INPUT_INVALID, /dimension is 0/);
    expectDsainError(() => new TopKCompressor(NaN), ErrorCode.INPUT_INVALID, /compression ratio is NaN/);
  });
});

describe("fedsov: topKIndices", function () {
  it("should pick the k largest magnitudes, ties to the lower index, as a full sort would", function () {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 60 }),
        (ints, kRaw) => {
          const values = ints.map((v) => v / 2); // many ties on purpose
          const k = Math.min(kRaw, values.length);
          expect([...topKIndices(values, k)]).to.deep.equal(slowTopK(values, k));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("should agree with a full sort on 200,000 distinct random values", function () {
    const rng = new Prng(7);
    const values = Array.from({ length: 200_000 }, () => rng.nextGaussian());
    expect([...topKIndices(values, 20_000)]).to.deep.equal(slowTopK(values, 20_000));
  });

  it("should refuse k outside [1, d]", function () {
    expectDsainError(() => topKIndices([1, 2], 3), ErrorCode.INPUT_INVALID, /k is 3/);
    expectDsainError(() => topKIndices([1, 2], 0), ErrorCode.INPUT_INVALID, /k is 0/);
  });
});

describe("fedsov: compressWithErrorFeedback", function () {
  it("should split the accumulated vector exactly into output + residual, zero residual on the support", function () {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (v, ratio) => {
          const step = compressWithErrorFeedback(v, undefined, ratio);
          const out = densify(step.output);
          expect(step.k).to.equal(topKCount(v.length, ratio));
          expect(step.output.indices.length).to.equal(step.k);
          for (let i = 0; i < v.length; i++) expect(out[i] + step.residual[i]).to.equal(step.accumulated[i]);
          for (const i of step.output.indices) expect(step.residual[i]).to.equal(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("should lose nothing over rounds: sum of outputs + last residual = sum of inputs (integer data, exact)", function () {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 30 })
          .chain((d) =>
            fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: d, maxLength: d }), { minLength: 1, maxLength: 8 }),
          ),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (rounds, ratio) => {
          const compressor = new TopKCompressor(ratio);
          const d = rounds[0].length;
          const sent = new Float64Array(d);
          const received = new Float64Array(d);
          for (const input of rounds) {
            const out = densify(compressor.compress("c", input).output);
            for (let i = 0; i < d; i++) {
              sent[i] += input[i];
              received[i] += out[i];
            }
          }
          const residual = compressor.residualOf("c")!;
          for (let i = 0; i < d; i++) expect(received[i] + residual[i]).to.equal(sent[i]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("should keep one residual per client and forget it on reset", function () {
    const compressor = new TopKCompressor(0.25); // k = 1 of 4
    compressor.compress("a", [4, 1, 0, 0]);
    compressor.compress(2, [0, 0, 3, -9]);
    expect([...compressor.residualOf("a")!]).to.deep.equal([0, 1, 0, 0]);
    expect([...compressor.residualOf("2")!]).to.deep.equal([0, 0, 3, 0]);
    const next = compressor.compress("a", [0, 2, 0, 0]);
    expect([...next.accumulated]).to.deep.equal([0, 3, 0, 0]);
    compressor.reset("a");
    expect(compressor.residualOf("a")).to.equal(undefined);
    expect(compressor.residualOf(2)).to.not.equal(undefined);
    compressor.reset();
    expect(compressor.residualOf(2)).to.equal(undefined);
  });

  it("should refuse non-finite inputs and a residual of the wrong length", function () {
    expectDsainError(() => compressWithErrorFeedback([1, NaN], undefined, 0.5), ErrorCode.INPUT_INVALID, /input\[1\] is NaN/);
    expectDsainError(() => compressWithErrorFeedback([1, 2], [1], 0.5), ErrorCode.VECTOR_LENGTH_MISMATCH, /residual has 1/);
  });
});

describe("fedsov: clipping and noise", function () {
  it("should clip to norm C, keep the direction, and leave short vectors untouched", function () {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        (v, c) => {
          const { values, norm, scaled } = clipToNorm(v, c);
          expect(norm).to.equal(l2Norm(v));
          expect(scaled).to.equal(norm > c);
          if (!scaled) expect([...values]).to.deep.equal(v);
          else {
            expectClose(l2Norm(values), c, c * 1e-12);
            for (let i = 0; i < v.length; i++) expect(values[i]).to.equal(v[i] * (c / norm));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("should compute sigma = C sqrt(2 ln(1.25/delta)) / epsilon and refuse bad parameters", function () {
    expect(gaussianNoiseScale(1, 4, 1e-5)).to.equal(1.2112013156513473);
    expectDsainError(() => gaussianNoiseScale(0, 4, 1e-5), ErrorCode.INPUT_INVALID, /clip norm C is 0/);
    expectDsainError(() => gaussianNoiseScale(1, -1, 1e-5), ErrorCode.INPUT_INVALID, /epsilon is -1/);
    expectDsainError(() => gaussianNoiseScale(1, 1, 1), ErrorCode.INPUT_INVALID, /delta is 1/);
  });

  it("should add N(0, sigma^2) to every coordinate, reproducibly from a seeded Prng", function () {
    const sigma = 2.5;
    const a = addGaussianNoise(new Float64Array(40_000), sigma, new Prng(11));
    const b = addGaussianNoise(new Float64Array(40_000), sigma, new Prng(11));
    expect([...a]).to.deep.equal([...b]);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1));
    expect(Math.abs(mean)).to.be.lessThan((4 * sigma) / Math.sqrt(a.length));
    expect(sd / sigma).to.be.within(0.98, 1.02);
  });

  it("should add noise on the support only, leaving the vector k-sparse", function () {
    const v = { dimension: 10, indices: Uint32Array.from([2, 7]), values: Float64Array.from([1, -1]) };
    const noisy = addGaussianNoiseOnSupport(v, 1, new Prng(3));
    expect([...noisy.indices]).to.deep.equal([2, 7]);
    expect(noisy.values[0]).to.not.equal(1);
    expect(densify(noisy).filter((x) => x !== 0).length).to.equal(2);
  });
});

describe("fedsov: fedsovEncode", function () {
  const d = 200;
  const delta = Float64Array.from({ length: d }, (_, i) => Math.sin(i + 1) * (i % 7 === 0 ? 5 : 0.5));
  const dp = (mode: "dense" | "support" | "noise-then-topk", source: GaussianSource) => ({
    clipNorm: 1,
    epsilon: 4,
    delta: 1e-5,
    mode,
    source,
  });

  it("should only compress without dp: k (index, value) pairs, 8 bytes each against 4 d for FedAvg", function () {
    const r = fedsovEncode(delta, new TopKCompressor(0.1), 0);
    expect(r.update.encoding).to.equal("sparse");
    expect(r.k).to.equal(20);
    expect(r.bytes).to.equal(20 * 8);
    expect(r.denseBytes).to.equal(d * 4);
    expect(r.sigma).to.equal(undefined);
    expect([...wireToDense(r.update)]).to.deep.equal([...densify(compressWithErrorFeedback(delta, undefined, 0.1).output)]);
  });

  it("dense mode should follow the reference: top-k + EF, clip, noise on all d coordinates", function () {
    const compressor = new TopKCompressor(0.1);
    const r = fedsovEncode(delta, compressor, 0, { dp: dp("dense", NO_NOISE) });
    const reference = compressWithErrorFeedback(delta, undefined, 0.1);
    const clipped = clipToNorm(densify(reference.output), 1).values;
    expect(r.update.encoding).to.equal("dense");
    expect([...wireToDense(r.update)]).to.deep.equal([...clipped]);
    expect([...compressor.residualOf(0)!]).to.deep.equal([...reference.residual]); // the residual is kept before clipping
    expect(r.bytes).to.equal(d * 4);
    expect(r.sigma).to.equal(gaussianNoiseScale(1, 4, 1e-5));

    const noisy = fedsovEncode(delta, new TopKCompressor(0.1), 0, { dp: dp("dense", new Prng(5)) });
    const dense = wireToDense(noisy.update);
    expect(dense.every((x) => x !== 0)).to.equal(true); // the noise destroys the sparsity
  });

  it("support mode should keep the k indices of the top-k and add noise to those values only", function () {
    const r0 = fedsovEncode(delta, new TopKCompressor(0.1), 0, { dp: dp("support", NO_NOISE) });
    const r = fedsovEncode(delta, new TopKCompressor(0.1), 0, { dp: dp("support", new Prng(5)) });
    if (r.update.encoding !== "sparse" || r0.update.encoding !== "sparse") throw new Error("support mode must send a sparse update");
    expect([...r.update.indices]).to.deep.equal(slowTopK([...delta], 20));
    expect([...r.update.indices]).to.deep.equal([...r0.update.indices]);
    expectClose(l2Norm(r0.update.values), 1, 1e-12);
    expect(r.update.values.every((x, i) => x !== r0.update.values[i])).to.equal(true);
    expect(r.bytes).to.equal(20 * 8);
  });

  it("noise-then-topk mode should clip and noise the whole delta, then compress the noisy vector", function () {
    const source = new Prng(9);
    const compressor = new TopKCompressor(0.1);
    const r = fedsovEncode(delta, compressor, 0, { dp: dp("noise-then-topk", source) });
    const sigma = gaussianNoiseScale(1, 4, 1e-5);
    const noisy = addGaussianNoise(clipToNorm(delta, 1).values, sigma, new Prng(9));
    const reference = compressWithErrorFeedback(noisy, undefined, 0.1);
    expect([...wireToDense(r.update)]).to.deep.equal([...densify(reference.output)]);
    expect([...compressor.residualOf(0)!]).to.deep.equal([...reference.residual]);
    expect(r.bytes).to.equal(20 * 8);
    expect(r.clippedFrom).to.equal(l2Norm(delta));
  });

  it("should save 80% of FedAvg's bytes at ratio 0.1 with float32 values, and count float64 values too", function () {
    const r = fedsovEncode(new Float64Array(1000).fill(1), new TopKCompressor(0.1), 0, { valueBytes: 4 });
    expectClose(1 - r.bytes / r.denseBytes, 0.8, 1e-12);
    expect(wireBytes(r.update, 8)).to.equal(100 * 12);
    expectDsainError(() => wireBytes(r.update, 2), ErrorCode.INPUT_INVALID, /valueBytes is 2/);
  });

  it("should refuse a bad noise mode, a missing noise source and a ratio the compressor does not use, before touching its state", function () {
    const compressor = new TopKCompressor(0.1);
    expectDsainError(
      () => fedsovEncode(delta, compressor, 0, { dp: { ...dp("dense", NO_NOISE), mode: "sparse" as "dense" } }),
      ErrorCode.INPUT_INVALID,
      /noise mode is sparse/,
    );
    expectDsainError(
      () => fedsovEncode(delta, compressor, 0, { dp: { ...dp("dense", NO_NOISE), source: undefined as unknown as GaussianSource } }),
      ErrorCode.INPUT_INVALID,
      /nextGaussian/,
    );
    expectDsainError(() => fedsovEncode(delta, compressor, 0, { compressionRatio: 0.2 }), ErrorCode.INPUT_INVALID, /compressionRatio 0.2/);
    expectDsainError(
      () => fedsovEncode(delta, compressor, 0, { dp: { ...dp("dense", NO_NOISE), epsilon: 0 } }),
      ErrorCode.INPUT_INVALID,
      /epsilon is 0/,
    );
    expect(compressor.residualOf(0)).to.equal(undefined);
  });
});

describe("fedsov: linearLocalUpdate", function () {
  const n = 12;
  const d = 3;
  const rng = new Prng(21);
  const x = Float64Array.from({ length: n * d }, () => rng.nextGaussian());
  const y = Float64Array.from({ length: n }, () => rng.nextGaussian());
  const w0 = Float64Array.from([0.1, -0.2, 0.05]);
  const options = { learningRate: 0.01, momentum: 0.9, batchSize: 32 };

  it("should carry the momentum buffer: E1 steps then E2 steps equal E1 + E2 steps", function () {
    const whole = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, localEpochs: 5 });
    const first = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, localEpochs: 2 });
    const w1 = w0.map((w, j) => w + first.delta[j]);
    const second = linearLocalUpdate(x, y, w1, first.momentum, { ...options, localEpochs: 3 });
    for (let j = 0; j < d; j++) {
      expectClose(first.delta[j] + second.delta[j], whole.delta[j], 1e-14);
      expectClose(second.momentum[j], whole.momentum[j], 1e-12);
    }
  });

  it("should negate and amplify tenfold for the reference's Byzantine client", function () {
    const honest = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, localEpochs: 3 });
    const byz = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, localEpochs: 3, byzantine: true });
    for (let j = 0; j < d; j++) expect(byz.delta[j]).to.equal(-honest.delta[j] * 10);
  });

  it("should draw batches from a seed when the batch is smaller than the data, and demand the seed", function () {
    const a = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, batchSize: 4, localEpochs: 3, seed: 1 });
    const b = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, batchSize: 4, localEpochs: 3, seed: 1 });
    const c = linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, batchSize: 4, localEpochs: 3, seed: 2 });
    expect([...a.delta]).to.deep.equal([...b.delta]);
    expect([...a.delta]).to.not.deep.equal([...c.delta]);
    expectDsainError(
      () => linearLocalUpdate(x, y, w0, new Float64Array(d), { ...options, batchSize: 4, localEpochs: 1 }),
      ErrorCode.INPUT_INVALID,
      /a seed is needed/,
    );
  });

  it("should refuse mismatched shapes", function () {
    expectDsainError(
      () => linearLocalUpdate(x.subarray(1), y, w0, new Float64Array(d), { ...options, localEpochs: 1 }),
      ErrorCode.VECTOR_LENGTH_MISMATCH,
      /x has 35/,
    );
    expectDsainError(
      () => linearLocalUpdate(x, y, w0, new Float64Array(2), { ...options, localEpochs: 1 }),
      ErrorCode.VECTOR_LENGTH_MISMATCH,
      /momentum buffer has 2/,
    );
  });
});

describe("fedsov: fedsovClientStep (tfjs)", function () {
  it("should train locally, send the compressed private delta, and be reproducible", async function () {
    const { tf } = await initTf({ backend: "cpu" });
    const spec = mlpSpec();
    const global = initialWeights(spec, 4);
    const data = syntheticClassification({ seed: 8, samples: 64 });
    const run = () =>
      fedsovClientStep(tf, spec, global, data, {
        train: { seed: 3, epochs: 1, batchSize: 16 },
        clientId: "p1",
        compressor: new TopKCompressor(0.1),
        dp: { clipNorm: 1, epsilon: 4, delta: 1e-5, mode: "support", source: new Prng(17) },
      });
    const a = await run();
    const b = await run();
    expect(a.k).to.equal(topKCount(global.length, 0.1));
    expect(a.bytes).to.equal(a.k * 8);
    expect(a.denseBytes).to.equal(global.length * 4);
    const delta = Float64Array.from(a.localWeights, (w, i) => w - global[i]);
    expect(a.deltaNorm).to.equal(l2Norm(delta));
    expect(a.deltaNorm).to.be.greaterThan(0);
    if (a.update.encoding !== "sparse") throw new Error("support mode must send a sparse update");
    expect([...a.update.indices]).to.deep.equal(slowTopK([...delta], a.k));
    expect([...wireToDense(a.update)]).to.deep.equal([...wireToDense(b.update)]);
  });
});
