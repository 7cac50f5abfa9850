// ESLint flat config: typescript-eslint's recommended rules over all TypeScript and JavaScript
// sources, and the layers of docs/architecture.md as import boundaries (an arrow pointing the wrong
// way or an import cycle fails `npm run lint`).
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * The layers of aggregator/, bottom up, and what each may import besides the base modules
 * (aggregator/errors.ts, aggregator/paths.ts, aggregator/types/) and packages. Everything not
 * listed (scripts/ — the CLI —, test/, ignition/) may import any layer; no layer may import
 * scripts/ or test/. Written once here; docs/architecture.md draws the same picture.
 */
export const LAYERS = {
  protocol: { dir: "aggregator/protocol", may: [] },
  maths: { dir: "aggregator/maths", may: ["protocol"] },
  chain: { dir: "aggregator/adapters/chain", may: ["protocol"] },
  storage: { dir: "aggregator/adapters/storage", may: ["protocol"] },
  proof: { dir: "aggregator/adapters/proof", may: ["protocol"] },
  roles: { dir: "aggregator/roles", may: ["protocol", "maths", "chain", "storage", "proof"] },
  lab: { dir: "aggregator/lab", may: ["protocol", "maths"] },
  nodes: { dir: "aggregator/nodes", may: ["protocol", "maths", "chain", "storage", "proof", "roles", "lab"] },
  demo: { dir: "aggregator/demo", may: ["protocol", "maths", "chain", "storage", "proof", "roles", "lab", "nodes"] },
};

const OUTSIDE = ["scripts", "test", "bin"];

/** One no-restricted-paths zone per layer: every other layer it may not import, and the CLI. */
function layerZones() {
  return Object.entries(LAYERS).map(([name, layer]) => {
    const forbidden = Object.entries(LAYERS)
      .filter(([other]) => other !== name && !layer.may.includes(other))
      .map(([, o]) => `./${o.dir}`);
    const allowed = layer.may.length === 0 ? "nothing of ours but the base modules" : layer.may.join(", ");
    return {
      target: `./${layer.dir}`,
      from: [...forbidden, ...OUTSIDE.map((d) => `./${d}`)],
      message: `the ${name} layer may import only ${allowed} (docs/architecture.md).`,
    };
  });
}

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "types/", ".cache/", ".dsain/", "ignition/deployments/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: {
      // Chain and snarkjs objects are typed by plugins at run time; `any` is confined to adapters.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["aggregator/**/*.ts", "scripts/**/*.ts", "test/**/*.ts", "ignition/**/*.ts", "bin/**/*.js"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })] },
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            ...layerZones(),
            // The auditor shares the maths and the checks, never the aggregator's or a node's paths;
            // the committee member imports the auditor's checks, not the other way round.
            {
              target: "./aggregator/roles/auditor",
              from: "./aggregator/roles",
              except: ["./auditor"],
              message: "the auditor may not import the other roles (docs/architecture.md).",
            },
          ],
        },
      ],
      // Value imports; type-only cycles are caught by the same rule's sibling in scripts/lint-cycles.ts.
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
);
