//! `bmf.json`: Bencher Metric Format, `{benchmark: {measure: {value, lower_value, upper_value}}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One measure of one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BmfMetric {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_value: Option<f64>,
}

/// benchmark name -> measure name -> metric. Bencher's format has no schema field.
pub type Bmf = BTreeMap<String, BTreeMap<String, BmfMetric>>;

/// Parses a BMF file, naming the field on error.
pub fn parse_bmf(file: &str, text: &str) -> Result<Bmf, crate::error::ModelError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| super::version::field_error(file, e))
}
