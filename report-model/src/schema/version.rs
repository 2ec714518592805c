//! Schema strings (`tare.<name>.v<major>[.<minor>]`) and the checked readers built on them.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ModelError;

/// A file type with a `schema` field; `SCHEMA` is the version this build writes.
pub trait Versioned {
    /// e.g. `tare.summary.v1`.
    const SCHEMA: &'static str;
}

/// Splits `tare.summary.v1.2` into (`tare.summary`, 1).
fn family_and_major(schema: &str) -> Option<(&str, u32)> {
    let (family, version) = schema.rsplit_once(".v")?;
    let major = version.split('.').next()?;
    let major = major.parse().ok()?;
    Some((family, major))
}

/// Whether a file's `found` schema can be read by code that writes `expected`:
/// same family and same major version (minor versions only add optional fields).
pub fn compatible(found: &str, expected: &str) -> bool {
    match (family_and_major(found), family_and_major(expected)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn check_schema(file: &str, value: &serde_json::Value, expected: &str) -> Result<(), ModelError> {
    let found = match value.get("schema") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ModelError::Field {
                file: file.into(),
                field: "schema".into(),
                problem: format!("expected a string like \"{expected}\""),
            })
        }
        None => {
            return Err(ModelError::Field {
                file: file.into(),
                field: "schema".into(),
                problem: format!("missing; expected \"{expected}\""),
            })
        }
    };
    if compatible(found, expected) {
        Ok(())
    } else {
        Err(ModelError::Schema {
            file: file.into(),
            found: found.into(),
            expected: expected.into(),
        })
    }
}

pub(crate) fn field_error<E: std::fmt::Display>(
    file: &str,
    err: serde_path_to_error::Error<E>,
) -> ModelError {
    let path = err.path().to_string();
    ModelError::Field {
        file: file.into(),
        field: if path == "." {
            "(top level)".into()
        } else {
            path
        },
        problem: err.inner().to_string(),
    }
}

/// Parses a versioned JSON file, checking its `schema` first.
pub fn parse_json<T: DeserializeOwned + Versioned>(
    file: &str,
    text: &str,
) -> Result<T, ModelError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "(top level)".into(),
        problem: format!("not valid JSON: {e}"),
    })?;
    from_value(file, value)
}

/// Parses a versioned TOML file (an experiment), checking its `schema` first.
pub fn parse_toml<T: DeserializeOwned + Versioned>(
    file: &str,
    text: &str,
) -> Result<T, ModelError> {
    let value: serde_json::Value = toml::from_str(text).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "(top level)".into(),
        problem: format!("not valid TOML: {}", e.to_string().trim()),
    })?;
    from_value(file, value)
}

fn from_value<T: DeserializeOwned + Versioned>(
    file: &str,
    value: serde_json::Value,
) -> Result<T, ModelError> {
    check_schema(file, &value, T::SCHEMA)?;
    serde_path_to_error::deserialize(value).map_err(|e| field_error(file, e))
}

/// Parses newline-delimited JSON; errors name the line. Blank lines are skipped.
/// The schema of ndjson files is carried by the manifest (or each line's own `schema`).
pub fn parse_ndjson<T: DeserializeOwned>(file: &str, text: &str) -> Result<Vec<T>, ModelError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_ndjson_line(file, i + 1, line)?);
    }
    Ok(out)
}

/// One non-blank line of an ndjson file, number `line_no` (from 1): what [`parse_ndjson`]
/// does with each, for readers that take the lines as they stream by.
pub fn parse_ndjson_line<T: DeserializeOwned>(
    file: &str,
    line_no: usize,
    line: &str,
) -> Result<T, ModelError> {
    let mut de = serde_json::Deserializer::from_str(line);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut err = field_error(file, e);
        if let ModelError::Field { field, .. } = &mut err {
            *field = format!("line {line_no}: {field}");
        }
        err
    })
}

/// The canonical JSON form of a file: pretty, keys in declaration order, trailing newline.
pub fn to_canonical_json<T: Serialize>(file: &str, value: &T) -> Result<String, ModelError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "(top level)".into(),
        problem: format!("cannot be written as JSON: {e}"),
    })?;
    s.push('\n');
    Ok(s)
}

/// The TOML form of a file (an experiment as run).
pub fn to_toml<T: Serialize>(file: &str, value: &T) -> Result<String, ModelError> {
    toml::to_string(value).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "(top level)".into(),
        problem: format!("cannot be written as TOML: {e}"),
    })
}

/// Newline-delimited JSON: one compact value a line.
pub fn to_ndjson<T: Serialize>(file: &str, items: &[T]) -> Result<String, ModelError> {
    let mut buf = Vec::new();
    for (i, item) in items.iter().enumerate() {
        write_ndjson_line(&mut buf, item).map_err(|e| ModelError::Field {
            file: file.into(),
            field: format!("line {}", i + 1),
            problem: format!("cannot be written as JSON: {e}"),
        })?;
    }
    String::from_utf8(buf).map_err(|e| ModelError::Field {
        file: file.into(),
        field: "text".into(),
        problem: format!("is not UTF-8: {e}"),
    })
}

/// Writes `item` to `w` as one line of an ndjson member, the bytes [`to_ndjson`] gives it:
/// for writing a member as its items arrive. An I/O error of `w` comes back as itself.
pub fn write_ndjson_line<W: std::io::Write, T: Serialize>(
    mut w: W,
    item: &T,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut w, item)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_and_families() {
        assert_eq!(
            family_and_major("tare.summary.v1"),
            Some(("tare.summary", 1))
        );
        assert_eq!(
            family_and_major("tare.summary.v1.3"),
            Some(("tare.summary", 1))
        );
        assert_eq!(
            family_and_major("tare.kernel_event.v12"),
            Some(("tare.kernel_event", 12))
        );
        assert_eq!(family_and_major("nonsense"), None);
        assert!(compatible("tare.summary.v1.4", "tare.summary.v1"));
        assert!(!compatible("tare.summary.v2", "tare.summary.v1"));
        assert!(!compatible("tare.run.v1", "tare.summary.v1"));
    }
}
