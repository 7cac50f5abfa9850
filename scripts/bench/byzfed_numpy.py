#!/usr/bin/env python3
"""Vectorised numpy ByzFed, the yardstick of scripts/bench/aggregation.ts.

The same algorithm as aggregator/maths/robust/byzfed.ts and the DSAIN authors' code/dsain.py (Weiszfeld
from the mean, distances floored at 1e-10, stop at the first step under tol and return the iterate
before it; robust scale max(1.4826 * median(d), 1e-10); keep d_i <= tau * scale; fresh reputations
r = alpha + (1 - alpha) * [kept]; reputation-weighted mean of the kept updates, or of all when none
is kept), written the way one writes it in numpy: whole-matrix operations, BLAS for the weighted
sums. Three variants: "plain" (np.linalg.norm(X - y, axis=1), which allocates the differences every
iteration), "tuned" (one preallocated K x d scratch) and "dot" (the distances by the same update
form as the TypeScript, one matrix-vector product X @ s per iteration instead of forming X - y:
the yardstick for the TypeScript's algorithm, not only for its loops). Reads K x d float32 (little-endian,
row-major) from --file, converts it to float64 once (outside the timing: the reference computes in
float64), runs ByzFed --repeats times, prints one JSON line (best and median time, iterations,
kept set, peak memory) and writes the aggregate (float64) to --out.
"""
import argparse
import json
import time

import numpy as np


def status_bytes(field):
    """A "kB" line of /proc/self/status (VmRSS, VmHWM), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def weiszfeld_plain(X, max_iter=100, tol=1e-6, floor=1e-10):
    """The idiomatic vectorised form: np.linalg.norm(X - y, axis=1) allocates the differences."""
    y = X.mean(axis=0)
    dist = np.linalg.norm(X - y, axis=1)
    steps = 0
    for _ in range(max_iter):
        w = 1.0 / np.maximum(dist, floor)
        y_new = (w @ X) / w.sum()
        if np.linalg.norm(y_new - y) < tol:
            break
        y = y_new
        dist = np.linalg.norm(X - y, axis=1)
        steps += 1
    return y, dist, steps


def weiszfeld_tuned(X, max_iter=100, tol=1e-6, floor=1e-10):
    """The same with one preallocated K x d scratch for the differences (no allocation per iteration)."""
    diff = np.empty_like(X)

    def distances(y):
        np.subtract(X, y, out=diff)
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))

    y = X.mean(axis=0)
    dist = distances(y)
    steps = 0
    for _ in range(max_iter):
        w = 1.0 / np.maximum(dist, floor)
        y_new = (w @ X) / w.sum()
        if np.linalg.norm(y_new - y) < tol:
            break
        y = y_new
        dist = distances(y)
        steps += 1
    return y, dist, steps


EPS = 2.0**-53
KAPPA = 4.0  # aggregator/maths/robust/weiszfeld-pass.ts


def gamma(h):
    return h * EPS / (1 - h * EPS)


def weiszfeld_dot(X, max_iter=100, tol=1e-6, floor=1e-10):
    """Distances by the update form of aggregator/maths/robust/weiszfeld-pass.ts: with s = y' - y,
    ||x_i - y'||^2 = ||x_i - y||^2 - 2 (x_i . s - y . s) + ||s||^2, so an iteration is two BLAS
    matrix-vector products (w @ X and X @ s) and no K x d temporary. Each row carries a bound of its
    rounding error (the TypeScript's formula; BLAS's summation order is unknown, so the depth of
    every sum is taken as d) and is recomputed directly, ||x_i - y'||^2, when the bound exceeds
    KAPPA times the direct form's. numpy needs no prediction: it checks after the product."""
    n, d = X.shape
    g1, g3 = gamma(d + 1), gamma(d + 3)
    buf = np.empty(d)

    def direct(y, rows, out):
        for i in rows:
            np.subtract(X[i], y, out=buf)
            out[i] = buf @ buf

    y = X.mean(axis=0)
    d2 = np.empty(n)
    direct(y, range(n), d2)
    err = g3 * d2
    steps = 0
    for _ in range(max_iter):
        w = 1.0 / np.maximum(np.sqrt(d2), floor)
        y_new = (w @ X) / w.sum()
        s = y_new - y
        step2 = float(s @ s)
        if np.sqrt(step2) < tol:
            break
        y_norm = np.sqrt(float(y @ y) * (1 + g1))
        step = np.sqrt(step2 * (1 + g1))
        t = X @ s - float(y @ s)
        v = d2 - 2 * t + step2
        u_norm = np.sqrt(np.maximum(d2, 0) + err) + y_norm
        err = err + 1.001 * (
            2 * g1 * (u_norm + y_norm) * step
            + g1 * step2
            + 2 * EPS * (np.abs(d2) + 2 * np.abs(t) + step2)
            + 3 * EPS * step * np.sqrt(np.maximum(v, 0))
        )
        with np.errstate(invalid="ignore"):
            redo = np.nonzero(~(np.isfinite(v) & (err <= KAPPA * g3 * v)))[0]
        direct(y_new, redo, v)
        err[redo] = g3 * v[redo]
        d2, y = v, y_new
        steps += 1
    return y, np.sqrt(d2), steps


VARIANTS = {"plain": weiszfeld_plain, "tuned": weiszfeld_tuned, "dot": weiszfeld_dot}


def byzfed(X, weiszfeld, tau=3.0, alpha=0.9, scale_factor=1.4826):
    gm, dist, steps = weiszfeld(X)
    scale = max(float(np.median(dist)) * scale_factor, 1e-10)
    kept = dist <= tau * scale
    reputations = alpha * 1.0 + (1 - alpha) * kept
    used = kept if kept.any() else np.ones_like(kept)
    w = np.where(used, reputations, 0.0)
    return (w @ X) / w.sum(), steps, np.nonzero(kept)[0].tolist()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--file", required=True)
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--d", type=int, required=True)
    p.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    # Reset the peak RSS (Linux clear_refs) so that the peak below belongs to this run alone.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = status_bytes("VmRSS")
    X = np.fromfile(a.file, dtype="<f4").reshape(a.k, a.d).astype(np.float64)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        agg, steps, kept = byzfed(X, VARIANTS[a.variant])
        times.append(time.perf_counter() - t0)
    agg.tofile(a.out)
    peak = status_bytes("VmHWM")
    times.sort()
    print(
        json.dumps(
            {
                "best_s": times[0],
                "median_s": times[len(times) // 2],
                "iterations": steps,
                "kept": kept,
                "peak_above_base_bytes": peak - base,
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
