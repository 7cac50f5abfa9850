// Writes a grid's results beside each other: <name>.md (the table), <name>.json (every run's
// parameters and per-round figures) and the SVG plots, formatted with the project's Prettier
// settings when Prettier is installed, so that committed results pass `prettier --check`.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { PROJECT_ROOT } from "../../paths.js";
import type { RunResult } from "./engine.js";
import { type GridMeta, accuracyPlots, communicationMarkdown, resultsMarkdown, summarize } from "./report.js";

export type ResultsKind = "grid" | "table2" | "communication";

/** Prettier is a development dependency: formatting is skipped (text written as is) where it is absent. */
async function formatted(text: string, file: string): Promise<string> {
  let prettier: typeof import("prettier");
  try {
    prettier = await import("prettier");
  } catch {
    return text;
  }
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** A run as stored: the MNIST directory relative to the project, so the file does not name this machine. */
function portable(r: RunResult): RunResult {
  const dir = r.config.mnistDir;
  return { ...r, config: { ...r.config, mnistDir: path.isAbsolute(dir) ? path.relative(PROJECT_ROOT, dir) || "." : dir } };
}

export async function writeResults(
  outDir: string,
  name: string,
  results: readonly RunResult[],
  meta: GridMeta,
  kind: ResultsKind,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const put = async (file: string, text: string, format: boolean) => {
    const full = path.join(outDir, file);
    await writeFile(full, format ? await formatted(text, full) : text);
    written.push(full);
  };
  const title = kind === "table2" ? "Table 2 on MNIST: accuracy under Byzantine attacks" : "Simulation results";
  const markdown = kind === "communication" ? communicationMarkdown(results, meta) : resultsMarkdown(title, results, meta, kind);
  await put(`${name}.md`, markdown, true);
  const json = { generatedBy: "dsain simulate", kind, name, meta, summary: summarize(results), runs: results.map(portable) };
  await put(`${name}.json`, JSON.stringify(json, null, 2) + "\n", true);
  const plots = accuracyPlots(
    results,
    kind === "table2" ? "MNIST, 20% Byzantine" : kind === "communication" ? "Communication" : "Accuracy",
  );
  for (const [attack, svg] of plots) await put(kind === "communication" ? `${name}.svg` : `${name}-${attack}.svg`, svg, false);
  return written;
}

/** A results file written by writeResults, read back for `dsain simulate --render`. */
export interface StoredResults {
  readonly kind?: ResultsKind;
  readonly name?: string;
  readonly meta: GridMeta;
  readonly runs: RunResult[];
}

export function parseStoredResults(text: string, file: string): StoredResults {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DsainError(ErrorCode.DATA_MALFORMED, `${file} is not JSON (${ensureError(e).message})`, { cause: e });
  }
  const o = json as Partial<StoredResults> & { generatedBy?: unknown };
  if (
    o === null ||
    typeof o !== "object" ||
    o.generatedBy !== "dsain simulate" ||
    !Array.isArray(o.runs) ||
    o.runs.length === 0 ||
    !o.meta
  ) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${file} is not a results file of \`dsain simulate\` (it needs generatedBy, meta and runs)`,
    );
  }
  return o as StoredResults;
}
