//! Rank-test machinery: mid-ranks, exact subset-sum null distributions, the normal distribution.

/// 1-based mid-ranks of `values` (tied values share the mean of their ranks), in input order.
/// Values must be finite (callers check).
pub(crate) fn midranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) hold ranks i+1..=j+1; their mean is (i + j + 2) / 2.
        let r = (i + j + 2) as f64 / 2.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Mid-ranks doubled, so that they are integers (a mid-rank is a multiple of 1/2).
pub(crate) fn doubled(ranks: &[f64]) -> Vec<usize> {
    ranks.iter().map(|r| (r * 2.0).round() as usize).collect()
}

/// Sum over groups of tied values of t^3 - t (t the group size): the tie term of the
/// normal approximations.
pub(crate) fn tie_term(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mut sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        sum += t * t * t - t;
        i = j + 1;
    }
    sum
}

/// Exact null distribution of the sum of a random subset of integer `weights`, each weight
/// in or out independently with probability 1/2 (the signed-rank null: every sign pattern
/// equally likely). Probabilities indexed by the sum, 0..=sum(weights).
pub(crate) fn sign_flip_distribution(weights: &[usize]) -> Vec<f64> {
    let total: usize = weights.iter().sum();
    let mut dist = vec![0.0f64; total + 1];
    dist[0] = 1.0;
    let mut reach = 0;
    for &w in weights {
        // Descending, so each weight is used at most once.
        for s in (0..=reach).rev() {
            let half = dist[s] * 0.5;
            dist[s] = half;
            dist[s + w] += half;
        }
        reach += w;
    }
    dist
}

/// Exact null distribution of the sum of a uniformly random `k`-subset of integer `weights`
/// (the rank-sum null: every assignment of `k` of the ranks to one sample equally likely).
/// Probabilities indexed by the sum, 0..=sum(weights). Counts are carried in f64, exact up to
/// 2^53 and within a relative 1e-15 beyond.
pub(crate) fn k_subset_distribution(weights: &[usize], k: usize) -> Vec<f64> {
    let total: usize = weights.iter().sum();
    // counts[j][s]: number of j-subsets of the weights seen so far with sum s.
    let mut counts = vec![vec![0.0f64; total + 1]; k + 1];
    counts[0][0] = 1.0;
    let mut reach = 0;
    for (i, &w) in weights.iter().enumerate() {
        // Descending j, so row j-1 still holds the subsets without this weight.
        for j in (1..=k.min(i + 1)).rev() {
            let (before, after) = counts.split_at_mut(j);
            let prev = &before[j - 1];
            let cur = &mut after[0];
            for s in 0..=reach {
                if prev[s] != 0.0 {
                    cur[s + w] += prev[s];
                }
            }
        }
        reach += w;
    }
    let all: f64 = counts[k].iter().sum();
    counts[k].iter().map(|c| c / all).collect()
}

/// Two-sided p-value from a discrete null distribution over integer sums and an observed
/// sum: min(1, 2 min(P(T <= t), P(T >= t))).
pub(crate) fn two_sided(dist: &[f64], observed: usize) -> f64 {
    let last = dist.len().saturating_sub(1);
    let lower: f64 = dist[..=observed.min(last)].iter().sum();
    let upper: f64 = dist[observed.min(dist.len())..].iter().sum();
    (2.0 * lower.min(upper)).min(1.0)
}

/// Standard normal CDF, to about 2e-15 relative.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Two-sided normal p-value of a non-negative z: 2 (1 - Phi(z)), without cancellation.
pub(crate) fn normal_two_sided(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Complementary error function: a positive-term series for erf below 1/2, the Laplace
/// continued fraction (modified Lentz) from 1/2 on; relative error about 2e-15.
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 0.5 {
        // erf x = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1 * 3 * ... * (2n+1)).
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * x2 / (2.0 * n + 1.0);
            sum += term;
        }
        return 1.0 - std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum;
    }
    if x > 27.0 {
        return 0.0;
    }
    // erfc x = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))).
    // At x = 1/2 it takes about 730 terms, at 3 about 30.
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for i in 1..2000 {
        let a = f64::from(i) / 2.0;
        d = x + a * d;
        d = if d.abs() < tiny { 1.0 / tiny } else { 1.0 / d };
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Standard normal quantile, 0 < p < 1: Acklam's rational approximation polished by one
/// Halley step on [`normal_cdf`] (about 1e-15 relative).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return f64::NAN;
    }
    if p > 0.5 {
        // 1 - p is exact here (Sterbenz), and the lower tail keeps the polish relative.
        return -normal_quantile(1.0 - p);
    }
    let x = if p < 0.02425 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midranks_share_ties() {
        assert_eq!(midranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        assert_eq!(doubled(&[2.0, 3.5, 3.5, 1.0]), vec![4, 7, 7, 2]);
        // Groups of 2 and 3: (8 - 2) + (27 - 3) = 30.
        assert_eq!(tie_term(&[1.0, 2.0, 2.0, 3.0, 3.0, 3.0]), 30.0);
    }

    #[test]
    fn null_distributions_by_hand() {
        // Sign flips of {2, 3, 3, 8}: 16 patterns, sum 0 once, sum 3 twice.
        let d = sign_flip_distribution(&[2, 3, 3, 8]);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(d[0], 1.0 / 16.0);
        assert_eq!(d[3], 2.0 / 16.0);
        // 2-subsets of {1, 2, 3, 4}: sums 3, 4, 5, 5, 6, 7.
        let d = k_subset_distribution(&[1, 2, 3, 4], 2);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((d[5] - 2.0 / 6.0).abs() < 1e-15);
        assert_eq!(d[2], 0.0);
        assert!((two_sided(&d, 7) - 2.0 / 6.0).abs() < 1e-15);
        assert_eq!(two_sided(&d, 5), 1.0);
    }

    #[test]
    fn normal_by_known_values() {
        // References: mpmath at 30 digits (ncdf, erfc(z / sqrt 2)) and scipy.stats.norm.ppf.
        // Relative 1e-14: exp(-x^2) magnifies the rounding of x = z / sqrt 2 by 2 x^2.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
        assert_eq!(normal_cdf(0.0), 0.5);
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975));
        assert!(close(normal_cdf(-1.0), 0.158_655_253_931_457_05));
        assert!(close(normal_cdf(-5.0), 2.866_515_718_791_939e-7));
        assert!(close(normal_two_sided(0.3), 0.764_177_155_622_094_8));
        assert!(close(normal_two_sided(1.0), 0.317_310_507_862_914_1));
        assert!(close(normal_two_sided(2.5), 0.012_419_330_651_552_27));
        assert!(close(
            normal_two_sided(2.999_999),
            0.002_699_804_926_970_309_6
        ));
        assert!(close(normal_two_sided(4.5), 6.795_346_249_460_120_5e-6));
        assert!(close(normal_two_sided(8.0), 1.244_192_114_854_356_8e-15));
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054));
        assert!(close(normal_quantile(0.995), 2.575_829_303_548_900_4));
        assert!(close(normal_quantile(0.01), -2.326_347_874_040_840_8));
        assert_eq!(normal_quantile(0.5), 0.0);
        assert!(normal_quantile(1.0).is_nan());
    }
}
