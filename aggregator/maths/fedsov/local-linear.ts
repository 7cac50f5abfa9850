// The DSAIN reference client's local update on its linear least-squares model (momentum SGD), as a pure function.
//
// Paper: DSAIN Algorithm 1 (FedSov), lines 5-10: E local steps w <- w - eta (grad + momentum), then
// Delta = w^E - w^t. Reference code: LocalClient.compute_gradient / local_update in code/dsain.py
// (L214-238 at 1ef69cb): one mini-batch of min(B, n) rows drawn without replacement per "local
// epoch", gradient 2 X^T (X w - y) / B, m <- mu m + g, w <- w - eta m, and a momentum buffer that
// persists across rounds (the caller keeps it). This is the yardstick the `local_update` cases of
// fedsov-dp-vectors.json check; real models train through tfjs in ./client.ts.
import { DsainError, ErrorCode } from "../../errors.js";
import { Prng } from "../learning/data.js";
import { checkFinite } from "./topk.js";

export interface LinearLocalUpdateOptions {
  /** Local steps E (the reference calls them epochs; each is ONE mini-batch step). */
  localEpochs: number;
  learningRate: number;
  momentum: number;
  /** Rows per step; min(batchSize, n) are used. Default 32. */
  batchSize?: number;
  /** Seeds the row choice when batchSize < n (all rows are used otherwise, and no seed is needed). */
  seed?: number;
  /** The reference's Byzantine client: returns -10 * Delta. Default false. */
  byzantine?: boolean;
}

export interface LinearLocalUpdate {
  delta: Float64Array;
  /** The momentum buffer after the update; pass it to the client's next round. */
  momentum: Float64Array;
}

function invalidInput(message: string): DsainError {
  return new DsainError(ErrorCode.INPUT_INVALID, message);
}

/**
 * Local update of the reference's linear model. `x` holds n rows of d features (row-major), `y`
 * n targets, `globalModel` d weights, `momentumBuffer` d values (zeros for a new client).
 */
export function linearLocalUpdate(
  x: Float64Array,
  y: Float64Array,
  globalModel: Float64Array,
  momentumBuffer: Float64Array,
  options: LinearLocalUpdateOptions,
): LinearLocalUpdate {
  const d = globalModel.length;
  const n = y.length;
  const { localEpochs, learningRate, momentum, batchSize = 32, byzantine = false } = options;
  if (d < 1 || n < 1) throw new DsainError(ErrorCode.EMPTY_INPUT, "the linear update needs at least one row and one weight");
  if (x.length !== n * d)
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `x has ${x.length} values; ${n} rows of ${d} need ${n * d}`);
  if (momentumBuffer.length !== d)
    throw new DsainError(ErrorCode.VECTOR_LENGTH_MISMATCH, `the momentum buffer has ${momentumBuffer.length} values, the model ${d}`);
  if (!Number.isSafeInteger(localEpochs) || localEpochs < 1)
    throw invalidInput(`localEpochs is ${localEpochs}; it must be a positive integer`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalidInput(`batchSize is ${batchSize}; it must be a positive integer`);
  if (!(learningRate > 0) || !Number.isFinite(learningRate))
    throw invalidInput(`learningRate is ${learningRate}; it must be a positive finite number`);
  if (!(momentum >= 0 && momentum < 1)) throw invalidInput(`momentum is ${momentum}; it must lie in [0, 1)`);
  for (const [v, what] of [
    [x, "x"],
    [y, "y"],
    [globalModel, "globalModel"],
    [momentumBuffer, "momentumBuffer"],
  ] as const)
    checkFinite(v, what);
  const b = Math.min(batchSize, n);
  if (b < n && options.seed === undefined) throw invalidInput(`batchSize ${batchSize} < ${n} rows: a seed is needed to draw the batches`);
  const rng = b < n ? new Prng(options.seed as number) : undefined;

  const w = Float64Array.from(globalModel);
  const m = Float64Array.from(momentumBuffer);
  const err = new Float64Array(b);
  const g = new Float64Array(d);
  for (let e = 0; e < localEpochs; e++) {
    const rows = rng === undefined ? undefined : rng.permutation(n).subarray(0, b);
    for (let r = 0; r < b; r++) {
      const row = rows === undefined ? r : rows[r];
      let p = 0;
      for (let j = 0; j < d; j++) p += x[row * d + j] * w[j];
      err[r] = p - y[row];
    }
    g.fill(0);
    for (let r = 0; r < b; r++) {
      const row = rows === undefined ? r : rows[r];
      for (let j = 0; j < d; j++) g[j] += 2 * x[row * d + j] * err[r];
    }
    for (let j = 0; j < d; j++) {
      m[j] = momentum * m[j] + g[j] / b;
      w[j] -= learningRate * m[j];
    }
  }
  const delta = new Float64Array(d);
  for (let j = 0; j < d; j++) delta[j] = byzantine ? -(w[j] - globalModel[j]) * 10 : w[j] - globalModel[j];
  return { delta, momentum: m };
}
