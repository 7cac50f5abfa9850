// Specification of the dataset layer: IDX/MNIST, CIFAR-10 binary and LEAF loaders, normalisation, Gamma/Dirichlet draws and client partitions.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import fc from "fast-check";
import {
  CIFAR10_RECORD,
  cifar10FromBytes,
  dirichletPartition,
  labelSkew,
  leafFromJson,
  loadCifar10,
  loadLeaf,
  loadMnist,
  mnistFromBytes,
  naturalPartition,
  normalizePixels,
  parseIdx,
  partitionDataset,
  readDataFile,
  readIdx,
  sampleDirichlet,
  sampleGamma,
} from "../../aggregator/lab/data/index.js";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { Prng } from "../../aggregator/maths/learning/data.js";
import { expectClose } from "../helpers/close.js";
import { expectDsainError } from "../helpers/errors.js";

/** An IDX file: magic 0x0000 <type> <rank>, big-endian dimensions, then `payload`. */
function idxBytes(type: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

// The real MNIST test set: ../shared when this checkout sits beside it, else the shipped copy.
const FIXTURE_DIR = path.join("test", "fixtures", "mnist");
const SHARED_DIR = path.join("..", "shared", "datasets", "mnist");
const MNIST_DIR = existsSync(path.join(SHARED_DIR, "t10k-images-idx3-ubyte.gz")) ? SHARED_DIR : FIXTURE_DIR;
const IMAGES = "t10k-images-idx3-ubyte.gz";
const LABELS = "t10k-labels-idx1-ubyte.gz";

describe("data: MNIST test set (IDX)", function () {
  const mnist = loadMnist(path.join(MNIST_DIR, IMAGES), path.join(MNIST_DIR, LABELS));

  it("should ship fixture files whose checksums are the ones the dataset README gives", function () {
    expect(md5(readDataFile(path.join(FIXTURE_DIR, IMAGES)))).to.equal("2646ac647ad5339dbf082846283269ea");
    expect(md5(readFileSync(path.join(FIXTURE_DIR, LABELS)))).to.equal("ec29112dd5afa0611ce80d1b7f02629c");
  });

  it("should load 10,000 images of 28x28 with labels 0-9 in MNIST's test-set proportions", function () {
    expect(mnist.y.length).to.equal(10000);
    expect(mnist.features).to.equal(784);
    expect(mnist.classes).to.equal(10);
    expect(mnist.imageShape).to.deep.equal([28, 28, 1]);
    expect(mnist.x.length).to.equal(7_840_000);
    const counts = new Array<number>(10).fill(0);
    for (const v of mnist.y) counts[v]++;
    expect(counts).to.deep.equal([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Array.from(mnist.y.subarray(0, 10))).to.deep.equal([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it("should scale pixel bytes to [0, 1] exactly as byte / 255 in float32", function () {
    const raw = parseIdx(readDataFile(path.join(MNIST_DIR, IMAGES))).data as Uint8Array;
    for (const i of [0, 200, 350, 7_839_999, 3_000_123]) expect(mnist.x[i]).to.equal(Math.fround(raw[i] / 255));
    let min = Infinity;
    let max = -Infinity;
    for (const v of mnist.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).to.deep.equal([0, 1]);
  });

  it("should read the uncompressed file to the same dataset as the gzip one", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "dsain-idx-"));
    try {
      const plainImages = path.join(dir, "images-idx3-ubyte");
      const plainLabels = path.join(dir, "labels-idx1-ubyte");
      writeFileSync(plainImages, readDataFile(path.join(MNIST_DIR, IMAGES)));
      writeFileSync(plainLabels, readDataFile(path.join(MNIST_DIR, LABELS)));
      const again = loadMnist(plainImages, plainLabels);
      expect(Buffer.from(again.x.buffer).equals(Buffer.from(mnist.x.buffer))).to.equal(true);
      expect(Buffer.from(again.y).equals(Buffer.from(mnist.y))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should standardise with a given mean and std", function () {
    const small = loadMnist(path.join(MNIST_DIR, IMAGES), path.join(MNIST_DIR, LABELS), {
      normalize: { mean: [0.1307], std: [0.3081] },
    });
    expect(small.x[0]).to.equal(Math.fround((0 - 0.1307) / 0.3081));
    const raw = parseIdx(readDataFile(path.join(MNIST_DIR, IMAGES))).data as Uint8Array;
    const i = raw.findIndex((v) => v === 255);
    expect(small.x[i]).to.equal(Math.fround((1 - 0.1307) / 0.3081));
  });
});

describe("data: IDX parser", function () {
  const labels = idxBytes(0x08, [3], Uint8Array.from([1, 0, 9]));
  const images = idxBytes(
    0x08,
    [3, 2, 2],
    Uint8Array.from({ length: 12 }, (_, i) => 20 * i),
  );

  it("should decode big-endian int16 and float32 payloads", function () {
    const i16 = parseIdx(idxBytes(0x0b, [2], Uint8Array.from([0xff, 0xfe, 0x01, 0x02])));
    expect(i16.type).to.equal("int16");
    expect(Array.from(i16.data)).to.deep.equal([-2, 258]);
    const f32 = parseIdx(idxBytes(0x0d, [1, 1], Uint8Array.from([0x3f, 0xc0, 0x00, 0x00])));
    expect(f32.dims).to.deep.equal([1, 1]);
    expect(Array.from(f32.data)).to.deep.equal([1.5]);
  });

  it("should pair a hand-made images file with its labels", function () {
    const d = mnistFromBytes({ bytes: images, file: "img" }, { bytes: gzipSync(labels), file: "lab.gz" });
    expect(d.imageShape).to.deep.equal([2, 2, 1]);
    expect(d.features).to.equal(4);
    expect(Array.from(d.y)).to.deep.equal([1, 0, 9]);
    expect(d.x[5]).to.equal(Math.fround(100 / 255));
  });

  it("should refuse a labels file given as the images file, naming the file and both magic numbers", function () {
    expectDsainError(
      () => mnistFromBytes({ bytes: labels, file: "swapped.idx" }, { bytes: labels, file: "lab" }),
      ErrorCode.DATA_MALFORMED,
      /^swapped\.idx: magic number is 2049, not 2051/,
    );
    expectDsainError(
      () => mnistFromBytes({ bytes: images, file: "img" }, { bytes: images, file: "lab2" }),
      ErrorCode.DATA_MALFORMED,
      /^lab2: magic number is 2051, not 2049/,
    );
  });

  it("should refuse a file that is not IDX at all", function () {
    expectDsainError(
      () => parseIdx(new TextEncoder().encode("P5 28 28"), "pic.pgm"),
      ErrorCode.DATA_MALFORMED,
      /^pic\.pgm: .*first two bytes/,
    );
    expectDsainError(() => parseIdx(Uint8Array.from([0, 0, 8]), "short"), ErrorCode.DATA_MALFORMED, /^short: 3 bytes is too short/);
    expectDsainError(() => parseIdx(idxBytes(0x07, [1], Uint8Array.from([1])), "t7"), ErrorCode.DATA_MALFORMED, /type byte 0x07/);
  });

  it("should refuse a truncated payload, a truncated header and trailing bytes", function () {
    expectDsainError(
      () => parseIdx(images.subarray(0, images.length - 1), "cut"),
      ErrorCode.DATA_MALFORMED,
      /^cut: truncated: dimensions 3x2x2 .* need 12 payload bytes, the file has 11/,
    );
    expectDsainError(() => parseIdx(images.subarray(0, 10), "head"), ErrorCode.DATA_MALFORMED, /^head: truncated header/);
    const long = new Uint8Array(labels.length + 2);
    long.set(labels);
    expectDsainError(() => parseIdx(long, "long"), ErrorCode.DATA_MALFORMED, /^long: has trailing bytes/);
  });

  it("should refuse a label out of range and a count mismatch", function () {
    const bad = idxBytes(0x08, [3], Uint8Array.from([1, 10, 2]));
    expectDsainError(
      () => mnistFromBytes({ bytes: images, file: "img" }, { bytes: bad, file: "bad-labels" }),
      ErrorCode.DATA_MALFORMED,
      /^bad-labels: label 1 is 10, outside \[0, 10\)/,
    );
    const two = idxBytes(0x08, [2], Uint8Array.from([1, 2]));
    expectDsainError(
      () => mnistFromBytes({ bytes: images, file: "img" }, { bytes: two, file: "two" }),
      ErrorCode.DATA_MALFORMED,
      /img holds 3 images but two holds 2 labels/,
    );
  });

  it("should refuse a missing file and a corrupt gzip stream, naming the file", function () {
    expectDsainError(
      () => readIdx("no/such/file-idx1-ubyte"),
      ErrorCode.DATA_UNREADABLE,
      /^no\/such\/file-idx1-ubyte: cannot read .*no such file/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), "dsain-idx-"));
    try {
      const file = path.join(dir, "cut.gz");
      const gz = gzipSync(images);
      writeFileSync(file, gz.subarray(0, gz.length - 10));
      expectDsainError(() => readIdx(file), ErrorCode.DATA_MALFORMED, /cut\.gz: starts like gzip but does not decompress/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("data: CIFAR-10 binary", function () {
  /** One record: label, then the R, G, B planes; pixel (r, c) of channel ch is 1 + ch*1024 + r*32 + c. */
  function record(label: number, fill: (ch: number, p: number) => number): Uint8Array {
    const out = new Uint8Array(CIFAR10_RECORD);
    out[0] = label;
    for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 1024; p++) out[1 + ch * 1024 + p] = fill(ch, p);
    return out;
  }
  const batch = new Uint8Array(2 * CIFAR10_RECORD);
  batch.set(
    record(3, (ch, p) => (ch === 0 ? p % 256 : ch === 1 ? 7 : 200)),
    0,
  );
  batch.set(
    record(9, () => 255),
    CIFAR10_RECORD,
  );

  it("should re-lay channel-major records channels last and keep the labels", function () {
    const d = cifar10FromBytes([{ bytes: batch, file: "data_batch_1.bin" }], { normalize: { scale: 1 } });
    expect(d.y.length).to.equal(2);
    expect(Array.from(d.y)).to.deep.equal([3, 9]);
    expect(d.features).to.equal(3072);
    expect(d.imageShape).to.deep.equal([32, 32, 3]);
    // Pixel (row 1, col 2) of image 0: plane offset p = 34; HWC index (1*32 + 2)*3 + ch.
    expect([d.x[34 * 3], d.x[34 * 3 + 1], d.x[34 * 3 + 2]]).to.deep.equal([34, 7, 200]);
    expect(d.x[3072 + 100]).to.equal(255);
  });

  it("should concatenate batch files in the order given", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "dsain-cifar-"));
    try {
      writeFileSync(path.join(dir, "a.bin"), batch.subarray(CIFAR10_RECORD));
      writeFileSync(path.join(dir, "b.bin"), batch);
      const d = loadCifar10([path.join(dir, "a.bin"), path.join(dir, "b.bin")]);
      expect(Array.from(d.y)).to.deep.equal([9, 3, 9]);
      expect(d.x[0]).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should refuse a truncated batch, an empty batch and a label above 9", function () {
    expectDsainError(
      () => cifar10FromBytes([{ bytes: batch.subarray(0, CIFAR10_RECORD + 5), file: "data_batch_2.bin" }]),
      ErrorCode.DATA_MALFORMED,
      /^data_batch_2\.bin: 3078 bytes is not a whole number of 3073-byte records \(1 records and 5 bytes left over\)/,
    );
    expectDsainError(
      () => cifar10FromBytes([{ bytes: new Uint8Array(0), file: "empty.bin" }]),
      ErrorCode.DATA_MALFORMED,
      /^empty\.bin: is empty/,
    );
    const bad = batch.slice();
    bad[CIFAR10_RECORD] = 10;
    expectDsainError(() => cifar10FromBytes([{ bytes: bad, file: "b.bin" }]), ErrorCode.DATA_MALFORMED, /^b\.bin: record 1 has label 10/);
    expectDsainError(() => cifar10FromBytes([]), ErrorCode.INPUT_INVALID, /no CIFAR-10 batch/);
  });
});

describe("data: LEAF JSON", function () {
  const doc = {
    users: ["f0001", "f0002"],
    num_samples: [2, 1],
    user_data: {
      f0001: {
        x: [
          [0.5, 1],
          [0, 0.25],
        ],
        y: [3, 0],
      },
      f0002: { x: [[1, 1]], y: [61] },
    },
  };

  it("should pool users in order and record each sample's owner", function () {
    const leaf = leafFromJson([{ json: doc, file: "all_data_0.json" }], { classes: 62 });
    expect(leaf.users).to.deep.equal(["f0001", "f0002"]);
    expect(Array.from(leaf.owner)).to.deep.equal([0, 0, 1]);
    expect(leaf.dataset.features).to.equal(2);
    expect(leaf.dataset.classes).to.equal(62);
    expect(Array.from(leaf.dataset.x)).to.deep.equal([0.5, 1, 0, 0.25, 1, 1]);
    expect(Array.from(leaf.dataset.y)).to.deep.equal([3, 0, 61]);
  });

  it("should give one client per user as the natural partition", function () {
    const leaf = leafFromJson([{ json: doc, file: "a.json" }]);
    expect(leaf.dataset.classes).to.equal(62);
    const clients = partitionDataset(leaf.dataset, naturalPartition(leaf.owner, leaf.users.length));
    expect(clients.map((c) => Array.from(c.y))).to.deep.equal([[3, 0], [61]]);
  });

  it("should read several files from disk and refuse a user present in two", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "dsain-leaf-"));
    try {
      const other = { users: ["f0003"], num_samples: [1], user_data: { f0003: { x: [[2, 2]], y: [5] } } };
      writeFileSync(path.join(dir, "0.json"), JSON.stringify(doc));
      writeFileSync(path.join(dir, "1.json"), JSON.stringify(other));
      writeFileSync(path.join(dir, "bad.json"), "{ users: ");
      const leaf = loadLeaf([path.join(dir, "0.json"), path.join(dir, "1.json")], { classes: 62 });
      expect(leaf.users).to.deep.equal(["f0001", "f0002", "f0003"]);
      expectDsainError(
        () => loadLeaf([path.join(dir, "0.json"), path.join(dir, "0.json")]),
        ErrorCode.DATA_MALFORMED,
        /user 'f0001' also appears in/,
      );
      expectDsainError(() => loadLeaf(path.join(dir, "bad.json")), ErrorCode.DATA_MALFORMED, /bad\.json: is not valid JSON/);
      expectDsainError(() => loadLeaf(path.join(dir, "none.json")), ErrorCode.DATA_UNREADABLE, /none\.json: cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should refuse counts that disagree with the data, text features and labels out of range", function () {
    const lying = { ...doc, num_samples: [3, 1] };
    expectDsainError(
      () => leafFromJson([{ json: lying, file: "l.json" }]),
      ErrorCode.DATA_MALFORMED,
      /^l\.json: user 'f0001' declares 3 samples but has 2 x rows/,
    );
    const text = { users: ["u"], num_samples: [1], user_data: { u: { x: ["to be or not"], y: ["t"] } } };
    expectDsainError(
      () => leafFromJson([{ json: text, file: "shakespeare.json" }]),
      ErrorCode.DATA_MALFORMED,
      /sample 0 of user 'u' is a string.*Shakespeare/,
    );
    expectDsainError(
      () => leafFromJson([{ json: doc, file: "c.json" }], { classes: 10 }),
      ErrorCode.DATA_MALFORMED,
      /^c\.json: label 0 of user 'f0002' is 61, outside \[0, 10\)/,
    );
    const ragged = { ...doc, user_data: { ...doc.user_data, f0002: { x: [[1]], y: [1] } } };
    expectDsainError(
      () => leafFromJson([{ json: ragged, file: "r.json" }]),
      ErrorCode.DATA_MALFORMED,
      /sample 0 of user 'f0002' has 1 features, not 2/,
    );
    expectDsainError(() => leafFromJson([{ json: [], file: "list.json" }]), ErrorCode.DATA_MALFORMED, /must hold a JSON object/);
  });
});

describe("data: normalizePixels", function () {
  it("should divide by the scale and standardise per channel, channels last", function () {
    const x = normalizePixels(Uint8Array.from([0, 255, 51, 102]), { scale: 255, mean: [0, 0.5], std: [1, 0.5] });
    expect(Array.from(x)).to.deep.equal([0, 1, 0.2, -0.2].map(Math.fround));
  });

  it("should refuse a std of zero, mismatched channels and a mean without a std", function () {
    expectDsainError(() => normalizePixels(new Uint8Array(4), { mean: [0], std: [0] }), ErrorCode.INPUT_INVALID, /std\[0\] is 0/);
    expectDsainError(() => normalizePixels(new Uint8Array(4), { mean: [0, 0], std: [1] }), ErrorCode.INPUT_INVALID, /2 channels and std 1/);
    expectDsainError(() => normalizePixels(new Uint8Array(4), { mean: [0] }), ErrorCode.INPUT_INVALID, /both mean and std/);
    expectDsainError(
      () => normalizePixels(new Uint8Array(5), { mean: [0, 0], std: [1, 1] }),
      ErrorCode.INPUT_INVALID,
      /5 pixel values do not split into 2 channels/,
    );
  });
});

describe("data: Gamma and Dirichlet draws", function () {
  for (const shape of [0.3, 1, 4.5]) {
    it(`should draw Gamma(${shape}) with mean and variance near ${shape}`, function () {
      const rng = new Prng(17);
      const n = 40000;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        const g = sampleGamma(rng, shape);
        expect(g).to.be.at.least(0);
        sum += g;
        sumSq += g * g;
      }
      const m = sum / n;
      const v = sumSq / n - m * m;
      // Standard errors at n = 40000 are below 1.2% of the mean and 4% of the variance here.
      expect(Math.abs(m - shape) / shape).to.be.below(0.04);
      expect(Math.abs(v - shape) / shape).to.be.below(0.12);
    });
  }

  it("should give Dirichlet draws on the simplex even for alpha = 1e-3", function () {
    const rng = new Prng(5);
    for (const alpha of [1e-3, 0.5, 50]) {
      const p = sampleDirichlet(rng, new Array(20).fill(alpha));
      expect(p.every((v) => v >= 0 && Number.isFinite(v))).to.equal(true);
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).to.be.below(1e-12);
    }
  });

  it("should match the Dirichlet mean alpha_i / sum(alpha)", function () {
    const rng = new Prng(8);
    const alphas = [0.5, 1, 2.5];
    const mean = [0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) sampleDirichlet(rng, alphas).forEach((v, k) => (mean[k] += v / n));
    alphas.forEach((a, k) => expect(Math.abs(mean[k] - a / 4)).to.be.below(0.01));
  });

  it("should refuse non-positive shapes", function () {
    expectDsainError(() => sampleGamma(new Prng(1), 0), ErrorCode.INPUT_INVALID, /gamma shape is 0/);
    expectDsainError(() => sampleDirichlet(new Prng(1), [1, -1]), ErrorCode.INPUT_INVALID, /alpha\[1\] is -1/);
    expectDsainError(() => sampleDirichlet(new Prng(1), []), ErrorCode.INPUT_INVALID, /at least one/);
  });
});

describe("data: Dirichlet label partition", function () {
  const labelsArb = fc.integer({ min: 2, max: 10 }).chain((classes) =>
    fc.record({
      classes: fc.constant(classes),
      labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: 30, maxLength: 400 }),
      clients: fc.integer({ min: 1, max: 12 }),
      alpha: fc.oneof(fc.double({ min: 0.05, max: 100, noNaN: true }), fc.constantFrom(0.1, 0.5, 1)),
      seed: fc.integer({ min: 0, max: 0xffffffff }),
    }),
  );

  it("should deal every sample to exactly one client, each getting at least one, or refuse", function () {
    fc.assert(
      fc.property(labelsArb, ({ classes, labels, clients, alpha, seed }) => {
        let parts: Uint32Array[];
        try {
          parts = dirichletPartition(labels, classes, { clients, alpha, seed });
        } catch (e) {
          expect(e).to.be.instanceOf(DsainError);
          expect((e as DsainError).message).to.match(/left a client with 0 < 1 samples in all 100 draws/);
          return;
        }
        expect(parts.length).to.equal(clients);
        expect(parts.reduce((s, p) => s + p.length, 0)).to.equal(labels.length);
        const seen = new Uint8Array(labels.length);
        for (const p of parts) {
          expect(p.length).to.be.at.least(1);
          for (let k = 0; k < p.length; k++) {
            if (k > 0) expect(p[k]).to.be.above(p[k - 1]);
            seen[p[k]]++;
          }
        }
        expect(seen.every((v) => v === 1)).to.equal(true);
      }),
      { numRuns: 150 },
    );
  });

  it("should be a pure function of its inputs and seed", function () {
    fc.assert(
      fc.property(labelsArb, ({ classes, labels, clients, alpha, seed }) => {
        const run = (s: number) => {
          try {
            return dirichletPartition(labels, classes, { clients, alpha, seed: s }).map((p) => Array.from(p));
          } catch (e) {
            return (e as Error).message;
          }
        };
        expect(run(seed)).to.deep.equal(run(seed));
      }),
      { numRuns: 60 },
    );
  });

  it("should skew labels more at smaller alpha, as measured by labelSkew", function () {
    const rng = new Prng(3);
    const labels = Uint8Array.from({ length: 2000 }, () => rng.nextInt(10));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const skew = (alpha: number) => labelSkew(labels, 10, dirichletPartition(labels, 10, { clients: 10, alpha, seed }));
        const low = skew(0.1);
        const mid = skew(1);
        const high = skew(100);
        expect(low).to.be.above(mid);
        expect(mid).to.be.above(high);
        expect(high).to.be.below(0.1);
        expect(low).to.be.above(0.5);
      }),
      { numRuns: 25 },
    );
  });

  it("should score an IID-like split near 0 and one class per client near 1 - 1/C", function () {
    const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 4);
    const byClass = [0, 1, 2, 3].map((k) => Uint32Array.from({ length: 25 }, (_, j) => 4 * j + k));
    expectClose(labelSkew(labels, 4, byClass), 0.75, 1e-12);
    // Runs of 20 consecutive samples hold 5 of each class: the pool's mix exactly.
    const runs = [0, 1, 2, 3, 4].map((c) => Uint32Array.from({ length: 20 }, (_, j) => 20 * c + j));
    expectClose(labelSkew(labels, 4, runs), 0, 1e-12);
  });

  it("should refuse too few samples, bad alpha, bad labels, and a skew that leaves a client empty", function () {
    const labels = [0, 1, 0, 1];
    expectDsainError(
      () => dirichletPartition(labels, 2, { clients: 5, alpha: 1, seed: 1 }),
      ErrorCode.INPUT_INVALID,
      /4 samples cannot give each of 5 clients at least 1/,
    );
    expectDsainError(() => dirichletPartition(labels, 2, { clients: 2, alpha: 0, seed: 1 }), ErrorCode.INPUT_INVALID, /alpha is 0/);
    expectDsainError(() => dirichletPartition([0, 2], 2, { clients: 1, alpha: 1, seed: 1 }), ErrorCode.DATA_MALFORMED, /label 1 is 2/);
    const many = Uint8Array.from({ length: 200 }, (_, i) => i % 2);
    expectDsainError(
      () => dirichletPartition(many, 2, { clients: 50, alpha: 0.001, seed: 9, maxAttempts: 5 }),
      ErrorCode.INPUT_INVALID,
      /Dirichlet\(alpha=0\.001\) over 50 clients left a client with 0 < 1 samples in all 5 draws; raise alpha/,
    );
  });
});

describe("data: naturalPartition", function () {
  it("should group sample indices by owner", function () {
    expect(naturalPartition([0, 1, 0, 2], 3).map((p) => Array.from(p))).to.deep.equal([[0, 2], [1], [3]]);
  });

  it("should refuse an owner out of range and a group without samples", function () {
    expectDsainError(() => naturalPartition([0, 3], 3), ErrorCode.INPUT_INVALID, /owner of sample 1 is 3/);
    expectDsainError(() => naturalPartition([0, 2], 3), ErrorCode.INPUT_INVALID, /group 1 owns no samples/);
  });
});
