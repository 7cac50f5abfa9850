// Conformance schemas of the FedSov client step (../shared/vectors/dsain/topk-ef-vectors.json and
// fedsov-dp-vectors.json, from the DSAIN authors' code/dsain.py), recognised by content and run by
// the FedSov module's own case runner (aggregator/maths/fedsov/conformance.ts).
import { runFedsovVectorCase, type FedsovVectorSchema } from "../../maths/fedsov/conformance.js";
import { caseId, type CaseOutcome, type ConformanceSchema, type VectorsFile } from "./schema.js";

function runWith(schema: FedsovVectorSchema) {
  return (file: VectorsFile): CaseOutcome[] =>
    file.cases.map((c, i) => {
      const r = runFedsovVectorCase(schema, c);
      return r.ok ? { id: caseId(c, i), ok: true } : { id: caseId(c, i), ok: false, reason: r.message };
    });
}

/** GradientCompressor.compress: top-k with error feedback over consecutive rounds. */
export const topkEfSchema: ConformanceSchema = {
  name: "dsain/topk-ef",
  detect: (file: VectorsFile) =>
    file.cases.length > 0 && file.cases.every((c) => typeof c.compression_ratio === "number" && Array.isArray(c.rounds)),
  run: runWith("dsain/topk-ef"),
};

/** DifferentialPrivacy (noise scale, clipping) and LocalClient.local_update. */
export const fedsovDpSchema: ConformanceSchema = {
  name: "dsain/fedsov-dp",
  detect: (file: VectorsFile) =>
    file.cases.length > 0 && file.cases.every((c) => ["dp_noise_scale", "dp_clip", "local_update"].includes(c.kind as string)),
  run: runWith("dsain/fedsov-dp"),
};
