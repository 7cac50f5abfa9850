// One simulated federation without chain or IPFS, on the aggregators' own code: tfjs local training
// (aggregator/maths/learning), the attacks (aggregator/maths/attacks), a strategy (aggregator/maths/robust via
// ./strategies.ts) and FedSov's top-k compressor; deterministic given the config (seeded streams,
// single-threaded wasm).
import { additiveGaussianAttack, alie, flipLabels, ipm, signFlip } from "../../maths/attacks/index.js";
import { DsainError, ErrorCode } from "../../errors.js";
import { type Dataset, Prng } from "../../maths/learning/data.js";
import { fedsovEncode, localDelta, wireToDense } from "../../maths/fedsov/client.js";
import { TopKCompressor } from "../../maths/fedsov/topk.js";
import { evaluate, initialWeights, mlpSpec, parameterCount } from "../../maths/learning/model.js";
import { type Tf, initTf } from "../../maths/learning/tf.js";
import { type SimulationConfig, byzantineCount, deriveSeed, simulationConfig } from "./config.js";
import { type SimulationData, byzantineClients, clientDatasets, loadSimulationData } from "./data.js";
import { createStrategy } from "./strategies.js";
import { encodeVector } from "../../protocol/fixed-point.js";
import { fieldToBytes32, vectorRoot } from "../../protocol/vector-root.js";

export interface RoundRecord {
  readonly round: number;
  /** Test accuracy of the global model after the round, in [0, 1]. */
  readonly accuracy: number;
  /** Mean softmax cross-entropy on the test set (null when not finite). */
  readonly loss: number | null;
  /** Bytes one client uploaded this round (all clients send the same size). */
  readonly uploadBytes: number;
  /** Total convex weight the aggregate put on Byzantine clients; null for rules that are not a weighted mean of inputs. */
  readonly byzantineWeight: number | null;
  readonly trainSeconds: number;
  readonly aggregateSeconds: number;
  /** With config.commit: time to compute every client's update root and the model root (vectorRoot). */
  readonly commitSeconds?: number;
  /** With config.commit: the Poseidon root of the new global model, encoded (docs/protocol.md §1-§2). */
  readonly modelRoot?: string;
}

export interface RunResult {
  readonly config: SimulationConfig;
  readonly data: string;
  /** Input features and classes of the data, hence of the MLP. */
  readonly inputs: number;
  readonly classes: number;
  /** Model parameters d. */
  readonly parameters: number;
  /** Indices of the Byzantine clients. */
  readonly byzantine: readonly number[];
  /** Samples per client. */
  readonly clientSizes: readonly number[];
  /** Accuracy of the initial model. */
  readonly initialAccuracy: number;
  readonly rounds: readonly RoundRecord[];
  readonly finalAccuracy: number;
  /**
   * The round at which local training or the aggregate stopped being finite; from there on the run
   * stops and later rounds repeat the last finite model's figures. Null when it never happened.
   */
  readonly divergedAtRound: number | null;
  readonly seconds: number;
}

export interface RunOptions {
  /** Called after every round. */
  readonly onRound?: (record: RoundRecord) => void;
  /** Preloaded data (else loaded from the config, cached per process). */
  readonly data?: SimulationData;
  readonly tf?: Tf;
}

/**
 * The round's commitments as its parties compute them: every upload's update root (the update in
 * fixed point) and the new model's root, with vectorRoot (on every core for model-sized vectors).
 */
async function commitRound(sent: readonly Float64Array[], model: Float32Array): Promise<{ commitSeconds: number; modelRoot: string }> {
  const t0 = performance.now();
  for (const u of sent) await vectorRoot(encodeVector(u));
  const modelRoot = fieldToBytes32(await vectorRoot(encodeVector(model)));
  return { commitSeconds: (performance.now() - t0) / 1000, modelRoot };
}

/** trainLocal refuses to return non-finite weights with TRAINING_DIVERGED. */
function isDivergence(e: unknown): boolean {
  return e instanceof DsainError && e.code === ErrorCode.TRAINING_DIVERGED;
}

function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/** Runs one federation for config.rounds rounds and returns every round's figures. */
export async function runSimulation(overrides: Partial<SimulationConfig>, options: RunOptions = {}): Promise<RunResult> {
  const config = simulationConfig(overrides);
  const started = performance.now();
  const tf = options.tf ?? (await initTf({ backend: "wasm" })).tf;
  const data = options.data ?? loadSimulationData(config);
  const { pool, test } = data;
  const spec = mlpSpec({ inputs: pool.features, hidden: [...config.hidden], classes: pool.classes });
  const d = parameterCount(spec);
  const f = byzantineCount(config);
  const byzantine = byzantineClients(config);
  const isByzantine = new Set(byzantine);
  const honestData = clientDatasets(pool, config);
  // Label flipping poisons the Byzantine clients' data once; the other attacks act on the updates.
  const trainData: Dataset[] = honestData.map((ds, i) => (config.attack === "label-flip" && isByzantine.has(i) ? flipLabels(ds) : ds));
  const sampleCounts = honestData.map((ds) => ds.y.length);
  const clientIds = honestData.map((_, i) => String(i));
  const strategy = createStrategy(config.method, withDefaultF(config, f));
  const compressor = config.compression === null ? null : new TopKCompressor(config.compression);
  // Omniscient attacks (ALIE, IPM) build their vector from the honest updates: their senders need not train.
  const omniscient = config.attack === "alie" || config.attack === "ipm";

  let global = initialWeights(spec, deriveSeed(config.seed, "init"));
  const initial = evaluate(tf, spec, global, test);
  const rounds: RoundRecord[] = [];
  let divergedAtRound: number | null = null;

  // After a divergence the last finite model stays, and so do its figures.
  const repeatLast = (t: number) => {
    const last = rounds[rounds.length - 1] ?? {
      round: 0,
      accuracy: initial.accuracy,
      loss: Number.isFinite(initial.loss) ? initial.loss : null,
      uploadBytes: 0,
      byzantineWeight: null,
    };
    rounds.push({ ...last, round: t, trainSeconds: 0, aggregateSeconds: 0 });
    options.onRound?.(rounds[rounds.length - 1]);
  };

  for (let t = 1; t <= config.rounds; t++) {
    if (divergedAtRound !== null) {
      repeatLast(t);
      continue;
    }
    const trainStart = performance.now();
    const updates: (Float64Array | undefined)[] = new Array(config.clients);
    try {
      for (let i = 0; i < config.clients; i++) {
        if (omniscient && isByzantine.has(i)) continue;
        const { delta } = await localDelta(tf, spec, global, trainData[i], {
          epochs: config.localEpochs,
          batchSize: config.batchSize,
          learningRate: config.learningRate,
          momentum: config.momentum,
          seed: deriveSeed(config.seed, "train", t, i),
        });
        updates[i] = delta;
      }
    } catch (e) {
      if (!isDivergence(e)) throw e;
      divergedAtRound = t;
    }
    if (divergedAtRound === null) {
      const honest = updates.filter((u, i): u is Float64Array => u !== undefined && !isByzantine.has(i));
      const shared =
        config.attack === "alie"
          ? alie(honest, { n: config.clients, f })
          : config.attack === "ipm"
            ? ipm(honest, config.attackParams.ipmEpsilon)
            : undefined;
      for (const i of byzantine) {
        const own = updates[i];
        switch (config.attack) {
          case "sign-flip":
            updates[i] = signFlip(own as Float64Array, config.attackParams.signFlipLambda);
            break;
          case "gaussian":
            updates[i] = additiveGaussianAttack(
              own as Float64Array,
              config.attackParams.gaussianSigma,
              new Prng(deriveSeed(config.seed, "gaussian", t, i)),
            );
            break;
          case "alie":
          case "ipm":
            updates[i] = Float64Array.from(shared as Float64Array);
            break;
          case "none":
          case "label-flip":
            break;
        }
      }
      const trainSeconds = (performance.now() - trainStart) / 1000;
      const aggregateStart = performance.now();
      let uploadBytes = d * 4;
      let sent = updates as Float64Array[];
      if (compressor !== null) {
        sent = updates.map((u, i) => {
          const encoded = fedsovEncode(u as Float64Array, compressor, clientIds[i]);
          uploadBytes = encoded.bytes;
          return wireToDense(encoded.update);
        });
      }
      const { aggregate, weights } = strategy.aggregate({ updates: sent, sampleCounts, clientIds });
      const next = new Float32Array(d);
      for (let j = 0; j < d; j++) next[j] = global[j] + aggregate[j];
      const aggregateSeconds = (performance.now() - aggregateStart) / 1000;
      if (!allFinite(next)) {
        divergedAtRound = t;
      } else {
        global = next;
        const { accuracy, loss } = evaluate(tf, spec, global, test);
        let byzantineWeight: number | null = null;
        if (weights !== null) {
          byzantineWeight = 0;
          for (const i of byzantine) byzantineWeight += weights[i];
        }
        const commitment = config.commit ? await commitRound(sent, global) : undefined;
        rounds.push({
          round: t,
          accuracy,
          loss: Number.isFinite(loss) ? loss : null,
          uploadBytes,
          byzantineWeight,
          trainSeconds,
          aggregateSeconds,
          ...commitment,
        });
        options.onRound?.(rounds[rounds.length - 1]);
        continue;
      }
    }
    repeatLast(t); // diverged in this round
  }
  return {
    config,
    data: data.source,
    inputs: pool.features,
    classes: pool.classes,
    parameters: d,
    byzantine,
    clientSizes: sampleCounts,
    initialAccuracy: initial.accuracy,
    rounds,
    finalAccuracy: rounds[rounds.length - 1].accuracy,
    divergedAtRound,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The strategy parameters with f set to the number of Byzantine clients when the rule needs it and none was given. */
function withDefaultF(config: SimulationConfig, f: number) {
  const needsF = ["krum", "multi-krum", "trimmed-mean", "bulyan"].includes(config.method);
  return needsF && config.strategyParams.f === undefined ? { ...config.strategyParams, f } : config.strategyParams;
}

/** A readable one-line description of a run. */
export function describeRun(c: SimulationConfig): string {
  return `${c.method}${c.compression !== null ? `+top${c.compression * 100}%` : ""} / ${c.attack} / seed ${c.seed}`;
}
