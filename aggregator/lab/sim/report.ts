// From run results to what a reader sees: mean ± std over seeds per (method, compression, attack),
// the results tables in markdown (Table 2 with its targets, the communication table), and the
// accuracy-per-round plots. Pure: strings in, strings out.
import { alieZ } from "../../maths/attacks/alie.js";
import { BYZFED_DEFAULTS, byzFedParams } from "../../maths/robust/byzfed.js";
import { CENTERED_CLIPPING_DEFAULTS } from "../../maths/robust/centered-clipping.js";
import { SMOOTHED_WEISZFELD_DEFAULTS } from "../../maths/robust/geometric-median.js";
import { ATTACK_LABELS, type AttackName, type SimulationConfig, byzantineCount } from "./config.js";
import type { RunResult } from "./engine.js";
import { lineChartSvg } from "./plot.js";
import { STRATEGY_LABELS, type StrategyName } from "./strategies.js";

export interface MeanStd {
  readonly mean: number;
  /** Sample standard deviation (n - 1 in the denominator); 0 for a single seed. */
  readonly std: number;
}

export interface GroupSummary {
  readonly method: StrategyName;
  readonly attack: AttackName;
  readonly compression: number | null;
  readonly seeds: number[];
  /** Final test accuracy over the seeds, in [0, 1]. */
  readonly final: MeanStd;
  readonly initial: number;
  /** Per-round accuracy, mean and std over the seeds. */
  readonly curveMean: number[];
  readonly curveStd: number[];
  /** Bytes one client uploads per round (mean over rounds and seeds). */
  readonly uploadBytes: number;
  /**
   * Convex weight the aggregate put on the Byzantine clients, mean over rounds and seeds; null for
   * rules whose aggregate is not a weighted mean of the updates (median, trimmed mean, ...).
   */
  readonly byzantineWeight: number | null;
  readonly divergedRuns: number;
}

export interface GridMeta {
  /** The command line that produced the results. */
  readonly command: string;
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly workers: number;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly machine: string;
  readonly node: string;
  readonly date: string;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: 0 };
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

const groupKey = (c: SimulationConfig) => `${c.method}|${c.compression ?? "dense"}|${c.attack}`;

/** One summary per (method, compression, attack), in order of first appearance. */
export function summarize(results: readonly RunResult[]): GroupSummary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const key = groupKey(r.config);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((runs) => {
    const c = runs[0].config;
    const rounds = Math.min(...runs.map((r) => r.rounds.length));
    const curve = Array.from({ length: rounds }, (_, t) => meanStd(runs.map((r) => r.rounds[t].accuracy)));
    const bytes = runs.flatMap((r) => r.rounds.map((x) => x.uploadBytes));
    const weightShares = runs.flatMap((r) => r.rounds.flatMap((x) => (x.byzantineWeight === null ? [] : [x.byzantineWeight])));
    return {
      method: c.method,
      attack: c.attack,
      compression: c.compression,
      seeds: runs.map((r) => r.config.seed),
      final: meanStd(runs.map((r) => r.finalAccuracy)),
      initial: meanStd(runs.map((r) => r.initialAccuracy)).mean,
      curveMean: curve.map((x) => x.mean),
      curveStd: curve.map((x) => x.std),
      uploadBytes: bytes.reduce((a, b) => a + b, 0) / bytes.length,
      byzantineWeight: weightShares.length === 0 ? null : weightShares.reduce((a, b) => a + b, 0) / weightShares.length,
      divergedRuns: runs.filter((r) => r.divergedAtRound !== null).length,
    };
  });
}

const pct = (x: number, digits = 2) => (x * 100).toFixed(digits);
const cell = (s: MeanStd) => `${pct(s.mean)} ± ${pct(s.std)}`;

function methodLabel(method: StrategyName, compression: number | null): string {
  return compression === null ? STRATEGY_LABELS[method] : `${STRATEGY_LABELS[method]} + top-${compression * 100}% EF`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Final accuracy (%) as a method × attack matrix, mean ± std over the seeds. */
export function accuracyMatrix(summary: readonly GroupSummary[]): string {
  const attacks = unique(summary.map((s) => s.attack));
  const rowsKeys = unique(summary.map((s) => `${s.method}|${s.compression ?? "dense"}`));
  const rows = rowsKeys.map((key) => {
    const of = summary.filter((s) => `${s.method}|${s.compression ?? "dense"}` === key);
    const label = methodLabel(of[0].method, of[0].compression);
    return [
      label,
      ...attacks.map((a) => {
        const s = of.find((x) => x.attack === a);
        if (!s) return "–";
        return `${cell(s.final)}${s.divergedRuns ? ` (${s.divergedRuns} diverged)` : ""}`;
      }),
    ];
  });
  return table(["Method", ...attacks.map((a) => ATTACK_LABELS[a])], rows);
}

/** Final accuracy under each attack as a percentage of the same method's accuracy without attack. */
export function retentionMatrix(summary: readonly GroupSummary[]): string | null {
  const attacks = unique(summary.map((s) => s.attack)).filter((a) => a !== "none");
  const rowsKeys = unique(summary.map((s) => `${s.method}|${s.compression ?? "dense"}`));
  const rows: string[][] = [];
  for (const key of rowsKeys) {
    const of = summary.filter((s) => `${s.method}|${s.compression ?? "dense"}` === key);
    const clean = of.find((s) => s.attack === "none");
    if (!clean) continue;
    rows.push([
      methodLabel(of[0].method, of[0].compression),
      ...attacks.map((a) => {
        const s = of.find((x) => x.attack === a);
        return s ? `${(100 * (s.final.mean / clean.final.mean)).toFixed(1)}%` : "–";
      }),
    ]);
  }
  if (rows.length === 0 || attacks.length === 0) return null;
  return table(["Method", ...attacks.map((a) => ATTACK_LABELS[a])], rows);
}

/** The aggregate's weight on the Byzantine clients (%), for the rules that report weights. */
export function byzantineWeightMatrix(summary: readonly GroupSummary[]): string | null {
  const attacks = unique(summary.map((s) => s.attack));
  const rowsKeys = unique(summary.filter((s) => s.byzantineWeight !== null).map((s) => `${s.method}|${s.compression ?? "dense"}`));
  if (rowsKeys.length === 0 || attacks.every((a) => a === "none")) return null;
  const rows = rowsKeys.map((key) => {
    const of = summary.filter((s) => `${s.method}|${s.compression ?? "dense"}` === key);
    return [
      methodLabel(of[0].method, of[0].compression),
      ...attacks.map((a) => {
        const w = of.find((x) => x.attack === a)?.byzantineWeight;
        return w === undefined || w === null ? "–" : `${(w * 100).toFixed(1)}%`;
      }),
    ];
  });
  return table(["Method", ...attacks.map((a) => ATTACK_LABELS[a])], rows);
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** FedAvg accuracy below this under sign flip counts as a collapse (twice chance on 10 classes). */
export const COLLAPSE_BELOW = 0.2;

/** The issue's targets for Table 2, checked on whatever part of the grid was run. */
export function table2Targets(summary: readonly GroupSummary[]): TargetCheck[] {
  const get = (method: StrategyName, attack: AttackName) =>
    summary.find((s) => s.method === method && s.attack === attack && s.compression === null);
  const checks: TargetCheck[] = [];
  const fedavgFlip = get("fedavg", "sign-flip");
  if (fedavgFlip) {
    checks.push({
      target: `FedAvg collapses under sign flip (final accuracy below ${pct(COLLAPSE_BELOW, 0)}%, chance is 10%)`,
      measured: `${cell(fedavgFlip.final)}%`,
      met: fedavgFlip.final.mean < COLLAPSE_BELOW,
    });
  }
  const clean = get("byzfed", "none");
  const bounds: [AttackName, number][] = [
    ["sign-flip", 0.97],
    ["alie", 0.9],
    ["ipm", 0.9],
  ];
  for (const [attack, bound] of bounds) {
    const s = get("byzfed", attack);
    if (!clean || !s) continue;
    const ratio = s.final.mean / clean.final.mean;
    checks.push({
      target: `ByzFed keeps at least ${pct(bound, 0)}% of its clean accuracy under ${ATTACK_LABELS[attack]}`,
      measured: `${pct(ratio, 1)}% (${pct(s.final.mean)}% vs ${pct(clean.final.mean)}% clean)`,
      met: ratio >= bound,
    });
  }
  return checks;
}

/** How each method of the runs was configured. */
function methodDescriptions(results: readonly RunResult[]): string[] {
  const c = results[0].config;
  const f = c.strategyParams.f ?? byzantineCount(c);
  const b = byzFedParams(c.strategyParams.byzfed);
  const gm = { ...SMOOTHED_WEISZFELD_DEFAULTS, ...c.strategyParams.geometricMedian };
  const cc = { ...CENTERED_CLIPPING_DEFAULTS, ...c.strategyParams.centeredClipping };
  const text: Record<StrategyName, string> = {
    fedavg: "FedAvg: the sample-weighted mean",
    krum: `Krum: told f = ${f}, the paper's scoring rule (Flower's)`,
    "multi-krum": `Multi-Krum: told f = ${f}, averages the ${c.strategyParams.multiKrumKeep ?? "n − f"} best-scored updates`,
    "trimmed-mean": `trimmed mean: drops f = ${f} values on each side of every coordinate`,
    median: "median: coordinate-wise",
    byzfed: `ByzFed: τ = ${b.tau}, α = ${b.alpha}, scale factor ${b.scaleFactor} ${b.tau === BYZFED_DEFAULTS.tau && b.alpha === BYZFED_DEFAULTS.alpha && b.scaleFactor === BYZFED_DEFAULTS.scaleFactor ? " (the authors' defaults)" : ""}, reputations carried across rounds`,
    "geometric-median": `geometric median: smoothed Weiszfeld, ν = ${gm.nu}, ${gm.iterations} iterations`,
    bulyan: `Bulyan: told f = ${f}`,
    "centered-clipping": `centered clipping: τ = ${cc.tau}, ${cc.iterations} iteration(s), centred on the previous aggregate`,
  };
  return unique(results.map((r) => r.config.method)).map((m) => text[m]);
}

/** What each attack of the runs sends, with its parameters. */
function attackDescriptions(results: readonly RunResult[]): string[] {
  const r0 = results[0];
  const c = r0.config;
  const f = byzantineCount(c);
  const p = c.attackParams;
  const text: Record<AttackName, string> = {
    none: "none: the Byzantine clients behave honestly",
    "sign-flip": `sign flip: each Byzantine client trains, then sends −${p.signFlipLambda}·Δ (boosted negation, DSAIN's)`,
    gaussian: `Gaussian: each Byzantine client trains, then sends Δ + N(0, ${p.gaussianSigma}² I) (the DSAIN reference code's GaussianNoiseAttack)`,
    "label-flip": `label flip: each Byzantine client trains on labels y → ${r0.classes - 1} − y and sends that Δ`,
    alie:
      f >= 1 && 2 * f < c.clients
        ? `ALIE: all Byzantine clients send mean − z·std (coordinate-wise, ddof 1) of the honest updates, z = z_max of Baruch et al. for n = ${c.clients}, f = ${f}: ${alieZ(c.clients, f).toFixed(4)}`
        : "ALIE",
    ipm: `IPM: all Byzantine clients send −${p.ipmEpsilon}·mean of the honest updates ${p.ipmEpsilon === 0.1 ? " (Xie et al.'s ε against robust rules)" : ""}`,
  };
  return unique(results.map((r) => r.config.attack)).map((a) => text[a]);
}

function formatSeconds(s: number): string {
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

/** The settings shared by the runs, as markdown bullet points. */
export function settingsList(results: readonly RunResult[], meta: GridMeta): string {
  const r0 = results[0];
  const c = r0.config;
  const f = byzantineCount(c);
  const seeds = unique(results.map((r) => r.config.seed));
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(", ");
  return [
    `- Command: \`${meta.command}\``,
    `- Data: ${r0.data}; training pool = the first ${c.poolSize} samples, split over ${c.clients} clients by Dirichlet(${c.dirichletAlpha}) (per class, NIID-Bench's scheme, at least 10 samples each); test set = the last ${c.testSize}`,
    `- Model: MLP ${[r0.inputs, ...c.hidden, r0.classes].join("-")} (${r0.parameters.toLocaleString("en-US")} parameters), tfjs on wasm, Glorot-uniform init from the seed`,
    `- Training: ${c.rounds} rounds, every client every round, ${c.localEpochs} local epochs of minibatch SGD (batch ${c.batchSize}, learning rate ${c.learningRate}, heavy-ball momentum ${c.momentum}, velocity reset each round); clients send Δ = local − global`,
    `- Byzantine clients: ${f} of ${c.clients} (${c.byzantineFraction * 100}%), the first ${f} of a permutation drawn from the seed, the same in every round`,
    `- Attacks: ${attackDescriptions(results).join("; ")}`,
    `- Methods: ${methodDescriptions(results).join("; ")}`,
    `- Seeds: ${seeds.join(", ")}; figures are final test accuracy (after round ${c.rounds}), mean ± sample standard deviation over the seeds`,
    `- Wall time ${formatSeconds(meta.wallSeconds)} for ${results.length} runs on ${meta.workers} worker process${meta.workers > 1 ? "es" : ""}; CPU time (user + system, all processes) ${formatSeconds(meta.cpuSeconds)}`,
    `- Machine: ${meta.machine}; ${meta.node}; load average (1, 5, 15 min) ${load(meta.loadBefore)} before, ${load(meta.loadAfter)} after; ${meta.date}`,
  ].join("\n");
}

export function resultsMarkdown(title: string, results: readonly RunResult[], meta: GridMeta, kind: "grid" | "table2"): string {
  const summary = summarize(results);
  const parts = [`# ${title}`, "", "Generated by `dsain simulate`; every per-round figure is in the JSON file beside this one.", ""];
  parts.push("## Final test accuracy (%)", "", accuracyMatrix(summary), "");
  const retention = retentionMatrix(summary);
  if (retention) parts.push("## Accuracy kept under attack (% of the same method's accuracy without attack)", "", retention, "");
  const weights = byzantineWeightMatrix(summary);
  if (weights) {
    parts.push(
      "## Weight on the Byzantine clients (mean over rounds and seeds)",
      "",
      "For the rules whose aggregate is a weighted mean of the updates; under no attack the same clients are honest, so that column is their fair share.",
      "",
      weights,
      "",
    );
  }
  const targets = table2Targets(summary);
  if (kind === "table2" || targets.length > 0) {
    parts.push("## Targets", "");
    for (const t of targets) parts.push(`- ${t.met ? "**met**" : "**not met**"}: ${t.target} — measured ${t.measured}`);
    parts.push("");
  }
  parts.push("## Settings", "", settingsList(results, meta), "");
  return parts.join("\n");
}

/** The communication table: upload per client per round, its encoding, and the accuracy it costs. */
export function communicationMarkdown(results: readonly RunResult[], meta: GridMeta): string {
  const summary = summarize(results).filter((s) => s.attack === "none");
  const d = results[0].parameters;
  const clients = results[0].config.clients;
  const rows = summary.map((s) => {
    const dense = summary.find((x) => x.method === s.method && x.compression === null);
    const reduction = 1 - s.uploadBytes / (d * 4);
    const cost = dense && s !== dense ? `${((s.final.mean - dense.final.mean) * 100).toFixed(2)} pp` : "–";
    const encoding =
      s.compression === null
        ? `dense float32 (${d.toLocaleString("en-US")} × 4 B)`
        : `top-${s.compression * 100}% + error feedback: k = ${(s.uploadBytes / 8).toLocaleString("en-US")} × (uint32 index + float32 value)`;
    return [
      methodLabel(s.method, s.compression),
      encoding,
      s.uploadBytes.toLocaleString("en-US"),
      (s.uploadBytes * clients).toLocaleString("en-US"),
      `${(reduction * 100).toFixed(1)}%`,
      cell(s.final),
      cost,
    ];
  });
  return [
    "# Communication: top-k 10% with error feedback versus dense FedAvg",
    "",
    "Generated by `dsain simulate --communication`; every per-round figure is in the JSON file beside this one. " +
      "Bytes are the payload of one client's upload in one round, without framing or headers; " +
      "the DSAIN paper claims 78% less communication than FedAvg.",
    "",
    table(
      [
        "Method",
        "Upload encoding",
        "Bytes per client per round",
        `Bytes per round (${clients} clients)`,
        "Less than dense",
        "Final accuracy (%)",
        "Accuracy cost",
      ],
      rows,
    ),
    "",
    "## Settings",
    "",
    settingsList(results, meta),
    "",
  ].join("\n");
}

/** One SVG per attack: mean accuracy (%) per round for each method, with a ±1 std band. */
export function accuracyPlots(results: readonly RunResult[], title: string): Map<AttackName, string> {
  const summary = summarize(results);
  const plots = new Map<AttackName, string>();
  for (const attack of unique(summary.map((s) => s.attack))) {
    const of = summary.filter((s) => s.attack === attack);
    plots.set(
      attack,
      lineChartSvg({
        title: `${title}: ${ATTACK_LABELS[attack]}`,
        xLabel: "round",
        yLabel: "test accuracy (%)",
        series: of.map((s) => ({
          name: methodLabel(s.method, s.compression),
          mean: s.curveMean.map((x) => x * 100),
          std: s.curveStd.map((x) => x * 100),
          start: s.initial * 100,
        })),
      }),
    );
  }
  return plots;
}
