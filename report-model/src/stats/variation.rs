//! The coefficient of variation: how much a sample spreads relative to its mean.

/// Sample standard deviation (n - 1 in the denominator) over the absolute mean, as a fraction
/// (0.05 is 5%). None when there are fewer than 2 values, when the mean is 0, or when a value
/// is NaN or infinite.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    if values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return None;
    }
    let sum_sq: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    Some((sum_sq / (n - 1.0)).sqrt() / mean.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn hand_computed_values() {
        // Mean 2, squared deviations 1 + 0 + 1 = 2, variance 2 / 2 = 1, SD 1: CV 1/2.
        assert!(close(coefficient_of_variation(&[1.0, 2.0, 3.0]), 0.5));
        // Mean 5, squared deviations 32, variance 32 / 7: CV sqrt(32/7) / 5 = 0.427617987...
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!(close(
            coefficient_of_variation(&v),
            (32.0f64 / 7.0).sqrt() / 5.0
        ));
        assert!(close(coefficient_of_variation(&v), 0.427_617_987_059_879_1));
        // Mean 10, squared deviations 0.04 + 0.04, variance 0.08: CV sqrt(0.08) / 10.
        assert!(close(
            coefficient_of_variation(&[9.8, 10.2]),
            0.08f64.sqrt() / 10.0
        ));
        // Constant values do not vary; a negative mean counts by its size.
        assert_eq!(coefficient_of_variation(&[4.0, 4.0, 4.0]), Some(0.0));
        assert!(close(coefficient_of_variation(&[-1.0, -2.0, -3.0]), 0.5));
    }

    #[test]
    fn undefined_cases_are_none() {
        assert_eq!(coefficient_of_variation(&[]), None);
        assert_eq!(coefficient_of_variation(&[5.0]), None);
        assert_eq!(coefficient_of_variation(&[-1.0, 1.0]), None, "mean 0");
        assert_eq!(coefficient_of_variation(&[1.0, f64::NAN]), None);
        assert_eq!(coefficient_of_variation(&[1.0, f64::INFINITY]), None);
    }
}
