// The layers of docs/architecture.md are enforced by `npm run lint`: ESLint's import boundaries
// refuse an arrow pointing the wrong way, and scripts/lint-cycles.ts refuses any import cycle.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ESLint } from "eslint";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { CYCLE_ROOTS, findImportCycles } from "../../scripts/lint-cycles.js";

/** Lints `code` as if it were the file at `file` (relative to the repository root). */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: PROJECT_ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(PROJECT_ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "import-x/no-restricted-paths").map((m) => m.message);
}

describe("architecture: layer boundaries and cycles", function () {
  this.timeout(120_000);

  describe("import boundaries (ESLint)", function () {
    const refused: [string, string, string][] = [
      ["protocol importing an adapter", "aggregator/protocol/fixture.ts", "../adapters/chain/ledger.js"],
      ["protocol importing the maths", "aggregator/protocol/fixture.ts", "../maths/robust/byzfed.js"],
      ["the maths importing an adapter", "aggregator/maths/robust/fixture.ts", "../../adapters/storage/checkpoint-store.js"],
      ["an adapter importing another adapter", "aggregator/adapters/proof/fixture.ts", "../chain/ledger.js"],
      ["an adapter importing a role", "aggregator/adapters/chain/fixture.ts", "../../roles/auditor/audit.js"],
      ["the lab importing an adapter", "aggregator/lab/sim/fixture.ts", "../../adapters/proof/keys.js"],
      ["a role importing the demo", "aggregator/roles/auditor/fixture.ts", "../../demo/demo.js"],
      ["a layer importing the CLI", "aggregator/maths/fixture.ts", "../../scripts/commands/args.js"],
      ["the auditor importing the aggregator's steps", "aggregator/roles/auditor/fixture.ts", "../aggregator.js"],
      ["a role importing a daemon", "aggregator/roles/fixture.ts", "../nodes/config.js"],
      ["a daemon importing the demo", "aggregator/nodes/fixture.ts", "../demo/demo.js"],
      ["a daemon importing the CLI", "aggregator/nodes/fixture.ts", "../../scripts/commands/args.js"],
    ];
    for (const [what, file, spec] of refused) {
      it(`should refuse ${what}`, async function () {
        const errors = await boundaryErrors(file, `import * as x from "${spec}";\nexport const y = x;\n`);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.match(/may import only|may not import the other roles/);
      });
    }

    const allowed: [string, string, string][] = [
      ["the maths importing the protocol", "aggregator/maths/robust/fixture.ts", "../../protocol/index.js"],
      ["an adapter importing the protocol", "aggregator/adapters/chain/fixture.ts", "../../protocol/evidence.js"],
      ["a role importing an adapter", "aggregator/roles/auditor/fixture.ts", "../../adapters/chain/ledger.js"],
      ["any layer importing the base errors", "aggregator/protocol/fixture.ts", "../errors.js"],
      ["the demo importing a role", "aggregator/demo/fixture.ts", "../roles/auditor/run.js"],
      ["the committee member importing the auditor's checks", "aggregator/roles/fixture.ts", "./auditor/audit.js"],
      ["a daemon importing a role", "aggregator/nodes/fixture.ts", "../roles/committee.js"],
      ["a daemon importing the lab's data loaders", "aggregator/nodes/fixture.ts", "../lab/data/idx.js"],
      ["the demo importing a daemon", "aggregator/demo/fixture.ts", "../nodes/config.js"],
    ];
    for (const [what, file, spec] of allowed) {
      it(`should allow ${what}`, async function () {
        expect(await boundaryErrors(file, `import * as x from "${spec}";\nexport const y = x;\n`)).to.deep.equal([]);
      });
    }
  });

  describe("import cycles (scripts/lint-cycles.ts)", function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "dsain-cycles-"));
      await writeFile(path.join(dir, "a.ts"), 'import type { B } from "./b.js";\nexport interface A { b?: B }\n');
      await writeFile(path.join(dir, "b.ts"), 'import type { A } from "./a.js";\nexport interface B { a?: A }\n');
      await writeFile(path.join(dir, "c.ts"), 'import type { A } from "./a.js";\nexport type C = A;\n');
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("should find a cycle made of type-only imports", async function () {
      const cycles = await findImportCycles(["."], dir);
      expect(cycles).to.have.length(1);
      expect([...cycles[0]].sort()).to.deep.equal(["a.ts", "b.ts"]);
    });

    it("should find none in the project's sources", async function () {
      expect(await findImportCycles(CYCLE_ROOTS)).to.deep.equal([]);
    });
  });
});
