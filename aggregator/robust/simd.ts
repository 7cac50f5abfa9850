// WebAssembly SIMD kernels for the two inner loops every Weiszfeld iteration and weighted mean
// runs: the weighted row sum and the squared distances of the rows to a vector. Plain TypeScript
// loops reach about one value per nanosecond here, two to three times the time of one pass over
// memory (docs/benchmarks.md); two float64 lanes per instruction bring an iteration near the
// one-pass floor. The module is small enough to write by hand: the encoder below spells each
// instruction by name, and test/robust.test.ts checks every kernel against the plain loops.
//
// Results are the plain loops' to the bit for weighted sums (same operations in the same row
// order per coordinate: WebAssembly neither fuses multiply-add nor reorders), and within a few
// ulps for distances (two lanes accumulate alternate coordinates).
//
// WebAssembly cannot read JavaScript's ArrayBuffers, so each column block of the rows is copied
// into the module's memory (TypedArray.set, a memcpy into cache) before the kernels run on it: the
// input is still read from main memory once, and no copy of the whole input is ever made.
import type { Vec } from "./common.js";

/**
 * Bytes of rows per column block: the copied block stays in L2 (1 MiB per core here) while the
 * kernels sweep it twice. Wider blocks also mean fewer copies and kernel calls per pass.
 */
const BLOCK_BYTES = 512 * 1024;

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
const i32Eqz: Code = [0x45];
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
const v128Zero: Code = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const block = (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b];
const loop = (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b];
const brIf = (depth: number): Code => [0x0d, ...uleb(depth)];
const br = (depth: number): Code => [0x0c, ...uleb(depth)];

/** for (local = start; local < end; local += step) body. */
const forLoop = (local: number, start: Code, end: Code, step: number, ...body: Code[]): Code => [
  ...start,
  ...set(local),
  ...block(
    loop(
      [...get(local), ...end, ...i32LtU, ...i32Eqz, ...brIf(1)],
      ...body,
      [...get(local), ...i32(step), ...i32Add, ...set(local)],
      br(0),
    ),
  ),
];

/** Two lanes of row values at byte address `addr` + offset (2 floats of a float32 row, or 2 doubles). */
const loadPair = (f32: boolean, addr: Code, pair: number): Code =>
  f32 ? [...addr, ...v128Load64Zero(8 * pair), ...f64x2PromoteLowF32x4] : [...addr, ...v128Load(16 * pair)];

/**
 * wsum(x, K, B, w, acc): acc[j] += w[r] * x[r][j] for r = 0..K-1 in order, j < B (B a multiple of
 * 4); x holds K rows of B values (float32 or float64) back to back, w K doubles, acc B doubles.
 * Rows go four per sweep, each added to the lane in turn, so the order per coordinate is the
 * plain loop's.
 * Locals: 5 r, 6 j, 7 x row pointer (bytes), 8 acc pointer, 9..12 w0..w3 splats, 13 row bytes.
 */
function wsumBody(f32: boolean): Code {
  const elt = f32 ? 4 : 8;
  const xAt = (k: number): Code => [...get(7), ...get(13), ...i32(k), ...i32Mul, ...i32Add];
  const sweep = (rows: number): Code => {
    const splats = Array.from({ length: rows }, (_, k) => [
      ...get(3),
      ...get(5),
      ...i32(k),
      ...i32Add,
      ...i32(8),
      ...i32Mul,
      ...i32Add,
      ...f64Load(),
      ...f64x2Splat,
      ...set(9 + k),
    ]);
    // acc[j..j+4) in two pairs: a = acc; a += w_k * x_k for each row k; store.
    const pair = (p: number): Code => [
      ...get(8),
      ...get(8),
      ...v128Load(16 * p),
      ...Array.from({ length: rows }, (_, k) => [...get(9 + k), ...loadPair(f32, xAt(k), p), ...f64x2Mul, ...f64x2Add]).flat(),
      ...v128Store(16 * p),
    ];
    return [
      ...splats.flat(),
      ...forLoop(
        6,
        i32(0),
        get(2),
        4,
        [...get(4), ...get(6), ...i32(8), ...i32Mul, ...i32Add, ...set(8)],
        [
          ...get(0),
          ...get(5),
          ...get(2),
          ...i32Mul,
          ...i32(elt),
          ...i32Mul,
          ...i32Add,
          ...get(6),
          ...i32(elt),
          ...i32Mul,
          ...i32Add,
          ...set(7),
        ],
        pair(0),
        pair(1),
      ),
      ...get(5),
      ...i32(rows),
      ...i32Add,
      ...set(5),
    ];
  };
  return [
    ...get(2),
    ...i32(elt),
    ...i32Mul,
    ...set(13),
    ...i32(0),
    ...set(5),
    // while (r + 4 <= K) sweep four rows; then while (r < K) sweep one
    ...block(loop([...get(5), ...i32(4), ...i32Add, ...get(1), ...i32GtU, ...brIf(1)], sweep(4), br(0))),
    ...block(loop([...get(5), ...get(1), ...i32LtU, ...i32Eqz, ...brIf(1)], sweep(1), br(0))),
  ];
}

/**
 * dist(x, K, B, y, out): out[r] += sum_j (x[r][j] - y[j])^2 for every row, four rows per sweep
 * sharing each load of y. Locals: 5 r, 6 j, 7 x row pointer, 8 y pointer, 9..12 sums, 13 row
 * bytes, 14 y pair, 15 difference.
 */
function distBody(f32: boolean): Code {
  const elt = f32 ? 4 : 8;
  const xAt = (k: number): Code => [...get(7), ...get(13), ...i32(k), ...i32Mul, ...i32Add];
  const sweep = (rows: number): Code => {
    const pair = (p: number): Code => [
      ...get(8),
      ...v128Load(16 * p),
      ...set(14),
      ...Array.from({ length: rows }, (_, k) => [
        ...loadPair(f32, xAt(k), p),
        ...get(14),
        ...f64x2Sub,
        ...tee(15),
        ...get(15),
        ...f64x2Mul,
        ...get(9 + k),
        ...f64x2Add,
        ...set(9 + k),
      ]).flat(),
    ];
    const flush = Array.from({ length: rows }, (_, k) => [
      ...get(4),
      ...get(5),
      ...i32(k),
      ...i32Add,
      ...i32(8),
      ...i32Mul,
      ...i32Add,
      ...tee(8),
      ...get(8),
      ...f64Load(),
      ...get(9 + k),
      ...f64x2ExtractLane(0),
      ...get(9 + k),
      ...f64x2ExtractLane(1),
      ...f64Add,
      ...f64Add,
      ...f64Store(),
    ]).flat();
    return [
      ...Array.from({ length: rows }, (_, k) => [...v128Zero, ...set(9 + k)]).flat(),
      ...forLoop(
        6,
        i32(0),
        get(2),
        4,
        [...get(3), ...get(6), ...i32(8), ...i32Mul, ...i32Add, ...set(8)],
        [
          ...get(0),
          ...get(5),
          ...get(2),
          ...i32Mul,
          ...i32(elt),
          ...i32Mul,
          ...i32Add,
          ...get(6),
          ...i32(elt),
          ...i32Mul,
          ...i32Add,
          ...set(7),
        ],
        pair(0),
        pair(1),
      ),
      ...flush,
      ...get(5),
      ...i32(rows),
      ...i32Add,
      ...set(5),
    ];
  };
  return [
    ...get(2),
    ...i32(elt),
    ...i32Mul,
    ...set(13),
    ...i32(0),
    ...set(5),
    ...block(loop([...get(5), ...i32(4), ...i32Add, ...get(1), ...i32GtU, ...brIf(1)], sweep(4), br(0))),
    ...block(loop([...get(5), ...get(1), ...i32LtU, ...i32Eqz, ...brIf(1)], sweep(1), br(0))),
  ];
}

/**
 * finish(acc, prev, B, inv) -> step2: acc[j] *= inv for j < B (B even), returning
 * sum_j (acc[j] - prev[j])^2. Locals: 4 j, 5 acc pointer, 6 prev pointer, 7 inv splat, 8 sum,
 * 9 scaled pair, 10 difference.
 */
function finishBody(): Code {
  return [
    ...get(3),
    ...f64x2Splat,
    ...set(7),
    ...v128Zero,
    ...set(8),
    ...forLoop(
      4,
      i32(0),
      get(2),
      2,
      [...get(0), ...get(4), ...i32(8), ...i32Mul, ...i32Add, ...set(5)],
      [...get(1), ...get(4), ...i32(8), ...i32Mul, ...i32Add, ...set(6)],
      [...get(5), ...get(5), ...v128Load(), ...get(7), ...f64x2Mul, ...tee(9), ...v128Store()],
      [...get(9), ...get(6), ...v128Load(), ...f64x2Sub, ...tee(10), ...get(10), ...f64x2Mul, ...get(8), ...f64x2Add, ...set(8)],
    ),
    ...get(8),
    ...f64x2ExtractLane(0),
    ...get(8),
    ...f64x2ExtractLane(1),
    ...f64Add,
  ];
}

const KERNELS = ["wsum_f32", "wsum_f64", "dist_f32", "dist_f64", "finish"] as const;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fn = (locals: Code, body: Code): number[] => {
    const b = [...locals, ...body, 0x0b];
    return [...uleb(b.length), ...b];
  };
  const wsumLocals = vec([
    [...uleb(4), I32],
    [...uleb(4), V128],
    [...uleb(1), I32],
  ]);
  const distLocals = vec([
    [...uleb(4), I32],
    [...uleb(4), V128],
    [...uleb(1), I32],
    [...uleb(2), V128],
  ]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00], // 0: (i32 x5) -> ()
        [0x60, ...vec([[I32], [I32], [I32], [F64]]), ...vec([[F64]])], // 1: (i32, i32, i32, f64) -> f64
      ]),
    ),
    ...section(3, vec([[0], [0], [0], [0], [1]])),
    ...section(5, vec([[0x00, ...uleb(1)]])), // one memory, 1 page to start
    ...section(7, vec([[...name("memory"), 0x02, 0], ...KERNELS.map((k, i) => [...name(k), 0x00, i])])),
    ...section(
      10,
      vec([
        fn(wsumLocals, wsumBody(true)),
        fn(wsumLocals, wsumBody(false)),
        fn(distLocals, distBody(true)),
        fn(distLocals, distBody(false)),
        fn(
          vec([
            [...uleb(3), I32],
            [...uleb(4), V128],
          ]),
          finishBody(),
        ),
      ]),
    ),
  ]);
}

type Kernel = (x: number, k: number, b: number, p: number, q: number) => void;

interface Instance {
  readonly memory: WebAssembly.Memory;
  readonly kernels: Record<Exclude<(typeof KERNELS)[number], "finish">, Kernel>;
  readonly finish: (acc: number, prev: number, b: number, inv: number) => number;
}

let instance: Instance | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable (the plain loops are used then). */
function simdInstance(): Instance | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const bytes = moduleBytes();
    if (typeof WebAssembly === "object" && WebAssembly.validate(bytes)) {
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as Record<string, unknown>;
      instance = {
        memory: exports.memory as WebAssembly.Memory,
        kernels: Object.fromEntries(KERNELS.map((k) => [k, exports[k] as Kernel])) as Instance["kernels"],
        finish: exports.finish as Instance["finish"],
      };
    }
  } catch {
    instance = null;
  }
  return instance;
}

/** True when the kernels run; DSAIN_NO_SIMD=1 forces the plain loops (for comparisons). */
export function simdEnabled(): boolean {
  return !process.env.DSAIN_NO_SIMD && simdInstance() !== null;
}

/** Rows all float32 ("f32"), all float64 ("f64"), or mixed (null: the plain loops handle them). */
function rowType(updates: readonly Vec[], rows: readonly number[]): "f32" | "f64" | null {
  const first = updates[rows[0]];
  const f32 = first instanceof Float32Array;
  for (const r of rows)
    if (updates[r] instanceof Float32Array !== f32 || !(updates[r] instanceof Float32Array || updates[r] instanceof Float64Array))
      return null;
  return f32 ? "f32" : "f64";
}

/**
 * The module's memory laid out for m rows: x block, w, acc (a block of doubles), dist, prev (a
 * block): about 512 KiB plus 16 bytes per row. It grows to the largest round seen and stays
 * (WebAssembly memory does not shrink).
 */
class Workspace {
  readonly x: number;
  readonly w: number;
  readonly acc: number;
  readonly dist: number;
  readonly prev: number;
  readonly f32: Float32Array;
  readonly f64: Float64Array;

  /** Columns per block: a multiple of 4 (the kernels take four columns per step). */
  readonly block: number;

  constructor(
    readonly inst: Instance,
    readonly m: number,
    type: "f32" | "f64",
  ) {
    this.block = Math.min(8192, Math.max(64, Math.floor(BLOCK_BYTES / (m * (type === "f32" ? 4 : 8)) / 4) * 4));
    this.x = 0;
    this.w = m * this.block * 8;
    this.acc = this.w + m * 8;
    this.dist = this.acc + this.block * 8;
    this.prev = this.dist + m * 8;
    const end = this.prev + this.block * 8;
    const have = inst.memory.buffer.byteLength;
    if (end > have) inst.memory.grow(Math.ceil((end - have) / 65536));
    this.f32 = new Float32Array(inst.memory.buffer);
    this.f64 = new Float64Array(inst.memory.buffer);
  }

  /** Copies columns [c0, c1) of the listed rows into the x block, rows `stride` values apart, zero-padded. */
  load(updates: readonly Vec[], rows: readonly number[], type: "f32" | "f64", c0: number, c1: number, stride: number): void {
    const view = type === "f32" ? this.f32 : this.f64;
    const base = this.x / (type === "f32" ? 4 : 8);
    for (let r = 0; r < rows.length; r++) {
      const at = base + r * stride;
      view.set(updates[rows[r]].subarray(c0, c1), at);
      if (stride > c1 - c0) view.fill(0, at + (c1 - c0), at + stride);
    }
  }
}

/**
 * The SIMD twin of byzfed.ts's `weiszfeldPass` (same arguments, same results: `next` to the bit,
 * distances and the step within a few ulps). Returns null when it cannot run (no SIMD, or rows of
 * mixed types), so the caller falls back to the plain loops.
 */
export function weiszfeldPassSimd(
  updates: readonly Vec[],
  w: Float64Array,
  total: number,
  next: Float64Array,
  dist2: Float64Array,
  prev?: Float64Array,
): number | null {
  const inst = simdEnabled() ? simdInstance() : null;
  if (!inst) return null;
  const n = updates.length;
  const rows = Array.from({ length: n }, (_, i) => i);
  const type = rowType(updates, rows);
  if (!type) return null;
  const ws = new Workspace(inst, n, type);
  const wsum = type === "f32" ? inst.kernels.wsum_f32 : inst.kernels.wsum_f64;
  const dist = type === "f32" ? inst.kernels.dist_f32 : inst.kernels.dist_f64;
  const f64 = ws.f64;
  f64.set(w, ws.w / 8);
  f64.fill(0, ws.dist / 8, ws.dist / 8 + n);
  const acc0 = ws.acc / 8;
  const prev0 = ws.prev / 8;
  const inv = 1 / total;
  const d = next.length;
  let step2 = 0;
  for (let c0 = 0; c0 < d; c0 += ws.block) {
    const c1 = Math.min(d, c0 + ws.block);
    const width = c1 - c0;
    const stride = (width + 3) & ~3;
    ws.load(updates, rows, type, c0, c1, stride);
    f64.fill(0, acc0, acc0 + stride);
    wsum(ws.x, n, stride, ws.w, ws.acc);
    // The previous iterate's block beside it (zeros past the end, or when there is none).
    if (prev) f64.set(prev.subarray(c0, c1), prev0);
    if (!prev || stride > width) f64.fill(0, prev ? prev0 + width : prev0, prev0 + stride);
    const s = inst.finish(ws.acc, ws.prev, stride, inv);
    if (prev) step2 += s;
    next.set(f64.subarray(acc0, acc0 + width), c0);
    dist(ws.x, n, stride, ws.acc, ws.dist);
  }
  for (let i = 0; i < n; i++) dist2[i] = f64[ws.dist / 8 + i];
  return step2;
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
  const inst = simdEnabled() ? simdInstance() : null;
  if (!inst || rows.length === 0) return null;
  const type = rowType(updates, rows);
  if (!type) return null;
  const m = rows.length;
  const ws = new Workspace(inst, m, type);
  const wsum = type === "f32" ? inst.kernels.wsum_f32 : inst.kernels.wsum_f64;
  const f64 = ws.f64;
  for (let r = 0; r < m; r++) f64[ws.w / 8 + r] = weights[rows[r]];
  const acc0 = ws.acc / 8;
  const d = updates[rows[0]].length;
  const out = new Float64Array(d);
  for (let c0 = 0; c0 < d; c0 += ws.block) {
    const c1 = Math.min(d, c0 + ws.block);
    const stride = (c1 - c0 + 3) & ~3;
    ws.load(updates, rows, type, c0, c1, stride);
    f64.fill(0, acc0, acc0 + stride);
    wsum(ws.x, m, stride, ws.w, ws.acc);
    for (let j = c0; j < c1; j++) out[j] = f64[acc0 + j - c0] / divisor;
  }
  return out;
}
