// Reads the shared protocol vectors of test/vectors/ (written by scripts/gen-vectors.ts).
import { readFileSync } from "node:fs";
import path from "node:path";

export const VECTORS_DIR = path.resolve(import.meta.dirname, "..", "vectors");

export function readVector<T = Record<string, any>>(name: string): T {
  return JSON.parse(readFileSync(path.join(VECTORS_DIR, name), "utf8")) as T;
}

export const toInt32 = (values: string[]): Int32Array => Int32Array.from(values, Number);
