// `dsain conformance` as a user runs it (a separate process): every reference vectors file passes,
// a tampered case fails by name, and cases of an unknown or unimplemented schema fail with a reason.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { registerSchema, registeredSchemas, runConformance, formatReport } from "../../aggregator/lab/conformance/index.js";

const run = promisify(execFile);
const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");
const DSAIN = path.join(PROJECT_ROOT, "bin", "dsain.js");
const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "vectors");
const SHARED = path.resolve(PROJECT_ROOT, "..", "shared", "vectors");
const FILES = [
  "dsain/byzfed-vectors.json",
  "dsain/topk-ef-vectors.json",
  "dsain/fedsov-dp-vectors.json",
  "robust/robust-aggregation-vectors.json",
];

async function conformance(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DSAIN, "conformance", file], { cwd: PROJECT_ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const lastLine = (s: string) => s.trimEnd().split("\n").at(-1);

/** Checks per file: one per case, and one per output of a case in the robust file. */
function expectedChecks(file: string): number {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  return file.includes("robust-aggregation")
    ? doc.cases.reduce((s: number, c: { outputs: object }) => s + Object.keys(c.outputs).length, 0)
    : doc.cases.length;
}

describe("dsain conformance", function () {
  let dir: string;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-conformance-"));
  });

  after(async function () {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("should have a fixture copy of every shared vectors file", function () {
    for (const f of FILES) expect(existsSync(path.join(FIXTURES, f)), f).to.equal(true);
  });

  // The fixtures always; ../shared/vectors too on machines that have it (the fixtures are its copies).
  const roots = [FIXTURES, ...(existsSync(SHARED) ? [SHARED] : [])];
  for (const root of roots) {
    for (const f of FILES) {
      const file = path.join(root, f);
      it(`should pass every case of ${path.relative(PROJECT_ROOT, file)}`, async function () {
        const out = await conformance(file);
        expect(out.code, out.stdout + out.stderr).to.equal(0);
        expect(out.stdout).not.to.contain("FAIL");
        expect(lastLine(out.stdout)).to.equal(`${expectedChecks(file)} passed, 0 failed`);
      });
    }
  }

  if (existsSync(SHARED)) {
    it("should keep the fixtures byte-identical to ../shared/vectors", function () {
      for (const f of FILES) expect(readFileSync(path.join(FIXTURES, f)).equals(readFileSync(path.join(SHARED, f))), f).to.equal(true);
    });
  }

  it("should fail a tampered ByzFed case by name and field, and exit 1", async function () {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, "dsain/byzfed-vectors.json"), "utf8"));
    const c = doc.cases.find((x: { id: string }) => x.id === "byzfed-multiround-same-clients");
    c.rounds[3].outputs.aggregate[0] += 1e-6;
    const file = path.join(dir, "tampered-byzfed.json");
    await writeFile(file, JSON.stringify(doc));
    const out = await conformance(file);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.match(/^FAIL byzfed-multiround-same-clients: round 3: aggregate\[0\]/m);
    expect(out.stdout.split("\n").filter((l) => l.startsWith("FAIL"))).to.have.length(1);
    expect(lastLine(out.stdout)).to.equal(`${doc.cases.length - 1} passed, 1 failed`);
  });

  it("should fail a tampered Krum choice in the robust file", async function () {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, "robust/robust-aggregation-vectors.json"), "utf8"));
    doc.cases = doc.cases.slice(0, 1);
    doc.cases[0].outputs["byzfl.Krum"].selected_index += 1;
    const file = path.join(dir, "tampered-robust.json");
    await writeFile(file, JSON.stringify(doc));
    const out = await conformance(file);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.contain("FAIL case00 byzfl.Krum: selected_index");
  });

  it("should fail every case of a file no schema recognises, with the reason", async function () {
    const file = path.join(dir, "unknown.json");
    await writeFile(
      file,
      JSON.stringify({
        meta: {},
        cases: [
          { id: "a", x: 1 },
          { id: "b", x: 2 },
        ],
      }),
    );
    const out = await conformance(file);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.match(/^FAIL a: no known schema matches this file/m);
    expect(out.stdout).to.match(/^FAIL b: no known schema matches this file/m);
    expect(lastLine(out.stdout)).to.equal("0 passed, 2 failed");
  });

  it("should fail a reference output of a method that is not implemented, naming it", async function () {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, "robust/robust-aggregation-vectors.json"), "utf8"));
    doc.cases = doc.cases.slice(0, 1);
    doc.cases[0].outputs = { "byzfl.CAF": { params: { f: 1 }, value: [0, 0, 0] } };
    const file = path.join(dir, "unimplemented.json");
    await writeFile(file, JSON.stringify(doc));
    const out = await conformance(file);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.contain('FAIL case00 byzfl.CAF: no implementation of "byzfl.CAF"');
    expect(lastLine(out.stdout)).to.equal("0 passed, 1 failed");
  });

  it("should refuse a file that is not a vectors file, naming it", async function () {
    const file = path.join(dir, "not-vectors.json");
    await writeFile(file, JSON.stringify({ hello: "world" }));
    const out = await conformance(file);
    expect(out.code).to.equal(1);
    expect(out.stderr).to.contain("DSAIN_DATA_MALFORMED");
    expect(out.stderr).to.contain('no "cases" array');
  });

  it("should report the cases of a known schema without an implementation as failed with its pending reason", function () {
    registerSchema({
      name: "test/pending",
      detect: (f) => f.cases.every((c) => c.pendingProbe === true),
      pending: "waiting for its module",
    });
    try {
      const report = runConformance({ cases: [{ id: "p1", pendingProbe: true }] });
      expect(report.schema).to.equal("test/pending");
      expect(formatReport(report)).to.deep.equal(["FAIL p1: test/pending: waiting for its module", "0 passed, 1 failed"]);
    } finally {
      registerSchema({ name: "test/pending", detect: () => false, pending: "unused" });
    }
    expect(registeredSchemas().map((s) => s.name)).to.include.members([
      "dsain/byzfed",
      "robust/robust-aggregation",
      "dsain/topk-ef",
      "dsain/fedsov-dp",
    ]);
  });
});
