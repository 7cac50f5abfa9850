// `dsain conformance`: runs the implementation against a reference vectors file of any schema of
// ../shared/vectors. The file's schema is recognised from its content through a small registry;
// cases of a schema that is known but not implemented, or of no known schema, fail with the reason.
import { readFile } from "node:fs/promises";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { byzfedSchema } from "./byzfed.js";
import { fedsovDpSchema, topkEfSchema } from "./fedsov.js";
import { robustSchema } from "./robust.js";
import { caseId, type CaseOutcome, type ConformanceSchema, type VectorsFile } from "./schema.js";

export type { CaseOutcome, ConformanceSchema, VectorsFile } from "./schema.js";

const registry: ConformanceSchema[] = [byzfedSchema, robustSchema, topkEfSchema, fedsovDpSchema];

/** Adds a schema, or replaces the one of the same name (an implementation plugged in later). */
export function registerSchema(schema: ConformanceSchema): void {
  const at = registry.findIndex((s) => s.name === schema.name);
  if (at >= 0) registry[at] = schema;
  else registry.push(schema);
}

export function registeredSchemas(): readonly ConformanceSchema[] {
  return [...registry];
}

export interface ConformanceReport {
  /** The schema recognised, or null. */
  readonly schema: string | null;
  readonly outcomes: CaseOutcome[];
  readonly passed: number;
  readonly failed: number;
}

/** Runs every case of a parsed vectors file. */
export function runConformance(file: VectorsFile): ConformanceReport {
  const matches = registry.filter((s) => s.detect(file));
  let outcomes: CaseOutcome[];
  let schema: string | null = null;
  if (matches.length !== 1) {
    const reason =
      matches.length === 0
        ? `no known schema matches this file (known: ${registry.map((s) => s.name).join(", ")})`
        : `the file matches several schemas (${matches.map((s) => s.name).join(", ")})`;
    outcomes = file.cases.map((c, i) => ({ id: caseId(c, i), ok: false, reason }));
  } else {
    const s = matches[0];
    schema = s.name;
    if (s.run) {
      try {
        outcomes = s.run(file);
      } catch (e) {
        const reason = `the ${s.name} runner failed: ${ensureError(e).message}`;
        outcomes = file.cases.map((c, i) => ({ id: caseId(c, i), ok: false, reason }));
      }
    } else {
      const reason = `${s.name}: ${s.pending ?? "no implementation registered for this schema"}`;
      outcomes = file.cases.map((c, i) => ({ id: caseId(c, i), ok: false, reason }));
    }
  }
  const passed = outcomes.filter((o) => o.ok).length;
  return { schema, outcomes, passed, failed: outcomes.length - passed };
}

/** Reads and checks the file's outer shape (an object with a `cases` array). */
export async function readVectorsFile(file: string): Promise<VectorsFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `cannot read vectors file ${file}: ${ensureError(e).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DsainError(ErrorCode.DATA_MALFORMED, `${file} is not JSON: ${ensureError(e).message}`, { cause: e });
  }
  const cases = (doc as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(cases) || !cases.every((c) => typeof c === "object" && c !== null && !Array.isArray(c))) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${file} has no "cases" array of objects; it is not a vectors file of ../shared/vectors`,
    );
  }
  return doc as VectorsFile;
}

/** The report as printed: one line per failed case, then exactly `N passed, N failed`. */
export function formatReport(report: ConformanceReport, verbose = false): string[] {
  const lines: string[] = [];
  for (const o of report.outcomes) {
    if (!o.ok) lines.push(`FAIL ${o.id}: ${o.reason}`);
    else if (verbose) lines.push(`ok   ${o.id}`);
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines;
}
