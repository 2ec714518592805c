//! Nearest-rank percentiles, the median, the `Distribution` summary and the p99/median tail band.

use serde::{Deserialize, Serialize};

use super::StatsError;

/// The 1-based nearest rank of percentile `p` among `n` values: ceil(p/100 * n), at least 1.
/// `p` in (0, 100]. A product within 1e-9 (relative) of an integer counts as that integer, so
/// float noise (99.9 / 100 * 1000 = 999.0000000000001) does not push the rank up by one.
pub fn nearest_rank_index(n: usize, p: f64) -> Option<usize> {
    if n == 0 || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let exact = p * n as f64 / 100.0;
    let near = exact.round();
    let rank = if (exact - near).abs() <= 1e-9 * near.max(1.0) {
        near
    } else {
        exact.ceil()
    };
    Some((rank as usize).clamp(1, n))
}

/// Nearest-rank percentile of sorted values: the value at 1-based rank ceil(p/100 * n).
/// None when `sorted` is empty or `p` is not in (0, 100].
pub fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    nearest_rank_index(sorted.len(), p).map(|rank| sorted[rank - 1])
}

/// The ordinary median of sorted values (the mean of the two middle ones for even n).
pub fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// Checks that `values` is non-empty and finite, and returns it sorted ascending.
/// `what` names the input in the error.
pub fn sorted_checked(values: &[f64], what: &'static str) -> Result<Vec<f64>, StatsError> {
    if values.is_empty() {
        return Err(StatsError::TooFew {
            needed: 1,
            got: 0,
            what,
        });
    }
    check_finite(values, what)?;
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// Sorts finite values; None when empty or when any value is NaN or infinite.
pub fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    sorted_checked(values, "values").ok()
}

/// Err([`StatsError::NotFinite`]) naming the first NaN or infinite value of `values`.
pub(crate) fn check_finite(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NotFinite { what, index }),
        None => Ok(()),
    }
}

/// The summary of one sample of values. Percentiles are nearest-rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Number of values.
    pub n: u32,
    /// Ordinary median (mean of the two middle values for even n).
    pub median: f64,
    /// Nearest-rank p95: the value at rank ceil(0.95 n).
    pub p95: f64,
    /// Nearest-rank p99: the value at rank ceil(0.99 n); the maximum when n < 100
    /// (see [`Distribution::p99_is_max`]).
    pub p99: f64,
    pub min: f64,
    pub max: f64,
}

impl Distribution {
    /// Summarises `values` (any order). Errors when empty or when a value is NaN or infinite.
    pub fn from_values(values: &[f64]) -> Result<Distribution, StatsError> {
        let s = sorted_checked(values, "values")?;
        let missing = StatsError::TooFew {
            needed: 1,
            got: 0,
            what: "values",
        };
        Ok(Distribution {
            n: u32::try_from(s.len()).unwrap_or(u32::MAX),
            median: median_sorted(&s).ok_or(missing.clone())?,
            p95: nearest_rank(&s, 95.0).ok_or(missing.clone())?,
            p99: nearest_rank(&s, 99.0).ok_or(missing)?,
            min: s[0],
            max: s[s.len() - 1],
        })
    }

    /// [`Distribution::from_values`], None on error.
    pub fn of(values: &[f64]) -> Option<Distribution> {
        Distribution::from_values(values).ok()
    }

    /// Whether nearest-rank p99 is, by construction, the sample maximum: ceil(0.99 n) = n,
    /// which holds exactly for n <= 99 (at n = 100 it is the second largest value).
    pub fn p99_is_max(&self) -> bool {
        nearest_rank_index(self.n as usize, 99.0) == Some(self.n as usize)
    }

    /// The p99/median tail ratio, its band and the p99-is-max flag; None when the median is
    /// not positive.
    pub fn tail(&self) -> Option<TailRatio> {
        tail_ratio(self).map(|(ratio, band)| TailRatio {
            ratio,
            band,
            p99_is_max: self.p99_is_max(),
        })
    }
}

/// Bands of the p99/median ratio: healthy < 1.5, warning 1.5..=2.0, fail > 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TailBand {
    Healthy,
    Warning,
    Fail,
}

impl TailBand {
    /// The band of a tail ratio (NaN falls in `fail`).
    pub fn of(ratio: f64) -> TailBand {
        if ratio < 1.5 {
            TailBand::Healthy
        } else if ratio <= 2.0 {
            TailBand::Warning
        } else {
            TailBand::Fail
        }
    }
}

/// The tail of a [`Distribution`]: p99/median, its band, and whether p99 is just the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TailRatio {
    pub ratio: f64,
    pub band: TailBand,
    /// Nearest-rank p99 equals the maximum (n <= 99), so the ratio is max/median.
    pub p99_is_max: bool,
}

/// p99/median and its band; None when the median is not positive.
pub fn tail_ratio(d: &Distribution) -> Option<(f64, TailBand)> {
    (d.median > 0.0).then(|| {
        let r = d.p99 / d.median;
        (r, TailBand::of(r))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_by_hand() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 95.0), Some(19.0));
        assert_eq!(nearest_rank(&v, 99.0), Some(20.0));
        assert_eq!(nearest_rank(&v, 50.0), Some(10.0));
        assert_eq!(nearest_rank(&v, 5.0), Some(1.0));
        assert_eq!(nearest_rank(&v, 0.1), Some(1.0));
        assert_eq!(nearest_rank(&v, 100.0), Some(20.0));
        assert_eq!(nearest_rank(&[], 50.0), None);
        assert_eq!(nearest_rank(&v, 0.0), None);
        assert_eq!(nearest_rank(&v, 100.5), None);
        assert_eq!(nearest_rank(&v, f64::NAN), None);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&hundred, 99.0), Some(99.0));
        let more: Vec<f64> = (1..=101).map(f64::from).collect();
        assert_eq!(nearest_rank(&more, 99.0), Some(100.0));
        // ceil(0.999 * 1000) = 999, although 99.9 / 100 * 1000 is 999.0000000000001 in f64.
        assert_eq!(nearest_rank_index(1000, 99.9), Some(999));
        assert_eq!(nearest_rank_index(7, 50.0), Some(4));
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median_sorted(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median_sorted(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
        assert_eq!(median_sorted(&[]), None);
    }

    #[test]
    fn distribution_and_bands() {
        let d = Distribution::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(
            (d.n, d.median, d.min, d.max, d.p95, d.p99),
            (4, 2.5, 1.0, 4.0, 4.0, 4.0)
        );
        assert!(d.p99_is_max());
        assert_eq!(Distribution::of(&[]), None);
        assert_eq!(Distribution::of(&[1.0, f64::NAN]), None);
        assert_eq!(
            Distribution::from_values(&[1.0, f64::INFINITY]),
            Err(StatsError::NotFinite {
                what: "values",
                index: 1
            })
        );
        assert!(matches!(
            Distribution::from_values(&[]),
            Err(StatsError::TooFew { .. })
        ));
        assert_eq!(TailBand::of(1.49), TailBand::Healthy);
        assert_eq!(TailBand::of(1.5), TailBand::Warning);
        assert_eq!(TailBand::of(2.0), TailBand::Warning);
        assert_eq!(TailBand::of(2.01), TailBand::Fail);
        assert_eq!(tail_ratio(&d), Some((1.6, TailBand::Warning)));
        let t = d.tail().unwrap();
        assert_eq!(
            (t.ratio, t.band, t.p99_is_max),
            (1.6, TailBand::Warning, true)
        );
        let zero = Distribution::of(&[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(tail_ratio(&zero), None);
    }

    #[test]
    fn p99_is_max_exactly_below_one_hundred() {
        for n in [1u32, 2, 50, 99, 100, 101, 1000] {
            let values: Vec<f64> = (1..=n).map(f64::from).collect();
            let d = Distribution::of(&values).unwrap();
            assert_eq!(d.p99_is_max(), d.p99 == d.max, "n = {n}");
            assert_eq!(d.p99_is_max(), n <= 99, "n = {n}");
        }
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_string(&TailBand::Healthy).unwrap(),
            "\"healthy\""
        );
        let d = Distribution::of(&[1.0, 2.0]).unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["median"], 1.5);
        assert_eq!(json["n"], 2);
    }
}
