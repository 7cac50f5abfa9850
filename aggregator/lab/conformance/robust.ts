// Conformance schema of ../shared/vectors/robust/robust-aggregation-vectors.json: ByzFL's and
// Flower's aggregators, one check per (case, output key). The output key names the reference and
// the method ("byzfl.Krum", "flwr.aggregate_krum(multikrum)", "byzfl.GeometricMedian@nu=...");
// its `params` carry the arguments; an entry with `error` is an input the reference refuses.
import { DsainError } from "../../errors.js";
import {
  arc,
  bulyan,
  centeredClipping,
  coordinateMedian,
  krumSelect,
  mda,
  meamed,
  mean,
  monna,
  multiKrum,
  nnm,
  pairwiseSquaredDistances,
  smoothedWeiszfeld,
  staticClipping,
  trimmedMean,
  trimmedMeanProportion,
  weightedMean,
  type Vec,
} from "../../maths/robust/index.js";
import { compareExact, compareFloats } from "./compare.js";
import { attempt, caseId, type CaseOutcome, type ConformanceSchema, type VectorsFile } from "./schema.js";

/** What a method returns: an aggregate, a list of vectors (pre-aggregators), a matrix, and Krum's choice. */
interface MethodOutput {
  readonly value: Float64Array | Float64Array[];
  readonly selectedIndex?: number;
}

interface CaseData {
  readonly updates: Vec[];
  readonly numExamples: number[];
}

type Params = Record<string, unknown>;

interface Method {
  /** Parameter names the method understands; any other one fails the check rather than being ignored. */
  readonly params: readonly string[];
  run(data: CaseData, p: Params): MethodOutput;
}

const num = (p: Params, name: string): number => {
  const v = p[name];
  if (typeof v !== "number") throw new Error(`parameter "${name}" missing or not a number`);
  return v;
};

/** Flower's weighting: "num_examples" or "all 1". */
function flowerWeights(data: CaseData, p: Params): number[] {
  const w = p.weights ?? "num_examples";
  if (w === "num_examples") return data.numExamples;
  if (w === "all 1") return data.numExamples.map(() => 1);
  throw new Error(`unsupported weights "${String(w)}"`);
}

function matrix(flat: Float64Array, n: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => flat.slice(i * n, (i + 1) * n));
}

const METHODS: Record<string, Method> = {
  "byzfl.Average": { params: [], run: ({ updates }) => ({ value: mean(updates) }) },
  "byzfl.Median": { params: [], run: ({ updates }) => ({ value: coordinateMedian(updates) }) },
  "byzfl.TrMean": { params: ["f"], run: ({ updates }, p) => ({ value: trimmedMean(updates, num(p, "f")) }) },
  "byzfl.GeometricMedian": {
    params: ["nu", "T"],
    run: ({ updates }, p) => ({ value: smoothedWeiszfeld(updates, { nu: num(p, "nu"), iterations: num(p, "T") }) }),
  },
  "byzfl.Krum": {
    params: ["f"],
    run: ({ updates }, p) => {
      const { index } = krumSelect(updates, num(p, "f"), "byzfl");
      return { value: Float64Array.from(updates[index]), selectedIndex: index };
    },
  },
  "byzfl.MultiKrum": { params: ["f"], run: ({ updates }, p) => ({ value: multiKrum(updates, num(p, "f"), { variant: "byzfl" }) }) },
  "byzfl.CenteredClipping": {
    params: ["m", "L", "tau"],
    run: ({ updates }, p) => {
      const m = p.m;
      let center: number[] | undefined;
      if (Array.isArray(m)) center = m as number[];
      else if (m !== "zeros" && m !== null && m !== undefined) throw new Error(`unsupported center m=${JSON.stringify(m)}`);
      return { value: centeredClipping(updates, { center, iterations: num(p, "L"), tau: num(p, "tau") }) };
    },
  },
  "byzfl.MDA": { params: ["f"], run: ({ updates }, p) => ({ value: mda(updates, num(p, "f")) }) },
  "byzfl.MoNNA": {
    params: ["f", "idx"],
    run: ({ updates }, p) => ({ value: monna(updates, num(p, "f"), (p.idx as number | undefined) ?? 0) }),
  },
  "byzfl.Meamed": { params: ["f"], run: ({ updates }, p) => ({ value: meamed(updates, num(p, "f")) }) },
  "byzfl.pre.NNM": { params: ["f"], run: ({ updates }, p) => ({ value: nnm(updates, num(p, "f")) }) },
  "byzfl.pre.Clipping": { params: ["c"], run: ({ updates }, p) => ({ value: staticClipping(updates, num(p, "c")) }) },
  "byzfl.pre.ARC": { params: ["f"], run: ({ updates }, p) => ({ value: arc(updates, num(p, "f")) }) },
  "flwr.aggregate": { params: ["weights"], run: (data, p) => ({ value: weightedMean(data.updates, flowerWeights(data, p)) }) },
  "flwr.aggregate_median": { params: [], run: ({ updates }) => ({ value: coordinateMedian(updates) }) },
  "flwr.aggregate_krum": {
    params: ["num_malicious", "to_keep", "weights"],
    run: (data, p) => {
      const f = num(p, "num_malicious");
      const keep = num(p, "to_keep");
      if (keep > 0) return { value: multiKrum(data.updates, f, { variant: "flower", keep, sampleCounts: flowerWeights(data, p) }) };
      const { index } = krumSelect(data.updates, f, "flower");
      return { value: Float64Array.from(data.updates[index]), selectedIndex: index };
    },
  },
  "flwr.aggregate_trimmed_avg": {
    params: ["proportiontocut"],
    run: ({ updates }, p) => ({ value: trimmedMeanProportion(updates, num(p, "proportiontocut")) }),
  },
  "flwr.aggregate_bulyan": {
    params: ["num_malicious", "aggregation_rule", "to_keep"],
    run: ({ updates }, p) => {
      if (p.aggregation_rule !== "aggregate_krum") throw new Error(`unsupported aggregation_rule "${String(p.aggregation_rule)}"`);
      if ((p.to_keep ?? 0) !== 0) throw new Error(`unsupported to_keep ${String(p.to_keep)} (Flower's Bulyan runs Krum, to_keep 0)`);
      return { value: bulyan(updates, num(p, "num_malicious"), "flower") };
    },
  },
  "flwr.squared_distance_matrix": {
    params: [],
    run: ({ updates }) => ({ value: matrix(pairwiseSquaredDistances(updates), updates.length) }),
  },
};

/** "byzfl.GeometricMedian@nu=1e-8,T=1000" -> "byzfl.GeometricMedian"; "flwr.aggregate_krum(multikrum)" -> "flwr.aggregate_krum". */
export function methodOf(key: string): string {
  return key.split("@")[0].replace(/\(.*\)$/, "");
}

/** The output keys this implementation can check. */
export const SUPPORTED_METHODS: readonly string[] = Object.keys(METHODS);

function checkOutput(data: CaseData, key: string, expected: Record<string, any>): string | null {
  const name = methodOf(key);
  const method = METHODS[name];
  if (!method) return `no implementation of "${name}" (supported: ${SUPPORTED_METHODS.join(", ")})`;
  const params = (expected.params ?? {}) as Params;
  for (const p of Object.keys(params)) if (!method.params.includes(p)) return `unsupported parameter "${p}" of ${name}`;
  if ("error" in expected) {
    try {
      method.run(data, params);
    } catch (e) {
      if (e instanceof DsainError) return null;
      throw e;
    }
    return `the reference refuses this input (${String(expected.error).slice(0, 120)}…) but the implementation returned a value`;
  }
  const out = method.run(data, params);
  const failure = compareFloats("value", out.value, expected.value);
  if (failure) return failure;
  if ("selected_index" in expected) return compareExact("selected_index", out.selectedIndex, expected.selected_index);
  return null;
}

export const robustSchema: ConformanceSchema = {
  name: "robust/robust-aggregation",
  detect: (file: VectorsFile) =>
    file.cases.length > 0 &&
    file.cases.every((c) => Array.isArray(c.inputs) && typeof c.outputs === "object" && c.outputs !== null && !Array.isArray(c.outputs)),
  run: (file: VectorsFile): CaseOutcome[] =>
    file.cases.flatMap((c, i) => {
      const id = caseId(c, i);
      const data: CaseData = {
        updates: (c.inputs as number[][]).map((row) => Float64Array.from(row)),
        numExamples: (c.num_examples as number[] | undefined) ?? (c.inputs as unknown[]).map(() => 1),
      };
      return Object.entries(c.outputs as Record<string, Record<string, any>>).map(([key, expected]) =>
        attempt(`${id} ${key}`, () => checkOutput(data, key, expected)),
      );
    }),
};
