// What a conformance schema is: how to recognise a vectors file, how to name its cases, and how to
// run them. A schema without `run` is known but has no implementation yet: its cases fail with
// `pending` as the reason, they are never skipped.

/** A reference vectors file: `meta` (source, description) and `cases`. */
export interface VectorsFile {
  readonly meta?: Record<string, unknown>;
  readonly cases: readonly Record<string, any>[];
}

export interface CaseOutcome {
  /** The case id, with the output key where one case holds several checks. */
  readonly id: string;
  readonly ok: boolean;
  /** Why it failed. */
  readonly reason?: string;
}

export interface ConformanceSchema {
  /** Name shown in reports, after the vectors' folder and file: "dsain/byzfed". */
  readonly name: string;
  /** True when the file has this schema. */
  detect(file: VectorsFile): boolean;
  /** Runs every check of the file; absent while no implementation is registered. */
  readonly run?: (file: VectorsFile) => CaseOutcome[];
  /** Why the cases fail while `run` is absent: which code is missing and where it will live. */
  readonly pending?: string;
}

/** The id of case `i`: its `id` field, else its position. */
export function caseId(c: Record<string, any>, i: number): string {
  return typeof c.id === "string" ? c.id : `case #${i}`;
}

/** Runs one check, turning a throw into a failure with its message. */
export function attempt(id: string, check: () => string | null): CaseOutcome {
  try {
    const reason = check();
    return reason === null ? { id, ok: true } : { id, ok: false, reason };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { id, ok: false, reason: `threw ${err.name}: ${err.message}` };
  }
}
