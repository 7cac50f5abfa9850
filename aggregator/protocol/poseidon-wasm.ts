// The vector-commitment hasher of docs/protocol.md §2, computing whole subtrees inside one
// WebAssembly instance: coordinates are packed straight into WebAssembly memory, field elements stay
// in Montgomery form from the leaves to the subtree root, and each tree node is hashed in place
// from its two children (no per-call allocation, no BigInt conversion). It runs circomlibjs'
// Poseidon (the circuits' constants and rounds) on ffjavascript's BN254 scalar field, so its results
// equal the reference path (`chunkLeaves`/`treeLevels` over `getPoseidon()`), which the unit tests
// check on random vectors.
//
// It imports neither circomlibjs nor ffjavascript: the worker threads of commitment-pool.ts load it
// and instantiate the module the main thread compiled (ffjavascript's web-worker dependency would
// take over a worker thread that imported it).
import { CHUNK_SIZE, FIELD_MODULUS, LEAF_ELEMENTS, PACK_COORDINATES, PACK_OFFSET } from "./constants.js";

/** Bytes of one field element in WebAssembly memory (4 little-endian 64-bit limbs). */
const N8 = 32;
const PAGE = 65_536;

interface WasmExports {
  poseidon(pState: number, pIn: number, n: number, pOut: number, nOut: number): void;
  frm_batchToMontgomery(pIn: number, n: number, pOut: number): void;
}

/** 2^256 mod p: a field element x is x·R mod p in Montgomery form; R^-1 by Fermat. */
const R_MOD_P = (1n << 256n) % FIELD_MODULUS;
const R_INVERSE = modPow(R_MOD_P, FIELD_MODULUS - 2n, FIELD_MODULUS);

export class WasmVectorHasher {
  /** A zero (the sponge's initial state), one leaf's 16 inputs, and the working area after them. */
  private readonly pState: number;
  private readonly pIn: number;
  private readonly work: number;
  /** zeros[d]: the root of 2^d zero leaves, in Montgomery form (0 is all-zero bytes in it too). */
  private readonly zeros: Uint8Array[] = [new Uint8Array(N8)];

  private readonly memory: WebAssembly.Memory;
  private readonly exports: WasmExports;

  /**
   * A hasher over its own instance of `module` (ffjavascript's BN254 module with circomlibjs'
   * Poseidon plugin: see poseidonModule in commitment-pool.ts), with a fresh memory of `pages`.
   */
  constructor(module: WebAssembly.Module, pages: number) {
    this.memory = new WebAssembly.Memory({ initial: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as WasmExports;
    // Our region starts past the module's own data (constants and the initial free area).
    this.pState = this.memory.buffer.byteLength;
    this.pIn = this.pState + N8;
    this.work = this.pIn + LEAF_ELEMENTS * N8;
    this.ensure(0);
    new Uint8Array(this.memory.buffer, this.pState, N8).fill(0);
  }

  /** Grows the memory so that `bytes` of working area fit after `work`. */
  private ensure(bytes: number): void {
    const end = this.work + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /**
   * Writes leaf `leaf`'s 16 packed elements (docs/protocol.md §2) of `coords` into the input
   * buffer in normal form, coordinates past the end of `coords` being 0, and hashes them into `out`.
   */
  private hashLeaf(coords: Int32Array, leaf: number, out: number): void {
    const words = new Uint32Array(this.memory.buffer, this.pIn, LEAF_ELEMENTS * 8);
    const first = leaf * CHUNK_SIZE;
    for (let m = 0; m < LEAF_ELEMENTS; m++) {
      const at = first + m * PACK_COORDINATES;
      for (let k = 0; k < PACK_COORDINATES; k++) {
        const i = at + k;
        // u = q + 2^31 in [0, 2^32): limb k of element m (little-endian 32-bit words).
        words[m * 8 + k] = (i < coords.length ? coords[i] : 0) + PACK_OFFSET;
      }
      words[m * 8 + 7] = 0;
    }
    this.exports.frm_batchToMontgomery(this.pIn, LEAF_ELEMENTS, this.pIn);
    this.exports.poseidon(this.pState, this.pIn, LEAF_ELEMENTS, out, 1);
  }

  /**
   * Root (Montgomery form, 32 bytes) of the aligned subtree of `leafCount` = 2^c leaves whose
   * coordinates are `coords` (leaf 0 starts at coords[0]). Leaves whose first coordinate is past
   * the end are 0, as in the full tree.
   */
  subtreeRoot(coords: Int32Array, leafCount: number): Uint8Array {
    return this.hashSubtree(coords, leafCount, false).pop()![0];
  }

  /** All levels of that subtree, leaves first, each node 32 bytes in Montgomery form. */
  subtreeLevels(coords: Int32Array, leafCount: number): Uint8Array[][] {
    return this.hashSubtree(coords, leafCount, true);
  }

  private hashSubtree(coords: Int32Array, leafCount: number, keep: boolean): Uint8Array[][] {
    if (!Number.isInteger(leafCount) || leafCount < 1 || (leafCount & (leafCount - 1)) !== 0) {
      throw new RangeError(`a subtree has a power-of-two number of leaves, got ${leafCount}`);
    }
    // Level d occupies leafCount / 2^d slots; all levels together fit in 2 * leafCount slots.
    this.ensure(2 * leafCount * N8);
    let real = Math.min(leafCount, Math.ceil(coords.length / CHUNK_SIZE));
    let at = this.work;
    for (let j = 0; j < real; j++) this.hashLeaf(coords, j, at + j * N8);
    this.fill(at + real * N8, leafCount - real, 0);
    const out: Uint8Array[][] = [];
    if (keep) out.push(this.read(at, leafCount));
    for (let width = leafCount, d = 0; width > 1; width >>= 1, d++) {
      const next = at + width * N8;
      // Poseidon2 reads its two inputs from consecutive slots: the children 2i and 2i + 1. Nodes
      // over padding leaves only are the precomputed zero roots.
      const realNext = Math.ceil(real / 2);
      for (let i = 0; i < realNext; i++) this.exports.poseidon(this.pState, at + 2 * i * N8, 2, next + i * N8, 1);
      this.fill(next + realNext * N8, width / 2 - realNext, d + 1);
      at = next;
      real = realNext;
      if (keep) out.push(this.read(at, width / 2));
    }
    if (!keep) out.push(this.read(at, 1));
    return out;
  }

  /** Root (Montgomery form) of a subtree of 2^level zero leaves. */
  zeroRoot(level: number): Uint8Array {
    while (this.zeros.length <= level) {
      const below = this.zeros[this.zeros.length - 1];
      const m = new Uint8Array(this.memory.buffer);
      m.set(below, this.pIn);
      m.set(below, this.pIn + N8);
      this.exports.poseidon(this.pState, this.pIn, 2, this.pIn, 1);
      this.zeros.push(new Uint8Array(this.memory.buffer).slice(this.pIn, this.pIn + N8));
    }
    return this.zeros[level];
  }

  private fill(at: number, count: number, level: number): void {
    if (count <= 0) return;
    const z = this.zeroRoot(level);
    const m = new Uint8Array(this.memory.buffer);
    for (let i = 0; i < count; i++) m.set(z, at + i * N8);
  }

  private read(at: number, width: number): Uint8Array[] {
    const m = new Uint8Array(this.memory.buffer);
    return Array.from({ length: width }, (_, i) => m.slice(at + i * N8, at + (i + 1) * N8));
  }

  /** Root (Montgomery form) of the top of a tree whose level-c nodes are `nodes` (a power of two). */
  combine(nodes: Uint8Array[]): Uint8Array {
    if (nodes.length === 1) return nodes[0];
    this.ensure(2 * nodes.length * N8);
    const m = new Uint8Array(this.memory.buffer);
    nodes.forEach((n, i) => m.set(n, this.work + i * N8));
    let at = this.work;
    for (let width = nodes.length; width > 1; width >>= 1) {
      const next = at + width * N8;
      for (let i = 0; i < width / 2; i++) this.exports.poseidon(this.pState, at + 2 * i * N8, 2, next + i * N8, 1);
      at = next;
    }
    return this.read(at, 1)[0];
  }
}

/** The field element of a 32-byte little-endian Montgomery-form value: x = m · R^-1 mod p. */
export function fromMontgomery(bytes: Uint8Array): bigint {
  let m = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) m = (m << 8n) | BigInt(bytes[i]);
  return (m * R_INVERSE) % FIELD_MODULUS;
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  while (e > 0n) {
    if (e & 1n) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1n;
  }
  return r;
}
