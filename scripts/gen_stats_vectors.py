#!/usr/bin/env python3
"""Reference vectors for report-model's statistics (report-model/src/stats), from SciPy/NumPy.

    pip install scipy numpy
    python3 scripts/gen_stats_vectors.py            # writes fixtures/stats/vectors.json

report-model/tests/stats_vectors.rs reads the JSON and checks every value. This script is an
independent implementation: it shares conventions with the Rust code, not code.

- Percentiles: numpy.percentile(method="inverted_cdf") (nearest rank), cross-checked against
  ceil(p n / 100) in exact rational arithmetic; the median is numpy.median.
- Signed-rank p-values: scipy.stats.wilcoxon (zero_method="wilcox": zeros dropped; mid-ranks).
  Without ties or zeros, method="exact". With ties or zeros, method=PermutationMethod(
  n_resamples=inf): exact enumeration of every sign pattern, i.e. the exact conditional
  distribution over the actual mid-ranks (for up to 16 non-zero differences also cross-checked
  with our own scipy.stats.permutation_test). Beyond 50 non-zero differences,
  method="asymptotic" with correction=True (tie and continuity corrected).
- Mann-Whitney p-values: scipy.stats.mannwhitneyu, two-sided, the same way: "exact" without
  ties, PermutationMethod(n_resamples=inf) with ties, "asymptotic" (use_continuity=True) when a
  side exceeds 50.
- Hodges-Lehmann: numpy medians of the Walsh averages / pairwise differences. The CI is
  [v_(k), v_(M+1-k)] of the sorted values with k the largest integer >= 1 such that
  P(T <= k-1) <= alpha/2, T the untied null statistic (W+ of all n pairs, zeros included; U of
  m and n values). P(T <= t) comes from SciPy's exact distributions: the one-sided
  (alternative="less") exact p-value of data built to have statistic t; where enumeration is
  cheap it is also counted by brute force in exact integers. Achieved confidence is
  1 - 2 P(T <= k-1). Beyond 50 pairs / 50 per side: k = floor(E T + 1/2 - z sd T), z the
  1 - alpha/2 quantile of scipy.stats.norm, achieved 1 - 2 Phi((k - 1/2 - E T) / sd T).
  When no k >= 1 qualifies the CI is null.
"""
import itertools
import json
import math
import platform
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

LEVEL = 0.95
HALF_ALPHA = (1 - Fraction(str(LEVEL))) / 2  # exactly 1/40
EXACT_MAX = 50  # the Rust side's switch to the normal approximation
SEED = 20261123
rng = np.random.default_rng(SEED)
EXACT_ENUM = stats.PermutationMethod(n_resamples=np.inf, batch=1 << 14)


# ---------------------------------------------------------------- percentiles

def nearest_rank_exact(sorted_vals, p):
    rank = math.ceil(Fraction(str(p)) * len(sorted_vals) / 100)
    return sorted_vals[max(rank, 1) - 1]


def percentile_case(name, v):
    v = np.asarray(v, dtype=float)
    s = sorted(v.tolist())
    out = {"name": name, "values": v.tolist(), "n": len(v), "median": float(np.median(v)),
           "min": float(v.min()), "max": float(v.max()), "percentiles": {}}
    for p in [5, 50, 90, 95, 99, 99.9, 100]:
        ref = float(np.percentile(v, p, method="inverted_cdf"))
        assert ref == nearest_rank_exact(s, p), (name, p, "numpy's float noise; pick another n")
        out["percentiles"][str(p)] = ref
    out["p99_is_max"] = math.ceil(Fraction(99 * len(v), 100)) == len(v)
    p99, med = out["percentiles"]["99"], out["median"]
    if med > 0:
        ratio = p99 / med
        out["tail_ratio"] = ratio
        out["tail_band"] = "healthy" if ratio < 1.5 else ("warning" if ratio <= 2.0 else "fail")
    else:
        out["tail_ratio"] = None
        out["tail_band"] = None
    return out


# ---------------------------------------------------------------- signed rank

def w_plus(d):
    nz = d[d != 0]
    r = stats.rankdata(np.abs(nz))
    return float(r[nz > 0].sum())


def own_sign_flip_p(nz):
    """Our own exact sign-flip permutation test of W+ (a cross-check of SciPy's)."""
    def stat(x, axis):
        r = stats.rankdata(np.abs(x), axis=axis)
        return np.sum(r * (x > 0), axis=axis)
    res = stats.permutation_test((nz,), stat, permutation_type="samples", vectorized=True,
                                 n_resamples=np.inf, alternative="two-sided")
    return float(res.pvalue)


def signed_rank_p(d):
    nz = d[d != 0]
    if len(nz) == 0:
        return None, "undefined: every difference is zero", None
    if len(nz) > EXACT_MAX:
        res = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="asymptotic")
        return float(res.pvalue), "scipy.stats.wilcoxon asymptotic, correction=True", "normal"
    ties = len(np.unique(np.abs(nz))) < len(nz)
    if not ties and len(nz) == len(d):
        p = float(stats.wilcoxon(d, method="exact").pvalue)
        how = "scipy.stats.wilcoxon exact"
    else:
        assert len(nz) <= 20, "exact enumeration of 2^n sign patterns: keep n <= 20"
        p = float(stats.wilcoxon(d, zero_method="wilcox", method=EXACT_ENUM).pvalue)
        how = "scipy.stats.wilcoxon PermutationMethod(n_resamples=inf), ties/zeros"
        if len(nz) <= 16:
            own = own_sign_flip_p(nz)
            assert abs(own - p) < 1e-12, (own, p)
            how += "; = own permutation_test"
    return p, how, "exact"


def signed_rank_cdf(n, t):
    """P(W+ <= t) for n untied non-zero differences, from scipy's exact distribution."""
    if t < 0:
        return 0.0
    remaining, signs = t, []
    for r in range(n, 0, -1):  # greedy: ranks 1..n reach every sum 0..n(n+1)/2
        take = r <= remaining
        remaining -= r if take else 0
        signs.append((r, 1.0 if take else -1.0))
    assert remaining == 0
    d = np.array([r * s for r, s in signs])
    return float(stats.wilcoxon(d, alternative="less", method="exact").pvalue)


def signed_rank_counts_brute(n):
    """Counts of W+ over all 2^n sign patterns of ranks 1..n, by enumeration."""
    ranks = np.arange(1, n + 1)
    signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    return np.bincount((signs * ranks).sum(axis=1))


# ---------------------------------------------------------------- Mann-Whitney

def u_of(x, y):
    r = stats.rankdata(np.concatenate([x, y]))
    return float(r[: len(x)].sum() - len(x) * (len(x) + 1) / 2)


def own_split_p(x, y):
    def stat(a, b, axis):
        both = np.concatenate([a, b], axis=axis)
        r = stats.rankdata(both, axis=axis)
        return np.sum(r[..., : a.shape[axis]], axis=axis)
    res = stats.permutation_test((x, y), stat, permutation_type="independent", vectorized=True,
                                 n_resamples=np.inf, alternative="two-sided")
    return float(res.pvalue)


def mann_whitney_p(x, y):
    if max(len(x), len(y)) > EXACT_MAX:
        res = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided",
                                 method="asymptotic")
        return float(res.pvalue), "scipy.stats.mannwhitneyu asymptotic, use_continuity=True", "normal"
    pooled = np.concatenate([x, y])
    if len(np.unique(pooled)) == len(pooled):
        p = float(stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue)
        how = "scipy.stats.mannwhitneyu exact"
    else:
        assert math.comb(len(pooled), len(x)) <= 1_000_000, "exact enumeration too large"
        p = float(stats.mannwhitneyu(x, y, alternative="two-sided", method=EXACT_ENUM).pvalue)
        how = "scipy.stats.mannwhitneyu PermutationMethod(n_resamples=inf), ties"
        if math.comb(len(pooled), len(x)) <= 200_000:
            own = own_split_p(x, y)
            assert abs(own - p) < 1e-12, (own, p)
            how += "; = own permutation_test"
    return p, how, "exact"


def u_cdf(m, n, u):
    """P(U <= u) for untied samples of sizes n (the one whose U it is) and m, from scipy."""
    if u < 0:
        return 0.0
    base = np.arange(1.0, m + 1)
    cand, remaining = [], u
    for j in range(n):  # cand_j beats b_j of the base values
        b = min(m, remaining)
        remaining -= b
        cand.append(b + 0.5 + j * 1e-4)
    assert remaining == 0
    cand = np.array(cand)
    assert u_of(cand, base) == u
    return float(stats.mannwhitneyu(cand, base, alternative="less", method="exact").pvalue)


def u_counts_brute(m, n):
    counts = np.zeros(m * n + 1, dtype=np.int64)
    for comb in itertools.combinations(range(1, m + n + 1), n):
        counts[sum(comb) - n * (n + 1) // 2] += 1
    return counts


# ---------------------------------------------------------------- CI order statistics

def choose_k(cdf, brute_counts=None):
    """Largest k >= 1 with P(T <= k-1) <= alpha/2 and its coverage, or None."""
    best, t = None, 0
    while True:
        tail = cdf(t)
        if brute_counts is not None:
            exact = Fraction(int(brute_counts[: t + 1].sum()), int(brute_counts.sum()))
            assert abs(float(exact) - tail) < 1e-14, (t, exact, tail)
            inside = exact <= HALF_ALPHA
        else:
            assert abs(tail - float(HALF_ALPHA)) > 1e-12 * float(HALF_ALPHA), "ambiguous tail"
            inside = tail <= float(HALF_ALPHA)
        if not inside:
            return best
        best = (t + 1, 1 - 2 * tail)
        t += 1


def choose_k_normal(mean, sd):
    z = stats.norm.ppf(1 - float(HALF_ALPHA))
    k = math.floor(mean + 0.5 - z * sd)
    if k < 1:
        return None
    return k, float(1 - 2 * stats.norm.cdf((k - 0.5 - mean) / sd))


def interval(sorted_vals, choice):
    if choice is None:
        return None, None, None
    k, conf = choice
    assert k <= len(sorted_vals) + 1 - k
    return [float(sorted_vals[k - 1]), float(sorted_vals[len(sorted_vals) - k])], float(conf), k


# ---------------------------------------------------------------- cases

def check_inputs(*arrays):
    for a in arrays:
        for v in a.tolist():
            assert len(repr(v).replace("-", "").replace(".", "").lstrip("0")) <= 15, v


def paired_case(name, base, cand):
    base, cand = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    check_inputs(base, cand)
    d = cand - base
    n = len(d)
    iu = np.triu_indices(n)
    walsh = np.sort(((d[:, None] + d[None, :]) / 2)[iu])
    if n <= EXACT_MAX:
        brute = signed_rank_counts_brute(n) if n <= 16 else None
        choice = choose_k(lambda t: signed_rank_cdf(n, t), brute)
        ci_method = "exact"
    else:
        choice = choose_k_normal(n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
        ci_method = "normal"
    ci, conf, k = interval(walsh, choice)
    p, how, method = signed_rank_p(d)
    nz = d[d != 0]
    return {"name": name, "base": base.tolist(), "cand": cand.tolist(),
            "hl_estimate": float(np.median(walsh)), "ci": ci, "ci_k": k,
            "achieved_confidence": conf, "ci_method": ci_method,
            "p_value": p, "p_reference": how, "p_method": method,
            "w_plus": w_plus(d) if len(nz) else None, "n_nonzero": int(len(nz)),
            "ties": bool(len(np.unique(np.abs(nz))) < len(nz))}


def unpaired_case(name, base, cand):
    base, cand = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    check_inputs(base, cand)
    m, n = len(base), len(cand)
    diffs = np.sort((cand[:, None] - base[None, :]).ravel())
    if max(m, n) <= EXACT_MAX:
        brute = u_counts_brute(m, n) if math.comb(m + n, n) <= 20_000 else None
        choice = choose_k(lambda u: u_cdf(m, n, u), brute)
        ci_method = "exact"
    else:
        choice = choose_k_normal(m * n / 2, math.sqrt(m * n * (m + n + 1) / 12))
        ci_method = "normal"
    ci, conf, k = interval(diffs, choice)
    p, how, method = mann_whitney_p(cand, base)
    pooled = np.concatenate([base, cand])
    return {"name": name, "base": base.tolist(), "cand": cand.tolist(),
            "hl_estimate": float(np.median(diffs)), "ci": ci, "ci_k": k,
            "achieved_confidence": conf, "ci_method": ci_method,
            "p_value": p, "p_reference": how, "p_method": method,
            "u_cand": u_of(cand, base), "ties": bool(len(np.unique(pooled)) < len(pooled))}


def normal(mu, sigma, n, decimals):
    return np.round(rng.normal(mu, sigma, n), decimals)


def grid(lo, hi, n):
    return rng.integers(lo, hi, n).astype(float)


def untied_abs(d):
    nz = d[d != 0]
    return len(nz) == len(d) and len(np.unique(np.abs(nz))) == len(nz)


paired, unpaired, percentiles = [], [], []

for n in [6, 7, 8, 9, 10, 12, 15, 20, 25]:
    decimals = 3 if n <= 16 else 6  # above 20 pairs ties would need 2^n enumeration
    base = normal(100, 5, n, decimals)
    shifted = np.round(base + rng.normal(3, 2, n), decimals)
    same = np.round(base + rng.normal(0, 2, n), decimals)
    if n > 20:
        assert untied_abs(shifted - base) and untied_abs(same - base)
    paired.append(paired_case(f"shift-{n}", base, shifted))
    paired.append(paired_case(f"no-shift-{n}", base, same))
for n in [6, 8, 10, 12, 16, 20]:  # coarse grid: ties in |d| and zero differences
    base = grid(10, 14, n)
    paired.append(paired_case(f"ties-zeros-{n}", base, base + grid(-2, 3, n)))
paired.append(paired_case("ties-positive-12", grid(0, 3, 12), grid(3, 6, 12)))
paired.append(paired_case("all-zero-7", np.ones(7), np.ones(7)))
paired.append(paired_case("all-equal-diffs-9", np.arange(9.0), np.arange(9.0) + 2.5))
paired.append(paired_case("half-zero-10", np.arange(10.0),
                          np.arange(10.0) + np.array([0, 0, 0, 0, 0, 1, -2, 3, 4, 5.0])))
paired.append(paired_case("negative-shift-8", np.arange(8.0) + 20,
                          np.arange(8.0) + 20 - np.array([3, 1, 4, 1, 5, 9, 2, 6.0])))
paired.append(paired_case("five-pairs-no-ci", np.zeros(5), np.array([1.0, 2, 3, 4, 5])))
paired.append(paired_case("four-pairs-no-ci", np.array([1.0, 2, 3, 4]), np.array([1.5, 1, 4, 6])))
base = normal(50, 3, 60, 1)
paired.append(paired_case("normal-approx-ties-60", base, np.round(base + rng.normal(0.4, 1, 60), 1)))
base = normal(50, 3, 80, 4)
paired.append(paired_case("normal-approx-80", base, np.round(base + rng.normal(-0.3, 1, 80), 4)))

for (m, n) in [(4, 4), (5, 5), (6, 6), (4, 7), (8, 6), (8, 8), (10, 12), (20, 25), (50, 50)]:
    decimals = 3 if m + n <= 20 else 6
    base = normal(50, 4, m, decimals)
    shifted, same = normal(54, 4, n, decimals), normal(50, 4, n, decimals)
    unpaired.append(unpaired_case(f"shift-{m}x{n}", base, shifted))
    unpaired.append(unpaired_case(f"same-{m}x{n}", base, same))
for (m, n) in [(5, 5), (6, 7), (8, 8), (10, 12)]:
    unpaired.append(unpaired_case(f"ties-{m}x{n}", grid(1, 5, m), grid(2, 6, n)))
unpaired.append(unpaired_case("all-equal-5x5", np.full(5, 3.0), np.full(5, 3.0)))
unpaired.append(unpaired_case("negative-5x5", np.array([10.0, 11, 12, 13, 14]),
                              np.array([1.0, 2, 3, 4.5, 5])))
unpaired.append(unpaired_case("three-by-four-no-ci", np.array([1.0, 2, 3]),
                              np.array([11.0, 12, 13, 14])))
unpaired.append(unpaired_case("normal-approx-ties-55x60", np.round(rng.normal(20, 2, 55), 1),
                              np.round(rng.normal(20.5, 2, 60), 1)))
unpaired.append(unpaired_case("normal-approx-40x70", normal(20, 2, 40, 5), normal(19, 2, 70, 5)))

# Not n = 1000: there numpy computes 0.999 * 1000 = 999.0000000000001 and takes rank 1000.
for n in [1, 2, 3, 5, 19, 20, 21, 99, 100, 101, 250, 1001]:
    percentiles.append(percentile_case(f"lognormal-{n}", np.round(rng.lognormal(3, 0.5, n), 4)))
percentiles.append(percentile_case("ties-8", [3.0, 1, 3, 3, 2, 2, 5, 3]))
percentiles.append(percentile_case("all-equal-30", np.full(30, 7.25)))
percentiles.append(percentile_case("heavy-tail-40", np.concatenate([np.full(39, 10.0), [35.0]])))
percentiles.append(percentile_case("negative-6", [-3.0, -1, -2, -6, -4, -5]))

out = {
    "generator": "scripts/gen_stats_vectors.py",
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "python": platform.python_version(),
    "seed": SEED,
    "level": LEVEL,
    "paired": paired,
    "unpaired": unpaired,
    "percentiles": percentiles,
}
path = Path(sys.argv[1]) if len(sys.argv) > 1 else \
    Path(__file__).resolve().parent.parent / "fixtures" / "stats" / "vectors.json"
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"{path}: {len(paired)} paired, {len(unpaired)} unpaired, {len(percentiles)} percentile "
      f"cases (scipy {scipy.__version__}, numpy {np.__version__})", file=sys.stderr)
