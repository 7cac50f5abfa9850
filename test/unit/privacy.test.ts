// Specification of privacy accounting: RDP against Opacus's outputs, monotonicity, Theorem 8, budgets, the CLI.
import { expect } from "chai";
import fc from "fast-check";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import {
  DEFAULT_RDP_ORDERS,
  PrivacyLedger,
  RdpAccountant,
  advancedCompositionSubsampled,
  computeRdp,
  epsilonFromRdp,
  epsilonSampledGaussian,
  gaussianMechanismDelta,
  gaussianNoiseScale,
  rdpSampledGaussian,
  theorem8,
} from "../../aggregator/maths/privacy/index.js";
import { erfc, logErfc } from "../../aggregator/maths/privacy/special.js";
import { privacyTables } from "../../scripts/privacy-table.js";
import { expectClose } from "../helpers/close.js";
import { expectDsainError } from "../helpers/errors.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const REFERENCE = JSON.parse(readFileSync(path.join(ROOT, "test", "fixtures", "privacy", "opacus-rdp-reference.json"), "utf8"));

/** |a - b| <= rel |b|, with the order's failure message. */
function expectRel(a: number, b: number, rel: number, what: string): void {
  expect(
    Math.abs(a - b) <= rel * Math.abs(b),
    `${what}: ${a} vs Opacus ${b} (relative ${(Math.abs(a - b) / Math.abs(b)).toExponential(2)})`,
  ).to.equal(true);
}

describe("privacy: RDP against Opacus (test/fixtures/privacy/opacus-rdp-reference.json)", function () {
  it("should record where the reference outputs come from", function () {
    expect(REFERENCE.meta.source.repo).to.equal("https://github.com/pytorch/opacus");
    expect(REFERENCE.meta.source.commit).to.match(/^[0-9a-f]{40}$/);
    expect(REFERENCE.meta.command.join("\n")).to.include("opacus/accountants/analysis/rdp.py");
  });

  it("should use exactly Opacus's default orders", function () {
    expect([...DEFAULT_RDP_ORDERS]).to.deep.equal(REFERENCE.orders);
  });

  // Tolerance on single-step RDP: relative 1e-9, plus 1e-12 / (alpha - 1) absolute. Both codes
  // evaluate log A_alpha in binary64 as a sum of up to hundreds of terms, so log A_alpha carries an
  // absolute rounding error of order 1e-13 (measured: at most 1.4e-13 between the two over this
  // grid; each differs from a 60-digit mpmath evaluation by up to 7e-10 relative at q = 0.5,
  // sigma = 10, alpha = 1.1). RDP is log A / (alpha - 1), so where it is tiny (q = 1e-5: down to
  // 6e-13) the relative difference is meaningless and the absolute term takes over. Epsilons,
  // which add log(1/delta)/(alpha - 1) >> 1e-12, are held to relative 1e-9 alone.
  it("should give Opacus's single-step RDP at every default order over 63 (q, sigma) pairs", function () {
    let count = 0;
    for (const c of REFERENCE.rdp_cases) {
      const mine = computeRdp({ q: c.q, sigma: c.sigma, steps: 1 });
      c.rdp.forEach((b: number, i: number) => {
        const a = REFERENCE.orders[i];
        const ok = Math.abs(mine[i] - b) <= 1e-9 * Math.abs(b) + 1e-12 / (a - 1);
        expect(ok, `q=${c.q} sigma=${c.sigma} order=${a}: ${mine[i]} vs Opacus ${b}`).to.equal(true);
        count++;
      });
    }
    expect(count).to.equal(63 * 151);
  });

  it("should give Opacus's epsilon (relative 1e-9) and the same order for 630 (q, sigma, steps, delta)", function () {
    for (const c of REFERENCE.epsilon_cases) {
      const r = epsilonSampledGaussian({ q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta });
      const what = `q=${c.q} sigma=${c.sigma} steps=${c.steps} delta=${c.delta}`;
      expectRel(r.epsilon, c.epsilon, 1e-9, what);
      expect(r.order, what).to.equal(c.order);
      expect(r.atBoundary, what).to.equal(c.boundary_warning);
    }
    expect(REFERENCE.epsilon_cases.length).to.equal(630);
  });

  it("should compose mixed histories like Opacus's RDPAccountant", function () {
    for (const c of REFERENCE.history_cases) {
      const acc = new RdpAccountant();
      for (const h of c.history) acc.step(h);
      const r = acc.spent(c.delta);
      expectRel(r.epsilon, c.epsilon, 1e-9, JSON.stringify(c.history));
      expect(r.order).to.equal(c.order);
    }
  });

  it("should accept caller-chosen orders (integers up to 256)", function () {
    for (const c of REFERENCE.custom_order_cases) {
      const rdp = computeRdp({ q: c.q, sigma: c.sigma, steps: c.steps, orders: c.orders });
      rdp.forEach((v, i) => expectRel(v, c.rdp[i], 1e-9, `order ${c.orders[i]}`));
      const r = epsilonFromRdp(c.orders, rdp, c.delta);
      expectRel(r.epsilon, c.epsilon, 1e-9, `q=${c.q} sigma=${c.sigma}`);
      expect(r.order).to.equal(c.order);
    }
  });
});

describe("privacy: rdpSampledGaussian", function () {
  it("should be alpha / (2 sigma^2) without subsampling (q = 1) and 0 with q = 0", function () {
    expect(rdpSampledGaussian(1, 2, 8)).to.equal(1);
    expect(rdpSampledGaussian(1, 0.5, 1.5)).to.equal(3);
    expect(rdpSampledGaussian(0, 0.5, 10)).to.equal(0);
    expect(rdpSampledGaussian(0.3, 0, 10)).to.equal(Infinity);
  });

  it("should match the closed form at order 2: log(1 + q^2 (e^(1/sigma^2) - 1))", function () {
    for (const [q, s] of [
      [0.01, 1],
      [0.2, 0.7],
      [0.9, 3],
    ]) {
      expectRel(rdpSampledGaussian(q, s, 2), Math.log1p(q * q * Math.expm1(1 / (s * s))), 1e-13, `q=${q} sigma=${s}`);
    }
  });

  it("should grow with the order, the sampling rate and the steps, and shrink with sigma", function () {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 0.99, noNaN: true }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: DEFAULT_RDP_ORDERS.length - 2 }),
        (q, sigma, i) => {
          const [a, b] = [DEFAULT_RDP_ORDERS[i], DEFAULT_RDP_ORDERS[i + 1]];
          const r = rdpSampledGaussian(q, sigma, a);
          expect(r).to.be.at.least(0);
          expect(rdpSampledGaussian(q, sigma, b)).to.be.at.least(r * (1 - 1e-9));
          expect(rdpSampledGaussian(Math.min(1, q * 1.5), sigma, a)).to.be.at.least(r * (1 - 1e-9));
          expect(rdpSampledGaussian(q, sigma * 1.5, a)).to.be.at.most(r * (1 + 1e-9));
          // subsampling never hurts: at most the unsampled Gaussian's alpha / (2 sigma^2)
          expect(r).to.be.at.most((a / (2 * sigma * sigma)) * (1 + 1e-9));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("should refuse q outside [0, 1], negative sigma and orders <= 1", function () {
    expectDsainError(() => rdpSampledGaussian(1.2, 1, 2), ErrorCode.INPUT_INVALID, /sample rate q is 1.2/);
    expectDsainError(() => rdpSampledGaussian(0.1, -1, 2), ErrorCode.INPUT_INVALID, /noise multiplier sigma is -1/);
    expectDsainError(() => rdpSampledGaussian(0.1, 1, 1), ErrorCode.INPUT_INVALID, /order 0 is 1/);
    expectDsainError(() => computeRdp({ q: 0.1, sigma: 1, steps: 1.5 }), ErrorCode.INPUT_INVALID, /steps is 1.5/);
  });
});

describe("privacy: epsilon", function () {
  it("should grow with steps and q, and shrink with sigma and delta", function () {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 0.6, noNaN: true }),
        fc.double({ min: 0.6, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 1e-9, max: 1e-2, noNaN: true }),
        (q, sigma, steps, delta) => {
          const e = epsilonSampledGaussian({ q, sigma, steps, delta }).epsilon;
          const tol = 1e-9 * Math.abs(e);
          expect(epsilonSampledGaussian({ q, sigma, steps: steps + 7, delta }).epsilon).to.be.at.least(e - tol);
          expect(epsilonSampledGaussian({ q: q * 1.3, sigma, steps, delta }).epsilon).to.be.at.least(e - tol);
          expect(epsilonSampledGaussian({ q, sigma: sigma * 1.3, steps, delta }).epsilon).to.be.at.most(e + tol);
          expect(epsilonSampledGaussian({ q, sigma, steps, delta: delta * 0.1 }).epsilon).to.be.at.least(e - tol);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("should apply Balle et al.'s conversion at the best order and flag a boundary optimum", function () {
    const orders = [2, 4, 8];
    const rdp = [0.5, 1, 3];
    const conv = (a: number, r: number) => r - (Math.log(1e-5) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    const best = epsilonFromRdp(orders, rdp, 1e-5);
    expect(best.epsilon).to.equal(Math.min(...orders.map((a, i) => conv(a, rdp[i]))));
    expect(best.order).to.equal(4);
    expect(best.atBoundary).to.equal(false);
    expect(epsilonFromRdp(orders, [0.1, 10, 30], 1e-5)).to.include({ order: 2, atBoundary: true });
    expectDsainError(() => epsilonFromRdp(orders, [1, 2], 1e-5), ErrorCode.VECTOR_LENGTH_MISMATCH, /2 RDP values were given for 3 orders/);
    expectDsainError(() => epsilonFromRdp(orders, rdp, 0), ErrorCode.INPUT_INVALID, /delta is 0/);
  });
});

describe("privacy: special functions", function () {
  // scipy 1.17.1: log(2) + special.log_ndtr(-x * sqrt(2)) (the form Opacus uses) and special.erfc.
  it("should compute log erfc without underflow, to a few ulps of scipy", function () {
    for (const [x, want] of [
      [-5, 0.6931471805591766],
      [-0.3, 0.28414589714140825],
      [0.2, -0.25193223378261687],
      [1.5, -3.3844920895515536],
      [4.1, -18.82115418308266],
      [26, -679.8311997631946],
      [300, -90006.27615297309],
    ]) {
      expectRel(logErfc(x), want, 2e-15, `logErfc(${x})`);
    }
    expectRel(erfc(1.5), 0.033894853524689274, 2e-15, "erfc(1.5)");
    expect(erfc(40)).to.equal(0);
    expect(logErfc(Infinity)).to.equal(-Infinity);
  });
});

describe("privacy: the Gaussian mechanism's calibration", function () {
  // mpmath 1.3.0 at 50 digits: ncdf(1/(2z) - e z) - exp(e) ncdf(-1/(2z) - e z).
  it("should give Balle and Wang's exact delta", function () {
    for (const [e, want] of [
      [1, 4.1136919538185005e-8],
      [4, 6.84493795227088e-7],
      [16, 0.00033633264124591103],
    ]) {
      expectRel(gaussianMechanismDelta(e, gaussianNoiseScale(1, e, 1e-5)), want, 1e-9, `epsilon ${e}`);
    }
  });

  it("should show the classical calibration holding for epsilon <= 8 at delta 1e-5 and failing at 16", function () {
    for (const e of [0.5, 1, 2, 4, 8]) expect(gaussianMechanismDelta(e, gaussianNoiseScale(1, e, 1e-5))).to.be.below(1e-5);
    expect(gaussianMechanismDelta(16, gaussianNoiseScale(1, 16, 1e-5))).to.be.above(1e-5);
  });
});

describe("privacy: Theorem 8 of the DSAIN paper", function () {
  it("should evaluate epsilon' = sqrt(2T ln(1/delta')) q eps + T q eps (e^eps - 1) and the total delta", function () {
    const r = theorem8({ epsilon: 4, delta: 1e-5, q: 0.1, rounds: 100, deltaPrime: 1e-5 });
    expect(r.epsilon).to.equal(Math.sqrt(200 * Math.log(100000)) * 0.4 + 100 * 0.4 * Math.expm1(4));
    expectClose(r.totalDelta, 1e-5 + 100 * 0.1 * 1e-5, 1e-18);
  });

  it("should coincide with proven advanced composition at q = 1, which amplifies by ln(1 + q (e^eps - 1)) below", function () {
    const p = { epsilon: 1, delta: 1e-5, rounds: 50, deltaPrime: 1e-6 };
    expectClose(theorem8({ ...p, q: 1 }).epsilon, advancedCompositionSubsampled({ ...p, q: 1 }).epsilon, 1e-9);
    const e0 = Math.log1p(0.1 * Math.expm1(1));
    expect(e0).to.be.above(0.1); // the amplified loss exceeds the theorem's q * epsilon
    const proven = advancedCompositionSubsampled({ ...p, q: 0.1 });
    expectClose(proven.epsilon, Math.sqrt(100 * Math.log(1e6)) * e0 + 50 * e0 * Math.expm1(e0), 1e-12);
    expectClose(proven.totalDelta, 1e-6 + 50 * 0.1 * 1e-5, 1e-18);
  });

  it("should refuse invalid parameters by name", function () {
    expectDsainError(() => theorem8({ epsilon: 1, delta: 1e-5, q: 0, rounds: 1, deltaPrime: 1e-5 }), ErrorCode.INPUT_INVALID, /q is 0/);
    expectDsainError(
      () => theorem8({ epsilon: 1, delta: 1e-5, q: 0.1, rounds: 0, deltaPrime: 1e-5 }),
      ErrorCode.INPUT_INVALID,
      /rounds is 0/,
    );
    expectDsainError(() => theorem8({ epsilon: 1, delta: 1e-5, q: 0.1, rounds: 3, deltaPrime: 2 }), ErrorCode.INPUT_INVALID, /delta' is 2/);
  });
});

describe("privacy: RdpAccountant", function () {
  it("should merge consecutive equal steps like Opacus and compose by adding curves", function () {
    const acc = new RdpAccountant();
    for (let i = 0; i < 5; i++) acc.step({ q: 0.1, sigma: 1 });
    acc.step({ q: 0.2, sigma: 1, steps: 3 });
    acc.step({ q: 0.1, sigma: 1 });
    expect(acc.history).to.deep.equal([
      { q: 0.1, sigma: 1, steps: 5 },
      { q: 0.2, sigma: 1, steps: 3 },
      { q: 0.1, sigma: 1, steps: 1 },
    ]);
    const want = computeRdp({ q: 0.1, sigma: 1, steps: 6 });
    const b = computeRdp({ q: 0.2, sigma: 1, steps: 3 });
    acc.rdp().forEach((v, i) => expectClose(v, want[i] + b[i], 1e-12 * (want[i] + b[i])));
  });

  it("should report nothing spent before any step and preview without changing", function () {
    const acc = new RdpAccountant();
    expect(acc.spent(1e-5)).to.deep.include({ epsilon: 0 });
    const p = acc.preview({ q: 0.5, sigma: 1, steps: 10 }, 1e-5);
    expect(p.epsilon).to.equal(epsilonSampledGaussian({ q: 0.5, sigma: 1, steps: 10, delta: 1e-5 }).epsilon);
    expect(acc.history).to.deep.equal([]);
    expectDsainError(() => acc.step({ q: 0.1, sigma: 1, steps: 0 }), ErrorCode.INPUT_INVALID, /steps is 0/);
  });
});

describe("privacy: PrivacyLedger", function () {
  const budget = { epsilon: 2, delta: 1e-5 };
  const step = { q: 0.1, sigma: 1.2 };

  it("should charge until the next step would exceed the budget, then stop the participant", function () {
    const ledger = new PrivacyLedger({ budget });
    let charged = 0;
    let refusal: unknown;
    for (let i = 0; i < 1000 && refusal === undefined; i++) {
      try {
        const r = ledger.charge("alice", step);
        expect(r.epsilon).to.be.at.most(2);
        expect(r.remaining).to.equal(2 - r.epsilon);
        charged++;
      } catch (e) {
        refusal = e;
      }
    }
    expect(refusal).to.be.instanceOf(DsainError);
    expect((refusal as DsainError).code).to.equal(ErrorCode.PRIVACY_BUDGET_EXHAUSTED);
    expect((refusal as DsainError).message).to.match(
      /participant alice: 1 more step\(s\) at q=0.1, sigma=1.2 would bring epsilon .* over its budget of 2/,
    );
    // the refused step was not recorded: exactly `charged` steps were, and they fit
    expect(ledger.spent("alice").epsilon).to.equal(epsilonSampledGaussian({ ...step, steps: charged, delta: 1e-5 }).epsilon);
    expect(epsilonSampledGaussian({ ...step, steps: charged + 1, delta: 1e-5 }).epsilon).to.be.above(2);
    expect(ledger.isStopped("alice")).to.equal(true);
    expect(ledger.canCharge("alice", { q: 1e-6, sigma: 100 })).to.equal(false);
    expectDsainError(
      () => ledger.charge("alice", { q: 1e-6, sigma: 100 }),
      ErrorCode.PRIVACY_BUDGET_EXHAUSTED,
      /alice has exhausted its privacy budget/,
    );
    // others are not affected
    expect(ledger.charge("bob", step).epsilon).to.be.below(2);
  });

  it("should honour a participant's own budget and refuse bad budgets", function () {
    const ledger = new PrivacyLedger({ budget });
    ledger.setBudget("carol", { epsilon: 0.5, delta: 1e-6 });
    expect(ledger.budgetOf("carol")).to.deep.equal({ epsilon: 0.5, delta: 1e-6 });
    expect(ledger.canCharge("carol", { q: 1, sigma: 1 })).to.equal(false);
    expect(ledger.canCharge("dave", { q: 0.01, sigma: 1 })).to.equal(true);
    expectDsainError(() => ledger.setBudget("x", { epsilon: 0, delta: 1e-5 }), ErrorCode.INPUT_INVALID, /epsilon is 0/);
    expectDsainError(() => new PrivacyLedger({ budget: { epsilon: 1, delta: 1 } }), ErrorCode.INPUT_INVALID, /delta is 1/);
  });

  it("should survive a JSON round trip with histories, budgets and stops", function () {
    const ledger = new PrivacyLedger({ budget });
    ledger.setBudget("carol", { epsilon: 0.3, delta: 1e-5 });
    ledger.charge("alice", { q: 0.1, sigma: 2, steps: 10 });
    ledger.charge("alice", { q: 0.2, sigma: 2 });
    expect(() => ledger.charge("carol", { q: 1, sigma: 1 })).to.throw(DsainError);
    const restored = PrivacyLedger.fromJSON(JSON.parse(JSON.stringify(ledger)));
    expect(restored.toJSON()).to.deep.equal(ledger.toJSON());
    expect(restored.spent("alice")).to.deep.equal(ledger.spent("alice"));
    expect(restored.isStopped("carol")).to.equal(true);
    expectDsainError(() => PrivacyLedger.fromJSON({ version: 2 } as never), ErrorCode.DATA_MALFORMED, /version 1/);
  });
});

/** Markdown table rows with cells trimmed and separator cells reduced, so Prettier's column padding does not matter. */
function normalisedRows(markdown: string): string {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .split("|")
        .map((cell) => cell.trim().replace(/^-+$/, "-"))
        .join("|"),
    )
    .join("\n");
}

describe("privacy: docs/privacy.md", function () {
  it("should hold the tables scripts/privacy-table.ts prints now", function () {
    const doc = normalisedRows(readFileSync(path.join(ROOT, "docs", "privacy.md"), "utf8"));
    const tables = privacyTables().trimEnd().split("\n\n");
    expect(tables).to.have.length(3);
    for (const table of tables) {
      expect(doc.includes(normalisedRows(table)), `regenerate with \`npx tsx scripts/privacy-table.ts\`:\n${table}`).to.equal(true);
    }
  });
});

describe("privacy: dsain privacy epsilon (subprocess)", function () {
  const run = promisify(execFile);
  const DSAIN = path.join(ROOT, "bin", "dsain.js");

  async function dsain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [DSAIN, ...args], { cwd: ROOT, timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    }
  }

  const reference = REFERENCE.epsilon_cases.find((c: any) => c.q === 0.1 && c.sigma === 1 && c.steps === 1000 && c.delta === 1e-5);

  it("should print epsilon and its order", async function () {
    const r = await dsain(["privacy", "epsilon", "--q", "0.1", "--sigma", "1", "--steps", "1000", "--delta", "1e-5"]);
    expect(r.code, r.stderr).to.equal(0);
    const m = /^epsilon (\S+) at order (\S+) \(/.exec(r.stdout);
    expect(m, r.stdout).to.not.equal(null);
    expectRel(Number(m![1]), reference.epsilon, 1e-9, "CLI epsilon");
    expect(Number(m![2])).to.equal(reference.order);
  });

  it("should print one JSON object with --json", async function () {
    const r = await dsain(["privacy", "epsilon", "--q", "0.1", "--sigma", "1", "--steps", "1000", "--delta", "1e-5", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expectRel(out.epsilon, reference.epsilon, 1e-9, "CLI --json epsilon");
    expect(out).to.deep.include({
      order: reference.order,
      q: 0.1,
      sigma: 1,
      steps: 1000,
      delta: 1e-5,
      atBoundary: false,
      orders: "opacus-default",
    });
  });

  for (const [args, pattern] of [
    [
      ["--q", "1.5", "--sigma", "1", "--steps", "10", "--delta", "1e-5"],
      /--q is a sampling probability and must lie in \(0, 1\], got "1.5"/,
    ],
    [["--q", "0", "--sigma", "1", "--steps", "10", "--delta", "1e-5"], /--q .* got "0"/],
    [["--q", "0.1", "--sigma", "0", "--steps", "10", "--delta", "1e-5"], /--sigma must be a positive number, got "0"/],
    [["--q", "0.1", "--sigma", "1", "--steps", "2.5", "--delta", "1e-5"], /--steps must be a positive integer/],
    [["--q", "0.1", "--sigma", "1", "--steps", "10", "--delta", "1"], /--delta must lie strictly between 0 and 1, got "1"/],
    [["--q", "abc", "--sigma", "1", "--steps", "10", "--delta", "1e-5"], /--q must be a number, got "abc"/],
    [["--q", "0.1", "--sigma", "1", "--steps", "10"], /required option '--delta <d>' not specified/],
  ] as const) {
    it(`should refuse ${args.join(" ")} naming the option`, async function () {
      const r = await dsain(["privacy", "epsilon", ...args]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(pattern);
      expect(r.stdout).to.equal("");
    });
  }
});
