#!/usr/bin/env python3
"""Reference vectors for report-model's statistics, from SciPy/NumPy and brute force.

An independent implementation: p-values come from scipy.stats (exact methods, or an
exact permutation_test where there are ties or zeros); HL confidence intervals come from
null distributions enumerated by brute force (all sign flips, all subsets), not from a
dynamic program like the Rust code. Regenerate with:

    pip install scipy numpy && python3 scripts/gen_stats_vectors.py > fixtures/stats/vectors.json
"""
import itertools
import json
import sys

import numpy as np
import scipy
from scipy import stats

ALPHA = 0.05
rng = np.random.default_rng(20261122)


def rank_sum_pos(d):
    """W+: sum of mid-ranks of |d| where d > 0 (zeros already dropped)."""
    r = stats.rankdata(np.abs(d))
    return float(r[d > 0].sum())


def signed_rank_p(d):
    nz = d[d != 0]
    ties = len(np.unique(np.abs(nz))) != len(nz)
    if len(nz) == len(d) and not ties:
        return float(stats.wilcoxon(d, zero_method="wilcox", method="exact").pvalue), "scipy.wilcoxon exact"
    res = stats.permutation_test(
        (nz, np.zeros_like(nz)),
        lambda x, y, axis: np.apply_along_axis(rank_sum_pos, axis, x - y),
        permutation_type="samples", n_resamples=np.inf, alternative="two-sided", vectorized=True)
    return float(res.pvalue), "scipy.permutation_test exact (ties/zeros)"


def u_of_x(x, y):
    r = stats.rankdata(np.concatenate([x, y]))
    return float(r[: len(x)].sum() - len(x) * (len(x) + 1) / 2)


def mann_whitney_p(x, y):
    allv = np.concatenate([x, y])
    if len(np.unique(allv)) == len(allv):
        return float(stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue), "scipy.mannwhitneyu exact"
    res = stats.permutation_test(
        (x, y), lambda a, b, axis: np.apply_along_axis(lambda z: u_of_x(z[: len(x)], z[len(x):]), axis, np.concatenate([a, b], axis=axis)),
        permutation_type="independent", n_resamples=np.inf, alternative="two-sided", vectorized=True)
    return float(res.pvalue), "scipy.permutation_test exact (ties)"


def lower_index(null_values):
    """Largest c with P(T <= c-1) <= alpha/2 from an enumerated null, and its confidence."""
    vals, counts = np.unique(np.asarray(null_values), return_counts=True)
    total = counts.sum()
    best = None
    for c in range(1, int(vals.max()) + 2):
        p = counts[vals <= c - 1].sum() / total
        if p <= ALPHA / 2 + 1e-12:
            best = (c, 1 - 2 * p)
        else:
            break
    return best


def signed_rank_null(n):
    """W+ over all 2^n sign patterns of ranks 1..n (brute force)."""
    ranks = np.arange(1, n + 1)
    signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    return (signs * ranks).sum(axis=1)


def mw_null(m, n):
    """U of the candidate (size n) over all C(m+n, n) rank subsets (brute force)."""
    out = []
    for comb in itertools.combinations(range(1, m + n + 1), n):
        out.append(sum(comb) - n * (n + 1) // 2)
    return out


def interval(sorted_vals, idx):
    if idx is None:
        return None, None
    c, conf = idx
    if c > len(sorted_vals) + 1 - c:
        return None, None
    return [float(sorted_vals[c - 1]), float(sorted_vals[len(sorted_vals) - c])], float(conf)


def paired_case(name, base, cand):
    d = cand - base
    iu = np.triu_indices(len(d))
    walsh = np.sort(((d[:, None] + d[None, :]) / 2)[iu])
    ci, conf = interval(walsh, lower_index(signed_rank_null(len(d))))
    case = {"name": name, "base": base.tolist(), "cand": cand.tolist(),
            "hl_estimate": float(np.median(walsh)), "ci": ci, "achieved_confidence": conf}
    if np.any(d != 0):
        p, how = signed_rank_p(d)
        case.update(p_value=p, p_method=how, w_plus=rank_sum_pos(d[d != 0]))
    else:
        case.update(p_value=None, p_method="undefined: all differences zero")
    return case


def unpaired_case(name, base, cand):
    diffs = np.sort((cand[:, None] - base[None, :]).ravel())
    ci, conf = interval(diffs, lower_index(mw_null(len(base), len(cand))))
    p, how = mann_whitney_p(cand, base)
    return {"name": name, "base": base.tolist(), "cand": cand.tolist(),
            "hl_estimate": float(np.median(diffs)), "ci": ci, "achieved_confidence": conf,
            "p_value": p, "p_method": how, "u_cand": u_of_x(cand, base)}


def percentile_case(name, v):
    return {"name": name, "values": v.tolist(), "median": float(np.median(v)),
            "p95": float(np.percentile(v, 95, method="inverted_cdf")),
            "p99": float(np.percentile(v, 99, method="inverted_cdf")),
            "p50": float(np.percentile(v, 50, method="inverted_cdf")),
            "min": float(v.min()), "max": float(v.max())}


paired, unpaired, percentiles = [], [], []
for i, n in enumerate([6, 7, 8, 9, 10, 12, 14, 16]):
    base = np.round(rng.normal(100, 5, n), 3)
    paired.append(paired_case(f"normal-shift-{n}", base, np.round(base + rng.normal(3, 2, n), 3)))
    paired.append(paired_case(f"no-shift-{n}", base, np.round(base + rng.normal(0, 2, n), 3)))
# Ties and zeros: values on a coarse grid.
for n in [6, 8, 10, 12]:
    base = rng.integers(10, 14, n).astype(float)
    paired.append(paired_case(f"ties-zeros-{n}", base, base + rng.integers(-2, 3, n).astype(float)))
paired.append(paired_case("all-zero", np.ones(7), np.ones(7)))
paired.append(paired_case("negative-shift", np.arange(8.0) + 20, np.arange(8.0) + 20 - np.array([3, 1, 4, 1, 5, 9, 2, 6.0])))
paired.append(paired_case("five-pairs", np.zeros(5), np.array([1.0, 2, 3, 4, 5])))

for (m, n) in [(4, 4), (5, 5), (6, 6), (4, 7), (8, 6), (8, 8)]:
    base = np.round(rng.normal(50, 4, m), 3)
    unpaired.append(unpaired_case(f"shift-{m}x{n}", base, np.round(rng.normal(54, 4, n), 3)))
    unpaired.append(unpaired_case(f"same-{m}x{n}", base, np.round(rng.normal(50, 4, n), 3)))
for (m, n) in [(5, 5), (6, 7)]:
    unpaired.append(unpaired_case(f"ties-{m}x{n}", rng.integers(1, 5, m).astype(float), rng.integers(2, 6, n).astype(float)))
unpaired.append(unpaired_case("negative", np.array([10.0, 11, 12, 13, 14]), np.array([1.0, 2, 3, 4.5, 5])))

for n in [1, 2, 5, 19, 20, 21, 99, 100, 101, 250]:
    percentiles.append(percentile_case(f"n{n}", np.round(rng.lognormal(3, 0.5, n), 4)))
percentiles.append(percentile_case("ties", np.array([3.0, 1, 3, 3, 2, 2, 5, 3])))

json.dump({"generator": "scripts/gen_stats_vectors.py", "scipy": scipy.__version__, "numpy": np.__version__,
           "alpha": ALPHA, "paired": paired, "unpaired": unpaired, "percentiles": percentiles},
          sys.stdout, indent=1)
sys.stdout.write("\n")
