// Aggregation strategies by name (Flower's pattern): each name maps to the thin strategy class of
// ../robust, itself a wrapper of that module's tested pure functions; parameters are checked here,
// once, and every refusal names the strategy and the parameter.
import { DsainError, ErrorCode } from "../../errors.js";
import { Bulyan } from "../../maths/robust/bulyan.js";
import { ByzFed, byzFedParams, type ByzFedParams } from "../../maths/robust/byzfed.js";
import { CenteredClipping } from "../../maths/robust/centered-clipping.js";
import type { RobustAggregator } from "../../maths/robust/common.js";
import { FedAvg } from "../../maths/robust/fedavg.js";
import { GeometricMedian } from "../../maths/robust/geometric-median.js";
import { Krum, MultiKrum, type KrumVariant } from "../../maths/robust/krum.js";
import { CoordinateMedian } from "../../maths/robust/median.js";
import { TrimmedMean } from "../../maths/robust/trimmed-mean.js";

export const STRATEGY_NAMES = [
  "fedavg",
  "krum",
  "multi-krum",
  "trimmed-mean",
  "median",
  "byzfed",
  "geometric-median",
  "bulyan",
  "centered-clipping",
] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** Display names, for tables and plots. */
export const STRATEGY_LABELS: Readonly<Record<StrategyName, string>> = Object.freeze({
  fedavg: "FedAvg",
  krum: "Krum",
  "multi-krum": "Multi-Krum",
  "trimmed-mean": "Trimmed mean",
  median: "Median",
  byzfed: "ByzFed",
  "geometric-median": "Geometric median",
  bulyan: "Bulyan",
  "centered-clipping": "Centered clipping",
});

/**
 * Parameters of every strategy; each reads only its own. Defaults are the references' (see the
 * strategy's module in ../robust).
 */
export interface StrategyParams {
  /** Byzantine clients tolerated: required by krum, multi-krum, trimmed-mean and bulyan. */
  readonly f?: number;
  /** Krum's neighbourhood rule for krum, multi-krum and bulyan: "flower" (the paper's, default) or "byzfl". */
  readonly krumVariant?: KrumVariant;
  /** multi-krum: how many best-scored updates to average (default n - f). */
  readonly multiKrumKeep?: number;
  /** multi-krum: weight the average by sample counts (Flower) instead of uniformly (default false). */
  readonly multiKrumWeighted?: boolean;
  /** byzfed: the authors' parameters (tau 3, alpha 0.9, scale factor 1.4826, ...). */
  readonly byzfed?: Partial<ByzFedParams>;
  /** geometric-median: smoothing nu (default 0.1) and iterations (default 3), ByzFL's. */
  readonly geometricMedian?: { readonly nu?: number; readonly iterations?: number };
  /** centered-clipping: radius tau (default 100) and iterations L (default 1), ByzFL's. */
  readonly centeredClipping?: { readonly tau?: number; readonly iterations?: number };
}

const PARAM_KEYS: ReadonlySet<string> = new Set([
  "f",
  "krumVariant",
  "multiKrumKeep",
  "multiKrumWeighted",
  "byzfed",
  "geometricMedian",
  "centeredClipping",
]);

/** Which parameters each strategy reads: any other one given is refused, so a typo cannot pass silently. */
const READS: Readonly<Record<StrategyName, readonly (keyof StrategyParams)[]>> = {
  fedavg: [],
  krum: ["f", "krumVariant"],
  "multi-krum": ["f", "krumVariant", "multiKrumKeep", "multiKrumWeighted"],
  "trimmed-mean": ["f"],
  median: [],
  byzfed: ["byzfed"],
  "geometric-median": ["geometricMedian"],
  bulyan: ["f", "krumVariant"],
  "centered-clipping": ["centeredClipping"],
};

const NEEDS_F: ReadonlySet<StrategyName> = new Set(["krum", "multi-krum", "trimmed-mean", "bulyan"]);

function bad(message: string): DsainError {
  return new DsainError(ErrorCode.CONFIG_INVALID, message);
}

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

/** The strategy's name, or a refusal that lists the known ones. */
export function checkStrategyName(name: string): StrategyName {
  if (!isStrategyName(name)) throw bad(`unknown aggregation strategy "${name}"; choose one of ${STRATEGY_NAMES.join(", ")}`);
  return name;
}

function checkKeys(name: StrategyName, params: StrategyParams, keys: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if ((params as Record<string, unknown>)[key] === undefined) continue;
    if (!PARAM_KEYS.has(key)) throw bad(`${name}: unknown strategy parameter "${key}"; known: ${[...PARAM_KEYS].join(", ")}`);
    if (!keys.includes(key)) {
      throw bad(`${name}: parameter "${key}" does not apply to it${keys.length ? ` (it reads ${keys.join(", ")})` : " (it takes none)"}`);
    }
  }
}

function checkSubKeys(name: StrategyName, what: string, value: object | undefined, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object") throw bad(`${name}: ${what} must be an object`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw bad(`${name}: unknown ${what} parameter "${key}"; known: ${allowed.join(", ")}`);
  }
}

function checkOptionalNumber(name: string, what: string, value: number | undefined, integer: boolean, min: number): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw bad(`${name}: ${what} must be ${integer ? "an integer" : "a finite number"} >= ${min}, got ${String(value)}`);
  }
}

/**
 * A fresh strategy instance. Stateful strategies (byzfed: reputations; centered-clipping: its
 * center) carry their state across the rounds aggregated by that instance, so a simulation creates
 * one per run.
 */
export function createStrategy(name: string, params: StrategyParams = {}): RobustAggregator {
  const strategy = checkStrategyName(name);
  if (params === null || typeof params !== "object") throw bad(`${strategy}: strategy parameters must be an object`);
  checkKeys(strategy, params, READS[strategy]);
  if (NEEDS_F.has(strategy)) {
    if (params.f === undefined) throw bad(`${strategy} needs f, the number of Byzantine clients it tolerates`);
    checkOptionalNumber(strategy, "f", params.f, true, 0);
  }
  if (params.krumVariant !== undefined && params.krumVariant !== "flower" && params.krumVariant !== "byzfl") {
    throw bad(`${strategy}: krumVariant must be "flower" or "byzfl", got "${String(params.krumVariant)}"`);
  }
  switch (strategy) {
    case "fedavg":
      return new FedAvg();
    case "median":
      return new CoordinateMedian();
    case "trimmed-mean":
      return new TrimmedMean(params.f as number);
    case "krum":
      return new Krum(params.f as number, params.krumVariant ?? "flower");
    case "multi-krum":
      checkOptionalNumber(strategy, "multiKrumKeep", params.multiKrumKeep, true, 1);
      if (params.multiKrumWeighted !== undefined && typeof params.multiKrumWeighted !== "boolean")
        throw bad(`${strategy}: multiKrumWeighted must be true or false, got ${String(params.multiKrumWeighted)}`);
      return new MultiKrum(params.f as number, {
        variant: params.krumVariant ?? "flower",
        keep: params.multiKrumKeep,
        weighted: params.multiKrumWeighted ?? false,
      });
    case "bulyan":
      return new Bulyan(params.f as number, params.krumVariant ?? "flower");
    case "byzfed":
      checkSubKeys(strategy, "byzfed", params.byzfed, Object.keys(byzFedParams()));
      return new ByzFed(params.byzfed ?? {});
    case "geometric-median": {
      const o = params.geometricMedian ?? {};
      checkSubKeys(strategy, "geometricMedian", o, ["nu", "iterations"]);
      checkOptionalNumber(strategy, "geometricMedian.nu", o.nu, false, 0);
      checkOptionalNumber(strategy, "geometricMedian.iterations", o.iterations, true, 0);
      return new GeometricMedian(o);
    }
    case "centered-clipping": {
      const o = params.centeredClipping ?? {};
      checkSubKeys(strategy, "centeredClipping", o, ["tau", "iterations"]);
      checkOptionalNumber(strategy, "centeredClipping.tau", o.tau, false, 0);
      checkOptionalNumber(strategy, "centeredClipping.iterations", o.iterations, true, 0);
      return new CenteredClipping(o);
    }
  }
}
