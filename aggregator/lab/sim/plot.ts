// A small SVG line chart (accuracy against round, one line per method with a ±1 std band), written
// by hand so the plots need no dependency and come out byte-identical for identical results.

export interface Series {
  readonly name: string;
  /** y values at x = 1, 2, ... (x = 0 is prepended when `start` is given). */
  readonly mean: readonly number[];
  /** Standard deviations aligned with `mean`; a shaded band of ±1 std when given. */
  readonly std?: readonly number[];
  /** The value at x = 0 (the initial model). */
  readonly start?: number;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** y axis range; default [0, 100]. */
  readonly yDomain?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
}

/** Colour-blind-safe palette (Okabe & Ito, 2008). */
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#999999"];

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

/** "Nice" tick step for a range: 1, 2 or 5 times a power of ten, about `target` ticks. */
function tickStep(span: number, target: number): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

export function lineChartSvg(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 400;
  // Room for the legend: about 7 px per character at 12 px sans-serif, after a 44 px swatch.
  const longest = Math.max(0, ...o.series.map((s) => s.name.length));
  const margin = { left: 56, right: Math.max(120, 60 + 7 * longest), top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const [y0, y1] = o.yDomain ?? [0, 100];
  const xMax = Math.max(1, ...o.series.map((s) => s.mean.length));
  const xMin = o.series.some((s) => s.start !== undefined) ? 0 : 1;
  const sx = (x: number) => margin.left + ((x - xMin) / Math.max(1, xMax - xMin)) * plotW;
  const clampY = (y: number) => Math.min(y1, Math.max(y0, y));
  const sy = (y: number) => margin.top + plotH - ((clampY(y) - y0) / (y1 - y0)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="22" text-anchor="middle" font-size="14">${escape(o.title)}</text>`);
  // Grid and ticks.
  const yStep = tickStep(y1 - y0, 5);
  for (let y = Math.ceil(y0 / yStep) * yStep; y <= y1 + 1e-9; y += yStep) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(sy(y))}" y2="${fmt(sy(y))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${margin.left - 6}" y="${fmt(sy(y) + 4)}" text-anchor="end">${fmt(y)}</text>`);
  }
  const xStep = Math.max(1, tickStep(xMax - xMin, 8));
  for (let x = xMin; x <= xMax; x += xStep) {
    out.push(`<line x1="${fmt(sx(x))}" x2="${fmt(sx(x))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#333333"/>`);
    out.push(`<text x="${fmt(sx(x))}" y="${margin.top + plotH + 18}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="${height - 10}" text-anchor="middle">${escape(o.xLabel)}</text>`);
  out.push(
    `<text x="16" y="${fmt(margin.top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 16 ${fmt(margin.top + plotH / 2)})">${escape(o.yLabel)}</text>`,
  );
  // Bands first, so every line stays visible above them.
  o.series.forEach((s, k) => {
    if (!s.std) return;
    const colour = COLOURS[k % COLOURS.length];
    const upper = s.mean.map((m, i) => `${fmt(sx(i + 1))},${fmt(sy(m + (s.std?.[i] ?? 0)))}`);
    const lower = s.mean.map((m, i) => `${fmt(sx(i + 1))},${fmt(sy(m - (s.std?.[i] ?? 0)))}`).reverse();
    if (s.start !== undefined) {
      upper.unshift(`${fmt(sx(0))},${fmt(sy(s.start))}`);
      lower.push(`${fmt(sx(0))},${fmt(sy(s.start))}`);
    }
    out.push(`<polygon points="${[...upper, ...lower].join(" ")}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
  });
  o.series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const points = s.mean.map((m, i) => `${fmt(sx(i + 1))},${fmt(sy(m))}`);
    if (s.start !== undefined) points.unshift(`${fmt(sx(0))},${fmt(sy(s.start))}`);
    out.push(`<polyline points="${points.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const ly = margin.top + 10 + k * 20;
    const lx = margin.left + plotW + 14;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
