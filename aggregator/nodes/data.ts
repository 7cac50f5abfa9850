// A participant's local data, from its config: a shard of MNIST (the shipped test set unless the
// config names IDX files), a whole IDX pair, or the demo's synthetic data split as `dsain demo`
// splits it. It never leaves the process: only updates trained on it do.
import path from "node:path";
import { DsainError, ErrorCode } from "../errors.js";
import { PROJECT_ROOT } from "../paths.js";
import { splitIid, syntheticClassification, trainTestSplit, type Dataset } from "../maths/learning/data.js";
import { loadMnist } from "../lab/data/idx.js";
import type { ParticipantConfig } from "./config.js";

export const SHIPPED_MNIST = {
  images: path.join(PROJECT_ROOT, "test", "fixtures", "mnist", "t10k-images-idx3-ubyte.gz"),
  labels: path.join(PROJECT_ROOT, "test", "fixtures", "mnist", "t10k-labels-idx1-ubyte.gz"),
};

/** The demo's synthetic data set: the same generator, size and splits as aggregator/demo/session.ts. */
export const DEMO_SYNTHETIC_SAMPLES = 1200;

export function loadParticipantData(data: ParticipantConfig["data"]): { dataset: Dataset; description: string } {
  switch (data.kind) {
    case "mnist": {
      const images = data.images ?? SHIPPED_MNIST.images;
      const labels = data.labels ?? SHIPPED_MNIST.labels;
      const all = loadMnist(images, labels);
      const dataset = splitIid(all, data.shards, data.seed)[data.shard];
      return {
        dataset,
        description: `MNIST shard ${data.shard} of ${data.shards} (${dataset.y.length} samples from ${path.basename(images)})`,
      };
    }
    case "idx": {
      const dataset = loadMnist(data.images, data.labels);
      return { dataset, description: `IDX ${path.basename(data.images)} (${dataset.y.length} samples)` };
    }
    case "synthetic": {
      const all = syntheticClassification({ seed: data.seed, samples: DEMO_SYNTHETIC_SAMPLES });
      const { train } = trainTestSplit(all, 1 / 6, data.seed);
      const dataset = splitIid(train, data.shards, data.seed)[data.shard];
      return { dataset, description: `synthetic shard ${data.shard} of ${data.shards} (seed ${data.seed}, ${dataset.y.length} samples)` };
    }
    default:
      throw new DsainError(ErrorCode.CONFIG_INVALID, `unknown data kind ${(data as { kind: string }).kind}`);
  }
}
