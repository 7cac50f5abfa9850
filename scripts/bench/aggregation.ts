// Aggregation benchmark (issue 4, "Speed"): times ByzFed, Krum, coordinate median and trimmed mean
// for K = 10, 50 updates of d = 100k, 1.6M float32 parameters, next to the one-pass floor (one
// plain pass summing the same input: memory bandwidth) and a vectorised numpy ByzFed
// (scripts/bench/byzfed_numpy.py, "plain", "tuned" and "dot") on the same bytes; prints the ratios
// (Weiszfeld iteration / floor, numpy / TS), ByzFed's reads of the input per round, and peak
// memory against the input size.
//
//   npx tsx scripts/bench/aggregation.ts            # the four sizes of the issue (about 5 minutes on 2 cores)
//   npx tsx scripts/bench/aggregation.ts --quick    # d = 10k, 100k
//   options: --repeats N (default 3), --numpy-threads N (OpenBLAS threads, default 1)
//
// Every measurement runs in its own child process, warmed up on a tiny input so that compiled code
// is not counted; its peak RSS is then reset (Linux clear_refs) and memory is reported as
// (peak RSS during one run - RSS before the input was loaded) / input bytes, input included: 1.0x
// would mean no working memory at all. Times are the best of --repeats further runs. The
// Weiszfeld child also times the floor, interleaved with its own runs (the machine's load can change
// between processes); the table shows both floors and divides by the smaller one.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import {
  byzFedRound,
  coordinateMedian,
  dsainWeiszfeld,
  krumSelect,
  trimmedMean,
  BYZFED_DEFAULTS,
  type Vec,
} from "../../aggregator/maths/robust/index.js";
import { simdEnabled } from "../../aggregator/maths/robust/simd.js";

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), "..", "..");
const TASKS = ["floor", "weiszfeld", "weiszfeld-plain", "byzfed", "krum", "median", "trimmed"] as const;
const NUMPY_VARIANTS = ["plain", "tuned", "dot"] as const;
const BYZFED_NUMPY = path.join(ROOT, "scripts", "bench", "byzfed_numpy.py");
type Task = (typeof TASKS)[number];

/** Byzantine clients in the generated data, and the f given to Krum and the trimmed mean. */
const byzantine = (k: number) => Math.floor(0.2 * k);

// ---------------------------------------------------------------------------------------------
// Data: a shared direction g plus per-client noise, both N(0, 1e-3^2) per coordinate (the size of
// a model update); the last 20% of clients send -5 * their update (boosted sign flip). float32.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillNormal(out: Float64Array | Float32Array, rand: () => number, sigma: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - rand();
    const v = rand();
    const r = sigma * Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
}

function generate(k: number, d: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const g = new Float64Array(d);
  fillNormal(g, rand, 1e-3);
  const data = new Float32Array(k * d);
  const noise = new Float64Array(d);
  for (let i = 0; i < k; i++) {
    fillNormal(noise, rand, 1e-3);
    const s = i >= k - byzantine(k) ? -5 : 1;
    for (let j = 0; j < d; j++) data[i * d + j] = s * (g[j] + noise[j]);
  }
  return data;
}

const rows = (buf: ArrayBufferLike, byteOffset: number, k: number, d: number): Float32Array[] =>
  Array.from({ length: k }, (_, i) => new Float32Array(buf, byteOffset + i * d * 4, d));

// ---------------------------------------------------------------------------------------------
// Child: one task on one input file.

/** The floor: one plain pass summing every value (four accumulators so the adds overlap). */
function sumAll(updates: readonly Vec[]): number {
  let total = 0;
  for (const u of updates) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n = u.length;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      s0 += u[j];
      s1 += u[j + 1];
      s2 += u[j + 2];
      s3 += u[j + 3];
    }
    for (; j < n; j++) s0 += u[j];
    total += s0 + s1 + s2 + s3;
  }
  return total;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Best-first run times; a collection before each run (untimed) so one run's garbage is not the next one's memory. */
function timeIt(fn: () => unknown, repeats: number, forget: () => void = () => {}): number[] {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    forget();
    gc();
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b);
}

function runTask(task: Task, u: Float32Array[], repeats: number, out?: string): Record<string, unknown> {
  const k = u.length;
  const f = byzantine(k);
  const ids = u.map((_, i) => String(i));
  switch (task) {
    case "floor":
      return { times: timeIt(() => sumAll(u), repeats) };
    case "weiszfeld":
    case "weiszfeld-plain": {
      // One pass for the mean alone, then ten forced iterations: the difference is ten iterations.
      // The floor is timed in the same process, each repeat right before the two runs, so that a
      // change in the machine's load between processes does not move the ratio.
      const opts = { ...BYZFED_DEFAULTS, tol: 0 };
      const best = { floor: Infinity, t0: Infinity, t10: Infinity };
      for (let r = 0; r < repeats; r++) {
        best.floor = Math.min(best.floor, timeIt(() => sumAll(u), 1)[0]);
        best.t0 = Math.min(best.t0, timeIt(() => dsainWeiszfeld(u, { ...opts, maxIter: 0 }), 1)[0]);
        best.t10 = Math.min(best.t10, timeIt(() => dsainWeiszfeld(u, { ...opts, maxIter: 10 }), 1)[0]);
      }
      return { times: [(best.t10 - best.t0) / 10], meanPass: best.t0, floor: best.floor };
    }
    case "byzfed": {
      let last: ReturnType<typeof byzFedRound> | undefined;
      // The previous run's result is dropped before the next one, so its arrays are not counted twice.
      const times = timeIt(
        () => (last = byzFedRound(u, ids, new Map())),
        repeats,
        () => (last = undefined),
      );
      return {
        times,
        iterations: last!.weiszfeld.updatesApplied,
        passes: last!.passes,
        kept: last!.kept,
        aggregate: out && last!.aggregate,
      };
    }
    case "krum":
      return { times: timeIt(() => krumSelect(u, f, "flower"), repeats) };
    case "median":
      return { times: timeIt(() => coordinateMedian(u), repeats) };
    case "trimmed":
      return { times: timeIt(() => trimmedMean(u, f), repeats) };
  }
}

/** A "kB" line of /proc/self/status, in bytes. */
function statusBytes(field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/self/status (the memory figures need Linux)`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function child(task: Task, file: string, k: number, d: number, repeats: number, out?: string): Promise<void> {
  // Warm-up on a tiny input so that compiled code and heap growth are not counted as working memory,
  // and enough runs that the optimising compiler has finished before the timed runs (with two, the
  // floor ran at 5 or 8 ms at K = 10, d = 1.6M depending on when its background compile landed).
  const tiny = generate(k, 4096, 7);
  runTask(task, rows(tiny.buffer, 0, k, 4096), 20);
  gc();
  // Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS, so the peak
  // read afterwards belongs to this measurement alone and not to start-up or the warm-up.
  await writeFile("/proc/self/clear_refs", "5");
  const base = statusBytes("VmRSS");
  const bytes = await readFile(file);
  const u = rows(bytes.buffer, bytes.byteOffset, k, d);
  // Memory from one run: between repeated runs V8 frees the previous run's arrays on a background
  // thread, so later peaks can include a run's garbage. Times from the repeats that follow.
  runTask(task, u, 1);
  const peak = statusBytes("VmHWM");
  const result = runTask(task, u, repeats, out);
  if (out && result.aggregate) await writeFile(out, new Uint8Array((result.aggregate as Float64Array).buffer));
  delete result.aggregate;
  console.log(JSON.stringify({ ...result, peakAboveBase: peak - base }));
}

// ---------------------------------------------------------------------------------------------
// Parent: data files, children, numpy, the table.

interface Row {
  k: number;
  d: number;
  inputBytes: number;
  results: Record<Task, Record<string, any>>;
  numpy: Record<string, Record<string, any>>;
  numpyThreads: string;
  agreement: string;
}

async function measure(k: number, d: number, repeats: number, numpyThreads: string, dir: string, log: (s: string) => void): Promise<Row> {
  const file = path.join(dir, `updates-${k}x${d}.f32`);
  await writeFile(file, new Uint8Array(generate(k, d, 1000 + k).buffer));
  const inputBytes = k * d * 4;
  const results = {} as Row["results"];
  const tsOut = path.join(dir, "ts-aggregate.f64");
  for (const task of TASKS) {
    const args = [
      "--expose-gc",
      "--import",
      "tsx",
      SELF,
      "--child",
      task,
      "--file",
      file,
      "--k",
      `${k}`,
      "--d",
      `${d}`,
      "--repeats",
      `${repeats}`,
    ];
    if (task === "byzfed") args.push("--out", tsOut);
    // "weiszfeld-plain": the same iteration with the WebAssembly SIMD kernels switched off.
    const env = task === "weiszfeld-plain" ? { ...process.env, DSAIN_NO_SIMD: "1" } : process.env;
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24, env });
    results[task] = JSON.parse(stdout.trim().split("\n").at(-1)!);
    log(`  K=${k} d=${d} ${task}: ${results[task].times[0].toFixed(4)} s`);
  }
  const numpy: Record<string, Record<string, any>> = {};
  const a = new Float64Array((await readFile(tsOut)).buffer.slice(0));
  const agreement: string[] = [];
  for (const variant of NUMPY_VARIANTS) {
    const npOut = path.join(dir, `np-${variant}.f64`);
    const py = await run(
      "python3",
      [BYZFED_NUMPY, "--file", file, "--k", `${k}`, "--d", `${d}`, "--variant", variant, "--repeats", `${repeats}`, "--out", npOut],
      // One BLAS thread by default, like the TypeScript side; on a shared 2-core machine a second
      // thread makes OpenBLAS erratic (--numpy-threads 2 to compare anyway).
      { maxBuffer: 1 << 24, env: { ...process.env, OPENBLAS_NUM_THREADS: numpyThreads, OMP_NUM_THREADS: numpyThreads } },
    );
    numpy[variant] = JSON.parse(py.stdout.trim().split("\n").at(-1)!);
    log(`  K=${k} d=${d} numpy ByzFed (${variant}): ${numpy[variant].best_s.toFixed(4)} s`);
    // Same inputs, same algorithm: the aggregates must agree within the vectors' tolerance.
    const b = new Float64Array((await readFile(npOut)).buffer.slice(0));
    let worst = 0;
    for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]) / (1e-12 + 1e-9 * Math.abs(b[j])));
    const sameKept = JSON.stringify(results.byzfed.kept) === JSON.stringify(numpy[variant].kept);
    agreement.push(
      `${variant}: ${worst <= 1 ? "agree" : "DISAGREE"} (worst ${worst.toPrecision(2)}x the tolerance; iterations ${results.byzfed.iterations}/${numpy[variant].iterations}; kept sets ${sameKept ? "equal" : "DIFFER"})`,
    );
  }
  await rm(file, { force: true });
  return { k, d, inputBytes, results, numpy, numpyThreads, agreement: agreement.join("; ") };
}

const ms = (s: number) => (s * 1000).toFixed(s < 0.1 ? 2 : 0);
const x = (r: number) => `${r.toFixed(2)}x`;

function report(rowsOut: Row[], command: string, loadBefore: string): string {
  const lines: string[] = [];
  lines.push(`command: ${command}`);
  lines.push(
    `load average before the run: ${loadBefore}; after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}`,
  );
  lines.push(
    `numpy: ${rowsOut[0]?.numpy.tuned.numpy ?? "?"}, OpenBLAS threads: ${rowsOut[0]?.numpyThreads ?? "?"}; TypeScript: one thread, WebAssembly SIMD ${simdEnabled() ? "on" : "off"}`,
  );
  lines.push(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  lines.push("");
  lines.push(
    "| K | d | input | floor (1 pass; beside the iterations) | Weiszfeld iteration | iter / floor | same, plain loops | ByzFed (iterations, passes) | numpy plain | plain / TS | numpy tuned | tuned / TS | numpy dot | dot / TS | Krum | median | trimmed mean |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rowsOut) {
    const t = (task: Task) => r.results[task].times[0] as number;
    // Against the smaller of the floor's own process and the floor timed beside the iterations.
    const ratio = (task: "weiszfeld" | "weiszfeld-plain") => x(t(task) / Math.min(t("floor"), r.results[task].floor as number));
    const np = (v: string) => `${ms(r.numpy[v].best_s)} ms | ${x(r.numpy[v].best_s / t("byzfed"))}`;
    lines.push(
      `| ${r.k} | ${r.d.toLocaleString("en")} | ${(r.inputBytes / 2 ** 20).toFixed(1)} MiB | ${ms(t("floor"))} ms (${ms(r.results.weiszfeld.floor)} ms) | ${ms(t("weiszfeld"))} ms | ${ratio("weiszfeld")} | ${ms(t("weiszfeld-plain"))} ms (${ratio("weiszfeld-plain")}) | ${ms(t("byzfed"))} ms (${r.results.byzfed.iterations}, ${(r.results.byzfed.passes as number).toFixed(1)}) | ${np("plain")} | ${np("tuned")} | ${np("dot")} | ${ms(t("krum"))} ms | ${ms(t("median"))} ms | ${ms(t("trimmed"))} ms |`,
    );
  }
  lines.push("");
  lines.push("Peak memory above the process before loading the input, as a multiple of the input size:");
  lines.push("");
  lines.push(
    "| K | d | floor | Weiszfeld | Weiszfeld, plain loops | ByzFed | Krum | median | trimmed mean | numpy plain | numpy tuned | numpy dot |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rowsOut) {
    const m = (v: number) => x(v / r.inputBytes);
    const cells = TASKS.map((task) => m(r.results[task].peakAboveBase)).join(" | ");
    const numpyCells = NUMPY_VARIANTS.map((v) => m(r.numpy[v].peak_above_base_bytes)).join(" | ");
    lines.push(`| ${r.k} | ${r.d.toLocaleString("en")} | ${cells} | ${numpyCells} |`);
  }
  lines.push("");
  for (const r of rowsOut) lines.push(`K=${r.k} d=${r.d}: TS and numpy ByzFed ${r.agreement}`);
  return lines.join("\n");
}

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    repeats: { type: "string" },
    "numpy-threads": { type: "string" },
    child: { type: "string" },
    file: { type: "string" },
    k: { type: "string" },
    d: { type: "string" },
    out: { type: "string" },
  },
});

if (values.child) {
  if (!TASKS.includes(values.child as Task)) throw new Error(`unknown task ${values.child}`);
  await child(values.child as Task, values.file!, Number(values.k), Number(values.d), Number(values.repeats ?? 3), values.out);
} else {
  const sizes = values.quick ? [10_000, 100_000] : [100_000, 1_600_000];
  const repeats = Number(values.repeats ?? 3);
  const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-bench-"));
  const started = Date.now();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  try {
    const out: Row[] = [];
    const threads = values["numpy-threads"] ?? "1";
    for (const d of sizes) for (const k of [10, 50]) out.push(await measure(k, d, repeats, threads, dir, (s) => console.error(s)));
    const command = `npx tsx scripts/bench/aggregation.ts${values.quick ? " --quick" : ""}${values.repeats ? ` --repeats ${values.repeats}` : ""}${values["numpy-threads"] ? ` --numpy-threads ${threads}` : ""}`;
    console.log(report(out, command, loadBefore));
    console.log(`\nwall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
