// `npm run lint`'s cycle check: no import cycle between files, type-only imports included (ESLint's
// import-x/no-cycle skips those), dynamic imports included. Exits 1 and lists each cycle found.
import path from "node:path";
import { parseCircular, parseDependencyTree } from "dpdm";
import { PROJECT_ROOT } from "../aggregator/paths.js";

/** The folders whose TypeScript sources are checked (relative to the repository root). */
export const CYCLE_ROOTS = ["aggregator", "scripts", "test", "ignition"] as const;

/** Every import cycle among the `.ts` files under `roots` (paths relative to `cwd`). */
export async function findImportCycles(roots: readonly string[], cwd: string = PROJECT_ROOT): Promise<string[][]> {
  const tree = await parseDependencyTree(
    roots.map((r) => `${r}/**/*.ts`),
    { cwd, context: cwd, transform: false, skipDynamicImports: false, tsconfig: path.join(PROJECT_ROOT, "tsconfig.json") },
  );
  return parseCircular(tree, false);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const cycles = await findImportCycles(process.argv.length > 2 ? process.argv.slice(2) : CYCLE_ROOTS);
  if (cycles.length > 0) {
    for (const c of cycles) console.error(`import cycle: ${[...c, c[0]].join(" -> ")}`);
    process.exit(1);
  }
}
