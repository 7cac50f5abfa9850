// Local-training throughput: samples/s of trainLocal for the MLP 784-200-200-10 and the FedAvg CNN, per tfjs backend, on real MNIST.
//
//   npx tsx scripts/train-throughput.ts                         # both models on wasm and cpu
//   npx tsx scripts/train-throughput.ts --backend wasm --model cnn --samples 512
//   options: --batch N (default 32), --samples N (default: 4000 MLP on wasm, 1000 on cpu; 256 CNN on
//   wasm, 32 on cpu), --repeats N (default 3: the best of N timed epochs is reported)
//
// Each (model, backend) pair runs in its own child process (a backend once chosen stays warm in a
// process, and tfjs's kernels are compiled on first use): one small warm-up call, then --repeats
// epochs of trainLocal over the first N images of the MNIST test set (test/fixtures/mnist), each
// timed; the fastest counts, since other load on a shared machine only ever slows a run down. tfjs runs
// one thread per process; a simulation on 2 cores can run two such processes side by side.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { loadMnist } from "../aggregator/lab/data/index.js";
import { subset } from "../aggregator/maths/learning/data.js";
import { cnnSpec, initialWeights, mlpSpec, parameterCount, trainLocal } from "../aggregator/maths/learning/model.js";
import { initTf } from "../aggregator/maths/learning/tf.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");

type Backend = "wasm" | "cpu";
type ModelName = "mlp" | "cnn";

const DEFAULT_SAMPLES: Record<ModelName, Record<Backend, number>> = {
  mlp: { wasm: 4000, cpu: 1000 },
  cnn: { wasm: 256, cpu: 32 },
};

async function measure(backend: Backend, model: ModelName, samples: number, batchSize: number, repeats: number): Promise<void> {
  const { tf } = await initTf({ backend });
  const dir = path.join(root, "test", "fixtures", "mnist");
  const mnist = loadMnist(path.join(dir, "t10k-images-idx3-ubyte.gz"), path.join(dir, "t10k-labels-idx1-ubyte.gz"));
  const data = subset(
    mnist,
    Array.from({ length: samples }, (_, i) => i),
  );
  const spec = model === "cnn" ? cnnSpec() : mlpSpec({ inputs: 784, hidden: [200, 200], classes: 10 });
  const w0 = initialWeights(spec, 1);
  const options = { epochs: 1, batchSize, learningRate: 0.01, momentum: 0.9, seed: 1 };
  await trainLocal(
    tf,
    spec,
    w0,
    subset(
      mnist,
      Array.from({ length: 2 * batchSize }, (_, i) => i),
    ),
    options,
  );
  let seconds = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await trainLocal(tf, spec, w0, data, options);
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  console.log(
    JSON.stringify({
      model,
      parameters: parameterCount(spec),
      backend: tf.getBackend(),
      samples,
      batchSize,
      seconds,
      samplesPerSecond: samples / seconds,
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: "string" },
      model: { type: "string" },
      samples: { type: "string" },
      batch: { type: "string", default: "32" },
      repeats: { type: "string", default: "3" },
      child: { type: "boolean", default: false },
    },
  });
  const batch = Number(values.batch);
  const repeats = Number(values.repeats);
  if (values.child) {
    await measure(values.backend as Backend, values.model as ModelName, Number(values.samples), batch, repeats);
    return;
  }
  const backends: Backend[] = values.backend !== undefined ? [values.backend as Backend] : ["wasm", "cpu"];
  const models: ModelName[] = values.model !== undefined ? [values.model as ModelName] : ["mlp", "cnn"];
  const run = promisify(execFile);
  console.log("model  backend  parameters  samples  batch  seconds  samples/s");
  for (const model of models) {
    for (const backend of backends) {
      const samples = values.samples !== undefined ? Number(values.samples) : DEFAULT_SAMPLES[model][backend];
      const args = ["--import", "tsx", fileURLToPath(import.meta.url), "--child", "--backend", backend, "--model", model];
      const { stdout } = await run(
        process.execPath,
        [...args, "--samples", String(samples), "--batch", String(batch), "--repeats", String(repeats)],
        {
          cwd: root,
          maxBuffer: 1 << 20,
        },
      );
      const r = JSON.parse(stdout.trim().split("\n").pop() as string) as Record<string, number | string>;
      console.log(
        `${model.padEnd(6)} ${String(r.backend).padEnd(8)} ${String(r.parameters).padStart(10)} ${String(samples).padStart(8)} ${String(batch).padStart(6)} ` +
          `${(r.seconds as number).toFixed(2).padStart(8)} ${(r.samplesPerSecond as number).toFixed(1).padStart(10)}`,
      );
    }
  }
}

await main();
