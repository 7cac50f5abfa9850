// Loads TensorFlow.js once per process, on the fastest backend this machine can run.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type * as tfjs from "@tensorflow/tfjs";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { registerWasmKernels } from "./wasm-kernels.js";

export type Tf = typeof tfjs;

/** "auto" tries tfjs-node (native), then wasm, then the pure-JS cpu backend. */
export type TfBackendChoice = "wasm" | "cpu" | "auto";

export interface TfRuntime {
  readonly tf: Tf;
  /** The active tfjs backend: "tensorflow" (tfjs-node), "wasm" or "cpu". */
  readonly backend: string;
}

const CHOICES: readonly TfBackendChoice[] = ["wasm", "cpu", "auto"];

let active: TfRuntime | undefined;
// Calls are serialised so that concurrent callers never race tf.setBackend.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Loads tfjs and activates a backend; later calls return the same runtime unless they name a
 * different backend explicitly, which then becomes the active one.
 */
export function initTf(options: { backend?: TfBackendChoice } = {}): Promise<TfRuntime> {
  const choice = options.backend ?? "auto";
  if (!CHOICES.includes(choice)) {
    return Promise.reject(new DsainError(ErrorCode.CONFIG_INVALID, `backend is ${String(choice)}; choose one of ${CHOICES.join(", ")}`));
  }
  const next = queue.then(() => select(choice));
  queue = next.catch(() => undefined);
  return next;
}

async function select(choice: TfBackendChoice): Promise<TfRuntime> {
  if (active !== undefined && (choice === "auto" || choice === active.backend)) return active;
  if (active === undefined && choice === "auto") {
    const native = await tryTfjsNode();
    if (native !== undefined) return (active = native);
  }
  const tf = active?.tf ?? ((await import("@tensorflow/tfjs")) as Tf);
  if (choice !== "cpu") {
    try {
      return (active = await activateWasm(tf));
    } catch (e) {
      if (choice === "wasm") {
        throw new DsainError(
          ErrorCode.ENVIRONMENT,
          `the wasm backend could not start (${ensureError(e).message}); use backend "cpu" or "auto"`,
          {
            cause: e,
          },
        );
      }
    }
  }
  if (!(await tf.setBackend("cpu"))) throw new DsainError(ErrorCode.ENVIRONMENT, "the tfjs cpu backend could not start");
  await tf.ready();
  // The cpu backend prints a "use tfjs-node" banner on its first tensor; that advice cannot be
  // followed on machines where tfjs-node does not install, so the flag it checks is pre-cleared.
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (backend.firstUse === true) backend.firstUse = false;
  return (active = { tf, backend: "cpu" });
}

/** tfjs-node is an optional accelerator: its install downloads libtensorflow, so it is often absent. */
async function tryTfjsNode(): Promise<TfRuntime | undefined> {
  // Its native library logs CPU-feature notices to stderr unless told otherwise.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  // A non-literal specifier keeps TypeScript from requiring the package's types.
  const specifier = "@tensorflow/tfjs-node";
  try {
    const tf = (await import(specifier)) as Tf;
    if (!(await tf.setBackend("tensorflow"))) return undefined;
    await tf.ready();
    return { tf, backend: "tensorflow" };
  } catch {
    return undefined;
  }
}

let wasmPathsSet = false;

async function activateWasm(tf: Tf): Promise<TfRuntime> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (!wasmPathsSet) {
    // In Node the backend cannot find its .wasm files by itself (it would fetch them relative to
    // a page URL); they ship beside the package's main script, and a path prefix is read from disk.
    const dir = path.dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + path.sep;
    if (!existsSync(path.join(dir, "tfjs-backend-wasm.wasm"))) throw new Error(`no tfjs-backend-wasm.wasm in ${dir}`);
    wasm.setWasmPaths(dir);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
  await tf.ready();
  // The missing Conv2DBackpropFilter (without it CNNs cannot train on wasm) and fast paths for slow built-ins.
  registerWasmKernels(tf);
  return { tf, backend: "wasm" };
}
