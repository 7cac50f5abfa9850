// The prover queue: proofs run off the main thread in submission order, and a training loop on the
// main thread keeps its pace while round t's proof is computed (measured against proving in-process).
import { expect } from "chai";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { aggregateExact, integerWeights } from "../../aggregator/protocol/aggregation.js";
import { ensureCircuitKeys, releaseZkWorkers } from "../../aggregator/adapters/proof/keys.js";
import { ProverQueue } from "../../aggregator/adapters/proof/pipeline.js";
import { buildRoundChunksInput, proveInstance, verifyInstance, type RoundChunksBuild } from "../../aggregator/adapters/proof/sampled.js";

const TINY = "RoundChunks_1-0-0-1_tiny";
const ROUND = "RoundChunks_4-1-0-2_test";

function vector(n: number, seed: number, magnitude: number): Int32Array {
  let x = seed >>> 0 || 1;
  return Int32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x % (2 * magnitude + 1)) - magnitude;
  });
}

async function tinyRound(seed: number): Promise<RoundChunksBuild> {
  const prev = vector(16, seed, 1 << 20);
  const delta = vector(16, seed + 1, 1 << 16);
  return buildRoundChunksInput({
    prev,
    next: aggregateExact(prev, [delta], [65536]),
    deltas: [delta],
    weights: [65536],
    chunkIndices: [0],
  });
}

/**
 * A stand-in for local training: synchronous steps of ~`stepMs` of float work, yielding to the
 * event loop between steps (as tfjs does between batches). Returns the steps done and the longest
 * gap between the end of one step and the start of the next, i.e. how long training was held up.
 */
function trainWhile(stepMs: number, keepGoing: () => boolean): Promise<{ steps: number; maxGapMs: number; ms: number }> {
  const a = new Float64Array(64 * 64).map((_, i) => (i % 7) / 7);
  const b = new Float64Array(64 * 64).map((_, i) => (i % 5) / 5);
  const c = new Float64Array(64 * 64);
  let steps = 0;
  let maxGapMs = 0;
  const t0 = performance.now();
  let lastEnd = t0;
  return new Promise((resolve) => {
    const step = () => {
      const start = performance.now();
      maxGapMs = Math.max(maxGapMs, start - lastEnd);
      while (performance.now() - start < stepMs) {
        for (let i = 0; i < 64; i++)
          for (let k = 0; k < 64; k++) for (let j = 0; j < 64; j += 8) c[i * 64 + j] += a[i * 64 + k] * b[k * 64 + j];
      }
      steps++;
      lastEnd = performance.now();
      if (keepGoing()) setImmediate(step);
      else resolve({ steps, maxGapMs, ms: lastEnd - t0 });
    };
    setImmediate(step);
  });
}

describe("zk: prover queue (aggregator/adapters/proof/pipeline.ts)", function () {
  let queue: ProverQueue;

  before(async function () {
    this.timeout(30 * 60_000);
    await ensureCircuitKeys(TINY, { log: (m) => console.log(`      ${m}`) });
    await ensureCircuitKeys(ROUND, { log: (m) => console.log(`      ${m}`) });
    queue = new ProverQueue();
  });

  after(async function () {
    await queue?.close();
    await releaseZkWorkers();
  });

  it("should prove jobs one at a time in submission order, each verifying", async function () {
    const rounds = await Promise.all([1, 2, 3].map((s) => tinyRound(s * 10)));
    const order: string[] = [];
    const proofs = rounds.map((r, i) =>
      queue.submit({ instance: TINY, input: r.input, label: `round ${i + 1}` }).then((p) => {
        order.push(p.label);
        return p;
      }),
    );
    expect(queue.pending).to.equal(3);
    const done = await Promise.all(proofs);
    expect(order).to.deep.equal(["round 1", "round 2", "round 3"]);
    expect(queue.pending).to.equal(0);
    for (const [i, p] of done.entries()) {
      expect(p.publicSignals).to.deep.equal(rounds[i].publicSignals);
      expect(await verifyInstance(TINY, p.publicSignals, p.proof, { keepWorkers: true })).to.equal(true);
    }
    expect(done[2].waitedMs).to.be.greaterThan(0);
  });

  it("should reject a job whose witness does not satisfy the circuit, and keep serving the next", async function () {
    const bad = await tinyRound(5);
    bad.input.next[0][3] = (BigInt(bad.input.next[0][3]) + 1n).toString();
    const good = await tinyRound(6);
    const failing = queue.submit({ instance: TINY, input: bad.input, label: "bad" });
    const after = queue.submit({ instance: TINY, input: good.input, label: "good" });
    try {
      await failing;
      expect.fail("a bad witness was proven");
    } catch (e) {
      expect((e as DsainError).code).to.equal(ErrorCode.ZK_WITNESS_FAILED);
    }
    expect((await after).publicSignals).to.deep.equal(good.publicSignals);
  });

  it("should keep a main-thread training loop running while round t's proof is computed", async function () {
    const n = 212;
    const prev = vector(n, 3, 1 << 24);
    const deltas = [4, 5, 6, 7].map((s) => vector(n, s, 1 << 20));
    const weights = integerWeights([3, 1, 4, 1]);
    const build = await buildRoundChunksInput({ prev, next: aggregateExact(prev, deltas, weights), deltas, weights, chunkIndices: [0, 1] });

    // Baseline: the same loop with nothing else in this process.
    let stop = false;
    setTimeout(() => (stop = true), 1_000);
    const idle = await trainWhile(5, () => !stop);

    // Round t's proof in the queue while "round t+1" trains on the main thread.
    let proving = true;
    const queued = queue.submit({ instance: ROUND, input: build.input, label: "round t" }).finally(() => (proving = false));
    const during = await trainWhile(5, () => proving);
    const proof = await queued;
    expect(await verifyInstance(ROUND, proof.publicSignals, proof.proof, { keepWorkers: true })).to.equal(true);

    // Control: the same proof in this thread (what the queue avoids).
    let inline = true;
    const inlineProof = proveInstance(ROUND, build.input, { keepWorkers: true }).finally(() => (inline = false));
    const blocked = await trainWhile(5, () => inline);
    await inlineProof;

    const rate = (r: { steps: number; ms: number }) => (r.steps / r.ms) * 1000;
    console.log(
      `      training steps/s: idle ${rate(idle).toFixed(0)}, during queued proof ${rate(during).toFixed(0)} ` +
        `(proof ${(proof.witnessMs + proof.proveMs).toFixed(0)} ms), during in-thread proof ${rate(blocked).toFixed(0)}; ` +
        `longest stall: idle ${idle.maxGapMs.toFixed(0)} ms, queued ${during.maxGapMs.toFixed(0)} ms, in-thread ${blocked.maxGapMs.toFixed(0)} ms`,
    );
    // Training went on during the whole proof, never stalled for long, and stalled far less than
    // with the proof on its own thread (where witness generation alone holds the loop).
    expect(during.steps).to.be.greaterThan(20);
    expect(during.maxGapMs).to.be.lessThan(250);
    expect(during.maxGapMs).to.be.lessThan(blocked.maxGapMs);
  });

  it("should refuse new jobs once closed", async function () {
    const q = new ProverQueue();
    await q.close();
    try {
      await q.submit({ instance: TINY, input: (await tinyRound(1)).input });
      expect.fail("a closed queue accepted a job");
    } catch (e) {
      expect((e as DsainError).code).to.equal(ErrorCode.INPUT_INVALID);
    }
  });
});
