// Specification of the wasm kernels (Conv2DBackpropFilter and the fast paths) against the cpu backend, and of the FedAvg CNN.
import path from "node:path";
import type * as tfjs from "@tensorflow/tfjs";
import { expect } from "chai";
import fc from "fast-check";
import { loadMnist } from "../../aggregator/lab/data/index.js";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { Prng, subset } from "../../aggregator/maths/learning/data.js";
import {
  buildModel,
  cnnSpec,
  evaluate,
  getFlatWeights,
  initialWeights,
  parameterCount,
  predictLabels,
  setFlatWeights,
  trainLocal,
} from "../../aggregator/maths/learning/model.js";
import { type Tf, initTf } from "../../aggregator/maths/learning/tf.js";
import { conv2dBackpropFilterIm2col, registerWasmKernels } from "../../aggregator/maths/learning/wasm-kernels.js";
import { expectDsainError } from "../helpers/errors.js";

/**
 * max_i |a_i - b_i| / max(|b_i|, rms(b)): element-wise relative error, except that entries smaller
 * than the tensor's root mean square are measured against it (a gradient entry that is a sum of
 * cancelling float32 terms has no meaningful relative accuracy of its own).
 */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let sumSq = 0;
  for (let i = 0; i < b.length; i++) sumSq += b[i] * b[i];
  const rms = Math.sqrt(sumSq / b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), rms, 1e-30));
  return worst;
}

function gaussian(rng: Prng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextGaussian());
}

const MNIST = path.join("test", "fixtures", "mnist");

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
}

describe("wasm kernels", function () {
  let tf: Tf;

  before(async function () {
    ({ tf } = await initTf({ backend: "wasm" }));
  });

  after(async function () {
    await initTf({ backend: "wasm" });
  });

  /** Runs `fn` on the wasm and on the cpu backend and returns both outputs' values. */
  async function onBoth(fn: () => tfjs.Tensor): Promise<{ wasm: Float32Array; cpu: Float32Array }> {
    const run = () => {
      const t = fn();
      try {
        return t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
    };
    await initTf({ backend: "wasm" });
    const wasm = run();
    await initTf({ backend: "cpu" });
    const cpu = run();
    await initTf({ backend: "wasm" });
    return { wasm, cpu };
  }

  /** d/dW and d/dx of sum(conv2d(x, W) * r) for a fixed random r, on one backend. */
  function convGrads(c: ConvCase, seed: number): () => tfjs.Tensor {
    const rng = new Prng(seed);
    const xv = gaussian(
      rng,
      c.x.reduce((a, b) => a * b),
    );
    const fv = gaussian(
      rng,
      c.filter.reduce((a, b) => a * b),
    );
    return () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(fv, c.filter);
        const y = tf.conv2d(x, w, c.strides, c.pad);
        const r = tf.tensor(gaussian(new Prng(seed + 1), y.size), y.shape);
        const [dx, dw] = tf.grads((a: tfjs.Tensor, b: tfjs.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tfjs.Tensor4D, b as tfjs.Tensor4D, c.strides, c.pad), r)),
        )([x, w]);
        return tf.concat([tf.reshape(dw, [-1]), tf.reshape(dx, [-1])]);
      });
  }

  it("should register Conv2DBackpropFilter for wasm, which tfjs-backend-wasm lacks", function () {
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).to.not.equal(undefined);
  });

  it("should give conv2d filter and input gradients equal to the cpu backend's within 1e-4 on the CNN's layers", async function () {
    const cases: ConvCase[] = [
      { x: [2, 28, 28, 1], filter: [5, 5, 1, 32], strides: 1, pad: "same" },
      { x: [1, 14, 14, 32], filter: [5, 5, 32, 64], strides: 1, pad: "same" },
    ];
    for (const [i, c] of cases.entries()) {
      const { wasm, cpu } = await onBoth(convGrads(c, 10 + i));
      expect(relativeError(wasm, cpu), JSON.stringify(c)).to.be.below(1e-4);
    }
  });

  it("should give conv2d gradients equal to the cpu backend's within 1e-4 on random shapes, strides and paddings", async function () {
    const caseArb: fc.Arbitrary<ConvCase> = fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 5, max: 11 }),
        w: fc.integer({ min: 5, max: 11 }),
        cin: fc.integer({ min: 1, max: 4 }),
        cout: fc.integer({ min: 1, max: 5 }),
        kh: fc.integer({ min: 1, max: 5 }),
        kw: fc.integer({ min: 1, max: 5 }),
        sh: fc.integer({ min: 1, max: 3 }),
        sw: fc.integer({ min: 1, max: 3 }),
        pad: fc.constantFrom("same", "valid", "explicit"),
        extra: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
      })
      .map((r) => ({
        x: [r.n, r.h, r.w, r.cin],
        filter: [r.kh, r.kw, r.cin, r.cout],
        strides: [r.sh, r.sw],
        pad:
          r.pad === "explicit"
            ? [
                [0, 0],
                [r.extra[0], r.extra[1]],
                [r.extra[2], r.extra[3]],
                [0, 0],
              ]
            : (r.pad as "same" | "valid"),
      }));
    await fc.assert(
      fc.asyncProperty(caseArb, fc.integer({ min: 0, max: 1e6 }), async (c, seed) => {
        const { wasm, cpu } = await onBoth(convGrads(c, seed));
        expect(relativeError(wasm, cpu), JSON.stringify(c)).to.be.below(1e-4);
      }),
      { numRuns: 40 },
    );
  });

  it("should compute NCHW filter gradients like the cpu backend's own kernel", async function () {
    await initTf({ backend: "cpu" });
    try {
      const rng = new Prng(4);
      const x = tf.tensor4d(gaussian(rng, 2 * 3 * 9 * 8), [2, 3, 9, 8]);
      const dy = tf.tensor4d(gaussian(rng, 2 * 4 * 5 * 4), [2, 4, 5, 4]);
      const attrs = {
        strides: [2, 2] as [number, number],
        pad: "same" as const,
        dataFormat: "NCHW" as const,
        filterShape: [3, 3, 3, 4] as [number, number, number, number],
      };
      const ours = conv2dBackpropFilterIm2col(tf, x, dy, attrs);
      const theirs = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { ...attrs }) as tfjs.Tensor;
      expect(relativeError(ours.dataSync(), theirs.dataSync())).to.be.below(1e-5);
      tf.dispose([x, dy, ours, theirs]);
    } finally {
      await initTf({ backend: "wasm" });
    }
  });

  it("should give matMul products with transposed operands equal to the cpu backend's", async function () {
    const rng = new Prng(6);
    const a = gaussian(rng, 37 * 23);
    const b = gaussian(rng, 23 * 11);
    const batchedA = gaussian(rng, 2 * 5 * 3);
    const batchedB = gaussian(rng, 2 * 4 * 3);
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const { wasm, cpu } = await onBoth(() =>
        tf.tidy(() => tf.matMul(tf.tensor2d(a, ta ? [23, 37] : [37, 23]), tf.tensor2d(b, tb ? [11, 23] : [23, 11]), ta, tb)),
      );
      expect(relativeError(wasm, cpu), `transposeA=${ta} transposeB=${tb}`).to.be.below(1e-5);
    }
    const { wasm, cpu } = await onBoth(() =>
      tf.tidy(() => tf.matMul(tf.tensor3d(batchedA, [2, 5, 3]), tf.tensor3d(batchedB, [2, 4, 3]), false, true)),
    );
    expect(relativeError(wasm, cpu), "batched").to.be.below(1e-5);
  });

  it("should keep the number of live tensors and data buffers flat across kernel calls", function () {
    const before = tf.memory();
    for (let i = 0; i < 3; i++) {
      const g = convGrads({ x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: "same" }, i)();
      tf.tidy(() => tf.matMul(tf.ones([4, 3]), tf.ones([4, 5]), true, false).dataSync());
      g.dispose();
    }
    const after = tf.memory();
    expect(after.numTensors).to.equal(before.numTensors);
    expect(after.numDataBuffers).to.equal(before.numDataBuffers);
  });

  it("should leave the kernels as they are when registered again", function () {
    const filter = tf.getKernel("Conv2DBackpropFilter", "wasm");
    const matMul = tf.getKernel("BatchMatMul", "wasm");
    registerWasmKernels(tf);
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).to.equal(filter);
    expect(tf.getKernel("BatchMatMul", "wasm")).to.equal(matMul);
  });
});

describe("fl: the FedAvg CNN", function () {
  let tf: Tf;
  const spec = cnnSpec();
  const mnist = loadMnist(path.join(MNIST, "t10k-images-idx3-ubyte.gz"), path.join(MNIST, "t10k-labels-idx1-ubyte.gz"));
  const few = subset(
    mnist,
    Array.from({ length: 16 }, (_, i) => i),
  );
  const w0 = initialWeights(spec, 7);
  const options = { epochs: 2, batchSize: 8, learningRate: 0.05, momentum: 0.9, seed: 3 };

  before(async function () {
    ({ tf } = await initTf({ backend: "wasm" }));
  });

  after(async function () {
    await initTf({ backend: "wasm" });
  });

  it("should describe McMahan et al.'s MNIST CNN: 1,663,370 parameters in getWeights() order", function () {
    expect(spec.map((t) => [t.name, t.shape])).to.deep.equal([
      ["conv2d_0/kernel", [5, 5, 1, 32]],
      ["conv2d_0/bias", [32]],
      ["conv2d_1/kernel", [5, 5, 32, 64]],
      ["conv2d_1/bias", [64]],
      ["dense_0/kernel", [3136, 512]],
      ["dense_0/bias", [512]],
      ["dense_1/kernel", [512, 10]],
      ["dense_1/bias", [10]],
    ]);
    expect(parameterCount(spec)).to.equal(1_663_370);
    const model = buildModel(tf, spec);
    try {
      expect(model.net.getWeights().map((w) => w.shape)).to.deep.equal(spec.map((t) => t.shape));
      expect(model.net.inputs[0].shape).to.deep.equal([null, 784]);
    } finally {
      model.dispose();
    }
  });

  it("should rebuild the same network from the spec alone, e.g. a CIFAR-sized one", function () {
    const cifar = cnnSpec({ inputShape: [32, 32, 3], conv: [{ kernel: 3, filters: 8 }], hidden: [], classes: 10 });
    expect(cifar.map((t) => t.shape)).to.deep.equal([[3, 3, 3, 8], [8], [16 * 16 * 8, 10], [10]]);
    const model = buildModel(tf, JSON.parse(JSON.stringify(cifar)));
    try {
      expect(model.net.inputs[0].shape).to.deep.equal([null, 3072]);
      expect(model.net.getWeights().map((w) => w.shape)).to.deep.equal(cifar.map((t) => t.shape));
    } finally {
      model.dispose();
    }
  });

  it("should round-trip flat weights exactly, flattening each kernel row-major", function () {
    const small = cnnSpec({ inputShape: [8, 8, 2], conv: [{ kernel: 3, filters: 4 }], hidden: [5], classes: 3 });
    const r = new Prng(2);
    const flat = Float32Array.from({ length: parameterCount(small) }, () => r.nextGaussian());
    const model = buildModel(tf, small);
    try {
      setFlatWeights(model, flat);
      expect(Buffer.from(getFlatWeights(model).buffer).equals(Buffer.from(flat.buffer))).to.equal(true);
      // Kernel [3, 3, 2, 4]: element [i][j][c][o] sits at ((i*3 + j)*2 + c)*4 + o.
      const kernel = model.net.getWeights()[0].arraySync() as number[][][][];
      expect(kernel[2][1][1][3]).to.equal(flat[((2 * 3 + 1) * 2 + 1) * 4 + 3]);
    } finally {
      model.dispose();
    }
  });

  it("should refuse shapes the spec cannot describe", function () {
    expectDsainError(
      () => cnnSpec({ inputShape: [28, 30, 1] }),
      ErrorCode.INPUT_INVALID,
      /28x30 is not supported: the CNN needs square images/,
    );
    expectDsainError(() => cnnSpec({ inputShape: [30, 30, 1] }), ErrorCode.INPUT_INVALID, /side divides by 4/);
    expectDsainError(() => cnnSpec({ conv: [] }), ErrorCode.INPUT_INVALID, /at least one convolution/);
    expectDsainError(() => cnnSpec({ conv: [{ kernel: 0, filters: 3 }] }), ErrorCode.INPUT_INVALID, /conv\[0\]\.kernel/);
    const broken = cnnSpec();
    broken[2] = { name: "conv2d_1/kernel", shape: [5, 5, 16, 64] };
    expectDsainError(() => buildModel(tf, broken), ErrorCode.INPUT_INVALID, /convolution 1 takes 16 channels but convolution 0 gives 32/);
    const odd = cnnSpec();
    odd[4] = { name: "dense_0/kernel", shape: [3000, 512] };
    expectDsainError(() => buildModel(tf, odd), ErrorCode.INPUT_INVALID, /takes 3000 inputs, not a square number of 64-channel pixels/);
  });

  it("should train on wasm: lower loss on its images after a few steps, deterministic for a seed", async function () {
    const before = tf.memory().numTensors;
    const a = await trainLocal(tf, spec, w0, few, options);
    const b = await trainLocal(tf, spec, w0, few, options);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(true);
    expect(evaluate(tf, spec, a, few).loss).to.be.below(evaluate(tf, spec, w0, few).loss * 0.8);
    expect(tf.memory().numTensors).to.equal(before);
  });

  it("should train to the same weights on wasm and cpu, up to float32 rounding", async function () {
    // A narrower CNN of the same shape keeps the cpu backend's share of this test short.
    const narrow = cnnSpec({
      conv: [
        { kernel: 5, filters: 4 },
        { kernel: 5, filters: 8 },
      ],
      hidden: [16],
    });
    const start = initialWeights(narrow, 9);
    const short = { ...options, epochs: 1 };
    const wasm = await trainLocal(tf, narrow, start, few, short);
    const { tf: cpuTf } = await initTf({ backend: "cpu" });
    let cpu: Float32Array;
    try {
      cpu = await trainLocal(cpuTf, narrow, start, few, short);
    } finally {
      await initTf({ backend: "wasm" });
    }
    let worst = 0;
    let moved = 0;
    for (let i = 0; i < wasm.length; i++) {
      worst = Math.max(worst, Math.abs(wasm[i] - cpu[i]));
      moved = Math.max(moved, Math.abs(cpu[i] - start[i]));
    }
    expect(moved).to.be.above(1e-3);
    expect(worst).to.be.below(1e-3 * moved);
  });

  it("should evaluate and predict in batches, agreeing with each other", function () {
    const test = subset(
      mnist,
      Array.from({ length: 300 }, (_, i) => 9000 + i),
    );
    const { accuracy, loss } = evaluate(tf, spec, w0, test);
    const predicted = predictLabels(tf, spec, w0, test);
    expect(predicted.length).to.equal(300);
    expect(accuracy).to.equal(predicted.filter((p, i) => p === test.y[i]).length / 300);
    expect(loss).to.be.within(2, 2.6);
  });

  it("should refuse data whose features do not fit the CNN", async function () {
    const flat8 = { x: new Float32Array(8 * 2), y: new Uint8Array(2), features: 8, classes: 10 };
    let thrown: unknown;
    try {
      await trainLocal(tf, spec, w0, flat8, options);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as DsainError).message).to.match(/8 features but the model takes 784 inputs/);
  });
});
