// Runs one case of the DSAIN reference vectors for FedSov (top-k + error feedback, DP pieces, local update).
//
// Schemas (each file's meta.description is the authority): ../shared/vectors/dsain/topk-ef-vectors.json
// ("dsain/topk-ef") and ../shared/vectors/dsain/fedsov-dp-vectors.json ("dsain/fedsov-dp"), outputs
// of code/dsain.py (TerexSpace/dsain-framework @1ef69cb) on numpy float64. Tolerance
// |a - b| <= 1e-12 + 1e-9 |b| for floats; top-k outputs are compared exactly (one addition and one
// subtraction, as the file says), integers and index sets exactly. Noise draws are not in the files
// (numpy's generator), so only what is deterministic is checked: sigma, clipping, local updates.
import { ensureError } from "../../errors.js";
import { clipToNorm, gaussianNoiseScale } from "./dp.js";
import { linearLocalUpdate } from "./local-linear.js";
import { TopKCompressor, densify } from "./topk.js";

export const FEDSOV_VECTOR_SCHEMAS = Object.freeze(["dsain/topk-ef", "dsain/fedsov-dp"] as const);
export type FedsovVectorSchema = (typeof FEDSOV_VECTOR_SCHEMAS)[number];

export interface VectorCaseResult {
  ok: boolean;
  /** The case's id (or "?" when it has none). */
  id: string;
  /** What matched, or the first thing that did not. */
  message: string;
}

/** The schema of a vectors file from its name: topk-ef-vectors.json and fedsov-dp-vectors.json. */
export function fedsovSchemaOf(fileName: string): FedsovVectorSchema | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? "";
  if (base === "topk-ef-vectors.json") return "dsain/topk-ef";
  if (base === "fedsov-dp-vectors.json") return "dsain/fedsov-dp";
  return undefined;
}

class Mismatch extends Error {}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);

function numbers(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number"))
    throw new Mismatch(`malformed case: ${what} is not a list of numbers`);
  return value as number[];
}

function num(value: unknown, what: string): number {
  if (typeof value !== "number") throw new Mismatch(`malformed case: ${what} is not a number`);
  return value;
}

function expectVector(got: ArrayLike<number>, want: number[], what: string, exact = false): void {
  if (got.length !== want.length) throw new Mismatch(`${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (exact ? got[i] !== want[i] : !close(got[i], want[i])) {
      throw new Mismatch(
        `${what}[${i}] is ${got[i]}, expected ${want[i]}${exact ? " (exact)" : ` (|diff| ${Math.abs(got[i] - want[i]).toExponential(2)})`}`,
      );
    }
  }
}

function expectNumber(got: number, want: number, what: string): void {
  if (!close(got, want)) throw new Mismatch(`${what} is ${got}, expected ${want} (|diff| ${Math.abs(got - want).toExponential(2)})`);
}

function runTopK(c: Record<string, unknown>): string {
  const d = num(c.d, "d");
  const ratio = num(c.compression_ratio, "compression_ratio");
  if (!Array.isArray(c.rounds) || c.rounds.length === 0) throw new Mismatch("malformed case: rounds is not a non-empty list");
  const compressor = new TopKCompressor(ratio);
  let ties = 0;
  c.rounds.forEach((r: Record<string, unknown>, t: number) => {
    const at = `round ${t}`;
    const client = r.client_id as string | number;
    const input = numbers(r.input, `${at} input`);
    if (input.length !== d) throw new Mismatch(`malformed case: ${at} input has ${input.length} values, d is ${d}`);
    const before = compressor.residualOf(client);
    if (r.residual_before === null) {
      if (before !== undefined) throw new Mismatch(`${at}: the reference has no residual for client ${client}, the compressor has one`);
    } else {
      if (before === undefined) throw new Mismatch(`${at}: the reference has a residual for client ${client}, the compressor none`);
      expectVector(before, numbers(r.residual_before, `${at} residual_before`), `${at} residual_before`, true);
    }
    const step = compressor.compress(client, input);
    expectVector(step.accumulated, numbers(r.accumulated, `${at} accumulated`), `${at} accumulated`, true);
    if (step.k !== r.k) throw new Mismatch(`${at} k is ${step.k}, expected ${String(r.k)}`);
    const output = densify(step.output);
    expectVector(output, numbers(r.output, `${at} output`), `${at} output`, true);
    expectVector(step.residual, numbers(r.residual_after, `${at} residual_after`), `${at} residual_after`, true);
    if (r.selected_indices === null) ties++;
    else {
      const want = [...numbers(r.selected_indices, `${at} selected_indices`)].sort((a, b) => a - b);
      const got = [...step.output.indices].filter((i) => output[i] !== 0);
      if (got.length !== want.length || got.some((v, i) => v !== want[i]))
        throw new Mismatch(`${at} selected indices are [${got.join(", ")}], expected [${want.join(", ")}]`);
    }
  });
  return `${c.rounds.length} round(s) match exactly${ties > 0 ? ` (${ties} with a boundary tie: values compared, index sets not)` : ""}`;
}

function runDp(c: Record<string, unknown>): string {
  switch (c.kind) {
    case "dp_noise_scale": {
      const sigma = gaussianNoiseScale(num(c.clip_norm, "clip_norm"), num(c.epsilon, "epsilon"), num(c.delta, "delta"));
      expectNumber(sigma, num(c.noise_scale, "noise_scale"), "noise_scale");
      return `noise scale ${sigma} matches`;
    }
    case "dp_clip": {
      const clipped = clipToNorm(numbers(c.input, "input"), num(c.clip_norm, "clip_norm"));
      expectVector(clipped.values, numbers(c.output, "output"), "output");
      return `clipped output matches (norm ${clipped.norm.toPrecision(6)}, ${clipped.scaled ? "scaled" : "unchanged"})`;
    }
    case "local_update": {
      if (!Array.isArray(c.X) || c.X.length === 0) throw new Mismatch("malformed case: X is not a non-empty list of rows");
      const rows = c.X.map((row, i) => numbers(row, `X[${i}]`));
      const y = numbers(c.y, "y");
      const w0 = numbers(c.global_model, "global_model");
      const result = linearLocalUpdate(
        Float64Array.from(rows.flat()),
        Float64Array.from(y),
        Float64Array.from(w0),
        Float64Array.from(numbers(c.momentum_buffer_before, "momentum_buffer_before")),
        {
          localEpochs: num(c.local_epochs, "local_epochs"),
          learningRate: num(c.learning_rate, "learning_rate"),
          momentum: num(c.momentum, "momentum"),
          batchSize: num(c.batch_size, "batch_size"),
          byzantine: c.is_byzantine === true,
        },
      );
      expectVector(result.delta, numbers(c.delta, "delta"), "delta");
      expectVector(result.momentum, numbers(c.momentum_buffer_after, "momentum_buffer_after"), "momentum_buffer_after");
      return `delta and momentum buffer match (${rows.length} rows, ${c.local_epochs} steps${c.is_byzantine === true ? ", Byzantine" : ""})`;
    }
    default:
      throw new Mismatch(`unknown kind ${JSON.stringify(c.kind)} (known: dp_noise_scale, dp_clip, local_update)`);
  }
}

/**
 * Checks one case of a FedSov vectors file; never throws. Local updates whose batch size is below
 * the row count draw rows from numpy's generator and cannot be reproduced: they are reported as
 * failures naming that reason (the published cases all use every row).
 */
export function runFedsovVectorCase(schema: FedsovVectorSchema, testCase: unknown): VectorCaseResult {
  const c = (testCase ?? {}) as Record<string, unknown>;
  const id = typeof c.id === "string" ? c.id : "?";
  try {
    if (typeof testCase !== "object" || testCase === null) throw new Mismatch("malformed case: not an object");
    if (schema === "dsain/topk-ef") return { ok: true, id, message: runTopK(c) };
    if (schema === "dsain/fedsov-dp") {
      if (c.kind === "local_update" && Array.isArray(c.X) && typeof c.batch_size === "number" && c.batch_size < c.X.length) {
        throw new Mismatch(
          `batch_size ${c.batch_size} < ${c.X.length} rows: the reference draws rows with numpy's MT19937, which is not reproduced here`,
        );
      }
      return { ok: true, id, message: runDp(c) };
    }
    return { ok: false, id, message: `unknown schema ${JSON.stringify(schema)} (known: ${FEDSOV_VECTOR_SCHEMAS.join(", ")})` };
  } catch (e) {
    return { ok: false, id, message: ensureError(e).message };
  }
}
