// Specification of the learning engine: seeded data, the MLP's flat parameter layout, deterministic local training.
import { expect } from "chai";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import {
  type Dataset,
  Prng,
  checkDataset,
  splitIid,
  syntheticClassification,
  trainTestSplit,
} from "../../aggregator/maths/learning/data.js";
import {
  buildModel,
  evaluate,
  getFlatWeights,
  initialWeights,
  mlpSpec,
  parameterCount,
  setFlatWeights,
  trainLocal,
} from "../../aggregator/maths/learning/model.js";
import { type Tf, initTf } from "../../aggregator/maths/learning/tf.js";
import { expectDsainError } from "../helpers/errors.js";

async function expectRejection(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  let thrown: unknown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected a DsainError").to.be.instanceOf(DsainError);
  expect((thrown as DsainError).code).to.equal(code);
  expect((thrown as DsainError).message).to.match(message);
}

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("fl: Prng", function () {
  it("should give the same stream for the same seed", function () {
    const a = new Prng(42);
    const b = new Prng(42);
    for (let i = 0; i < 100; i++) expect(a.nextUint32()).to.equal(b.nextUint32());
  });

  it("should give different streams for different seeds", function () {
    const stream = (seed: number) => {
      const r = new Prng(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(stream(1)).to.not.deep.equal(stream(2));
  });

  it("should keep floats in [0, 1) and integers in [0, n)", function () {
    const r = new Prng(7);
    for (let i = 0; i < 1000; i++) {
      const f = r.nextFloat();
      expect(f).to.be.at.least(0).and.below(1);
      expect(r.nextInt(5)).to.be.oneOf([0, 1, 2, 3, 4]);
    }
  });

  it("should draw Gaussians with mean near 0 and variance near 1", function () {
    const r = new Prng(3);
    let sum = 0;
    let sumSq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const g = r.nextGaussian();
      sum += g;
      sumSq += g * g;
    }
    expect(Math.abs(sum / n)).to.be.below(0.05);
    expect(Math.abs(sumSq / n - 1)).to.be.below(0.05);
  });

  it("should return a permutation", function () {
    const p = Array.from(new Prng(9).permutation(50));
    expect([...p].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
  });

  it("should refuse seeds that are not 32-bit unsigned integers", function () {
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) expectDsainError(() => new Prng(seed), ErrorCode.INPUT_INVALID, /seed/);
  });
});

describe("fl: syntheticClassification", function () {
  it("should return samples*features inputs and one label per sample, all in range", function () {
    const d = syntheticClassification({ seed: 1, samples: 300 });
    expect(d.features).to.equal(8);
    expect(d.classes).to.equal(4);
    expect(d.x).to.be.instanceOf(Float32Array);
    expect(d.x.length).to.equal(300 * 8);
    expect(d.y).to.be.instanceOf(Uint8Array);
    expect(d.y.length).to.equal(300);
    expect(new Set(d.y)).to.deep.equal(new Set([0, 1, 2, 3]));
    expect(() => checkDataset(d)).to.not.throw();
  });

  it("should be a pure function of its options", function () {
    const a = syntheticClassification({ seed: 5, samples: 50, features: 3, classes: 6, separation: 2 });
    const b = syntheticClassification({ seed: 5, samples: 50, features: 3, classes: 6, separation: 2 });
    const c = syntheticClassification({ seed: 6, samples: 50, features: 3, classes: 6, separation: 2 });
    expect(bytes(a.x).equals(bytes(b.x))).to.equal(true);
    expect(a.y).to.deep.equal(b.y);
    expect(bytes(a.x).equals(bytes(c.x))).to.equal(false);
  });

  it("should refuse bad options, naming the option", function () {
    expectDsainError(() => syntheticClassification({ seed: 1, samples: 0 }), ErrorCode.INPUT_INVALID, /samples/);
    expectDsainError(() => syntheticClassification({ seed: 1, samples: 10, features: 0 }), ErrorCode.INPUT_INVALID, /features/);
    expectDsainError(() => syntheticClassification({ seed: 1, samples: 10, classes: 1 }), ErrorCode.INPUT_INVALID, /classes/);
    expectDsainError(() => syntheticClassification({ seed: 1, samples: 10, classes: 257 }), ErrorCode.INPUT_INVALID, /classes/);
    expectDsainError(() => syntheticClassification({ seed: 1, samples: 10, separation: 0 }), ErrorCode.INPUT_INVALID, /separation/);
    expectDsainError(() => syntheticClassification({ seed: -3, samples: 10 }), ErrorCode.INPUT_INVALID, /seed/);
  });
});

describe("fl: splitIid and trainTestSplit", function () {
  const data = syntheticClassification({ seed: 11, samples: 103 });

  // One number per sample (label and inputs), sorted: equal lists mean the same samples in any order.
  function rowSums(d: Dataset): number[] {
    return Array.from(d.y, (_, i) => d.x.subarray(i * d.features, (i + 1) * d.features).reduce((a, b) => a + b, 0) + 1000 * d.y[i]).sort(
      (a, b) => a - b,
    );
  }

  it("should deal every sample exactly once into parts differing by at most one", function () {
    const parts = splitIid(data, 4, 1);
    expect(parts.map((p) => p.y.length)).to.deep.equal([26, 26, 26, 25]);
    const merged: Dataset = {
      x: Float32Array.from(parts.flatMap((p) => Array.from(p.x))),
      y: Uint8Array.from(parts.flatMap((p) => Array.from(p.y))),
      features: data.features,
      classes: data.classes,
    };
    expect(rowSums(merged)).to.deep.equal(rowSums(data));
  });

  it("should be a pure function of the seed", function () {
    expect(splitIid(data, 3, 8)).to.deep.equal(splitIid(data, 3, 8));
    expect(splitIid(data, 3, 8)[0].y).to.not.deep.equal(splitIid(data, 3, 9)[0].y);
  });

  it("should hold out round(n * testFraction) samples", function () {
    const { train, test } = trainTestSplit(data, 0.25, 2);
    expect(test.y.length).to.equal(26);
    expect(train.y.length).to.equal(77);
    expect(train.x.length).to.equal(77 * data.features);
  });

  it("should refuse splits that leave a side empty", function () {
    expectDsainError(() => splitIid(data, 104, 1), ErrorCode.INPUT_INVALID, /104 non-empty parts/);
    expectDsainError(() => splitIid(data, 0, 1), ErrorCode.INPUT_INVALID, /parts/);
    expectDsainError(() => trainTestSplit(data, 0, 1), ErrorCode.INPUT_INVALID, /testFraction/);
    expectDsainError(() => trainTestSplit(data, 1, 1), ErrorCode.INPUT_INVALID, /testFraction/);
    expectDsainError(() => trainTestSplit(data, 0.001, 1), ErrorCode.INPUT_INVALID, /empty/);
  });

  it("should refuse a dataset whose labels or sizes do not fit", function () {
    const badLabel = { ...data, y: Uint8Array.from(data.y, (v, i) => (i === 7 ? 4 : v)) };
    expectDsainError(() => splitIid(badLabel, 2, 1), ErrorCode.DATA_MALFORMED, /label 7 is 4/);
    const short = { ...data, x: data.x.subarray(1) };
    expectDsainError(() => checkDataset(short), ErrorCode.DATA_MALFORMED, /x has 823 values/);
  });
});

describe("fl: model layout", function () {
  let tf: Tf;

  before(async function () {
    ({ tf } = await initTf());
  });

  it("should describe the default 8-16-4 MLP with 212 parameters in getWeights() order", function () {
    const spec = mlpSpec();
    expect(spec.map((t) => t.shape)).to.deep.equal([[8, 16], [16], [16, 4], [4]]);
    expect(parameterCount(spec)).to.equal(212);
    const model = buildModel(tf, spec);
    try {
      expect(model.net.getWeights().map((w) => w.shape)).to.deep.equal(spec.map((t) => t.shape));
    } finally {
      model.dispose();
    }
  });

  it("should refuse layer sizes that are not positive integers", function () {
    expectDsainError(() => mlpSpec({ hidden: [16, 0] }), ErrorCode.INPUT_INVALID, /hidden\[1\]/);
    expectDsainError(() => mlpSpec({ inputs: 2.5 }), ErrorCode.INPUT_INVALID, /inputs/);
    expectDsainError(() => mlpSpec({ classes: 1 }), ErrorCode.INPUT_INVALID, /classes/);
  });

  it("should refuse a spec that is not a chain of dense layers", function () {
    expectDsainError(() => buildModel(tf, [{ name: "k", shape: [8, 16] }]), ErrorCode.INPUT_INVALID, /pairs/);
    const broken = [...mlpSpec(), { name: "k", shape: [5, 3] }, { name: "b", shape: [3] }];
    expectDsainError(() => buildModel(tf, broken), ErrorCode.INPUT_INVALID, /layer 2 takes 5 inputs but layer 1 gives 4/);
  });

  it("should draw Glorot-uniform kernels and zero biases, identically for one seed", function () {
    const spec = mlpSpec();
    const w = initialWeights(spec, 3);
    expect(bytes(w).equals(bytes(initialWeights(spec, 3)))).to.equal(true);
    expect(bytes(w).equals(bytes(initialWeights(spec, 4)))).to.equal(false);
    const limit0 = Math.sqrt(6 / (8 + 16));
    expect(w.subarray(0, 128).every((v) => Math.abs(v) <= limit0)).to.equal(true);
    expect(w.subarray(128, 144).every((v) => v === 0)).to.equal(true);
    expect(w.subarray(208, 212).every((v) => v === 0)).to.equal(true);
  });

  it("should round-trip flat weights exactly through the tfjs model", function () {
    const spec = mlpSpec({ inputs: 5, hidden: [7, 3], classes: 3 });
    const r = new Prng(21);
    const flat = Float32Array.from({ length: parameterCount(spec) }, () => r.nextGaussian() * 1e3);
    const model = buildModel(tf, spec);
    try {
      setFlatWeights(model, flat);
      expect(bytes(getFlatWeights(model)).equals(bytes(flat))).to.equal(true);
    } finally {
      model.dispose();
    }
  });

  it("should refuse a weight vector of the wrong length", function () {
    const model = buildModel(tf, mlpSpec());
    try {
      expectDsainError(
        () => setFlatWeights(model, new Float32Array(211)),
        ErrorCode.VECTOR_LENGTH_MISMATCH,
        /211 parameters, the model 212/,
      );
    } finally {
      model.dispose();
    }
  });
});

describe("fl: local training", function () {
  let tf: Tf;
  const spec = mlpSpec();
  const { train, test } = trainTestSplit(syntheticClassification({ seed: 100, samples: 1800 }), 1000 / 1800, 101);
  const parts = splitIid(train, 4, 102);
  const w0 = initialWeights(spec, 103);
  const options = { epochs: 2, batchSize: 32, learningRate: 0.05, momentum: 0.9, seed: 104 };

  before(async function () {
    ({ tf } = await initTf());
  });

  it("should start from chance on held-out data", function () {
    const { accuracy, loss } = evaluate(tf, spec, w0, test);
    expect(accuracy).to.be.within(0.1, 0.4);
    expect(loss).to.be.above(1);
  });

  it("should give bit-identical weights for the same seed and different ones for another seed", async function () {
    const a = await trainLocal(tf, spec, w0, parts[0], options);
    const b = await trainLocal(tf, spec, w0, parts[0], options);
    const c = await trainLocal(tf, spec, w0, parts[0], { ...options, seed: 105 });
    expect(bytes(a).equals(bytes(b))).to.equal(true);
    expect(bytes(a).equals(bytes(c))).to.equal(false);
  });

  it("should leave the starting weights untouched", async function () {
    const copy = w0.slice();
    await trainLocal(tf, spec, w0, parts[0], options);
    expect(bytes(w0).equals(bytes(copy))).to.equal(true);
  });

  it("should raise held-out accuracy above 0.8 after 2 epochs on 200 samples", async function () {
    const w = await trainLocal(tf, spec, w0, parts[0], options);
    const { accuracy, loss } = evaluate(tf, spec, w, test);
    expect(accuracy).to.be.above(0.8);
    expect(loss).to.be.below(evaluate(tf, spec, w0, test).loss);
  });

  it("should keep the number of live tensors flat across federated rounds", async function () {
    let w = w0;
    const before = tf.memory().numTensors;
    for (let round = 0; round < 2; round++) {
      const locals = await Promise.all(parts.map((p, i) => trainLocal(tf, spec, w, p, { ...options, seed: 10 * round + i })));
      w = Float32Array.from(w, (_, j) => locals.reduce((s, l) => s + l[j], 0) / locals.length);
      evaluate(tf, spec, w, test);
      expect(tf.memory().numTensors).to.equal(before);
    }
    expect(evaluate(tf, spec, w, test).accuracy).to.be.above(0.8);
  });

  it("should refuse bad training options, naming the option", async function () {
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, epochs: 0 }), ErrorCode.INPUT_INVALID, /epochs/);
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, batchSize: 1.5 }), ErrorCode.INPUT_INVALID, /batchSize/);
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, learningRate: -1 }), ErrorCode.INPUT_INVALID, /learningRate/);
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, momentum: 1 }), ErrorCode.INPUT_INVALID, /momentum/);
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, seed: -1 }), ErrorCode.INPUT_INVALID, /seed/);
  });

  it("should refuse data and weights that do not fit the model", async function () {
    const wide = syntheticClassification({ seed: 1, samples: 20, features: 9 });
    await expectRejection(trainLocal(tf, spec, w0, wide, options), ErrorCode.INPUT_INVALID, /9 features but the model takes 8 inputs/);
    const many = syntheticClassification({ seed: 1, samples: 20, classes: 5 });
    await expectRejection(trainLocal(tf, spec, w0, many, options), ErrorCode.INPUT_INVALID, /5 classes but the model outputs 4/);
    await expectRejection(trainLocal(tf, spec, w0.subarray(1), parts[0], options), ErrorCode.VECTOR_LENGTH_MISMATCH, /weight vector/);
    expectDsainError(() => evaluate(tf, spec, w0, wide), ErrorCode.INPUT_INVALID, /features/);
  });

  it("should report divergence as an error instead of returning non-finite weights", async function () {
    await expectRejection(trainLocal(tf, spec, w0, parts[0], { ...options, learningRate: 1e30 }), ErrorCode.TRAINING_DIVERGED, /diverged/);
  });
});

describe("fl: initTf", function () {
  it("should return the same runtime on every call", async function () {
    const a = await initTf();
    const b = await initTf({ backend: "auto" });
    // Identity, compared as a boolean: Hardhat's chai matchers override `equal` and walk both operands
    // (here the whole tfjs module and its engine state), which took minutes and gigabytes after a demo.
    expect(b === a, "initTf returned another runtime").to.equal(true);
    expect(a.backend).to.be.oneOf(["tensorflow", "wasm", "cpu"]);
    expect(a.tf.getBackend()).to.equal(a.backend);
  });

  it("should refuse an unknown backend", async function () {
    await expectRejection(initTf({ backend: "gpu" as "cpu" }), ErrorCode.CONFIG_INVALID, /backend is gpu/);
  });
});
