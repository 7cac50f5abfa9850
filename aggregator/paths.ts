// Where the repository lies on disk: the one place that knows this file's depth in the tree.
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is aggregator/paths.ts). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
