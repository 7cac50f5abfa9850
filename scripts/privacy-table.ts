// Prints the tables of docs/privacy.md: Theorem 8 vs RDP, the per-round calibration, bytes per noise mode.
// Run: npx tsx scripts/privacy-table.ts   (test/unit/privacy.test.ts checks the doc holds this exact output)
import { pathToFileURL } from "node:url";
import { topKCount } from "../aggregator/maths/fedsov/topk.js";
import { gaussianMechanismDelta, gaussianNoiseScale } from "../aggregator/maths/privacy/gaussian.js";
import { epsilonSampledGaussian } from "../aggregator/maths/privacy/rdp.js";
import { advancedCompositionSubsampled, theorem8 } from "../aggregator/maths/privacy/theorem8.js";

const fmt = (x: number, digits = 4) => (x === Infinity ? "inf" : x >= 1e5 ? x.toExponential(2) : Number(x.toPrecision(digits)).toString());

export function compositionTable(): string {
  const delta = 1e-5;
  const deltaPrime = 1e-5;
  const rows = [
    "| per-round epsilon | z = sigma/C | q | T | Theorem 8 epsilon' | its total delta | adv. composition, proven amplification | RDP epsilon (order) at delta 1e-5 |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const epsilon of [4, 1]) {
    const z = gaussianNoiseScale(1, epsilon, delta);
    for (const q of [0.01, 0.1, 1]) {
      for (const rounds of [10, 100, 500]) {
        const t8 = theorem8({ epsilon, delta, q, rounds, deltaPrime });
        const adv = advancedCompositionSubsampled({ epsilon, delta, q, rounds, deltaPrime });
        const rdp = epsilonSampledGaussian({ q, sigma: z, steps: rounds, delta: deltaPrime });
        rows.push(
          `| ${epsilon} | ${fmt(z)} | ${q} | ${rounds} | ${fmt(t8.epsilon)} | ${t8.totalDelta.toExponential(1)} | ${fmt(adv.epsilon)} | ${fmt(rdp.epsilon)} (${rdp.order}) |`,
        );
      }
    }
  }
  return rows.join("\n");
}

export function calibrationTable(): string {
  const delta = 1e-5;
  const rows = [
    "| epsilon | z = sqrt(2 ln(1.25/delta))/epsilon | exact delta at that epsilon (Balle-Wang) | within delta = 1e-5? |",
    "|---|---|---|---|",
  ];
  for (const epsilon of [0.5, 1, 2, 4, 8, 16]) {
    const z = gaussianNoiseScale(1, epsilon, delta);
    const exact = gaussianMechanismDelta(epsilon, z);
    rows.push(`| ${epsilon} | ${fmt(z)} | ${exact.toExponential(2)} | ${exact <= delta ? "yes" : "no"} |`);
  }
  return rows.join("\n");
}

export function bytesTable(): string {
  const rows = [
    "| model (d) | ratio | k | dense / FedAvg bytes | dense noise | support / noise-then-topk | saving vs FedAvg |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const [name, d] of [
    ["MLP 8-16-4 (demo)", 8 * 16 + 16 + 16 * 4 + 4],
    ["MLP 784-200-200-10", 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10],
  ] as const) {
    for (const ratio of [0.1, 0.01]) {
      const k = topKCount(d, ratio);
      const dense = d * 4;
      const sparse = k * 8;
      rows.push(`| ${name} (${d}) | ${ratio} | ${k} | ${dense} | ${dense} | ${sparse} | ${fmt(100 * (1 - sparse / dense), 3)}% |`);
    }
  }
  return rows.join("\n");
}

export function privacyTables(): string {
  return [compositionTable(), calibrationTable(), bytesTable()].join("\n\n") + "\n";
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(privacyTables());
