// The classifiers (the demo's dense MLP, the FedAvg CNN) seen as a flat Float32Array: layout, init, local training, evaluation.
import type * as tfjs from "@tensorflow/tfjs";
import { DsainError, ErrorCode } from "../../errors.js";
import type { TensorSpec } from "../../protocol/checkpoint.js";
import { type Dataset, Prng, checkDataset } from "./data.js";
import type { Tf } from "./tf.js";

export interface MlpOptions {
  /** Input features; default 8. */
  inputs?: number;
  /** Hidden layer widths (ReLU); default [16]. */
  hidden?: number[];
  /** Output classes (logits, softmax in the loss); default 4. */
  classes?: number;
}

export interface CnnOptions {
  /** [height, width, channels] of the input images; square, with a side divisible by 2^(conv layers); default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Convolution layers, each 'same'-padded with a square kernel, ReLU, then 2x2 max pooling; default 5x5 with 32, then 64 filters. */
  conv?: { kernel: number; filters: number }[];
  /** Dense hidden layer widths (ReLU) after flattening; default [512]. */
  hidden?: number[];
  /** Output classes; default 10. */
  classes?: number;
}

export interface TrainOptions {
  /** Passes over the local data; default 1. */
  epochs?: number;
  /** Samples per SGD step; the last step of an epoch takes the remainder; default 32. */
  batchSize?: number;
  /** SGD step size; default 0.05. */
  learningRate?: number;
  /** Heavy-ball momentum as in tf.train.momentum (not Nesterov); default 0.9. */
  momentum?: number;
  /** Drives the per-epoch shuffles, so equal seeds give equal weights on one backend. */
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS = Object.freeze({ epochs: 1, batchSize: 32, learningRate: 0.05, momentum: 0.9 });

/** A tfjs network together with the tf module that built it and the spec its weights follow. */
export interface MlpModel {
  readonly tf: Tf;
  readonly spec: readonly TensorSpec[];
  readonly net: tfjs.Sequential;
  /** Frees the weights; the model is unusable afterwards. */
  dispose(): void;
}

/** Any model this module builds (MLP or CNN); the name MlpModel predates the CNN. */
export type Model = MlpModel;

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

function checkPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw invalidInput(`${what} is ${value}; it must be a positive integer`);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Number of parameters the spec describes. */
export function parameterCount(spec: readonly TensorSpec[]): number {
  return spec.reduce((sum, t) => sum + size(t.shape), 0);
}

/** Tensor specs in tfjs getWeights() order: kernel [in, out] then bias [out] for each dense layer. */
export function mlpSpec(options: MlpOptions = {}): TensorSpec[] {
  const { inputs = 8, hidden = [16], classes = 4 } = options;
  checkPositiveInt(inputs, "inputs");
  if (!Array.isArray(hidden)) throw invalidInput("hidden must be a list of layer widths");
  hidden.forEach((h, i) => checkPositiveInt(h, `hidden[${i}]`));
  if (!Number.isInteger(classes) || classes < 2) throw invalidInput(`classes is ${classes}; it must be an integer of at least 2`);
  const widths = [inputs, ...hidden, classes];
  const spec: TensorSpec[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    spec.push({ name: `dense_${l}/kernel`, shape: [widths[l], widths[l + 1]] });
    spec.push({ name: `dense_${l}/bias`, shape: [widths[l + 1]] });
  }
  return spec;
}

/** The layer widths [inputs, ...hidden, classes] of a dense spec, or INPUT_INVALID if it is not one. */
function layerWidths(spec: readonly TensorSpec[]): number[] {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0) {
    throw invalidInput("model spec must list kernel and bias tensors in pairs, one pair per dense layer");
  }
  const widths: number[] = [];
  for (let l = 0; l < spec.length / 2; l++) {
    const kernel = spec[2 * l].shape;
    const bias = spec[2 * l + 1].shape;
    if (
      kernel.length !== 2 ||
      bias.length !== 1 ||
      bias[0] !== kernel[1] ||
      ![...kernel, ...bias].every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw invalidInput(`model spec layer ${l} needs a kernel [in, out] and a bias [out] of positive integers`);
    }
    if (l > 0 && kernel[0] !== widths[l])
      throw invalidInput(`model spec layer ${l} takes ${kernel[0]} inputs but layer ${l - 1} gives ${widths[l]}`);
    if (l === 0) widths.push(kernel[0]);
    widths.push(kernel[1]);
  }
  if (widths[widths.length - 1] < 2) throw invalidInput("model spec must end in at least 2 classes");
  return widths;
}

/**
 * Tensor specs of a CNN in tfjs getWeights() order: for each convolution its kernel
 * [k, k, in, filters] then bias [filters], then the dense layers as in mlpSpec. With the defaults
 * this is the MNIST CNN of McMahan et al. ("Communication-Efficient Learning of Deep Networks from
 * Decentralized Data", AISTATS 2017): 5x5 conv 32, 2x2 max pool, 5x5 conv 64, 2x2 max pool,
 * dense 512 (ReLU), dense 10 -- 1,663,370 parameters.
 *
 * The spec alone determines the network (a checkpoint's tensor list rebuilds it): kernels of rank 4
 * mark convolutions, each 'same'-padded with ReLU and followed by 2x2 max pooling, and the input
 * side is recovered from the first dense layer's width, which is why inputs must be square with a
 * side divisible by 2^(number of convolutions).
 */
export function cnnSpec(options: CnnOptions = {}): TensorSpec[] {
  const {
    inputShape = [28, 28, 1],
    conv = [
      { kernel: 5, filters: 32 },
      { kernel: 5, filters: 64 },
    ],
    hidden = [512],
    classes = 10,
  } = options;
  if (!Array.isArray(inputShape) || inputShape.length !== 3) throw invalidInput("inputShape must be [height, width, channels]");
  const [height, width, channels] = inputShape;
  checkPositiveInt(height, "inputShape height");
  checkPositiveInt(width, "inputShape width");
  checkPositiveInt(channels, "inputShape channels");
  if (!Array.isArray(conv) || conv.length === 0) throw invalidInput("conv must list at least one convolution layer");
  conv.forEach((c, i) => {
    checkPositiveInt(c.kernel, `conv[${i}].kernel`);
    checkPositiveInt(c.filters, `conv[${i}].filters`);
  });
  const shrink = 2 ** conv.length;
  if (height !== width || height % shrink !== 0) {
    throw invalidInput(
      `inputShape ${height}x${width} is not supported: the CNN needs square images whose side divides by ${shrink} (2 per pooling layer)`,
    );
  }
  if (!Array.isArray(hidden)) throw invalidInput("hidden must be a list of layer widths");
  hidden.forEach((h, i) => checkPositiveInt(h, `hidden[${i}]`));
  if (!Number.isInteger(classes) || classes < 2) throw invalidInput(`classes is ${classes}; it must be an integer of at least 2`);
  const spec: TensorSpec[] = [];
  let inC = channels;
  conv.forEach((c, l) => {
    spec.push({ name: `conv2d_${l}/kernel`, shape: [c.kernel, c.kernel, inC, c.filters] });
    spec.push({ name: `conv2d_${l}/bias`, shape: [c.filters] });
    inC = c.filters;
  });
  const side = height / shrink;
  const widths = [side * side * inC, ...hidden, classes];
  for (let l = 0; l + 1 < widths.length; l++) {
    spec.push({ name: `dense_${l}/kernel`, shape: [widths[l], widths[l + 1]] });
    spec.push({ name: `dense_${l}/bias`, shape: [widths[l + 1]] });
  }
  return spec;
}

/** The architecture a spec describes: a dense chain, or convolutions followed by a dense chain. */
type Layout =
  | { kind: "mlp"; widths: number[] }
  | { kind: "cnn"; inputShape: [number, number, number]; conv: { kh: number; kw: number; filters: number }[]; widths: number[] };

function layout(spec: readonly TensorSpec[]): Layout {
  if (!Array.isArray(spec) || !spec.some((t) => t?.shape?.length === 4)) return { kind: "mlp", widths: layerWidths(spec) };
  if (spec.length % 2 !== 0) throw invalidInput("model spec must list kernel and bias tensors in pairs, one pair per layer");
  const conv: { kh: number; kw: number; filters: number }[] = [];
  let p = 0;
  for (; p < spec.length && spec[p].shape.length === 4; p += 2) {
    const kernel = spec[p].shape;
    const bias = spec[p + 1].shape;
    const l = conv.length;
    if (bias.length !== 1 || bias[0] !== kernel[3] || ![...kernel, ...bias].every((d) => Number.isInteger(d) && d > 0)) {
      throw invalidInput(`model spec convolution ${l} needs a kernel [kh, kw, in, filters] and a bias [filters] of positive integers`);
    }
    if (l > 0 && kernel[2] !== conv[l - 1].filters) {
      throw invalidInput(`model spec convolution ${l} takes ${kernel[2]} channels but convolution ${l - 1} gives ${conv[l - 1].filters}`);
    }
    conv.push({ kh: kernel[0], kw: kernel[1], filters: kernel[3] });
  }
  if (conv.length === 0) throw invalidInput("model spec must start with its convolution layers (kernels of rank 4)");
  const dense = spec.slice(p);
  if (dense.length === 0 || dense.some((t) => t.shape.length === 4)) {
    throw invalidInput("model spec must follow its convolutions with dense layers only, at least one");
  }
  const widths = layerWidths(dense);
  const lastFilters = conv[conv.length - 1].filters;
  const area = widths[0] / lastFilters;
  const side = Math.round(Math.sqrt(area));
  if (!Number.isInteger(area) || side * side !== area) {
    throw invalidInput(
      `model spec's first dense layer takes ${widths[0]} inputs, not a square number of ${lastFilters}-channel pixels after the convolutions`,
    );
  }
  const inputSide = side * 2 ** conv.length;
  return { kind: "cnn", inputShape: [inputSide, inputSide, spec[0].shape[2]], conv, widths };
}

/** Input features and output classes of the network a spec describes. */
function modelIo(spec: readonly TensorSpec[]): { inputs: number; classes: number; layout: Layout } {
  const arch = layout(spec);
  const inputs = arch.kind === "mlp" ? arch.widths[0] : arch.inputShape[0] * arch.inputShape[1] * arch.inputShape[2];
  return { inputs, classes: arch.widths[arch.widths.length - 1], layout: arch };
}

function checkFlat(spec: readonly TensorSpec[], flat: Float32Array, what: string): void {
  if (!(flat instanceof Float32Array)) throw invalidInput(`${what} must be a Float32Array`);
  const n = parameterCount(spec);
  if (flat.length !== n) throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `${what} has ${flat.length} parameters, the model ${n}`);
}

/**
 * Glorot-uniform kernels (limit sqrt(6 / (fan_in + fan_out)), Keras's fan convention for any rank)
 * and zero biases, drawn from the seeded PRNG rather than tf.random so that every machine and
 * backend starts from the same bits.
 */
export function initialWeights(spec: readonly TensorSpec[], seed: number): Float32Array {
  const rng = new Prng(seed);
  const out = new Float32Array(parameterCount(spec));
  let offset = 0;
  for (const t of spec) {
    const n = size(t.shape);
    if (t.shape.length >= 2) {
      const receptive = size(t.shape.slice(0, -2));
      const limit = Math.sqrt(6 / (receptive * (t.shape[t.shape.length - 2] + t.shape[t.shape.length - 1])));
      for (let i = 0; i < n; i++) out[offset + i] = (2 * rng.nextFloat() - 1) * limit;
    }
    offset += n;
  }
  return out;
}

/**
 * Builds the network a spec describes (ReLU hidden layers, linear logits), weights zeroed: a dense
 * chain (mlpSpec) or convolutions then a dense chain (cnnSpec). Either takes flat inputs of
 * `features` values per sample; a CNN reshapes them to [height, width, channels] itself.
 */
export function buildModel(tf: Tf, spec: readonly TensorSpec[]): MlpModel {
  const arch = layout(spec);
  const widths = arch.widths;
  const net = tf.sequential();
  if (arch.kind === "cnn") {
    const [h, w, c] = arch.inputShape;
    net.add(tf.layers.reshape({ targetShape: [h, w, c], inputShape: [h * w * c] }));
    for (const conv of arch.conv) {
      net.add(
        tf.layers.conv2d({
          filters: conv.filters,
          kernelSize: [conv.kh, conv.kw],
          padding: "same",
          activation: "relu",
          kernelInitializer: "zeros",
        }),
      );
      net.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    }
    net.add(tf.layers.flatten());
  }
  for (let l = 1; l < widths.length; l++) {
    net.add(
      tf.layers.dense({
        units: widths[l],
        activation: l + 1 < widths.length ? "relu" : "linear",
        // Zeros avoid tf.random: every caller overwrites the weights with setFlatWeights anyway.
        kernelInitializer: "zeros",
        ...(l === 1 && net.layers.length === 0 ? { inputShape: [widths[0]] } : {}),
      }),
    );
  }
  // A private copy, so a caller editing its spec later cannot desynchronise the model.
  const own = spec.map((t) => ({ name: t.name, shape: [...t.shape] }));
  return { tf, spec: own, net, dispose: () => net.dispose() };
}

export function setFlatWeights(model: MlpModel, flat: Float32Array): void {
  checkFlat(model.spec, flat, "weight vector");
  const { tf } = model;
  let offset = 0;
  const tensors = model.spec.map((t) => {
    const n = size(t.shape);
    // A copy, because the cpu backend would otherwise alias the caller's array.
    const tensor = tf.tensor(flat.slice(offset, offset + n), t.shape, "float32");
    offset += n;
    return tensor;
  });
  try {
    model.net.setWeights(tensors);
  } finally {
    // setWeights assigns by reference count, so the variables keep the data after this.
    tf.dispose(tensors);
  }
}

export function getFlatWeights(model: MlpModel): Float32Array {
  const out = new Float32Array(parameterCount(model.spec));
  let offset = 0;
  // getWeights returns the live variables themselves: reading them is fine, disposing is not.
  for (const w of model.net.getWeights()) {
    out.set(w.dataSync() as Float32Array, offset);
    offset += w.size;
  }
  return out;
}

/** Validates the pairing of spec, weights and data. */
function checkModelData(spec: readonly TensorSpec[], weights: Float32Array, data: Dataset): Layout {
  const { inputs, classes, layout: arch } = modelIo(spec);
  checkFlat(spec, weights, "weight vector");
  checkDataset(data);
  if (data.y.length === 0) throw new DsainError(ErrorCode.EMPTY_INPUT, "the dataset has no samples");
  if (data.features !== inputs) throw invalidInput(`the data has ${data.features} features but the model takes ${inputs} inputs`);
  if (data.classes !== classes) {
    throw invalidInput(`the data has ${data.classes} classes but the model outputs ${classes}`);
  }
  return arch;
}

/**
 * Local training of one participant: minibatch SGD with momentum on softmax cross-entropy, starting
 * from `weights` and returning the new weights. Batches follow a seeded permutation per epoch and
 * no tfjs randomness is used, so the result is a pure function of the inputs on a given backend.
 */
export async function trainLocal(
  tf: Tf,
  spec: readonly TensorSpec[],
  weights: Float32Array,
  data: Dataset,
  options: TrainOptions,
): Promise<Float32Array> {
  const { epochs, batchSize, learningRate, momentum } = { ...DEFAULT_TRAIN_OPTIONS, ...stripUndefined(options) };
  checkPositiveInt(epochs, "epochs");
  checkPositiveInt(batchSize, "batchSize");
  if (!Number.isFinite(learningRate) || learningRate <= 0)
    throw invalidInput(`learningRate is ${learningRate}; it must be a positive finite number`);
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw invalidInput(`momentum is ${momentum}; it must lie in [0, 1)`);
  const rng = new Prng(options.seed);
  checkModelData(spec, weights, data);

  const n = data.y.length;
  const model = buildModel(tf, spec);
  const x = tf.tensor2d(data.x, [n, data.features]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(data.y), "int32"), data.classes).toFloat());
  const m = tf.scalar(momentum);
  const c = tf.scalar(-learningRate);
  const velocity: tfjs.Variable[] = [];
  try {
    setFlatWeights(model, weights);
    const variables = model.net.trainableWeights.map((w) => w.read() as tfjs.Variable);
    // tidy frees the zeros tensor; variables survive it.
    for (const v of variables) velocity.push(tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.permutation(n);
      for (let start = 0; start < n; start += batchSize) {
        const idx = tf.tensor1d(Int32Array.from(order.subarray(start, Math.min(start + batchSize, n))), "int32");
        // The batch is gathered outside the gradient scope: inside it, tfjs would save (copy) the
        // whole x and y for gather's backward pass on every step, though neither needs a gradient.
        const xb = tf.gather(x, idx);
        const yb = tf.gather(y, idx);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(yb, model.net.apply(xb) as tfjs.Tensor2D) as tfjs.Scalar,
          variables,
        );
        // The update of tf.train.momentum (v <- m v + g; w <- w - lr v), written out because its
        // dispose() leaks the learning-rate scalar in tfjs 4.22.
        tf.tidy(() => {
          variables.forEach((w, i) => {
            const v = tf.add(tf.mul(m, velocity[i]), grads[w.name]);
            velocity[i].assign(v);
            w.assign(tf.add(tf.mul(c, v), w));
          });
        });
        tf.dispose([idx, xb, yb, value, ...Object.values(grads)]);
      }
      // One macrotask per epoch keeps timers and network peers in the same process responsive.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const out = getFlatWeights(model);
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new DsainError(ErrorCode.TRAINING_DIVERGED, `training diverged (parameter ${bad} is ${out[bad]}); lower the learning rate`);
    }
    return out;
  } finally {
    tf.dispose([x, y, m, c, ...velocity]);
    model.dispose();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Accuracy and mean softmax cross-entropy of `weights` on `data`. */
export function evaluate(tf: Tf, spec: readonly TensorSpec[], weights: Float32Array, data: Dataset): { accuracy: number; loss: number } {
  const arch = checkModelData(spec, weights, data);
  const model = buildModel(tf, spec);
  try {
    setFlatWeights(model, weights);
    // A CNN's activations for a whole test set would take gigabytes: it goes through in batches.
    if (arch.kind === "cnn") return evaluateInBatches(tf, model, data);
    const [accuracy, loss] = tf.tidy(() => {
      const labels = tf.tensor1d(Int32Array.from(data.y), "int32");
      const logits = model.net.apply(tf.tensor2d(data.x, [data.y.length, data.features])) as tfjs.Tensor2D;
      const lossT = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, data.classes), logits);
      const accT = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32"));
      return [accT.dataSync()[0], lossT.dataSync()[0]];
    });
    return { accuracy, loss };
  } finally {
    model.dispose();
  }
}

/** Samples per forward pass when a CNN evaluates or predicts. */
const CNN_EVAL_BATCH = 256;

/** Accuracy and mean loss accumulated over batches (sums in float64, divided once). */
function evaluateInBatches(tf: Tf, model: MlpModel, data: Dataset): { accuracy: number; loss: number } {
  const n = data.y.length;
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < n; start += CNN_EVAL_BATCH) {
    const end = Math.min(n, start + CNN_EVAL_BATCH);
    const [right, loss] = tf.tidy(() => {
      const labels = tf.tensor1d(Int32Array.from(data.y.subarray(start, end)), "int32");
      const x = tf.tensor2d(data.x.subarray(start * data.features, end * data.features), [end - start, data.features]);
      const logits = model.net.apply(x) as tfjs.Tensor2D;
      const lossT = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, data.classes), logits, undefined, undefined, tf.Reduction.SUM);
      const rightT = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32"));
      return [rightT.dataSync()[0], lossT.dataSync()[0]];
    });
    correct += right;
    lossSum += loss;
  }
  return { accuracy: correct / n, loss: lossSum / n };
}

/**
 * The class each sample of `data` is assigned (argmax of the logits), e.g. to measure a backdoor's
 * attack success rate on triggered images. Labels in `data` are only validated, not used.
 */
export function predictLabels(tf: Tf, spec: readonly TensorSpec[], weights: Float32Array, data: Dataset): Uint8Array {
  checkModelData(spec, weights, data);
  const model = buildModel(tf, spec);
  const n = data.y.length;
  const out = new Uint8Array(n);
  try {
    setFlatWeights(model, weights);
    for (let start = 0; start < n; start += CNN_EVAL_BATCH) {
      const end = Math.min(n, start + CNN_EVAL_BATCH);
      const labels = tf.tidy(() => {
        const x = tf.tensor2d(data.x.subarray(start * data.features, end * data.features), [end - start, data.features]);
        return tf.argMax(model.net.apply(x) as tfjs.Tensor2D, 1).dataSync();
      });
      out.set(labels, start);
    }
    return out;
  } finally {
    model.dispose();
  }
}
