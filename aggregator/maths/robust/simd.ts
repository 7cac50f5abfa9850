// WebAssembly SIMD kernels for the inner loops of a Weiszfeld pass and of a weighted mean: the
// weighted row sum, the squared distances of rows to a vector, and the dot products of rows with
// a vector. Plain TypeScript loops reach about one value per nanosecond here, two to three times
// the one-pass floor (docs/benchmarks.md); two float64 lanes per instruction bring a pass near it.
// The module is small enough to write by hand: the encoder below spells each instruction by name,
// and test/unit/robust.test.ts checks every kernel against the plain loops of weiszfeld-pass.ts.
//
// Results are the plain loops' to the bit for weighted sums and iterates (same operations in the
// same row order per coordinate: WebAssembly neither fuses multiply-add nor reorders), and within
// the rounding bound of weiszfeld-pass.ts for distances, dot products and the pass sums (two lanes
// accumulate alternate coordinates). Only deterministic instructions are used (no relaxed SIMD),
// so every machine computes the same bits.
//
// WebAssembly cannot read JavaScript's ArrayBuffers, so each column block of the rows is copied
// into the module's memory (TypedArray.set, a memcpy) before the kernels run on it: the input is
// still read from main memory once per pass, and no copy of the whole input is ever made. Each
// copy call costs about as much as copying a few thousand values, so blocks are wide (up to 16,384
// columns, at most 4 MiB for all rows): narrower blocks that fit in L2 were slower overall.
import { DsainError, ErrorCode } from "../../errors.js";
import type { ExtraSum, PassSums, Vec, WeiszfeldEngine } from "./vec.js";

/** At most this many bytes of rows per column block (the block lives in L2/L3 while it is swept). */
const BLOCK_BYTES = 4 * 1024 * 1024;
/** Block widths (columns) a module is compiled for: the row stride is a constant of the code. */
const WIDTHS = [16384, 4096, 1024, 256] as const;

// --- A minimal WebAssembly binary encoder (https://webassembly.github.io/spec/core/binary/) ---

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

type Code = number[];
const get = (i: number): Code => [0x20, ...uleb(i)];
const set = (i: number): Code => [0x21, ...uleb(i)];
const tee = (i: number): Code => [0x22, ...uleb(i)];
const i32 = (n: number): Code => [0x41, ...sleb(n)];
const i32Add: Code = [0x6a];
const i32Mul: Code = [0x6c];
const i32GtU: Code = [0x4b];
const i32LtU: Code = [0x49];
const f64Load = (offset = 0): Code => [0x2b, 3, ...uleb(offset)];
const f64Store = (offset = 0): Code => [0x39, 3, ...uleb(offset)];
const f64Add: Code = [0xa0];
const simd = (op: number, ...immediates: number[]): Code => [0xfd, ...uleb(op), ...immediates];
const v128Load = (offset = 0): Code => simd(0x00, 4, ...uleb(offset));
const v128Store = (offset = 0): Code => simd(0x0b, 4, ...uleb(offset));
/** Two float32 (8 bytes) into the low half of a v128. */
const v128Load64Zero = (offset = 0): Code => simd(0x5d, 3, ...uleb(offset));
const f64x2PromoteLowF32x4: Code = simd(0x5f);
const f64x2Splat: Code = simd(0x14);
const f64x2ExtractLane = (lane: number): Code => simd(0x21, lane);
const f64x2Add: Code = simd(0xf0);
const f64x2Sub: Code = simd(0xf1);
const f64x2Mul: Code = simd(0xf2);
const f64x2Div: Code = simd(0xf3);
const v128Zero: Code = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const block = (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b];
const loop = (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b];
const brIf = (depth: number): Code => [0x0d, ...uleb(depth)];
const br = (depth: number): Code => [0x0c, ...uleb(depth)];
/** select with a v128 result: (a, b, c) -> c ? a : b. */
const selectV128: Code = [0x1c, 1, V128];

/** local += step (i32). */
const bump = (local: number, step: number): Code => [...get(local), ...i32(step), ...i32Add, ...set(local)];
/** addr = base + index * size, as an i32 on the stack. */
const at = (base: number, index: number, size: number): Code => [...get(base), ...get(index), ...i32(size), ...i32Mul, ...i32Add];
/** lane 0 + lane 1 of a v128 local, as an f64 on the stack. */
const lanes = (local: number): Code => [...get(local), ...f64x2ExtractLane(0), ...get(local), ...f64x2ExtractLane(1), ...f64Add];

/**
 * Every kernel walks rows in groups of 8, then 4, 2 and 1, so that each load of a vector value
 * (or each load and store of an accumulator) serves several rows; rows of a group are found at
 * constant offsets k * stride from one pointer, and the columns go four per step (two lane pairs)
 * with a do-while loop (n >= 4). `r` is the row counter local, `k` the row-count parameter.
 */
function rowGroups(r: number, k: number, body: (rows: number) => Code): Code {
  return [
    ...i32(0),
    ...set(r),
    ...[8, 4, 2, 1].flatMap((rows) =>
      block(loop([...get(r), ...i32(rows), ...i32Add, ...get(k), ...i32GtU, ...brIf(1)], body(rows), bump(r, rows), br(0))),
    ),
  ];
}

interface Shape {
  /** Row stride in bytes: block width times the element size. */
  readonly stride: number;
  readonly f32: boolean;
}

/** Two lanes of row k's values at pair p (columns 2p, 2p+1 of the step) from the group pointer `px`, as float64. */
const rowPair = (s: Shape, px: number, k: number, p: number): Code =>
  s.f32 ? [...get(px), ...v128Load64Zero(k * s.stride + 8 * p), ...f64x2PromoteLowF32x4] : [...get(px), ...v128Load(k * s.stride + 16 * p)];

/**
 * wsum(x, K, n, w, acc, fresh): acc[j] += w[r] * x[r][j] for r = 0..K-1 in order, j < n (n a
 * positive multiple of 4); rows `stride` bytes apart from x, w K doubles, acc n doubles. With
 * fresh = 1 the sums start from 0 instead of acc's contents (no memset of acc). Each row is added
 * to the accumulator in turn, so the order per coordinate is the plain loop's, from 0.
 * Locals: 6 r, 7 group pointer, 8 acc pointer, 9 acc end, 10..17 weight splats.
 */
function wsumBody(s: Shape): Code {
  const elt = s.f32 ? 4 : 8;
  const group = (rows: number): Code => [
    ...Array.from({ length: rows }, (_, k) => [...at(3, 6, 8), ...f64Load(8 * k), ...f64x2Splat, ...set(10 + k)]).flat(),
    ...at(0, 6, s.stride),
    ...set(7),
    ...get(4),
    ...set(8),
    ...loop(
      ...[0, 1].map((p) => [
        ...get(8),
        ...[...v128Zero, ...get(8), ...v128Load(16 * p), ...get(5), ...selectV128],
        ...Array.from({ length: rows }, (_, k) => [...get(10 + k), ...rowPair(s, 7, k, p), ...f64x2Mul, ...f64x2Add]).flat(),
        ...v128Store(16 * p),
      ]),
      bump(7, 4 * elt),
      [...get(8), ...i32(32), ...i32Add, ...tee(8), ...get(9), ...i32LtU, ...brIf(0)],
    ),
    ...i32(0),
    ...set(5),
  ];
  return [...at(4, 2, 8), ...set(9), ...rowGroups(6, 1, group)];
}

/**
 * dist(x, K, n, y, out): out[r] += sum_j (x[r][j] - y[j])^2; dot(x, K, n, v, out): out[r] +=
 * sum_j x[r][j] * v[j]; for every row, j < n. Lane 0 sums the even columns, lane 1 the odd ones;
 * groups of up to four rows keep the two pairs of a step in separate sums too (eight rows have no
 * registers left for that), so that no sum waits on its previous addition; the partial sums are
 * added once per call. Locals: 5 r, 6 group pointer, 7 vector pointer, 8 vector end, 9 out
 * address, 10..17 sums, 18 and 19 the vector's two pairs, 20 difference.
 */
function reduceBody(s: Shape, kind: "dist" | "dot"): Code {
  const elt = s.f32 ? 4 : 8;
  const sum = (rows: number, k: number, p: number): number => 10 + k + (rows <= 4 ? 4 * p : 0);
  const term = (rows: number, k: number, p: number): Code => {
    const acc = sum(rows, k, p);
    return kind === "dist"
      ? [...rowPair(s, 6, k, p), ...get(18 + p), ...f64x2Sub, ...tee(20), ...get(20), ...f64x2Mul, ...get(acc), ...f64x2Add, ...set(acc)]
      : [...rowPair(s, 6, k, p), ...get(18 + p), ...f64x2Mul, ...get(acc), ...f64x2Add, ...set(acc)];
  };
  const group = (rows: number): Code => [
    ...Array.from({ length: rows <= 4 ? 2 * rows : rows }, (_, k) => [...v128Zero, ...set(k < rows ? 10 + k : 14 + k - rows)]).flat(),
    ...at(0, 5, s.stride),
    ...set(6),
    ...get(3),
    ...set(7),
    ...loop(
      [...get(7), ...v128Load(0), ...set(18), ...get(7), ...v128Load(16), ...set(19)],
      ...[0, 1].flatMap((p) => Array.from({ length: rows }, (_, k) => term(rows, k, p))),
      bump(6, 4 * elt),
      [...get(7), ...i32(32), ...i32Add, ...tee(7), ...get(8), ...i32LtU, ...brIf(0)],
    ),
    ...at(4, 5, 8),
    ...set(9),
    ...Array.from({ length: rows }, (_, k) => [
      ...(rows <= 4 ? [...get(10 + k), ...get(14 + k), ...f64x2Add, ...set(10 + k)] : []),
      ...get(9),
      ...get(9),
      ...f64Load(8 * k),
      ...lanes(10 + k),
      ...f64Add,
      ...f64Store(8 * k),
    ]).flat(),
  ];
  return [...at(3, 2, 8), ...set(8), ...rowGroups(5, 1, group)];
}

/**
 * finish(acc, prev, n, inv, sums, next, step), n a positive multiple of 4: for j < n, y = acc[j] *
 * inv goes to next[j] and the step y - prev[j] to step[j]; sums[0] += sum step^2, sums[1] += sum
 * prev[j] * step[j]. Two pairs per loop step, each into its own sums (so that no sum waits on its
 * previous addition), added once per call.
 * Locals: 7 acc, 8 prev, 9 next, 10 step pointers, 11 end, 12 inv splat, 13..16 sums (step^2 and
 * prev . step, for pair 0 and 1), 17 y, 18 prev pair, 19 step pair.
 */
function finishBody(): Code {
  const pair = (p: number): Code => [
    ...[...get(9), ...get(7), ...v128Load(16 * p), ...get(12), ...f64x2Mul, ...tee(17), ...v128Store(16 * p)],
    ...[...get(10), ...get(17), ...get(8), ...v128Load(16 * p), ...tee(18), ...f64x2Sub, ...tee(19), ...v128Store(16 * p)],
    ...[...get(19), ...get(19), ...f64x2Mul, ...get(13 + 2 * p), ...f64x2Add, ...set(13 + 2 * p)],
    ...[...get(18), ...get(19), ...f64x2Mul, ...get(14 + 2 * p), ...f64x2Add, ...set(14 + 2 * p)],
  ];
  return [
    ...get(3),
    ...f64x2Splat,
    ...set(12),
    ...[13, 14, 15, 16].flatMap((l) => [...v128Zero, ...set(l)]),
    ...[0, 1, 5, 6].flatMap((param, i) => [...get(param), ...set(7 + i)]),
    ...at(0, 2, 8),
    ...set(11),
    ...loop(pair(0), pair(1), bump(8, 32), bump(9, 32), bump(10, 32), [
      ...get(7),
      ...i32(32),
      ...i32Add,
      ...tee(7),
      ...get(11),
      ...i32LtU,
      ...brIf(0),
    ]),
    ...[0, 1].flatMap((i) => [
      ...[...get(13 + i), ...get(15 + i), ...f64x2Add, ...set(13 + i)],
      ...[...get(4), ...get(4), ...f64Load(8 * i), ...lanes(13 + i), ...f64Add, ...f64Store(8 * i)],
    ]),
  ];
}

/**
 * divide(acc, n, divisor): acc[j] /= divisor for j < n (n even): a division, not a product with
 * the reciprocal, so that a weighted mean has the bits of `weightedSumPlain`. (In a JavaScript
 * loop that runs once per round this would run unoptimised and allocate a number per value.)
 * Locals: 3 pointer, 4 end, 5 divisor splat.
 */
function divideBody(): Code {
  return [
    ...get(2),
    ...f64x2Splat,
    ...set(5),
    ...get(0),
    ...set(3),
    ...at(0, 1, 8),
    ...set(4),
    ...loop(
      [...get(3), ...get(3), ...v128Load(), ...get(5), ...f64x2Div, ...v128Store()],
      [...get(3), ...i32(16), ...i32Add, ...tee(3), ...get(4), ...i32LtU, ...brIf(0)],
    ),
  ];
}

const KERNELS = ["wsum_f32", "wsum_f64", "dist_f32", "dist_f64", "dot_f32", "dot_f64", "finish", "divide"] as const;
type KernelName = (typeof KERNELS)[number];

/** The module for column blocks `width` wide: rows 4 * width (float32) or 8 * width (float64) bytes apart. */
function moduleBytes(width: number): Uint8Array<ArrayBuffer> {
  const fn = (locals: Code, body: Code): number[] => {
    const b = [...locals, ...body, 0x0b];
    return [...uleb(b.length), ...b];
  };
  const f32: Shape = { stride: 4 * width, f32: true };
  const f64: Shape = { stride: 8 * width, f32: false };
  const wsumLocals = vec([
    [...uleb(4), I32],
    [...uleb(8), V128],
  ]);
  const reduceLocals = vec([
    [...uleb(5), I32],
    [...uleb(11), V128],
  ]);
  const finishLocals = vec([
    [...uleb(5), I32],
    [...uleb(8), V128],
  ]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00], // 0: (i32 x5) -> ()
        [0x60, ...vec([[I32], [I32], [I32], [F64], [I32], [I32], [I32]]), 0x00], // 1: (i32, i32, i32, f64, i32 x3) -> ()
        [0x60, ...vec([[I32], [I32], [F64]]), 0x00], // 2: (i32, i32, f64) -> ()
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00], // 3: (i32 x6) -> ()
      ]),
    ),
    ...section(3, vec([[3], [3], [0], [0], [0], [0], [1], [2]])),
    ...section(5, vec([[0x00, ...uleb(1)]])), // one memory, 1 page to start
    ...section(7, vec([[...name("memory"), 0x02, 0], ...KERNELS.map((k, i) => [...name(k), 0x00, i])])),
    ...section(
      10,
      vec([
        fn(wsumLocals, wsumBody(f32)),
        fn(wsumLocals, wsumBody(f64)),
        fn(reduceLocals, reduceBody(f32, "dist")),
        fn(reduceLocals, reduceBody(f64, "dist")),
        fn(reduceLocals, reduceBody(f32, "dot")),
        fn(reduceLocals, reduceBody(f64, "dot")),
        fn(finishLocals, finishBody()),
        fn(
          vec([
            [...uleb(2), I32],
            [...uleb(1), V128],
          ]),
          divideBody(),
        ),
      ]),
    ),
  ]);
}

type Kernel = (x: number, k: number, n: number, p: number, q: number) => void;
type Wsum = (x: number, k: number, n: number, w: number, acc: number, fresh: 0 | 1) => void;

interface Instance {
  readonly width: number;
  readonly memory: WebAssembly.Memory;
  readonly kernels: Record<Exclude<KernelName, "finish" | "divide" | "wsum_f32" | "wsum_f64">, Kernel> &
    Record<"wsum_f32" | "wsum_f64", Wsum>;
  readonly finish: (acc: number, prev: number, n: number, inv: number, sums: number, next: number, step: number) => void;
  readonly divide: (acc: number, n: number, divisor: number) => void;
}

const instances = new Map<number, Instance | null>();

/** The compiled kernels for blocks `width` wide, or null where WebAssembly SIMD is unavailable. */
function simdInstance(width: number): Instance | null {
  const known = instances.get(width);
  if (known !== undefined) return known;
  let inst: Instance | null = null;
  try {
    const bytes = moduleBytes(width);
    if (typeof WebAssembly === "object" && WebAssembly.validate(bytes)) {
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as Record<string, unknown>;
      inst = {
        width,
        memory: exports.memory as WebAssembly.Memory,
        kernels: Object.fromEntries(KERNELS.slice(0, 6).map((k) => [k, exports[k]])) as Instance["kernels"],
        finish: exports.finish as Instance["finish"],
        divide: exports.divide as Instance["divide"],
      };
    }
  } catch {
    inst = null;
  }
  instances.set(width, inst);
  return inst;
}

/** True when the kernels run; DSAIN_NO_SIMD=1 forces the plain loops (for comparisons). */
export function simdEnabled(): boolean {
  return !process.env.DSAIN_NO_SIMD && simdInstance(WIDTHS[0]) !== null;
}

/** Rows all float32 ("f32"), all float64 ("f64"), or mixed (null: the plain loops handle them). */
function rowType(updates: readonly Vec[], rows: readonly number[]): "f32" | "f64" | null {
  const f32 = updates[rows[0]] instanceof Float32Array;
  for (const r of rows)
    if (updates[r] instanceof Float32Array !== f32 || !(updates[r] instanceof Float32Array || updates[r] instanceof Float64Array))
      return null;
  return f32 ? "f32" : "f64";
}

const align16 = (bytes: number): number => (bytes + 15) & ~15;

/**
 * The module's memory laid out for m rows of d columns: the row block (m rows `stride` bytes
 * apart), then per-row arrays (weights, extra weights, results), per-column arrays of one block
 * (accumulator, step, extra accumulator, zeros), four sums, and `tail` bytes for the caller. The
 * block is the widest that keeps all rows within BLOCK_BYTES and an eighth of the input (narrower
 * for small d). Memory grows to the largest round seen and stays (WebAssembly memory does not
 * shrink).
 */
class Workspace {
  readonly inst: Instance;
  readonly width: number;
  readonly stride: number;
  readonly w: number;
  readonly wx: number;
  readonly out: number;
  readonly acc: number;
  readonly step: number;
  readonly accx: number;
  readonly zero: number;
  readonly sums: number;
  readonly tail: number;
  f32: Float32Array;
  f64: Float64Array;
  readonly wsum: Wsum;
  readonly dist: Kernel;
  readonly dot: Kernel;

  private constructor(
    inst: Instance,
    readonly m: number,
    readonly type: "f32" | "f64",
    tailBytes: number,
  ) {
    this.inst = inst;
    this.width = inst.width;
    const elt = type === "f32" ? 4 : 8;
    this.stride = this.width * elt;
    this.w = m * this.stride;
    this.wx = this.w + align16(m * 8);
    this.out = this.wx + align16(m * 8);
    this.acc = this.out + align16(m * 8);
    this.step = this.acc + this.width * 8;
    this.accx = this.step + this.width * 8;
    this.zero = this.accx + this.width * 8;
    this.sums = this.zero + this.width * 8;
    this.tail = this.sums + 32;
    const end = this.tail + tailBytes;
    const have = inst.memory.buffer.byteLength;
    if (end > have) inst.memory.grow(Math.ceil((end - have) / 65536));
    this.f32 = new Float32Array(inst.memory.buffer);
    this.f64 = new Float64Array(inst.memory.buffer);
    this.f64.fill(0, this.zero / 8, this.zero / 8 + this.width);
    this.wsum = type === "f32" ? inst.kernels.wsum_f32 : inst.kernels.wsum_f64;
    this.dist = type === "f32" ? inst.kernels.dist_f32 : inst.kernels.dist_f64;
    this.dot = type === "f32" ? inst.kernels.dot_f32 : inst.kernels.dot_f64;
  }

  /** A workspace for m rows of d columns of `type` (plus `tailBytes`), or null when the kernels cannot run. */
  static open(m: number, d: number, type: "f32" | "f64", tailBytes = 0): Workspace | null {
    if (process.env.DSAIN_NO_SIMD) return null;
    const elt = type === "f32" ? 4 : 8;
    // At most BLOCK_BYTES, and at most an eighth of the input (at least 256 KiB): a small round's
    // working memory stays small next to its input.
    const limit = Math.min(BLOCK_BYTES, Math.max(256 * 1024, (m * d * elt) / 8));
    let i = WIDTHS.findIndex((wd) => m * wd * elt <= limit);
    if (i < 0) i = WIDTHS.length - 1;
    while (i + 1 < WIDTHS.length && WIDTHS[i + 1] >= d) i++;
    const inst = simdInstance(WIDTHS[i]);
    if (!inst) return null;
    try {
      return new Workspace(inst, m, type, tailBytes);
    } catch {
      return null; // the memory cannot grow that far (4 GiB at most): the plain loops take over
    }
  }

  /** Renews the views if the memory has grown since (another workspace of the same module). */
  views(): Float64Array {
    if (this.f64.buffer !== this.inst.memory.buffer) {
      this.f32 = new Float32Array(this.inst.memory.buffer);
      this.f64 = new Float64Array(this.inst.memory.buffer);
    }
    return this.f64;
  }

  /** Copies columns [c0, c1) of the listed rows into the block, zero-padded to `n` columns. */
  load(updates: readonly Vec[], rows: readonly number[], c0: number, c1: number, n: number): void {
    const view = this.type === "f32" ? this.f32 : this.f64;
    for (let r = 0; r < rows.length; r++) {
      const base = r * this.width;
      view.set(updates[rows[r]].subarray(c0, c1), base);
      if (n > c1 - c0) view.fill(0, base + (c1 - c0), base + n);
    }
  }

  /** Byte address of row r of the block. */
  row(r: number): number {
    return r * this.stride;
  }
}

/** [start, end) runs of consecutive rows r with mask[r] === value. */
function runs(mask: Uint8Array, value: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 0; r < mask.length;) {
    if (mask[r] !== value) {
      r++;
      continue;
    }
    const start = r;
    while (r < mask.length && mask[r] === value) r++;
    out.push([start, r]);
  }
  return out;
}

/**
 * The SIMD twin of weiszfeld-pass.ts's plain engine (same results: iterates and extra weighted sums
 * to the bit, the per-row results and the sums within the rounding bound). Both the current and the
 * candidate iterate live in the module's memory after the workspace, where the kernels read and
 * write them, and `accept` swaps the two: a pass reads the current iterate once and writes the
 * candidate once, and nothing is copied between passes. `current` copies the iterate out. The
 * module's memory is reused from round to round, so a round allocates (and the system zeroes) only
 * the median it returns.
 */
export class SimdWeiszfeld implements WeiszfeldEngine {
  private started = false;
  private readonly all: number[];
  private readonly d: number;

  private constructor(
    private readonly ws: Workspace,
    private readonly updates: readonly Vec[],
    /** Byte address of the current iterate, padded with zeros to a multiple of 4 values. */
    private y: number,
    /** Byte address of the candidate iterate, likewise. */
    private candidate: number,
  ) {
    this.d = updates[0].length;
    this.all = updates.map((_, i) => i);
  }

  /** The engine for these updates, or null when the kernels cannot run (no SIMD, mixed row types, no memory). */
  static open(updates: readonly Vec[]): SimdWeiszfeld | null {
    const d = updates[0].length;
    const type = rowType(
      updates,
      updates.map((_, i) => i),
    );
    const padded = (d + 3) & ~3;
    const ws = type && d > 0 ? Workspace.open(updates.length, d, type, 16 * padded) : null;
    if (!ws) return null;
    const first = ws.tail;
    const second = ws.tail + 8 * padded;
    ws.f64.fill(0, first / 8 + d, first / 8 + padded);
    ws.f64.fill(0, second / 8 + d, second / 8 + padded);
    return new SimdWeiszfeld(ws, updates, second, first);
  }

  pass(w: Float64Array, total: number, direct: Uint8Array, out: Float64Array, extra?: ExtraSum): PassSums {
    const { ws, updates, d } = this;
    const n = updates.length;
    const f64 = ws.views();
    f64.set(w, ws.w / 8);
    f64.fill(0, ws.out / 8, ws.out / 8 + n);
    f64.fill(0, ws.sums / 8, ws.sums / 8 + 4);
    const directRuns = runs(direct, 1);
    const dotRuns = runs(direct, 0);
    if (dotRuns.length > 0 && !this.started) {
      throw new DsainError(
        ErrorCode.INPUT_INVALID,
        "SimdWeiszfeld: rows in the update form need a previous iterate; the first pass is direct",
      );
    }
    const extraMask = new Uint8Array(n);
    if (extra) {
      for (const r of extra.rows) {
        extraMask[r] = 1;
        f64[ws.wx / 8 + r] = extra.weights[r];
      }
    }
    const extraRuns = runs(extraMask, 1);
    const accx0 = ws.accx / 8;
    const inv = 1 / total;
    for (let c0 = 0; c0 < d; c0 += ws.width) {
      const c1 = Math.min(d, c0 + ws.width);
      const cols = (c1 - c0 + 3) & ~3;
      const next = this.candidate + 8 * c0;
      ws.load(updates, this.all, c0, c1, cols);
      ws.wsum(ws.row(0), n, cols, ws.w, ws.acc, 1);
      // The current iterate's columns (zero-padded past d), or the zero block on the first pass.
      const prev = this.started ? this.y + 8 * c0 : ws.zero;
      ws.inst.finish(ws.acc, prev, cols, inv, ws.sums, next, ws.step);
      for (const [a, b] of directRuns) ws.dist(ws.row(a), b - a, cols, next, ws.out + 8 * a);
      for (const [a, b] of dotRuns) ws.dot(ws.row(a), b - a, cols, ws.step, ws.out + 8 * a);
      if (extra) {
        if (extraRuns.length === 0) f64.fill(0, accx0, accx0 + cols);
        extraRuns.forEach(([a, b], i) => ws.wsum(ws.row(a), b - a, cols, ws.wx + 8 * a, ws.accx, i === 0 ? 1 : 0));
        ws.inst.divide(ws.accx, cols, extra.divisor);
        extra.into.set(f64.subarray(accx0, accx0 + c1 - c0), c0);
      }
    }
    for (let i = 0; i < n; i++) out[i] = f64[ws.out / 8 + i];
    const s = ws.sums / 8;
    return { step2: f64[s], prevDotStep: f64[s + 1] };
  }

  accept(): void {
    [this.y, this.candidate] = [this.candidate, this.y];
    this.started = true;
  }

  candidateDistances(rows: readonly number[], out: Float64Array): void {
    const { ws, updates } = this;
    const m = rows.length;
    const d = this.d;
    if (m === 0) return;
    const f64 = ws.views();
    f64.fill(0, ws.out / 8, ws.out / 8 + m);
    for (let c0 = 0; c0 < d; c0 += ws.width) {
      const c1 = Math.min(d, c0 + ws.width);
      const cols = (c1 - c0 + 3) & ~3;
      ws.load(updates, rows, c0, c1, cols);
      ws.dist(ws.row(0), m, cols, this.candidate + 8 * c0, ws.out);
    }
    for (let r = 0; r < m; r++) out[rows[r]] = f64[ws.out / 8 + r];
  }

  /** A copy of the current iterate. */
  current(): Float64Array {
    const at = this.y / 8;
    return this.ws.views().slice(at, at + this.d);
  }
}

/**
 * The SIMD twin of common.ts's `weightedSum` over the listed rows: the same value to the bit, or
 * null when it cannot run.
 */
export function weightedSumSimd(
  updates: readonly Vec[],
  weights: ArrayLike<number>,
  divisor: number,
  rows: readonly number[],
): Float64Array | null {
  if (rows.length === 0) return null;
  const m = rows.length;
  const d = updates[rows[0]].length;
  const type = rowType(updates, rows);
  const ws = type && d > 0 ? Workspace.open(m, d, type) : null;
  if (!ws) return null;
  const f64 = ws.f64;
  for (let r = 0; r < m; r++) f64[ws.w / 8 + r] = weights[rows[r]];
  const acc0 = ws.acc / 8;
  const out = new Float64Array(d);
  for (let c0 = 0; c0 < d; c0 += ws.width) {
    const c1 = Math.min(d, c0 + ws.width);
    const cols = (c1 - c0 + 3) & ~3;
    ws.load(updates, rows, c0, c1, cols);
    ws.wsum(ws.row(0), m, cols, ws.w, ws.acc, 1);
    ws.inst.divide(ws.acc, cols, divisor);
    out.set(f64.subarray(acc0, acc0 + c1 - c0), c0);
  }
  return out;
}
