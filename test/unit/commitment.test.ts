// Vector commitments, protocol version 2 (docs/protocol.md §2): the packing of seven int32
// coordinates per field element, and the three ways the project computes a root — the reference
// over circomlibjs' Poseidon (chunkLeaves + treeLevels), the WebAssembly hasher on one thread
// (vectorTree) and the worker pool (vectorRoot) — agreeing on random vectors of many lengths.
import { expect } from "chai";
import { ErrorCode } from "../../aggregator/errors.js";
import { CommitmentPool, POOL_MIN_LEAVES } from "../../aggregator/protocol/commitment-pool.js";
import {
  CHUNK_SIZE,
  FIELD_MODULUS,
  INT_MAX,
  INT_MIN,
  LEAF_ELEMENTS,
  PACK_COORDINATES,
  PACK_OFFSET,
} from "../../aggregator/protocol/constants.js";
import { getPoseidon } from "../../aggregator/protocol/poseidon.js";
import {
  chunkCount,
  chunkLeaves,
  leafElements,
  packElement,
  treeDepth,
  treeLevels,
  unpackElement,
  vectorRoot,
  vectorTree,
} from "../../aggregator/protocol/vector-root.js";
import { expectDsainError } from "../helpers/errors.js";
import { xorshift32 } from "../helpers/random.js";
import { readVector, toInt32 } from "../helpers/vectors.js";

const B32 = 2n ** 32n;

function randomInt32(next: () => number, n: number): number[] {
  return Array.from({ length: n }, () => next() | 0);
}

async function referenceRoot(values: Int32Array): Promise<bigint> {
  const poseidon = await getPoseidon();
  const depth = treeDepth(values.length);
  return treeLevels(chunkLeaves(values, poseidon), depth, poseidon)[depth][0];
}

describe("vector commitments, protocol version 2 (§2)", function () {
  describe("packing seven coordinates per field element", function () {
    it("should define the layout: limb k holds coordinate k + 2^31, the first coordinate lowest", function () {
      expect(CHUNK_SIZE)
        .to.equal(LEAF_ELEMENTS * PACK_COORDINATES)
        .and.to.equal(112);
      expect(packElement([])).to.equal(Array.from({ length: 7 }, (_, k) => (2n ** 31n) << BigInt(32 * k)).reduce((a, b) => a + b));
      expect(packElement([INT_MIN])).to.equal(packElement([]) - 2n ** 31n);
      expect(packElement([0, INT_MAX])).to.equal(packElement([]) + (2n ** 31n - 1n) * B32);
      // The largest element: every limb 2^32 - 1, still far below p.
      const top = packElement(Array(7).fill(INT_MAX));
      expect(top).to.equal(2n ** 224n - 1n);
      expect(top < FIELD_MODULUS).to.equal(true);
      expect(packElement(Array(7).fill(INT_MIN))).to.equal(0n);
    });

    it("should be injective: unpacking inverts packing on int32 extremes and 2,000 random tuples", function () {
      const next = xorshift32(0x5eed);
      const cases: number[][] = [
        Array(7).fill(INT_MIN),
        Array(7).fill(INT_MAX),
        [INT_MIN, INT_MAX, 0, -1, 1, INT_MIN, INT_MAX],
        [0, 0, 0, 0, 0, 0, 0],
      ];
      for (let i = 0; i < 2000; i++) cases.push(randomInt32(next, 7));
      const seen = new Map<bigint, string>();
      for (const c of cases) {
        const e = packElement(c);
        // A left inverse makes the map injective: two tuples with the same element would unpack alike.
        expect(unpackElement(e).map(Number)).to.deep.equal(c);
        const key = c.join(",");
        const before = seen.get(e);
        if (before !== undefined) expect(before, "two tuples packed to one element").to.equal(key);
        seen.set(e, key);
      }
      // And every element below 2^224 is exactly one tuple: packing inverts unpacking.
      for (let i = 0; i < 500; i++) {
        const e = BigInt.asUintN(
          224,
          (BigInt(next() >>> 0) << 192n) ^ (BigInt(next() >>> 0) << 96n) ^ (BigInt(next() >>> 0) * 0x9e3779b97f4a7c15n),
        );
        expect(packElement(unpackElement(e))).to.equal(e);
      }
    });

    it("should pad a short tuple with zero coordinates, as the last element of a vector is padded", function () {
      expect(packElement([5, -5])).to.equal(packElement([5, -5, 0, 0, 0, 0, 0]));
      const v = Int32Array.from([1, 2, 3]);
      expect(leafElements(v, 0)).to.deep.equal([packElement([1, 2, 3]), ...Array(15).fill(packElement([]))]);
    });

    it("should refuse coordinates outside int32, more than seven of them, and non-elements", function () {
      expectDsainError(() => packElement([2 ** 31]), ErrorCode.INPUT_INVALID, /int32/);
      expectDsainError(() => packElement([-(2 ** 31) - 1]), ErrorCode.INPUT_INVALID, /int32/);
      expectDsainError(() => packElement(Array(8).fill(0)), ErrorCode.INPUT_INVALID, /at most 7/);
      expectDsainError(() => unpackElement(2n ** 224n), ErrorCode.INPUT_INVALID, /not a packed element/);
      expectDsainError(() => unpackElement(-1n), ErrorCode.INPUT_INVALID, /not a packed element/);
    });

    it("should match the shared vectors' first-leaf elements", function () {
      for (const c of readVector("vector-roots.json").cases) {
        expect(leafElements(toInt32(c.values), 0).map(String), `length ${c.length}`).to.deep.equal(c.firstLeafElements);
      }
    });
  });

  describe("three implementations, one root", function () {
    it("should reproduce the shared vectors with the reference path (circomlibjs, one hash per call)", async function () {
      for (const c of readVector("vector-roots.json").cases) {
        const values = toInt32(c.values);
        const poseidon = await getPoseidon();
        const leaves = chunkLeaves(values, poseidon);
        expect(leaves.map((l) => "0x" + l.toString(16).padStart(64, "0"))).to.deep.equal(c.leaves);
        expect("0x" + (await referenceRoot(values)).toString(16).padStart(64, "0")).to.equal(c.root);
      }
    });

    it("should give the reference's every level (vectorTree) and root (vectorRoot) on 40 random vectors", async function () {
      const next = xorshift32(0xc0ffee);
      const lengths = [1, 6, 7, 8, 111, 112, 113, 224, 225, 336, 1000, 1792, 1793];
      while (lengths.length < 40) lengths.push(1 + ((next() >>> 0) % 4000));
      const poseidon = await getPoseidon();
      for (const length of lengths) {
        const values = Int32Array.from(randomInt32(next, length));
        const depth = treeDepth(length);
        const levels = treeLevels(chunkLeaves(values, poseidon), depth, poseidon);
        const tree = await vectorTree(values);
        expect(tree.depth).to.equal(depth);
        expect(tree.leaves).to.deep.equal(levels[0]);
        for (let d = 1; d <= depth; d++) expect(tree.levels[d], `level ${d} of length ${length}`).to.deep.equal(levels[d]);
        expect(await vectorRoot(values), `root of length ${length}`).to.equal(levels[depth][0]);
      }
    });

    it("should give the same root from a pool of 1, 2 and 3 threads on vectors large enough to be split", async function () {
      const next = xorshift32(42);
      const pools = [new CommitmentPool(1), new CommitmentPool(2), new CommitmentPool(3)];
      try {
        for (const leaves of [POOL_MIN_LEAVES, POOL_MIN_LEAVES + 1, 90, 257]) {
          const values = Int32Array.from(randomInt32(next, leaves * CHUNK_SIZE - 5));
          const n = chunkCount(values.length);
          const expected = await referenceRoot(values);
          for (const pool of pools) {
            expect(await pool.root(values, n, treeDepth(values.length)), `${pool.threads} threads, ${leaves} leaves`).to.equal(expected);
          }
        }
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });

    it("should leave the caller's vector intact and still answer after its pool is closed", async function () {
      const values = Int32Array.from({ length: 100 * CHUNK_SIZE }, (_, i) => (i * 7919) % 65536);
      const copy = values.slice();
      const pool = new CommitmentPool(2);
      const first = await pool.root(values, chunkCount(values.length), treeDepth(values.length));
      expect(Array.from(values)).to.deep.equal(Array.from(copy));
      await pool.close();
      expect(await pool.root(values, chunkCount(values.length), treeDepth(values.length))).to.equal(first);
      expect(first).to.equal(await referenceRoot(values));
    });

    it("should change the root when any one coordinate of a pooled vector changes", async function () {
      const values = new Int32Array(80 * CHUNK_SIZE);
      const base = await vectorRoot(values);
      for (const i of [0, 6, 7, 111, 112, values.length - 1]) {
        values[i] = 1;
        expect(await vectorRoot(values), `coordinate ${i}`).to.not.equal(base);
        values[i] = 0;
      }
      expect(await vectorRoot(values)).to.equal(base);
      expect(PACK_OFFSET).to.equal(2 ** 31);
    });
  });
});
