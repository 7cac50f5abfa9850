// `dsain conformance <file.json>`: checks the implementation against a reference vectors file
// (any schema of ../shared/vectors), one line per failed case, then `N passed, N failed`.
import path from "node:path";
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("conformance")
    .description("run the implementation against a reference vectors file (schemas of ../shared/vectors); exits 1 if any case fails")
    .argument("<file>", "vectors file (JSON with meta and cases), e.g. ../shared/vectors/dsain/byzfed-vectors.json")
    .option("--verbose", "also list the cases that pass")
    .action(async (file: string, o: { verbose?: boolean }) => {
      const { formatReport, readVectorsFile, runConformance } = await import("../../aggregator/lab/conformance/index.js");
      const report = runConformance(await readVectorsFile(path.resolve(file)));
      console.log(`${file}: schema ${report.schema ?? "unknown"}, ${report.outcomes.length} checks`);
      for (const line of formatReport(report, o.verbose)) console.log(line);
      if (report.failed > 0) process.exitCode = 1;
    });
}
