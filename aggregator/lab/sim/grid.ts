// The run lists the simulate command executes: any methods × attacks × compressions × seeds grid,
// and the two presets, Table 2 and the communication table.
import { type AttackName, type SimulationConfig, simulationConfig } from "./config.js";
import type { StrategyName } from "./strategies.js";

export interface GridSpec {
  readonly methods: readonly StrategyName[];
  readonly attacks: readonly AttackName[];
  readonly seeds: readonly number[];
  /** Top-k ratios with error feedback; null is dense. Default [null]. */
  readonly compressions?: readonly (number | null)[];
}

/** Table 2 of the DSAIN paper, on MNIST: five methods under six attacks, three seeds. */
export const TABLE2: Readonly<GridSpec> = Object.freeze({
  methods: Object.freeze(["fedavg", "krum", "trimmed-mean", "median", "byzfed"] as StrategyName[]),
  attacks: Object.freeze(["none", "sign-flip", "gaussian", "label-flip", "alie", "ipm"] as AttackName[]),
  seeds: Object.freeze([1, 2, 3]),
});

/** The communication table: FedAvg and ByzFed, dense and top-k 10% with error feedback, no attack, three seeds. */
export const COMMUNICATION: Readonly<GridSpec> = Object.freeze({
  methods: Object.freeze(["fedavg", "byzfed"] as StrategyName[]),
  attacks: Object.freeze(["none"] as AttackName[]),
  seeds: Object.freeze([1, 2, 3]),
  compressions: Object.freeze([null, 0.1]),
});

/**
 * One config per (method, compression, attack, seed), in that nesting order, each checked. Runs that
 * differ only in the seed sit together, so partial output reads naturally.
 */
export function gridConfigs(spec: GridSpec, base: Partial<SimulationConfig> = {}): SimulationConfig[] {
  const out: SimulationConfig[] = [];
  for (const method of spec.methods)
    for (const compression of spec.compressions ?? [null])
      for (const attack of spec.attacks)
        for (const seed of spec.seeds) out.push(simulationConfig({ ...base, method, compression, attack, seed }));
  return out;
}
