// LEAF JSON (users / num_samples / user_data {x, y}): numeric-feature datasets such as FEMNIST and Synthetic, one client per user.
//
// S. Caldas, S. M. K. Duddu, P. Wu, T. Li, J. Konečný, H. B. McMahan, V. Smith, A. Talwalkar,
// "LEAF: A Benchmark for Federated Settings", arXiv:1812.01097, 2018 (github.com/TalwarLab/leaf).
// Each JSON file holds `users` (ids), `num_samples` (per user, same order), `user_data`
// ({id: {x: rows, y: labels}}) and optionally `hierarchies`. A dataset split over several files
// (all_data_0.json, ...) is read by passing them all; a user may appear in only one of them.
import { readFileSync } from "node:fs";
import type { Dataset } from "../../maths/learning/data.js";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";
import { malformed } from "./files.js";

export interface LeafData {
  /** Every user's samples pooled, user after user in `users` order. */
  dataset: Dataset;
  users: string[];
  /** For each sample, the position of its user in `users`. */
  owner: Uint32Array;
}

export interface LeafOptions {
  /** Label range [0, classes) (62 for FEMNIST); default: the largest label + 1, at least 2. */
  classes?: number;
}

interface ParsedUser {
  user: string;
  x: Float32Array;
  y: Uint8Array;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? "a string" : typeof v;
}

/** The users of one LEAF JSON document, validated; `file` names it in errors. */
function parseLeafDocument(json: unknown, file: string, features: { value?: number }): ParsedUser[] {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw malformed(file, "a LEAF file must hold a JSON object");
  const doc = json as Record<string, unknown>;
  const { users, num_samples: counts, user_data: userData } = doc;
  if (!Array.isArray(users) || !users.every((u) => typeof u === "string")) throw malformed(file, "`users` must be a list of strings");
  if (!Array.isArray(counts) || counts.length !== users.length) {
    throw malformed(file, `\`num_samples\` must be a list with one count per user (${users.length})`);
  }
  if (typeof userData !== "object" || userData === null || Array.isArray(userData)) throw malformed(file, "`user_data` must be an object");
  const out: ParsedUser[] = [];
  users.forEach((user: string, u) => {
    const count = counts[u] as unknown;
    if (!Number.isInteger(count) || (count as number) < 1) {
      throw malformed(file, `num_samples of user '${user}' is ${String(count)}; every user needs a positive sample count`);
    }
    const entry = (userData as Record<string, unknown>)[user] as { x?: unknown; y?: unknown } | undefined;
    if (entry === undefined || typeof entry !== "object" || entry === null) throw malformed(file, `user '${user}' has no user_data entry`);
    const { x, y } = entry;
    if (!Array.isArray(x) || !Array.isArray(y)) throw malformed(file, `user_data of '${user}' needs lists x and y`);
    if (x.length !== count || y.length !== count) {
      throw malformed(file, `user '${user}' declares ${String(count)} samples but has ${x.length} x rows and ${y.length} labels`);
    }
    const rows = x as unknown[];
    const first = rows[0];
    if (!Array.isArray(first) || !first.every((v) => typeof v === "number")) {
      throw malformed(
        file,
        `sample 0 of user '${user}' is ${describe(first)}, not a list of numbers; only numeric-feature LEAF datasets ` +
          "(FEMNIST, Synthetic) load here: text (Shakespeare, Sent140) and image-path (CelebA) datasets need their own featurisation",
      );
    }
    features.value ??= first.length;
    if (features.value === 0) throw malformed(file, `sample 0 of user '${user}' has no features`);
    const d = features.value;
    const xs = new Float32Array(rows.length * d);
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== d) {
        throw malformed(file, `sample ${i} of user '${user}' has ${Array.isArray(row) ? row.length : describe(row)} features, not ${d}`);
      }
      for (let j = 0; j < d; j++) {
        const v = row[j] as unknown;
        if (typeof v !== "number" || !Number.isFinite(v))
          throw malformed(file, `feature ${j} of sample ${i} of user '${user}' is ${String(v)}`);
        xs[i * d + j] = v;
      }
    });
    const ys = new Uint8Array(y.length);
    (y as unknown[]).forEach((label, i) => {
      if (!Number.isInteger(label) || (label as number) < 0 || (label as number) > 255) {
        throw malformed(file, `label ${i} of user '${user}' is ${JSON.stringify(label)}; labels must be integers in [0, 255]`);
      }
      ys[i] = label as number;
    });
    out.push({ user, x: xs, y: ys });
  });
  return out;
}

/**
 * Validates and pools already-parsed LEAF documents. Refuses missing fields, counts that disagree
 * with the data, non-numeric features, rows of differing width, labels outside [0, classes) and a
 * user that appears twice.
 */
export function leafFromJson(documents: readonly { json: unknown; file: string }[], options: LeafOptions = {}): LeafData {
  if (documents.length === 0) throw new DsainError(ErrorCode.INPUT_INVALID, "no LEAF files given");
  const features: { value?: number } = {};
  const parsed: ParsedUser[] = [];
  const seen = new Map<string, string>();
  for (const { json, file } of documents) {
    for (const p of parseLeafDocument(json, file, features)) {
      const earlier = seen.get(p.user);
      if (earlier !== undefined) throw malformed(file, `user '${p.user}' also appears in ${earlier}; each user must be in one file`);
      seen.set(p.user, file);
      parsed.push(p);
    }
  }
  if (parsed.length === 0)
    throw new DsainError(ErrorCode.EMPTY_INPUT, `the LEAF files ${documents.map((d) => d.file).join(", ")} hold no users`);
  const d = features.value as number;
  const total = parsed.reduce((s, p) => s + p.y.length, 0);
  let maxLabel = 0;
  for (const p of parsed) for (const v of p.y) maxLabel = Math.max(maxLabel, v);
  const classes = options.classes ?? Math.max(2, maxLabel + 1);
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `classes is ${classes}; it must be an integer in [2, 256]`);
  }
  for (const p of parsed) {
    const bad = p.y.findIndex((v) => v >= classes);
    if (bad >= 0) {
      throw malformed(
        seen.get(p.user) as string,
        `label ${bad} of user '${p.user}' is ${p.y[bad]}, outside [0, ${classes}); pass the right classes`,
      );
    }
  }
  const x = new Float32Array(total * d);
  const y = new Uint8Array(total);
  const owner = new Uint32Array(total);
  let s = 0;
  parsed.forEach((p, u) => {
    x.set(p.x, s * d);
    y.set(p.y, s);
    owner.fill(u, s, s + p.y.length);
    s += p.y.length;
  });
  return { dataset: { x, y, features: d, classes }, users: parsed.map((p) => p.user), owner };
}

/** Reads LEAF JSON files (one dataset split over several files is fine); see leafFromJson. */
export function loadLeaf(files: string | readonly string[], options: LeafOptions = {}): LeafData {
  const list = typeof files === "string" ? [files] : files;
  const documents = list.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new DsainError(ErrorCode.DATA_UNREADABLE, `${file}: cannot read the LEAF file (${ensureError(e).message}); check the path`, {
        cause: e,
      });
    }
    try {
      return { json: JSON.parse(text) as unknown, file };
    } catch (e) {
      throw new DsainError(ErrorCode.DATA_MALFORMED, `${file}: is not valid JSON (${ensureError(e).message})`, { cause: e });
    }
  });
  return leafFromJson(documents, options);
}
